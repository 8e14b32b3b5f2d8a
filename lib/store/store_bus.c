/* The SQL of the bus: bus_message and bus_dead (lib/store/at_store_bus.h).
 * A batch insert is one statement over unnest() of binary arrays, so a
 * group commit of thousands of messages is one round trip. */
#include "at_store_bus.h"
#include "at_store_array.h"
#include "at_log.h"
#include "at_zmq.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const at_sql_t SQL_BUS_INSERT = {"bus_insert",
  "INSERT INTO bus_message (id, stage, key, type, attempt, created_at, not_before, trace_id, payload,"
  " shard)"
  " SELECT u.id::uuid, u.stage, u.key, u.type, u.attempt,"
  "  CASE WHEN u.created_us > 0 THEN timestamptz 'epoch' + u.created_us * interval '1 microsecond'"
  "   ELSE now() END,"
  "  CASE WHEN u.not_before_us > 0 THEN timestamptz 'epoch' + u.not_before_us * interval '1 microsecond'"
  "   ELSE now() END,"
  "  u.trace_id, u.payload, u.shard"
  " FROM unnest ($1::text[], $2::text[], $3::text[], $4::text[], $5::int4[], $6::int8[],"
  "  $7::int8[], $8::text[], $9::bytea[], $10::int4[])"
  "  AS u (id, stage, key, type, attempt, created_us, not_before_us, trace_id, payload, shard)"
  " ON CONFLICT (id) DO NOTHING", 10};

/* The workers' statements on bus_message are custom (AT_SQL_CUSTOM): a
 * generic plan of the done DELETE made while the table looked empty
 * scanned 91,441 rows for each of a batch's 600 ids (10.8 s) once the
 * table held a spill. */

static const at_sql_t SQL_BUS_DONE = {AT_SQL_CUSTOM "bus_done",
  "DELETE FROM bus_message WHERE id = $1::uuid AND attempt = $2::int4", 2};

/* A worker's batch takes its rows at the attempts it was given, skipping
 * rows locked by anyone else (a lease expiry in progress): what it gets no
 * one can fence until it commits, so marking them done later cannot miss. */
#define S_BATCH_ROWS "unnest ($1::text[]::uuid[], $2::int4[]) AS u (id, attempt)"
#define S_BATCH_MATCH "b.id = u.id AND b.attempt = u.attempt"

static const at_sql_t SQL_BUS_LOCK = {AT_SQL_CUSTOM "bus_lock",
  "SELECT b.id::text FROM bus_message b JOIN " S_BATCH_ROWS " ON " S_BATCH_MATCH
  " FOR UPDATE OF b SKIP LOCKED", 2};

/* The fast round's lock and done in one: see at_store_bus_claim. */
static const at_sql_t SQL_BUS_CLAIM = {AT_SQL_CUSTOM "bus_claim",
  "DELETE FROM bus_message b USING " S_BATCH_ROWS " WHERE " S_BATCH_MATCH
  " RETURNING b.id::text", 2};

/* The done messages of a batch, whose rows it holds (bus_lock). */
static const at_sql_t SQL_BUS_DONE_MANY = {AT_SQL_CUSTOM "bus_done_many",
  "DELETE FROM bus_message WHERE id = ANY ($1::text[]::uuid[])", 1};

static const at_sql_t SQL_BUS_RETRY = {AT_SQL_CUSTOM "bus_retry",
  "UPDATE bus_message SET attempt = attempt + 1,"
  " not_before = now () + $3::int8 * interval '1 millisecond', last_error = $4,"
  " errors = bus_errors_push (errors, $2::int4, $4)"
  " WHERE id = $1::uuid AND attempt = $2::int4", 4};

