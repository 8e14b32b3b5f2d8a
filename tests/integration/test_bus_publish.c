/* The bus end to end with a real broker process and a real database:
 *   1. messages published through at_publisher_send are committed rows;
 *   2. after kill -9 of the broker, a new broker delivers every row exactly
 *      once to a worker speaking the protocol by hand (Ready/Deliver/Settle),
 *      never two messages of one key in one batch;
 *   3. malformed frames, a wrong version and an invalid envelope get Reject
 *      and the broker keeps serving;
 *   4. a worker that goes silent loses its lease: its messages go to another
 *      worker at attempt + 1 and its own late commit is fenced. */
#include "it.h"
#include "test_bus_wire.h"
#include "at_publisher.h"
#include "at_config.h"
#include "at_msg_pb.h"
#include "at_store.h"
#include "at_store_bus.h"
#include "at_zmq.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define N_MESSAGES 400
#define N_KEYS 17
#define HEARTBEAT_MS 200

static char s_endpoint[64];
static char s_conninfo[512];
static int s_metrics_port;

static pid_t
s_broker_start (const char *logname)
{
  static char env_db[600], env_bind[96], env_metrics[64], env_hb[64];
  snprintf (env_db, sizeof env_db, "ATENDE_DATABASE_URL=%s", s_conninfo);
  snprintf (env_bind, sizeof env_bind, "ATENDE_BROKER_BIND=%s", s_endpoint);
  snprintf (env_metrics, sizeof env_metrics, "ATENDE_BROKER_METRICS_PORT=%d", s_metrics_port);
  snprintf (env_hb, sizeof env_hb, "ATENDE_HEARTBEAT_MS=%d", HEARTBEAT_MS);
  const char *args[] = {"broker", NULL};
  const char *env[] = {env_db, env_bind, env_metrics, env_hb, "ATENDE_BROKER_SWEEP_MS=50", NULL};
  return it_spawn_atende (logname, args, env);
}

static bool
s_broker_ready (void *arg)
{
  (void) arg;
  char url[64];
  snprintf (url, sizeof url, "http://127.0.0.1:%d/readyz", s_metrics_port);
  return it_http ("GET", url, NULL, NULL, NULL) == 200;
}

static bool
s_metrics_counted (void *arg)
{
  (void) arg;
  char url[64], *body = NULL;
  snprintf (url, sizeof url, "http://127.0.0.1:%d/metrics", s_metrics_port);
  bool ok = it_http ("GET", url, NULL, NULL, &body) == 200 && body
            && strstr (body, "atende_bus_rejected_total{reason=\"malformed\"} 1\n") != NULL;
  /* at least the silent worker's 5: the closed test worker may have been
   * sent some of them before the broker saw it gone, and those come back too */
  const char *red = body ? strstr (body, "atende_bus_redelivered_total{stage=\"route\"} ") : NULL;
  ok = ok && red && strtol (red + strlen ("atende_bus_redelivered_total{stage=\"route\"} "), NULL, 10) >= 5;
  free (body);
  return ok;
}

/* ---- a worker (or raw client) speaking the protocol by hand ---- */

/* ---- the published set ---- */

typedef struct {
  char id[AT_ID_LEN];
  char key[AT_KEY_LEN];
  int seen;
} s_sent_t;

static s_sent_t s_sent[N_MESSAGES + 8];
static size_t s_n_sent;

static s_sent_t *
s_sent_find (const char *id)
{
  for (size_t i = 0; i < s_n_sent; i++)
    if (strcmp (s_sent[i].id, id) == 0)
      return &s_sent[i];
  return NULL;
}

