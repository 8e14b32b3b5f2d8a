/* The SQL of the bus: bus_message and bus_dead (lib/store/at_store_bus.h).
 * A batch insert is one statement over unnest() of binary arrays, so a
 * group commit of thousands of messages is one round trip. */
#include "at_store_bus.h"
#include "at_log.h"
#include "at_zmq.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PostgreSQL type oids of the array elements we send in binary. */
#define S_OID_BYTEA 17
#define S_OID_INT8  20
#define S_OID_INT4  23
#define S_OID_TEXT  25

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

static const at_sql_t SQL_BUS_DONE = {"bus_done",
  "DELETE FROM bus_message WHERE id = $1::uuid AND attempt = $2::int4", 2};

/* A worker's batch takes its rows at the attempts it was given, skipping
 * rows locked by anyone else (a lease expiry in progress): what it gets no
 * one can fence until it commits, so marking them done later cannot miss. */
static const at_sql_t SQL_BUS_LOCK = {"bus_lock",
  "SELECT b.id::text FROM bus_message b"
  " JOIN unnest ($1::text[]::uuid[], $2::int4[]) AS u (id, attempt)"
  "  ON b.id = u.id AND b.attempt = u.attempt"
  " FOR UPDATE OF b SKIP LOCKED", 2};

/* The done messages of a batch, whose rows it holds (bus_lock). */
static const at_sql_t SQL_BUS_DONE_MANY = {"bus_done_many",
  "DELETE FROM bus_message WHERE id = ANY ($1::text[]::uuid[])", 1};

static const at_sql_t SQL_BUS_RETRY = {"bus_retry",
  "UPDATE bus_message SET attempt = attempt + 1,"
  " not_before = now () + $3::int8 * interval '1 millisecond', last_error = $4,"
  " errors = bus_errors_push (errors, $2::int4, $4)"
  " WHERE id = $1::uuid AND attempt = $2::int4", 4};

static const at_sql_t SQL_BUS_DEAD = {"bus_dead",
  "WITH d AS (DELETE FROM bus_message WHERE id = $1::uuid AND attempt = $2::int4 RETURNING *)"
  " INSERT INTO bus_dead (id, stage, key, type, attempt, created_at, trace_id, payload, reason,"
  "  errors, replays)"
  " SELECT id, stage, key, type, attempt, created_at, trace_id, payload, $3,"
  "  bus_errors_push (errors, $2::int4, $3), replays FROM d"
  " ON CONFLICT (id) DO UPDATE SET attempt = EXCLUDED.attempt, dead_at = now (),"
  "  payload = EXCLUDED.payload, reason = EXCLUDED.reason, errors = EXCLUDED.errors,"
  "  replays = EXCLUDED.replays", 3};

/* Per stage of one shard: pending rows counted up to a cap (an index-only
 * scan that stays cheap under a 10M-row backlog; the ORDER BY keeps the
 * planner from a sequential scan for the stage it cannot see) and how long the oldest due
 * row has been due. */
static const at_sql_t SQL_BUS_STATS = {"bus_stats",
  "SELECT s.stage,"
  " (SELECT count(*) FROM (SELECT 1 FROM bus_message m WHERE m.stage = s.stage"
  "   AND m.shard = $1::int4 ORDER BY m.stage, m.shard, m.not_before LIMIT $2::int8) c),"
  " coalesce (extract (epoch FROM now () - (SELECT min (m.not_before) FROM bus_message m"
  "   WHERE m.stage = s.stage AND m.shard = $1::int4 AND m.not_before <= now ())), 0)::float8"
  " FROM unnest ('{ingest,route,notify,survey}'::text[]) AS s (stage)", 2};

/* The planner's estimate of pending rows per stage (all shards), for
 * stages whose count reached the cap: pg_class.reltuples times the stage's
 * frequency in pg_stats. Costs nothing, lags until the next ANALYZE. */
static const at_sql_t SQL_BUS_ESTIMATE = {"bus_estimate",
  "SELECT v.stage, (c.reltuples * v.freq)::int8 FROM pg_class c,"
  " LATERAL (SELECT unnest (st.most_common_vals::text::text[]) AS stage,"
  "   unnest (st.most_common_freqs) AS freq FROM pg_stats st"
  "   WHERE st.schemaname = current_schema () AND st.tablename = 'bus_message'"
  "   AND st.attname = 'stage') v"
  " WHERE c.oid = 'bus_message'::regclass", 0};

