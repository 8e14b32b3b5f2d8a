/* The KPIs a lead's dashboard reads (lib/store/at_store_kpi.h): groups from
 * the rollups of migration 022, NPS and orders beside them, the facts for an
 * export. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "at_store_kpi.h"
#include "at_log.h"

#define S_COMP "kpi"
#define S_DAY_US (86400LL * 1000000)
#define S_HOUR_US (3600LL * 1000000)
#define S_TS(n) "(timestamptz 'epoch' + $" #n "::int8 * interval '1 microsecond')"

static const at_sql_t SQL_REFRESH = {"kpi_refresh", "SELECT at_kpi_refresh ()", 0};

/* A group's key: the bucket as text (by day: the date in the zone $7; by
 * hour, UTC), "" (by all: the whole range, one group) or the dimension's
 * value. */
#define S_KEY(col) \
  "CASE $1 WHEN 'all' THEN '' WHEN 'day' THEN to_char (" col " AT TIME ZONE $7, 'YYYY-MM-DD')" \
  " WHEN 'hour' THEN to_char (" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24\":00:00Z\"')" \
  " END"

/* $1 by, $2 since us, $3 until us, $4 limit, [$5, $6) the whole days read
 * from the daily rollups (the rest of the range from the hourly ones), $7
 * the time zone of by=day's dates. The rollups' sums, then NPS answers (by
 * time or channel) and orders (by time) over the same range. */
static const at_sql_t SQL_GROUPS = {"kpi_groups",
  "WITH r AS (SELECT coalesce (" S_KEY ("bucket") ", value) AS k, sum (tickets) AS tickets,"
  "   sum (fr_n) AS fr_n, at_kpi_hist_sum (fr_hist) AS fr_hist, sum (res_n) AS res_n,"
  "   at_kpi_hist_sum (res_hist) AS res_hist, sum (people_resolved_n) AS pr, sum (fcr_n) AS fcr,"
  "   sum (reopened_n) AS ro, sum (reopenings) AS rs, sum (auto_n) AS au, sum (handle_s) AS hs,"
  "   sum (handle_n) AS hn, sum (csat_n) AS cn, sum (csat_good) AS cg,"
  "   sum (sla_fr_met) AS a1, sum (sla_fr_breached) AS b1, sum (sla_nr_met) AS a2,"
  "   sum (sla_nr_breached) AS b2, sum (sla_res_met) AS a3, sum (sla_res_breached) AS b3"
  "  FROM kpi_rollup WHERE dim = CASE WHEN $1 IN ('day', 'hour', 'all') THEN 'all' ELSE $1 END"
  "   AND ((grain = 'day' AND bucket >= " S_TS (5) " AND bucket < " S_TS (6) ")"
  "    OR (grain = 'hour' AND bucket >= " S_TS (2) " AND bucket < " S_TS (3)
  "     AND NOT (bucket >= " S_TS (5) " AND bucket < " S_TS (6) ")))"
  "   GROUP BY 1),"
  " n AS (SELECT coalesce (" S_KEY ("a.created_at") ", s.channel, '') AS k, count (*) AS nn,"
  "   count (*) FILTER (WHERE a.score >= 9) AS np, count (*) FILTER (WHERE a.score <= 6) AS nd"
  "  FROM survey_answer a JOIN survey s ON s.id = a.survey_id"
  "  WHERE s.kind = 'nps' AND $1 IN ('all', 'day', 'hour', 'channel')"
  "   AND a.created_at >= " S_TS (2) " AND a.created_at < " S_TS (3) " GROUP BY 1),"
  " od AS (SELECT " S_KEY ("o.delivered_at") " AS k, count (*) AS od,"
  "   count (*) FILTER (WHERE EXISTS (SELECT 1 FROM order_event e WHERE e.order_id = o.id"
  "     AND e.status = 'returned' AND e.applied)) AS orr"
  "  FROM orders o WHERE $1 IN ('all', 'day', 'hour') AND o.delivered_at >= " S_TS (2)
  "   AND o.delivered_at < " S_TS (3) " GROUP BY 1),"
  " op AS (SELECT " S_KEY ("o.created_at") " AS k, count (*) AS op FROM orders o"
  "  WHERE $1 IN ('all', 'day', 'hour') AND o.created_at >= " S_TS (2)
  "   AND o.created_at < " S_TS (3) " GROUP BY 1)"
  " SELECT k, coalesce (CASE $1 WHEN 'team' THEN (SELECT name FROM team WHERE id::text = k)"
  "   WHEN 'agent' THEN (SELECT name FROM app_user WHERE id::text = k) END, ''),"
  "  tickets, fr_n, fr_hist, res_n, res_hist, pr, fcr, ro, rs, au, hs, hn, cn, cg,"
  "  a1, b1, a2, b2, a3, b3, nn, np, nd, op, od, orr"
  " FROM r FULL JOIN n USING (k) FULL JOIN od USING (k) FULL JOIN op USING (k)"
  " ORDER BY CASE WHEN $1 IN ('day', 'hour') THEN k END, tickets DESC NULLS LAST, k"
  " LIMIT $4::int", 7};

