/* The SQL of the dead letters (lib/store/at_store_dlq.h): list, show, replay. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "at_store_dlq.h"
#include "at_log.h"
#include "at_zmq.h"

#define S_COMP "dlq"

/* RFC 3339 text in UTC of a timestamptz column. */
#define S_TS(col) "to_char (" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define S_COLUMNS \
  "id::text, stage, key, type, trace_id, attempt, replays, " S_TS ("created_at") ", " \
  S_TS ("dead_at") ", reason, length (payload), errors::text"

static const at_sql_t SQL_DLQ_LIST = {"dlq_list",
  "SELECT " S_COLUMNS " FROM bus_dead WHERE ($1 = '' OR stage = $1)"
  " ORDER BY dead_at DESC, id DESC LIMIT $2::int4", 2};

static const at_sql_t SQL_DLQ_GET = {"dlq_get",
  "SELECT " S_COLUMNS " FROM bus_dead WHERE id = $1::uuid", 1};

static const at_sql_t SQL_DLQ_WHERE = {"dlq_where",
  "SELECT 'pending' FROM bus_message WHERE id = $1::uuid"
  " UNION ALL SELECT 'dead' FROM bus_dead WHERE id = $1::uuid LIMIT 1", 1};

/* The rows a replay takes, locked; SKIP LOCKED: a concurrent replay owns the others. */
static const at_sql_t SQL_DLQ_LOCK_ONE = {"dlq_lock_one",
  "SELECT id::text, key FROM bus_dead WHERE id = $1::uuid FOR UPDATE", 1};

static const at_sql_t SQL_DLQ_LOCK_STAGE = {"dlq_lock_stage",
  "SELECT id::text, key FROM bus_dead WHERE stage = $1 ORDER BY dead_at, id"
  " LIMIT $2::int4 FOR UPDATE SKIP LOCKED", 2};

/* Back into bus_message at attempt 1, due now, with its id, history and
 * reason; not when a row with its id is pending already. */
static const at_sql_t SQL_DLQ_MOVE = {"dlq_move",
  "WITH d AS (DELETE FROM bus_dead WHERE id = $1::uuid"
  "  AND NOT EXISTS (SELECT 1 FROM bus_message WHERE id = $1::uuid) RETURNING *)"
  " INSERT INTO bus_message (id, stage, key, type, attempt, created_at, not_before, trace_id,"
  "  payload, last_error, errors, replays, shard)"
  " SELECT id, stage, key, type, 1, created_at, now (), trace_id, payload, reason, errors,"
  "  replays + 1, $2::int4 FROM d", 2};

const char *
at_dlq_where_name (at_dlq_where_t where)
{
  switch (where) {
  case AT_DLQ_DEAD: return "dead";
  case AT_DLQ_PENDING: return "pending";
  default: return "unknown";
  }
}

void
at_dlq_entry_clear (at_dlq_entry_t *entry)
{
  if (entry == NULL)
    return;
  free (entry->errors);
  memset (entry, 0, sizeof *entry);
}

void
at_dlq_entries_free (at_dlq_entry_t **entries_p, size_t n)
{
  if (entries_p == NULL || *entries_p == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    at_dlq_entry_clear (&(*entries_p)[i]);
  free (*entries_p);
  *entries_p = NULL;
}

/* One row of S_COLUMNS into entry (text fields truncated to their caps). */
static void
s_row (PGresult *res, int r, at_dlq_entry_t *e)
{
  memset (e, 0, sizeof *e);
  at_strlcpy (e->id, PQgetvalue (res, r, 0), sizeof e->id);
  at_strlcpy (e->stage, PQgetvalue (res, r, 1), sizeof e->stage);
  at_strlcpy (e->key, PQgetvalue (res, r, 2), sizeof e->key);
  at_strlcpy (e->type, PQgetvalue (res, r, 3), sizeof e->type);
  at_strlcpy (e->trace_id, PQgetvalue (res, r, 4), sizeof e->trace_id);
  e->attempt = (uint32_t) strtoul (PQgetvalue (res, r, 5), NULL, 10);
  e->replays = (int32_t) strtol (PQgetvalue (res, r, 6), NULL, 10);
  at_strlcpy (e->created_at, PQgetvalue (res, r, 7), sizeof e->created_at);
  at_strlcpy (e->dead_at, PQgetvalue (res, r, 8), sizeof e->dead_at);
  at_strlcpy (e->reason, PQgetvalue (res, r, 9), sizeof e->reason);
  e->payload_len = (size_t) strtoull (PQgetvalue (res, r, 10), NULL, 10);
  e->errors = at_strdup (PQgetvalue (res, r, 11));
}

int
at_dlq_list (at_store_t *store, const char *stage, int limit, at_dlq_entry_t **entries_out,
             size_t *n_out)
{
  *entries_out = NULL;
  *n_out = 0;
  if (limit < 1 || limit > AT_DLQ_LIST_MAX)
    return AT_INVALID;
  char lim[16];
  snprintf (lim, sizeof lim, "%d", limit);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_DLQ_LIST, stage ? stage : "", lim);
  if (rc != AT_OK)
    return rc;
  int rows = PQntuples (res);
  at_dlq_entry_t *entries = at_calloc ((size_t) rows + 1, sizeof *entries);
  for (int r = 0; r < rows; r++)
    s_row (res, r, &entries[r]);
  PQclear (res);
  *entries_out = entries;
  *n_out = (size_t) rows;
  return AT_OK;
}

