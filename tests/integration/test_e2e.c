/* The whole flow, end to end, on a fresh database with the real processes
 * (broker, the four workers, api) and the providers' stand-in (the demo's
 * receiver) in this process: inbound messages on four channels, an order
 * status question answered automatically from the customer's order, an
 * agent reply, a resolve, the CSAT request delivered with a link and
 * answered once (202) and not twice (409). Asserts rows, deliveries,
 * signatures and the KPIs a user would see. */
#define _GNU_SOURCE
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include "it.h"
#include "demo_receiver.h"
#include "at_common.h"
#include "at_channel.h"
#include "at_crypto.h"

#define WAIT_MS 60000
#define ORDER_PHONE "+5511987654321"
#define ORDER_ID "E2E-1001"

static char s_api[64];
static demo_receiver_t *s_receiver;
static PGconn *s_db;

static long
s_post (const char *path, const char *body, char **resp)
{
  char url[256];
  snprintf (url, sizeof url, "%s%s", s_api, path);
  return it_http ("POST", url, "application/json", body, resp);
}

static bool
s_ready (void *arg)
{
  char url[128];
  snprintf (url, sizeof url, "%s/readyz", s_api);
  return it_http ("GET", url, NULL, NULL, NULL) == 200;
}

typedef struct {
  const char *kind;
  long long ticket_id;
  demo_delivery_t got;
} s_find_t;

static bool
s_delivered (void *arg)
{
  s_find_t *f = arg;
  return demo_receiver_find (s_receiver, f->kind, f->ticket_id, &f->got) == AT_OK;
}

static demo_delivery_t
s_wait_delivery (const char *kind, long long ticket_id)
{
  s_find_t f;
  memset (&f, 0, sizeof f);
  f.kind = kind;
  f.ticket_id = ticket_id;
  IT_CHECK (it_wait_until (s_delivered, &f, WAIT_MS), "no %s delivery for ticket %lld", kind,
            ticket_id);
  return f.got;
}

#define s_q(...) it_db_scalarf (s_db, __VA_ARGS__)

static pid_t s_pids[6];

static void
s_start (const char *conninfo, const char *secret)
{
  static char env[10][1200];
  int broker = it_free_port (), api = it_free_port ();
  snprintf (s_api, sizeof s_api, "http://127.0.0.1:%d", api);
  snprintf (env[0], sizeof env[0], "ATENDE_DATABASE_URL=%s", conninfo);
  snprintf (env[1], sizeof env[1], "ATENDE_BROKER_BIND=tcp://127.0.0.1:%d", broker);
  snprintf (env[2], sizeof env[2], "ATENDE_BROKER_ENDPOINTS=tcp://127.0.0.1:%d", broker);
  snprintf (env[3], sizeof env[3], "ATENDE_BROKER_METRICS_PORT=0");
  snprintf (env[4], sizeof env[4], "ATENDE_API_ADDRESS=127.0.0.1");
  snprintf (env[5], sizeof env[5], "ATENDE_API_PORT=%d", api);
  snprintf (env[6], sizeof env[6], "ATENDE_WEBHOOK_URL=%s", demo_receiver_url (s_receiver));
  snprintf (env[7], sizeof env[7], "ATENDE_WEBHOOK_SECRET=%s", secret);
  snprintf (env[8], sizeof env[8], "ATENDE_SURVEY_SECRET=e2e-survey-key-0123456789abcdef");
  snprintf (env[9], sizeof env[9], "ATENDE_SURVEY_URL_BASE=%s/v1/surveys/", s_api);
  const char *envp[] = { env[0], env[1], env[2], env[3], env[4], env[5], env[6], env[7], env[8],
                         env[9], "ATENDE_LOG_LEVEL=debug", "ATENDE_RETRY_BASE_MS=100", NULL };
  static const char *args[6][3] = { { "broker" }, { "worker", "ingest" }, { "worker", "route" },
                                    { "worker", "notify" }, { "worker", "survey" }, { "api" } };
  static const char *names[6] = { "broker", "ingest", "route", "notify", "survey", "api" };
  for (int i = 0; i < 6; i++)
    s_pids[i] = it_spawn_atende (names[i], args[i], envp);
  IT_CHECK (it_wait_until (s_ready, NULL, WAIT_MS), "api not ready (see api.log)");
}

