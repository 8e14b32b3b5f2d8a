/* The bus under pressure and over time, with a real broker and database:
 *   1. backpressure: with a small backlog limit the publisher gets Busy with
 *      a retry-after, never a silent drop: every confirmed message is a row,
 *      no refused one is; after the backlog drains publishes go through;
 *   2. delayed messages are never delivered before their not_before;
 *   3. leases: an unsettled message is redelivered after lease_ms at
 *      attempt + 1 to another worker and the first holder is fenced, while a
 *      message whose lease is extended (Extend) stays with its worker;
 *   4. SIGTERM drain: publishes get Busy at once, nothing more is delivered,
 *      the worker's in-flight message is settled, the broker exits 0;
 *   5. benchmark mode (ATENDE_BROKER_DURABLE=0) is refused without
 *      ATENDE_BROKER_BENCHMARK=1, and with it writes nothing;
 *   6. a Settle naming a produced message that has no committed row: the
 *      broker reads the rows back, never delivers the one without a row,
 *      counts it as uncommitted, and delivers the committed one. */
#include "test_bus_wire.h"
#include "at_config.h"
#include "at_store.h"
#include "at_store_bus.h"

#include <signal.h>
#include <sys/wait.h>

#define HEARTBEAT_MS 200
#define LEASE_MS 800
#define BACKLOG 100

static char s_conninfo[512];
static PGconn *s_db;
static at_store_t *s_store;
static tb_broker_t s_broker;

static long long
s_rows (void)
{
  return it_db_scalar (s_db, "SELECT count(*) FROM bus_message");
}

/* A worker takes every message of the stage and marks it done. */
static size_t
s_drain_all (void *worker, size_t want, int timeout_ms)
{
  static const char *stage = AT_STAGE_ROUTE;
  size_t done_total = 0;
  int64_t deadline = at_mono_ms () + timeout_ms;
  while (done_total < want && at_mono_ms () < deadline) {
    tb_heartbeat (worker);
    Atende__Bus__Command *cmd = tb_recv (worker, HEARTBEAT_MS);
    if (cmd && cmd->body_case == ATENDE__BUS__COMMAND__BODY_RECONNECT)
      tb_ready_cmd (worker, stage, 256, "bp-worker");   /* it forgot us while we published */
    if (cmd && cmd->body_case != ATENDE__BUS__COMMAND__BODY_DELIVER) {
      atende__bus__command__free_unpacked (cmd, NULL);
      continue;
    }
    if (cmd == NULL)
      continue;
    char *ids[1024];
    size_t n = 0;
    IT_CHECK (at_store_begin (s_store) == AT_OK, "begin");
    for (size_t i = 0; i < cmd->deliver->n_envelopes; i++) {
      Atende__Bus__Envelope *e = cmd->deliver->envelopes[i];
      IT_CHECK (at_store_bus_done (s_store, e->id, e->attempt) == AT_OK, "done %s", e->id);
      ids[n++] = e->id;
    }
    IT_CHECK (at_store_commit (s_store) == AT_OK, "commit");
    tb_settle (worker, ids, n);
    done_total += n;
    atende__bus__command__free_unpacked (cmd, NULL);
  }
  return done_total;
}

