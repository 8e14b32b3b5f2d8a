/* One worker batch against a real database (workers/wrk_batch.c), with a
 * test stage whose handler does what the first payload byte says:
 *   'o' writes an effect row, produces one route message, returns AT_OK
 *   'a' writes an effect row, returns AT_AGAIN          (retry, effect undone)
 *   'p' produces a message, returns AT_ERROR            (retry, nothing produced)
 *   'i' writes an effect row, returns AT_INVALID        (dead-lettered, undone)
 *   'k' kills its own database connection               (whole batch undone)
 * Asserts the rows: done messages leave bus_message with their effects and
 * produced messages, failures leave nothing of theirs behind, fenced
 * deliveries change nothing. Then the fast round (no savepoints, the
 * stage's flush once) and its fallback, with a stage that buffers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "it.h"
#include "wrk_int.h"
#include "at_store_bus.h"

static int
s_exec (at_store_t *store, const char *sql)
{
  PGresult *res = PQexec (at_store_conn (store), sql);
  int rc = PQresultStatus (res) == PGRES_COMMAND_OK || PQresultStatus (res) == PGRES_TUPLES_OK
               ? AT_OK : AT_AGAIN;
  PQclear (res);
  return rc;
}

static int
s_effect (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  char sql[160];
  snprintf (sql, sizeof sql, "INSERT INTO wrk_effect (msg_id) VALUES ('%s')", m->msg->id);
  return s_exec (wrk_ctx_store (ctx), sql);
}

static int
s_handle (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  char what = m->msg->payload_len ? (char) m->msg->payload[0] : '?';
  IT_CHECK (wrk_ctx_config (ctx) != NULL && wrk_ctx_stage_state (ctx) == NULL, "ctx");
  if (what == 'o' || what == 'p') {
    char key[80];
    snprintf (key, sizeof key, "ticket:%s", m->msg->id);
    at_msg_t *out = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, key, m->msg->trace_id,
                                "x", 1);
    IT_CHECK (wrk_ctx_produce (ctx, &out) == AT_OK && out == NULL, "produce");
  }
  if (what == 'k') {
    s_exec (wrk_ctx_store (ctx), "SELECT pg_terminate_backend(pg_backend_pid())");
    return AT_AGAIN;
  }
  if (what != 'p' && s_effect (ctx, m) != AT_OK)
    return AT_AGAIN;
  switch (what) {
  case 'o': return AT_OK;
  case 'a': snprintf (m->reason, sizeof m->reason, "provider unavailable"); return AT_AGAIN;
  case 'p': return AT_ERROR;
  default: snprintf (m->reason, sizeof m->reason, "not a test message"); return AT_INVALID;
  }
}

static const wrk_stage_t s_stage = {.name = "ingest", .handle = s_handle};

/* A stage that buffers its effects and writes them in its flush:
 * 'o' done (and produces a message), 'a' retried. */
static struct {
  char ids[8][AT_ID_LEN];
  size_t n;
  int writes;          /* flushes that wrote */
  size_t rows;         /* rows they wrote */
} s_buf;

static int
s_buf_handle (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  IT_CHECK (s_buf.n < 8, "buffer");
  at_strlcpy (s_buf.ids[s_buf.n++], m->msg->id, AT_ID_LEN);
  char key[80];
  snprintf (key, sizeof key, "ticket:%s", m->msg->id);
  at_msg_t *out = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, key, NULL, "x", 1);
  IT_CHECK (wrk_ctx_produce (ctx, &out) == AT_OK, "produce");
  if (m->msg->payload[0] == 'o')
    return AT_OK;
  snprintf (m->reason, sizeof m->reason, "provider unavailable");
  return AT_AGAIN;
}

static int
s_buf_flush (wrk_ctx_t *ctx, bool write)
{
  int rc = AT_OK;
  if (write && s_buf.n > 0) {
    char sql[1024];
    int len = snprintf (sql, sizeof sql, "INSERT INTO wrk_effect (msg_id) SELECT unnest ('{");
    for (size_t i = 0; i < s_buf.n; i++)
      len += snprintf (sql + len, sizeof sql - (size_t) len, "%s%s", i ? "," : "", s_buf.ids[i]);
    snprintf (sql + len, sizeof sql - (size_t) len, "}'::uuid[])");
    rc = s_exec (wrk_ctx_store (ctx), sql);
    s_buf.writes++;
    s_buf.rows += s_buf.n;
  }
  s_buf.n = 0;
  return rc;
}

