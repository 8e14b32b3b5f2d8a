/* bench_bus: the durable bus, publish commit -> deliver -> done commit.
 *
 * Starts `atende broker` on --db (a migrated database; PostgreSQL with
 * fsync on, as bench/bench.sh starts it) and --workers consumers of stage
 * ingest, with --stage:
 *   tiny    (default, the design's measure) threads of this program speaking
 *           the worker side of the protocol and running the worker's own
 *           batch code (wrk_batch_run): one transaction per delivered batch
 *           with ONE effect row per message (bench_effect) and the fenced
 *           DELETE of its bus row, then Settle;
 *   ingest  `atende worker ingest` processes: the real stage (customer,
 *           ticket, message row, the route message it produces).
 *   throughput  --publishers threads publish --messages in batches of
 *               --batch as fast as confirmed; the clock runs from the first
 *               publish until stage ingest is empty. Prints msg/s, and
 *               messages per commit: per publish group commit (the broker's
 *               atende_bus_commit_messages histogram) and overall (bus
 *               transitions, publish + done, per PostgreSQL transaction of
 *               the database, pg_stat_database.xact_commit).
 *   latency     at half the measured rate, threads publish one message
 *               per Publish for --latency-seconds, each waiting for its
 *               confirm (enough of them to offer the rate with 5 ms per
 *               confirm, 8 to 128): confirm p50/p99, and the rate achieved.
 *   backlog     with --backlog N: the throughput run again with N messages
 *               already waiting in the bus table (stage survey, due, no
 *               consumer; inserted with generate_series), and the ratio to
 *               the empty-table figure.
 *
 *   bench_bus --db CONNINFO --atende PATH [--messages N] [--publishers P]
 *             [--batch B] [--workers W] [--latency-seconds S] [--backlog N]
 *             [--stage tiny|ingest] [--effects flush|each] [--brokers N]
 *             [--latency-rate R]
 * --latency-rate: the latency run's offered rate (default half the measured).
 * --brokers: N brokers, broker i owning the keys of shard i (the bus's
 * scale-out); tiny consumer i takes from broker i % N (give it at least N),
 * the ingest workers from all of them.
 * --effects: the tiny stage's effect rows, a batch's in one INSERT by the
 * stage's flush (default), or one INSERT per message in handle. */
#define _GNU_SOURCE
#include <libpq-fe.h>
#include <pthread.h>
#include <sys/wait.h>
#include "bench_util.h"
#include "bench_bus_tiny.h"
#include "at_publisher.h"
#include "at_config.h"
#include "domain.pb-c.h"
#include "at_msg_pb.h"
#include "at_store.h"
#include "at_store_bench.h"
#include "at_proc.h"

#define S_CUSTOMERS 1000
#define S_LAT_THREADS_MIN 8
#define S_LAT_THREADS_MAX 128
#define S_WORKERS_MAX 16

#define S_BROKERS_MAX 8

static at_store_t *s_store;
static int s_brokers;
static int s_metrics_ports[S_BROKERS_MAX];
static char s_endpoints[S_BROKERS_MAX][32];
static atomic_long s_seq;

/* The benchmark cannot go on without its database: any store error ends it. */
static long long
s_must (long long v, const char *what)
{
  if (v < 0) {
    fprintf (stderr, "bench_bus: %s: %s\n", what, at_store_last_error (s_store));
    exit (1);
  }
  return v;
}

static at_msg_t *
s_inbound (void)
{
  long seq = atomic_fetch_add (&s_seq, 1);
  char handle[32], key[48];
  snprintf (handle, sizeof handle, "bench-%ld", seq % S_CUSTOMERS);
  snprintf (key, sizeof key, "chat:%s", handle);
  Atende__InboundMessage in = ATENDE__INBOUND_MESSAGE__INIT;
  in.channel = "chat";
  in.handle = handle;
  in.text = "Oi! Quero saber quando chega o meu pedido, por favor.";
  in.received_us = at_now_us ();
  uint8_t buf[256];
  size_t len = atende__inbound_message__get_packed_size (&in);
  atende__inbound_message__pack (&in, buf);
  return at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, key, NULL, buf, len);
}

