/* notify end to end with every provider played by local fakes (HTTP and
 * SMTP over loopback): broker + notify worker + PostgreSQL. Each scenario
 * has its own customer and waits for what a user would see (rows, requests
 * at the fake provider):
 *   WhatsApp text inside the 24 h window, an approved template outside it;
 *   a permanent failure falls back to the next channel (WhatsApp -> SMS);
 *   429 + Retry-After is retried no sooner than asked; a hung provider
 *   times out and is retried; SMS fails over from Twilio to a second
 *   provider; Twilio's circuit breaker opens, then recovers; an SMTP 550 is
 *   failed and dead-lettered; quiet hours hold a message until the morning
 *   but not an urgent reply; the frequency cap holds the excess; delivery
 *   reports (delivered, read, failed) update the notification, and a failed
 *   one is sent again on the next channel; the worker's /metrics shows the
 *   providers' counts, each family with its HELP and TYPE; a provider that
 *   answers two messages with one message id: both recorded delivered, each
 *   sent once (the id kept by the first only). */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "it.h"
#include "at_publisher.h"
#include "at_config.h"
#include "at_store_notification.h"
#include "../fakes/fakes.h"
#include "../fakes/fake_http.c"
#include "../fakes/fake_smtp.c"

#define S_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define WAIT_MS 30000

static char s_db[512], s_endpoint[64];
static PGconn *s_conn;
static at_publisher_t *s_pub;
static fake_http_t *s_http;
static fake_smtp_t *s_smtp;
static char s_zone_day[32], s_zone_night[32];
static int s_metrics_port;

/* An Etc/GMT zone where it is now `hour` o'clock (Etc signs are reversed). */
static void
s_zone_at (int hour, char *out, size_t cap)
{
  time_t now = time (NULL);
  struct tm tm;
  gmtime_r (&now, &tm);
  int off = ((hour - tm.tm_hour) % 24 + 24) % 24;   /* 0..23 */
  if (off > 11)
    off -= 24;                                        /* -12..11 */
  if (off == 0)
    snprintf (out, cap, "Etc/GMT");
  else
    snprintf (out, cap, "Etc/GMT%+d", -off);
}

static void
s_sql (const char *fmt, ...)
{
  char sql[2048];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (sql, sizeof sql, fmt, ap);
  va_end (ap);
  PGresult *r = PQexec (s_conn, sql);
  IT_CHECK (PQresultStatus (r) == PGRES_COMMAND_OK || PQresultStatus (r) == PGRES_TUPLES_OK,
            "%s: %s", sql, PQerrorMessage (s_conn));
  PQclear (r);
}

static long long
s_scalar (const char *fmt, ...)
{
  char sql[2048];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (sql, sizeof sql, fmt, ap);
  va_end (ap);
  return it_db_scalar (s_conn, sql);
}

static void
s_expect (long long want, const char *fmt, ...)
{
  char sql[2048];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (sql, sizeof sql, fmt, ap);
  va_end (ap);
  long long have = it_wait_scalar (s_conn, sql, want, WAIT_MS);
  if (have != want) {
    fake_http_dump (s_http);
    s_sql ("SELECT 1");
    char *rows = it_db_text (s_conn, "SELECT string_agg(concat_ws(' ', id, kind, channel, status,"
                                     " provider, attempts, last_error, hold_reason), E'\\n')"
                                     " FROM notification");
    fprintf (stderr, "notifications:\n%s\n", rows ? rows : "");
    free (rows);
  }
  IT_CHECK (have == want, "%s: want %lld, have %lld", sql, want, have);
}

/* A customer with identities ("kind=value;kind=value"). */
static void
s_customer (int id, const char *zone, const char *preferred, const char *identities)
{
  s_sql ("INSERT INTO customer (id, name, timezone, preferred_channel) VALUES (%d, 'C%d', '%s',"
         " %s%s%s)", id, id, zone, preferred ? "'" : "", preferred ? preferred : "NULL",
         preferred ? "'" : "");
  char copy[512];
  at_strlcpy (copy, identities, sizeof copy);
  for (char *p = copy; *p;) {
    size_t len = strcspn (p, ";");
    char *next = p[len] ? p + len + 1 : p + len;
    p[len] = 0;
    char *eq = strchr (p, '=');
    *eq = 0;
    s_sql ("INSERT INTO identity (customer_id, kind, value) VALUES (%d, '%s', '%s')", id, p,
           eq + 1);
    p = next;
  }
}

