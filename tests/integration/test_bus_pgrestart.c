/* PostgreSQL restarts under a running broker, on a cluster of this test's
 * own (the shared fixture cluster must not be stopped):
 *   - while it is down, /readyz answers 503 and a publish gets Busy with a
 *     retry-after (never silence, never a confirm);
 *   - a worker takes deliveries while it is down and goes silent: the
 *     broker cannot fence those leases (no PostgreSQL), so it retries them
 *     every heartbeat; that must not postpone its reconnection (it once
 *     pushed the reconnect 5 s further at each try, and the bus stalled for
 *     as long as any lease waited: chaos saw 40 s);
 *   - the broker reconnects with backoff by itself, /readyz is 200 again;
 *   - every message confirmed before and after is delivered exactly once. */
#include "test_bus_wire.h"
#include "at_config.h"
#include "at_store.h"
#include "at_store_bus.h"

#include <glob.h>
#include <libgen.h>
#include <signal.h>
#include <unistd.h>

#define N_BEFORE 50
#define N_AFTER 50

static char s_dir[128];
static char s_pg_sh[1024];

static int
s_sh (const char *fmt, const char *a, const char *b)
{
  char cmd[2048];
  snprintf (cmd, sizeof cmd, fmt, a, b);
  return system (cmd);
}

static void
s_pg_stop_fast (void)
{
  glob_t g;
  if (glob ("/usr/lib/postgresql/*/bin/pg_ctl", 0, NULL, &g) != 0 || g.gl_pathc == 0)
    it_fail (__FILE__, __LINE__, "pg_ctl", "pg_ctl not found");
  const char *as = geteuid () == 0 ? "runuser -u postgres -- " : "";
  char cmd[1024];
  snprintf (cmd, sizeof cmd, "%s%s -D %s/data -w -t 30 stop -m fast >/dev/null", as,
            g.gl_pathv[g.gl_pathc - 1], s_dir);
  globfree (&g);
  IT_CHECK (system (cmd) == 0, "pg_ctl stop");
}

static void
s_cleanup (void)
{
  if (s_dir[0])
    s_sh ("bash %s stop %s >/dev/null 2>&1", s_pg_sh, s_dir);
}

static bool
s_no_workers (void *arg)
{
  return tb_metric (arg, "atende_broker_workers") == 0;
}

/* A worker that takes one delivery while PostgreSQL is down, then never
 * speaks again: its leases end while the broker cannot fence them. */
static void
s_silent_worker (const tb_broker_t *broker)
{
  void *silent = at_bus_dealer_new (broker->endpoint, NULL);
  tb_ready_cmd (silent, AT_STAGE_ROUTE, 8, "pgr-silent");
  Atende__Bus__Command *cmd = tb_recv_kind (silent, ATENDE__BUS__COMMAND__BODY_DELIVER, 10000);
  IT_CHECK (cmd != NULL && cmd->deliver->n_envelopes > 0, "delivery with PostgreSQL down");
  printf ("pg restart: %zu leases held by a worker that went silent\n",
          cmd->deliver->n_envelopes);
  atende__bus__command__free_unpacked (cmd, NULL);
  IT_CHECK (it_wait_until (s_no_workers, (void *) broker, 10000), "silent worker expired");
  at_bus_socket_close (&silent);
}

static void
s_publish_n (const at_config_t *cfg, const char *prefix, int n, char ids[][AT_ID_LEN])
{
  at_publisher_t *pub = at_publisher_new (cfg);
  for (int i = 0; i < n; i++) {
    char key[32];
    snprintf (key, sizeof key, "%s-%d", prefix, i % 7);
    at_msg_t *m = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, key, NULL, "p", 1);
    tb_publish (pub, &m, 1);
    at_strlcpy (ids[i], m->id, AT_ID_LEN);
    at_msg_destroy (&m);
  }
  at_publisher_destroy (&pub);
}

/* PostgreSQL down: /readyz turns 503, a publish gets Busy with a
 * retry-after, a worker that took deliveries goes silent. */
static void
s_check_down (const at_config_t *cfg, tb_broker_t *broker)
{
  s_pg_stop_fast ();
  IT_CHECK (it_wait_until (tb_not_ready, broker, 10000), "/readyz stayed 200 with PostgreSQL down");
  at_publisher_t *pub = at_publisher_new (cfg);
  at_msg_t *m = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, "down", NULL, "d", 1);
  int retry_after = 0;
  int rc = at_publisher_send (pub, &m, 1, &retry_after);
  IT_CHECK (rc == AT_BUSY && retry_after > 0, "publish with PostgreSQL down: rc=%d retry_after=%d",
            rc, retry_after);
  at_msg_destroy (&m);
  at_publisher_destroy (&pub);
  s_silent_worker (broker);
}

