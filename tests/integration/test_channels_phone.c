/* Phone calls over real HTTP to a real api, broker and ingest, route and
 * notify workers: Twilio Voice callbacks signed over the public URL and the
 * sorted parameters (a missed call, a voicemail and its transcription, a
 * retried callback, a ringing one that tells nothing) and the store's JSON
 * signed with Standard Webhooks (a call answered by an agent) land on the
 * customers who wrote before by SMS and WhatsApp (same customer, a phone
 * ticket, the texts an agent reads in pt-BR); a bad signature gets 401 and a
 * bad field 422 naming it, nothing stored; an agent's reply on a phone
 * ticket goes out by WhatsApp (a signed webhook played by a fake). */
#include <time.h>
#include "test_channels_support.h"
#include "at_channel_sig.h"
#include "at_crypto.h"
#include "at_form.h"
#include "../fakes/fakes.h"
#include "../fakes/fake_http.c"

#define S_TOKEN "twilio-auth-token-voice"
#define S_SID "AC0123456789abcdef0123456789abcdef"
#define S_PUBLIC "https://atende.example.com"
#define S_URL S_PUBLIC "/v1/channels/twilio/voice"
#define S_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define S_HOOK_SECRET "whsec_aGVsbG8gd29ybGQgdGhpcyBpcyBub3QgaXQ="
#define S_RITA "+5511987654321"           /* wrote by SMS */
#define S_JOAO "5521998765432"            /* wrote on WhatsApp */
#define S_REC "https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2F" S_SID "%2FRecordings%2FRE1"
#define S_REC_TEXT "https://api.twilio.com/2010-04-01/Accounts/" S_SID "/Recordings/RE1"

#define S_CALL "AccountSid=" S_SID "&ApiVersion=2010-04-01&To=%2B5511955550000&From=%2B5511987654321"

static const char s_missed[] = S_CALL "&CallSid=CA01&Direction=inbound&CallStatus=no-answer";
static const char s_ringing[] = S_CALL "&CallSid=CA02&Direction=inbound&CallStatus=ringing";
static const char s_recording[] = S_CALL "&CallSid=CA03&Direction=inbound&CallStatus=completed"
                                  "&RecordingSid=RE1&RecordingDuration=42&RecordingUrl=" S_REC;
static const char s_transcript[] = S_CALL "&CallSid=CA03&Direction=inbound&CallStatus=completed"
                                   "&RecordingSid=RE1&RecordingDuration=42&RecordingUrl=" S_REC
                                   "&TranscriptionSid=TR1&TranscriptionStatus=completed"
                                   "&TranscriptionText=Cad%C3%AA+o+meu+pedido+PED-1001%3F";

static long
s_twilio (const ch_env_t *e, const char *body, const char *token)
{
  char sig[64] = "", header[128], reason[128];
  at_form_t *form = NULL;
  const char *headers[] = { header, NULL };
  IT_CHECK (at_form_parse (body, strlen (body), &form, reason, sizeof reason) == AT_OK,
            "fixture: %s", reason);
  if (token)
    at_sig_twilio_sign (token, S_URL, form, sig, sizeof sig);
  at_form_destroy (&form);
  snprintf (header, sizeof header, "X-Twilio-Signature: %s", sig);
  return ch_http (e, "/v1/channels/twilio/voice", "application/x-www-form-urlencoded", body,
                  strlen (body), token ? headers : NULL, NULL, NULL, 0);
}

static long
s_json (const ch_env_t *e, const char *id, const char *body, const char *secret, char **resp)
{
  char sig[128] = "", h_id[128], h_ts[64], h_sig[160];
  long long now = (long long) time (NULL);
  at_webhook_sign (secret, id, now, body, strlen (body), sig, sizeof sig);
  snprintf (h_id, sizeof h_id, "webhook-id: %s", id);
  snprintf (h_ts, sizeof h_ts, "webhook-timestamp: %lld", now);
  snprintf (h_sig, sizeof h_sig, "webhook-signature: %s", sig);
  const char *headers[] = { h_id, h_ts, h_sig, NULL };
  return ch_http (e, "/v1/channels/phone", "application/json", body, strlen (body), headers,
                  resp, NULL, 0);
}

static const char s_answered[] =
    "{\"call_id\":\"pbx-77\",\"event\":\"answered\",\"from\":\"+55 (21) 99876-5432\","
    "\"to\":\"+5511955550000\",\"direction\":\"inbound\",\"occurred_at\":"
    "\"2026-03-02T09:30:00-03:00\",\"duration_s\":192,\"agent\":\"Ana\"}";