/* The customer wrote on channel `minutes` ago (a ticket and an inbound message). */
static void
s_customer_wrote (int customer, const char *channel, int minutes)
{
  s_sql ("INSERT INTO ticket (id, customer_id, channel, status) VALUES (%d, %d, '%s', 'open')"
         " ON CONFLICT DO NOTHING", customer, customer, channel);
  s_sql ("INSERT INTO ticket_message (ticket_id, direction, author, channel, body, created_at)"
         " VALUES (%d, 'in', 'customer', '%s', 'oi', now() - interval '%d minutes')", customer,
         channel, minutes);
}

/* A notification and its notification.send; id_out gets its UUID. Replies
 * belong to the customer's ticket (id = customer id). */
static void
s_notify (int customer, const char *kind, const char *channel, const char *recipient,
          const char *body, char id_out[AT_ID_LEN])
{
  char sql[1024], ticket[24] = "NULL";
  if (strcmp (kind, "reply") == 0)
    snprintf (ticket, sizeof ticket, "%d", customer);
  snprintf (sql, sizeof sql,
            "INSERT INTO notification (id, customer_id, ticket_id, kind, channel, recipient, body)"
            " VALUES (gen_random_uuid(), %d, %s, '%s', '%s', '%s', '%s') RETURNING id", customer,
            ticket, kind, channel, recipient, body);
  char *id = it_db_text (s_conn, sql);
  IT_CHECK (id != NULL, "notification inserted: %s", PQerrorMessage (s_conn));
  at_strlcpy (id_out, id, AT_ID_LEN);
  free (id);
  at_msg_t *m = at_notification_send_msg (id_out, NULL);
  int retry = 0, rc = AT_AGAIN;
  for (int i = 0; i < 20 && rc != AT_OK; i++)
    rc = at_publisher_send (s_pub, &m, 1, &retry);
  IT_CHECK (rc == AT_OK, "published");
  at_msg_destroy (&m);
}

static void
s_status (const char *provider, const char *provider_id, const char *status)
{
  at_msg_t *m = at_notification_status_msg (provider, provider_id, status, 0, "", NULL);
  int retry = 0, rc = AT_AGAIN;
  for (int i = 0; i < 20 && rc != AT_OK; i++)
    rc = at_publisher_send (s_pub, &m, 1, &retry);
  IT_CHECK (rc == AT_OK, "status published");
  at_msg_destroy (&m);
}

/* The i-th request (0-based) with key; false when there are fewer. */
static bool
s_request_for (const char *key, int nth, fake_request_t *out)
{
  fake_request_t r;
  for (int i = 0, seen = 0; fake_http_get (s_http, i, &r); i++)
    if (strcmp (r.idempotency_key, key) == 0 && seen++ == nth) {
      *out = r;
      return true;
    }
  return false;
}

static int
s_requests_to (const char *part)
{
  fake_request_t r;
  int n = 0;
  for (int i = 0; fake_http_get (s_http, i, &r); i++)
    n += strstr (r.path, part) != NULL;
  return n;
}

/* --- scenarios ----------------------------------------------------------- */

static char s_text_id[AT_ID_LEN], s_template_id[AT_ID_LEN];