static void
s_backpressure (const at_config_t *cfg)
{
  at_publisher_t *pub = at_publisher_new (cfg);
  long long confirmed = 0, busy = 0;
  int last_retry_after = 0;
  for (int i = 0; i < 400 && busy < 20; i++) {
    char key[32];
    snprintf (key, sizeof key, "bp-%d", i);
    at_msg_t *m = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, key, NULL, "x", 1);
    int retry_after = 0;
    int rc = at_publisher_send (pub, &m, 1, &retry_after);
    IT_CHECK (rc == AT_OK || rc == AT_BUSY, "publish under pressure rc=%d", rc);
    if (rc == AT_OK)
      confirmed++;
    else {
      busy++;
      last_retry_after = retry_after;
      IT_CHECK (it_db_scalar (s_db, "SELECT count(*) FROM bus_message WHERE key = 'bp-0'") == 1,
                "first row");
    }
    at_msg_destroy (&m);
  }
  printf ("backpressure: confirmed=%lld busy=%lld retry_after_ms=%d rows=%lld\n", confirmed, busy,
          last_retry_after, s_rows ());
  IT_CHECK (busy > 0, "no Busy with a full backlog");
  IT_CHECK (confirmed >= BACKLOG - 5 && confirmed <= BACKLOG, "confirmed %lld of a %d backlog",
            confirmed, BACKLOG);
  IT_CHECK (last_retry_after >= 50 && last_retry_after <= 10000, "retry_after %d", last_retry_after);
  IT_CHECK (s_rows () == confirmed, "rows %lld != confirmed %lld: a drop or a ghost", s_rows (),
            confirmed);
  IT_CHECK (tb_wait_metric (&s_broker, "atende_bus_rejected_total{reason=\"busy\"}", (double) busy,
                            5000) >= (double) busy,
            "busy not counted");
  /* the backlog drains: publishing works again */
  void *worker = at_bus_dealer_new (s_broker.endpoint, NULL);
  tb_ready_cmd (worker, AT_STAGE_ROUTE, 256, "bp-worker");
  IT_CHECK (s_drain_all (worker, (size_t) confirmed, 20000) == (size_t) confirmed, "drain backlog");
  at_msg_t *m = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, "bp-after", NULL, "x", 1);
  tb_publish (pub, &m, 1);
  IT_CHECK (s_drain_all (worker, 1, 10000) == 1, "publish after drain delivered");
  at_msg_destroy (&m);
  at_bus_socket_close (&worker);
  at_publisher_destroy (&pub);
}

static void
s_delayed (const at_config_t *cfg)
{
  at_publisher_t *pub = at_publisher_new (cfg);
  at_msg_t *later = at_msg_new (AT_STAGE_SURVEY, AT_TYPE_TICKET_RESOLVED, "d-1", NULL, "later", 5);
  at_msg_t *now = at_msg_new (AT_STAGE_SURVEY, AT_TYPE_TICKET_RESOLVED, "d-2", NULL, "now", 3);
  later->not_before_us = at_now_us () + 1500 * 1000;
  at_msg_t *both[] = {later, now};
  tb_publish (pub, both, 2);
  void *worker = at_bus_dealer_new (s_broker.endpoint, NULL);
  tb_ready_cmd (worker, AT_STAGE_SURVEY, 16, "delay-worker");
  int got_later = 0, got_now = 0;
  int64_t deadline = at_mono_ms () + 15000;
  while ((!got_later || !got_now) && at_mono_ms () < deadline) {
    tb_heartbeat (worker);
    Atende__Bus__Command *cmd = tb_recv_kind (worker, ATENDE__BUS__COMMAND__BODY_DELIVER, HEARTBEAT_MS);
    if (cmd == NULL)
      continue;
    char *ids[16];
    size_t n = 0;
    for (size_t i = 0; i < cmd->deliver->n_envelopes; i++) {
      Atende__Bus__Envelope *e = cmd->deliver->envelopes[i];
      if (strcmp (e->id, later->id) == 0) {
        IT_CHECK (at_now_us () >= later->not_before_us, "delivered %lld us before not_before",
                  (long long) (later->not_before_us - at_now_us ()));
        got_later++;
      }
      else
        got_now++;
      IT_CHECK (at_store_bus_done (s_store, e->id, e->attempt) == AT_OK, "done");
      ids[n++] = e->id;
    }
    tb_settle (worker, ids, n);
    atende__bus__command__free_unpacked (cmd, NULL);
  }
  IT_CHECK (got_now == 1 && got_later == 1, "delayed: now=%d later=%d", got_now, got_later);
  at_msg_destroy (&later);
  at_msg_destroy (&now);
  at_bus_socket_close (&worker);
  at_publisher_destroy (&pub);
}