/* The sweep's rows: due rows that are the head of their key (no row of the
 * same stage and key inserted before them is due or waits for a retry; a
 * delayed publish takes its place when due; the empty key has no order),
 * oldest first, at most $2, of the keys among the 4 x $2 oldest due rows
 * (so a sweep costs the same with a few keys of long backlogs as with many
 * keys: one probe per key of that window for its first row in order, which
 * may lie outside it, as a retry due later than its followers does); then
 * for each head with a key, its run: the
 * rows of that key from the head on that are due or wait for a retry, in
 * insertion order, at most $4 (migration 007's index). `stops`: the row
 * waits for a retry, so nothing after it may be loaded yet. */
static const at_sql_t SQL_BUS_READY_IDS = {"bus_ready_ids",
  "WITH w AS (SELECT id, key, seq, not_before FROM bus_message"
  "  WHERE stage = $1 AND shard = $3::int4 AND not_before <= now ()"
  "  ORDER BY not_before, id LIMIT $2::int4 * 4),"
  " c AS (SELECT DISTINCT key FROM w WHERE key <> ''),"
  " h AS (SELECT * FROM (SELECT f.* FROM c, LATERAL (SELECT o.id, o.key, o.seq, o.not_before"
  "   FROM bus_message o WHERE o.stage = $1 AND o.key = c.key"
  "   AND (o.not_before <= now () OR o.attempt > 1) ORDER BY o.seq LIMIT 1) f"
  "   WHERE f.not_before <= now ()"
  "  UNION ALL SELECT * FROM w WHERE key = '') x ORDER BY not_before, id LIMIT $2::int4)"
  " SELECT r.id::text, h.key, r.stops, h.not_before, h.id AS head, r.seq FROM h,"
  "  LATERAL (SELECT o.id, o.seq, o.not_before > now () AS stops FROM bus_message o"
  "   WHERE o.stage = $1 AND o.key = h.key AND o.seq >= h.seq"
  "   AND (o.not_before <= now () OR o.attempt > 1) ORDER BY o.seq LIMIT $4::int4) r"
  "  WHERE h.key <> ''"
  " UNION ALL SELECT h.id::text, h.key, false, h.not_before, h.id, h.seq FROM h WHERE h.key = ''"
  " ORDER BY 4, 5, 6", 4};

/* Rows of a stage and shard that take part in key order (due, or waiting
 * for a retry), counted up to a cap. */
static const at_sql_t SQL_BUS_ORDERED_COUNT = {"bus_ordered_count",
  "SELECT count(*) FROM (SELECT 1 FROM bus_message WHERE stage = $1 AND shard = $2::int4"
  " AND (not_before <= now () OR attempt > 1) LIMIT $3::int8) c", 3};

