/* The providers against local fakes over real loopback HTTP and SMTP: the
 * exact requests each one sends (URL, headers, body), how answers are
 * classified (429 with Retry-After, 5xx, permanent 4xx, SMTP 451/550), a hung
 * provider timing out, and connections kept alive from one batch to the next. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "it.h"
#include "at_provider.h"
#include "at_crypto.h"
#include "../fakes/fakes.h"
#include "../fakes/fake_http.c"
#include "../fakes/fake_smtp.c"

#define S_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static fake_http_t *s_http;
static fake_smtp_t *s_smtp;
static at_provider_t *s_wa, *s_tw, *s_hook, *s_mail;

static at_provider_msg_t
s_msg (const char *id, const char *to, const char *text)
{
  return (at_provider_msg_t) {.id = id, .kind = "order_status", .channel = "whatsapp", .to = to,
                              .text = text, .order_id = "A-1", .created_us = 1800000000000000LL};
}

static void
s_run (at_provider_t *p, at_provider_msg_t *msgs, size_t n, at_sender_t *sender)
{
  at_provider_call_t calls[16];
  for (size_t i = 0; i < n; i++)
    calls[i] = (at_provider_call_t) {.provider = p, .msg = &msgs[i]};
  IT_CHECK (at_sender_run (sender, calls, n, NULL) == AT_OK, "sender ran");
}

/* The last request the fake got whose path contains part. */
static fake_request_t
s_last (const char *part)
{
  fake_request_t r, found;
  memset (&found, 0, sizeof found);
  for (int i = 0; fake_http_get (s_http, i, &r); i++)
    if (strstr (r.path, part))
      found = r;
  IT_CHECK (found.method[0], "a request to %s", part);
  return found;
}

static void
s_providers (int http_port, int smtp_port, long timeout_ms)
{
  char base[128], hook[128], smtp[128];
  snprintf (base, sizeof base, "http://127.0.0.1:%d/graph", http_port);
  at_provider_conf_t c = {.url = base, .api_version = "v21.0", .account = "1234567890",
                          .token = "EAAtoken", .timeout_ms = timeout_ms,
                          .breaker_failures = 100};
  s_wa = at_provider_new ("whatsapp", AT_PROVIDER_WHATSAPP, &c);
  snprintf (base, sizeof base, "http://127.0.0.1:%d/twilio", http_port);
  c = (at_provider_conf_t) {.url = base, .account = "AC123", .token = "twtoken",
                            .from = "+15005550006", .timeout_ms = timeout_ms,
                            .status_callback = "https://loja.example/v1/channels/twilio"};
  s_tw = at_provider_new ("twilio", AT_PROVIDER_TWILIO, &c);
  snprintf (hook, sizeof hook, "http://127.0.0.1:%d/hooks", http_port);
  c = (at_provider_conf_t) {.url = hook, .secret = S_SECRET, .timeout_ms = timeout_ms};
  s_hook = at_provider_new ("webhook", AT_PROVIDER_WEBHOOK, &c);
  snprintf (smtp, sizeof smtp, "smtp://127.0.0.1:%d", smtp_port);
  c = (at_provider_conf_t) {.url = smtp, .from = "loja@example.com", .tls = "none",
                            .message_id_domain = "loja.example", .timeout_ms = timeout_ms};
  s_mail = at_provider_new ("smtp", AT_PROVIDER_SMTP, &c);
  IT_CHECK (s_wa && s_tw && s_hook && s_mail, "providers created");
}

