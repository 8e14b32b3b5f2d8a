/* The api's pure parts: request-body validators (the bus message they build
 * or the problem naming the field) and the route table. (Dates and RFC 3339
 * date-times are lib/core/at_time.h: test_lib_core.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "api_internal.h"
#include "api_router.h"
#include "domain.pb-c.h"

static void
test_inbound_ok (void **state)
{
  const char *body = "{\"channel\":\"email\",\"handle\":\"Ana@Example.COM\",\"text\":\"Onde está?\","
                     "\"provider_message_id\":\"<m1@x>\",\"name\":\"Ana\",\"language\":\"pt\"}";
  api_problem_t p;
  at_msg_t *m = NULL;
  assert_int_equal (api_inbound_parse (body, strlen (body), "k", NULL, &m, &p), AT_OK);
  assert_string_equal (m->stage, AT_STAGE_INGEST);
  assert_string_equal (m->type, AT_TYPE_INBOUND_MESSAGE);
  /* HMAC-SHA256("k", "email:ana@example.com"), first 16 bytes: no raw address */
  assert_string_equal (m->key, "email:#b749b8b08dd038d200351145c3b6f4d2");
  Atende__InboundMessage *in = atende__inbound_message__unpack (NULL, m->payload_len, m->payload);
  assert_non_null (in);
  assert_string_equal (in->channel, "email");
  assert_string_equal (in->handle, "ana@example.com");
  assert_string_equal (in->text, "Onde está?");
  assert_string_equal (in->provider_message_id, "<m1@x>");
  assert_string_equal (in->name, "Ana");
  assert_string_equal (in->language, "pt");
  assert_true (in->received_us > 0);
  atende__inbound_message__free_unpacked (in, NULL);
  at_msg_destroy (&m);
}

/* The key of a message from a phone number holds no digit run of it; the
 * same handle (however written) gives the same key, another secret another. */
static void
test_inbound_key (void **state)
{
  (void) state;
  const char *a = "{\"channel\":\"whatsapp\",\"handle\":\"5511987654321\",\"text\":\"oi\","
                  "\"provider_message_id\":\"w1\"}";
  const char *b = "{\"channel\":\"whatsapp\",\"handle\":\"+55 11 98765-4321\",\"text\":\"2\","
                  "\"provider_message_id\":\"w2\"}";
  api_problem_t p;
  at_msg_t *m1 = NULL, *m2 = NULL, *m3 = NULL;
  assert_int_equal (api_inbound_parse (a, strlen (a), "s1", NULL, &m1, &p), AT_OK);
  assert_int_equal (api_inbound_parse (b, strlen (b), "s1", NULL, &m2, &p), AT_OK);
  assert_int_equal (api_inbound_parse (a, strlen (a), "s2", NULL, &m3, &p), AT_OK);
  assert_null (strstr (m1->key, "98765"));
  assert_null (strstr (m1->key, "4321"));
  assert_int_equal (strncmp (m1->key, "whatsapp:#", 10), 0);
  assert_string_equal (m1->key, m2->key);
  assert_string_not_equal (m1->key, m3->key);
  at_msg_destroy (&m1);
  at_msg_destroy (&m2);
  at_msg_destroy (&m3);
}

static void
s_inbound_fails (const char *body, int status, const char *field)
{
  api_problem_t p;
  at_msg_t *m = NULL;
  assert_int_equal (api_inbound_parse (body, strlen (body), "k", NULL, &m, &p), AT_INVALID);
  assert_null (m);
  assert_int_equal (p.status, status);
  if (field)
    assert_string_equal (p.field, field);
  else
    assert_null (p.field);
}

static void
test_inbound_bad (void **state)
{
  s_inbound_fails ("", 400, NULL);
  s_inbound_fails ("{", 400, NULL);
  s_inbound_fails ("\"text\"", 400, NULL);
  s_inbound_fails ("{\"handle\":\"a@b.c\",\"text\":\"t\",\"provider_message_id\":\"1\"}", 400, "channel");
  s_inbound_fails ("{\"channel\":null,\"handle\":\"a@b.c\",\"text\":\"t\",\"provider_message_id\":\"1\"}",
                   400, "channel");
  s_inbound_fails ("{\"channel\":\"pigeon\",\"handle\":\"a@b.c\",\"text\":\"t\",\"provider_message_id\":\"1\"}",
                   422, "channel");
  s_inbound_fails ("{\"channel\":\"sms\",\"handle\":\"call me\",\"text\":\"t\",\"provider_message_id\":\"1\"}",
                   422, "handle");
  s_inbound_fails ("{\"channel\":\"sms\",\"handle\":\"+5511999990000\",\"text\":1,\"provider_message_id\":\"1\"}",
                   400, "text");
  s_inbound_fails ("{\"channel\":\"sms\",\"handle\":\"+5511999990000\",\"text\":\"t\",\"provider_message_id\":\"\"}",
                   422, "provider_message_id");
  s_inbound_fails ("{\"channel\":\"sms\",\"handle\":\"+5511999990000\",\"text\":\"t\",\"provider_message_id\":\"1\","
                   "\"language\":\"pt BR\"}", 422, "language");
  /* text of 64 KiB + 1 */
  size_t n = 64 * 1024 + 1;
  char *big = malloc (n + 200);
  int off = snprintf (big, 200, "{\"channel\":\"chat\",\"handle\":\"c1\",\"provider_message_id\":\"1\",\"text\":\"");
  memset (big + off, 'a', n);
  memcpy (big + off + n, "\"}", 3);
  s_inbound_fails (big, 422, "text");
  free (big);
}