static const at_sql_t SQL_BUS_DEAD = {AT_SQL_CUSTOM "bus_dead",
  "WITH d AS (DELETE FROM bus_message WHERE id = $1::uuid AND attempt = $2::int4 RETURNING *)"
  " INSERT INTO bus_dead (id, stage, key, type, attempt, created_at, trace_id, payload, reason,"
  "  errors, replays)"
  " SELECT id, stage, key, type, attempt, created_at, trace_id, payload, $3,"
  "  bus_errors_push (errors, $2::int4, $3), replays FROM d"
  " ON CONFLICT (id) DO UPDATE SET attempt = EXCLUDED.attempt, dead_at = now (),"
  "  payload = EXCLUDED.payload, reason = EXCLUDED.reason, errors = EXCLUDED.errors,"
  "  replays = EXCLUDED.replays", 3};

/* Lease expiry without waiting on a row lock: a row a worker's open
 * transaction holds is skipped. Answers (bumped, still there): (1, _) done;
 * (0, 1) locked: try later; (0, 0) gone or at another attempt. */
static const at_sql_t SQL_BUS_BUMP = {AT_SQL_CUSTOM "bus_bump",
  "WITH r AS (SELECT id FROM bus_message WHERE id = $1::uuid AND attempt = $2::int4"
  "  FOR UPDATE SKIP LOCKED),"
  " u AS (UPDATE bus_message m SET attempt = m.attempt + 1 FROM r WHERE m.id = r.id"
  "  AND m.attempt = $2::int4 RETURNING m.id)"
  " SELECT (SELECT count(*) FROM u),"
  "  (SELECT count(*) FROM bus_message WHERE id = $1::uuid AND attempt = $2::int4)", 2};

/* The broker's session: a statement never waits long on a row lock (its
 * loop is single-threaded); SQLSTATE 55P03 then means "try later". Every
 * statement is planned for its parameters: a generic plan made while the
 * table was small (a sequential scan) would take minutes on a 10M-row
 * backlog. The bus table churns faster than autoanalyze follows: right
 * after a bulk arrival its statistics still say "tiny", and a plan with
 * sequential scans inside a per-key probe once ran for 44 minutes; every
 * statement here has an index made for it, so sequential scans are off,
 * and none may hold the loop for more than 10 s (SQLSTATE 57014: the sweep
 * or count is simply tried again). */
static const at_sql_t SQL_BUS_SESSION = {"bus_session",
  "SELECT set_config ('lock_timeout', $1, false),"
  " set_config ('plan_cache_mode', 'force_custom_plan', false),"
  " set_config ('jit', 'off', false), set_config ('enable_seqscan', 'off', false),"
  " set_config ('statement_timeout', '10s', false)", 1};

/* ---- the one insert: every path that writes bus_message rows ---- */

#define S_INSERT_COLS 10

typedef struct {
  at_store_array_t arrays[S_INSERT_COLS];
  const char *values[S_INSERT_COLS];
  int lengths[S_INSERT_COLS], formats[S_INSERT_COLS];
} s_insert_params_t;

static void
s_insert_params_free (s_insert_params_t *p)
{
  for (int c = 0; c < S_INSERT_COLS; c++)
    at_store_array_free (&p->arrays[c]);
}

/* Builds the binary arrays of SQL_BUS_INSERT; AT_INVALID when too large. */
static int
s_insert_params (s_insert_params_t *p, at_msg_t *const *msgs, size_t n, int shard_count)
{
  static const uint32_t oids[S_INSERT_COLS]
      = {AT_OID_TEXT, AT_OID_TEXT, AT_OID_TEXT, AT_OID_TEXT, AT_OID_INT4,
         AT_OID_INT8, AT_OID_INT8, AT_OID_TEXT, AT_OID_BYTEA, AT_OID_INT4};
  memset (p, 0, sizeof *p);
  if (n > INT32_MAX / 2)
    return AT_INVALID;
  for (int c = 0; c < S_INSERT_COLS; c++)
    at_store_array_begin (&p->arrays[c], oids[c], n);
  for (size_t i = 0; i < n; i++) {
    const at_msg_t *m = msgs[i];
    at_store_array_text (&p->arrays[0], m->id);
    at_store_array_text (&p->arrays[1], m->stage);
    at_store_array_text (&p->arrays[2], m->key);
    at_store_array_text (&p->arrays[3], m->type);
    at_store_array_int4 (&p->arrays[4], (int32_t) (m->attempt ? m->attempt : 1));
    at_store_array_int8 (&p->arrays[5], m->created_us);
    at_store_array_int8 (&p->arrays[6], m->not_before_us);
    at_store_array_text (&p->arrays[7], m->trace_id);
    at_store_array_bytes (&p->arrays[8], m->payload, m->payload_len);
    at_store_array_int4 (&p->arrays[9], at_bus_shard_of (m->key, shard_count));
  }
  for (int c = 0; c < S_INSERT_COLS; c++) {
    if (p->arrays[c].len > INT32_MAX)
      return AT_INVALID;
    p->values[c] = (const char *) p->arrays[c].data;
    p->lengths[c] = (int) p->arrays[c].len;
    p->formats[c] = 1;
  }
  return AT_OK;
}