static void
s_publish (at_publisher_t *pub, at_msg_t **msgs, size_t n)
{
  int64_t deadline = at_mono_ms () + 30000;
  for (;;) {
    int retry_after = 0;
    int rc = at_publisher_send (pub, msgs, n, &retry_after);
    if (rc == AT_OK)
      break;
    IT_CHECK (rc == AT_AGAIN || rc == AT_BUSY, "publish failed rc=%d", rc);
    IT_CHECK (at_mono_ms () < deadline, "publish not confirmed in time");
  }
  for (size_t i = 0; i < n; i++) {
    at_strlcpy (s_sent[s_n_sent].id, msgs[i]->id, AT_ID_LEN);
    at_strlcpy (s_sent[s_n_sent].key, msgs[i]->key, AT_KEY_LEN);
    s_n_sent++;
  }
}

static void
s_publish_all (const at_config_t *cfg)
{
  at_publisher_t *pub = at_publisher_new (cfg);
  IT_CHECK (pub != NULL, "publisher");
  at_msg_t *batch[40];
  for (int i = 0; i < N_MESSAGES; i += 40) {
    for (int j = 0; j < 40; j++) {
      char key[32], body[64];
      snprintf (key, sizeof key, "ticket-%d", (i + j) % N_KEYS);
      snprintf (body, sizeof body, "message %d", i + j);
      batch[j] = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, key, NULL, body, strlen (body));
    }
    s_publish (pub, batch, 40);
    for (int j = 0; j < 40; j++)
      at_msg_destroy (&batch[j]);
  }
  at_publisher_destroy (&pub);
}

/* Consumes Delivers as a worker until `want` messages were done, committing
 * each done row (the worker's DELETE ... WHERE id AND attempt) before
 * settling. Fails on a duplicate or on two messages of one key in a batch. */
static void
s_consume (void *worker, at_store_t *store, size_t want, int timeout_ms)
{
  size_t done_total = 0;
  int64_t deadline = at_mono_ms () + timeout_ms, next_beat = 0;
  while (done_total < want) {
    IT_CHECK (at_mono_ms () < deadline, "only %zu of %zu messages delivered", done_total, want);
    if (at_mono_ms () >= next_beat) {
      tb_heartbeat (worker);
      next_beat = at_mono_ms () + HEARTBEAT_MS;
    }
    Atende__Bus__Command *cmd = tb_recv (worker, HEARTBEAT_MS);
    if (cmd == NULL)
      continue;
    if (cmd->body_case == ATENDE__BUS__COMMAND__BODY_RECONNECT)
      tb_ready_cmd (worker, AT_STAGE_ROUTE, 64, "test-worker");
    if (cmd->body_case != ATENDE__BUS__COMMAND__BODY_DELIVER) {
      atende__bus__command__free_unpacked (cmd, NULL);
      continue;
    }
    Atende__Bus__Deliver *d = cmd->deliver;
    char *done[1024];
    size_t n_done = 0;
    IT_CHECK (at_store_begin (store) == AT_OK, "begin");
    for (size_t i = 0; i < d->n_envelopes; i++) {
      Atende__Bus__Envelope *e = d->envelopes[i];
      for (size_t k = 0; k < i; k++)
        IT_CHECK (strcmp (d->envelopes[k]->key, e->key) != 0, "key %s twice in one batch", e->key);
      s_sent_t *sent = s_sent_find (e->id);
      IT_CHECK (sent != NULL, "delivered a message never published: %s", e->id);
      int rc = at_store_bus_done (store, e->id, e->attempt);
      IT_CHECK (rc == AT_OK, "done %s attempt %u: rc=%d", e->id, e->attempt, rc);
      IT_CHECK (sent->seen == 0, "message %s delivered twice", e->id);
      sent->seen++;
      done[n_done++] = e->id;
    }
    IT_CHECK (at_store_commit (store) == AT_OK, "commit");
    tb_settle (worker, done, n_done);
    done_total += n_done;
    atende__bus__command__free_unpacked (cmd, NULL);
  }
}