static void
s_case_whatsapp_window (void)
{
  fake_request_t r;
  s_customer (101, s_zone_day, NULL, "whatsapp=5511900000101");
  s_customer_wrote (101, "whatsapp", 30);
  s_notify (101, "order_status", "whatsapp", "5511900000101", "Seu pedido saiu", s_text_id);
  s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND status = 'delivered'"
               " AND provider = 'whatsapp' AND whatsapp_mode = 'text' AND attempts = 1"
               " AND provider_message_id LIKE 'wamid.fake%%'", s_text_id);
  IT_CHECK (s_request_for (s_text_id, 0, &r), "request");
  IT_CHECK (strcmp (r.path, "/graph/v21.0/1234567890/messages") == 0
                && strcmp (r.authorization, "Bearer EAAtoken") == 0
                && strcmp (r.content_type, "application/json") == 0, "whatsapp request %s", r.path);
  json_t *want = json_pack ("{s:s, s:s, s:s, s:s, s:{s:b, s:s}}", "messaging_product",
                            "whatsapp", "recipient_type", "individual", "to", "5511900000101",
                            "type", "text", "text", "preview_url", 0, "body", "Seu pedido saiu");
  json_t *have = json_loadb (r.body, r.body_len, 0, NULL);
  IT_CHECK (json_equal (want, have), "text body: %s", r.body);
  json_decref (want);
  json_decref (have);

  /* never wrote: outside the 24 h window, the approved template goes */
  s_customer (102, s_zone_day, NULL, "whatsapp=5511900000102;email=c102@example.com");
  s_notify (102, "order_status", "whatsapp", "5511900000102", "Seu pedido saiu", s_template_id);
  s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND status = 'delivered'"
               " AND whatsapp_mode = 'template:order_update'", s_template_id);
  IT_CHECK (s_request_for (s_template_id, 0, &r), "request");
  want = json_pack ("{s:s, s:s, s:s, s:s, s:{s:s, s:{s:s}, s:[{s:s, s:[{s:s, s:s}]}]}}",
                    "messaging_product", "whatsapp", "recipient_type", "individual", "to",
                    "5511900000102", "type", "template", "template", "name", "order_update",
                    "language", "code", "pt_BR", "components", "type", "body", "parameters",
                    "type", "text", "text", "Seu pedido saiu");
  have = json_loadb (r.body, r.body_len, 0, NULL);
  IT_CHECK (json_equal (want, have), "template body: %s", r.body);
  json_decref (want);
  json_decref (have);
}

static void
s_case_fallback (void)
{
  char id[AT_ID_LEN];
  fake_request_t r;
  s_customer (103, s_zone_day, "whatsapp",
              "whatsapp=5511900000103;phone=+5511900000103;email=c103@example.com");
  s_customer_wrote (103, "whatsapp", 30);
  fake_http_script (s_http, "/messages", 400, NULL, 0, 1);   /* 131026: undeliverable */
  s_notify (103, "order_status", "whatsapp", "5511900000103", "Pedido enviado", id);
  s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND status = 'delivered'"
               " AND channel = 'sms' AND provider = 'twilio' AND recipient = '+5511900000103'"
               " AND failed_channels = '{whatsapp}' AND attempts = 2", id);
  IT_CHECK (s_request_for (id, 1, &r) && strstr (r.path, "/Messages.json")
                && strcmp (r.body, "To=%2B5511900000103&From=%2B15005550006&Body=Pedido%20enviado")
                       == 0, "then SMS through Twilio: %s", r.body);
}

static void
s_case_retry_after (void)
{
  char id[AT_ID_LEN];
  fake_request_t first, second;
  s_customer (104, s_zone_day, NULL, "whatsapp=5511900000104");
  s_customer_wrote (104, "whatsapp", 30);
  fake_http_script (s_http, "/messages", 429, "1", 0, 1);
  s_notify (104, "order_status", "whatsapp", "5511900000104", "Chega hoje", id);
  s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND status = 'delivered'"
               " AND attempts = 2", id);
  IT_CHECK (s_request_for (id, 0, &first) && s_request_for (id, 1, &second), "two requests");
  IT_CHECK (first.answered == 429 && second.answered == 200, "429 then 200");
  IT_CHECK (second.at_us - first.at_us >= 1000000, "Retry-After: 1 honoured (%lld us later)",
            second.at_us - first.at_us);
}