static bool s_is_tiny;               /* --stage tiny */
static long s_lat_rate;              /* --latency-rate: 0, half the measured rate */

/* Publishes msgs until confirmed (retrying after Busy or a timeout);
 * the latency of the confirmed attempt in *lat_us. */
static void
s_publish (at_publisher_t *pub, at_msg_t **msgs, size_t n, int64_t *lat_us)
{
  for (;;) {
    int retry_after = 0;
    int64_t t0 = at_mono_us ();
    int rc = at_publisher_send (pub, msgs, n, &retry_after);
    if (rc == AT_OK) {
      if (lat_us)
        *lat_us = at_mono_us () - t0;
      return;
    }
    if (rc == AT_INVALID) {
      fprintf (stderr, "bench_bus: publish refused\n");
      exit (1);
    }
    usleep ((useconds_t) (retry_after > 0 ? retry_after : 10) * 1000);
  }
}

typedef struct {
  long messages, batch;
  double rate;            /* > 0: paced, one message per publish */
  int64_t until_us;       /* paced: stop then */
  int64_t *lat;           /* paced: latencies */
  size_t n_lat, cap_lat;
} s_pub_t;

static void *
s_publisher (void *arg)
{
  s_pub_t *p = arg;
  at_config_t *cfg = at_config_from_env ();
  at_publisher_t *pub = cfg ? at_publisher_new (cfg) : NULL;
  if (!pub) {
    fprintf (stderr, "bench_bus: no publisher\n");
    exit (1);
  }
  at_msg_t *msgs[1000];
  int64_t start = at_mono_us ();
  for (long sent = 0; p->rate > 0 ? at_mono_us () < p->until_us : sent < p->messages;) {
    long n = p->rate > 0 ? 1 : (p->messages - sent < p->batch ? p->messages - sent : p->batch);
    for (long i = 0; i < n; i++)
      msgs[i] = s_inbound ();
    int64_t lat = 0;
    s_publish (pub, msgs, (size_t) n, p->rate > 0 ? &lat : NULL);
    for (long i = 0; i < n; i++)
      at_msg_destroy (&msgs[i]);
    sent += n;
    if (p->rate > 0) {
      if (p->n_lat < p->cap_lat)
        p->lat[p->n_lat++] = lat;
      int64_t due = start + (int64_t) ((double) sent * 1e6 / p->rate);
      int64_t now = at_mono_us ();
      if (due > now)
        usleep ((useconds_t) (due - now));
    }
  }
  at_publisher_destroy (&pub);
  at_config_destroy (&cfg);
  return NULL;
}

/* Sum of a metric's samples (or of name_sum / name_count) on the brokers. */
static double
s_metric (const char *name)
{
  double sum = -1;
  size_t len = strlen (name);
  for (int b = 0; b < s_brokers; b++) {
    char cmd[256];
    snprintf (cmd, sizeof cmd, "curl -s http://127.0.0.1:%d/metrics", s_metrics_ports[b]);
    FILE *f = popen (cmd, "r");
    if (!f)
      return -1;
    char line[1024];
    while (fgets (line, sizeof line, f))
      if (strncmp (line, name, len) == 0 && (line[len] == ' ' || line[len] == '{')) {
        char *sp = strrchr (line, ' ');
        sum = (sum < 0 ? 0 : sum) + (sp ? strtod (sp + 1, NULL) : 0);
      }
    pclose (f);
  }
  return sum;
}

static long long
s_commits (void)
{
  usleep (1200000);   /* busy backends publish their statistics every second */
  return s_must (at_store_bench_commits (s_store), "commit statistics");
}

/* The tiny consumers count what they commit: no query competes with the
 * run until they have done `messages` since done0. */