int
at_store_bus_insert_sharded (at_store_t *store, at_msg_t *const *msgs, size_t n, int shard_count,
                             size_t *inserted_out)
{
  if (inserted_out)
    *inserted_out = 0;
  if (n == 0)
    return AT_OK;
  s_insert_params_t p;
  int rc = s_insert_params (&p, msgs, n, shard_count);
  if (rc == AT_OK) {
    PGresult *res = NULL;
    rc = at_store_exec (store, &SQL_BUS_INSERT, p.values, p.lengths, p.formats, &res);
    if (rc == AT_OK && inserted_out)
      *inserted_out = (size_t) strtoull (PQcmdTuples (res), NULL, 10);
    PQclear (res);
  }
  s_insert_params_free (&p);
  return rc;
}

int
at_store_bus_insert (at_store_t *store, at_msg_t *const *msgs, size_t n, size_t *inserted_out)
{
  return at_store_bus_insert_sharded (store, msgs, n, 1, inserted_out);
}

/* Runs a one-row statement; AT_STALE when it touched no row. */
static int
s_exec_one (at_store_t *store, const at_sql_t *sql, const char *const *values)
{
  PGresult *res = NULL;
  int rc = at_store_exec (store, sql, values, NULL, NULL, &res);
  if (rc == AT_OK && strcmp (PQcmdTuples (res), "0") == 0)
    rc = AT_STALE;
  PQclear (res);
  return rc;
}

int
at_store_bus_done (at_store_t *store, const char *id, uint32_t attempt)
{
  char att[16];
  snprintf (att, sizeof att, "%" PRIu32, attempt);
  const char *values[] = {id, att};
  return s_exec_one (store, &SQL_BUS_DONE, values);
}

/* The ids and attempts as the two binary arrays of SQL_BUS_LOCK and
 * SQL_BUS_CLAIM, sql run, fn called with each id it returned. */
static int
s_bus_ids_attempts (at_store_t *store, const at_sql_t *sql, const char *const *ids,
                    const uint32_t *attempts, size_t n, at_store_bus_id_fn fn, void *arg)
{
  if (n == 0)
    return AT_OK;
  if (n > INT32_MAX / 64)
    return AT_INVALID;
  at_store_array_t a_ids = {0}, a_att = {0};
  at_store_array_begin (&a_ids, AT_OID_TEXT, n);
  at_store_array_begin (&a_att, AT_OID_INT4, n);
  for (size_t i = 0; i < n; i++) {
    at_store_array_text (&a_ids, ids[i]);
    at_store_array_int4 (&a_att, (int32_t) attempts[i]);
  }
  const char *values[2] = {(const char *) a_ids.data, (const char *) a_att.data};
  int lengths[2] = {(int) a_ids.len, (int) a_att.len};
  int formats[2] = {1, 1};
  PGresult *res = NULL;
  int rc = at_store_exec (store, sql, values, lengths, formats, &res);
  at_store_array_free (&a_ids);
  at_store_array_free (&a_att);
  if (rc == AT_OK)
    for (int r = 0; r < PQntuples (res); r++)
      fn (PQgetvalue (res, r, 0), "", false, arg);
  PQclear (res);
  return rc;
}