static void
s_case_hang (void)
{
  char id[AT_ID_LEN];
  s_customer (105, s_zone_day, NULL, "whatsapp=5511900000105");
  s_customer_wrote (105, "whatsapp", 30);
  fake_http_script (s_http, "/messages", 200, NULL, 1500, 1);   /* answers after 1.5 s */
  s_notify (105, "order_status", "whatsapp", "5511900000105", "Saiu para entrega", id);
  s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND status = 'delivered'"
               " AND attempts = 2", id);
  fake_request_t r;
  int seen = 0;
  while (s_request_for (id, seen, &r))
    seen++;
  /* The hung call was processed by the provider: WhatsApp documents no
   * idempotency key, so this customer got the message twice. */
  printf ("hang: timed out and retried; the provider received it %d times\n", seen);
  IT_CHECK (seen == 2, "one timeout, one retry");
}

/* it_wait_until condition: publishes a new SMS every 250 ms until one went
 * through Twilio (the breaker's half-open probe). */
typedef struct { int64_t last_us; int n; } s_probe_t;

static bool
s_probe (void *arg)
{
  s_probe_t *p = arg;
  if (s_scalar ("SELECT count(*) FROM notification WHERE customer_id = 110 AND provider ="
                " 'twilio' AND status = 'delivered'") > 0)
    return true;
  if (at_now_us () - p->last_us >= 250000) {
    char id[AT_ID_LEN];
    s_notify (110, "auto_reply", "sms", "+5511900000110", "Probe", id);
    p->last_us = at_now_us ();
    p->n++;
  }
  return false;
}

static void
s_case_failover_and_breaker (void)
{
  char id[AT_ID_LEN];
  for (int c = 106; c <= 110; c++) {
    char ids[64];
    snprintf (ids, sizeof ids, "phone=+5511900000%d", c);
    s_customer (c, s_zone_day, NULL, ids);
  }
  fake_http_script (s_http, "Messages.json", 500, NULL, 0, 3);
  for (int c = 106; c <= 108; c++) {
    char to[32];
    snprintf (to, sizeof to, "+5511900000%d", c);
    s_notify (c, "auto_reply", "sms", to, "Failover", id);
    s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND status = 'delivered'"
                 " AND provider = 'webhook2' AND attempts = 2", id);
  }
  int twilio_before = s_requests_to ("Messages.json");
  s_notify (109, "auto_reply", "sms", "+5511900000109", "Breaker open", id);
  s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND status = 'delivered'"
               " AND provider = 'webhook2' AND attempts = 1", id);
  IT_CHECK (s_requests_to ("Messages.json") == twilio_before,
            "open breaker: Twilio not called (%d -> %d)", twilio_before,
            s_requests_to ("Messages.json"));
  s_probe_t probe = {.last_us = 0};
  IT_CHECK (it_wait_until (s_probe, &probe, WAIT_MS), "breaker half-open probe went to Twilio");
  s_notify (110, "auto_reply", "sms", "+5511900000110", "Closed again", id);
  s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND status = 'delivered'"
               " AND provider = 'twilio' AND attempts = 1", id);
  printf ("breaker: opened after 3 failures, recovered after %d probe messages\n", probe.n);
}

static void
s_case_dead_letter (void)
{
  char id[AT_ID_LEN];
  s_customer (111, s_zone_day, NULL, "email=reject@example.com");
  s_notify (111, "order_status", "email", "reject@example.com", "Pedido cancelado", id);
  s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND status = 'failed'"
               " AND http_status = 550 AND last_error LIKE 'email failed for good%%'", id);
  s_expect (1, "SELECT count(*) FROM bus_dead WHERE type = 'notification.send'"
               " AND key = 'notification:%s'", id);
  IT_CHECK (fake_smtp_count (s_smtp) == 0, "no mail accepted");
}