static void
s_expect_reject (void *socket, const void *frame, size_t len, const char *what)
{
  IT_CHECK (zmq_send (socket, frame, len, 0) == (int) len, "send %s", what);
  Atende__Bus__Command *cmd = tb_recv_kind (socket, ATENDE__BUS__COMMAND__BODY_REJECT, 5000);
  IT_CHECK (cmd != NULL, "no Reject for %s", what);
  IT_CHECK (cmd->reject->reason && cmd->reject->reason[0], "Reject without reason for %s", what);
  atende__bus__command__free_unpacked (cmd, NULL);
}

static void
s_bad_input (void)
{
  void *raw = at_bus_dealer_new (s_endpoint, NULL);
  const uint8_t junk[] = {0xde, 0xad, 0xbe, 0xef, 0xff, 0xff};
  s_expect_reject (raw, junk, sizeof junk, "junk bytes");

  Atende__Bus__Heartbeat hb = ATENDE__BUS__HEARTBEAT__INIT;
  Atende__Bus__Command c = ATENDE__BUS__COMMAND__INIT;
  c.body_case = ATENDE__BUS__COMMAND__BODY_HEARTBEAT;
  c.heartbeat = &hb;
  c.version = 9;
  uint8_t buf[64];
  size_t len = atende__bus__command__pack (&c, buf);
  s_expect_reject (raw, buf, len, "version 9");

  /* an envelope for a stage that does not exist */
  at_msg_t *m = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, "k", NULL, "x", 1);
  Atende__Bus__Envelope env;
  at_msg_to_pb (m, &env);
  env.stage = "bogus";
  Atende__Bus__Envelope *envs[] = {&env};
  Atende__Bus__Publish publish = ATENDE__BUS__PUBLISH__INIT;
  publish.correlation = 77;
  publish.n_envelopes = 1;
  publish.envelopes = envs;
  Atende__Bus__Command pc = ATENDE__BUS__COMMAND__INIT;
  pc.body_case = ATENDE__BUS__COMMAND__BODY_PUBLISH;
  pc.publish = &publish;
  tb_send (raw, &pc);
  Atende__Bus__Command *cmd = tb_recv_kind (raw, ATENDE__BUS__COMMAND__BODY_REJECT, 5000);
  IT_CHECK (cmd != NULL && cmd->reject->correlation == 77, "no Reject for an unknown stage");
  atende__bus__command__free_unpacked (cmd, NULL);
  at_msg_destroy (&m);
  at_bus_socket_close (&raw);
}

/* A worker takes messages and goes silent: after three heartbeats another
 * worker gets them at attempt + 1, and the silent one is fenced. */
static void
s_lease_expiry (const at_config_t *cfg, at_store_t *store)
{
  at_publisher_t *pub = at_publisher_new (cfg);
  at_msg_t *batch[5];
  for (int j = 0; j < 5; j++) {
    char key[32];
    snprintf (key, sizeof key, "lease-%d", j);
    batch[j] = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, key, NULL, "lease", 5);
  }
  size_t first = s_n_sent;
  s_publish (pub, batch, 5);
  for (int j = 0; j < 5; j++)
    at_msg_destroy (&batch[j]);
  at_publisher_destroy (&pub);

  void *silent = at_bus_dealer_new (s_endpoint, NULL);
  tb_ready_cmd (silent, AT_STAGE_ROUTE, 5, "silent-worker");
  char held_id[AT_ID_LEN] = "";
  uint32_t held_attempt = 0;
  size_t got = 0;
  while (got < 5) {
    Atende__Bus__Command *cmd = tb_recv_kind (silent, ATENDE__BUS__COMMAND__BODY_DELIVER, 10000);
    IT_CHECK (cmd != NULL, "silent worker got %zu of 5", got);
    got += cmd->deliver->n_envelopes;
    at_strlcpy (held_id, cmd->deliver->envelopes[0]->id, sizeof held_id);
    held_attempt = cmd->deliver->envelopes[0]->attempt;
    atende__bus__command__free_unpacked (cmd, NULL);
  }
  /* it says nothing more; a live worker picks the messages up */
  void *live = at_bus_dealer_new (s_endpoint, NULL);
  tb_ready_cmd (live, AT_STAGE_ROUTE, 64, "live-worker");
  s_consume (live, store, 5, 20000);
  for (size_t i = first; i < s_n_sent; i++)
    IT_CHECK (s_sent[i].seen == 1, "lease message %s not redelivered", s_sent[i].id);
  IT_CHECK (at_store_bus_done (store, held_id, held_attempt) == AT_STALE,
            "the silent worker's late commit was not fenced");
  at_bus_socket_close (&silent);
  at_bus_socket_close (&live);
}