const char *const at_kpi_fact_columns[AT_KPI_FACT_COLUMNS] = {
  "ticket_id", "created_at", "channel", "intent", "priority", "team", "agent",
  "first_response_s", "resolution_s", "first_resolved_at", "resolved_at", "resolutions",
  "reopenings", "agent_replies", "agent_replies_at_resolve", "handle_time_s",
  "sla_first_response", "sla_next_response", "sla_resolution", "csat", "nps", "auto_answered",
  "fcr"};

#define S_RFC(col) "to_char (" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static const at_sql_t SQL_FACTS = {"kpi_facts",
  "SELECT f.ticket_id, " S_RFC ("f.created_at") ", f.channel, f.intent, f.priority, t.name,"
  " u.name, round (f.first_response_s::numeric, 3), round (f.resolution_s::numeric, 3), "
  S_RFC ("f.first_resolved_at") ", " S_RFC ("f.resolved_at") ", f.resolutions, f.reopenings,"
  " f.agent_replies, f.agent_replies_at_resolve, round (f.handle_time_s::numeric, 3),"
  " f.sla_first_response, f.sla_next_response, f.sla_resolution, f.csat, f.nps,"
  " f.auto_answered, f.fcr"
  " FROM ticket_fact f LEFT JOIN team t ON t.id = f.team_id"
  " LEFT JOIN app_user u ON u.id = f.agent_id"
  " WHERE f.created_at >= " S_TS (1) " AND f.created_at < " S_TS (2)
  "  AND ($4::bigint = 0 OR (f.created_at, f.ticket_id) > (SELECT a.created_at, a.ticket_id"
  "   FROM ticket_fact a WHERE a.ticket_id = $4::bigint))"
  " ORDER BY f.created_at, f.ticket_id LIMIT $3::int", 4};

int
at_store_kpi_refresh (at_store_t *store, long *hours_out)
{
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_REFRESH);
  if (rc != AT_OK)
    return rc;
  if (hours_out)
    *hours_out = strtol (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return AT_OK;
}

static bool
s_by_known (const char *by)
{
  static const char *const known[] = {"all", "day", "hour", "channel", "intent", "team",
                                      "agent"};
  for (size_t i = 0; by && i < AT_ARRAY_LEN (known); i++)
    if (strcmp (by, known[i]) == 0)
      return true;
  return false;
}

/* floor and ceiling to a multiple of step (times may be before 1970). */
static int64_t
s_floor (int64_t t, int64_t step)
{
  int64_t r = t % step;
  return r < 0 ? t - r - step : t - r;
}

static int64_t
s_ceil (int64_t t, int64_t step)
{
  int64_t f = s_floor (t, step);
  return f == t ? t : f + step;
}

/* "{1,2,3}" into counts (missing ones 0). */
static void
s_hist (PGresult *res, int row, int col, int64_t *counts)
{
  memset (counts, 0, AT_KPI_HIST_BUCKETS * sizeof *counts);
  if (PQgetisnull (res, row, col))
    return;
  const char *p = PQgetvalue (res, row, col);
  for (int i = 0; i < AT_KPI_HIST_BUCKETS && *p; i++) {
    while (*p == '{' || *p == ',')
      p++;
    char *end = NULL;
    counts[i] = strtoll (p, &end, 10);
    if (end == p)
      break;
    p = end;
  }
}

static long long
s_n (PGresult *res, int row, int col)
{
  return PQgetisnull (res, row, col) ? 0 : strtoll (PQgetvalue (res, row, col), NULL, 10);
}