static void
s_case_quiet_hours (void)
{
  char id[AT_ID_LEN], reply[AT_ID_LEN];
  s_customer (112, s_zone_night, NULL, "whatsapp=5511900000112");
  s_customer_wrote (112, "whatsapp", 30);
  s_notify (112, "order_status", "whatsapp", "5511900000112", "Seu pedido saiu", id);
  s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND status = 'pending'"
               " AND hold_reason = 'quiet hours' AND attempts = 0"
               " AND held_until > now() AND held_until < now() + interval '5 hours'"
               " AND (held_until AT TIME ZONE '%s')::time = '06:00'",
            id, s_zone_night);
  s_expect (1, "SELECT count(*) FROM bus_message WHERE key = 'notification:%s'"
               " AND abs(extract(epoch FROM not_before - (SELECT held_until FROM notification"
               " WHERE id = '%s'))) < 1", id, id);
  /* an answer to a customer who wrote half an hour ago is not held */
  s_notify (112, "reply", "whatsapp", "5511900000112", "Respondendo agora", reply);
  s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND status = 'delivered'",
            reply);
  IT_CHECK (s_scalar ("SELECT count(*) FROM notification WHERE id = '%s' AND status ="
                      " 'pending'", id) == 1, "the order update still waits for the morning");
}

static void
s_case_frequency_cap (void)
{
  char id[3][AT_ID_LEN];
  s_customer (113, s_zone_day, NULL, "whatsapp=5511900000113");
  s_customer_wrote (113, "whatsapp", 30);
  for (int i = 0; i < 3; i++) {
    s_notify (113, "order_status", "whatsapp", "5511900000113", "Atualização", id[i]);
    if (i < 2)
      s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND status = 'delivered'",
                id[i]);
  }
  s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND status = 'pending'"
               " AND hold_reason = 'frequency cap' AND held_until > now() + interval '50 minutes'",
            id[2]);
}

static void
s_case_status_reports (void)
{
  char sql[256], *wamid;
  snprintf (sql, sizeof sql, "SELECT provider_message_id FROM notification WHERE id = '%s'",
            s_text_id);
  wamid = it_db_text (s_conn, sql);
  IT_CHECK (wamid != NULL, "wamid");
  s_status ("whatsapp", wamid, "delivered");
  s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND provider_status ="
               " 'delivered'", s_text_id);
  s_status ("whatsapp", wamid, "read");
  s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND provider_status = 'read'",
            s_text_id);
  s_status ("whatsapp", wamid, "delivered");   /* late: never back from read */
  s_status ("whatsapp", "wamid.unknown", "delivered");
  free (wamid);

  /* the template message failed at WhatsApp: sent again by email */
  snprintf (sql, sizeof sql, "SELECT provider_message_id FROM notification WHERE id = '%s'",
            s_template_id);
  wamid = it_db_text (s_conn, sql);
  s_status ("whatsapp", wamid, "failed");
  free (wamid);
  s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND status = 'delivered'"
               " AND channel = 'email' AND provider = 'smtp' AND failed_channels = '{whatsapp}'",
            s_template_id);
  fake_mail_t mail;
  IT_CHECK (fake_smtp_count (s_smtp) == 1 && fake_smtp_get (s_smtp, 0, &mail)
                && strcmp (mail.rcpt, "<c102@example.com>") == 0, "mailed to c102");
  IT_CHECK (s_scalar ("SELECT count(*) FROM notification WHERE id = '%s' AND provider_status ="
                      " 'read'", s_text_id) == 1, "read stays read");
}

/* The value of the sample starting with `series ` in text; -1 when absent. */
static long long
s_sample (const char *text, const char *series)
{
  char line[160];
  snprintf (line, sizeof line, "\n%s ", series);
  const char *at = strstr (text, line);
  return at ? strtoll (at + strlen (line), NULL, 10) : -1;
}