/* The broker's publish: as bus_insert, plus the shard of each key. */
static const at_sql_t SQL_BUS_PUBLISH = {"bus_publish",
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

static const at_sql_t SQL_BUS_FETCH = {"bus_fetch",
  "SELECT id::text, stage, key, type, attempt,"
  " (extract (epoch FROM created_at) * 1000000)::int8,"
  " (extract (epoch FROM not_before) * 1000000)::int8, trace_id, payload"
  " FROM unnest ($1::text[]::uuid[]) WITH ORDINALITY AS want (id, ord) JOIN bus_message USING (id)"
  " ORDER BY want.ord", 1};

/* Lease expiry without waiting on a row lock: a row a worker's open
 * transaction holds is skipped. Answers (bumped, still there): (1, _) done;
 * (0, 1) locked: try later; (0, 0) gone or at another attempt. */
static const at_sql_t SQL_BUS_BUMP = {"bus_bump",
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

/* ---- binary array builder (PostgreSQL array_recv format) ---- */

typedef struct {
  uint8_t *data;
  size_t len, cap;
} s_buf_t;

static void
s_buf_put (s_buf_t *b, const void *bytes, size_t n)
{
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
      cap *= 2;
    uint8_t *grown = realloc (b->data, cap);
    if (grown == NULL) {
      at_error ("store", "msg=\"out of memory\" bytes=%zu", cap);
      abort ();
    }
    b->data = grown;
    b->cap = cap;
  }
  if (n)
    memcpy (b->data + b->len, bytes, n);
  b->len += n;
}

static void
s_buf_u32 (s_buf_t *b, uint32_t v)
{
  uint32_t be = htonl (v);
  s_buf_put (b, &be, 4);
}

static void
s_buf_u64 (s_buf_t *b, uint64_t v)
{
  s_buf_u32 (b, (uint32_t) (v >> 32));
  s_buf_u32 (b, (uint32_t) v);
}

static void
s_array_begin (s_buf_t *b, uint32_t oid, size_t n)
{
  s_buf_u32 (b, 1);          /* ndim */
  s_buf_u32 (b, 0);          /* no NULLs */
  s_buf_u32 (b, oid);
  s_buf_u32 (b, (uint32_t) n);
  s_buf_u32 (b, 1);          /* lower bound */
}

static void
s_array_bytes (s_buf_t *b, const void *bytes, size_t n)
{
  s_buf_u32 (b, (uint32_t) n);
  s_buf_put (b, bytes, n);
}

static void
s_array_text (s_buf_t *b, const char *text)
{
  s_array_bytes (b, text, strlen (text));
}

static void
s_array_int4 (s_buf_t *b, int32_t v)
{
  s_buf_u32 (b, 4);
  s_buf_u32 (b, (uint32_t) v);
}

static void
s_array_int8 (s_buf_t *b, int64_t v)
{
  s_buf_u32 (b, 8);
  s_buf_u64 (b, (uint64_t) v);
}

int
at_store_bus_insert_sharded (at_store_t *store, at_msg_t *const *msgs, size_t n, int shard_count,
                             size_t *inserted_out)
{
  if (inserted_out)
    *inserted_out = 0;
  if (n == 0)
    return AT_OK;
  if (n > INT32_MAX / 2)
    return AT_INVALID;
  static const uint32_t oids[10] = {S_OID_TEXT, S_OID_TEXT, S_OID_TEXT, S_OID_TEXT, S_OID_INT4,
                                    S_OID_INT8, S_OID_INT8, S_OID_TEXT, S_OID_BYTEA, S_OID_INT4};
  s_buf_t arrays[10];
  memset (arrays, 0, sizeof arrays);
  for (int c = 0; c < 10; c++)
    s_array_begin (&arrays[c], oids[c], n);
  for (size_t i = 0; i < n; i++) {
    const at_msg_t *m = msgs[i];
    s_array_text (&arrays[0], m->id);
    s_array_text (&arrays[1], m->stage);
    s_array_text (&arrays[2], m->key);
    s_array_text (&arrays[3], m->type);
    s_array_int4 (&arrays[4], (int32_t) (m->attempt ? m->attempt : 1));
    s_array_int8 (&arrays[5], m->created_us);
    s_array_int8 (&arrays[6], m->not_before_us);
    s_array_text (&arrays[7], m->trace_id);
    s_array_bytes (&arrays[8], m->payload, m->payload_len);
    s_array_int4 (&arrays[9], (int32_t) at_bus_shard_of (m->key, shard_count));
  }
  const char *values[10];
  int lengths[10], formats[10];
  int rc = AT_OK;
  for (int c = 0; c < 10; c++) {
    if (arrays[c].len > INT32_MAX) {
      rc = AT_INVALID;
      goto out;
    }
    values[c] = (const char *) arrays[c].data;
    lengths[c] = (int) arrays[c].len;
    formats[c] = 1;
  }
  PGresult *res = NULL;
  rc = at_store_exec (store, &SQL_BUS_INSERT, values, lengths, formats, &res);
  if (rc == AT_OK && inserted_out)
    *inserted_out = (size_t) strtoull (PQcmdTuples (res), NULL, 10);
  PQclear (res);
out:
  for (int c = 0; c < 10; c++)
    free (arrays[c].data);
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

int
at_store_bus_lock (at_store_t *store, const char *const *ids, const uint32_t *attempts, size_t n,
                   at_store_bus_id_fn fn, void *arg)
{
  if (n == 0)
    return AT_OK;
  if (n > INT32_MAX / 64)
    return AT_INVALID;
  s_buf_t a_ids = {0}, a_att = {0};
  s_array_begin (&a_ids, S_OID_TEXT, n);
  s_array_begin (&a_att, S_OID_INT4, n);
  for (size_t i = 0; i < n; i++) {
    s_array_text (&a_ids, ids[i]);
    s_array_int4 (&a_att, (int32_t) attempts[i]);
  }
  const char *values[2] = {(const char *) a_ids.data, (const char *) a_att.data};
  int lengths[2] = {(int) a_ids.len, (int) a_att.len};
  int formats[2] = {1, 1};
  PGresult *res = NULL;
  int rc = at_store_exec (store, &SQL_BUS_LOCK, values, lengths, formats, &res);
  free (a_ids.data);
  free (a_att.data);
  if (rc == AT_OK)
    for (int r = 0; r < PQntuples (res); r++)
      fn (PQgetvalue (res, r, 0), "", false, arg);
  PQclear (res);
  return rc;
}

/* Runs sql with one parameter: ids as a binary text[]. */
static int
s_exec_ids (at_store_t *store, const at_sql_t *sql, const char *const *ids, size_t n,
            PGresult **res)
{
  if (n > INT32_MAX / 64)
    return AT_INVALID;
  s_buf_t array = {0};
  s_array_begin (&array, S_OID_TEXT, n);
  for (size_t i = 0; i < n; i++)
    s_array_text (&array, ids[i]);
  const char *values[1] = {(const char *) array.data};
  int lengths[1] = {(int) array.len};
  int formats[1] = {1};
  int rc = at_store_exec (store, sql, values, lengths, formats, res);
  free (array.data);
  return rc;
}

int
at_store_bus_done_many (at_store_t *store, const char *const *ids, size_t n, size_t *deleted_out)
{
  *deleted_out = 0;
  if (n == 0)
    return AT_OK;
  PGresult *res = NULL;
  int rc = s_exec_ids (store, &SQL_BUS_DONE_MANY, ids, n, &res);
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

/* Adds the planner's estimate (all shards, divided among count) to the
 * stages whose exact count stopped at its cap. */
static void
s_stats_estimate (at_store_t *store, at_store_bus_stat_t *stats, size_t n, int64_t cap, int count)
{
  PGresult *res = NULL;
  if (at_store_exec (store, &SQL_BUS_ESTIMATE, NULL, NULL, NULL, &res) != AT_OK)
    return;   /* no estimate: the capped count stands */
  for (int r = 0; r < PQntuples (res); r++)
    for (size_t i = 0; i < n; i++)
      if (stats[i].depth >= cap && strcmp (stats[i].stage, PQgetvalue (res, r, 0)) == 0) {
        int64_t estimate = strtoll (PQgetvalue (res, r, 1), NULL, 10) / (count > 0 ? count : 1);
        if (estimate > stats[i].depth)
          stats[i].depth = estimate;
      }
  PQclear (res);
}

int
at_store_bus_stats (at_store_t *store, int shard, int count, int64_t count_cap,
                    at_store_bus_stat_t *stats, size_t cap, size_t *n_out)
{
  *n_out = 0;
  char shard_text[16], cap_text[24];
  snprintf (shard_text, sizeof shard_text, "%d", shard);
  snprintf (cap_text, sizeof cap_text, "%" PRId64, count_cap > 0 ? count_cap : 1);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_BUS_STATS, shard_text, cap_text);
  if (rc != AT_OK)
    return rc;
  bool capped = false;
  int rows = PQntuples (res);
  for (int r = 0; r < rows && *n_out < cap; r++) {
    at_store_bus_stat_t *s = &stats[*n_out];
    at_strlcpy (s->stage, PQgetvalue (res, r, 0), sizeof s->stage);
    s->depth = strtoll (PQgetvalue (res, r, 1), NULL, 10);
    s->oldest_age_s = strtod (PQgetvalue (res, r, 2), NULL);
    capped |= s->depth >= count_cap;
    (*n_out)++;
  }
  PQclear (res);
  if (capped)
    s_stats_estimate (store, stats, *n_out, count_cap, count);
  return AT_OK;
}

/* One row of SQL_BUS_READY into a new message; NULL if a field does not fit. */
static at_msg_t *
s_row_msg (PGresult *res, int r)
{
  at_msg_t *m = at_calloc (1, sizeof *m);
  size_t raw_len = 0;
  unsigned char *raw = NULL;
  if (at_strlcpy (m->id, PQgetvalue (res, r, 0), sizeof m->id) >= sizeof m->id
      || at_strlcpy (m->stage, PQgetvalue (res, r, 1), sizeof m->stage) >= sizeof m->stage
      || at_strlcpy (m->key, PQgetvalue (res, r, 2), sizeof m->key) >= sizeof m->key
      || at_strlcpy (m->type, PQgetvalue (res, r, 3), sizeof m->type) >= sizeof m->type
      || at_strlcpy (m->trace_id, PQgetvalue (res, r, 7), sizeof m->trace_id) >= sizeof m->trace_id)
    goto fail;
  m->attempt = (uint32_t) strtoul (PQgetvalue (res, r, 4), NULL, 10);
  m->created_us = strtoll (PQgetvalue (res, r, 5), NULL, 10);
  m->not_before_us = strtoll (PQgetvalue (res, r, 6), NULL, 10);
  raw = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, r, 8), &raw_len);
  if (raw == NULL)
    goto fail;
  m->payload = at_malloc (raw_len ? raw_len : 1);
  memcpy (m->payload, raw, raw_len);
  m->payload_len = raw_len;
  PQfreemem (raw);
  return m;
fail:
  at_warn ("store", "msg=\"bus row does not fit a message, skipped\" id=%.36s",
           PQgetvalue (res, r, 0));
  at_msg_destroy (&m);
  return NULL;
}