static void
s_wait_tiny_done (long done0, long messages)
{
  int64_t progress = at_mono_ms ();
  long last = -1, now;
  while ((now = bench_tiny_done () - done0) < messages) {
    if (now != last) {
      last = now;
      progress = at_mono_ms ();
    }
    if (at_mono_ms () - progress > 60000) {
      fprintf (stderr, "bench_bus: %ld of %ld done, none for 60 s\n", now, messages);
      exit (1);
    }
    usleep (1000);
  }
}

/* Until stage ingest is empty (for the tiny stage, at once: a check). */
static void
s_wait_ingest_empty (void)
{
  int64_t progress = at_mono_ms ();
  long long left, last = -1;
  while ((left = s_must (at_store_bench_stage_count (s_store, AT_STAGE_INGEST), "ingest count")) > 0) {
    if (left != last) {
      last = left;
      progress = at_mono_ms ();
    }
    if (at_mono_ms () - progress > 60000) {
      fprintf (stderr, "bench_bus: ingest stuck at %lld pending for 60 s\n", left);
      exit (1);
    }
    usleep (50000);
  }
}

/* One throughput run: msg/s publish -> done; prints the figures. */
static double
s_throughput (const char *label, long messages, int publishers, long batch)
{
  double csum0 = s_metric ("atende_bus_commit_messages_sum");
  double ccnt0 = s_metric ("atende_bus_commit_messages_count");
  long long commits0 = s_commits ();
  s_pub_t pubs[64];
  pthread_t t[64];
  long done0 = bench_tiny_done ();
  int64_t start = at_mono_us ();
  for (int i = 0; i < publishers; i++) {
    pubs[i] = (s_pub_t) {.messages = messages / publishers + (i < messages % publishers),
                         .batch = batch};
    pthread_create (&t[i], NULL, s_publisher, &pubs[i]);
  }
  for (int i = 0; i < publishers; i++)
    pthread_join (t[i], NULL);
  int64_t confirmed = at_mono_us ();
  if (s_is_tiny)
    s_wait_tiny_done (done0, messages);
  int64_t done = at_mono_us ();
  s_wait_ingest_empty ();   /* the tiny stage's: a check that nothing is left */
  long long commits = s_commits () - commits0;
  double csum = s_metric ("atende_bus_commit_messages_sum") - csum0;
  double ccnt = s_metric ("atende_bus_commit_messages_count") - ccnt0;
  double rate = (double) messages / bench_secs (start, done);
  printf ("%s: %ld messages, %d publishers, batch %ld: publish %.0f msg/s, publish -> done"
          " %.0f msg/s; messages per publish commit %.1f (%.0f commits); bus transitions per"
          " PostgreSQL transaction, read-only ones included %.1f (%lld)\n", label, messages,
          publishers, batch, (double) messages / bench_secs (start, confirmed), rate,
          ccnt > 0 ? csum / ccnt : -1, ccnt,
          commits > 0 ? 2.0 * (double) messages / (double) commits : -1, commits);
  printf ("RESULT %s_msg_s=%.0f msgs_per_publish_commit=%.1f\n", label, rate,
          ccnt > 0 ? csum / ccnt : -1);
  fflush (stdout);
  /* what ingest produced for route (no route worker here) leaves the table */
  s_must (at_store_bench_stage_clear (s_store, AT_STAGE_ROUTE), "route clear");
  return rate;
}

