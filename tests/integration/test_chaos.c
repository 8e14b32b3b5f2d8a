#include <stdio.h>
/* Chaos (issue 3, point 10): a steady publish load through ingest -> route
 * -> notify (a local receiver of signed webhooks stands in for the
 * providers) while the test SIGKILLs random workers and the broker several
 * times and restarts PostgreSQL once (its own cluster: tests/pg.sh, since
 * the fixture's is shared). Every process is restarted right after its
 * kill. At the end:
 *   - every confirmed message was applied exactly once (ticket_message rows
 *     by the publisher's ids); unconfirmed ones at most once;
 *   - route answered each message once, notify delivered each answer
 *     (distinct webhook-ids at the receiver; a webhook sent again after a
 *     crash is counted apart: effects outside PostgreSQL are at least once);
 *   - prints confirmed, applied, lost, doubled, redelivered.
 * PF_SEED=<n> replays a run's choices of whom to kill; PF_KEEP_PG=1 leaves
 * the cluster running for a look after a failure. */
#include <sys/stat.h>
#include "test_crash_util.h"
#include "at_proc.h"
#include "demo_receiver.h"

#define CUSTOMERS 100
#define WORKERS 2
#define STEP 250          /* confirmed messages between two events */
#define WAIT_MS 40000

static char s_pgdir[64];
static char s_pg_sh[600];
static pf_bus_t s_bus;
static pid_t s_worker[WORKERS];
static int s_worker_gen;

/* Runs a shell command line and waits; its exit code. */
static int
s_sh (const char *cmd, const char *log)
{
  char *argv[] = {"/bin/bash", "-c", (char *) cmd, NULL};
  pid_t pid = at_proc_spawn (argv, NULL, log);
  int status = 0;
  if (pid < 0 || waitpid (pid, &status, 0) != pid)
    return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

static void
s_pg_cleanup (void)
{
  if (getenv ("PF_KEEP_PG")) {   /* to look at the database after a failure */
    fprintf (stderr, "chaos: PostgreSQL left running in %s\n", s_pgdir);
    return;
  }
  char cmd[700];
  snprintf (cmd, sizeof cmd, "bash '%s' stop '%s'", s_pg_sh, s_pgdir);
  s_sh (cmd, "pg.log");
}

/* Our own cluster, so that restarting it disturbs no other test. */
static void
s_pg_start (void)
{
  char here[512];
  at_strlcpy (here, __FILE__, sizeof here);   /* <src>/tests/integration/test_chaos.c */
  char *slash = strrchr (here, '/');
  IT_CHECK (slash != NULL, "source path");
  *slash = '\0';
  at_strlcpy (s_pg_sh, here, sizeof s_pg_sh);
  IT_CHECK (strlen (s_pg_sh) + 10 < sizeof s_pg_sh, "source path too long");
  memcpy (s_pg_sh + strlen (s_pg_sh), "/../pg.sh", 10);
  struct stat st;
  if (stat (s_pg_sh, &st) != 0) {
    fprintf (stderr, "SKIP: %s not found\n", s_pg_sh);
    exit (77);
  }
  at_strlcpy (s_pgdir, "/tmp/atende-chaos-XXXXXX", sizeof s_pgdir);
  IT_CHECK (mkdtemp (s_pgdir) != NULL, "mkdtemp");
  chmod (s_pgdir, 0755);
  atexit (s_pg_cleanup);
  char cmd[700];
  snprintf (cmd, sizeof cmd, "bash '%s' start '%s'", s_pg_sh, s_pgdir);
  IT_CHECK (s_sh (cmd, "pg.log") == 0, "own PostgreSQL starts (see pg.log)");
}

/* An immediate stop (as a crash would) and a start on the same data. */
static void
s_pg_restart (void)
{
  char cmd[1200];
  snprintf (cmd, sizeof cmd,
            "set -e; pgbin=$(ls -d /usr/lib/postgresql/*/bin | tail -1);"
            " if [ \"$(id -u)\" = 0 ]; then run='runuser -u postgres --'; else run=''; fi;"
            " $run \"$pgbin/pg_ctl\" -D '%s/data' -m immediate -w stop; bash '%s' start '%s'",
            s_pgdir, s_pg_sh, s_pgdir);
  IT_CHECK (s_sh (cmd, "pg.log") == 0, "PostgreSQL restarts (see pg.log)");
}

static void
s_migrate (void)
{
  pf_env_t e;
  pf_bus_env (&s_bus, &e);
  const char *args[] = {"migrate", "--wait", "30", NULL};
  pid_t pid = it_spawn_atende ("migrate", args, e.v);
  int status = it_stop (pid, 0, 60000);   /* signal 0: only waits */
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "migrate (status %d)", status);
}

