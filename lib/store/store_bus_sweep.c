/* The broker's reads of the bus (lib/store/at_store_bus.h): per-stage depth
 * and age, the heads and runs of keys its sweep loads, and the rows it
 * fetches. Every statement is bounded: a backlog of millions costs what a
 * window of it costs. */
#include "at_store_bus.h"
#include "at_store_array.h"
#include "at_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per stage of one shard: pending rows counted up to a cap (an index-only
 * scan that stays cheap under a 10M-row backlog; the ORDER BY keeps the
 * planner from a sequential scan for the stage it cannot see), how long the oldest due
 * row has been due, and the rows not due yet (delayed publishes: surveys,
 * delay checks, knowledge-base follow-ups), counted the same way. */
static const at_sql_t SQL_BUS_STATS = {"bus_stats",
  "SELECT s.stage,"
  " (SELECT count(*) FROM (SELECT 1 FROM bus_message m WHERE m.stage = s.stage"
  "   AND m.shard = $1::int4 ORDER BY m.stage, m.shard, m.not_before LIMIT $2::int8) c),"
  " coalesce (extract (epoch FROM now () - (SELECT min (m.not_before) FROM bus_message m"
  "   WHERE m.stage = s.stage AND m.shard = $1::int4 AND m.not_before <= now ())), 0)::float8,"
  " (SELECT count(*) FROM (SELECT 1 FROM bus_message m WHERE m.stage = s.stage"
  "   AND m.shard = $1::int4 AND m.not_before > now ()"
  "   ORDER BY m.stage, m.shard, m.not_before LIMIT $2::int8) d)"
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
static const at_sql_t SQL_BUS_FETCH = {"bus_fetch",
  "SELECT id::text, stage, key, type, attempt,"
  " (extract (epoch FROM created_at) * 1000000)::int8,"
  " (extract (epoch FROM not_before) * 1000000)::int8, trace_id, payload"
  " FROM unnest ($1::text[]::uuid[]) WITH ORDINALITY AS want (id, ord) JOIN bus_message USING (id)"
  " ORDER BY want.ord", 1};

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
    s->delayed = strtoll (PQgetvalue (res, r, 3), NULL, 10);
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
  int rc = at_store_exec_ids (store, &SQL_BUS_FETCH, ids, n, &res);
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