/* Publish-confirm latency at `rate` msg/s, one message per Publish. */
static void
s_latency (double rate, long seconds)
{
  /* enough publishers, each waiting for its confirm, to offer the rate
   * with up to 5 ms per confirm (8 could not: they reached a fifth of it) */
  int threads = (int) (rate * 0.005) + 1;
  threads = threads < S_LAT_THREADS_MIN ? S_LAT_THREADS_MIN
          : threads > S_LAT_THREADS_MAX ? S_LAT_THREADS_MAX : threads;
  s_pub_t pubs[S_LAT_THREADS_MAX];
  pthread_t t[S_LAT_THREADS_MAX];
  double bsum0 = s_metric ("atende_bus_publish_confirm_seconds_sum");
  double bcnt0 = s_metric ("atende_bus_publish_confirm_seconds_count");
  int64_t until = at_mono_us () + seconds * 1000000;
  for (int i = 0; i < threads; i++) {
    size_t cap = (size_t) (rate / threads * (double) seconds) + 16;
    pubs[i] = (s_pub_t) {.rate = rate / threads, .until_us = until, .cap_lat = cap,
                         .lat = malloc (cap * sizeof (int64_t))};
    pthread_create (&t[i], NULL, s_publisher, &pubs[i]);
  }
  size_t n = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join (t[i], NULL);
    n += pubs[i].n_lat;
  }
  int64_t *all = malloc ((n ? n : 1) * sizeof *all);
  size_t k = 0;
  for (int i = 0; i < threads; i++) {
    memcpy (all + k, pubs[i].lat, pubs[i].n_lat * sizeof *all);
    k += pubs[i].n_lat;
    free (pubs[i].lat);
  }
  qsort (all, n, sizeof *all, bench_cmp_i64);
  double p50 = (double) bench_percentile (all, n, 50) / 1000.0;
  double p99 = (double) bench_percentile (all, n, 99) / 1000.0;
  printf ("latency at %.0f msg/s (%s), %d threads, %zu publishes of one"
          " message: confirm p50 %.2f ms, p99 %.2f ms, achieved %.0f msg/s\n", rate,
          s_lat_rate > 0 ? "--latency-rate" : "half the measured rate",
          threads, n, p50, p99, (double) n / (double) seconds);
  double bcnt = s_metric ("atende_bus_publish_confirm_seconds_count") - bcnt0;
  double bsum = s_metric ("atende_bus_publish_confirm_seconds_sum") - bsum0;
  printf ("the brokers' own share, a Publish read -> its Confirm sent: mean %.2f ms\n",
          bcnt > 0 ? bsum / bcnt * 1000.0 : -1);
  printf ("RESULT confirm_p50_ms=%.2f confirm_p99_ms=%.2f confirm_offered_msg_s=%.0f"
          " confirm_achieved_msg_s=%.0f\n", p50, p99, rate, (double) n / (double) seconds);
  fflush (stdout);
  free (all);
  s_wait_ingest_empty ();
  s_must (at_store_bench_stage_clear (s_store, AT_STAGE_ROUTE), "route clear");
}

static void
s_backlog_insert (long n)
{
  int64_t t0 = at_mono_us ();
  for (long done = 0; done < n;) {
    long chunk = n - done < 1000000 ? n - done : 1000000;
    s_must (at_store_bench_backlog_add (s_store, chunk), "backlog insert");
    done += chunk;
    printf ("backlog: %ld of %ld rows inserted (%.0f s)\n", done, n,
            bench_secs (t0, at_mono_us ()));
    fflush (stdout);
  }
  s_must (at_store_bench_vacuum (s_store), "vacuum");
}

static pid_t
s_spawn (const char *atende, const char *what, const char *stage, char **env, const char *log)
{
  char *argv[] = {(char *) atende, (char *) what, (char *) stage, NULL};
  pid_t pid = at_proc_spawn (argv, env, log);
  if (pid < 0) {
    fprintf (stderr, "bench_bus: cannot start %s %s\n", atende, what);
    exit (1);
  }
  return pid;
}

static char *
s_env (const char *name, const char *value)
{
  size_t len = strlen (name) + strlen (value) + 2;
  char *e = at_malloc (len);
  snprintf (e, len, "%s=%s", name, value);
  return e;
}

/* The processes' environment: 5 shared entries, then each broker's own 3
 * (for the workers: their metrics port, then the end). */
enum { S_ENV_BIND = 5, S_ENV_INDEX, S_ENV_METRICS, S_ENV_N };

static void
s_env_free (char **env)
{
  for (int i = 0; i < S_ENV_N; i++)
    free (env[i]);
  free (env);
}