int
main (void)
{
  it_require_pg ();
  at_strlcpy (s_conninfo, it_db_create ("bus_publish", true), sizeof s_conninfo);
  snprintf (s_endpoint, sizeof s_endpoint, "tcp://127.0.0.1:%d", it_free_port ());
  s_metrics_port = it_free_port ();
  setenv ("ATENDE_BROKER_ENDPOINTS", s_endpoint, 1);
  setenv ("ATENDE_PUBLISH_TIMEOUT_MS", "2000", 1);
  at_config_t *cfg = at_config_from_env ();
  IT_CHECK (cfg != NULL, "config");
  PGconn *db = it_db_connect (s_conninfo);
  at_store_t *store = at_store_new (s_conninfo, "test");
  IT_CHECK (store != NULL, "store");

  pid_t broker = s_broker_start ("broker1");
  IT_CHECK (it_wait_until (s_broker_ready, NULL, 15000), "broker not ready (see broker1.log)");

  /* 1. publish: every confirmed message is a committed row */
  s_publish_all (cfg);
  IT_CHECK (it_db_scalar (db, "SELECT count(*) FROM bus_message") == N_MESSAGES,
            "rows after publish: %lld", it_db_scalar (db, "SELECT count(*) FROM bus_message"));

  /* 2. kill -9, restart: nothing lost, everything delivered exactly once */
  it_stop (broker, SIGKILL, 5000);
  IT_CHECK (it_db_scalar (db, "SELECT count(*) FROM bus_message") == N_MESSAGES,
            "rows after kill");
  broker = s_broker_start ("broker2");
  IT_CHECK (it_wait_until (s_broker_ready, NULL, 15000), "broker not ready (see broker2.log)");
  void *worker = at_bus_dealer_new (s_endpoint, NULL);
  tb_ready_cmd (worker, AT_STAGE_ROUTE, 64, "test-worker");
  s_consume (worker, store, N_MESSAGES, 60000);
  IT_CHECK (it_db_scalar (db, "SELECT count(*) FROM bus_message") == 0, "rows left after done");

  /* 3. bad input is refused and the broker keeps serving */
  s_bad_input ();
  at_publisher_t *pub = at_publisher_new (cfg);
  at_msg_t *m = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, "after", NULL, "ok", 2);
  s_publish (pub, &m, 1);
  at_msg_destroy (&m);
  at_publisher_destroy (&pub);
  s_consume (worker, store, 1, 20000);
  at_bus_socket_close (&worker);

  /* 4. leases */
  s_lease_expiry (cfg, store);
  IT_CHECK (it_db_scalar (db, "SELECT count(*) FROM bus_message") == 0, "rows left at the end");

  /* the metrics snapshot lags the loop by up to 100 ms */
  IT_CHECK (it_wait_until (s_metrics_counted, NULL, 5000), "rejects or redeliveries not counted");

  IT_CHECK (it_stop (broker, SIGTERM, 10000) == 0, "broker did not exit 0 on SIGTERM");
  at_store_destroy (&store);
  PQfinish (db);
  at_config_destroy (&cfg);
  printf ("test_bus_publish: ok\n");
  return 0;
}