/* Posts a message and checks the 202 answer carries an id. */
static void
s_message (const char *channel, const char *handle, const char *name, const char *text,
           const char *provider_id)
{
  json_t *doc = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "channel", channel, "handle", handle,
                           "name", name, "text", text, "provider_message_id", provider_id);
  char *body = json_dumps (doc, JSON_COMPACT), *resp = NULL;
  long st = s_post ("/v1/messages", body, &resp);
  IT_CHECK (st == 202, "POST /v1/messages %s: %ld %s", channel, st, resp ? resp : "");
  json_t *ans = json_loads (resp, 0, NULL);
  IT_CHECK (json_string_value (json_object_get (ans, "id")) != NULL, "no id in %s", resp);
  json_decref (ans);
  json_decref (doc);
  free (body);
  free (resp);
}

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" of now + days, UTC. */
static void
s_date (int days, bool with_time, char *out, size_t cap)
{
  time_t t = time (NULL) + (time_t) days * 86400;
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (out, cap, with_time ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d", &tm);
}

/* Placed two days ago, shipped yesterday, expected in a week: dates relative
 * to today, so that the order is not already late (a fixed expected date
 * turns into a delay as soon as the calendar passes it, and the status is
 * "shipped" only for the moment before the delay check). */
static void
s_order_events (void)
{
  char placed_at[32], shipped_at[32], expected[16], ev[2][512];
  s_date (-2, true, placed_at, sizeof placed_at);
  s_date (-1, true, shipped_at, sizeof shipped_at);
  s_date (7, false, expected, sizeof expected);
  snprintf (ev[0], sizeof ev[0],
            "{\"status\":\"placed\",\"event_id\":\"e1\",\"occurred_at\":\"%s\","
            "\"customer\":{\"channel\":\"whatsapp\",\"handle\":\"" ORDER_PHONE "\","
            "\"name\":\"Mariana Costa\"}}", placed_at);
  snprintf (ev[1], sizeof ev[1],
            "{\"status\":\"shipped\",\"event_id\":\"e2\",\"occurred_at\":\"%s\","
            "\"expected_delivery\":\"%s\",\"tracking_url\":\"https://rastreio.exemplo.com.br/BR123\","
            "\"customer\":{\"channel\":\"whatsapp\",\"handle\":\"" ORDER_PHONE "\","
            "\"name\":\"Mariana Costa\"}}", shipped_at, expected);
  for (size_t i = 0; i < 2; i++) {
    long st = s_post ("/v1/orders/" ORDER_ID "/events", ev[i], NULL);
    IT_CHECK (st == 202, "order event %zu: %ld", i, st);
  }
  IT_CHECK (it_wait_scalar (s_db, "SELECT count(*) FROM orders WHERE id = '" ORDER_ID
                                  "' AND status = 'shipped'", 1, WAIT_MS) == 1,
            "order not shipped");
}

static long long
s_ticket_of (const char *kind, const char *value)
{
  return s_q ("SELECT t.id FROM ticket t JOIN identity i ON i.customer_id = t.customer_id"
              " WHERE i.kind = '%s' AND i.value = '%s' ORDER BY t.id LIMIT 1", kind, value);
}

static void
s_check_kpis (void)
{
  char url[128], *resp = NULL;
  snprintf (url, sizeof url, "%s/v1/kpis", s_api);
  long st = it_http ("GET", url, NULL, NULL, &resp);
  IT_CHECK (st == 200, "GET /v1/kpis: %ld", st);
  json_t *k = json_loads (resp, 0, NULL);
  IT_CHECK (k != NULL, "kpis not JSON: %s", resp);
  json_t *csat = json_object_get (k, "csat");
  IT_CHECK (json_integer_value (json_object_get (csat, "responses")) == 1, "csat responses: %s", resp);
  IT_CHECK (json_number_value (json_object_get (csat, "average")) == 5.0, "csat average: %s", resp);
  json_t *frt = json_object_get (k, "first_response_seconds");
  IT_CHECK (json_integer_value (json_object_get (frt, "count")) >= 2, "first response count: %s", resp);
  json_decref (k);
  free (resp);
}

/* Four customers write on four channels; one message is a redelivery of
 * the same provider id. wa_id gets the WhatsApp customer's identity. */
static void
s_phase_inbound (char *wa_id)
{
  s_message ("whatsapp", ORDER_PHONE, "Mariana Costa", "Oi, cadê meu pedido " ORDER_ID "?", "wa-1");
  s_message ("email", "Carlos.Souza@Example.com", "Carlos Souza",
             "Quero devolver o tênis que comprei, ficou pequeno. Como faço a troca?", "em-1");
  s_message ("sms", "21998765432", "Ana Lima", "Vocês têm a geladeira inox de 400 litros?", "sms-1");
  s_message ("chat", "chat-e2e-1", "John Smith", "Hi, does the blender come with a warranty?", "chat-1");
  s_message ("email", "carlos.souza@example.com", "Carlos Souza",
             "Quero devolver o tênis que comprei, ficou pequeno. Como faço a troca?", "em-1");
  IT_CHECK (it_wait_scalar (s_db, "SELECT count(*) FROM ticket_message WHERE direction = 'in'", 4,
                            WAIT_MS) == 4, "4 inbound ticket messages");
  IT_CHECK (s_q ("SELECT count(*) FROM customer") == 4, "4 customers (order + whatsapp are one)");
  IT_CHECK (at_channel_normalize_handle ("whatsapp", ORDER_PHONE, wa_id, AT_HANDLE_MAX) == AT_OK, "wa");
  IT_CHECK (s_q ("SELECT count(*) FROM identity WHERE (kind, value) IN (('whatsapp','%s'),"
                 " ('email','carlos.souza@example.com'), ('phone','+5521998765432'),"
                 " ('chat','chat-e2e-1'))", wa_id) == 4, "identities normalised");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket") == 4, "4 tickets");
}

/* The order-status question is answered automatically, and delivered. */
static void
s_phase_auto_answer (const char *wa_id)
{

  long long wa = s_ticket_of ("whatsapp", wa_id);
  IT_CHECK (it_wait_scalar (s_db, "SELECT count(*) FROM ticket WHERE auto_answered", 1, WAIT_MS) == 1,
            "auto answer");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message WHERE ticket_id = %lld AND direction = 'out'"
                 " AND author = 'bot'", wa) == 1, "bot message row");
  demo_delivery_t d = s_wait_delivery ("auto_reply", wa);
  IT_CHECK (strstr (d.text, ORDER_ID) != NULL, "auto reply names the order: %s", d.text);
  IT_CHECK (strcmp (d.channel, "whatsapp") == 0 && strcmp (d.to, wa_id) == 0,
            "auto reply to %s %s", d.channel, d.to);
}