static void
s_leases (const at_config_t *cfg)
{
  at_publisher_t *pub = at_publisher_new (cfg);
  at_msg_t *kept = at_msg_new (AT_STAGE_NOTIFY, AT_TYPE_NOTIFICATION_SEND, "l-kept", NULL, "k", 1);
  at_msg_t *lost = at_msg_new (AT_STAGE_NOTIFY, AT_TYPE_NOTIFICATION_SEND, "l-lost", NULL, "l", 1);
  at_msg_t *both[] = {kept, lost};
  tb_publish (pub, both, 2);
  void *slow = at_bus_dealer_new (s_broker.endpoint, NULL);
  tb_ready_cmd (slow, AT_STAGE_NOTIFY, 2, "slow-worker");
  size_t got = 0;
  while (got < 2) {
    Atende__Bus__Command *cmd = tb_recv_kind (slow, ATENDE__BUS__COMMAND__BODY_DELIVER, 10000);
    IT_CHECK (cmd != NULL, "slow worker got %zu of 2", got);
    got += cmd->deliver->n_envelopes;
    atende__bus__command__free_unpacked (cmd, NULL);
  }
  void *other = at_bus_dealer_new (s_broker.endpoint, NULL);
  tb_ready_cmd (other, AT_STAGE_NOTIFY, 16, "other-worker");
  /* slow keeps heart-beating and extends only `kept`, for 3 leases */
  bool lost_moved = false;
  int64_t until = at_mono_ms () + 3 * LEASE_MS;
  while (at_mono_ms () < until) {
    char *ids[] = {kept->id};
    tb_heartbeat (slow);
    tb_extend (slow, ids, 1);
    tb_heartbeat (other);
    Atende__Bus__Command *cmd = tb_recv_kind (other, ATENDE__BUS__COMMAND__BODY_DELIVER, LEASE_MS / 4);
    if (cmd == NULL)
      continue;
    for (size_t i = 0; i < cmd->deliver->n_envelopes; i++) {
      Atende__Bus__Envelope *e = cmd->deliver->envelopes[i];
      IT_CHECK (strcmp (e->id, lost->id) == 0, "an extended lease was redelivered");
      IT_CHECK (e->attempt == 2, "redelivered at attempt %u", e->attempt);
      IT_CHECK (at_store_bus_done (s_store, e->id, 1) == AT_STALE, "first holder not fenced");
      IT_CHECK (at_store_bus_done (s_store, e->id, 2) == AT_OK, "new holder's done");
      char *ids2[] = {e->id};
      tb_settle (other, ids2, 1);
      lost_moved = true;
    }
    atende__bus__command__free_unpacked (cmd, NULL);
  }
  IT_CHECK (lost_moved, "an unsettled lease was not redelivered");
  IT_CHECK (at_store_bus_done (s_store, kept->id, 1) == AT_OK, "the extended lease was fenced");
  char *ids[] = {kept->id, lost->id};
  tb_settle (slow, ids, 2);
  IT_CHECK (tb_wait_metric (&s_broker, "atende_bus_redelivered_total{stage=\"notify\"}", 1, 5000) >= 1,
            "lease redelivery not counted");
  at_msg_destroy (&kept);
  at_msg_destroy (&lost);
  at_bus_socket_close (&slow);
  at_bus_socket_close (&other);
  at_publisher_destroy (&pub);
}

static bool
s_exited (void *arg)
{
  siginfo_t info;
  memset (&info, 0, sizeof info);
  return waitid (P_PID, (id_t) * (pid_t *) arg, &info, WEXITED | WNOHANG | WNOWAIT) == 0
         && info.si_pid == *(pid_t *) arg;   /* exited; it_stop reaps it */
}