static void
s_exact_requests (at_sender_t *sender)
{
  const char *id = "0190f3a0-1111-7222-8333-944445555666";
  at_provider_msg_t wa = s_msg (id, "5511999990000", "Olá, Ana!");
  at_provider_msg_t tw = s_msg (id, "+5511999990000", "Olá, Ana!");
  at_provider_msg_t hk = s_msg (id, "5511999990000", "Olá, Ana!");
  at_provider_call_t calls[] = {{s_wa, &wa}, {s_tw, &tw}, {s_hook, &hk}};
  IT_CHECK (at_sender_run (sender, calls, 3, NULL) == AT_OK, "ran");
  IT_CHECK (wa.outcome == AT_OK && strncmp (wa.provider_message_id, "wamid.fake", 10) == 0,
            "whatsapp accepted: %d %s %s", wa.outcome, wa.provider_message_id, wa.error);
  IT_CHECK (tw.outcome == AT_OK && tw.status == 201 && strncmp (tw.provider_message_id, "SM", 2) == 0,
            "twilio accepted: %d %ld %s", tw.outcome, tw.status, tw.error);
  IT_CHECK (hk.outcome == AT_OK && strcmp (hk.provider_message_id, id) == 0, "webhook accepted");

  fake_request_t r = s_last ("/messages");
  IT_CHECK (strcmp (r.method, "POST") == 0 && strcmp (r.path, "/graph/v21.0/1234567890/messages") == 0,
            "whatsapp URL %s", r.path);
  IT_CHECK (strcmp (r.authorization, "Bearer EAAtoken") == 0, "bearer: %s", r.authorization);
  IT_CHECK (strcmp (r.content_type, "application/json") == 0, "json");
  IT_CHECK (strcmp (r.idempotency_key, id) == 0, "idempotency key sent");
  json_t *want = json_pack ("{s:s, s:s, s:s, s:s, s:{s:b, s:s}}", "messaging_product",
                            "whatsapp", "recipient_type", "individual", "to", "5511999990000",
                            "type", "text", "text", "preview_url", 0, "body", "Olá, Ana!");
  json_t *have = json_loadb (r.body, r.body_len, 0, NULL);
  IT_CHECK (json_equal (want, have), "whatsapp body: %s", r.body);
  json_decref (want);
  json_decref (have);

  r = s_last ("Messages.json");
  IT_CHECK (strcmp (r.path, "/twilio/2010-04-01/Accounts/AC123/Messages.json") == 0, "twilio URL");
  char basic[128];
  at_base64_encode ("AC123:twtoken", 13, basic + 6, sizeof basic - 6);
  memcpy (basic, "Basic ", 6);
  IT_CHECK (strcmp (r.authorization, basic) == 0, "basic auth: %s", r.authorization);
  IT_CHECK (strcmp (r.content_type, "application/x-www-form-urlencoded") == 0, "form");
  IT_CHECK (strcmp (r.body, "To=%2B5511999990000&From=%2B15005550006&Body=Ol%C3%A1%2C%20Ana%21"
                            "&StatusCallback=https%3A%2F%2Floja.example%2Fv1%2Fchannels%2Ftwilio")
                == 0, "twilio body: %s", r.body);

  r = s_last ("/hooks");
  IT_CHECK (strcmp (r.webhook_id, id) == 0, "webhook-id is the notification id");
  json_t *body = json_loadb (r.body, r.body_len, 0, NULL);
  IT_CHECK (strcmp (json_string_value (json_object_get (body, "id")), id) == 0
                && strcmp (json_string_value (json_object_get (body, "text")), "Olá, Ana!") == 0
                && strcmp (json_string_value (json_object_get (body, "order_id")), "A-1") == 0,
            "webhook body: %s", r.body);
  json_decref (body);
  IT_CHECK (strncmp (r.webhook_signature, "v1,", 3) == 0, "signed: %s", r.webhook_signature);
}

static void
s_classification (at_sender_t *sender)
{
  at_provider_msg_t m[4] = {
    s_msg ("0190f3a0-0000-7000-8000-000000000001", "5511900000001", "a"),
    s_msg ("0190f3a0-0000-7000-8000-000000000002", "5511900000002", "b"),
    s_msg ("0190f3a0-0000-7000-8000-000000000003", "5511900000003", "c"),
    s_msg ("0190f3a0-0000-7000-8000-000000000004", "5511900000004", "d"),
  };
  fake_http_script (s_http, "/messages", 429, "2", 0, 1);
  fake_http_script (s_http, "/messages", 503, NULL, 0, 1);
  fake_http_script (s_http, "/messages", 400, NULL, 0, 1);
  /* hangs up. libcurl itself sends the request again, on another pooled
   * connection, when a reused connection closes without an answer (up to 5
   * times): a provider that read the request and then dropped the
   * connection gets it more than once. Every hang-up here makes that seen. */
  fake_http_script (s_http, "/messages", 0, NULL, 0, 8);
  for (int i = 0; i < 4; i++)
    s_run (s_wa, &m[i], 1, sender);
  IT_CHECK (m[0].outcome == AT_AGAIN && m[0].status == 429 && m[0].retry_after_ms == 2000,
            "429 retried after 2 s: %d %ld %lld", m[0].outcome, m[0].status,
            (long long) m[0].retry_after_ms);
  IT_CHECK (m[1].outcome == AT_AGAIN && m[1].status == 503, "503 retried");
  IT_CHECK (m[2].outcome == AT_INVALID && strstr (m[2].error, "131026"), "400 permanent: %s",
            m[2].error);
  IT_CHECK (m[3].outcome == AT_AGAIN && m[3].status == 0, "no answer retried: %d %ld %s",
            m[3].outcome, m[3].status, m[3].error);
  int resent = 0;
  fake_request_t r;
  for (int i = 0; fake_http_get (s_http, i, &r); i++)
    resent += strcmp (r.idempotency_key, m[3].id) == 0;
  printf ("a request whose connection closed unanswered reached the provider %d times"
          " (libcurl's own resend on reused connections)\n", resent);
}