/* An agent answers the return request and resolves it. */
static long long
s_phase_agent (void)
{
  long long em = s_ticket_of ("email", "carlos.souza@example.com");
  char path[128];
  snprintf (path, sizeof path, "/v1/tickets/%lld/replies", em);
  IT_CHECK (s_post (path, "{\"agent\":\"carla\",\"text\":\"Olá Carlos! A coleta é gratuita.\"}",
                    NULL) == 202, "reply");
  demo_delivery_t d = s_wait_delivery ("reply", em);
  IT_CHECK (strstr (d.text, "coleta") != NULL && strcmp (d.to, "carlos.souza@example.com") == 0,
            "reply delivered: %s to %s", d.text, d.to);
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND first_response_at IS NOT NULL", em)
            == 1, "first response recorded");
  /* recorded under the caller's key, not the name the body gave */
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message WHERE ticket_id = %lld AND author = 'agent'"
                 " AND agent LIKE 'key:%%'", em) == 1, "the reply is the caller's, not 'carla'");
  snprintf (path, sizeof path, "/v1/tickets/%lld/resolve", em);
  IT_CHECK (s_post (path, "{\"agent\":\"carla\"}", NULL) == 202, "resolve");
  return em;
}

/* The CSAT request arrives with a link; answered once, refused twice. */
static void
s_phase_survey (long long em)
{

  demo_delivery_t d = s_wait_delivery ("survey", em);
  char link[DEMO_RECEIVER_LINK_MAX];
  int64_t link_ticket = 0;
  IT_CHECK (demo_receiver_take_survey (s_receiver, link, sizeof link, &link_ticket) == AT_OK,
            "survey link in %s", d.text);
  IT_CHECK (strncmp (link, s_api, strlen (s_api)) == 0, "link %s", link);
  IT_CHECK (it_http ("POST", link, "application/json", "{\"score\":5,\"comment\":\"Ótimo\"}", NULL)
            == 202, "survey answer");
  IT_CHECK (it_wait_scalar (s_db, "SELECT count(*) FROM survey_answer WHERE score = 5", 1, WAIT_MS)
            == 1, "survey answer row");
  long st = it_http ("POST", link, "application/json", "{\"score\":1}", NULL);
  IT_CHECK (st == 409, "second answer: %ld", st);
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND status = 'resolved'", em) == 1,
            "resolved");

}

