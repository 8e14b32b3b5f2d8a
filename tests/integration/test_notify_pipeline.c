/* notify and survey end to end: a broker and a `worker notify,survey`
 * process, order events and ticket resolutions published on the bus, a
 * loopback HTTP server playing the provider (verifying every signature).
 * Asserts what the store holds and what the provider received. */
#include <time.h>
#include <microhttpd.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include "it.h"
#include "at_publisher.h"
#include "at_crypto.h"
#include "domain.pb-c.h"

#define S_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define S_SURVEY_SECRET "survey-test-secret"
#define S_REFUSED_TO "5511900000400"     /* the provider answers 400 for this one */
#define S_FLAKY_TO "5511900000503"      /* answers 503 the first time, then 200 */
#define S_MAX 64
#define S_BODY_MAX 4096
#define WAIT_MS 30000

typedef struct { char to[64], text[1024], kind[16], id[40]; bool verified; } s_seen_t;
typedef struct { char body[S_BODY_MAX]; size_t len; } s_upload_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static s_seen_t s_seen[S_MAX];
static int s_nseen;
static int s_flaky_calls;
static char s_db[600], s_endpoint[96], s_hook_url[128];

static enum MHD_Result
s_handler (void *cls, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *data, size_t *size, void **con_cls)
{
  s_upload_t *up = *con_cls;
  if (!up) {
    *con_cls = calloc (1, sizeof *up);
    return MHD_YES;
  }
  if (*size > 0) {
    size_t take = up->len + *size < S_BODY_MAX ? *size : 0;
    memcpy (up->body + up->len, data, take);
    up->len += take;
    *size = 0;
    return MHD_YES;
  }
  const char *id = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "webhook-id");
  const char *ts = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "webhook-timestamp");
  const char *sig = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "webhook-signature");
  bool ok = id && ts && sig
            && at_webhook_verify (S_SECRET, id, ts, up->body, up->len, sig, 300) == AT_OK;
  json_t *o = json_loadb (up->body, up->len, 0, NULL);
  const char *to = json_string_value (json_object_get (o, "to"));
  unsigned status = !ok ? 401 : to && strcmp (to, S_REFUSED_TO) == 0 ? 400 : 200;
  pthread_mutex_lock (&s_lock);
  if (to && strcmp (to, S_FLAKY_TO) == 0 && s_flaky_calls++ == 0)
    status = 503;
  if (s_nseen < S_MAX) {
    s_seen_t *s = &s_seen[s_nseen++];
    snprintf (s->to, sizeof s->to, "%s", to ? to : "");
    snprintf (s->text, sizeof s->text, "%s", json_string_value (json_object_get (o, "text")));
    snprintf (s->kind, sizeof s->kind, "%s", json_string_value (json_object_get (o, "kind")));
    snprintf (s->id, sizeof s->id, "%s", id ? id : "");
    s->verified = ok;
  }
  pthread_mutex_unlock (&s_lock);
  json_decref (o);
  struct MHD_Response *r = MHD_create_response_from_buffer (2, (void *) "{}",
                                                            MHD_RESPMEM_PERSISTENT);
  enum MHD_Result ret = MHD_queue_response (c, status, r);
  MHD_destroy_response (r);
  return ret;
}

static void
s_completed (void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
  free (*con_cls);
  *con_cls = NULL;
}

static struct MHD_Daemon *
s_provider_start (void)
{
  int port = it_free_port ();
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
  inet_pton (AF_INET, "127.0.0.1", &addr.sin_addr);
  snprintf (s_hook_url, sizeof s_hook_url, "http://127.0.0.1:%d/hooks", port);
  return MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t) port, NULL, NULL,
                           s_handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
                           MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL, MHD_OPTION_END);
}

/* The text the provider got for `to` containing `needle`; count of such. */
static int
s_seen_count (const char *to, const char *needle)
{
  int n = 0;
  pthread_mutex_lock (&s_lock);
  for (int i = 0; i < s_nseen; i++)
    if (strcmp (s_seen[i].to, to) == 0 && strstr (s_seen[i].text, needle) && s_seen[i].verified)
      n++;
  pthread_mutex_unlock (&s_lock);
  return n;
}

/* What the provider received, for a failing check's message. */
static void
s_dump (void)
{
  pthread_mutex_lock (&s_lock);
  for (int i = 0; i < s_nseen; i++)
    fprintf (stderr, "provider got: to=%s kind=%s verified=%d text=%s\n", s_seen[i].to,
             s_seen[i].kind, (int) s_seen[i].verified, s_seen[i].text);
  pthread_mutex_unlock (&s_lock);
}

