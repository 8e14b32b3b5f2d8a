/* Call events (at_call.h): atende's JSON and Twilio Voice's callbacks read
 * into one event, refused with the field at fault, the dedup key, the text
 * an agent reads in pt-BR, en and es; and notify never sends on "phone". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "at_call.h"
#include "at_channel.h"
#include "notify/notify.h"
#include "test_settings_list.h"

static at_call_t s_call;

static int
s_json (const char *body, char *field)
{
  char reason[160];
  field[0] = 'x';
  return at_call_from_json (body, strlen (body), &s_call, field, 32, reason, sizeof reason);
}

static at_form_t *
s_form (const char *body)
{
  char reason[128];
  at_form_t *form = NULL;
  assert_int_equal (at_form_parse (body, strlen (body), &form, reason, sizeof reason), AT_OK);
  return form;
}

static int
s_twilio (const char *body, char *field, char *reason)
{
  at_form_t *form = s_form (body);
  int rc = at_call_from_twilio (form, &s_call, field, 32, reason, 160);
  at_form_destroy (&form);
  return rc;
}

static const char *
s_text (const char *locale)
{
  static char text[AT_CALL_SUMMARY_MAX];
  assert_int_equal (at_call_summary (&s_call, locale, text, sizeof text), AT_OK);
  return text;
}

static void
test_json_events (void **state)
{
  char field[32], id[AT_CALL_MESSAGE_ID_MAX];
  assert_int_equal (s_json ("{\"call_id\":\"c-1\",\"event\":\"answered\",\"from\":\"(11) 98765-4321\","
                            "\"duration_s\":192,\"agent\":\"Ana\",\"occurred_at\":"
                            "\"2026-03-01T10:00:00-03:00\",\"extra\":1}", field), AT_OK);
  assert_string_equal (s_call.customer, "+5511987654321");
  assert_int_equal (s_call.occurred_us, 1772370000LL * 1000000);
  assert_string_equal (s_text ("pt-BR"), "Chamada atendida (3 min 12 s) por Ana");
  assert_string_equal (s_text ("en-US"), "Call answered (3 min 12 s) by Ana");
  assert_string_equal (s_text ("es"), "Llamada atendida (3 min 12 s) por Ana");
  assert_int_equal (at_call_message_id (&s_call, id, sizeof id), AT_OK);
  assert_string_equal (id, "call:c-1:answered");
  assert_int_equal (s_json ("{\"call_id\":\"c-2\",\"event\":\"missed\",\"from\":\"+5511987654321\"}",
                            field), AT_OK);
  assert_string_equal (s_text ("pt-BR"), "Chamada perdida de +55 11 98765-4321");
  assert_string_equal (s_text ("fr"), "Chamada perdida de +55 11 98765-4321");
  assert_int_equal (s_json ("{\"call_id\":\"c-3\",\"event\":\"missed\",\"direction\":\"outbound\","
                            "\"from\":\"store\",\"to\":\"+14155550100\"}", field), AT_OK);
  assert_string_equal (s_text ("en"), "Unanswered call to +14155550100");
  assert_int_equal (s_json ("{\"call_id\":\"c-4\",\"event\":\"voicemail\",\"from\":\"+551134567890\","
                            "\"duration_s\":42,\"transcript\":\"Quero trocar o tamanho\","
                            "\"recording_url\":\"https://rec.example.com/r/1.mp3\"}", field), AT_OK);
  assert_string_equal (s_text ("pt-BR"), "Mensagem de voz (0:42): Quero trocar o tamanho"
                                         " \xe2\x80\x94 grava\xc3\xa7\xc3\xa3o: "
                                         "https://rec.example.com/r/1.mp3");
  /* a transcript of a talk would hold the agent's words too: dropped */
  assert_int_equal (s_json ("{\"call_id\":\"c-5\",\"event\":\"answered\",\"from\":\"+5511987654321\","
                            "\"transcript\":\"bom dia\"}", field), AT_OK);
  assert_string_equal (s_text ("pt-BR"), "Chamada atendida");
  (void) state;
}