/* Every notification delivered, every request signed, the KPIs show it. */
static void
s_phase_delivered (void)
{
  IT_CHECK (it_wait_scalar (s_db, "SELECT count(*) FROM notification WHERE status = 'delivered'", 5,
                            WAIT_MS) >= 5, "notifications delivered");
  IT_CHECK (s_q ("SELECT count(*) FROM notification WHERE status <> 'delivered'") == 0,
            "no undelivered notification");
  IT_CHECK (demo_receiver_bad_signatures (s_receiver) == 0, "bad signatures");
  IT_CHECK (demo_receiver_malformed (s_receiver) == 0, "malformed webhooks");
  IT_CHECK (demo_receiver_count (s_receiver, NULL) >= 5, "deliveries");
  s_check_kpis ();
}

int
main (void)
{
  it_require_pg ();
  const char *conninfo = it_db_create ("e2e", true);
  s_db = it_db_connect (conninfo);
  uint8_t key[32];
  char b64[64], secret[80];
  IT_CHECK (at_random_bytes (key, sizeof key) == AT_OK, "random");
  at_base64_encode (key, sizeof key, b64, sizeof b64);
  snprintf (secret, sizeof secret, "whsec_%s", b64);
  s_receiver = demo_receiver_new (secret, 0);
  IT_CHECK (s_receiver != NULL, "receiver");
  s_start (conninfo, secret);

  /* the store knows the customer's order before she asks */
  s_order_events ();
  s_wait_delivery ("order_status", 0);
  char wa_id[AT_HANDLE_MAX];
  s_phase_inbound (wa_id);
  s_phase_auto_answer (wa_id);
  long long em = s_phase_agent ();
  s_phase_survey (em);
  s_phase_delivered ();

  for (int i = 5; i >= 0; i--) {
    int status = it_stop (s_pids[i], SIGTERM, 15000);
    IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "child %d exit status %d", i, status);
  }
  demo_receiver_destroy (&s_receiver);
  PQfinish (s_db);
  printf ("e2e: ok\n");
  return 0;
}