int
at_store_bus_lock (at_store_t *store, const char *const *ids, const uint32_t *attempts, size_t n,
                   at_store_bus_id_fn fn, void *arg)
{
  return s_bus_ids_attempts (store, &SQL_BUS_LOCK, ids, attempts, n, fn, arg);
}

int
at_store_bus_claim (at_store_t *store, const char *const *ids, const uint32_t *attempts,
                    size_t n, at_store_bus_id_fn fn, void *arg)
{
  return s_bus_ids_attempts (store, &SQL_BUS_CLAIM, ids, attempts, n, fn, arg);
}

int
at_store_bus_done_many (at_store_t *store, const char *const *ids, size_t n, size_t *deleted_out)
{
  *deleted_out = 0;
  if (n == 0)
    return AT_OK;
  PGresult *res = NULL;
  int rc = at_store_exec_ids (store, &SQL_BUS_DONE_MANY, ids, n, &res);
  if (rc == AT_OK)
    *deleted_out = (size_t) strtoull (PQcmdTuples (res), NULL, 10);
  PQclear (res);
  return rc;
}

int
at_store_bus_retry (at_store_t *store, const char *id, uint32_t attempt, int64_t delay_ms,
                    const char *reason)
{
  char att[16], delay[24];
  snprintf (att, sizeof att, "%" PRIu32, attempt);
  snprintf (delay, sizeof delay, "%" PRId64, delay_ms < 0 ? 0 : delay_ms);
  const char *values[] = {id, att, delay, reason};
  return s_exec_one (store, &SQL_BUS_RETRY, values);
}

int
at_store_bus_dead (at_store_t *store, const char *id, uint32_t attempt, const char *reason)
{
  char att[16];
  snprintf (att, sizeof att, "%" PRIu32, attempt);
  const char *values[] = {id, att, reason ? reason : "unknown"};
  return s_exec_one (store, &SQL_BUS_DEAD, values);
}

int
at_store_bus_bump (at_store_t *store, const char *id, uint32_t attempt)
{
  char att[16];
  snprintf (att, sizeof att, "%" PRIu32, attempt);
  const char *values[] = {id, att};
  PGresult *res = NULL;
  int rc = at_store_exec (store, &SQL_BUS_BUMP, values, NULL, NULL, &res);
  if (rc == AT_OK && PQntuples (res) == 1) {
    if (strcmp (PQgetvalue (res, 0, 0), "0") != 0)
      rc = AT_OK;
    else
      rc = strcmp (PQgetvalue (res, 0, 1), "0") != 0 ? AT_BUSY : AT_STALE;
  }
  else if (rc == AT_OK)
    rc = AT_ERROR;
  PQclear (res);
  return rc;
}

int
at_store_bus_session (at_store_t *store, int lock_timeout_ms)
{
  char text[24];
  snprintf (text, sizeof text, "%dms", lock_timeout_ms > 0 ? lock_timeout_ms : 1);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_BUS_SESSION, text);
  PQclear (res);
  return rc;
}

/* ---- the broker's publish: sync and asynchronous forms of the insert ---- */

int
at_store_bus_publish (at_store_t *store, at_msg_t *const *msgs, size_t n, int shard_count)
{
  return at_store_bus_insert_sharded (store, msgs, n, shard_count, NULL);
}

/* The group-commit connection in pipeline mode, its INSERT prepared (both
 * need a connection with nothing in flight: at its first group, and after a
 * reconnect, which forgets both). */
