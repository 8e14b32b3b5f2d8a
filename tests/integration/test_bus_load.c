/* Group commit under concurrent publishers, on a cluster of this test's own
 * with fsync on (so the figures mean something):
 *   - saturation: 8 publisher threads, one message per Publish, as fast as
 *     they can: every confirmed message is exactly one row (none lost, none
 *     doubled); prints msg/s and messages per commit (broker's histogram);
 *   - half load: the same threads paced at half that rate: prints the
 *     publish-confirm p50/p99 seen by the publishers.
 * Figures are printed, never asserted (tests never assert a time). */
#include "test_bus_wire.h"
#include "at_config.h"

#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define N_THREADS 8
#define N_SATURATE 1500       /* per thread */
#define HALF_SECONDS 3
#define LAT_MAX 200000

static char s_dir[128];
static char s_pg_sh[1024];
static at_config_t *s_cfg;
static double s_rate_per_thread;   /* half-load pace */
static double s_lat[LAT_MAX];
static size_t s_n_lat;
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;

static void
s_cleanup (void)
{
  if (s_dir[0]) {
    char cmd[1400];
    snprintf (cmd, sizeof cmd, "bash %s stop %s >/dev/null 2>&1", s_pg_sh, s_dir);
    if (system (cmd) != 0)
      fprintf (stderr, "pg.sh stop failed\n");
  }
}

static void *
s_saturate (void *arg)
{
  (void) arg;
  at_publisher_t *pub = at_publisher_new (s_cfg);
  for (int i = 0; i < N_SATURATE; i++) {
    char key[32];
    snprintf (key, sizeof key, "load-%d", i % 97);
    at_msg_t *m = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, key, NULL,
                              "0123456789012345678901234567890123456789", 40);
    tb_publish (pub, &m, 1);
    at_msg_destroy (&m);
  }
  at_publisher_destroy (&pub);
  return NULL;
}

#define BATCH 50
#define N_BATCHES 40          /* per thread */

static void *
s_saturate_batches (void *arg)
{
  (void) arg;
  at_publisher_t *pub = at_publisher_new (s_cfg);
  at_msg_t *batch[BATCH];
  for (int i = 0; i < N_BATCHES; i++) {
    for (int j = 0; j < BATCH; j++)
      batch[j] = at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, "batch", NULL,
                             "0123456789012345678901234567890123456789", 40);
    tb_publish (pub, batch, BATCH);
    for (int j = 0; j < BATCH; j++)
      at_msg_destroy (&batch[j]);
  }
  at_publisher_destroy (&pub);
  return NULL;
}

static void *
s_paced (void *arg)
{
  (void) arg;
  at_publisher_t *pub = at_publisher_new (s_cfg);
  int64_t start = at_mono_us (), end = start + HALF_SECONDS * 1000000LL;
  double interval_us = 1e6 / s_rate_per_thread;
  for (int i = 0;; i++) {
    int64_t due = start + (int64_t) (i * interval_us);
    if (due >= end)
      break;
    int64_t now = at_mono_us ();
    if (due > now) {
      struct timespec ts = {(time_t) ((due - now) / 1000000), (long) ((due - now) % 1000000) * 1000};
      nanosleep (&ts, NULL);   /* the pace of the load generator, not a wait on a condition */
    }
    at_msg_t *m = at_msg_new (AT_STAGE_NOTIFY, AT_TYPE_NOTIFICATION_SEND, "half", NULL, "x", 1);
    int64_t t0 = at_mono_us ();
    tb_publish (pub, &m, 1);
    double seconds = (double) (at_mono_us () - t0) / 1e6;
    pthread_mutex_lock (&s_lock);
    if (s_n_lat < LAT_MAX)
      s_lat[s_n_lat++] = seconds;
    pthread_mutex_unlock (&s_lock);
    at_msg_destroy (&m);
  }
  at_publisher_destroy (&pub);
  return NULL;
}