static const wrk_stage_t s_buf_stage = {.name = "ingest", .handle = s_buf_handle,
                                        .flush = s_buf_flush};

static at_msg_t *
s_msg (at_store_t *store, char what, uint32_t attempt_in_db)
{
  at_msg_t *msg = at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, "email:t@example.com",
                              NULL, &what, 1);
  msg->attempt = attempt_in_db;
  IT_CHECK (at_store_bus_insert (store, &msg, 1, NULL) == AT_OK, "insert %c", what);
  return msg;
}

static long long
s_count (PGconn *conn, const char *fmt, const char *id)
{
  char sql[300];
  snprintf (sql, sizeof sql, fmt, id);
  return it_db_scalar (conn, sql);
}

/* Runs msgs (delivered at the given attempts) as one batch. */
static int
s_run (wrk_ctx_t *ctx, wrk_item_t *items, at_msg_t **msgs, const uint32_t *attempts, size_t n)
{
  memset (items, 0, n * sizeof *items);
  for (size_t i = 0; i < n; i++) {
    items[i].m.msg = at_msg_dup (msgs[i]);
    items[i].m.msg->attempt = attempts[i];
  }
  return wrk_batch_run (ctx, items, n);
}

/* One batch with every outcome. */
static void
s_check_outcomes (wrk_ctx_t *ctx, PGconn *conn)
{
  enum { OK, AGAIN, PRODUCE_FAIL, INVALID, STALE, LAST, N };
  at_msg_t *msgs[N];
  msgs[OK] = s_msg (ctx->store, 'o', 1);
  msgs[AGAIN] = s_msg (ctx->store, 'a', 1);
  msgs[PRODUCE_FAIL] = s_msg (ctx->store, 'p', 1);
  msgs[INVALID] = s_msg (ctx->store, 'i', 1);
  msgs[STALE] = s_msg (ctx->store, 'o', 2);        /* delivered at 1, the row is at 2 */
  msgs[LAST] = s_msg (ctx->store, 'a', 3);         /* its last attempt */
  uint32_t attempts[N] = {1, 1, 1, 1, 1, 3};
  wrk_item_t items[N];
  IT_CHECK (s_run (ctx, items, msgs, attempts, N) == AT_OK, "batch commits");

  IT_CHECK (items[OK].outcome == WRK_OUT_DONE && items[OK].n_produced == 1, "done");
  IT_CHECK (s_count (conn, "SELECT count(*) FROM bus_message WHERE id = '%s'", msgs[OK]->id) == 0,
            "a done message leaves the bus");
  IT_CHECK (s_count (conn, "SELECT count(*) FROM wrk_effect WHERE msg_id = '%s'", msgs[OK]->id)
            == 1, "its effect is committed");
  IT_CHECK (s_count (conn, "SELECT count(*) FROM bus_message WHERE stage = 'route' AND key = "
                     "'ticket:%s'", msgs[OK]->id) == 1, "its produced message is committed");
  IT_CHECK (s_count (conn, "SELECT count(*) FROM bus_message WHERE id = '%s'",
                     items[OK].produced[0]->id) == 1, "the settled envelope is the row");

  IT_CHECK (items[AGAIN].outcome == WRK_OUT_RETRY, "retry");
  IT_CHECK (s_count (conn, "SELECT count(*) FROM bus_message WHERE id = '%s' AND attempt = 2 "
                     "AND not_before > now() + interval '20 seconds' AND last_error = "
                     "'provider unavailable'", msgs[AGAIN]->id) == 1,
            "a retry is scheduled at attempt 2, later, with the reason");
  IT_CHECK (s_count (conn, "SELECT count(*) FROM wrk_effect WHERE msg_id = '%s'",
                     msgs[AGAIN]->id) == 0, "a failed message's effect is undone");

  IT_CHECK (items[PRODUCE_FAIL].outcome == WRK_OUT_RETRY && items[PRODUCE_FAIL].n_produced == 0,
            "failed producer retried");
  IT_CHECK (s_count (conn, "SELECT count(*) FROM bus_message WHERE key = 'ticket:%s'",
                     msgs[PRODUCE_FAIL]->id) == 0, "what a failed message produced is dropped");

  IT_CHECK (items[INVALID].outcome == WRK_OUT_DEAD, "invalid dead");
  IT_CHECK (s_count (conn, "SELECT count(*) FROM bus_dead WHERE id = '%s' AND reason = "
                     "'not a test message'", msgs[INVALID]->id) == 1,
            "invalid input is dead-lettered with its reason");
  IT_CHECK (s_count (conn, "SELECT count(*) FROM bus_message WHERE id = '%s'",
                     msgs[INVALID]->id) == 0, "and leaves the bus");

  IT_CHECK (items[STALE].outcome == WRK_OUT_STALE, "stale");
  IT_CHECK (s_count (conn, "SELECT count(*) FROM bus_message WHERE id = '%s' AND attempt = 2",
                     msgs[STALE]->id) == 1, "a fenced delivery leaves the row alone");
  IT_CHECK (s_count (conn, "SELECT count(*) FROM wrk_effect WHERE msg_id = '%s'",
                     msgs[STALE]->id) == 0, "and its effect is undone");

  IT_CHECK (items[LAST].outcome == WRK_OUT_DEAD, "last attempt dead");
  IT_CHECK (s_count (conn, "SELECT count(*) FROM bus_dead WHERE id = '%s' AND attempt = 3 AND "
                     "reason = 'provider unavailable'", msgs[LAST]->id) == 1,
            "after the last attempt the message is dead-lettered");
  for (size_t i = 0; i < N; i++) {
    wrk_item_clear (&items[i]);
    at_msg_destroy (&msgs[i]);
  }
}

