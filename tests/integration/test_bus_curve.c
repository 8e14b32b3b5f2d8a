/* The bus with CURVE on (README "Bus security"): a real broker with a
 * secret key and a list of admitted client keys by role, real clients.
 *   a. a publisher whose key is listed publishes and gets its confirm;
 *   b. a key that is not listed, and a client without CURVE, get nothing
 *      through: no confirm, no row, the handshake denied and counted;
 *   c. a key listed as worker:notify cannot Ready for ingest nor Publish
 *      (Reject, counted as forbidden), and can Ready for notify and
 *      receive its deliveries;
 *   d. two keys listed for one role both work (rotation);
 *   e. real `atende worker` processes: with the worker:notify key, notify
 *      registers and stays ready (the broker's heartbeats reach it); route
 *      is refused (forbidden) and never becomes ready. */
#include "it.h"
#include "test_bus_wire.h"
#include "at_config.h"
#include "at_publisher.h"
#include "at_zmq.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_ROWS "SELECT count(*) FROM bus_message"

typedef struct {
  char pub[AT_CURVE_Z85_LEN + 1];
  char sec[AT_CURVE_Z85_LEN + 1];
} s_pair_t;

static tb_broker_t s_broker;
static s_pair_t s_server, s_pub_old, s_pub_new, s_notify, s_stranger;

static void
s_keys (void)
{
  s_pair_t *all[] = {&s_server, &s_pub_old, &s_pub_new, &s_notify, &s_stranger};
  for (size_t i = 0; i < AT_ARRAY_LEN (all); i++)
    IT_CHECK (zmq_curve_keypair (all[i]->pub, all[i]->sec) == 0, "libzmq without CURVE");
}

static void
s_broker_start (const char *conninfo)
{
  static char secret[96], clients[320];
  snprintf (secret, sizeof secret, "ATENDE_BUS_CURVE_SECRET=%s", s_server.sec);
  snprintf (clients, sizeof clients, "ATENDE_BUS_CURVE_CLIENTS=publisher=%s+%s,worker:notify=%s",
            s_pub_old.pub, s_pub_new.pub, s_notify.pub);
  const char *extra[] = {secret, clients, NULL};
  tb_broker_start (&s_broker, "broker", conninfo, extra);
  IT_CHECK (it_wait_until (tb_ready, &s_broker, 15000), "broker not ready (see broker.log)");
}

/* The settings of a client with this pair (NULL: a client without CURVE). */
static at_config_t *
s_client_cfg (const s_pair_t *pair)
{
  if (pair) {
    setenv ("ATENDE_BUS_CURVE_SERVER_KEY", s_server.pub, 1);
    setenv ("ATENDE_BUS_CURVE_CLIENT_PUBLIC", pair->pub, 1);
    setenv ("ATENDE_BUS_CURVE_CLIENT_SECRET", pair->sec, 1);
  }
  at_config_t *cfg = at_config_from_env ();
  unsetenv ("ATENDE_BUS_CURVE_SERVER_KEY");
  unsetenv ("ATENDE_BUS_CURVE_CLIENT_PUBLIC");
  unsetenv ("ATENDE_BUS_CURVE_CLIENT_SECRET");
  IT_CHECK (cfg != NULL, "client settings");
  return cfg;
}

/* One message through a publisher with this pair: the publisher's answer. */
static int
s_publish_one (const s_pair_t *pair, const char *stage, const char *type, const char *key)
{
  at_config_t *cfg = s_client_cfg (pair);
  at_publisher_t *pub = at_publisher_new (cfg);
  IT_CHECK (pub != NULL, "publisher");
  at_msg_t *m = at_msg_new (stage, type, key, NULL, "curve", 5);
  int rc = AT_AGAIN;
  int64_t deadline = at_mono_ms () + (pair == &s_stranger || pair == NULL ? 2500 : 15000);
  while (rc != AT_OK && rc != AT_INVALID && at_mono_ms () < deadline) {
    int retry_after = 0;
    rc = at_publisher_send (pub, &m, 1, &retry_after);
  }
  at_msg_destroy (&m);
  at_publisher_destroy (&pub);
  at_config_destroy (&cfg);
  return rc;
}

/* a and d: both publisher keys get their confirm, each a committed row. */
static void
s_listed_publishers (PGconn *db)
{
  IT_CHECK (s_publish_one (&s_pub_old, AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, "k-old") == AT_OK,
            "a listed publisher got no confirm");
  IT_CHECK (it_db_scalar (db, S_ROWS) == 1, "rows: %lld", it_db_scalar (db, S_ROWS));
  IT_CHECK (s_publish_one (&s_pub_new, AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, "k-new") == AT_OK,
            "the second key of the publisher role got no confirm");
  IT_CHECK (it_db_scalar (db, S_ROWS) == 2, "rows: %lld", it_db_scalar (db, S_ROWS));
}