/* every confirmed message (ids) is delivered exactly once, to worker */
static void
s_check_exactly_once (at_store_t *store, void *worker, char ids[][AT_ID_LEN])
{
  static int seen[N_BEFORE + N_AFTER];
  int total = 0;
  int64_t deadline = at_mono_ms () + 30000;
  while (total < N_BEFORE + N_AFTER && at_mono_ms () < deadline) {
    tb_heartbeat (worker);
    Atende__Bus__Command *cmd = tb_recv_kind (worker, ATENDE__BUS__COMMAND__BODY_DELIVER, 200);
    if (cmd == NULL)
      continue;
    char *done[1024];
    size_t n = 0;
    for (size_t i = 0; i < cmd->deliver->n_envelopes; i++) {
      Atende__Bus__Envelope *e = cmd->deliver->envelopes[i];
      int k = 0;
      while (k < N_BEFORE + N_AFTER && strcmp (ids[k], e->id) != 0)
        k++;
      IT_CHECK (k < N_BEFORE + N_AFTER, "delivered a message never confirmed: %s", e->id);
      IT_CHECK (seen[k]++ == 0, "delivered twice: %s", e->id);
      IT_CHECK (at_store_bus_done (store, e->id, e->attempt) == AT_OK, "done");
      done[n++] = e->id;
      total++;
    }
    tb_settle (worker, done, n);
    atende__bus__command__free_unpacked (cmd, NULL);
  }
  printf ("pg restart: confirmed=%d delivered=%d\n", N_BEFORE + N_AFTER, total);
  IT_CHECK (total == N_BEFORE + N_AFTER, "delivered %d of %d", total, N_BEFORE + N_AFTER);
}

int
main (void)
{
  it_require_pg ();
  char src[1024];
  at_strlcpy (src, __FILE__, sizeof src);
  snprintf (s_pg_sh, sizeof s_pg_sh, "%s/../pg.sh", dirname (src));
  snprintf (s_dir, sizeof s_dir, "/tmp/atende-pgr-%d", (int) getpid ());
  atexit (s_cleanup);
  IT_CHECK (s_sh ("bash %s start %s >/dev/null", s_pg_sh, s_dir) == 0, "own cluster start");
  static char pg_env[256];
  snprintf (pg_env, sizeof pg_env, "host=%s port=5432 user=postgres dbname=postgres", s_dir);
  setenv ("ATENDE_TEST_PG", pg_env, 1);
  char conninfo[512];
  at_strlcpy (conninfo, it_db_create ("bus_pgrestart", true), sizeof conninfo);

  tb_broker_t broker = {0};
  const char *extra[] = {"ATENDE_HEARTBEAT_MS=200", NULL};
  tb_broker_start (&broker, "broker", conninfo, extra);
  IT_CHECK (it_wait_until (tb_ready, &broker, 15000), "broker not ready (see broker.log)");
  setenv ("ATENDE_BROKER_ENDPOINTS", broker.endpoint, 1);
  setenv ("ATENDE_PUBLISH_TIMEOUT_MS", "3000", 1);
  at_config_t *cfg = at_config_from_env ();

  static char ids[N_BEFORE + N_AFTER][AT_ID_LEN];
  s_publish_n (cfg, "before", N_BEFORE, ids);

  s_check_down (cfg, &broker);

  IT_CHECK (s_sh ("bash %s start %s >/dev/null", s_pg_sh, s_dir) == 0, "own cluster restart");
  IT_CHECK (it_wait_until (tb_ready, &broker, 20000), "broker not ready after PostgreSQL came back");
  s_publish_n (cfg, "after", N_AFTER, ids + N_BEFORE);

  at_store_t *store = at_store_new (conninfo, "test");
  void *worker = at_bus_dealer_new (broker.endpoint, NULL);
  tb_ready_cmd (worker, AT_STAGE_ROUTE, 64, "pgr-worker");
  s_check_exactly_once (store, worker, ids);
  IT_CHECK (it_stop (broker.pid, SIGTERM, 10000) == 0, "broker exit status");
  at_bus_socket_close (&worker);
  at_store_destroy (&store);
  at_config_destroy (&cfg);
  printf ("test_bus_pgrestart: ok\n");
  return 0;
}
