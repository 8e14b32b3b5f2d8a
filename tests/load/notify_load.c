/* notify_load: notifications delivered per second to a local fake provider,
 * and the time from an order event to the provider's request.
 *
 *   notify_load --database-url URL [--orders N] [--workers K] [--rate R]
 *               [--concurrency C] [--batch B] [--direct 1]
 *
 * Migrates the database, starts a broker and K notify worker processes
 * (logs in ./notify-load-*.log) delivering through the WhatsApp Cloud API
 * provider to a fake on 127.0.0.1 (tests/fakes/fake_http.c), publishes N
 * OrderEvents ("placed", one new customer each) onto the bus, R per second
 * (0: all at once), and waits until the fake has received one message per
 * order. With --direct 1 the notifications are written first and only their
 * notification.send messages are published (agents' replies take that path;
 * it leaves out the order state machine). Prints deliveries per second (first publish to last request) and
 * p50/p90/p99 of order event published -> provider request received.
 * Every run uses fresh order ids, so runs may share a database. A figure,
 * never a test. */
#define _GNU_SOURCE
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "at_publisher.h"
#include "at_config.h"
#include "at_store_notification.h"
#include "at_proc.h"
#include "domain.pb-c.h"
#include "../fakes/fakes.h"
#include "../fakes/fake_http.c"

#define S_PHONE_ROOT 550000000000000LL   /* 55 + 4-digit run tag + 9-digit order */

static long long s_phone_base;            /* this run's */

typedef struct {
  const char *db_url;
  long orders, workers, rate, concurrency, batch, direct;
} s_opts_t;

typedef struct {
  int64_t *published_us;        /* per order */
  int64_t *received_us;         /* per order: first request */
  long n, received;
} s_timing_t;


/* The fake's hook: "to":"55118000xxxxx" names the order. */
static void
s_on_request (const char *path, const char *body, size_t len, void *arg)
{
  s_timing_t *t = arg;
  const char *to = memmem (body, len, "\"to\":\"", 6);
  if (!to)
    return;
  long long phone = strtoll (to + 6, NULL, 10) - s_phone_base;
  if (phone >= 0 && phone < t->n && t->received_us[phone] == 0) {
    t->received_us[phone] = at_now_us ();
    __atomic_add_fetch (&t->received, 1, __ATOMIC_RELEASE);
  }
}

static int
s_parse (int argc, char **argv, s_opts_t *o)
{
  *o = (s_opts_t) {NULL, 5000, 1, 0, 32, 64, 0};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp (argv[i], "--database-url") == 0) {
      o->db_url = argv[i + 1];
      continue;
    }
    long *field = strcmp (argv[i], "--orders") == 0 ? &o->orders
                  : strcmp (argv[i], "--workers") == 0 ? &o->workers
                  : strcmp (argv[i], "--rate") == 0 ? &o->rate
                  : strcmp (argv[i], "--concurrency") == 0 ? &o->concurrency
                  : strcmp (argv[i], "--batch") == 0 ? &o->batch
                  : strcmp (argv[i], "--direct") == 0 ? &o->direct : NULL;
    if (!field || at_parse_long (argv[i + 1], 0, 10000000, field) != AT_OK)
      return AT_INVALID;
  }
  return o->db_url && o->orders > 0 && o->workers >= 1 && o->workers <= 16 ? AT_OK : AT_INVALID;
}

static pid_t
s_spawn (const char *const *args, char **env, const char *log)
{
  char *argv[8];
  size_t n = 0;
  argv[n++] = (char *) ATENDE_BIN_PATH;
  for (size_t i = 0; args[i] && n < 7; i++)
    argv[n++] = (char *) args[i];
  argv[n] = NULL;
  return at_proc_spawn (argv, env, log);
}

static at_msg_t *
s_event (long run, long i)
{
  char order[64], event[64], handle[32], key[AT_KEY_LEN];
  uint8_t buf[512];
  snprintf (order, sizeof order, "L%ld-%ld", run, i);
  snprintf (event, sizeof event, "e-%ld-%ld", run, i);
  snprintf (handle, sizeof handle, "+%lld", s_phone_base + i);
  Atende__OrderEvent ev = ATENDE__ORDER_EVENT__INIT;
  ev.order_id = order;
  ev.status = "placed";
  ev.event_id = event;
  ev.occurred_us = at_now_us ();
  ev.customer_channel = "whatsapp";
  ev.customer_handle = handle;
  ev.customer_name = "Cliente Carga";
  size_t len = atende__order_event__pack (&ev, buf);
  snprintf (key, sizeof key, "order:%s", order);
  return at_msg_new (AT_STAGE_NOTIFY, AT_TYPE_ORDER_EVENT, key, NULL, buf, len);
}

/* --direct: N customers and notifications written in SQL first; ids[i] is
 * the notification of order i. */
