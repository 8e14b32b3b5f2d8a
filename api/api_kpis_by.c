/* api_kpis_by: GET /v1/kpis?by=all|day|hour|channel|intent|team|agent&since=&until=
 * (KPIs per group over a range, from the rollups of lib/store/store_kpi.c)
 * and GET /v1/kpis/facts.csv?since=&until= (the ticket facts for a lead's
 * spreadsheet). Definitions: README "KPIs: facts, rollups, definitions". */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "api_internal.h"
#include "at_buf.h"
#include "at_json.h"
#include "at_store_kpi.h"
#include "at_calendar.h"
#include "at_time.h"

#define S_HOUR_US (3600LL * 1000000)
#define S_DAY_US (24 * S_HOUR_US)
#define S_HOUR_RANGE_MAX (31 * S_DAY_US)      /* by=hour: at most 744 groups */
#define S_RANGE_MAX (3660 * S_DAY_US)         /* else about ten years */
#define S_CSV_CAP (64u * 1024 * 1024)

static json_t *
s_ratio (long long num, long long den)
{
  return den > 0 ? json_real ((double) num / (double) den) : json_null ();
}

static json_t *
s_real (double v)
{
  return isfinite (v) ? json_real (v) : json_null ();
}

static json_t *
s_times (long long n, const int64_t *hist)
{
  return json_pack ("{s:I, s:o, s:o}", "count", n,
                    "p50", s_real (at_kpi_hist_quantile (hist, AT_KPI_HIST_BUCKETS, 0.5)),
                    "p90", s_real (at_kpi_hist_quantile (hist, AT_KPI_HIST_BUCKETS, 0.9)));
}

static json_t *
s_sla (const at_kpi_group_t *g)
{
  static const char *const names[AT_KPI_SLA_METRICS] = {"first_response", "next_response",
                                                       "resolution"};
  json_t *o = json_object ();
  for (int m = 0; m < AT_KPI_SLA_METRICS; m++)
    json_object_set_new (o, names[m], json_pack ("{s:I, s:I, s:o}", "met", g->sla_met[m],
                                                 "breached", g->sla_breached[m], "hit_rate",
                                                 s_ratio (g->sla_met[m], g->sla_met[m]
                                                          + g->sla_breached[m])));
  return o;
}

/* NPS: promoters (9, 10) minus detractors (0..6), in points of the answers. */
static json_t *
s_nps (const at_kpi_group_t *g, const char *by)
{
  if (strcmp (by, "intent") == 0 || strcmp (by, "team") == 0 || strcmp (by, "agent") == 0)
    return json_null ();               /* an NPS answer is about an order, not a ticket */
  return json_pack ("{s:I, s:I, s:I, s:o}", "answers", g->nps_n, "promoters", g->promoters,
                    "detractors", g->detractors, "score",
                    g->nps_n > 0 ? json_real (100.0 * (double) (g->promoters - g->detractors)
                                              / (double) g->nps_n) : json_null ());
}

static json_t *
s_orders (const at_kpi_group_t *g, const char *by)
{
  if (strcmp (by, "day") != 0 && strcmp (by, "hour") != 0 && strcmp (by, "all") != 0)
    return json_null ();
  return json_pack ("{s:I, s:I, s:I, s:o, s:o}", "placed", g->placed, "delivered",
                    g->delivered, "returned", g->returned, "return_rate",
                    s_ratio (g->returned, g->delivered), "contacts_per_order",
                    s_ratio (g->tickets, g->placed));
}