static void
s_drain (const at_config_t *cfg)
{
  at_publisher_t *pub = at_publisher_new (cfg);
  at_msg_t *m = at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, "dr-1", NULL, "d", 1);
  tb_publish (pub, &m, 1);
  void *worker = at_bus_dealer_new (s_broker.endpoint, NULL);
  tb_ready_cmd (worker, AT_STAGE_INGEST, 16, "drain-worker");
  Atende__Bus__Command *held = tb_recv_kind (worker, ATENDE__BUS__COMMAND__BODY_DELIVER, 10000);
  IT_CHECK (held != NULL, "drain: no delivery");
  kill (s_broker.pid, SIGTERM);
  IT_CHECK (it_wait_until (tb_not_ready, &s_broker, 5000), "not unready while draining");
  at_msg_t *after = at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, "dr-2", NULL, "d", 1);
  int retry_after = 0;
  IT_CHECK (at_publisher_send (pub, &after, 1, &retry_after) == AT_BUSY && retry_after > 0,
            "a publish while draining is not told Busy");
  tb_heartbeat (worker);
  Atende__Bus__Command *more = tb_recv_kind (worker, ATENDE__BUS__COMMAND__BODY_DELIVER, 300);
  IT_CHECK (more == NULL, "delivered while draining");
  Atende__Bus__Envelope *e = held->deliver->envelopes[0];
  IT_CHECK (at_store_bus_done (s_store, e->id, e->attempt) == AT_OK, "done while draining");
  char *ids[] = {e->id};
  tb_settle (worker, ids, 1);
  IT_CHECK (it_wait_until (s_exited, &s_broker.pid, 5000), "broker still running after settle");
  IT_CHECK (it_stop (s_broker.pid, SIGTERM, 1000) == 0, "broker exit status");
  IT_CHECK (s_rows () == 0, "rows left: %lld", s_rows ());
  atende__bus__command__free_unpacked (held, NULL);
  at_msg_destroy (&m);
  at_msg_destroy (&after);
  at_bus_socket_close (&worker);
  at_publisher_destroy (&pub);
}

/* Produced messages are queued only from their rows: a Settle's envelope
 * without a row (a worker that settled before its COMMIT, or a hostile
 * peer) is dropped and counted. */
static void
s_uncommitted (void)
{
  at_msg_t *msgs[2] = {
    at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, "produced-row", NULL, "r", 1),
    at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, "produced-none", NULL, "n", 1)};
  size_t inserted = 0;
  IT_CHECK (at_store_bus_insert (s_store, msgs, 1, &inserted) == AT_OK && inserted == 1,
            "the committed produced row");
  void *worker = at_bus_dealer_new (s_broker.endpoint, NULL);
  tb_ready_cmd (worker, AT_STAGE_ROUTE, 8, "uncommitted-worker");
  tb_settle_produced (worker, msgs, 2);
  IT_CHECK (tb_wait_metric (&s_broker, "atende_bus_rejected_total{reason=\"uncommitted\"}", 1,
                            10000) == 1, "the produced message without a row counted");
  bool row_seen = false;
  int64_t deadline = at_mono_ms () + 10000;
  while (!row_seen && at_mono_ms () < deadline) {
    tb_heartbeat (worker);
    Atende__Bus__Command *cmd = tb_recv_kind (worker, ATENDE__BUS__COMMAND__BODY_DELIVER,
                                              HEARTBEAT_MS);
    for (size_t i = 0; cmd && i < cmd->deliver->n_envelopes; i++) {
      const char *id = cmd->deliver->envelopes[i]->id;
      IT_CHECK (strcmp (id, msgs[1]->id) != 0, "a produced message with no row was delivered");
      row_seen |= strcmp (id, msgs[0]->id) == 0;
      IT_CHECK (at_store_bus_done (s_store, id, cmd->deliver->envelopes[i]->attempt) == AT_OK,
                "done");
      char *ids[] = {(char *) id};
      tb_settle (worker, ids, 1);
    }
    if (cmd)
      atende__bus__command__free_unpacked (cmd, NULL);
  }
  IT_CHECK (row_seen, "the committed produced message was not delivered");
  at_bus_socket_close (&worker);
  at_msg_destroy (&msgs[0]);
  at_msg_destroy (&msgs[1]);
}