static int
s_cmp (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void
s_run (void *(*fn) (void *))
{
  pthread_t threads[N_THREADS];
  for (int i = 0; i < N_THREADS; i++) {
    int rc = pthread_create (&threads[i], NULL, fn, NULL);
    IT_CHECK (rc == 0, "publisher thread %d not started: %s", i, strerror (rc));
  }
  for (int i = 0; i < N_THREADS; i++)
    pthread_join (threads[i], NULL);
}

/* What the three runs share: the database, the broker and what the
 * saturation run measured (the batched run subtracts its commits, the
 * half-load run paces itself at half its rate). */
typedef struct {
  PGconn *db;
  tb_broker_t broker;
  double rate;                  /* msg/s at saturation */
  double commits, committed;    /* the broker's commit histogram after it */
} s_load_t;

/* saturation: one message per Publish, every confirmed message one row */
static void
s_saturation (s_load_t *l)
{
  int64_t t0 = at_mono_us ();
  s_run (s_saturate);
  double seconds = (double) (at_mono_us () - t0) / 1e6;
  long long rows = it_db_scalar (l->db, "SELECT count(*) FROM bus_message WHERE stage = 'route'");
  IT_CHECK (rows == N_THREADS * N_SATURATE, "rows %lld != confirmed %d", rows, N_THREADS * N_SATURATE);
  double published = tb_wait_metric (&l->broker, "atende_bus_published_total{stage=\"route\"}",
                                     N_THREADS * N_SATURATE, 5000);
  IT_CHECK (published == N_THREADS * N_SATURATE, "published_total %.0f", published);
  l->commits = tb_metric (&l->broker, "atende_bus_commit_messages_count");
  l->committed = tb_metric (&l->broker, "atende_bus_commit_messages_sum");
  l->rate = N_THREADS * N_SATURATE / seconds;
  printf ("saturation: publishers=%d messages=%d seconds=%.2f msg_per_s=%.0f commits=%.0f"
          " messages_per_commit=%.1f\n", N_THREADS, N_THREADS * N_SATURATE, seconds, l->rate,
          l->commits, l->commits > 0 ? l->committed / l->commits : 0);
}

/* saturation again, BATCH messages per Publish */
static void
s_saturation_batches (s_load_t *l)
{
  int64_t t0 = at_mono_us ();
  s_run (s_saturate_batches);
  double batch_seconds = (double) (at_mono_us () - t0) / 1e6;
  long long rows = it_db_scalar (l->db, "SELECT count(*) FROM bus_message WHERE stage = 'ingest'");
  IT_CHECK (rows == N_THREADS * N_BATCHES * BATCH, "batched rows %lld", rows);
  tb_wait_metric (&l->broker, "atende_bus_published_total{stage=\"ingest\"}", (double) rows, 5000);
  double commits2 = tb_metric (&l->broker, "atende_bus_commit_messages_count") - l->commits;
  double committed2 = tb_metric (&l->broker, "atende_bus_commit_messages_sum") - l->committed;
  printf ("saturation, %d-message publishes: publishers=%d messages=%lld seconds=%.2f msg_per_s=%.0f"
          " commits=%.0f messages_per_commit=%.1f\n", BATCH, N_THREADS, rows, batch_seconds,
          (double) rows / batch_seconds, commits2, commits2 > 0 ? committed2 / commits2 : 0);
}

/* half load: paced at half the saturation rate, the confirm latencies */
static void
s_half_load (s_load_t *l)
{
  s_rate_per_thread = l->rate / 2 / N_THREADS;
  IT_CHECK (s_rate_per_thread > 0 && s_rate_per_thread < 1e7, "half-load pace %g msg/s",
            s_rate_per_thread);
  s_run (s_paced);
  qsort (s_lat, s_n_lat, sizeof s_lat[0], s_cmp);
  IT_CHECK (s_n_lat > 0, "no half-load publishes");
  printf ("half load: target_msg_per_s=%.0f publishes=%zu confirm_p50_ms=%.3f confirm_p99_ms=%.3f\n",
          l->rate / 2, s_n_lat, s_lat[s_n_lat / 2] * 1000, s_lat[(size_t) (s_n_lat * 0.99)] * 1000);
  long long rows = it_db_scalar (l->db, "SELECT count(*) FROM bus_message WHERE stage = 'notify'");
  IT_CHECK (rows == (long long) s_n_lat, "half-load rows %lld != confirmed %zu", rows, s_n_lat);
}

int
main (void)
{
  it_require_pg ();
  char src[1024];
  at_strlcpy (src, __FILE__, sizeof src);
  snprintf (s_pg_sh, sizeof s_pg_sh, "%s/../pg.sh", dirname (src));
  snprintf (s_dir, sizeof s_dir, "/tmp/atende-load-%d", (int) getpid ());
  atexit (s_cleanup);
  char cmd[1400];
  snprintf (cmd, sizeof cmd, "ATENDE_PG_FSYNC=on bash %s start %s >/dev/null", s_pg_sh, s_dir);
  IT_CHECK (system (cmd) == 0, "own cluster start (fsync on)");
  static char pg_env[256];
  snprintf (pg_env, sizeof pg_env, "host=%s port=5432 user=postgres dbname=postgres", s_dir);
  setenv ("ATENDE_TEST_PG", pg_env, 1);
  char conninfo[512];
  at_strlcpy (conninfo, it_db_create ("bus_load", true), sizeof conninfo);
  s_load_t l = {.db = it_db_connect (conninfo)};

  tb_broker_start (&l.broker, "broker", conninfo, NULL);
  IT_CHECK (it_wait_until (tb_ready, &l.broker, 15000), "broker not ready (see broker.log)");
  setenv ("ATENDE_BROKER_ENDPOINTS", l.broker.endpoint, 1);
  setenv ("ATENDE_PUBLISH_TIMEOUT_MS", "10000", 1);
  s_cfg = at_config_from_env ();

  s_saturation (&l);
  s_saturation_batches (&l);
  s_half_load (&l);

  IT_CHECK (it_stop (l.broker.pid, SIGTERM, 10000) == 0, "broker exit status");
  at_config_destroy (&s_cfg);
  PQfinish (l.db);
  printf ("test_bus_load: ok\n");
  return 0;
}