static json_t *
s_group (const at_kpi_group_t *g, const char *by)
{
  bool named = strcmp (by, "team") == 0 || strcmp (by, "agent") == 0;
  json_t *o = json_pack ("{s:o, s:I}", "key", g->key[0] ? json_string (g->key) : json_null (),
                         "tickets", g->tickets);
  if (named)
    json_object_set_new (o, "name", g->name[0] ? json_string (g->name) : json_null ());
  json_object_set_new (o, "first_response_seconds", s_times (g->fr_n, g->fr_hist));
  json_object_set_new (o, "resolution_seconds", s_times (g->res_n, g->res_hist));
  json_object_set_new (o, "handle_seconds", json_pack ("{s:I, s:o}", "tickets", g->handle_n,
                       "avg", g->handle_n > 0 ? json_real (g->handle_s / (double) g->handle_n)
                                              : json_null ()));
  json_object_set_new (o, "sla", s_sla (g));
  json_object_set_new (o, "csat", json_pack ("{s:I, s:I, s:o}", "answers", g->csat_n,
                       "satisfied", g->csat_good, "share", s_ratio (g->csat_good, g->csat_n)));
  json_object_set_new (o, "nps", s_nps (g, by));
  json_object_set_new (o, "fcr", json_pack ("{s:I, s:I, s:o}", "resolved_by_people",
                       g->people_resolved, "first_contact", g->fcr, "rate",
                       s_ratio (g->fcr, g->people_resolved)));
  json_object_set_new (o, "auto_answered", json_pack ("{s:I, s:o}", "tickets", g->auto_answered,
                       "share", s_ratio (g->auto_answered, g->tickets)));
  json_object_set_new (o, "reopen", json_pack ("{s:I, s:I, s:I, s:o}", "resolved", g->res_n,
                       "reopened", g->reopened, "reopenings", g->reopenings, "rate",
                       s_ratio (g->reopened, g->res_n)));
  json_object_set_new (o, "orders", s_orders (g, by));
  return o;
}

static void
s_rfc3339 (int64_t us, char out[32])
{
  time_t t = (time_t) (us / 1000000);
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* since and until from the query, or the defaults ending now: the last 30
 * days, the last 48 hours for by=hour. AT_OK, or AT_INVALID with *p filled. */
static int
s_range (api_request_t *req, bool hourly, int64_t *since, int64_t *until, api_problem_t *p)
{
  const char *s = api_query (req, "since"), *u = api_query (req, "until");
  int64_t step = hourly ? S_HOUR_US : S_DAY_US, now = at_now_us ();
  *until = (now / step + 1) * step;
  if (u && at_rfc3339_parse (u, until) != AT_OK)
    return api_problem (p, 400, "until", "until must be an RFC 3339 date-time");
  *since = *until - (hourly ? 48 * S_HOUR_US : 30 * S_DAY_US);
  if (s && at_rfc3339_parse (s, since) != AT_OK)
    return api_problem (p, 400, "since", "since must be an RFC 3339 date-time");
  if (*until <= *since)
    return api_problem (p, 400, "until", "until must come after since");
  if (*until - *since > (hourly ? S_HOUR_RANGE_MAX : S_RANGE_MAX))
    return api_problem (p, 400, "since", hourly ? "by=hour covers at most 31 days"
                                                : "a range covers at most 3660 days");
  return AT_OK;
}

void
api_kpis_by_get (api_request_t *req)
{
  api_problem_t p;
  const char *by = api_query (req, "by");
  static const char *const known[] = {"day", "hour", "channel", "intent", "team", "agent",
                                      "all"};
  size_t k = 0;
  while (k < AT_ARRAY_LEN (known) && strcmp (by, known[k]) != 0)
    k++;
  if (k == AT_ARRAY_LEN (known)) {
    api_problem (&p, 400, "by", "by must be one of all, day, hour, channel, intent, team, agent");
    api_reply_problem (req, &p);
    return;
  }
  at_kpi_query_t q = {.by = known[k], .tz = api_query (req, "tz")};
  if (q.tz && !at_calendar_tz_known (q.tz)) {
    api_problem (&p, 400, "tz", "tz must be an IANA time zone (America/Sao_Paulo, UTC)");
    api_reply_problem (req, &p);
    return;
  }
  if (s_range (req, k == 1, &q.since_us, &q.until_us, &p) != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  size_t n = 0;
  at_kpi_group_t *rows = calloc (AT_KPI_GROUPS_MAX, sizeof *rows);
  if (!rows || at_store_kpi_groups (store, &q, rows, AT_KPI_GROUPS_MAX, &n) != AT_OK) {
    free (rows);
    api_reply_store_failed (req);
    return;
  }
  char since[32], until[32];
  s_rfc3339 (q.since_us, since);
  s_rfc3339 (q.until_us, until);
  json_t *groups = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append_new (groups, s_group (&rows[i], q.by));
  free (rows);
  api_reply_json (req, 200, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:o}", "by", q.by, "grain",
                                       q.grain, "tz", q.tz ? q.tz : "UTC", "since", since,
                                       "until", until, "groups", groups));
}