/* A batch whose connection dies: nothing of it happens; redelivered, it
 * goes through, each effect once. */
static void
s_check_rollback (wrk_ctx_t *ctx, PGconn *conn)
{
  at_msg_t *more[3] = {s_msg (ctx->store, 'o', 1), s_msg (ctx->store, 'k', 1),
                       s_msg (ctx->store, 'o', 1)};
  uint32_t ones[3] = {1, 1, 1};
  wrk_item_t items2[3];
  long long effects0 = it_db_scalar (conn, "SELECT count(*) FROM wrk_effect");
  IT_CHECK (s_run (ctx, items2, more, ones, 3) == AT_AGAIN, "batch rolled back");
  for (size_t i = 0; i < 3; i++) {
    IT_CHECK (items2[i].outcome == WRK_OUT_NONE && items2[i].n_produced == 0, "released");
    IT_CHECK (s_count (conn, "SELECT count(*) FROM bus_message WHERE id = '%s' AND attempt = 1",
                       more[i]->id) == 1, "message %zu untouched", i);
    wrk_item_clear (&items2[i]);
  }
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM wrk_effect") == effects0, "no new effect");
  IT_CHECK (!at_store_ok (ctx->store) && at_store_reconnect (ctx->store) == AT_OK, "reconnect");

  /* Redelivered without the killer, they go through. */
  at_msg_t *again[2] = {more[0], more[2]};
  IT_CHECK (s_run (ctx, items2, again, ones, 2) == AT_OK, "redelivery commits");
  IT_CHECK (items2[0].outcome == WRK_OUT_DONE && items2[1].outcome == WRK_OUT_DONE, "done");
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM wrk_effect") == effects0 + 2,
            "effects once each");
  for (size_t i = 0; i < 2; i++)
    wrk_item_clear (&items2[i]);
  for (size_t i = 0; i < 3; i++)
    at_msg_destroy (&more[i]);
}

/* Runs `what` (one message each, at attempt 1 unless at2 marks one at 2)
 * with the buffering stage; the flushes that wrote and their rows. */