static void
test_order_event (void **state)
{
  const char *body = "{\"status\":\"shipped\",\"occurred_at\":\"2026-11-22T15:00:00.5-03:00\","
                     "\"event_id\":\"ev-9\",\"expected_delivery\":\"2026-11-25\","
                     "\"customer\":{\"channel\":\"sms\",\"handle\":\"11 99999-0000\"}}";
  api_problem_t p;
  at_msg_t *m = NULL;
  assert_int_equal (api_order_event_parse ("PED-1", body, strlen (body), NULL, &m, &p), AT_OK);
  assert_string_equal (m->stage, AT_STAGE_NOTIFY);
  assert_string_equal (m->type, AT_TYPE_ORDER_EVENT);
  assert_string_equal (m->key, "order:PED-1");
  Atende__OrderEvent *ev = atende__order_event__unpack (NULL, m->payload_len, m->payload);
  assert_non_null (ev);
  assert_string_equal (ev->status, "shipped");
  assert_string_equal (ev->event_id, "ev-9");
  assert_int_equal (ev->occurred_us, 1795370400500000LL);   /* 2026-11-22T18:00:00.5Z */
  assert_string_equal (ev->customer_handle, "+5511999990000");
  assert_string_equal (ev->expected_delivery, "2026-11-25");
  atende__order_event__free_unpacked (ev, NULL);
  at_msg_destroy (&m);

  const char *bad[][3] = {
    { "{\"status\":\"lost\",\"customer\":{\"channel\":\"sms\",\"handle\":\"+5511999990000\"}}", "422", "status" },
    { "{\"status\":\"placed\"}", "400", "customer" },
    { "{\"status\":\"placed\",\"customer\":{\"channel\":\"sms\",\"handle\":5}}", "400", "customer.handle" },
    { "{\"status\":\"placed\",\"tracking_url\":\"ftp://x\",\"customer\":{\"channel\":\"sms\",\"handle\":\"+5511999990000\"}}",
      "422", "tracking_url" },
    { "{\"status\":\"placed\",\"tracking_url\":\"https://\",\"customer\":{\"channel\":\"sms\",\"handle\":\"+5511999990000\"}}",
      "422", "tracking_url" },
    { "{\"status\":\"placed\",\"tracking_url\":\"https://t.example/a b\",\"customer\":{\"channel\":\"sms\",\"handle\":\"+5511999990000\"}}",
      "422", "tracking_url" },
    { "{\"status\":\"placed\",\"expected_delivery\":\"2026-02-29\",\"customer\":{\"channel\":\"sms\",\"handle\":\"+5511999990000\"}}",
      "422", "expected_delivery" },
    { "{\"status\":\"placed\",\"occurred_at\":\"2026-11-22 25:00:00Z\",\"customer\":{\"channel\":\"sms\",\"handle\":\"+5511999990000\"}}",
      "422", "occurred_at" },
  };
  for (size_t i = 0; i < AT_ARRAY_LEN (bad); i++) {
    m = NULL;
    assert_int_equal (api_order_event_parse ("PED-1", bad[i][0], strlen (bad[i][0]), NULL, &m, &p),
                      AT_INVALID);
    assert_null (m);
    assert_int_equal (p.status, strtol (bad[i][1], NULL, 10));
    assert_string_equal (p.field, bad[i][2]);
  }
}

static void
test_ticket_actions (void **state)
{
  api_problem_t p;
  at_msg_t *m = NULL;
  /* the body's agent is not who the reply is recorded under: the caller is */
  const char *reply = "{\"agent\":\"ana\",\"text\":\"Já enviamos.\"}";
  assert_int_equal (api_reply_parse (7, "Bia Souza", reply, strlen (reply), NULL, &m, &p), AT_OK);
  assert_string_equal (m->stage, AT_STAGE_ROUTE);
  assert_string_equal (m->type, AT_TYPE_TICKET_REPLY);
  assert_string_equal (m->key, "ticket:7");
  Atende__AgentReply *pb = atende__agent_reply__unpack (NULL, m->payload_len, m->payload);
  assert_non_null (pb);
  assert_string_equal (pb->agent, "Bia Souza");
  atende__agent_reply__free_unpacked (pb, NULL);
  at_msg_destroy (&m);
  assert_int_equal (api_resolve_parse (7, "key:abcdefghijkl", "", 0, NULL, &m, &p), AT_OK);
  assert_string_equal (m->type, AT_TYPE_TICKET_RESOLVE);
  at_msg_destroy (&m);
  assert_int_equal (api_resolve_parse (7, "Bia", "{\"agent\":12}", 12, NULL, &m, &p), AT_OK);
  at_msg_destroy (&m);
  assert_int_equal (api_reply_parse (7, "Bia", "{\"agent\":\"ana\"}", 15, NULL, &m, &p), AT_INVALID);
  assert_string_equal (p.field, "text");
}