int
at_store_bus_ready_ids (at_store_t *store, const char *stage, int shard, int limit, int run,
                        at_store_bus_id_fn fn, void *arg)
{
  if (limit <= 0)
    return AT_OK;
  if (run < 1)
    run = 1;
  char lim[16], shard_text[16], run_text[16];
  snprintf (lim, sizeof lim, "%d", limit);
  snprintf (shard_text, sizeof shard_text, "%d", shard);
  snprintf (run_text, sizeof run_text, "%d", run < INT32_MAX ? run + 1 : run);   /* + the stop */
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_BUS_READY_IDS, stage, lim, shard_text, run_text);
  if (rc != AT_OK)
    return rc;
  int rows = PQntuples (res);
  const char *key = NULL;
  int taken = 0;
  bool stopped = false;
  for (int r = 0; r < rows; r++) {
    const char *id = PQgetvalue (res, r, 0), *k = PQgetvalue (res, r, 1);
    if (key == NULL || strcmp (k, key) != 0 || k[0] == '\0') {   /* the next head */
      key = k;
      taken = 0;
      stopped = false;
    }
    if (stopped)
      continue;
    stopped = PQgetvalue (res, r, 2)[0] == 't' || taken == run;
    taken++;
    fn (id, k, stopped, arg);
  }
  PQclear (res);
  return AT_OK;
}