static char **
s_direct_prepare (PGconn *db, long run, long n)
{
  char sql[1024];
  snprintf (sql, sizeof sql,
            "WITH c AS (INSERT INTO customer (name) SELECT 'L%ld-' || g FROM generate_series"
            " (0, %ld) g RETURNING id, name),"
            " i AS (INSERT INTO identity (customer_id, kind, value) SELECT id, 'whatsapp',"
            " (%lld + split_part (name, '-', 2)::bigint)::text FROM c ON CONFLICT DO NOTHING)"
            " INSERT INTO notification (id, customer_id, kind, channel, recipient, body)"
            " SELECT gen_random_uuid (), id, 'reply', 'whatsapp', (%lld + split_part (name, '-',"
            " 2)::bigint)::text, 'Resposta' FROM c RETURNING id::text, recipient",
            run, n - 1, s_phone_base, s_phone_base);
  PGresult *r = PQexec (db, sql);
  if (PQresultStatus (r) != PGRES_TUPLES_OK || PQntuples (r) != n) {
    fprintf (stderr, "direct: %s", PQerrorMessage (db));
    exit (1);
  }
  char **ids = calloc ((size_t) n, sizeof *ids);
  for (int k = 0; k < PQntuples (r); k++) {
    long long i = strtoll (PQgetvalue (r, k, 1), NULL, 10) - s_phone_base;
    if (i >= 0 && i < n)
      ids[i] = strdup (PQgetvalue (r, k, 0));
  }
  PQclear (r);
  return ids;
}

/* Publishes the n events (or notification.send with ids), rate per second
 * (0: as fast as possible). */
static void
s_publish (at_publisher_t *pub, s_timing_t *t, long run, long rate, char **ids)
{
  const long chunk = 100;
  int64_t start = at_mono_us ();
  for (long i = 0; i < t->n; i += chunk) {
    long k = t->n - i < chunk ? t->n - i : chunk;
    at_msg_t *msgs[100];
    for (long j = 0; j < k; j++)
      msgs[j] = ids ? at_notification_send_msg (ids[i + j], NULL) : s_event (run, i + j);
    if (rate > 0) {
      int64_t due = start + (int64_t) ((double) i * 1e6 / (double) rate);
      while (at_mono_us () < due)
        usleep (200);
    }
    int64_t now = at_now_us ();
    for (long j = 0; j < k; j++)
      t->published_us[i + j] = now;
    int retry = 0, rc = AT_AGAIN;
    for (int a = 0; a < 50 && rc != AT_OK; a++) {
      rc = at_publisher_send (pub, msgs, (size_t) k, &retry);
      if (rc != AT_OK)
        usleep ((useconds_t) (retry > 0 ? retry : 50) * 1000);
    }
    for (long j = 0; j < k; j++)
      at_msg_destroy (&msgs[j]);
    if (rc != AT_OK)
      fprintf (stderr, "publish failed at %ld: %d\n", i, rc);
  }
}

static int
s_cmp (const void *a, const void *b)
{
  int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
  return x < y ? -1 : x > y;
}

static void
s_report (const s_opts_t *o, s_timing_t *t, int64_t wall_us)
{
  int64_t *lat = calloc ((size_t) t->n, sizeof *lat);
  long n = 0;
  int64_t first = INT64_MAX, last = 0;
  for (long i = 0; i < t->n; i++) {
    if (!t->received_us[i])
      continue;
    lat[n++] = t->received_us[i] - t->published_us[i];
    first = t->published_us[i] < first ? t->published_us[i] : first;
    last = t->received_us[i] > last ? t->received_us[i] : last;
  }
  qsort (lat, (size_t) n, sizeof *lat, s_cmp);
  double secs = n ? (double) (last - first) / 1e6 : 0;
  printf ("notify_load %s orders=%ld delivered=%ld workers=%ld rate=%ld concurrency=%ld"
          " batch=%ld\n", o->direct ? "direct(notification.send)" : "order_event", o->orders, n,
          o->workers, o->rate, o->concurrency, o->batch);
  if (n > 0)
    printf ("  delivered_per_s=%.0f  event_to_request_ms p50=%.1f p90=%.1f p99=%.1f max=%.1f"
            "  wall_s=%.2f\n", (double) n / secs, lat[n / 2] / 1e3, lat[n * 9 / 10] / 1e3,
            lat[n * 99 / 100] / 1e3, lat[n - 1] / 1e3, (double) wall_us / 1e6);
  free (lat);
}

/* The processes' environment: where the database, the broker and the fake
 * are, and the provider's settings (the first 8 go to this process too). */
typedef struct {
  char kv[6][1100];
  char *ptrs[15];
} s_env_t;