static void
s_group_fill (PGresult *res, int r, at_kpi_group_t *g)
{
  int c = 0;
  memset (g, 0, sizeof *g);
  at_strlcpy (g->key, PQgetvalue (res, r, c++), sizeof g->key);
  at_strlcpy (g->name, PQgetvalue (res, r, c++), sizeof g->name);
  g->tickets = s_n (res, r, c++);
  g->fr_n = s_n (res, r, c++);
  s_hist (res, r, c++, g->fr_hist);
  g->res_n = s_n (res, r, c++);
  s_hist (res, r, c++, g->res_hist);
  g->people_resolved = s_n (res, r, c++);
  g->fcr = s_n (res, r, c++);
  g->reopened = s_n (res, r, c++);
  g->reopenings = s_n (res, r, c++);
  g->auto_answered = s_n (res, r, c++);
  g->handle_s = PQgetisnull (res, r, c) ? 0 : strtod (PQgetvalue (res, r, c), NULL);
  c++;
  g->handle_n = s_n (res, r, c++);
  g->csat_n = s_n (res, r, c++);
  g->csat_good = s_n (res, r, c++);
  for (int m = 0; m < AT_KPI_SLA_METRICS; m++) {
    g->sla_met[m] = s_n (res, r, c++);
    g->sla_breached[m] = s_n (res, r, c++);
  }
  g->nps_n = s_n (res, r, c++);
  g->promoters = s_n (res, r, c++);
  g->detractors = s_n (res, r, c++);
  g->placed = s_n (res, r, c++);
  g->delivered = s_n (res, r, c++);
  g->returned = s_n (res, r, c++);
}

int
at_store_kpi_groups (at_store_t *store, at_kpi_query_t *q, at_kpi_group_t *rows, size_t cap,
                     size_t *n_out)
{
  *n_out = 0;
  if (!s_by_known (q->by) || q->until_us <= q->since_us)
    return AT_INVALID;
  const char *tz = q->tz && q->tz[0] ? q->tz : "UTC";
  bool utc = strcmp (tz, "UTC") == 0;
  bool days = strcmp (q->by, "hour") != 0 && q->since_us % S_DAY_US == 0
              && q->until_us % S_DAY_US == 0 && (utc || strcmp (q->by, "day") != 0);
  int64_t step = days ? S_DAY_US : S_HOUR_US;
  q->grain = days ? "day" : "hour";
  q->since_us = s_floor (q->since_us, step);
  q->until_us = s_ceil (q->until_us, step);
  /* the whole UTC days inside come from the daily rollups, the edges from the
   * hourly ones; by hour, and by day in another zone, every hour (a UTC day
   * straddles two of its dates) */
  int64_t d0 = s_ceil (q->since_us, S_DAY_US), d1 = s_floor (q->until_us, S_DAY_US);
  if (d0 >= d1 || strcmp (q->by, "hour") == 0 || (!utc && strcmp (q->by, "day") == 0))
    d0 = d1 = q->until_us;
  int rc = at_store_kpi_refresh (store, NULL);
  if (rc != AT_OK)
    return rc;
  char since[24], until[24], limit[16], day0[24], day1[24];
  snprintf (since, sizeof since, "%lld", (long long) q->since_us);
  snprintf (until, sizeof until, "%lld", (long long) q->until_us);
  snprintf (day0, sizeof day0, "%lld", (long long) d0);
  snprintf (day1, sizeof day1, "%lld", (long long) d1);
  snprintf (limit, sizeof limit, "%zu", cap);
  PGresult *res = NULL;
  rc = at_store_q (store, &res, &SQL_GROUPS, q->by, since, until, limit, day0, day1, tz);
  if (rc != AT_OK)
    return rc;
  int n = PQntuples (res);
  for (int r = 0; r < n && (size_t) r < cap; r++)
    s_group_fill (res, r, &rows[(*n_out)++]);
  PQclear (res);
  return AT_OK;
}

int
at_store_kpi_facts (at_store_t *store, int64_t since_us, int64_t until_us, int64_t after_id,
                    int limit, at_kpi_fact_fn row, void *arg)
{
  char since[24], until[24], lim[16], after[24];
  snprintf (since, sizeof since, "%lld", (long long) since_us);
  snprintf (until, sizeof until, "%lld", (long long) until_us);
  snprintf (lim, sizeof lim, "%d", limit < 1 || limit > AT_KPI_FACTS_MAX ? AT_KPI_FACTS_MAX : limit);
  snprintf (after, sizeof after, "%lld", (long long) (after_id > 0 ? after_id : 0));
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_FACTS, since, until, lim, after);
  if (rc != AT_OK)
    return rc;
  const char *fields[AT_KPI_FACT_COLUMNS];
  int n = PQntuples (res);
  for (int r = 0; r < n && rc == AT_OK; r++) {
    for (int c = 0; c < AT_KPI_FACT_COLUMNS; c++)
      fields[c] = PQgetisnull (res, r, c) ? NULL : PQgetvalue (res, r, c);
    rc = row (arg, fields);
  }
  PQclear (res);
  return rc;
}