int
at_store_bus_ordered_count (at_store_t *store, const char *stage, int shard, int64_t cap,
                            int64_t *count_out)
{
  *count_out = 0;
  char shard_text[16], cap_text[24];
  snprintf (shard_text, sizeof shard_text, "%d", shard);
  snprintf (cap_text, sizeof cap_text, "%" PRId64, cap > 0 ? cap : 1);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_BUS_ORDERED_COUNT, stage, shard_text, cap_text);
  if (rc == AT_OK && PQntuples (res) == 1)
    *count_out = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return rc;
}

int
at_store_bus_fetch (at_store_t *store, const char *const *ids, size_t n, at_store_bus_msg_fn fn,
                    void *arg)
{
  if (n == 0)
    return AT_OK;
  PGresult *res = NULL;
  int rc = s_exec_ids (store, &SQL_BUS_FETCH, ids, n, &res);
  if (rc != AT_OK) {
    PQclear (res);
    return rc;
  }
  int rows = PQntuples (res);
  for (int r = 0; r < rows; r++) {
    at_msg_t *m = s_row_msg (res, r);
    if (m == NULL)
      continue;
    fn (&m, arg);
    at_msg_destroy (&m);
  }
  PQclear (res);
  return AT_OK;
}

/* ---- the broker's publish: sync and asynchronous forms ---- */

#define S_PUBLISH_COLS 10

typedef struct {
  s_buf_t arrays[S_PUBLISH_COLS];
  const char *values[S_PUBLISH_COLS];
  int lengths[S_PUBLISH_COLS], formats[S_PUBLISH_COLS];
} s_publish_params_t;

static void
s_publish_params_free (s_publish_params_t *p)
{
  for (int c = 0; c < S_PUBLISH_COLS; c++)
    free (p->arrays[c].data);
}