static void
s_expect_seen (const char *to, const char *needle, int want)
{
  int have = s_seen_count (to, needle);
  if (have != want)
    s_dump ();
  IT_CHECK (have == want, "provider got %d messages to %s with \"%s\", want %d", have, to,
            needle, want);
}

static pid_t
s_spawn (const char *name, const char *const *args)
{
  char env_db[640], env_bind[128], env_eps[128], env_hook[160];
  snprintf (env_db, sizeof env_db, "ATENDE_DATABASE_URL=%s", s_db);
  snprintf (env_bind, sizeof env_bind, "ATENDE_BROKER_BIND=%s", s_endpoint);
  snprintf (env_eps, sizeof env_eps, "ATENDE_BROKER_ENDPOINTS=%s", s_endpoint);
  snprintf (env_hook, sizeof env_hook, "ATENDE_WEBHOOK_URL=%s", s_hook_url);
  const char *env[] = {env_db, env_bind, env_eps, env_hook, "ATENDE_BROKER_METRICS_PORT=0",
                       "ATENDE_WEBHOOK_SECRET=" S_SECRET, "ATENDE_SURVEY_SECRET=" S_SURVEY_SECRET,
                       "ATENDE_SURVEY_URL_BASE=https://loja.example/s/", "ATENDE_HEARTBEAT_MS=200",
                       "ATENDE_MAX_ATTEMPTS=2", "ATENDE_RETRY_BASE_MS=50",
                       "ATENDE_BROKER_SWEEP_MS=100", "ATENDE_LOG_LEVEL=debug", NULL};
  return it_spawn_atende (name, args, env);
}

static void
s_publish (at_publisher_t *pub, const char *stage, const char *type, const char *key,
           const void *payload, size_t len)
{
  at_msg_t *m = at_msg_new (stage, type, key, NULL, payload, len);
  IT_CHECK (m != NULL, "message");
  int retry = 0, rc = AT_AGAIN;
  for (int i = 0; i < 20 && rc != AT_OK; i++)
    rc = at_publisher_send (pub, &m, 1, &retry);
  IT_CHECK (rc == AT_OK, "publish %s: %d", type, rc);
  at_msg_destroy (&m);
}

static void
s_order_event (at_publisher_t *pub, const char *order, const char *status, const char *event,
               long long at_s, const char *handle, const char *expected)
{
  Atende__OrderEvent ev = ATENDE__ORDER_EVENT__INIT;
  uint8_t buf[1024];
  char key[160];
  ev.order_id = (char *) order;
  ev.status = (char *) status;
  ev.event_id = (char *) event;
  ev.occurred_us = at_s * 1000000LL;
  ev.customer_channel = "whatsapp";
  ev.customer_handle = (char *) handle;
  ev.customer_name = "Ana Souza";
  ev.expected_delivery = (char *) expected;
  ev.tracking_url = "https://rastreio.example/A1";
  size_t len = atende__order_event__pack (&ev, buf);
  snprintf (key, sizeof key, "order:%s", order);
  s_publish (pub, AT_STAGE_NOTIFY, AT_TYPE_ORDER_EVENT, key, buf, len);
}

static void
s_expect (PGconn *conn, const char *sql, long long want)
{
  /* until equal (it_wait_scalar waits only for a count to grow) */
  long long have = it_db_scalar (conn, sql);
  for (int64_t until = at_mono_ms () + WAIT_MS; have != want && at_mono_ms () < until;) {
    usleep (20 * 1000);
    have = it_db_scalar (conn, sql);
  }
  IT_CHECK (have == want, "%s: want %lld, have %lld", sql, want, have);
}

/* An expected delivery 60 days from now, as sent (YYYY-MM-DD) and as the
 * English template writes it ("January 15, 2027"): a fixed date would pass
 * one day and the order would turn late in the middle of the test. */
static void
s_expected_date (char iso[16], char *en, size_t en_cap)
{
  time_t t = time (NULL) + 60 * 86400;
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (iso, 16, "%Y-%m-%d", &tm);
  char month[16];
  strftime (month, sizeof month, "%B", &tm);   /* the C locale's English names */
  snprintf (en, en_cap, "%s %d, %d", month, tm.tm_mday, tm.tm_year + 1900);
}