static void
s_hang (at_sender_t *sender)
{
  at_provider_msg_t m = s_msg ("0190f3a0-0000-7000-8000-0000000000aa", "5511900000009", "slow");
  fake_http_script (s_http, "/hooks", 200, NULL, 1500, 1);
  s_run (s_hook, &m, 1, sender);
  IT_CHECK (m.outcome == AT_AGAIN && m.status == 0 && strstr (m.error, "timed out"),
            "a hung provider times out and is retried: %d %ld %s", m.outcome, m.status, m.error);
}

static void
s_keepalive (void)
{
  at_sender_t *sender = at_sender_new (2);
  char ids[8][40];
  at_provider_msg_t m[8];
  for (int i = 0; i < 8; i++) {
    snprintf (ids[i], sizeof ids[i], "0190f3a0-0000-7000-8000-0000000001%02d", i);
    m[i] = s_msg (ids[i], "5511900000010", "again");
  }
  s_run (s_hook, m, 4, sender);
  int after_first = fake_http_connections (s_http);
  s_run (s_hook, m + 4, 4, sender);
  int after_second = fake_http_connections (s_http);
  for (int i = 0; i < 8; i++)
    IT_CHECK (m[i].outcome == AT_OK, "delivered %d: %s", i, m[i].error);
  IT_CHECK (after_second == after_first, "second batch reused the connections (%d -> %d)",
            after_first, after_second);
  IT_CHECK (at_sender_connects (sender) <= 2, "at most 2 connections for 8 calls: %ld",
            at_sender_connects (sender));
  at_sender_destroy (&sender);
}

static void
s_smtp_checks (at_sender_t *sender)
{
  at_provider_msg_t m[3] = {
    s_msg ("0190f3a0-0000-7000-8000-0000000002a1", "ana@example.com", "Seu pedido saiu."),
    s_msg ("0190f3a0-0000-7000-8000-0000000002a2", "reject@example.com", "x"),
    s_msg ("0190f3a0-0000-7000-8000-0000000002a3", "later@example.com", "y"),
  };
  for (int i = 0; i < 3; i++)
    s_run (s_mail, &m[i], 1, sender);
  IT_CHECK (m[0].outcome == AT_OK, "mail accepted: %s", m[0].error);
  IT_CHECK (strcmp (m[0].provider_message_id,
                    "<atende.0190f3a0-0000-7000-8000-0000000002a1@loja.example>") == 0,
            "message id %s", m[0].provider_message_id);
  IT_CHECK (m[1].outcome == AT_INVALID && m[1].status == 550, "550 permanent: %d %ld %s",
            m[1].outcome, m[1].status, m[1].error);
  IT_CHECK (m[2].outcome == AT_AGAIN && m[2].status == 451, "451 retried: %d %ld", m[2].outcome,
            m[2].status);
  fake_mail_t mail;
  IT_CHECK (fake_smtp_count (s_smtp) == 1 && fake_smtp_get (s_smtp, 0, &mail), "one mail");
  IT_CHECK (strncmp (mail.mail_from, "<loja@example.com>", 18) == 0, "from %s", mail.mail_from);
  IT_CHECK (strcmp (mail.rcpt, "<ana@example.com>") == 0, "rcpt %s", mail.rcpt);
  IT_CHECK (strstr (mail.data, "To: ana@example.com\r\n")
                && strstr (mail.data, "Message-ID: <atende.0190f3a0-0000-7000-8000-0000000002a1"
                                      "@loja.example>\r\n")
                && strstr (mail.data, "Content-Type: text/plain; charset=UTF-8\r\n"),
            "mail headers: %s", mail.data);
}

int
main (void)
{
  int http_port = it_free_port (), smtp_port = it_free_port ();
  s_http = fake_http_start (http_port);
  s_smtp = fake_smtp_start (smtp_port);
  IT_CHECK (s_http && s_smtp, "fakes started");
  s_providers (http_port, smtp_port, 500);
  at_sender_t *sender = at_sender_new (8);
  s_exact_requests (sender);
  s_classification (sender);
  s_hang (sender);
  s_smtp_checks (sender);
  at_sender_destroy (&sender);
  s_keepalive ();
  at_provider_destroy (&s_wa);
  at_provider_destroy (&s_tw);
  at_provider_destroy (&s_hook);
  at_provider_destroy (&s_mail);
  fake_smtp_stop (&s_smtp);
  fake_http_stop (&s_http);
  printf ("providers: exact requests, classification, timeout, keep-alive, smtp ok\n");
  return 0;
}
