/* A worker survives a PostgreSQL restart and says so on /readyz. On its own
 * cluster (tests/pg.sh in a private directory: the shared one is not
 * restarted under the other tests):
 *   - messages flow, /readyz is 200;
 *   - PostgreSQL stops: /readyz turns 503 (and /healthz stays 200);
 *   - PostgreSQL starts again: the worker reconnects with backoff, /readyz is
 *     200 again, new messages are applied; every message exactly once. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "it.h"
#include "at_publisher.h"
#include "at_common.h"
#include "at_config.h"
#include "at_msg.h"
#include "domain.pb-c.h"

#define N 200
#define WAIT_MS 60000

static char s_dir[128], s_pg_sh[512], s_db[256], s_endpoint[64];
static char s_env_db[400], s_env_bind[96], s_env_eps[96], s_env_port[64];

static const char *const *
s_env (void)
{
  static const char *env[12];
  const char *list[] = {s_env_db, s_env_bind, s_env_eps, s_env_port, "ATENDE_HEARTBEAT_MS=200",
                        "ATENDE_BROKER_METRICS_PORT=0", "ATENDE_BROKER_SWEEP_MS=100",
                        "ATENDE_RETRY_BASE_MS=10", "ATENDE_RETRY_MAX_MS=100", NULL};
  memcpy (env, list, sizeof list);
  return env;
}

static int
s_pg (const char *what)
{
  char cmd[1024];
  snprintf (cmd, sizeof cmd, "bash %s %s %s >/dev/null 2>&1", s_pg_sh, what, s_dir);
  return system (cmd);
}

/* The private cluster goes away however the test ends. */
static void
s_cleanup (void)
{
  s_pg ("stop");
}

static at_msg_t *
s_inbound (int i)
{
  char handle[64], key[96], provider_id[64];
  snprintf (handle, sizeof handle, "reinicio%d@example.com.br", i);
  snprintf (key, sizeof key, "email:%s", handle);
  snprintf (provider_id, sizeof provider_id, "pgrestart-%d", i);
  Atende__InboundMessage in = ATENDE__INBOUND_MESSAGE__INIT;
  in.channel = "email";
  in.handle = handle;
  in.name = "Cliente";
  in.text = "Meu pedido atrasou.";
  in.provider_message_id = provider_id;
  in.received_us = at_now_us ();
  in.language = "pt";
  uint8_t buf[512];
  size_t len = atende__inbound_message__get_packed_size (&in);
  IT_CHECK (len <= sizeof buf, "size");
  atende__inbound_message__pack (&in, buf);
  at_msg_t *m = at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, key, NULL, buf, len);
  IT_CHECK (m != NULL, "message");
  return m;
}

static void
s_publish (at_publisher_t *pub, int from, int n)
{
  for (int i = from; i < from + n; i++) {
    at_msg_t *m = s_inbound (i);
    int retry_after = 0, tries = 0, rc;
    while ((rc = at_publisher_send (pub, &m, 1, &retry_after)) == AT_AGAIN || rc == AT_BUSY) {
      IT_CHECK (++tries < 300, "publish keeps failing rc=%d", rc);
      struct timespec ts = {0, 100 * 1000 * 1000};
      nanosleep (&ts, NULL);
    }
    IT_CHECK (rc == AT_OK, "publish rc=%d", rc);
    at_msg_destroy (&m);
  }
}

typedef struct {
  const char *url;
  long want;
} s_status_t;

static bool
s_status_is (void *arg)
{
  s_status_t *s = arg;
  return it_http ("GET", s->url, NULL, NULL, NULL) == s->want;
}

/* What the steps share: how to halt the cluster, the worker's probes, a
 * publisher and the worker. */
typedef struct {
  char halt[600];                 /* pg_ctl, as the cluster's owner */
  char ready[96], health[96];
  at_publisher_t *pub;
  pid_t worker;
} s_wpg_t;

/* The private cluster, started (and stopped at exit), and how to halt it. */
static void
s_private_cluster (s_wpg_t *w)
{
  snprintf (s_dir, sizeof s_dir, "/tmp/atende-wpg-%ld", (long) getpid ());
  const char *here = __FILE__;   /* <src>/tests/integration/test_worker_pgrestart.c */
  const char *cut = strstr (here, "/integration/");
  IT_CHECK (cut != NULL, "source path %s", here);
  snprintf (s_pg_sh, sizeof s_pg_sh, "%.*s/pg.sh", (int) (cut - here), here);
  atexit (s_cleanup);
  IT_CHECK (s_pg ("start") == 0, "private cluster starts");
  /* pg_ctl for the halt: the same binaries pg.sh found */
  snprintf (w->halt, sizeof w->halt,
            "runuser -u postgres -- $(ls -d /usr/lib/postgresql/*/bin | tail -1)/pg_ctl");
  if (getuid () != 0)
    snprintf (w->halt, sizeof w->halt, "$(ls -d /usr/lib/postgresql/*/bin | tail -1)/pg_ctl");
}