/* Builds the binary arrays of SQL_BUS_PUBLISH; AT_INVALID when too large. */
static int
s_publish_params (s_publish_params_t *p, at_msg_t *const *msgs, size_t n, int shard_count)
{
  static const uint32_t oids[S_PUBLISH_COLS]
      = {S_OID_TEXT, S_OID_TEXT, S_OID_TEXT, S_OID_TEXT, S_OID_INT4,
         S_OID_INT8, S_OID_INT8, S_OID_TEXT, S_OID_BYTEA, S_OID_INT4};
  memset (p, 0, sizeof *p);
  if (n > INT32_MAX / 2)
    return AT_INVALID;
  for (int c = 0; c < S_PUBLISH_COLS; c++)
    s_array_begin (&p->arrays[c], oids[c], n);
  for (size_t i = 0; i < n; i++) {
    const at_msg_t *m = msgs[i];
    s_array_text (&p->arrays[0], m->id);
    s_array_text (&p->arrays[1], m->stage);
    s_array_text (&p->arrays[2], m->key);
    s_array_text (&p->arrays[3], m->type);
    s_array_int4 (&p->arrays[4], (int32_t) (m->attempt ? m->attempt : 1));
    s_array_int8 (&p->arrays[5], m->created_us);
    s_array_int8 (&p->arrays[6], m->not_before_us);
    s_array_text (&p->arrays[7], m->trace_id);
    s_array_bytes (&p->arrays[8], m->payload, m->payload_len);
    s_array_int4 (&p->arrays[9], at_bus_shard_of (m->key, shard_count));
  }
  for (int c = 0; c < S_PUBLISH_COLS; c++) {
    if (p->arrays[c].len > INT32_MAX)
      return AT_INVALID;
    p->values[c] = (const char *) p->arrays[c].data;
    p->lengths[c] = (int) p->arrays[c].len;
    p->formats[c] = 1;
  }
  return AT_OK;
}

int
at_store_bus_publish (at_store_t *store, at_msg_t *const *msgs, size_t n, int shard_count)
{
  if (n == 0)
    return AT_OK;
  s_publish_params_t p;
  int rc = s_publish_params (&p, msgs, n, shard_count);
  if (rc == AT_OK) {
    PGresult *res = NULL;
    rc = at_store_exec (store, &SQL_BUS_PUBLISH, p.values, p.lengths, p.formats, &res);
    PQclear (res);
  }
  s_publish_params_free (&p);
  return rc;
}

int
at_store_bus_publish_send (at_store_t *store, at_msg_t *const *msgs, size_t n, int shard_count)
{
  PGconn *conn = at_store_conn (store);
  if (n == 0 || conn == NULL || PQstatus (conn) != CONNECTION_OK)
    return n == 0 ? AT_INVALID : AT_AGAIN;
  if (PQisnonblocking (conn) == 0 && PQsetnonblocking (conn, 1) != 0)
    return AT_AGAIN;
  s_publish_params_t p;
  int rc = s_publish_params (&p, msgs, n, shard_count);
  /* One statement outside BEGIN is its own transaction: its result arrives
   * after COMMIT. Unnamed (not prepared): one parse per group is nothing. */
  if (rc == AT_OK
      && !PQsendQueryParams (conn, SQL_BUS_PUBLISH.text, S_PUBLISH_COLS, NULL, p.values,
                             p.lengths, p.formats, 0)) {
    at_warn ("store", "msg=\"publish not sent\" error=\"%.200s\"", PQerrorMessage (conn));
    rc = AT_AGAIN;
  }
  s_publish_params_free (&p);
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
  if (!PQconsumeInput (conn)) {
    at_strlcpy (why, PQerrorMessage (conn), why_cap);
    *rc_io = AT_AGAIN;
    return true;   /* connection lost: outcome unknown */
  }
  while (!PQisBusy (conn)) {
    PGresult *res = PQgetResult (conn);
    if (res == NULL) {
      if (*rc_io == AT_NOTFOUND)
        *rc_io = AT_AGAIN;   /* ended without an answer */
      return true;
    }
    if (*rc_io == AT_NOTFOUND)
      *rc_io = s_publish_result (conn, res, why, why_cap);
    PQclear (res);
  }
  if (PQstatus (conn) != CONNECTION_OK) {
    at_strlcpy (why, PQerrorMessage (conn), why_cap);
    *rc_io = AT_AGAIN;
    return true;
  }
  return false;
}