static void
s_case_metrics (void)
{
  char url[64], *body = NULL;
  snprintf (url, sizeof url, "http://127.0.0.1:%d/metrics", s_metrics_port);
  IT_CHECK (it_http ("GET", url, NULL, NULL, &body) == 200 && body, "worker /metrics");
  static const char *const families[][2] = {
    {"atende_provider_breaker_open", "gauge"},
    {"atende_provider_breaker_opened_total", "counter"},
    {"atende_provider_calls_total", "counter"},
  };
  for (size_t i = 0; i < AT_ARRAY_LEN (families); i++) {
    char help[96], type[96];
    snprintf (help, sizeof help, "# HELP %s ", families[i][0]);
    snprintf (type, sizeof type, "\n# TYPE %s %s\n", families[i][0], families[i][1]);
    const char *first = strstr (body, families[i][0]), *t = strstr (body, type);
    IT_CHECK (first && first - body >= 7 && strncmp (first - 7, help, 7) == 0,
              "%s: HELP before any sample", families[i][0]);
    IT_CHECK (t && !strstr (t + 1, type), "%s: one TYPE line", families[i][0]);
  }
  IT_CHECK (s_sample (body, "atende_provider_breaker_opened_total{provider=\"twilio\"}") >= 1
            && s_sample (body, "atende_provider_breaker_open{provider=\"twilio\"}") == 0
            && s_sample (body, "atende_provider_calls_total{provider=\"twilio\","
                               "outcome=\"retryable\"}") >= 3
            && s_sample (body, "atende_provider_calls_total{provider=\"smtp\","
                               "outcome=\"permanent\"}") >= 1,
            "provider counts: %s", body);
  free (body);
}

static pid_t
s_spawn (const char *name, const char *const *args, int http_port, int smtp_port)
{
  char e[12][640];
  snprintf (e[0], sizeof e[0], "ATENDE_DATABASE_URL=%s", s_db);
  snprintf (e[1], sizeof e[1], "ATENDE_BROKER_BIND=%s", s_endpoint);
  snprintf (e[2], sizeof e[2], "ATENDE_BROKER_ENDPOINTS=%s", s_endpoint);
  snprintf (e[3], sizeof e[3], "ATENDE_WEBHOOK_URL=http://127.0.0.1:%d/hooks", http_port);
  snprintf (e[4], sizeof e[4], "ATENDE_WEBHOOK2_URL=http://127.0.0.1:%d/sms2", http_port);
  snprintf (e[5], sizeof e[5], "ATENDE_WHATSAPP_API_URL=http://127.0.0.1:%d/graph", http_port);
  snprintf (e[6], sizeof e[6], "ATENDE_TWILIO_API_URL=http://127.0.0.1:%d/twilio", http_port);
  snprintf (e[7], sizeof e[7], "ATENDE_SMTP_URL=smtp://127.0.0.1:%d", smtp_port);
  snprintf (e[8], sizeof e[8], "ATENDE_STORE_TIMEZONE=%s", s_zone_day);
  snprintf (e[9], sizeof e[9], "ATENDE_WORKER_METRICS_PORT=%d", s_metrics_port);
  const char *env[] = {
    e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7], e[8], e[9],
    "ATENDE_BROKER_METRICS_PORT=0", "ATENDE_WEBHOOK_SECRET=" S_SECRET,
    "ATENDE_PROVIDER_ROUTES=whatsapp=whatsapp,sms=twilio+webhook2,email=smtp,*=webhook",
    "ATENDE_WHATSAPP_PHONE_NUMBER_ID=1234567890", "ATENDE_WHATSAPP_TOKEN=EAAtoken",
    "ATENDE_WHATSAPP_TEMPLATES=order_status=order_update",
    "ATENDE_TWILIO_ACCOUNT_SID=AC123", "ATENDE_TWILIO_AUTH_TOKEN=twtoken",
    "ATENDE_TWILIO_FROM=+15005550006", "ATENDE_SMTP_TLS=none",
    "ATENDE_SMTP_FROM=loja@example.com", "ATENDE_CHANNEL_FALLBACK=whatsapp,sms,email",
    "ATENDE_QUIET_HOURS=22-6", "ATENDE_NOTIFY_CAP_COUNT=2", "ATENDE_NOTIFY_CAP_WINDOW_MIN=60",
    "ATENDE_PROVIDER_TIMEOUT_MS=500", "ATENDE_WEBHOOK_TIMEOUT_MS=500",
    "ATENDE_BREAKER_FAILURES=3", "ATENDE_BREAKER_COOLDOWN_MS=1000",
    "ATENDE_HEARTBEAT_MS=200", "ATENDE_RETRY_BASE_MS=50", "ATENDE_RETRY_MAX_MS=2000",
    "ATENDE_BROKER_SWEEP_MS=50", "ATENDE_LOG_LEVEL=debug", NULL};
  return it_spawn_atende (name, args, env);
}