static void
s_worker_start (int i)
{
  char name[32];
  snprintf (name, sizeof name, "worker%d-%d", i, s_worker_gen++);
  s_worker[i] = pf_worker_start (&s_bus, "ingest,route,notify", name);
}

/* One event of the schedule; what it did, for the log. */
static const char *
s_event (char kind, unsigned *seed)
{
  static char what[64];
  if (kind == 'W') {
    int i = (int) (rand_r (seed) % WORKERS);
    it_stop (s_worker[i], SIGKILL, 5000);
    s_worker_start (i);
    snprintf (what, sizeof what, "SIGKILL worker%d, restarted", i);
  }
  else if (kind == 'B') {
    it_stop (s_bus.broker[0], SIGKILL, 5000);
    pf_broker_start (&s_bus, 0);
    snprintf (what, sizeof what, "SIGKILL broker, restarted");
  }
  else {
    s_pg_restart ();
    snprintf (what, sizeof what, "PostgreSQL restarted (immediate stop)");
  }
  return what;
}

int
main (void)
{
  it_require_pg ();
  s_pg_start ();
  char conninfo[256];
  snprintf (conninfo, sizeof conninfo, "host=%s port=5432 user=postgres dbname=postgres",
            s_pgdir);
  demo_receiver_t *receiver = demo_receiver_new (PF_SECRET, 0);
  IT_CHECK (receiver != NULL, "receiver");
  pf_bus_init (&s_bus, conninfo, 1);
  at_strlcpy (s_bus.webhook_url, demo_receiver_url (receiver), sizeof s_bus.webhook_url);
  s_migrate ();
  PGconn *conn = it_db_connect (conninfo);
  pf_db_prepare (conn, CUSTOMERS);
  pf_broker_start (&s_bus, 0);
  for (int i = 0; i < WORKERS; i++)
    s_worker_start (i);

  unsigned seed = (unsigned) time (NULL);
  long env_seed = 0;
  if (getenv ("PF_SEED") && at_parse_long (getenv ("PF_SEED"), 0, 1L << 30, &env_seed) == AT_OK)
    seed = (unsigned) env_seed;
  printf ("chaos: seed=%u\n", seed);
  static pf_load_t load = {.customers = CUSTOMERS, .batch = 5, .rate = 250};
  pf_load_start (&load);
  const char *schedule = "WBWPWBWB";
  for (const char *k = schedule; *k; k++) {
    long want = atomic_load (&load.confirmed) + STEP;
    IT_CHECK (pf_load_wait (&load, want, WAIT_MS), "load reaches %ld before event %c", want, *k);
    int64_t t0 = at_mono_ms ();
    const char *what = s_event (*k, &seed);
    printf ("event at %ld confirmed: %s (%lld ms)\n", atomic_load (&load.confirmed), what,
            (long long) (at_mono_ms () - t0));
    fflush (stdout);
  }
  long want = atomic_load (&load.confirmed) + STEP;
  IT_CHECK (pf_load_wait (&load, want, WAIT_MS), "load goes on after the last event");
  pf_load_join (&load);
  PQfinish (conn);
  conn = it_db_connect (conninfo);   /* the first one died with the restart */
  printf ("chaos: publishes=%ld busy=%ld\n", atomic_load (&load.publishes),
          atomic_load (&load.busy));
  pf_finish (conn, &load, receiver, "chaos", WAIT_MS);

  for (int i = 0; i < WORKERS; i++)
    it_stop (s_worker[i], SIGTERM, 15000);
  it_stop (s_bus.broker[0], SIGTERM, 10000);
  demo_receiver_destroy (&receiver);
  pf_ids_free (&load.ok);
  pf_ids_free (&load.maybe);
  PQfinish (conn);
  printf ("chaos: ok\n");
  return 0;
}
