/* Twilio Programmable Messaging webhooks over real HTTP to a real api,
 * broker and ingest worker. The api is configured with the public URL Twilio
 * calls (ATENDE_PUBLIC_URL_BASE) and per-account auth tokens
 * (AccountSid=token). An SMS and a WhatsApp message signed over that URL and
 * the sorted parameters become customers with phone and whatsapp
 * identities, tickets and messages keyed by MessageSid, answered with empty
 * TwiML; a signature made with the default port (:443) is accepted too; a
 * retry makes nothing; a status callback goes to notify; the JSON variant
 * (bodySHA256) is checked on the raw body; a bad signature gets 401 and
 * nothing. */
#include "test_channels_support.h"
#include "at_channel_sig.h"
#include "at_form.h"

#define S_TOKEN "twilio-auth-token-1"
#define S_SID "AC0123456789abcdef0123456789abcdef"
#define S_PUBLIC "https://atende.example.com"
#define S_URL S_PUBLIC "/v1/channels/twilio"

static const char s_sms[] =
    "ToCountry=BR&ToState=SP&SmsMessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&NumMedia=0"
    "&ToCity=&FromZip=&SmsSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&FromState=SP&SmsStatus=received"
    "&FromCity=SAO+PAULO&Body=Meu+pedido+PED-1001+atrasou&FromCountry=BR&To=%2B5511955550000"
    "&ToZip=&NumSegments=1&MessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f"
    "&AccountSid=" S_SID "&From=%2B5511987654321&ApiVersion=2010-04-01";

static const char s_whatsapp[] =
    "SmsMessageSid=SM2a0e8ae6ade43cb3c0ce4525424e4050&NumMedia=0&ProfileName=Jo%C3%A3o+Silva"
    "&MessageType=text&SmsSid=SM2a0e8ae6ade43cb3c0ce4525424e4050&WaId=5521998765432"
    "&SmsStatus=received&Body=Ol%C3%A1%2C+tudo+bem%3F&To=whatsapp%3A%2B14155238886"
    "&NumSegments=1&MessageSid=SM2a0e8ae6ade43cb3c0ce4525424e4050&AccountSid=" S_SID
    "&From=whatsapp%3A%2B5521998765432&ApiVersion=2010-04-01";

static const char s_status[] =
    "SmsSid=SMout0001&SmsStatus=delivered&MessageStatus=delivered&To=%2B5511987654321"
    "&MessageSid=SMout0001&AccountSid=" S_SID "&From=%2B5511955550000&ApiVersion=2010-04-01";

static long
s_post (const ch_env_t *e, const char *body, const char *url, const char *token,
        char **resp, char *ctype, size_t ctype_cap)
{
  char sig[64] = "", header[128], reason[128];
  at_form_t *form = NULL;
  const char *headers[] = { header, NULL };
  IT_CHECK (at_form_parse (body, strlen (body), &form, reason, sizeof reason) == AT_OK,
            "fixture: %s", reason);
  at_sig_twilio_sign (token, url, form, sig, sizeof sig);
  at_form_destroy (&form);
  snprintf (header, sizeof header, "X-Twilio-Signature: %s", sig);
  return ch_http (e, "/v1/channels/twilio", "application/x-www-form-urlencoded", body,
                  strlen (body), headers, resp, ctype, ctype_cap);
}

/* The JSON variant: bodySHA256 in the URL, the URL alone signed. */
static long
s_post_json (const ch_env_t *e, const char *body, bool tamper)
{
  char hex[65], url[256], path[160], sig[64], header[128], line[256];
  at_sig_sha256_hex (body, strlen (body), hex);
  snprintf (path, sizeof path, "/v1/channels/twilio?bodySHA256=%s", hex);
  snprintf (url, sizeof url, S_PUBLIC "%s", path);
  at_sig_twilio_sign (S_TOKEN, url, NULL, sig, sizeof sig);
  snprintf (header, sizeof header, "X-Twilio-Signature: %s", sig);
  const char *headers[] = { header, NULL };
  snprintf (line, sizeof line, "%s", body);
  if (tamper)
    line[strlen (line) - 3] ^= 1;
  return ch_http (e, path, "application/json", line, strlen (line), headers, NULL, NULL, 0);
}