static void
s_env_init (s_env_t *e, const s_opts_t *o, int broker, int http)
{
  snprintf (e->kv[0], sizeof e->kv[0], "ATENDE_DATABASE_URL=%s", o->db_url);
  snprintf (e->kv[1], sizeof e->kv[1], "ATENDE_BROKER_BIND=tcp://127.0.0.1:%d", broker);
  snprintf (e->kv[2], sizeof e->kv[2], "ATENDE_BROKER_ENDPOINTS=tcp://127.0.0.1:%d", broker);
  snprintf (e->kv[3], sizeof e->kv[3], "ATENDE_WHATSAPP_API_URL=http://127.0.0.1:%d/graph", http);
  snprintf (e->kv[4], sizeof e->kv[4], "ATENDE_WEBHOOK_CONCURRENCY=%ld", o->concurrency);
  snprintf (e->kv[5], sizeof e->kv[5], "ATENDE_WORKER_BATCH=%ld", o->batch);
  char *env[] = {e->kv[0], e->kv[1], e->kv[2], e->kv[3], e->kv[4], e->kv[5],
                 "ATENDE_BROKER_METRICS_PORT=0", "ATENDE_LOG_LEVEL=warn",
                 "ATENDE_PROVIDER_ROUTES=*=whatsapp",
                 "ATENDE_WHATSAPP_PHONE_NUMBER_ID=1234567890", "ATENDE_WHATSAPP_TOKEN=load",
                 "ATENDE_WHATSAPP_TEMPLATES=*=order_update", "ATENDE_DELAY_CHECKS=external",
                 "ATENDE_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL};
  _Static_assert (sizeof env == sizeof e->ptrs, "s_env_t.ptrs holds the whole list");
  memcpy (e->ptrs, env, sizeof env);
}

/* Migrates the database, then starts a broker and o->workers notify
 * workers into pids; returns how many were started, -1 if the migration
 * failed. */
static int
s_start (char **env, const s_opts_t *o, pid_t *pids)
{
  const char *migrate[] = {"migrate", "--wait", "10", NULL};
  pid_t m = s_spawn (migrate, env, "notify-load-migrate.log");
  if (m < 0 || at_proc_stop (m, 0, 60000) != 0) {
    fprintf (stderr, "atende migrate failed, see notify-load-migrate.log\n");
    return -1;
  }
  for (int i = 0; i < 8 && env[i]; i++)
    putenv (env[i]);
  const char *broker_args[] = {"broker", NULL}, *worker_args[] = {"worker", "notify", NULL};
  int np = 0;
  pids[np++] = s_spawn (broker_args, env, "notify-load-broker.log");
  for (long i = 0; i < o->workers; i++)
    pids[np++] = s_spawn (worker_args, env, "notify-load-worker.log");
  return np;
}

/* --direct: the notifications written first, their ids in *ids. */
static int
s_direct_ids (const s_opts_t *o, long run, char ***ids)
{
  PGconn *db = PQconnectdb (o->db_url);
  if (PQstatus (db) != CONNECTION_OK)
    return AT_ERROR;
  *ids = s_direct_prepare (db, run, o->orders);
  PQfinish (db);
  return AT_OK;
}

/* Until the fake has one request per order, 300 s at most. */
static void
s_wait_received (s_timing_t *t, long orders)
{
  int64_t deadline = at_mono_us () + 300 * 1000000LL;
  while (__atomic_load_n (&t->received, __ATOMIC_ACQUIRE) < orders && at_mono_us () < deadline)
    usleep (2000);
}

int
main (int argc, char **argv)
{
  s_opts_t o;
  if (s_parse (argc, argv, &o) != AT_OK) {
    fprintf (stderr, "usage: %s --database-url URL [--orders N] [--workers K<=16] [--rate R]"
             " [--concurrency C] [--batch B]\n", argv[0]);
    return 2;
  }
  int broker = at_proc_free_port (), http = at_proc_free_port ();
  s_timing_t t = {.n = o.orders};
  t.published_us = calloc ((size_t) o.orders, sizeof *t.published_us);
  t.received_us = calloc ((size_t) o.orders, sizeof *t.received_us);
  fake_http_t *fake = fake_http_start (http);
  if (!fake)
    return 1;
  fake_http_on_request (fake, s_on_request, &t);
  s_env_t env;
  s_env_init (&env, &o, broker, http);
  pid_t pids[17];
  int np = s_start (env.ptrs, &o, pids);
  if (np < 0)
    return 1;
  at_config_t *cfg = at_config_from_env ();
  at_publisher_t *pub = cfg ? at_publisher_new (cfg) : NULL;
  if (!pub)
    return 1;
  usleep (300 * 1000);   /* workers say Ready; not a measurement */
  long run = (long) (at_now_us () / 1000);
  s_phone_base = S_PHONE_ROOT + (long long) (run % 10000) * 1000000000LL;
  char **ids = NULL;
  if (o.direct && s_direct_ids (&o, run, &ids) != AT_OK)
    return 1;
  int64_t t0 = at_mono_us ();
  s_publish (pub, &t, run, o.rate, ids);
  s_wait_received (&t, o.orders);
  s_report (&o, &t, at_mono_us () - t0);
  for (int i = np; i > 0; i--)
    at_proc_stop (pids[i - 1], SIGTERM, 10000);
  at_publisher_destroy (&pub);
  at_config_destroy (&cfg);
  fake_http_stop (&fake);
  long received = t.received;
  for (long i = 0; ids && i < o.orders; i++)
    free (ids[i]);
  free (ids);
  free (t.published_us);
  free (t.received_us);
  return received == o.orders ? 0 : 1;
}