static void
s_buf_batch (wrk_ctx_t *ctx, PGconn *conn, const char *what, int at2, wrk_outcome_t *out,
             int *writes, size_t *rows)
{
  size_t n = strlen (what);
  at_msg_t *msgs[8];
  uint32_t attempts[8] = {0};
  wrk_item_t items[8];
  long long effects0 = it_db_scalar (conn, "SELECT count(*) FROM wrk_effect");
  for (size_t i = 0; i < n; i++) {
    attempts[i] = (int) i == at2 ? 2 : 1;
    msgs[i] = s_msg (ctx->store, what[i], attempts[i]);
  }
  s_buf.writes = 0;
  s_buf.rows = 0;
  IT_CHECK (s_run (ctx, items, msgs, attempts, n) == AT_OK, "batch %s commits", what);
  long long done = 0;
  for (size_t i = 0; i < n; i++) {
    out[i] = items[i].outcome;
    done += what[i] == 'o';
    long long effect = s_count (conn, "SELECT count(*) FROM wrk_effect WHERE msg_id = '%s'",
                                msgs[i]->id);
    long long produced = s_count (conn, "SELECT count(*) FROM bus_message WHERE key = "
                                  "'ticket:%s'", msgs[i]->id);
    IT_CHECK (effect == (what[i] == 'o') && produced == (what[i] == 'o'),
              "batch %s message %zu: effect %lld, produced %lld", what, i, effect, produced);
    wrk_item_clear (&items[i]);
    at_msg_destroy (&msgs[i]);
  }
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM wrk_effect") == effects0 + done,
            "batch %s: one effect per done message", what);
  *writes = s_buf.writes;
  *rows = s_buf.rows;
}

/* The fast round: a batch that all goes through is one transaction without
 * savepoints and one flush; one failure rolls it back and the batch runs
 * careful (a savepoint and a flush per message), and so do the next ones
 * and any batch holding a redelivery. */
static void
s_check_fast (wrk_ctx_t *ctx, PGconn *conn)
{
  ctx->stage = &s_buf_stage;
  ctx->careful = 0;
  uint64_t fallbacks = ctx->n_fallbacks;
  wrk_outcome_t out[8];
  int writes;
  size_t rows;
  s_buf_batch (ctx, conn, "oooo", -1, out, &writes, &rows);
  IT_CHECK (out[0] == WRK_OUT_DONE && out[3] == WRK_OUT_DONE, "fast: done");
  IT_CHECK (writes == 1 && rows == 4 && ctx->n_fallbacks == fallbacks,
            "fast: one flush of 4 rows (%d, %zu), no fallback", writes, rows);

  s_buf_batch (ctx, conn, "oao", -1, out, &writes, &rows);
  IT_CHECK (out[0] == WRK_OUT_DONE && out[1] == WRK_OUT_RETRY && out[2] == WRK_OUT_DONE,
            "fallback: each message's own outcome");
  IT_CHECK (ctx->n_fallbacks == fallbacks + 1 && ctx->careful > 0, "fallback counted");
  IT_CHECK (writes == 2 && rows == 2, "careful: a flush per done message (%d, %zu)", writes, rows);

  int careful = ctx->careful;
  s_buf_batch (ctx, conn, "oo", -1, out, &writes, &rows);
  IT_CHECK (writes == 2 && ctx->careful == careful - 1, "the next batch starts careful");

  ctx->careful = 0;
  s_buf_batch (ctx, conn, "ooo", 1, out, &writes, &rows);
  IT_CHECK (writes == 3 && ctx->n_fallbacks == fallbacks + 1 && out[1] == WRK_OUT_DONE,
            "a redelivery starts careful");
  ctx->stage = &s_stage;
}

int
main (void)
{
  it_require_pg ();
  char db[512];
  at_strlcpy (db, it_db_create ("worker_batch", true), sizeof db);
  PGconn *conn = it_db_connect (db);
  PQclear (PQexec (conn, "CREATE TABLE wrk_effect (msg_id uuid PRIMARY KEY)"));

  setenv ("ATENDE_MAX_ATTEMPTS", "3", 1);
  setenv ("ATENDE_RETRY_BASE_MS", "60000", 1);
  setenv ("ATENDE_RETRY_MAX_MS", "600000", 1);
  at_config_t *cfg = at_config_from_env ();
  wrk_ctx_t ctx = {.cfg = cfg, .stage = &s_stage, .rng = 42};
  ctx.store = at_store_new (db, "test");
  IT_CHECK (ctx.store != NULL, "store");

  s_check_outcomes (&ctx, conn);
  IT_CHECK (ctx.n_fallbacks == 0, "a batch holding a redelivery starts careful");
  s_check_rollback (&ctx, conn);
  ctx.careful = 0;
  s_check_rollback (&ctx, conn);   /* the same in the fast round */
  s_check_fast (&ctx, conn);

  at_store_destroy (&ctx.store);
  at_config_destroy (&cfg);
  PQfinish (conn);
  printf ("worker batch: ok\n");
  return 0;
}