/* Starts `brokers` brokers, broker i owning the keys of shard i; sets the
 * publishers' ATENDE_BROKER_ENDPOINTS. Returns the workers' environment. */
static char **
s_brokers_start (const char *atende, const char *db, long brokers, pid_t *pids)
{
  char eps[S_BROKERS_MAX * 32] = "", count[24], port[16];
  size_t len = 0;
  for (long i = 0; i < brokers; i++) {
    snprintf (s_endpoints[i], sizeof s_endpoints[i], "tcp://127.0.0.1:%d", at_proc_free_port ());
    s_metrics_ports[i] = at_proc_free_port ();
    len += (size_t) snprintf (eps + len, sizeof eps - len, "%s%s", i ? "," : "", s_endpoints[i]);
  }
  s_brokers = (int) brokers;
  snprintf (count, sizeof count, "%ld", brokers);
  char **env = at_calloc (S_ENV_N + 1, sizeof *env);
  env[0] = s_env ("ATENDE_DATABASE_URL", db);
  env[1] = s_env ("ATENDE_BROKER_ENDPOINTS", eps);
  env[2] = s_env ("ATENDE_BROKER_COUNT", count);
  /* BENCH_LOG_LEVEL=debug shows the brokers' sweeps and commits */
  env[3] = s_env ("ATENDE_LOG_LEVEL", getenv ("BENCH_LOG_LEVEL") ? getenv ("BENCH_LOG_LEVEL")
                                                                : "warn");
  env[4] = s_env ("ATENDE_BUS_BACKLOG_MAX", "1000000000");
  for (long i = 0; i < brokers; i++) {
    char index[24];
    snprintf (index, sizeof index, "%ld", i);
    snprintf (port, sizeof port, "%d", s_metrics_ports[i]);
    env[S_ENV_BIND] = s_env ("ATENDE_BROKER_BIND", s_endpoints[i]);
    env[S_ENV_INDEX] = s_env ("ATENDE_BROKER_INDEX", index);
    env[S_ENV_METRICS] = s_env ("ATENDE_BROKER_METRICS_PORT", port);
    pids[i] = s_spawn (atende, "broker", NULL, env, "bench_bus_broker.log");
    for (int e = S_ENV_BIND; e < S_ENV_N; e++) {
      free (env[e]);
      env[e] = NULL;
    }
  }
  env[S_ENV_BIND] = s_env ("ATENDE_WORKER_METRICS_PORT", "0");
  env[S_ENV_INDEX] = env[S_ENV_METRICS] = NULL;   /* the workers' list ends here */
  setenv ("ATENDE_BROKER_ENDPOINTS", eps, 1);
  setenv ("ATENDE_BROKER_COUNT", count, 1);
  setenv ("ATENDE_PUBLISH_TIMEOUT_MS", "10000", 1);
  return env;
}

static bool
s_args_ok (const char *prog, const char *db, const char *atende, const char *stage,
           const char *effects)
{
  if (strcmp (stage, "tiny") != 0 && strcmp (stage, "ingest") != 0) {
    fprintf (stderr, "%s: --stage is tiny or ingest\n", prog);
    return false;
  }
  if (strcmp (effects, "flush") != 0 && strcmp (effects, "each") != 0) {
    fprintf (stderr, "%s: --effects is flush or each\n", prog);
    return false;
  }
  if (!db || !atende) {
    fprintf (stderr, "usage: %s --db CONNINFO --atende PATH [--messages N] [--publishers P]"
                     " [--batch B] [--workers W] [--latency-seconds S] [--backlog N]"
                     " [--stage tiny|ingest] [--effects flush|each] [--brokers N]"
                     " [--latency-rate R]\n", prog);
    return false;
  }
  return true;
}

/* The figures: throughput on the empty table, latency at half of it, and
 * throughput again with `backlog` messages waiting in another stage. */
