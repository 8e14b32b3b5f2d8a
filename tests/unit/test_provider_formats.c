/* Providers without a network: how answers are classified, Retry-After,
 * backoff, the request bodies each provider gets (the email read back by
 * the inbound reader), the guards (token bucket, circuit breaker) and the
 * providers' metric families. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "at_email.h"
#include "at_provider.h"

#define S_ID "0190f3a0-1111-7222-8333-944445555666"

static at_provider_msg_t
s_msg (void)
{
  return (at_provider_msg_t) {.id = S_ID, .kind = "order_status", .channel = "whatsapp",
                              .to = "5511999990000", .text = "Olá, Ana! Seu pedido & \"A-1\"",
                              .order_id = "A-1", .created_us = 1800000000000000LL};
}

static void
test_classify (void **state)
{
  assert_int_equal (at_provider_classify_http (200), AT_OK);
  assert_int_equal (at_provider_classify_http (201), AT_OK);
  assert_int_equal (at_provider_classify_http (0), AT_AGAIN);
  assert_int_equal (at_provider_classify_http (429), AT_AGAIN);
  assert_int_equal (at_provider_classify_http (408), AT_AGAIN);
  assert_int_equal (at_provider_classify_http (401), AT_AGAIN);
  assert_int_equal (at_provider_classify_http (500), AT_AGAIN);
  assert_int_equal (at_provider_classify_http (503), AT_AGAIN);
  assert_int_equal (at_provider_classify_http (400), AT_INVALID);
  assert_int_equal (at_provider_classify_http (404), AT_INVALID);
  assert_int_equal (at_provider_classify_http (302), AT_AGAIN);
  assert_int_equal (at_provider_classify_smtp (250), AT_OK);
  assert_int_equal (at_provider_classify_smtp (451), AT_AGAIN);
  assert_int_equal (at_provider_classify_smtp (550), AT_INVALID);
  assert_int_equal (at_provider_classify_smtp (0), AT_AGAIN);
}

static void
test_retry_after (void **state)
{
  assert_int_equal (at_provider_retry_after_ms ("3", 0), 3000);
  assert_int_equal (at_provider_retry_after_ms (" 120", 0), 120000);
  assert_int_equal (at_provider_retry_after_ms (NULL, 0), -1);
  assert_int_equal (at_provider_retry_after_ms ("soon", 0), -1);
  assert_int_equal (at_provider_retry_after_ms ("-5", 0), -1);
  assert_int_equal (at_provider_retry_after_ms ("99999999999999999999", 0), 86400000);
  /* HTTP-date: Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 */
  assert_int_equal (at_provider_retry_after_ms ("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470),
                    10000);
  assert_int_equal (at_provider_retry_after_ms ("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
}

static void
test_backoff (void **state)
{
  for (uint64_t r = 0; r < 1000; r += 37) {
    int64_t d1 = at_provider_backoff_ms (1, 500, 300000, -1, r);
    int64_t d4 = at_provider_backoff_ms (4, 500, 300000, -1, r);
    int64_t dmax = at_provider_backoff_ms (40, 500, 300000, -1, r);
    assert_true (d1 >= 250 && d1 <= 500);
    assert_true (d4 >= 2000 && d4 <= 4000);
    assert_true (dmax >= 150000 && dmax <= 300000);
  }
  /* Retry-After wins when longer, never shortens */
  assert_int_equal (at_provider_backoff_ms (1, 500, 300000, 7000, 3), 7000);
  assert_true (at_provider_backoff_ms (5, 500, 300000, 10, 3) >= 4000);
}

static void
test_whatsapp_bodies (void **state)
{
  at_provider_msg_t m = s_msg ();
  char *text = at_provider_whatsapp_body (&m);
  assert_non_null (text);
  json_t *o = json_loads (text, 0, NULL);
  assert_string_equal (json_string_value (json_object_get (o, "messaging_product")), "whatsapp");
  assert_string_equal (json_string_value (json_object_get (o, "to")), "5511999990000");
  assert_string_equal (json_string_value (json_object_get (o, "type")), "text");
  assert_string_equal (json_string_value (json_object_get (json_object_get (o, "text"), "body")),
                       m.text);
  json_decref (o);
  free (text);
  m.template_name = "order_update";
  m.template_lang = "pt_BR";
  text = at_provider_whatsapp_body (&m);
  o = json_loads (text, 0, NULL);
  assert_string_equal (json_string_value (json_object_get (o, "type")), "template");
  json_t *tpl = json_object_get (o, "template");
  assert_string_equal (json_string_value (json_object_get (tpl, "name")), "order_update");
  assert_string_equal (json_string_value (json_object_get (json_object_get (tpl, "language"),
                                                           "code")), "pt_BR");
  json_t *param = json_array_get (json_object_get (json_array_get (
                                      json_object_get (tpl, "components"), 0), "parameters"), 0);
  assert_string_equal (json_string_value (json_object_get (param, "text")), m.text);
  json_decref (o);
  free (text);
}

static void
test_twilio_body (void **state)
{
  at_provider_msg_t m = s_msg ();
  m.to = "+5511999990000";
  char *body = at_provider_twilio_body (&m, "+15005550006", "https://x.example/cb?a=1");
  assert_string_equal (body, "To=%2B5511999990000&From=%2B15005550006&Body=Ol%C3%A1%2C%20Ana%21"
                             "%20Seu%20pedido%20%26%20%22A-1%22"
                             "&StatusCallback=https%3A%2F%2Fx.example%2Fcb%3Fa%3D1");
  free (body);
  body = at_provider_twilio_body (&m, "MG0123", NULL);
  assert_non_null (strstr (body, "&MessagingServiceSid=MG0123&"));
  free (body);
}

static void
test_answers (void **state)
{
  at_provider_msg_t m = s_msg ();
  const char *ok = "{\"messaging_product\":\"whatsapp\",\"messages\":[{\"id\":\"wamid.HBg1\"}]}";
  at_provider_whatsapp_answer (&m, 200, ok, strlen (ok));
  assert_int_equal (m.outcome, AT_OK);
  assert_string_equal (m.provider_message_id, "wamid.HBg1");
  const char *throttled = "{\"error\":{\"message\":\"throughput\",\"code\":130429}}";
  at_provider_whatsapp_answer (&m, 400, throttled, strlen (throttled));
  assert_int_equal (m.outcome, AT_AGAIN);
  const char *bad = "{\"error\":{\"message\":\"undeliverable\",\"code\":131026}}";
  at_provider_whatsapp_answer (&m, 400, bad, strlen (bad));
  assert_int_equal (m.outcome, AT_INVALID);
  assert_non_null (strstr (m.error, "131026"));
  at_provider_whatsapp_answer (&m, 200, "{}", 2);   /* 200 without an id: not trusted */
  assert_int_equal (m.outcome, AT_AGAIN);
  const char *sid = "{\"sid\":\"SM0123\",\"status\":\"queued\"}";
  at_provider_twilio_answer (&m, 201, sid, strlen (sid));
  assert_int_equal (m.outcome, AT_OK);
  assert_string_equal (m.provider_message_id, "SM0123");
  const char *tw429 = "{\"code\":20429,\"message\":\"Too Many Requests\"}";
  at_provider_twilio_answer (&m, 400, tw429, strlen (tw429));
  assert_int_equal (m.outcome, AT_AGAIN);
  at_provider_twilio_answer (&m, 400, "not json", 8);
  assert_int_equal (m.outcome, AT_INVALID);
  at_provider_webhook_answer (&m, 204, "", 0);
  assert_int_equal (m.outcome, AT_OK);
  assert_string_equal (m.provider_message_id, S_ID);
}

/* Every line ends in CRLF (no bare CR or LF), no header line is over 78
 * characters; returns the message parsed back by the inbound reader (GMime). */
static at_email_t *
s_mail_check (const char *mail)
{
  const char *body = strstr (mail, "\r\n\r\n");
  assert_non_null (body);
  for (const char *p = mail; *p;) {
    const char *eol = strchr (p, '\n');
    assert_non_null (eol);                       /* the message ends with a line end */
    assert_true (eol > p && eol[-1] == '\r');
    assert_null (memchr (p, '\r', (size_t) (eol - p) - 1));
    if (p <= body)
      assert_true (eol - p - 1 <= 78);
    p = eol + 1;
  }
  at_email_t *e = NULL;
  char reason[AT_EMAIL_REASON_MAX] = "";
  assert_int_equal (at_email_parse (mail, strlen (mail), &e, reason, sizeof reason), AT_OK);
  return e;
}

/* The message for locale (and subject), its subject as a reader sees it. */
static void
s_subject_in (const char *locale, const char *order_id, const char *subject, const char *want)
{
  at_provider_msg_t m = s_msg ();
  m.to = "ana@example.com";
  m.locale = locale;
  m.order_id = order_id;
  m.subject = subject;
  char *mail = at_provider_smtp_message (&m, "loja@example.com", "loja.example", 0);
  assert_non_null (mail);
  at_email_t *e = s_mail_check (mail);
  assert_string_equal (e->subject, want);
  at_email_destroy (&e);
  free (mail);
}

static void
test_smtp_message (void **state)
{
  at_provider_msg_t m = s_msg ();
  m.to = "ana@example.com";
  m.text = "Ol\xc3\xa1, Ana! Seu pedido & \"A-1\" saiu.\n.\nFrom here\r\nat\xc3\xa9 logo";
  char *mail = at_provider_smtp_message (&m, "loja@example.com", "loja.example", 1800000000000000LL);
  assert_non_null (mail);
  assert_non_null (strstr (mail, "From: loja@example.com\r\n"));
  assert_non_null (strstr (mail, "To: ana@example.com\r\n"));
  assert_non_null (strstr (mail, "Subject: Pedido A-1\r\n"));
  assert_non_null (strstr (mail, "Date: Fri, 15 Jan 2027 08:00:00 +0000\r\n"));
  assert_non_null (strstr (mail, "Message-ID: <atende." S_ID "@loja.example>\r\n"));
  assert_non_null (strstr (mail, "X-Atende-Notification-Id: " S_ID "\r\n"));
  assert_non_null (strstr (mail, "Content-Type: text/plain; charset=UTF-8\r\n"));
  assert_non_null (strstr (mail, "Content-Transfer-Encoding: quoted-printable\r\n"));
  at_email_t *e = s_mail_check (mail);
  assert_string_equal (e->from, "loja@example.com");
  assert_string_equal (e->message_id, "atende." S_ID "@loja.example");
  char nid[AT_ID_LEN];
  assert_int_equal (at_email_notification_from_message_id (e->message_id, nid), AT_OK);
  assert_string_equal (nid, S_ID);
  assert_string_equal (e->full_text, "Ol\xc3\xa1, Ana! Seu pedido & \"A-1\" saiu.\n.\nFrom here\n"
                                     "at\xc3\xa9 logo\n");   /* the body's last line end */
  at_email_destroy (&e);
  free (mail);
  m.to = "ana@example.com\r\nBcc: all@example.com";   /* header injection */
  assert_null (at_provider_smtp_message (&m, "loja@example.com", "loja.example", 0));
  m.to = "no-at-sign";
  assert_null (at_provider_smtp_message (&m, "loja@example.com", "loja.example", 0));
  m.to = "ana@example.com";
  assert_null (at_provider_smtp_message (&m, "loja@example.com", "bad domain", 0));
  m.id = "not-a-uuid";
  assert_null (at_provider_smtp_message (&m, "loja@example.com", "loja.example", 0));
}

static void
test_smtp_subject (void **state)
{
  /* the default subject in the notification's locale */
  s_subject_in ("pt-BR", "A-1", NULL, "Pedido A-1");
  s_subject_in ("en", "A-1", NULL, "Order A-1");
  s_subject_in ("en-US", "A-1", "", "Order A-1");
  s_subject_in ("es", "A-1", NULL, "Pedido A-1");
  s_subject_in ("es", NULL, NULL, "Atenci\xc3\xb3n al cliente");
  s_subject_in ("en", NULL, NULL, "Customer service");
  s_subject_in (NULL, NULL, NULL, "Atendimento");
  s_subject_in ("fr", "A-1", NULL, "Pedido A-1");      /* unknown: pt-BR */
  /* a long non-ASCII subject: RFC 2047 words, folded, read back whole */
  const char *longer = "Atualiza\xc3\xa7\xc3\xa3o do seu pedido n\xc3\xbamero 12345 \xe2\x80\x94 "
                       "est\xc3\xa1 a caminho e chegar\xc3\xa1 amanh\xc3\xa3 \xc3\xa0 tarde; "
                       "obrigado pela prefer\xc3\xaancia, equipe Loja Exemplo \xf0\x9f\x93\xa6";
  s_subject_in ("pt-BR", "A-1", longer, longer);
  at_provider_msg_t m = s_msg ();
  m.to = "ana@example.com";
  m.subject = longer;
  char *mail = at_provider_smtp_message (&m, "loja@example.com", "loja.example", 0);
  const char *subject = strstr (mail, "\r\nSubject: =?");
  assert_non_null (subject);
  const char *end = strstr (subject + 2, "\r\n");
  assert_true (end[2] == ' ' || end[2] == '\t');     /* folded onto a second line */
  free (mail);
  /* a subject with line breaks stays one header */
  s_subject_in ("en", NULL, "Hello\r\nBcc: all@example.com", "Hello Bcc: all@example.com");
}

static void
test_bucket (void **state)
{
  at_bucket_t b;
  at_bucket_init (&b, 10, 2, 1000);
  assert_int_equal (at_bucket_take (&b, 1000), 0);
  assert_int_equal (at_bucket_take (&b, 1000), 0);
  int64_t wait = at_bucket_take (&b, 1000);
  assert_true (wait > 0 && wait <= 101);
  assert_int_equal (at_bucket_take (&b, 1100), 0);   /* 100 ms = one token at 10/s */
  at_bucket_init (&b, 0, 0, 0);                       /* unlimited */
  for (int i = 0; i < 1000; i++)
    assert_int_equal (at_bucket_take (&b, 0), 0);
}

static void
test_breaker (void **state)
{
  at_breaker_t b;
  int64_t wait;
  at_breaker_init (&b, 3, 1000);
  for (int i = 0; i < 2; i++) {
    assert_true (at_breaker_allow (&b, 0, &wait));
    at_breaker_record (&b, false, 0);
  }
  assert_int_equal (b.state, AT_BREAKER_CLOSED);
  at_breaker_record (&b, true, 0);            /* a success resets the count */
  for (int i = 0; i < 3; i++)
    at_breaker_record (&b, false, 10);
  assert_int_equal (b.state, AT_BREAKER_OPEN);
  assert_false (at_breaker_allow (&b, 500, &wait));
  assert_int_equal (wait, 510);
  assert_true (at_breaker_allow (&b, 1010, &wait));   /* cool-down over: one probe */
  assert_int_equal (b.state, AT_BREAKER_HALF_OPEN);
  assert_false (at_breaker_allow (&b, 1011, &wait)); /* only one */
  at_breaker_record (&b, false, 1020);               /* probe failed: open again */
  assert_int_equal (b.state, AT_BREAKER_OPEN);
  assert_true (at_breaker_allow (&b, 2100, &wait));
  at_breaker_record (&b, true, 2110);                /* probe ok: closed */
  assert_int_equal (b.state, AT_BREAKER_CLOSED);
  assert_int_equal (b.opened_total, 2);
}

static void
test_provider_config (void **state)
{
  at_provider_kind_t k;
  assert_int_equal (at_provider_kind_parse ("twilio", &k), AT_OK);
  assert_int_equal (k, AT_PROVIDER_TWILIO);
  assert_int_equal (at_provider_kind_parse ("carrier-pigeon", &k), AT_INVALID);
  at_provider_conf_t c = {.url = "https://api.twilio.com", .account = "AC1", .from = "+1"};
  assert_null (at_provider_new ("twilio", AT_PROVIDER_TWILIO, &c));   /* no token */
  c.token = "secret";
  at_provider_t *p = at_provider_new ("twilio", AT_PROVIDER_TWILIO, &c);
  assert_non_null (p);
  at_provider_destroy (&p);
  assert_null (p);
  at_provider_destroy (&p);
}

/* The families in a registry, counted where the provider counts: calls by
 * outcome, the breaker opening (gauge and counter), half-open again. */
static void
test_provider_metrics (void **state)
{
  (void) state;
  at_metrics_t *registry = at_metrics_new ();
  at_provider_metrics_t families;
  assert_int_equal (at_provider_metrics_register (&families, registry), AT_OK);
  at_provider_conf_t c = {.url = "https://api.twilio.com", .account = "AC1", .from = "+1",
                          .token = "secret", .breaker_failures = 3,
                          .breaker_cooldown_ms = 1000};
  at_provider_t *twilio = at_provider_new ("twilio", AT_PROVIDER_TWILIO, &c);
  c = (at_provider_conf_t) {.url = "http://127.0.0.1:1/hooks",
                            .secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
  at_provider_t *hook = at_provider_new ("webhook", AT_PROVIDER_WEBHOOK, &c);
  assert_true (twilio && hook);
  at_provider_metrics_attach (twilio, &families);
  at_provider_metrics_attach (hook, &families);
  at_provider_msg_t m = s_msg ();
  int outcomes[] = {AT_OK, AT_AGAIN, AT_AGAIN, AT_AGAIN};
  for (size_t i = 0; i < AT_ARRAY_LEN (outcomes); i++) {
    m.outcome = outcomes[i];
    at_provider_observe (twilio, &m, 100);
  }
  m.outcome = AT_INVALID;
  at_provider_observe (hook, &m, 100);
  char *text = at_metrics_render (registry);
  assert_string_equal (text,
    "# HELP atende_provider_breaker_open 1 while the provider's circuit breaker is open"
    " (calls held back), else 0.\n"
    "# TYPE atende_provider_breaker_open gauge\n"
    "atende_provider_breaker_open{provider=\"twilio\"} 1\n"
    "atende_provider_breaker_open{provider=\"webhook\"} 0\n"
    "# HELP atende_provider_breaker_opened_total Times the provider's circuit breaker opened.\n"
    "# TYPE atende_provider_breaker_opened_total counter\n"
    "atende_provider_breaker_opened_total{provider=\"twilio\"} 1\n"
    "atende_provider_breaker_opened_total{provider=\"webhook\"} 0\n"
    "# HELP atende_provider_calls_total Calls to the provider, by outcome: ok, retryable"
    " (tried again later) or permanent (failed for good).\n"
    "# TYPE atende_provider_calls_total counter\n"
    "atende_provider_calls_total{provider=\"twilio\",outcome=\"ok\"} 1\n"
    "atende_provider_calls_total{provider=\"twilio\",outcome=\"retryable\"} 3\n"
    "atende_provider_calls_total{provider=\"twilio\",outcome=\"permanent\"} 0\n"
    "atende_provider_calls_total{provider=\"webhook\",outcome=\"ok\"} 0\n"
    "atende_provider_calls_total{provider=\"webhook\",outcome=\"retryable\"} 0\n"
    "atende_provider_calls_total{provider=\"webhook\",outcome=\"permanent\"} 1\n");
  free (text);
  int64_t wait;
  assert_int_equal (at_provider_admit (twilio, 1200, &wait), AT_OK);   /* half-open probe */
  text = at_metrics_render (registry);
  assert_non_null (strstr (text, "atende_provider_breaker_open{provider=\"twilio\"} 0\n"));
  assert_non_null (strstr (text, "atende_provider_breaker_opened_total{provider=\"twilio\"} 1\n"));
  free (text);
  at_provider_metrics_t again;                 /* the families are registered once */
  assert_int_equal (at_provider_metrics_register (&again, registry), AT_INVALID);
  at_provider_destroy (&twilio);
  at_provider_destroy (&hook);
  at_metrics_destroy (&registry);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_classify),        cmocka_unit_test (test_retry_after),
    cmocka_unit_test (test_backoff),         cmocka_unit_test (test_whatsapp_bodies),
    cmocka_unit_test (test_twilio_body),     cmocka_unit_test (test_answers),
    cmocka_unit_test (test_smtp_message),    cmocka_unit_test (test_smtp_subject),
    cmocka_unit_test (test_bucket),
    cmocka_unit_test (test_breaker),         cmocka_unit_test (test_provider_config),
    cmocka_unit_test (test_provider_metrics),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