/* b: an unlisted key and a plain client get nothing through. */
static void
s_strangers (PGconn *db)
{
  IT_CHECK (s_publish_one (&s_stranger, AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, "k-x") == AT_AGAIN,
            "an unlisted key was answered");
  IT_CHECK (s_publish_one (NULL, AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, "k-plain") == AT_AGAIN,
            "a client without CURVE was answered");
  IT_CHECK (it_db_scalar (db, S_ROWS) == 2, "rows after strangers: %lld",
            it_db_scalar (db, S_ROWS));
  IT_CHECK (tb_wait_metric (&s_broker, "atende_bus_rejected_total{reason=\"denied\"}", 1, 5000) >= 1,
            "the unlisted key's handshake was not counted as denied");
}

static void
s_expect_forbidden (void *socket, uint64_t correlation, const char *what)
{
  Atende__Bus__Command *cmd = tb_recv_kind (socket, ATENDE__BUS__COMMAND__BODY_REJECT, 5000);
  IT_CHECK (cmd != NULL, "no Reject for %s", what);
  IT_CHECK (cmd->reject->reason && strstr (cmd->reject->reason, "forbidden"),
            "Reject for %s says '%s'", what, cmd->reject->reason ? cmd->reject->reason : "");
  IT_CHECK (cmd->reject->correlation == correlation, "Reject for %s: correlation %llu", what,
            (unsigned long long) cmd->reject->correlation);
  atende__bus__command__free_unpacked (cmd, NULL);
}

/* A Publish sent by hand on a worker's socket. */
static void
s_send_publish (void *socket, uint64_t correlation)
{
  at_msg_t *m = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, "k-w", NULL, "w", 1);
  Atende__Bus__Envelope env;
  at_msg_to_pb (m, &env);
  Atende__Bus__Envelope *envs[] = {&env};
  Atende__Bus__Publish publish = ATENDE__BUS__PUBLISH__INIT;
  publish.correlation = correlation;
  publish.n_envelopes = 1;
  publish.envelopes = envs;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_PUBLISH;
  cmd.publish = &publish;
  tb_send (socket, &cmd);
  at_msg_destroy (&m);
}

/* c: a worker:notify key may work notify, and nothing else. */
static void
s_worker_role (PGconn *db)
{
  at_bus_curve_t curve;
  at_strlcpy (curve.server, s_server.pub, sizeof curve.server);
  at_strlcpy (curve.public_key, s_notify.pub, sizeof curve.public_key);
  at_strlcpy (curve.secret_key, s_notify.sec, sizeof curve.secret_key);
  void *worker = at_bus_dealer_new (s_broker.endpoint, &curve);
  IT_CHECK (worker != NULL, "worker socket");
  tb_ready_cmd (worker, AT_STAGE_INGEST, 8, "notify-key-as-ingest");
  s_expect_forbidden (worker, 0, "Ready for ingest");
  s_send_publish (worker, 4242);
  s_expect_forbidden (worker, 4242, "Publish from a worker key");
  IT_CHECK (tb_wait_metric (&s_broker, "atende_bus_rejected_total{reason=\"forbidden\"}", 2, 5000)
              == 2, "forbidden commands not counted");
  IT_CHECK (it_db_scalar (db, S_ROWS) == 2, "a worker key's Publish wrote a row");

  tb_ready_cmd (worker, AT_STAGE_NOTIFY, 8, "notify-worker");
  IT_CHECK (s_publish_one (&s_pub_new, AT_STAGE_NOTIFY, AT_TYPE_NOTIFICATION_SEND, "k-n") == AT_OK,
            "publish for notify");
  Atende__Bus__Command *cmd = tb_recv_kind (worker, ATENDE__BUS__COMMAND__BODY_DELIVER, 15000);
  IT_CHECK (cmd != NULL && cmd->deliver->n_envelopes == 1, "the notify worker got no delivery");
  char *done[] = {cmd->deliver->envelopes[0]->id};
  tb_settle (worker, done, 1);
  atende__bus__command__free_unpacked (cmd, NULL);
  IT_CHECK (tb_wait_metric (&s_broker, "atende_broker_workers", 1, 5000) == 1,
            "the broker does not count the notify worker");
  at_bus_socket_close (&worker);
}