static void
test_json_refused (void **state)
{
  static const struct {
    const char *body, *field;
  } bad[] = {
    {"{\"event\":\"missed\",\"from\":\"+5511987654321\"}", "call_id"},
    {"{\"call_id\":\"\",\"event\":\"missed\",\"from\":\"+5511987654321\"}", "call_id"},
    {"{\"call_id\":\"a\\u0001\",\"event\":\"missed\",\"from\":\"+5511987654321\"}", "call_id"},
    {"{\"call_id\":\"c\",\"event\":\"hung_up\",\"from\":\"+5511987654321\"}", "event"},
    {"{\"call_id\":\"c\",\"event\":\"missed\",\"from\":\"anonymous\"}", "from"},
    {"{\"call_id\":\"c\",\"event\":\"missed\"}", "from"},
    {"{\"call_id\":\"c\",\"event\":\"missed\",\"direction\":\"outbound\",\"from\":\"+5511987654321\"}",
     "to"},
    {"{\"call_id\":\"c\",\"event\":\"missed\",\"direction\":\"sideways\",\"from\":\"+5511987654321\"}",
     "direction"},
    {"{\"call_id\":\"c\",\"event\":\"missed\",\"from\":\"+5511987654321\",\"duration_s\":-1}",
     "duration_s"},
    {"{\"call_id\":\"c\",\"event\":\"missed\",\"from\":\"+5511987654321\",\"duration_s\":\"9\"}",
     "duration_s"},
    {"{\"call_id\":\"c\",\"event\":\"missed\",\"from\":\"+5511987654321\",\"occurred_at\":\"ontem\"}",
     "occurred_at"},
    {"{\"call_id\":\"c\",\"event\":\"voicemail\",\"from\":\"+5511987654321\",\"recording_url\":"
     "\"javascript:alert(1)\"}", "recording_url"},
    {"{\"call_id\":\"c\",\"event\":\"voicemail\",\"from\":\"+5511987654321\",\"recording_url\":"
     "\"ftp://x.example.com/a\"}", "recording_url"},
    {"{\"call_id\":\"c\",\"event\":\"voicemail\",\"from\":\"+5511987654321\",\"transcript\":7}",
     "transcript"},
    {"[1]", ""},
    {"{\"call_id\":\"c\",", ""},
  };
  char field[32];
  for (size_t i = 0; i < AT_ARRAY_LEN (bad); i++) {
    if (s_json (bad[i].body, field) != AT_INVALID || strcmp (field, bad[i].field) != 0)
      fail_msg ("%s: field \"%s\", want \"%s\"", bad[i].body, field, bad[i].field);
  }
  (void) state;
}

#define S_BASE "AccountSid=AC1&CallSid=CA123&To=%2B5511955550000&From=%2B5511987654321"

static void
test_twilio_events (void **state)
{
  char field[32], reason[160], id[AT_CALL_MESSAGE_ID_MAX];
  assert_int_equal (s_twilio (S_BASE "&Direction=inbound&CallStatus=no-answer", field, reason),
                    AT_OK);
  assert_int_equal (s_call.event, AT_CALL_MISSED);
  assert_string_equal (s_call.customer, "+5511987654321");
  assert_int_equal (s_twilio (S_BASE "&Direction=inbound&CallStatus=completed&CallDuration=0",
                              field, reason), AT_OK);
  assert_int_equal (s_call.event, AT_CALL_MISSED);
  assert_int_equal (s_twilio (S_BASE "&Direction=inbound&CallStatus=completed&CallDuration=75",
                              field, reason), AT_OK);
  assert_int_equal (s_call.event, AT_CALL_ANSWERED);
  assert_string_equal (s_text ("pt-BR"), "Chamada atendida (1 min 15 s)");
  /* outbound-api: the customer is To */
  assert_int_equal (s_twilio (S_BASE "&Direction=outbound-api&CallStatus=busy", field, reason),
                    AT_OK);
  assert_string_equal (s_call.customer, "+5511955550000");
  assert_string_equal (s_text ("pt-BR"), "Chamada n\xc3\xa3o atendida para +55 11 95555-0000");
  /* the recording, then its transcription: two messages */
  assert_int_equal (s_twilio (S_BASE "&CallStatus=completed&RecordingUrl=https%3A%2F%2Fapi.twilio"
                              ".com%2FRE1&RecordingDuration=42&RecordingSid=RE1", field, reason),
                    AT_OK);
  assert_int_equal (s_call.event, AT_CALL_VOICEMAIL);
  assert_int_equal (at_call_message_id (&s_call, id, sizeof id), AT_OK);
  assert_string_equal (id, "call:CA123:voicemail");
  assert_string_equal (s_text ("en"), "Voicemail (0:42) \xe2\x80\x94 recording: "
                                      "https://api.twilio.com/RE1");
  assert_int_equal (s_twilio (S_BASE "&CallStatus=completed&TranscriptionStatus=completed"
                              "&TranscriptionText=Cad%C3%AA+meu+pedido%3F&RecordingUrl=https%3A"
                              "%2F%2Fapi.twilio.com%2FRE1&RecordingDuration=42", field, reason),
                    AT_OK);
  assert_true (s_call.transcription);
  assert_int_equal (at_call_message_id (&s_call, id, sizeof id), AT_OK);
  assert_string_equal (id, "call:CA123:transcript");
  assert_string_equal (s_text ("es"), "Mensaje de voz (0:42): Cad\xc3\xaa meu pedido? "
                                      "\xe2\x80\x94 grabaci\xc3\xb3n: https://api.twilio.com/RE1");
  /* a recording URL that is not web is left out */
  assert_int_equal (s_twilio (S_BASE "&RecordingUrl=file%3A%2F%2F%2Fetc%2Fpasswd", field, reason),
                    AT_OK);
  assert_true (s_call.url_dropped);
  assert_string_equal (s_text ("pt-BR"), "Mensagem de voz");
  (void) state;
}