static int
s_where (at_store_t *store, const char *id, at_dlq_where_t *where_out)
{
  PGresult *res = NULL;
  *where_out = AT_DLQ_UNKNOWN;
  int rc = at_store_q (store, &res, &SQL_DLQ_WHERE, id);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) > 0)
    *where_out = strcmp (PQgetvalue (res, 0, 0), "dead") == 0 ? AT_DLQ_DEAD : AT_DLQ_PENDING;
  PQclear (res);
  return AT_OK;
}

int
at_dlq_get (at_store_t *store, const char *id, at_dlq_entry_t *entry, at_dlq_where_t *where_out)
{
  memset (entry, 0, sizeof *entry);
  *where_out = AT_DLQ_UNKNOWN;
  if (id == NULL || !at_uuid_valid (id))
    return AT_INVALID;
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_DLQ_GET, id);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) == 1) {
    s_row (res, 0, entry);
    *where_out = AT_DLQ_DEAD;
    PQclear (res);
    return AT_OK;
  }
  PQclear (res);
  rc = s_where (store, id, where_out);
  return rc == AT_OK ? AT_NOTFOUND : rc;
}

/* Moves the locked rows of res (id, key) back; *moved_out counts them. */
static int
s_move_rows (at_store_t *store, PGresult *res, int broker_count, size_t *moved_out)
{
  for (int r = 0; r < PQntuples (res); r++) {
    char shard[16];
    snprintf (shard, sizeof shard, "%d", at_bus_shard_of (PQgetvalue (res, r, 1), broker_count));
    PGresult *moved = NULL;
    int rc = at_store_q (store, &moved, &SQL_DLQ_MOVE, PQgetvalue (res, r, 0), shard);
    if (rc != AT_OK)
      return rc;
    *moved_out += (size_t) strtoull (PQcmdTuples (moved), NULL, 10);
    PQclear (moved);
  }
  return AT_OK;
}

/* BEGIN; lock (one id or a stage's oldest); move; COMMIT. */
static int
s_replay (at_store_t *store, const at_sql_t *lock, const char *arg1, const char *arg2,
          int broker_count, size_t *moved_out)
{
  *moved_out = 0;
  PGresult *res = NULL;
  int rc = at_store_begin (store);
  if (rc != AT_OK)
    return rc;
  rc = lock->nparams == 1 ? at_store_q (store, &res, lock, arg1)
                          : at_store_q (store, &res, lock, arg1, arg2);
  if (rc == AT_OK)
    rc = s_move_rows (store, res, broker_count, moved_out);
  PQclear (res);
  if (rc == AT_OK)
    rc = at_store_commit (store);
  if (rc != AT_OK) {
    *moved_out = 0;
    if (at_store_ok (store))
      at_store_rollback (store);
  }
  return rc;
}

int
at_dlq_replay (at_store_t *store, const char *id, int broker_count, at_dlq_where_t *where_out)
{
  *where_out = AT_DLQ_UNKNOWN;
  if (id == NULL || !at_uuid_valid (id))
    return AT_INVALID;
  size_t moved = 0;
  int rc = s_replay (store, &SQL_DLQ_LOCK_ONE, id, NULL, broker_count, &moved);
  if (rc != AT_OK)
    return rc;
  if (moved == 1) {
    *where_out = AT_DLQ_PENDING;
    at_info (S_COMP, "msg=\"dead letter replayed\" id=%s", id);
    return AT_OK;
  }
  rc = s_where (store, id, where_out);
  return rc == AT_OK ? AT_NOTFOUND : rc;
}

int
at_dlq_replay_stage (at_store_t *store, const char *stage, int limit, int broker_count,
                     size_t *moved_out)
{
  *moved_out = 0;
  if (stage == NULL || *stage == '\0' || strlen (stage) >= AT_STAGE_LEN || limit < 1
      || limit > AT_DLQ_REPLAY_MAX)
    return AT_INVALID;
  char lim[16];
  snprintf (lim, sizeof lim, "%d", limit);
  int rc = s_replay (store, &SQL_DLQ_LOCK_STAGE, stage, lim, broker_count, moved_out);
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"dead letters replayed\" stage=%s count=%zu", stage, *moved_out);
  return rc;
}

json_t *
at_dlq_entry_json (const at_dlq_entry_t *e, bool with_errors)
{
  json_t *j = json_object ();
  json_object_set_new (j, "id", json_string (e->id));
  json_object_set_new (j, "stage", json_string (e->stage));
  json_object_set_new (j, "key", json_string (e->key));
  json_object_set_new (j, "type", json_string (e->type));
  json_object_set_new (j, "trace_id", json_string (e->trace_id));
  json_object_set_new (j, "attempt", json_integer (e->attempt));
  json_object_set_new (j, "replays", json_integer (e->replays));
  json_object_set_new (j, "created_at", json_string (e->created_at));
  json_object_set_new (j, "dead_at", json_string (e->dead_at));
  /* the reason may be cut inside a UTF-8 sequence: json_string refuses it */
  json_t *reason = json_string (e->reason);
  json_object_set_new (j, "reason", reason ? reason : json_string ("(not valid UTF-8)"));
  json_object_set_new (j, "payload_bytes", json_integer ((json_int_t) e->payload_len));
  if (with_errors) {
    json_t *errors = e->errors ? json_loads (e->errors, 0, NULL) : NULL;
    json_object_set_new (j, "errors", errors && json_is_array (errors) ? errors : json_array ());
    if (errors && !json_is_array (errors))
      json_decref (errors);
  }
  return j;
}