/* wrong token, no signature, wrong secret; a bad field: 422 naming it */
static void
s_check_refused (const ch_env_t *e)
{
  char *resp = NULL;
  ch_counts_t before = ch_counts (e);
  IT_CHECK (s_twilio (e, s_missed, "other-token") == 401, "wrong Twilio token");
  IT_CHECK (s_twilio (e, s_missed, NULL) == 401, "no Twilio signature");
  IT_CHECK (s_json (e, "evt-1", s_answered, S_HOOK_SECRET, NULL) == 401, "wrong secret");
  long status = s_json (e, "evt-2", "{\"call_id\":\"pbx-78\",\"event\":\"voicemail\",\"from\":"
                        "\"+5521998765432\",\"recording_url\":\"ftp://files.example.com/v.wav\"}",
                        S_SECRET, &resp);
  IT_CHECK (status == 422 && resp && strstr (resp, "\"field\":\"recording_url\""),
            "bad recording_url: %ld %s", status, resp ? resp : "");
  free (resp);
  resp = NULL;
  status = s_json (e, "evt-3", "{\"call_id\":\"pbx-79\",\"event\":\"hung\",\"from\":"
                   "\"+5521998765432\"}", S_SECRET, &resp);
  IT_CHECK (status == 422 && resp && strstr (resp, "\"field\":\"event\""), "bad event: %ld %s",
            status, resp ? resp : "");
  free (resp);
  IT_CHECK (s_twilio (e, S_CALL "&CallSid=CA09&CallStatus=exploded", S_TOKEN) == 422,
            "bad CallStatus");
  ch_counts_t after = ch_counts (e);
  before.bus = after.bus;   /* route and notify may still be at the messages before */
  ch_same_counts (&before, &after, "refused requests");
}

/* the calls, each once, a retry and a ringing callback that tell nothing */
static void
s_check_calls (const ch_env_t *e)
{
  IT_CHECK (s_twilio (e, s_missed, S_TOKEN) == 200, "missed call");
  IT_CHECK (s_twilio (e, s_ringing, S_TOKEN) == 200, "ringing");
  IT_CHECK (s_twilio (e, s_recording, S_TOKEN) == 200, "voicemail");
  IT_CHECK (s_twilio (e, s_transcript, S_TOKEN) == 200, "transcription");
  IT_CHECK (s_json (e, "evt-4", s_answered, S_SECRET, NULL) == 202, "answered");
  ch_wait_ingested (e);
  ch_counts_t before = ch_counts (e);
  IT_CHECK (s_twilio (e, s_missed, S_TOKEN) == 200, "retried missed call");
  IT_CHECK (s_twilio (e, s_transcript, S_TOKEN) == 200, "retried transcription");
  IT_CHECK (s_json (e, "evt-5", s_answered, S_SECRET, NULL) == 202, "retried answered");
  ch_wait_ingested (e);
  ch_counts_t after = ch_counts (e);
  before.bus = after.bus;
  ch_same_counts (&before, &after, "retried callbacks");
}

/* one customer each, the call on a phone ticket of theirs, texts in pt-BR */
static void
s_check_landed (const ch_env_t *e)
{
  ch_expect (e, "SELECT count(*) FROM customer", 2);
  ch_expect (e, "SELECT count(*) FROM ticket_message WHERE channel = 'phone' AND direction = 'in'",
            4);
  ch_expect (e, "SELECT count(*) FROM ticket WHERE channel = 'phone'", 2);
  /* Rita: SMS, then three call events on one phone ticket, all hers */
  ch_expect (e, "SELECT count(DISTINCT t.id) FROM ticket t JOIN ticket_message m"
                " ON m.ticket_id = t.id JOIN identity i ON i.customer_id = t.customer_id"
                " WHERE i.kind = 'phone' AND i.value = '" S_RITA "' AND t.channel = 'phone'"
                " AND m.provider_message_id IN ('call:CA01:missed', 'call:CA03:voicemail',"
                " 'call:CA03:transcript')", 1);
  ch_expect (e, "SELECT count(*) FROM ticket_message WHERE provider_message_id ="
                " 'call:CA01:missed' AND direction = 'in'"
                " AND body = 'Chamada perdida de +55 11 98765-4321'", 1);
  ch_expect (e, "SELECT count(*) FROM ticket_message WHERE provider_message_id ="
                " 'call:CA03:voicemail' AND body = 'Mensagem de voz (0:42) \xe2\x80\x94"
                " grava\xc3\xa7\xc3\xa3o: " S_REC_TEXT "'", 1);
  ch_expect (e, "SELECT count(*) FROM ticket_message WHERE provider_message_id ="
                " 'call:CA03:transcript' AND body = 'Mensagem de voz (0:42): Cad\xc3\xaa o meu"
                " pedido PED-1001? \xe2\x80\x94 grava\xc3\xa7\xc3\xa3o: " S_REC_TEXT "'", 1);
  /* João: WhatsApp, then a call from the same number: his, by the number */
  ch_expect (e, "SELECT count(*) FROM ticket t JOIN identity i ON i.customer_id = t.customer_id"
                " JOIN ticket_message m ON m.ticket_id = t.id WHERE i.kind = 'whatsapp'"
                " AND i.value = '" S_JOAO "' AND t.channel = 'phone' AND m.provider_message_id"
                " = 'call:pbx-77:answered' AND m.body = 'Chamada atendida (3 min 12 s) por Ana'",
            1);
  ch_expect (e, "SELECT count(DISTINCT customer_id) FROM identity WHERE value IN"
                " ('" S_JOAO "', '+" S_JOAO "')", 1);
  ch_expect (e, "SELECT count(*) FROM ticket_message WHERE provider_message_id LIKE 'call:CA02%'",
            0);
}