static void
s_orders (PGconn *conn, at_publisher_t *pub)
{
  const char *ana = "+55 (11) 99999-0000", *ana_e164 = "5511999990000";
  char expected[16], expected_en[40], seen[256], sql[256];
  s_expected_date (expected, expected_en, sizeof expected_en);
  s_order_event (pub, "A-1", "placed", "e1", 1800000000, ana, "");
  s_expect (conn, "SELECT count(*) FROM notification WHERE status = 'delivered'", 1);
  s_expect_seen (ana_e164, "Olá, Ana! Recebemos o seu pedido A-1.", 1);

  PQclear (PQexec (conn, "UPDATE customer SET locale = 'en'"));
  s_order_event (pub, "A-1", "shipped", "e2", 1800000100, ana, expected);
  s_expect (conn, "SELECT count(*) FROM notification WHERE status = 'delivered'", 2);
  snprintf (seen, sizeof seen, "Hi Ana! Order A-1 has shipped. Expected delivery: "
                               "%s. Track it: https://rastreio.example/A1", expected_en);
  s_expect_seen (ana_e164, seen, 1);

  s_order_event (pub, "A-1", "shipped", "e2", 1800000100, ana, expected);   /* duplicate */
  s_order_event (pub, "A-1", "packed", "e3", 1800000050, ana, "");              /* late */
  s_order_event (pub, "A-1", "delivered", "e4", 1800000200, ana, "");
  s_expect (conn, "SELECT count(*) FROM notification WHERE status = 'delivered'", 3);
  s_order_event (pub, "A-1", "shipped", "e5", 1800000300, ana, "");   /* after delivered */
  s_order_event (pub, "A-1", "lost_in_space", "e6", 1800000400, ana, "");
  s_expect (conn, "SELECT count(*) FROM bus_dead WHERE type = 'order.event'"
                  " AND reason LIKE '%status%'", 1);
  s_expect (conn, "SELECT count(*) FROM order_event WHERE order_id = 'A-1'", 5);
  s_expect (conn, "SELECT count(*) FROM bus_message WHERE stage = 'notify'"
                  " AND type NOT IN ('order.check_delay', 'survey.nps',"
                  " 'survey.remind')", 0);
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM order_event WHERE applied") == 3,
            "placed, shipped, delivered applied; late packed and shipped-after-delivered not");
  snprintf (sql, sizeof sql, "SELECT count(*) FROM orders WHERE id = 'A-1' AND status ="
                             " 'delivered' AND expected_delivery = '%s'", expected);
  IT_CHECK (it_db_scalar (conn, sql) == 1, "order A-1 delivered");
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM notification WHERE order_id = 'A-1'")
              == 3, "one message per applied customer-facing status, none twice");
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM notification WHERE http_status = 200"
                                " AND attempts = 1 AND delivered_at IS NOT NULL") == 3,
            "delivery recorded");

  /* the provider refuses this recipient for good: failed, dead-lettered */
  s_order_event (pub, "B-1", "placed", "b1", 1800000000, S_REFUSED_TO, "");
  s_expect (conn, "SELECT count(*) FROM notification WHERE order_id = 'B-1' AND status ="
                  " 'failed' AND http_status = 400 AND last_error LIKE '%HTTP 400%'", 1);
  s_expect (conn, "SELECT count(*) FROM bus_dead WHERE type = 'notification.send'", 1);

  /* a 503 is retried with the same webhook-id, then delivered */
  s_order_event (pub, "C-1", "placed", "c1", 1800000000, S_FLAKY_TO, "");
  s_expect (conn, "SELECT count(*) FROM notification WHERE order_id = 'C-1' AND status ="
                  " 'delivered' AND attempts = 2 AND http_status = 200", 1);
  pthread_mutex_lock (&s_lock);
  int flaky = 0;
  const char *key = NULL;
  for (int i = 0; i < s_nseen; i++) {
    if (strcmp (s_seen[i].to, S_FLAKY_TO) != 0)
      continue;
    flaky += !key || strcmp (key, s_seen[i].id) == 0;
    key = s_seen[i].id;
  }
  pthread_mutex_unlock (&s_lock);
  IT_CHECK (flaky == 2 && s_flaky_calls == 2, "two calls with one idempotency key (%d, %d)",
            flaky, s_flaky_calls);
}