/* Benchmark mode: refused unless asked for twice; then confirms on receipt,
 * writes nothing and still delivers. */
static void
s_nondurable (void)
{
  tb_broker_t b = {0};
  const char *refused[] = {"ATENDE_BROKER_DURABLE=0", NULL};
  tb_broker_start (&b, "broker-nd-refused", s_conninfo, refused);
  IT_CHECK (it_wait_until (s_exited, &b.pid, 10000), "DURABLE=0 without BENCHMARK=1 still runs");
  int status = it_stop (b.pid, SIGTERM, 1000);
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 2, "refusal status %d", status);
  tb_broker_t nd = {0};
  const char *allowed[] = {"ATENDE_BROKER_DURABLE=0", "ATENDE_BROKER_BENCHMARK=1", NULL};
  tb_broker_start (&nd, "broker-nd", s_conninfo, allowed);
  IT_CHECK (it_wait_until (tb_ready, &nd, 15000), "benchmark broker not ready");
  setenv ("ATENDE_BROKER_ENDPOINTS", nd.endpoint, 1);
  at_config_t *cfg = at_config_from_env ();
  at_publisher_t *pub = at_publisher_new (cfg);
  at_msg_t *m = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, "nd", NULL, "n", 1);
  tb_publish (pub, &m, 1);
  IT_CHECK (s_rows () == 0, "benchmark mode wrote to PostgreSQL");
  void *worker = at_bus_dealer_new (nd.endpoint, NULL);
  tb_ready_cmd (worker, AT_STAGE_ROUTE, 8, "nd-worker");
  Atende__Bus__Command *cmd = tb_recv_kind (worker, ATENDE__BUS__COMMAND__BODY_DELIVER, 5000);
  IT_CHECK (cmd && strcmp (cmd->deliver->envelopes[0]->id, m->id) == 0, "benchmark mode delivery");
  char *ids[] = {m->id};
  tb_settle (worker, ids, 1);
  atende__bus__command__free_unpacked (cmd, NULL);
  IT_CHECK (tb_metric (&nd, "atende_broker_durable") == 0, "durable gauge");
  IT_CHECK (it_stop (nd.pid, SIGTERM, 10000) == 0, "benchmark broker exit");
  at_bus_socket_close (&worker);
  at_msg_destroy (&m);
  at_publisher_destroy (&pub);
  at_config_destroy (&cfg);
}

int
main (void)
{
  it_require_pg ();
  at_strlcpy (s_conninfo, it_db_create ("bus_flow", true), sizeof s_conninfo);
  s_db = it_db_connect (s_conninfo);
  s_store = at_store_new (s_conninfo, "test");
  static char backlog[64], lease[64], hb[64];
  snprintf (backlog, sizeof backlog, "ATENDE_BUS_BACKLOG_MAX=%d", BACKLOG);
  snprintf (lease, sizeof lease, "ATENDE_LEASE_MS=%d", LEASE_MS);
  snprintf (hb, sizeof hb, "ATENDE_HEARTBEAT_MS=%d", HEARTBEAT_MS);
  const char *extra[] = {backlog, lease, hb, NULL};
  tb_broker_start (&s_broker, "broker", s_conninfo, extra);
  IT_CHECK (it_wait_until (tb_ready, &s_broker, 15000), "broker not ready (see broker.log)");
  setenv ("ATENDE_BROKER_ENDPOINTS", s_broker.endpoint, 1);
  setenv ("ATENDE_PUBLISH_TIMEOUT_MS", "3000", 1);
  at_config_t *cfg = at_config_from_env ();

  s_backpressure (cfg);
  s_delayed (cfg);
  s_leases (cfg);
  s_uncommitted ();
  s_drain (cfg);
  s_nondurable ();

  at_config_destroy (&cfg);
  at_store_destroy (&s_store);
  PQfinish (s_db);
  printf ("test_bus_flow: ok\n");
  return 0;
}
