/* test_crash_util: what the bus's proofs share (test_crash_worker,
 * test_crash_broker, test_overload, test_scaleout, test_chaos).
 *
 *   - a cluster description (brokers, their endpoints, the database) and the
 *     environment of the real `atende broker|worker|api` processes;
 *   - the accounting tables: the test database loses its unique index on
 *     ticket_message.bus_message_id, so that a message applied twice shows
 *     as two rows, and gets a trigger that records every attempt increase
 *     of a bus row (a redelivery or a retry);
 *   - customers with an order, so that route answers every "where is my
 *     order" automatically and notify delivers the answer;
 *   - a load thread that publishes inbound messages and keeps the ids the
 *     broker confirmed apart from those it never answered (unsure: maybe
 *     committed, maybe not), since only confirmed ones are promised;
 *   - the final count: confirmed, applied, lost, doubled, redelivered.
 * Header only (static functions), so that each test stays one file. */
#ifndef TEST_CRASH_UTIL_H
#define TEST_CRASH_UTIL_H

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "it.h"
#include "at_publisher.h"
#include "at_common.h"
#include "at_config.h"
#include "at_msg.h"
#include "at_zmq.h"
#include "domain.pb-c.h"
#include "demo_receiver.h"

#define PF_UNUSED __attribute__ ((unused))
#define PF_BROKERS_MAX 4
#define PF_ENV_MAX 40
#define PF_ENV_LEN 700
#define PF_SECRET "whsec_YXRlbmRlLWJ1c3Byb29mLXdlYmhvb2stc2VjcmV0ISE="

/* --- small things */

static PF_UNUSED void
pf_nap_ms (long ms)
{
  /* pacing of the load and of retries after Busy; tests wait on conditions */
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep (&ts, &ts) != 0)
    ;
}