/* One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line
 * break or leading/trailing space, quotes doubled; a text that a spreadsheet
 * would read as a formula (= + - @, a tab or a carriage return first) gets a
 * leading apostrophe. */
static void
s_csv_field (at_buf_t *b, const char *v, bool text)
{
  if (!v)
    return;
  bool formula = text && strchr ("=+-@\t\r", v[0]) && v[0];
  bool quote = formula || strpbrk (v, ",\"\r\n") || v[0] == ' '
               || (v[0] && v[strlen (v) - 1] == ' ');
  if (quote)
    at_buf_putc (b, '"');
  if (formula)
    at_buf_putc (b, '\'');
  for (const char *c = v; *c; c++) {
    if (*c == '"')
      at_buf_putc (b, '"');
    at_buf_putc (b, *c);
  }
  if (quote)
    at_buf_putc (b, '"');
}

typedef struct {
  at_buf_t b;
  long rows;
  char last[24];             /* the last row's ticket id: the next page's cursor */
} s_csv_t;

static int
s_csv_row (void *arg, const char *const *fields)
{
  s_csv_t *csv = arg;
  for (int c = 0; c < AT_KPI_FACT_COLUMNS; c++) {
    if (c)
      at_buf_putc (&csv->b, ',');
    s_csv_field (&csv->b, fields[c], true);
  }
  at_buf_puts (&csv->b, "\r\n");
  csv->rows++;
  at_strlcpy (csv->last, fields[0] ? fields[0] : "", sizeof csv->last);
  return csv->b.overflow ? AT_ERROR : AT_OK;
}

/* The page's size and cursor: limit 1..AT_KPI_FACTS_MAX (that by default),
 * after a ticket id (0: from the start). */
static int
s_page (const api_request_t *req, long *limit, long *after, api_problem_t *p)
{
  const char *l = api_query (req, "limit"), *a = api_query (req, "after");
  *limit = AT_KPI_FACTS_MAX;
  *after = 0;
  if (l && at_parse_long (l, 1, AT_KPI_FACTS_MAX, limit) != AT_OK)
    return api_problem (p, 400, "limit", "limit must be an integer from 1 to %d",
                        AT_KPI_FACTS_MAX);
  if (a && at_parse_long (a, 1, INT64_MAX, after) != AT_OK)
    return api_problem (p, 400, "after", "after must be a ticket id (the Link header's)");
  return AT_OK;
}

/* A full page may have a next one: Link rel="next" with the same range. */
static void
s_next_link (api_request_t *req, int64_t since, int64_t until, long limit, const s_csv_t *csv)
{
  char from[32], to[32];
  if (csv->rows < limit || !csv->last[0])
    return;
  s_rfc3339 (since, from);
  s_rfc3339 (until, to);
  snprintf (req->link, sizeof req->link,
            "</v1/kpis/facts.csv?since=%s&until=%s&limit=%ld&after=%s>; rel=\"next\"", from, to,
            limit, csv->last);
}

void
api_kpis_facts_csv_get (api_request_t *req)
{
  api_problem_t p;
  int64_t since = 0, until = 0;
  long limit = 0, after = 0;
  if (s_range (req, false, &since, &until, &p) != AT_OK
      || s_page (req, &limit, &after, &p) != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  s_csv_t csv = {.rows = -1};           /* the header is not a row */
  at_buf_init (&csv.b, S_CSV_CAP);
  if (s_csv_row (&csv, at_kpi_fact_columns) != AT_OK
      || at_store_kpi_facts (store, since, until, after, (int) limit, s_csv_row, &csv) != AT_OK) {
    at_buf_free (&csv.b);
    api_reply_store_failed (req);
    return;
  }
  s_next_link (req, since, until, limit, &csv);
  api_reply_text (req, 200, "text/csv; charset=utf-8", at_buf_take (&csv.b));
}

/* /metrics: every scrape also brings the rollups up to date, so the list of
 * stale hours stays short between dashboard reads (a failure is logged by the
 * store and changes nothing). */
void
api_kpis_rollup_refresh (api_request_t *req)
{
  at_store_t *store = api_store (req);
  if (store)
    (void) at_store_kpi_refresh (store, NULL);
}