static void
s_measure (long messages, long publishers, long batch, long lat_s, long backlog)
{
  s_throughput ("warm-up", 5000, (int) publishers, batch);   /* customers, caches */
  double empty = s_throughput ("bus", messages, (int) publishers, batch);
  if (lat_s > 0)
    s_latency (s_lat_rate > 0 ? (double) s_lat_rate : empty / 2, lat_s);
  if (backlog > 0) {
    s_backlog_insert (backlog);
    char label[64];
    snprintf (label, sizeof label, "bus_backlog_%ld", backlog);
    double with = s_throughput (label, messages, (int) publishers, batch);
    printf ("backlog %ld: %.0f msg/s against %.0f msg/s on an empty table: ratio %.3f\n",
            backlog, with, empty, with / empty);
    printf ("RESULT backlog=%ld backlog_ratio=%.3f\n", backlog, with / empty);
    s_must (at_store_bench_backlog_clear (s_store), "backlog clear");
  }
}

int
main (int argc, char **argv)
{
  const char *db = bench_flag_str (argc, argv, "--db", NULL);
  const char *atende = bench_flag_str (argc, argv, "--atende", NULL);
  long messages = bench_flag_long (argc, argv, "--messages", 100000, 1000, 100000000);
  long publishers = bench_flag_long (argc, argv, "--publishers", 4, 1, 64);
  long batch = bench_flag_long (argc, argv, "--batch", 100, 1, 1000);
  long workers = bench_flag_long (argc, argv, "--workers", 2, 1, S_WORKERS_MAX);
  long lat_s = bench_flag_long (argc, argv, "--latency-seconds", 10, 0, 3600);
  s_lat_rate = bench_flag_long (argc, argv, "--latency-rate", 0, 0, 1000000);
  long backlog = bench_flag_long (argc, argv, "--backlog", 0, 0, 100000000);
  long brokers = bench_flag_long (argc, argv, "--brokers", 1, 1, S_BROKERS_MAX);
  const char *stage = bench_flag_str (argc, argv, "--stage", "tiny");
  const char *effects = bench_flag_str (argc, argv, "--effects", "flush");
  if (!s_args_ok (argv[0], db, atende, stage, effects))
    return 2;
  bench_print_cmdline (argc, argv);
  s_store = at_store_new (db, "bench");
  if (s_store == NULL)
    return 1;
  pid_t broker[S_BROKERS_MAX];
  char **env = s_brokers_start (atende, db, brokers, broker);
  pid_t w[S_WORKERS_MAX];
  static bench_tiny_t tiny[S_WORKERS_MAX];
  bool is_tiny = s_is_tiny = strcmp (stage, "tiny") == 0;
  bool each = strcmp (effects, "each") == 0;
  if (is_tiny)
    s_must (at_store_bench_effect_table (s_store), "bench_effect table");
  for (long i = 0; i < workers; i++) {
    if (is_tiny) {
      tiny[i].db = db;
      tiny[i].endpoint = s_endpoints[i % brokers];   /* consumer i of broker i % N */
      tiny[i].each = each;
      bench_tiny_start (&tiny[i]);
    }
    else
      w[i] = s_spawn (atende, "worker", "ingest", env, "bench_bus_workers.log");
  }
  printf ("brokers: %ld (each the owner of a share of the keys)\n", brokers);
  printf ("stage: %s (%s), %ld consumers\n", stage, !is_tiny
          ? "the real ingest stage in `atende worker ingest` processes"
          : each ? "one effect row per message, one INSERT each, worker batch code in"
                          " this process's threads"
                        : "one effect row per message, a batch's in one INSERT (the stage's"
                          " flush), worker batch code in this process's threads", workers);
  s_measure (messages, publishers, batch, lat_s, backlog);
  for (long i = 0; i < workers; i++) {
    if (is_tiny) {
      bench_tiny_stop (&tiny[i]);
    }
    else
      at_proc_stop (w[i], SIGTERM, 20000);
  }
  for (long i = 0; i < brokers; i++)
    at_proc_stop (broker[i], SIGTERM, 10000);
  s_env_free (env);
  at_store_destroy (&s_store);
  return 0;
}