static int
s_publish_pipeline (at_store_t *store, PGconn *conn)
{
  if (PQpipelineStatus (conn) != PQ_PIPELINE_OFF && at_store_prepared (store, &SQL_BUS_INSERT))
    return AT_OK;
  if (PQpipelineStatus (conn) != PQ_PIPELINE_OFF && !PQexitPipelineMode (conn))
    return AT_AGAIN;   /* something is still in flight */
  if (PQisnonblocking (conn) == 0 && PQsetnonblocking (conn, 1) != 0)
    return AT_AGAIN;
  /* Prepared once per connection (PQprepare blocks even on a nonblocking
   * connection, and nothing is in flight here): parsing and planning cost
   * about as much as inserting a small group. */
  if (at_store_prepare (store, &SQL_BUS_INSERT) != AT_OK)
    return at_store_ok (store) ? AT_INVALID : AT_AGAIN;
  return PQenterPipelineMode (conn) ? AT_OK : AT_AGAIN;
}

int
at_store_bus_publish_send (at_store_t *store, at_msg_t *const *msgs, size_t n, int shard_count)
{
  PGconn *conn = at_store_conn (store);
  if (n == 0 || conn == NULL || PQstatus (conn) != CONNECTION_OK)
    return n == 0 ? AT_INVALID : AT_AGAIN;
  int rc = s_publish_pipeline (store, conn);
  if (rc != AT_OK)
    return rc;
  s_insert_params_t p;
  rc = s_insert_params (&p, msgs, n, shard_count);
  /* One statement then a Sync: its own implicit transaction, committed at
   * the Sync, after those of the groups before it. */
  if (rc == AT_OK
      && (!PQsendQueryPrepared (conn, SQL_BUS_INSERT.name, S_INSERT_COLS, p.values, p.lengths,
                                p.formats, 0)
          || !PQpipelineSync (conn))) {
    at_warn ("store", "msg=\"publish not sent\" error=\"%.200s\"", PQerrorMessage (conn));
    rc = AT_AGAIN;
  }
  s_insert_params_free (&p);
  return rc;
}

int
at_store_bus_publish_flush (at_store_t *store)
{
  int rc = PQflush (at_store_conn (store));
  return rc == 0 ? AT_OK : rc > 0 ? AT_AGAIN : AT_ERROR;
}

/* Maps the publish's result: AT_OK, AT_INVALID (data refused), AT_AGAIN. */
static int
s_publish_result (PGconn *conn, PGresult *res, char *why, size_t why_cap)
{
  if (PQresultStatus (res) == PGRES_COMMAND_OK)
    return AT_OK;
  const char *state = PQresultErrorField (res, PG_DIAG_SQLSTATE);
  at_strlcpy (why, PQresultErrorMessage (res), why_cap);
  if (PQstatus (conn) == CONNECTION_OK && state && (state[0] == '2' && (state[1] == '2' || state[1] == '3')))
    return AT_INVALID;
  return AT_AGAIN;
}

bool
at_store_bus_publish_poll (at_store_t *store, int *rc_io, char *why, size_t why_cap)
{
  PGconn *conn = at_store_conn (store);
  if (!PQconsumeInput (conn) || PQstatus (conn) != CONNECTION_OK) {
    at_strlcpy (why, PQerrorMessage (conn), why_cap);
    *rc_io = AT_AGAIN;
    return true;   /* connection lost: outcome unknown */
  }
  /* A group's answers: the INSERT's result, the NULL that ends it, then the
   * Sync's (its commit done). A NULL with nothing pending ends the loop. */
  while (!PQisBusy (conn)) {
    PGresult *res = PQgetResult (conn);
    if (res == NULL) {
      if (*rc_io == AT_NOTFOUND)
        return false;   /* nothing of this group yet */
      continue;
    }
    ExecStatusType st = PQresultStatus (res);
    if (st == PGRES_PIPELINE_SYNC) {
      PQclear (res);
      if (*rc_io == AT_NOTFOUND)
        *rc_io = AT_AGAIN;   /* ended without an answer */
      return true;
    }
    if (*rc_io == AT_NOTFOUND || (*rc_io == AT_OK && st != PGRES_COMMAND_OK))
      *rc_io = st == PGRES_PIPELINE_ABORTED ? AT_AGAIN : s_publish_result (conn, res, why, why_cap);
    PQclear (res);
  }
  return false;
}
