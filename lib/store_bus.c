/* The SQL of the bus: bus_message and bus_dead (lib/at_store_bus.h).
 * A batch insert is one statement over unnest() of binary arrays, so a
 * group commit of thousands of messages is one round trip. */
#include "at_store_bus.h"
#include "at_log.h"

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
  "INSERT INTO bus_message (id, stage, key, type, attempt, created_at, not_before, trace_id, payload)"
  " SELECT u.id::uuid, u.stage, u.key, u.type, u.attempt,"
  "  CASE WHEN u.created_us > 0 THEN timestamptz 'epoch' + u.created_us * interval '1 microsecond'"
  "   ELSE now() END,"
  "  CASE WHEN u.not_before_us > 0 THEN timestamptz 'epoch' + u.not_before_us * interval '1 microsecond'"
  "   ELSE now() END,"
  "  u.trace_id, u.payload"
  " FROM unnest ($1::text[], $2::text[], $3::text[], $4::text[], $5::int4[], $6::int8[],"
  "  $7::int8[], $8::text[], $9::bytea[])"
  "  AS u (id, stage, key, type, attempt, created_us, not_before_us, trace_id, payload)"
  " ON CONFLICT (id) DO NOTHING", 9};

static const at_sql_t SQL_BUS_DONE = {"bus_done",
  "DELETE FROM bus_message WHERE id = $1::uuid AND attempt = $2::int4", 2};

static const at_sql_t SQL_BUS_RETRY = {"bus_retry",
  "UPDATE bus_message SET attempt = attempt + 1,"
  " not_before = now () + $3::int8 * interval '1 millisecond', last_error = $4"
  " WHERE id = $1::uuid AND attempt = $2::int4", 4};

static const at_sql_t SQL_BUS_DEAD = {"bus_dead",
  "WITH d AS (DELETE FROM bus_message WHERE id = $1::uuid AND attempt = $2::int4 RETURNING *)"
  " INSERT INTO bus_dead (id, stage, key, type, attempt, created_at, trace_id, payload, reason)"
  " SELECT id, stage, key, type, attempt, created_at, trace_id, payload, $3 FROM d"
  " ON CONFLICT (id) DO UPDATE SET attempt = EXCLUDED.attempt, dead_at = now (),"
  "  payload = EXCLUDED.payload, reason = EXCLUDED.reason", 3};

static const at_sql_t SQL_BUS_STATS = {"bus_stats",
  "SELECT stage, count(*), extract (epoch FROM now () - min (created_at))::float8"
  " FROM bus_message GROUP BY stage", 0};

static const at_sql_t SQL_BUS_READY_IDS = {"bus_ready_ids",
  "SELECT id::text FROM bus_message WHERE stage = $1 AND not_before <= now ()"
  " ORDER BY not_before, id LIMIT $2::int4", 2};

static const at_sql_t SQL_BUS_FETCH = {"bus_fetch",
  "SELECT id::text, stage, key, type, attempt,"
  " (extract (epoch FROM created_at) * 1000000)::int8,"
  " (extract (epoch FROM not_before) * 1000000)::int8, trace_id, payload"
  " FROM bus_message WHERE id = ANY ($1::text[]::uuid[])"
  " ORDER BY not_before, id", 1};

static const at_sql_t SQL_BUS_BUMP = {"bus_bump",
  "UPDATE bus_message SET attempt = attempt + 1 WHERE id = $1::uuid AND attempt = $2::int4", 2};

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
at_store_bus_insert (at_store_t *store, at_msg_t *const *msgs, size_t n, size_t *inserted_out)
{
  if (inserted_out)
    *inserted_out = 0;
  if (n == 0)
    return AT_OK;
  if (n > INT32_MAX / 2)
    return AT_INVALID;
  static const uint32_t oids[9] = {S_OID_TEXT, S_OID_TEXT, S_OID_TEXT, S_OID_TEXT, S_OID_INT4,
                                   S_OID_INT8, S_OID_INT8, S_OID_TEXT, S_OID_BYTEA};
  s_buf_t arrays[9];
  memset (arrays, 0, sizeof arrays);
  for (int c = 0; c < 9; c++)
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
  }
  const char *values[9];
  int lengths[9], formats[9];
  int rc = AT_OK;
  for (int c = 0; c < 9; c++) {
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
  for (int c = 0; c < 9; c++)
    free (arrays[c].data);
  return rc;
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
  return s_exec_one (store, &SQL_BUS_BUMP, values);
}

int
at_store_bus_stats (at_store_t *store, at_store_bus_stat_t *stats, size_t cap, size_t *n_out)
{
  *n_out = 0;
  PGresult *res = NULL;
  int rc = at_store_exec (store, &SQL_BUS_STATS, NULL, NULL, NULL, &res);
  if (rc != AT_OK)
    return rc;
  int rows = PQntuples (res);
  for (int r = 0; r < rows && *n_out < cap; r++) {
    at_store_bus_stat_t *s = &stats[*n_out];
    at_strlcpy (s->stage, PQgetvalue (res, r, 0), sizeof s->stage);
    s->depth = strtoll (PQgetvalue (res, r, 1), NULL, 10);
    s->oldest_age_s = strtod (PQgetvalue (res, r, 2), NULL);
    (*n_out)++;
  }
  PQclear (res);
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
at_store_bus_ready_ids (at_store_t *store, const char *stage, int limit, at_store_bus_id_fn fn,
                        void *arg)
{
  if (limit <= 0)
    return AT_OK;
  char lim[16];
  snprintf (lim, sizeof lim, "%d", limit);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_BUS_READY_IDS, stage, lim);
  if (rc != AT_OK)
    return rc;
  int rows = PQntuples (res);
  for (int r = 0; r < rows; r++)
    fn (PQgetvalue (res, r, 0), arg);
  PQclear (res);
  return AT_OK;
}

int
at_store_bus_fetch (at_store_t *store, const char *const *ids, size_t n, at_store_bus_msg_fn fn,
                    void *arg)
{
  if (n == 0)
    return AT_OK;
  if (n > INT32_MAX / 64)
    return AT_INVALID;
  s_buf_t array = {0};
  s_array_begin (&array, S_OID_TEXT, n);
  for (size_t i = 0; i < n; i++)
    s_array_text (&array, ids[i]);
  const char *values[1] = {(const char *) array.data};
  int lengths[1] = {(int) array.len};
  int formats[1] = {1};
  PGresult *res = NULL;
  int rc = at_store_exec (store, &SQL_BUS_FETCH, values, lengths, formats, &res);
  free (array.data);
  if (rc != AT_OK)
    return rc;
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