/* A real worker process of stage with the worker:notify key; its metrics port. */
static pid_t
s_worker_spawn (const char *stage, const char *conninfo, int port)
{
  static char env[7][640];
  snprintf (env[0], sizeof env[0], "ATENDE_DATABASE_URL=%s", conninfo);
  snprintf (env[1], sizeof env[1], "ATENDE_BROKER_ENDPOINTS=%s", s_broker.endpoint);
  snprintf (env[2], sizeof env[2], "ATENDE_WORKER_METRICS_PORT=%d", port);
  snprintf (env[3], sizeof env[3], "ATENDE_BUS_CURVE_SERVER_KEY=%s", s_server.pub);
  snprintf (env[4], sizeof env[4], "ATENDE_BUS_CURVE_CLIENT_PUBLIC=%s", s_notify.pub);
  snprintf (env[5], sizeof env[5], "ATENDE_BUS_CURVE_CLIENT_SECRET=%s", s_notify.sec);
  snprintf (env[6], sizeof env[6], "ATENDE_WEBHOOK_SECRET=%s",
            "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=");   /* notify needs a provider */
  const char *envp[] = {env[0], env[1], env[2], env[3], env[4], env[5], env[6], NULL};
  const char *args[] = {"worker", stage, NULL};
  char name[32];
  snprintf (name, sizeof name, "worker_%s", stage);
  return it_spawn_atende (name, args, envp);
}

static long
s_worker_readyz (int port)
{
  char url[64];
  snprintf (url, sizeof url, "http://127.0.0.1:%d/readyz", port);
  return it_http ("GET", url, NULL, NULL, NULL);
}

static bool
s_not_ready (void *arg)
{
  return s_worker_readyz (*(int *) arg) == 503;
}

static bool
s_ready (void *arg)
{
  return s_worker_readyz (*(int *) arg) == 200;
}

static bool
s_no_workers (void *arg)
{
  (void) arg;
  return tb_metric (&s_broker, "atende_broker_workers") == 0;
}

/* e: the worker loop's own sockets (workers/wrk_link.c) under CURVE. */
static void
s_real_workers (const char *conninfo)
{
  /* the hand-made worker of c is gone once the broker misses its heartbeats */
  IT_CHECK (it_wait_until (s_no_workers, NULL, 15000), "the closed test worker is still counted");
  int notify_port = it_free_port (), route_port = it_free_port ();
  pid_t notify = s_worker_spawn (AT_STAGE_NOTIFY, conninfo, notify_port);
  pid_t route = s_worker_spawn (AT_STAGE_ROUTE, conninfo, route_port);
  double before = tb_metric (&s_broker, "atende_bus_rejected_total{reason=\"forbidden\"}");
  IT_CHECK (tb_wait_metric (&s_broker, "atende_bus_rejected_total{reason=\"forbidden\"}",
                            before + 1, 15000) >= before + 1,
            "the route worker's Ready with a worker:notify key was not refused");
  IT_CHECK (it_wait_until (s_not_ready, &route_port, 15000),
            "a route worker with a worker:notify key became ready (see worker_route.log)");
  /* the one worker the broker registers is notify's (route's Ready is refused) */
  IT_CHECK (tb_wait_metric (&s_broker, "atende_broker_workers", 1, 15000) == 1,
            "the broker did not register the notify worker (see worker_notify.log)");
  IT_CHECK (it_wait_until (s_ready, &notify_port, 15000),
            "the notify worker is not ready (see worker_notify.log)");
  IT_CHECK (it_stop (notify, SIGTERM, 15000) == 0, "notify worker did not exit 0");
  it_stop (route, SIGTERM, 15000);
}

int
main (void)
{
  it_require_pg ();
  static char conninfo[512];
  at_strlcpy (conninfo, it_db_create ("bus_curve", true), sizeof conninfo);
  PGconn *db = it_db_connect (conninfo);
  s_keys ();
  s_broker_start (conninfo);
  setenv ("ATENDE_BROKER_ENDPOINTS", s_broker.endpoint, 1);
  setenv ("ATENDE_PUBLISH_TIMEOUT_MS", "1000", 1);

  s_listed_publishers (db);
  s_strangers (db);
  s_worker_role (db);
  IT_CHECK (tb_metric (&s_broker, "atende_bus_rejected_total{reason=\"forbidden\"}") == 2,
            "forbidden count changed after the allowed commands");
  s_real_workers (conninfo);

  IT_CHECK (it_stop (s_broker.pid, SIGTERM, 15000) == 0, "broker did not exit 0 on SIGTERM");
  PQfinish (db);
  printf ("test_bus_curve: ok\n");
  return 0;
}