/* The credentials' text: Authorization and Cookie taken apart. */
static void
test_credentials (void **state)
{
  char out[API_CREDENTIAL_MAX + 1];
  assert_int_equal (api_credential_bearer ("Bearer atd_x_y", out, sizeof out), AT_OK);
  assert_string_equal (out, "atd_x_y");
  assert_int_equal (api_credential_bearer ("bearer   tok== ", out, sizeof out), AT_OK);
  assert_string_equal (out, "tok==");
  const char *bad[] = { "", "Bearer", "Bearer ", "Basic abc", "Bearerabc", "Bearer a b",
                        "Bearer =abc", "Bearer a=b", "Bearer a\"" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal (api_credential_bearer (bad[i], out, sizeof out), AT_INVALID);
  assert_int_equal (api_credential_bearer (NULL, out, sizeof out), AT_INVALID);
  assert_int_equal (api_credential_cookie ("a=1; atende_session=T0k-_; b=2", "atende_session",
                                           out, sizeof out), AT_OK);
  assert_string_equal (out, "T0k-_");
  assert_int_equal (api_credential_cookie ("xatende_session=1", "atende_session", out,
                                           sizeof out), AT_NOTFOUND);
  assert_int_equal (api_credential_cookie ("atende_session=1;atende_session=2",
                                           "atende_session", out, sizeof out), AT_INVALID);
  assert_int_equal (api_credential_cookie ("atende_session=", "atende_session", out, sizeof out),
                    AT_INVALID);
  assert_int_equal (api_credential_cookie ("atende_session=\"q\"", "atende_session", out,
                                           sizeof out), AT_INVALID);
}

static void
test_survey_answer (void **state)
{
  const char *id = "0190e1f2-0000-7000-8000-0000000000a1";
  api_problem_t p;
  at_msg_t *m = NULL;
  assert_int_equal (api_survey_answer_parse (id, "csat", "{\"score\":5}", 11, NULL, &m, &p), AT_OK);
  assert_string_equal (m->stage, AT_STAGE_SURVEY);
  assert_string_equal (m->key, "survey:0190e1f2-0000-7000-8000-0000000000a1");
  at_msg_destroy (&m);
  assert_int_equal (api_survey_answer_parse (id, "nps", "{\"score\":0}", 11, NULL, &m, &p), AT_OK);
  at_msg_destroy (&m);
  assert_int_equal (api_survey_answer_parse (id, "csat", "{\"score\":0}", 11, NULL, &m, &p), AT_INVALID);
  assert_int_equal (p.status, 422);
  assert_string_equal (p.field, "score");
  assert_int_equal (api_survey_answer_parse (id, "csat", "{\"score\":4.5}", 13, NULL, &m, &p),
                    AT_INVALID);
  assert_int_equal (p.status, 400);
}

static void
s_route (const char *method, const char *path, const char *want_route, int want_status,
         const char *want_param)
{
  api_request_t req;
  memset (&req, 0, sizeof req);
  req.method = method;
  req.path = path;
  api_route_match (&req);
  assert_int_equal (req.route_status, want_status);
  if (want_route) {
    assert_non_null (req.route);
    assert_string_equal (req.route->name, want_route);
    assert_string_equal (req.param, want_param);
  }
  else
    assert_null (req.route);
}

static void
test_router (void **state)
{
  s_route ("POST", "/v1/messages", "messages", 0, "");
  s_route ("GET", "/v1/messages/abc", "message", 0, "abc");
  s_route ("POST", "/v1/tickets/12/replies", "ticket_replies", 0, "12");
  s_route ("POST", "/v1/tickets/12/resolve", "ticket_resolve", 0, "12");
  s_route ("POST", "/v1/orders/PED-1/events", "order_events", 0, "PED-1");
  s_route ("GET", "/v1/tickets/12/", NULL, 404, NULL);
  s_route ("GET", "/v1/tickets//replies", NULL, 404, NULL);
  s_route ("GET", "/v1/ticket", NULL, 404, NULL);
  s_route ("PUT", "/v1/messages", NULL, 405, NULL);
  s_route ("HEAD", "/healthz", "healthz", 0, "");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_inbound_ok),
    cmocka_unit_test (test_inbound_key),
    cmocka_unit_test (test_inbound_bad),
    cmocka_unit_test (test_order_event),
    cmocka_unit_test (test_ticket_actions),
    cmocka_unit_test (test_credentials),
    cmocka_unit_test (test_survey_answer),
    cmocka_unit_test (test_router),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
