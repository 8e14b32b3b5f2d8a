/* The benchmarks' SQL, as named statements (see at_store_bench.h). */
#include "at_store_bench.h"
#include "at_store_array.h"

#include <stdio.h>
#include <stdlib.h>

static const at_sql_t SQL_EFFECT_TABLE = {"bench_effect_table",
  "CREATE TABLE IF NOT EXISTS bench_effect (msg_id uuid PRIMARY KEY,"
  " at timestamptz NOT NULL DEFAULT now())", 0};
static const at_sql_t SQL_EFFECT_ADD = {"bench_effect_add",
  "INSERT INTO bench_effect (msg_id) VALUES ($1::uuid)", 1};
static const at_sql_t SQL_EFFECT_ADD_MANY = {"bench_effect_add_many",
  "INSERT INTO bench_effect (msg_id) SELECT unnest ($1::text[]::uuid[])", 1};
static const at_sql_t SQL_BACKLOG_ADD = {"bench_backlog_add",
  "INSERT INTO bus_message (id, stage, key, type, attempt, created_at, not_before,"
  " trace_id, payload) SELECT gen_random_uuid (), 'survey', 'ticket:' || g,"
  " 'ticket.resolved', 1, now (), now (), 'backlog', '\\x00'::bytea"
  " FROM generate_series (1, $1::bigint) g", 1};
static const at_sql_t SQL_BACKLOG_CLEAR = {"bench_backlog_clear",
  "DELETE FROM bus_message WHERE trace_id = 'backlog'", 0};
static const at_sql_t SQL_STAGE_CLEAR = {"bench_stage_clear",
  "DELETE FROM bus_message WHERE stage = $1", 1};
static const at_sql_t SQL_STAGE_COUNT = {"bench_stage_count",
  "SELECT count(*) FROM bus_message WHERE stage = $1", 1};
static const at_sql_t SQL_STATS_FLUSH = {"bench_stats_flush",
  "SELECT pg_stat_force_next_flush (), pg_stat_clear_snapshot ()", 0};
static const at_sql_t SQL_COMMITS = {"bench_commits",
  "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database ()", 0};

static long long
s_scalar (at_store_t *store, const at_sql_t *sql, const char *param)
{
  PGresult *res = NULL;
  long long v = -1;
  if (at_store_q (store, &res, sql, param) != AT_OK)
    return -1;
  if (PQntuples (res) > 0 && !PQgetisnull (res, 0, 0))
    v = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return v;
}

int
at_store_bench_effect_table (at_store_t *store)
{
  return at_store_do (store, &SQL_EFFECT_TABLE);
}

int
at_store_bench_effect_add (at_store_t *store, const char *msg_id)
{
  return at_store_do (store, &SQL_EFFECT_ADD, msg_id);
}

int
at_store_bench_effect_add_many (at_store_t *store, const char *const *msg_ids, size_t n)
{
  PGresult *res = NULL;
  int rc = at_store_exec_ids (store, &SQL_EFFECT_ADD_MANY, msg_ids, n, &res);
  PQclear (res);
  return rc;
}

int
at_store_bench_backlog_add (at_store_t *store, long n)
{
  char count[24];
  snprintf (count, sizeof count, "%ld", n);
  return at_store_do (store, &SQL_BACKLOG_ADD, count);
}

int
at_store_bench_backlog_clear (at_store_t *store)
{
  return at_store_do (store, &SQL_BACKLOG_CLEAR);
}

int
at_store_bench_stage_clear (at_store_t *store, const char *stage)
{
  return at_store_do (store, &SQL_STAGE_CLEAR, stage);
}

long long
at_store_bench_stage_count (at_store_t *store, const char *stage)
{
  return s_scalar (store, &SQL_STAGE_COUNT, stage);
}

long long
at_store_bench_commits (at_store_t *store)
{
  if (at_store_do (store, &SQL_STATS_FLUSH) != AT_OK)
    return -1;
  return s_scalar (store, &SQL_COMMITS, NULL);
}

int
at_store_bench_vacuum (at_store_t *store)
{
  /* VACUUM cannot be prepared: a plain command, no parameters, no input */
  PGresult *res = PQexec (at_store_conn (store), "VACUUM ANALYZE bus_message");
  int rc = PQresultStatus (res) == PGRES_COMMAND_OK ? AT_OK : AT_ERROR;
  PQclear (res);
  return rc;
}