/* The processes' settings on the private cluster, the worker's probes. */
static void
s_settings (s_wpg_t *w)
{
  snprintf (s_db, sizeof s_db, "host=%s port=5432 user=postgres dbname=postgres", s_dir);
  snprintf (s_endpoint, sizeof s_endpoint, "tcp://127.0.0.1:%d", it_free_port ());
  snprintf (s_env_db, sizeof s_env_db, "ATENDE_DATABASE_URL=%s", s_db);
  snprintf (s_env_bind, sizeof s_env_bind, "ATENDE_BROKER_BIND=%s", s_endpoint);
  snprintf (s_env_eps, sizeof s_env_eps, "ATENDE_BROKER_ENDPOINTS=%s", s_endpoint);
  int port = it_free_port ();
  snprintf (s_env_port, sizeof s_env_port, "ATENDE_WORKER_METRICS_PORT=%d", port);
  snprintf (w->ready, sizeof w->ready, "http://127.0.0.1:%d/readyz", port);
  snprintf (w->health, sizeof w->health, "http://127.0.0.1:%d/healthz", port);
}

/* 1. flowing and ready */
static void
s_check_flowing (const s_wpg_t *w, PGconn *conn)
{
  s_status_t is_ready = {w->ready, 200};
  IT_CHECK (it_wait_until (s_status_is, &is_ready, 20000), "ready at start");
  s_publish (w->pub, 0, N);
  IT_CHECK (it_wait_scalar (conn, "SELECT count(*) FROM ticket_message", N, WAIT_MS) == N,
            "first messages applied");
}

/* 2. PostgreSQL down: not ready, still alive */
static void
s_check_down (const s_wpg_t *w)
{
  s_status_t not_ready = {w->ready, 503};
  char cmd[1024];
  snprintf (cmd, sizeof cmd, "%s -D %s/data -m fast stop >/dev/null 2>&1", w->halt, s_dir);
  IT_CHECK (system (cmd) == 0, "PostgreSQL stops");
  IT_CHECK (it_wait_until (s_status_is, &not_ready, 20000), "/readyz 503 while the store is down");
  IT_CHECK (it_http ("GET", w->health, NULL, NULL, NULL) == 200, "/healthz 200 meanwhile");
}

/* 3. back: ready again, and it works */
static void
s_check_back (const s_wpg_t *w)
{
  s_status_t is_ready = {w->ready, 200};
  IT_CHECK (s_pg ("start") == 0, "PostgreSQL starts again");
  IT_CHECK (it_wait_until (s_status_is, &is_ready, 30000), "/readyz 200 again");
  s_publish (w->pub, N, N);
  PGconn *conn = it_db_connect (s_db);
  long long applied = it_wait_scalar (conn, "SELECT count(*) FROM ticket_message", 2 * N, WAIT_MS);
  IT_CHECK (applied == 2 * N, "all applied after the restart: %lld", applied);
  IT_CHECK (it_db_scalar (conn, "SELECT count(DISTINCT bus_message_id) FROM ticket_message")
            == 2 * N, "none applied twice");
  IT_CHECK (kill (w->worker, 0) == 0, "the worker survived");
  PQfinish (conn);
}

int
main (void)
{
  it_require_pg ();   /* the suite's fixture is there: so is PostgreSQL */
  s_wpg_t w = {.pub = NULL};
  s_private_cluster (&w);
  s_settings (&w);

  const char *migrate_args[] = {"migrate", "--wait", "10", NULL};
  int status = it_stop (it_spawn_atende ("migrate", migrate_args, s_env ()), 0, 30000);
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "migrate");
  PGconn *conn = it_db_connect (s_db);
  const char *broker_args[] = {"broker", NULL}, *worker_args[] = {"worker", "ingest", NULL};
  pid_t broker = it_spawn_atende ("broker", broker_args, s_env ());
  w.worker = it_spawn_atende ("worker", worker_args, s_env ());
  setenv ("ATENDE_BROKER_ENDPOINTS", s_endpoint, 1);
  at_config_t *cfg = at_config_from_env ();
  w.pub = at_publisher_new (cfg);

  s_check_flowing (&w, conn);
  PQfinish (conn);
  s_check_down (&w);
  s_check_back (&w);

  status = it_stop (w.worker, SIGTERM, 20000);
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "worker exits 0");
  it_stop (broker, SIGTERM, 10000);
  at_publisher_destroy (&w.pub);
  at_config_destroy (&cfg);
  printf ("worker pg restart: ok\n");
  return 0;
}