static PF_UNUSED long long
pf_q (PGconn *conn, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static PF_UNUSED long long
pf_q (PGconn *conn, const char *fmt, ...)
{
  char sql[2048];
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (sql, sizeof sql, fmt, ap);
  va_end (ap);
  IT_CHECK (n > 0 && (size_t) n < sizeof sql, "query too long");
  return it_db_scalar (conn, sql);
}

static PF_UNUSED void
pf_exec (PGconn *conn, const char *sql)
{
  PGresult *r = PQexec (conn, sql);
  ExecStatusType st = PQresultStatus (r);
  IT_CHECK (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s", sql,
            PQerrorMessage (conn));
  PQclear (r);
}

/* --- ids kept by the load (grows by doubling, capped) */

#define PF_IDS_CAP_MAX 2000000

typedef struct {
  char (*id)[AT_ID_LEN];
  size_t n, cap;
} pf_ids_t;

static PF_UNUSED void
pf_ids_add (pf_ids_t *ids, const char *id)
{
  if (ids->n == ids->cap) {
    IT_CHECK (ids->cap < PF_IDS_CAP_MAX, "more than %d ids", PF_IDS_CAP_MAX);
    ids->cap = ids->cap ? ids->cap * 2 : 1024;
    ids->id = realloc (ids->id, ids->cap * sizeof *ids->id);
    IT_CHECK (ids->id != NULL, "out of memory");
  }
  at_strlcpy (ids->id[ids->n++], id, AT_ID_LEN);
}

static PF_UNUSED void
pf_ids_free (pf_ids_t *ids)
{
  free (ids->id);
  memset (ids, 0, sizeof *ids);
}

/* Copies ids into table `table` (created: id uuid) with COPY. */
static PF_UNUSED void
pf_ids_store (PGconn *conn, const char *table, const pf_ids_t *ids)
{
  char sql[256];
  snprintf (sql, sizeof sql, "CREATE TABLE IF NOT EXISTS %s (id uuid)", table);
  pf_exec (conn, sql);
  snprintf (sql, sizeof sql, "COPY %s (id) FROM STDIN", table);
  PGresult *r = PQexec (conn, sql);
  IT_CHECK (PQresultStatus (r) == PGRES_COPY_IN, "%s: %s", sql, PQerrorMessage (conn));
  PQclear (r);
  for (size_t i = 0; i < ids->n; i++) {
    char line[AT_ID_LEN + 2];
    int len = snprintf (line, sizeof line, "%s\n", ids->id[i]);
    IT_CHECK (PQputCopyData (conn, line, len) == 1, "copy: %s", PQerrorMessage (conn));
  }
  IT_CHECK (PQputCopyEnd (conn, NULL) == 1, "copy end");
  r = PQgetResult (conn);
  IT_CHECK (PQresultStatus (r) == PGRES_COMMAND_OK, "copy: %s", PQerrorMessage (conn));
  PQclear (r);
  while ((r = PQgetResult (conn)) != NULL)
    PQclear (r);
}

/* --- the processes' environment */

typedef struct {
  char text[PF_ENV_MAX][PF_ENV_LEN];
  const char *v[PF_ENV_MAX + 1];
  int n;
} pf_env_t;

static PF_UNUSED void
pf_env_add (pf_env_t *e, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static PF_UNUSED void
pf_env_add (pf_env_t *e, const char *fmt, ...)
{
  IT_CHECK (e->n < PF_ENV_MAX, "too many env entries");
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (e->text[e->n], PF_ENV_LEN, fmt, ap);
  va_end (ap);
  IT_CHECK (n > 0 && n < PF_ENV_LEN, "env entry too long");
  e->v[e->n] = e->text[e->n];
  e->n++;
  e->v[e->n] = NULL;
}

/* One bus: brokers, their endpoints, the database, extra settings for all. */
typedef struct {
  char db[600];
  int nbrokers;
  char bind[PF_BROKERS_MAX][64];
  int metrics_port[PF_BROKERS_MAX];
  pid_t broker[PF_BROKERS_MAX];
  int broker_gen[PF_BROKERS_MAX];
  char endpoints[PF_BROKERS_MAX * 64];
  char webhook_url[128];
  const char *extra[16];     /* "K=V" for every process, NULL-terminated */
} pf_bus_t;

static PF_UNUSED void
pf_bus_init (pf_bus_t *bus, const char *db, int nbrokers)
{
  memset (bus, 0, sizeof *bus);
  IT_CHECK (nbrokers >= 1 && nbrokers <= PF_BROKERS_MAX, "brokers");
  at_strlcpy (bus->db, db, sizeof bus->db);
  bus->nbrokers = nbrokers;
  size_t off = 0;
  for (int i = 0; i < nbrokers; i++) {
    snprintf (bus->bind[i], sizeof bus->bind[i], "tcp://127.0.0.1:%d", it_free_port ());
    bus->metrics_port[i] = it_free_port ();
    off += (size_t) snprintf (bus->endpoints + off, sizeof bus->endpoints - off, "%s%s",
                              i ? "," : "", bus->bind[i]);
  }
  /* the test's own publishers read their settings from the environment */
  setenv ("ATENDE_BROKER_ENDPOINTS", bus->endpoints, 1);
  setenv ("ATENDE_PUBLISH_TIMEOUT_MS", "1000", 1);
}

static PF_UNUSED void
pf_bus_env (const pf_bus_t *bus, pf_env_t *e)
{
  memset (e, 0, sizeof *e);
  pf_env_add (e, "ATENDE_DATABASE_URL=%s", bus->db);
  pf_env_add (e, "ATENDE_BROKER_ENDPOINTS=%s", bus->endpoints);
  pf_env_add (e, "ATENDE_BROKER_COUNT=%d", bus->nbrokers);
  pf_env_add (e, "ATENDE_HEARTBEAT_MS=%s", "1000");
  pf_env_add (e, "ATENDE_BROKER_SWEEP_MS=%s", "100");
  pf_env_add (e, "ATENDE_RETRY_BASE_MS=%s", "100");
  pf_env_add (e, "ATENDE_RETRY_MAX_MS=%s", "2000");
  pf_env_add (e, "ATENDE_MAX_ATTEMPTS=%s", "100");
  pf_env_add (e, "ATENDE_DRAIN_GRACE_MS=%s", "5000");
  pf_env_add (e, "ATENDE_WORKER_METRICS_PORT=%s", "0");
  /* Small batches: ingest locks customer then ticket, route ticket then
   * customer; with 64-message transactions on both stages they deadlock
   * again and again (40P01 every second) and the pipeline crawls. The
   * proofs are about the bus; PF_WORKER_BATCH=64 shows that problem. */
  const char *batch = getenv ("PF_WORKER_BATCH");
  long b = 8;
  if (batch && at_parse_long (batch, 1, 10000, &b) != AT_OK)
    b = 8;
  pf_env_add (e, "ATENDE_WORKER_BATCH=%ld", b);
  if (bus->webhook_url[0]) {
    pf_env_add (e, "ATENDE_WEBHOOK_URL=%s", bus->webhook_url);
    pf_env_add (e, "ATENDE_WEBHOOK_SECRET=%s", PF_SECRET);
  }
  for (int i = 0; bus->extra[i]; i++)
    pf_env_add (e, "%s", bus->extra[i]);
}

/* Starts (or restarts) broker i; its log is broker<i>-<generation>.log. */
static PF_UNUSED void
pf_broker_start (pf_bus_t *bus, int i)
{
  pf_env_t e;
  pf_bus_env (bus, &e);
  pf_env_add (&e, "ATENDE_BROKER_BIND=%s", bus->bind[i]);
  pf_env_add (&e, "ATENDE_BROKER_INDEX=%d", i);
  pf_env_add (&e, "ATENDE_BROKER_METRICS_PORT=%d", bus->metrics_port[i]);
  char name[64];
  snprintf (name, sizeof name, "broker%d-%d", i, bus->broker_gen[i]++);
  const char *args[] = {"broker", NULL};
  bus->broker[i] = it_spawn_atende (name, args, e.v);
}

/* Starts `atende worker <stages>`; log <name>.log. */
static PF_UNUSED pid_t
pf_worker_start (const pf_bus_t *bus, const char *stages, const char *name)
{
  pf_env_t e;
  pf_bus_env (bus, &e);
  const char *args[] = {"worker", stages, NULL};
  return it_spawn_atende (name, args, e.v);
}

/* --- the database of a proof */

/* Drops the unique index that would turn a double into an error, records
 * attempt increases, and gives `customers` chat customers proof-<i> an
 * order in transit (route answers their order questions). */
static PF_UNUSED void
pf_db_prepare (PGconn *conn, int customers)
{
  pf_exec (conn, "DROP INDEX IF EXISTS ticket_message_bus_id");
  pf_exec (conn, "CREATE INDEX pf_ticket_message_bus ON ticket_message (bus_message_id)");
  pf_exec (conn, "CREATE TABLE pf_attempt (id uuid, stage text, attempt int,"
                 " at timestamptz DEFAULT clock_timestamp())");
  pf_exec (conn, "CREATE FUNCTION pf_attempt_log () RETURNS trigger LANGUAGE plpgsql AS $$"
                 " BEGIN IF NEW.attempt > OLD.attempt THEN"
                 " INSERT INTO pf_attempt (id, stage, attempt) VALUES (NEW.id, NEW.stage,"
                 " NEW.attempt); END IF; RETURN NEW; END $$");
  pf_exec (conn, "CREATE TRIGGER pf_attempt AFTER UPDATE ON bus_message FOR EACH ROW"
                 " EXECUTE FUNCTION pf_attempt_log ()");
  char sql[1024];
  snprintf (sql, sizeof sql,
            "WITH c AS (INSERT INTO customer (name, locale) SELECT 'proof-' || g, 'pt-BR'"
            " FROM generate_series (0, %d) g RETURNING id, name),"
            " i AS (INSERT INTO identity (customer_id, kind, value)"
            " SELECT id, 'chat', name FROM c RETURNING customer_id, value)"
            " INSERT INTO orders (id, customer_id, status, status_rank, expected_delivery,"
            " tracking_url, status_at) SELECT 'PED-' || value, customer_id, 'in_transit', 4,"
            " '2026-11-30', 'https://rastreio.example/' || value, now() FROM i",
            customers - 1);
  pf_exec (conn, sql);
}

/* An inbound chat message from customer proof-<customer>, asking for the
 * order; seq goes into the text so per-key order can be read back. */
static PF_UNUSED at_msg_t *
pf_inbound (int customer, long seq)
{
  char handle[32], text[96], key[AT_KEY_LEN];
  snprintf (handle, sizeof handle, "proof-%d", customer);
  snprintf (text, sizeof text, "Cadê meu pedido? Já faz uma semana. seq=%ld", seq);
  snprintf (key, sizeof key, "chat:%s", handle);
  Atende__InboundMessage in = ATENDE__INBOUND_MESSAGE__INIT;
  in.channel = "chat";
  in.handle = handle;
  in.text = text;
  in.received_us = at_now_us ();
  size_t len = atende__inbound_message__get_packed_size (&in);
  uint8_t buf[512];
  IT_CHECK (len <= sizeof buf, "payload size");
  atende__inbound_message__pack (&in, buf);
  at_msg_t *msg = at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, key, NULL, buf, len);
  IT_CHECK (msg != NULL, "at_msg_new");
  return msg;
}

/* --- the load: a thread publishing inbound messages */

#define PF_BATCH_MAX 256
#define PF_CUSTOMERS_MAX 4096

typedef struct {
  /* set before pf_load_start */
  int customers;        /* messages go to proof-0..customers-1, round robin */
  int batch;            /* messages per publish (keys of one broker's shard) */
  int rate;             /* messages per second, 0: as fast as confirmed */
  long limit;           /* stop after this many confirmed (0: until stopped) */
  int nbrokers;
  bool resend_unsure;   /* a timed-out publish is sent again with the same ids until
                         * confirmed: only while nothing consumes the stage (the broker
                         * ignores an id whose row is there; a consumed row is gone) */
  /* read by others while it runs */
  atomic_bool stop;
  atomic_long confirmed, unsure, busy, publishes, resent;
  /* owned by the thread until pf_load_join */
  pf_ids_t ok, maybe;
  long seq;
  int shard_of[PF_CUSTOMERS_MAX];
  int cursor[PF_BROKERS_MAX];
  uint64_t turn;
  pthread_t thread;
} pf_load_t;

/* The next customer (after `after`, cyclic) whose key is on `shard`. */
static PF_UNUSED int
pf_load_next (pf_load_t *load, int shard, int after)
{
  for (int k = 1; k <= load->customers; k++) {
    int c = (after + k) % load->customers;
    if (load->shard_of[c] == shard)
      return c;
  }
  return -1;
}

/* A batch of messages whose keys share one broker's shard, each customer
 * once, taking the shards in turn. */
static PF_UNUSED size_t
pf_load_batch (pf_load_t *load, at_msg_t **msgs)
{
  int shard = (int) (load->turn++ % (uint64_t) load->nbrokers);
  size_t n = 0;
  int first = -1;
  while (n < (size_t) load->batch) {
    int c = pf_load_next (load, shard, load->cursor[shard]);
    if (c < 0 || c == first)
      break;
    if (first < 0)
      first = c;
    load->cursor[shard] = c;
    msgs[n++] = pf_inbound (c, ++load->seq);
  }
  return n;
}

/* Publishes one batch: retried after Busy (nothing was written), given up
 * after a timeout (unsure: the commit may or may not have happened), or
 * with resend_unsure sent again until confirmed. */
static PF_UNUSED void
pf_load_publish (pf_load_t *load, at_publisher_t *pub, at_msg_t **msgs, size_t n)
{
  int rc, retry_after = 0;
  for (;;) {
    atomic_fetch_add (&load->publishes, 1);
    rc = at_publisher_send (pub, msgs, n, &retry_after);
    if (rc == AT_AGAIN && load->resend_unsure) {
      atomic_fetch_add (&load->resent, (long) n);
      continue;
    }
    if (rc != AT_BUSY)
      break;
    atomic_fetch_add (&load->busy, 1);
    pf_nap_ms (retry_after < 1 ? 1 : retry_after > 1000 ? 1000 : retry_after);
  }
  IT_CHECK (rc == AT_OK || rc == AT_AGAIN, "publish refused rc=%d", rc);
  for (size_t i = 0; i < n; i++)
    pf_ids_add (rc == AT_OK ? &load->ok : &load->maybe, msgs[i]->id);
  atomic_fetch_add (rc == AT_OK ? &load->confirmed : &load->unsure, (long) n);
}

static PF_UNUSED void *
pf_load_main (void *arg)
{
  pf_load_t *load = arg;
  at_config_t *cfg = at_config_from_env ();
  IT_CHECK (cfg != NULL, "config");
  at_publisher_t *pub = at_publisher_new (cfg);
  IT_CHECK (pub != NULL, "publisher");
  int64_t start = at_mono_ms ();
  long sent = 0;
  while (!atomic_load (&load->stop)
         && (load->limit == 0 || atomic_load (&load->confirmed) < load->limit)) {
    at_msg_t *msgs[PF_BATCH_MAX];
    size_t n = pf_load_batch (load, msgs);
    pf_load_publish (load, pub, msgs, n);
    sent += (long) n;
    for (size_t i = 0; i < n; i++)
      at_msg_destroy (&msgs[i]);
    if (load->rate > 0) {   /* pace: `sent` messages are due at start + sent/rate */
      int64_t due = start + sent * 1000 / load->rate;
      int64_t now = at_mono_ms ();
      if (due > now)
        pf_nap_ms ((long) (due - now));
    }
  }
  at_publisher_destroy (&pub);
  at_config_destroy (&cfg);
  return NULL;
}

static PF_UNUSED void
pf_load_start (pf_load_t *load)
{
  IT_CHECK (load->customers > 0 && load->customers <= PF_CUSTOMERS_MAX, "customers");
  IT_CHECK (load->batch > 0 && load->batch <= PF_BATCH_MAX, "batch");
  atomic_store (&load->stop, false);
  if (load->nbrokers < 1)
    load->nbrokers = 1;
  for (int c = 0; c < load->customers; c++) {
    char key[48];
    snprintf (key, sizeof key, "chat:proof-%d", c);
    load->shard_of[c] = (int) at_bus_shard (key, (uint32_t) load->nbrokers);
  }
  if (load->seq == 0)
    for (int s = 0; s < load->nbrokers; s++)
      load->cursor[s] = load->customers - 1;
  IT_CHECK (pthread_create (&load->thread, NULL, pf_load_main, load) == 0, "thread");
}

static PF_UNUSED void
pf_load_join (pf_load_t *load)
{
  atomic_store (&load->stop, true);
  pthread_join (load->thread, NULL);
}

static PF_UNUSED bool
pf_load_reached_cond (void *arg)
{
  pf_load_t *load = ((void **) arg)[0];
  long want = *(long *) ((void **) arg)[1];
  return atomic_load (&load->confirmed) >= want;
}

/* Waits until the load has `want` confirmed messages. */
static PF_UNUSED bool
pf_load_wait (pf_load_t *load, long want, int timeout_ms)
{
  void *arg[2] = {load, &want};
  return it_wait_until (pf_load_reached_cond, arg, timeout_ms);
}

#include "test_crash_count.h"   /* the end of a proof: counts, drains, /metrics */

#endif