static void
s_surveys (PGconn *conn, at_publisher_t *pub)
{
  PQclear (PQexec (conn, "INSERT INTO customer (id, name, locale) VALUES (900, 'Bruno', 'es');"
                         "INSERT INTO identity (customer_id, kind, value) VALUES"
                         " (900, 'email', 'bruno@example.com');"
                         "INSERT INTO ticket (id, customer_id, channel, status) VALUES"
                         " (7001, 900, 'email', 'resolved')"));
  Atende__TicketResolved tr = ATENDE__TICKET_RESOLVED__INIT;
  uint8_t buf[256];
  tr.ticket_id = 7001;
  tr.customer_id = 900;
  tr.channel = "email";
  size_t len = atende__ticket_resolved__pack (&tr, buf);
  s_publish (pub, AT_STAGE_SURVEY, AT_TYPE_TICKET_RESOLVED, "ticket:7001", buf, len);
  s_publish (pub, AT_STAGE_SURVEY, AT_TYPE_TICKET_RESOLVED, "ticket:7001", buf, len);
  s_expect (conn, "SELECT count(*) FROM notification WHERE kind = 'survey' AND status ="
                  " 'delivered' AND recipient = 'bruno@example.com'", 1);
  s_expect (conn, "SELECT count(*) FROM bus_message WHERE stage IN ('survey', 'notify')"
                  " AND type NOT IN ('order.check_delay', 'survey.nps',"
                  " 'survey.remind')", 0);
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM survey WHERE ticket_id = 7001") == 1,
            "one survey per ticket");
  s_expect_seen ("bruno@example.com", "¿Cómo fue nuestra atención? Responde de 1 a 5:"
                                      " https://loja.example/s/", 1);
  char *survey_id = it_db_text (conn, "SELECT id::text FROM survey WHERE ticket_id = 7001");
  IT_CHECK (survey_id != NULL, "survey id");
  pthread_mutex_lock (&s_lock);
  const char *link = NULL;
  for (int i = 0; i < s_nseen; i++)
    if (strcmp (s_seen[i].kind, "survey") == 0)
      link = strstr (s_seen[i].text, "/s/");
  char payload[64] = "";
  IT_CHECK (link && at_token_verify (S_SURVEY_SECRET, link + 3, payload, sizeof payload) == AT_OK,
            "the link's token is signed");
  pthread_mutex_unlock (&s_lock);
  IT_CHECK (strcmp (payload, survey_id) == 0, "token names survey %s, not %s", survey_id, payload);

  Atende__SurveyAnswer a = ATENDE__SURVEY_ANSWER__INIT;
  a.survey_id = survey_id;
  a.score = 9;                                         /* outside csat's 1..5 */
  len = atende__survey_answer__pack (&a, buf);
  s_publish (pub, AT_STAGE_SURVEY, AT_TYPE_SURVEY_ANSWER, "survey:x", buf, len);
  a.score = 4;
  a.comment = "rápido";
  len = atende__survey_answer__pack (&a, buf);
  s_publish (pub, AT_STAGE_SURVEY, AT_TYPE_SURVEY_ANSWER, "survey:x", buf, len);
  s_publish (pub, AT_STAGE_SURVEY, AT_TYPE_SURVEY_ANSWER, "survey:x", buf, len);
  a.survey_id = "01890000-0000-7000-8000-000000000000";
  len = atende__survey_answer__pack (&a, buf);
  s_publish (pub, AT_STAGE_SURVEY, AT_TYPE_SURVEY_ANSWER, "survey:y", buf, len);
  s_expect (conn, "SELECT count(*) FROM bus_dead WHERE type = 'survey.answer'", 2);
  s_expect (conn, "SELECT count(*) FROM bus_message WHERE stage = 'survey'"
                  " AND type NOT IN ('survey.nps', 'survey.remind')", 0);
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM survey_answer WHERE score = 4 AND"
                                " comment = 'rápido'") == 1, "answer recorded once");
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM survey_answer") == 1, "and only it");
  free (survey_id);
}

int
main (void)
{
  it_require_pg ();
  at_strlcpy (s_db, it_db_create ("notify_pipeline", true), sizeof s_db);
  snprintf (s_endpoint, sizeof s_endpoint, "tcp://127.0.0.1:%d", it_free_port ());
  struct MHD_Daemon *provider = s_provider_start ();
  IT_CHECK (provider != NULL, "provider");
  PGconn *conn = it_db_connect (s_db);

  const char *broker_args[] = {"broker", NULL};
  const char *worker_args[] = {"worker", "notify,survey", NULL};
  pid_t broker = s_spawn ("broker", broker_args);
  pid_t worker = s_spawn ("worker_notify_survey", worker_args);

  setenv ("ATENDE_BROKER_ENDPOINTS", s_endpoint, 1);
  setenv ("ATENDE_PUBLISH_TIMEOUT_MS", "2000", 1);
  at_config_t *cfg = at_config_from_env ();
  at_publisher_t *pub = cfg ? at_publisher_new (cfg) : NULL;
  IT_CHECK (pub != NULL, "publisher");

  s_orders (conn, pub);
  s_surveys (conn, pub);

  it_stop (worker, SIGTERM, 10000);
  it_stop (broker, SIGTERM, 10000);
  at_publisher_destroy (&pub);
  at_config_destroy (&cfg);
  PQfinish (conn);
  MHD_stop_daemon (provider);
  printf ("test_notify_pipeline: ok\n");
  return 0;
}