/* A provider that reuses a message id: the second delivery is recorded
 * without it (its unique index would refuse the whole batch's record, and
 * the batch would be sent again, and again). */
static void
s_case_reused_message_id (void)
{
  char first[AT_ID_LEN], second[AT_ID_LEN];
  fake_http_fixed_message_id (s_http, "wamid.reused");
  s_customer (131, s_zone_day, NULL, "whatsapp=5511900000131");
  s_customer_wrote (131, "whatsapp", 10);
  s_customer (132, s_zone_day, NULL, "whatsapp=5511900000132");
  s_customer_wrote (132, "whatsapp", 10);
  s_notify (131, "order_status", "whatsapp", "5511900000131", "Seu pedido saiu", first);
  s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND status = 'delivered'"
               " AND provider_message_id = 'wamid.reused'", first);
  s_notify (132, "order_status", "whatsapp", "5511900000132", "Seu pedido saiu", second);
  s_expect (1, "SELECT count(*) FROM notification WHERE id = '%s' AND status = 'delivered'"
               " AND provider_message_id IS NULL AND attempts = 1", second);
  fake_http_fixed_message_id (s_http, NULL);
  fake_request_t r;
  IT_CHECK (s_request_for (first, 0, &r) && !s_request_for (first, 1, &r), "first sent once");
  IT_CHECK (s_request_for (second, 0, &r) && !s_request_for (second, 1, &r), "second sent once");
}

int
main (void)
{
  it_require_pg ();
  at_strlcpy (s_db, it_db_create ("notify_channels", true), sizeof s_db);
  snprintf (s_endpoint, sizeof s_endpoint, "tcp://127.0.0.1:%d", it_free_port ());
  int http_port = it_free_port (), smtp_port = it_free_port ();
  s_metrics_port = it_free_port ();
  s_http = fake_http_start (http_port);
  s_smtp = fake_smtp_start (smtp_port);
  IT_CHECK (s_http && s_smtp, "fakes");
  s_zone_at (12, s_zone_day, sizeof s_zone_day);
  s_zone_at (2, s_zone_night, sizeof s_zone_night);
  s_conn = it_db_connect (s_db);

  const char *broker_args[] = {"broker", NULL};
  const char *worker_args[] = {"worker", "notify", NULL};
  pid_t broker = s_spawn ("broker", broker_args, http_port, smtp_port);
  pid_t worker = s_spawn ("worker_notify", worker_args, http_port, smtp_port);
  setenv ("ATENDE_BROKER_ENDPOINTS", s_endpoint, 1);
  setenv ("ATENDE_PUBLISH_TIMEOUT_MS", "2000", 1);
  at_config_t *cfg = at_config_from_env ();
  s_pub = cfg ? at_publisher_new (cfg) : NULL;
  IT_CHECK (s_pub != NULL, "publisher");

  s_case_whatsapp_window ();
  s_case_fallback ();
  s_case_retry_after ();
  s_case_hang ();
  s_case_failover_and_breaker ();
  s_case_dead_letter ();
  s_case_quiet_hours ();
  s_case_frequency_cap ();
  s_case_status_reports ();
  s_case_metrics ();
  s_case_reused_message_id ();

  it_stop (worker, SIGTERM, 10000);
  it_stop (broker, SIGTERM, 10000);
  at_publisher_destroy (&s_pub);
  at_config_destroy (&cfg);
  PQfinish (s_conn);
  fake_smtp_stop (&s_smtp);
  fake_http_stop (&s_http);
  printf ("test_notify_channels: ok\n");
  return 0;
}
