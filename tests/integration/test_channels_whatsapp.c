/* WhatsApp Cloud API webhooks over real HTTP to a real api, broker and
 * ingest worker: the GET verification handshake; a signed message delivery
 * becomes one customer (named from contacts[].profile), one whatsapp
 * identity (the wa_id), one ticket and one ticket message keyed by the
 * wamid; Meta's retry of the same delivery creates nothing; a bad, missing
 * or other-account signature gets 401 and nothing is published; a status
 * delivery goes to notify as a NotificationStatus. Secrets are per account
 * (phone_number_id=secret). */
#include "test_channels_support.h"
#include "at_channel_sig.h"

#define S_SECRET "wa-app-secret"
#define S_WAMID "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="

static const char s_text[] =
    "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"102290129340398\","
    "\"changes\":[{\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":"
    "{\"display_phone_number\":\"15550783881\",\"phone_number_id\":\"106540352242922\"},"
    "\"contacts\":[{\"profile\":{\"name\":\"Sheena Nelson\"},\"wa_id\":\"16505551234\"}],"
    "\"messages\":[{\"from\":\"16505551234\",\"id\":\"" S_WAMID "\",\"timestamp\":\"1749416383\","
    "\"type\":\"text\",\"text\":{\"body\":\"Onde est\xc3\xa1 o meu pedido?\"}}]},"
    "\"field\":\"messages\"}]}]}";

static const char s_status[] =
    "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"102290129340398\","
    "\"changes\":[{\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":"
    "{\"display_phone_number\":\"15550783881\",\"phone_number_id\":\"106540352242922\"},"
    "\"statuses\":[{\"id\":\"wamid.OUTBOUND1\",\"status\":\"read\",\"timestamp\":\"1750263773\","
    "\"recipient_id\":\"16505551234\"}]},\"field\":\"messages\"}]}]}";

static long
s_post (const ch_env_t *e, const char *body, const char *secret, char **resp)
{
  char sig[128], header[160];
  const char *headers[] = { header, NULL };
  if (secret)
    at_sig_meta_sign (secret, body, strlen (body), sig, sizeof sig);
  snprintf (header, sizeof header, "X-Hub-Signature-256: %s", sig);
  return ch_http (e, "/v1/channels/whatsapp", "application/json", body, strlen (body),
                  secret ? headers : NULL, resp, NULL, 0);
}

static void
s_verification (const ch_env_t *e)
{
  char *resp = NULL, ctype[64];
  long status = ch_http (e, "/v1/channels/whatsapp?hub.mode=subscribe&hub.challenge=1158201444"
                         "&hub.verify_token=meatyhamhock", NULL, NULL, 0, NULL, &resp, ctype,
                         sizeof ctype);
  IT_CHECK (status == 200 && resp && strcmp (resp, "1158201444") == 0
            && strncmp (ctype, "text/plain", 10) == 0, "handshake: %ld %s %s", status,
            resp ? resp : "", ctype);
  free (resp);
  status = ch_http (e, "/v1/channels/whatsapp?hub.mode=subscribe&hub.challenge=1158201444"
                    "&hub.verify_token=wrong", NULL, NULL, 0, NULL, NULL, NULL, 0);
  IT_CHECK (status == 403, "wrong verify token: %ld", status);
  status = ch_http (e, "/v1/channels/whatsapp?hub.mode=unsubscribe&hub.challenge=1"
                    "&hub.verify_token=meatyhamhock", NULL, NULL, 0, NULL, NULL, NULL, 0);
  IT_CHECK (status == 403, "wrong mode: %ld", status);
}

int
main (void)
{
  ch_env_t e;
  char *resp = NULL;
  const char *env[] = {
    "ATENDE_META_APP_SECRET=106540352242922=" S_SECRET ",1234567890=other-secret",
    "ATENDE_WHATSAPP_VERIFY_TOKEN=meatyhamhock", NULL,
  };
  ch_start (&e, "channels_whatsapp", env);
  s_verification (&e);

  /* a bad signature first: nothing may be stored or published */
  ch_counts_t before = ch_counts (&e);
  long status = s_post (&e, s_text, "not-the-secret", &resp);
  IT_CHECK (status == 401 && resp && strstr (resp, "\"status\":401"), "bad sig: %ld %s",
            status, resp ? resp : "");
  free (resp);
  IT_CHECK (s_post (&e, s_text, "other-secret", NULL) == 401, "other account's secret");
  IT_CHECK (s_post (&e, s_text, NULL, NULL) == 401, "missing signature");
  ch_counts_t after = ch_counts (&e);
  ch_same_counts (&before, &after, "refused deliveries");

  /* the real delivery */
  status = s_post (&e, s_text, S_SECRET, &resp);
  IT_CHECK (status == 200, "delivery: %ld %s", status, resp ? resp : "");
  free (resp);
  ch_wait_ingested (&e);
  ch_expect (&e, "SELECT count(*) FROM customer WHERE name = 'Sheena Nelson'", 1);
  ch_expect (&e, "SELECT count(*) FROM identity i JOIN customer c ON c.id = i.customer_id"
                 " WHERE i.kind = 'whatsapp' AND i.value = '16505551234'", 1);
  ch_expect (&e, "SELECT count(*) FROM ticket WHERE channel = 'whatsapp'", 1);
  ch_expect (&e, "SELECT count(*) FROM ticket_message WHERE direction = 'in' AND channel ="
                 " 'whatsapp' AND provider_message_id = '" S_WAMID "' AND body ="
                 " 'Onde est\xc3\xa1 o meu pedido?'", 1);
  before = ch_counts (&e);
  IT_CHECK (before.customers == 1 && before.tickets == 1 && before.messages == 1,
            "one of each: %lld %lld %lld", before.customers, before.tickets, before.messages);

  /* Meta retries the same delivery: the same quick answer, nothing new */
  IT_CHECK (s_post (&e, s_text, S_SECRET, NULL) == 200, "retry");
  ch_wait_ingested (&e);
  after = ch_counts (&e);
  before.bus = after.bus;   /* the retry went over the bus, and ingest dropped it */
  ch_same_counts (&before, &after, "the retried delivery");

  /* a status of one of our messages goes to notify */
  IT_CHECK (s_post (&e, s_status, S_SECRET, NULL) == 200, "status delivery");
  ch_expect (&e, "SELECT count(*) FROM bus_message WHERE stage = 'notify' AND type ="
                 " 'notification.status' AND key = 'notification:wamid.OUTBOUND1'", 1);

  /* a signed delivery that is not Meta's JSON: 400, nothing published */
  before = ch_counts (&e);
  IT_CHECK (s_post (&e, "{\"object\":\"page\",\"entry\":{}}", "*", NULL) == 401,
            "unknown account without a default secret");
  after = ch_counts (&e);
  ch_same_counts (&before, &after, "a refused body");
  ch_stop (&e);
  printf ("ok\n");
  return 0;
}