static void
test_twilio_nothing_or_refused (void **state)
{
  char field[32], reason[160];
  const char *nothing[] = {
    S_BASE "&Direction=inbound&CallStatus=ringing",
    S_BASE "&Direction=inbound&CallStatus=in-progress",
    S_BASE "&Direction=outbound-dial&CallStatus=completed&CallDuration=30",
    S_BASE "&TranscriptionStatus=failed&RecordingUrl=https%3A%2F%2Fa.example%2Fr",
    "CallSid=CA9&From=anonymous&CallStatus=no-answer",
    "CallSid=CA9&From=client%3Aalice&CallStatus=no-answer",
  };
  for (size_t i = 0; i < AT_ARRAY_LEN (nothing); i++)
    if (s_twilio (nothing[i], field, reason) != AT_NOTFOUND || !reason[0])
      fail_msg ("%s: not ignored (%s)", nothing[i], reason);
  static const struct {
    const char *body, *field;
  } bad[] = {
    {"From=%2B5511987654321&CallStatus=completed", "CallSid"},
    {"CallSid=CA1&CallStatus=completed", "From"},
    {"CallSid=CA1&Direction=outbound-api&From=%2B5511987654321&CallStatus=busy", "To"},
    {"CallSid=CA1&From=%2B5511987654321", "CallStatus"},
    {"CallSid=CA1&From=%2B5511987654321&CallStatus=exploded", "CallStatus"},
    {"CallSid=CA1&From=%2B5511987654321&CallStatus=completed&CallDuration=-3", "CallDuration"},
    {"CallSid=CA1&From=%2B5511987654321&RecordingUrl=https%3A%2F%2Fa.example%2Fr"
     "&RecordingDuration=9x", "RecordingDuration"},
    {"CallSid=CA1&From=%2B5511987654321&TranscriptionStatus=completed", "TranscriptionText"},
  };
  for (size_t i = 0; i < AT_ARRAY_LEN (bad); i++)
    if (s_twilio (bad[i].body, field, reason) != AT_INVALID || strcmp (field, bad[i].field) != 0)
      fail_msg ("%s: field \"%s\", want \"%s\"", bad[i].body, field, bad[i].field);
  (void) state;
}

/* a long transcript is cut at a character, and the text still fits */
static void
test_caps (void **state)
{
  size_t n = AT_CALL_TRANSCRIPT_MAX * 2;
  char *body = malloc (n + 256);
  size_t used = (size_t) snprintf (body, 256, "%s", S_BASE "&TranscriptionStatus=completed"
                                   "&TranscriptionText=");
  for (size_t i = 0; used + 6 < n; i++)
    used += (size_t) snprintf (body + used, 8, "%%C3%%A9");   /* é, two bytes */
  char field[32], reason[160];
  assert_int_equal (s_twilio (body, field, reason), AT_OK);
  size_t len = strlen (s_call.transcript);
  assert_true (len <= AT_CALL_TRANSCRIPT_MAX && len % 2 == 0 && len > 0);
  s_text ("pt-BR");
  free (body);
  (void) state;
}

static bool
s_routable (void *arg, const char *channel)
{
  (void) arg;
  (void) channel;
  return true;   /* "*=webhook": every channel has a provider, phone too */
}

/* an agent's reply on a phone ticket goes by text, never "phone" */
static void
test_reply_by_text (void **state)
{
  wrk_choice_policy_t p = {
    .fallback = s_list ("whatsapp,sms,email", AT_LIST_VALUES), .routable = s_routable,
  };
  at_notification_ctx_t c;
  memset (&c, 0, sizeof c);
  at_strlcpy (c.kind, "reply", sizeof c.kind);
  at_strlcpy (c.channel, "phone", sizeof c.channel);
  at_strlcpy (c.locale, "pt-BR", sizeof c.locale);
  c.recipient = (char *) "+5511987654321";
  c.identities_json = (char *) "{\"phone\":\"+5511987654321\"}";
  c.whatsapp_window = true;
  wrk_choice_t out;
  wrk_notify_choose (&c, &p, &out);
  assert_int_equal (out.action, WRK_CHOICE_SEND);
  assert_string_equal (out.channel, "whatsapp");
  assert_string_equal (out.recipient, "+5511987654321");
  at_strlcpy (c.preferred_channel, "sms", sizeof c.preferred_channel);
  wrk_notify_choose (&c, &p, &out);
  assert_string_equal (out.channel, "sms");
  /* phone is a known channel now, its handles E.164, the phone identity kind */
  char handle[AT_HANDLE_MAX];
  assert_true (at_channel_known ("phone"));
  assert_string_equal (at_channel_identity_kind ("phone"), "phone");
  assert_int_equal (at_channel_normalize_handle ("phone", "11 98765-4321", handle, sizeof handle),
                    AT_OK);
  assert_string_equal (handle, "+5511987654321");
  (void) state;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_json_events),
    cmocka_unit_test (test_json_refused),
    cmocka_unit_test (test_twilio_events),
    cmocka_unit_test (test_twilio_nothing_or_refused),
    cmocka_unit_test (test_caps),
    cmocka_unit_test (test_reply_by_text),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