typedef struct {
  fake_http_t *http;
  const char *text;
} s_sent_t;

/* the reply reached the webhook, on channel whatsapp */
static bool
s_reply_sent (void *arg)
{
  s_sent_t *s = arg;
  fake_request_t r;
  for (int i = 0; fake_http_get (s->http, i, &r); i++)
    if (r.answered / 100 == 2 && strstr (r.body, s->text)
        && strstr (r.body, "\"channel\":\"whatsapp\"") && strstr (r.body, S_JOAO))
      return true;
  return false;
}

static void
s_check_reply (const ch_env_t *e, fake_http_t *http)
{
  char path[96], *resp = NULL;
  long long ticket = it_db_scalar (e->db, "SELECT ticket_id FROM ticket_message WHERE"
                                          " provider_message_id = 'call:pbx-77:answered'");
  snprintf (path, sizeof path, "/v1/tickets/%lld/replies", ticket);
  const char *body = "{\"text\":\"Jo\xc3\xa3o, seu pedido sai amanh\xc3\xa3.\"}";
  long status = ch_http (e, path, "application/json", body, strlen (body), NULL, &resp, NULL, 0);
  IT_CHECK (status == 202, "reply: %ld %s", status, resp ? resp : "");
  free (resp);
  s_sent_t s = { http, "seu pedido sai amanh" };
  if (!it_wait_until (s_reply_sent, &s, CH_WAIT_MS)) {
    fake_http_dump (http);
    IT_CHECK (false, "the reply on the phone ticket did not go out by WhatsApp: %s",
              it_db_text (e->db, "SELECT coalesce(string_agg(channel || ' ' || status, ', '),"
                                 " 'none') FROM notification WHERE kind = 'reply'"));
  }
  const char *sql = "SELECT count(*) FROM notification WHERE kind = 'reply'"
                    " AND channel = 'whatsapp' AND status = 'delivered'";
  IT_CHECK (it_wait_scalar (e->db, sql, 1, CH_WAIT_MS) == 1, "the reply is not delivered once");
}

int
main (void)
{
  static char hook_env[96];
  it_require_pg ();
  int hook_port = it_free_port ();
  fake_http_t *http = fake_http_start (hook_port);
  IT_CHECK (http != NULL, "fake webhook");
  snprintf (hook_env, sizeof hook_env, "ATENDE_WEBHOOK_URL=http://127.0.0.1:%d/hooks", hook_port);
  it_stack_t st;
  it_stack_init (&st, "channels_phone", (const char *[]) {
    "ATENDE_TWILIO_AUTH_TOKEN=" S_SID "=" S_TOKEN, "ATENDE_PUBLIC_URL_BASE=" S_PUBLIC,
    "ATENDE_PHONE_WEBHOOK_SECRET=" S_SECRET, "ATENDE_WEBHOOK_SECRET=" S_HOOK_SECRET,
    "ATENDE_DEFAULT_LOCALE=pt-BR", hook_env, NULL});
  ch_env_t e;
  memset (&e, 0, sizeof e);
  at_strlcpy (e.api, st.api, sizeof e.api);
  at_strlcpy (e.conninfo, st.conninfo, sizeof e.conninfo);
  e.db = it_db_connect (e.conninfo);
  /* route and notify too, so the stack is it_stack's, not ch_start's */
  (void) ch_start;
  (void) ch_stop;
  it_stack_pids_t pids = it_stack_start (&st, "ingest,route,notify", CH_WAIT_MS);
  curl_global_init (CURL_GLOBAL_DEFAULT);

  it_message_send (e.api, e.db, "sms", S_RITA, "Rita", "Oi, tentei ligar para a loja",
                   "SMsms1", CH_WAIT_MS);
  it_message_send (e.api, e.db, "whatsapp", S_JOAO, "Jo\xc3\xa3o", "Ol\xc3\xa1, bom dia",
                   "wamid.joao1", CH_WAIT_MS);
  s_check_refused (&e);
  s_check_calls (&e);
  s_check_landed (&e);
  s_check_reply (&e, http);

  it_stack_stop (&pids);
  fake_http_stop (&http);
  PQfinish (e.db);
  printf ("ok\n");
  return 0;
}