/* wrong token, wrong URL, no signature, a tampered JSON body: 401, nothing */
static void
s_check_refused (const ch_env_t *e)
{
  ch_counts_t before = ch_counts (e);
  IT_CHECK (s_post (e, s_sms, S_URL, "other-token", NULL, NULL, 0) == 401, "wrong token");
  IT_CHECK (s_post (e, s_sms, "https://evil.example.com/v1/channels/twilio", S_TOKEN, NULL,
                    NULL, 0) == 401, "wrong URL");
  IT_CHECK (ch_http (e, "/v1/channels/twilio", "application/x-www-form-urlencoded", s_sms,
                     strlen (s_sms), NULL, NULL, NULL, 0) == 401, "no signature");
  IT_CHECK (s_post_json (e, "{\"MessageSid\":\"SMjson1\",\"From\":\"+5511911112222\","
                         "\"Body\":\"oi\"}", true) == 401, "tampered JSON body");
  ch_counts_t after = ch_counts (e);
  ch_same_counts (&before, &after, "refused requests");
}

/* an SMS, a WhatsApp message (signed with :443) and the JSON variant, each
 * a customer, an identity, a ticket, a message; returns the counts after */
static ch_counts_t
s_check_accepted (const ch_env_t *e)
{
  char *resp = NULL, ctype[64];
  long status = s_post (e, s_sms, S_URL, S_TOKEN, &resp, ctype, sizeof ctype);
  IT_CHECK (status == 200 && resp && strcmp (resp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
            "<Response></Response>") == 0 && strncmp (ctype, "text/xml", 8) == 0,
            "sms: %ld %s %s", status, resp ? resp : "", ctype);
  free (resp);
  /* Twilio may sign the URL with the default port */
  IT_CHECK (s_post (e, s_whatsapp, S_PUBLIC ":443/v1/channels/twilio", S_TOKEN, NULL, NULL, 0)
            == 200, "whatsapp via twilio, signed with :443");
  IT_CHECK (s_post_json (e, "{\"MessageSid\":\"SMjson1\",\"From\":\"+5511911112222\","
                         "\"Body\":\"mensagem em JSON\",\"AccountSid\":\"" S_SID "\"}", false)
            == 200, "JSON variant");
  ch_wait_ingested (e);
  ch_expect (e, "SELECT count(*) FROM identity WHERE kind = 'phone' AND value = '+5511987654321'", 1);
  ch_expect (e, "SELECT count(*) FROM identity WHERE kind = 'whatsapp' AND value = '5521998765432'", 1);
  ch_expect (e, "SELECT count(*) FROM customer WHERE name = 'Jo\xc3\xa3o Silva'", 1);
  ch_expect (e, "SELECT count(*) FROM ticket_message WHERE direction = 'in' AND channel = 'sms'"
                " AND provider_message_id = 'SM1f0e8ae6ade43cb3c0ce4525424e404f'"
                " AND body = 'Meu pedido PED-1001 atrasou'", 1);
  ch_expect (e, "SELECT count(*) FROM ticket_message WHERE direction = 'in' AND channel ="
                " 'whatsapp' AND provider_message_id = 'SM2a0e8ae6ade43cb3c0ce4525424e4050'"
                " AND body = 'Ol\xc3\xa1, tudo bem?'", 1);
  ch_expect (e, "SELECT count(*) FROM ticket_message WHERE provider_message_id = 'SMjson1'", 1);
  ch_counts_t before = ch_counts (e);
  IT_CHECK (before.customers == 3 && before.tickets == 3 && before.messages == 3,
            "three of each: %lld %lld %lld", before.customers, before.tickets, before.messages);
  return before;
}

/* Twilio's retry of both: nothing new */
static void
s_check_retry (const ch_env_t *e, ch_counts_t before)
{
  IT_CHECK (s_post (e, s_sms, S_URL, S_TOKEN, NULL, NULL, 0) == 200, "retry");
  IT_CHECK (s_post (e, s_whatsapp, S_URL, S_TOKEN, NULL, NULL, 0) == 200, "retry");
  ch_wait_ingested (e);
  ch_counts_t after = ch_counts (e);
  before.bus = after.bus;
  ch_same_counts (&before, &after, "retried requests");
}

/* a status callback goes to notify */
static void
s_check_status (const ch_env_t *e)
{
  IT_CHECK (s_post (e, s_status, S_URL, S_TOKEN, NULL, NULL, 0) == 200, "status callback");
  ch_expect (e, "SELECT count(*) FROM bus_message WHERE stage = 'notify' AND type ="
                " 'notification.status' AND key = 'notification:SMout0001'", 1);
}

int
main (void)
{
  ch_env_t e;
  const char *env[] = {
    "ATENDE_TWILIO_AUTH_TOKEN=ACother=other-token," S_SID "=" S_TOKEN,
    "ATENDE_PUBLIC_URL_BASE=" S_PUBLIC "/", NULL,
  };
  ch_start (&e, "channels_twilio", env);

  s_check_refused (&e);
  ch_counts_t three = s_check_accepted (&e);
  s_check_retry (&e, three);
  s_check_status (&e);
  ch_stop (&e);
  printf ("ok\n");
  return 0;
}
