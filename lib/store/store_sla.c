/* SLA clocks in the store, as route uses them (at_store_sla.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_store_sla.h"
#include "at_log.h"

#define S_COMP "sla"

static const char *const s_metrics[AT_SLA_METRICS] = {"first_response", "next_response",
                                                      "resolution"};

const char *
at_sla_metric_name (at_sla_metric_t m)
{
  return (unsigned) m < AT_SLA_METRICS ? s_metrics[m] : "first_response";
}

static const at_sql_t SQL_POLICY_FIND = {"sla_policy_find",
  "SELECT id, calendar_id, coalesce (first_response_s, 0), first_response_business,"
  " coalesce (next_response_s, 0), next_response_business, coalesce (resolution_s, 0),"
  " resolution_business FROM sla_policy WHERE priority = $1 AND channel IN ($2, 'any')"
  " AND deleted_at IS NULL ORDER BY channel = 'any' LIMIT 1", 2};

/* Deleted calendars too: clocks started on one keep counting on it. */
static const at_sql_t SQL_CALENDAR_LOAD = {"sla_calendar_load",
  "SELECT timezone, (SELECT coalesce (string_agg (format ('%s %s %s', w->>'weekday',"
  "   w->>'start', w->>'end'), ','), '') FROM jsonb_array_elements (windows) w),"
  " (SELECT coalesce (string_agg (to_char (day, 'YYYY MM DD'), ','), '') FROM sla_holiday"
  "   WHERE calendar_id = c.id) FROM sla_calendar c WHERE id = $1", 1};

#define S_CLOCK_COLUMNS \
  "metric, coalesce (policy_id, 0), priority, coalesce (calendar_id, 0), target_s, consumed_s," \
  " coalesce (extract (epoch FROM running_since)::bigint, 0)," \
  " coalesce (extract (epoch FROM due_at)::bigint, 0)," \
  " coalesce (extract (epoch FROM warn_at)::bigint, 0), warned, state," \
  " coalesce (pause_reason, ''), version, cycle, breaches," \
  " coalesce (extract (epoch FROM met_at)::bigint, 0)," \
  " coalesce (extract (epoch FROM breached_at)::bigint, 0)"

static const at_sql_t SQL_CLOCKS_LOCK = {"sla_clocks_lock",
  "SELECT " S_CLOCK_COLUMNS " FROM sla_clock WHERE ticket_id = $1 FOR UPDATE", 1};

static const at_sql_t SQL_CLOCK_SAVE = {"sla_clock_save",
  "INSERT INTO sla_clock AS k (ticket_id, metric, policy_id, priority, calendar_id, target_s,"
  " consumed_s, running_since, due_at, warn_at, warned, state, pause_reason, version, cycle,"
  " breaches, met_at, breached_at)"
  " VALUES ($1, $2, NULLIF ($3::bigint, 0), $4, NULLIF ($5::bigint, 0), $6, $7,"
  " to_timestamp (NULLIF ($8::bigint, 0)), to_timestamp (NULLIF ($9::bigint, 0)),"
  " to_timestamp (NULLIF ($10::bigint, 0)), $11::boolean, $12, NULLIF ($13, ''), $14, $15, $16,"
  " to_timestamp (NULLIF ($17::bigint, 0)), to_timestamp (NULLIF ($18::bigint, 0)))"
  " ON CONFLICT (ticket_id, metric) DO UPDATE SET policy_id = excluded.policy_id,"
  " priority = excluded.priority, calendar_id = excluded.calendar_id,"
  " target_s = excluded.target_s, consumed_s = excluded.consumed_s,"
  " running_since = excluded.running_since, due_at = excluded.due_at,"
  " warn_at = excluded.warn_at, warned = excluded.warned, state = excluded.state,"
  " pause_reason = excluded.pause_reason, version = excluded.version, cycle = excluded.cycle,"
  " breaches = excluded.breaches, met_at = excluded.met_at, breached_at = excluded.breached_at,"
  " updated_at = now ()", 18};

static const at_sql_t SQL_EVENT = {"sla_event",
  "INSERT INTO sla_event (ticket_id, metric, cycle, kind, detail) VALUES ($1, $2, $3, $4, $5)"
  " ON CONFLICT DO NOTHING RETURNING id", 5};

static const at_sql_t SQL_FIRST_RESPONSE_DUE = {"sla_first_response_due",
  "UPDATE ticket SET first_response_due = to_timestamp ($2::bigint) WHERE id = $1", 2};

static const at_sql_t SQL_TICKET_TIMES = {"sla_ticket_times",
  "SELECT extract (epoch FROM created_at)::bigint,"
  " coalesce (extract (epoch FROM handoff_at)::bigint, 0) FROM ticket WHERE id = $1", 1};

static int64_t
s_i64 (PGresult *res, int row, int col)
{
  return strtoll (PQgetvalue (res, row, col), NULL, 10);
}

static bool
s_bool (PGresult *res, int row, int col)
{
  return PQgetvalue (res, row, col)[0] == 't';
}

int
at_store_sla_policy_find (at_store_t *store, const char *priority, const char *channel,
                          int64_t *id_out, int64_t *calendar_id_out,
                          at_sla_target_t targets[AT_SLA_METRICS])
{
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_POLICY_FIND, priority, channel);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1) {
    PQclear (res);
    return AT_NOTFOUND;
  }
  *id_out = s_i64 (res, 0, 0);
  *calendar_id_out = s_i64 (res, 0, 1);
  for (int m = 0; m < AT_SLA_METRICS; m++) {
    targets[m].target_s = s_i64 (res, 0, 2 + 2 * m);
    targets[m].business = s_bool (res, 0, 3 + 2 * m);
  }
  PQclear (res);
  return AT_OK;
}

/* "w s e,w s e" windows and "YYYY MM DD,..." holidays into cal. */
static int
s_fill_calendar (at_calendar_t *cal, const char *windows, const char *holidays)
{
  for (const char *p = windows; *p;) {
    char *end;
    long w = strtol (p, &end, 10), s = strtol (end, &end, 10), e = strtol (end, &end, 10);
    if (at_calendar_window_add (cal, (int) w, (int) s, (int) e) != AT_OK)
      return AT_INVALID;
    p = *end == ',' ? end + 1 : end;
    if (end == p && *p)
      return AT_INVALID;
  }
  for (const char *p = holidays; *p;) {
    char *end;
    long y = strtol (p, &end, 10), m = strtol (end, &end, 10), d = strtol (end, &end, 10);
    if (at_calendar_holiday_add (cal, (int) y, (int) m, (int) d) != AT_OK)
      return AT_INVALID;
    p = *end == ',' ? end + 1 : end;
    if (end == p && *p)
      return AT_INVALID;
  }
  return AT_OK;
}

int
at_store_sla_calendar_load (at_store_t *store, int64_t id, at_calendar_t **out)
{
  char idt[24];
  snprintf (idt, sizeof idt, "%" PRId64, id);
  *out = NULL;
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_CALENDAR_LOAD, idt);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1) {
    PQclear (res);
    return AT_NOTFOUND;
  }
  at_calendar_t *cal = at_calendar_new (PQgetvalue (res, 0, 0));
  if (!cal || s_fill_calendar (cal, PQgetvalue (res, 0, 1), PQgetvalue (res, 0, 2)) != AT_OK) {
    at_error (S_COMP, "msg=\"stored calendar does not load\" calendar_id=%" PRId64 " tz=%s", id,
              PQgetvalue (res, 0, 0));
    at_calendar_destroy (&cal);
    PQclear (res);
    return AT_ERROR;
  }
  PQclear (res);
  *out = cal;
  return AT_OK;
}

static void
s_row (PGresult *res, int i, int64_t ticket_id, at_sla_clock_row_t *r)
{
  memset (r, 0, sizeof *r);
  r->ticket_id = ticket_id;
  r->policy_id = s_i64 (res, i, 1);
  at_strlcpy (r->priority, PQgetvalue (res, i, 2), sizeof r->priority);
  r->calendar_id = s_i64 (res, i, 3);
  r->clock.target_s = s_i64 (res, i, 4);
  r->clock.consumed_s = s_i64 (res, i, 5);
  r->clock.running_since = s_i64 (res, i, 6);
  r->clock.due = s_i64 (res, i, 7);
  r->clock.warn_at = s_i64 (res, i, 8);
  r->clock.warned = s_bool (res, i, 9);
  if (at_clock_state_parse (PQgetvalue (res, i, 10), &r->clock.state) != AT_OK)
    r->clock.state = AT_CLOCK_MET;
  at_strlcpy (r->pause_reason, PQgetvalue (res, i, 11), sizeof r->pause_reason);
  r->version = (int) s_i64 (res, i, 12);
  r->cycle = (int) s_i64 (res, i, 13);
  r->breaches = (int) s_i64 (res, i, 14);
  r->met_at = s_i64 (res, i, 15);
  r->breached_at = s_i64 (res, i, 16);
}

int
at_store_sla_clocks_lock (at_store_t *store, int64_t ticket_id,
                          at_sla_clock_row_t rows[AT_SLA_METRICS], bool present[AT_SLA_METRICS])
{
  char idt[24];
  snprintf (idt, sizeof idt, "%" PRId64, ticket_id);
  for (int m = 0; m < AT_SLA_METRICS; m++)
    present[m] = false;
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_CLOCKS_LOCK, idt);
  if (rc != AT_OK)
    return rc;
  for (int i = 0; i < PQntuples (res); i++)
    for (int m = 0; m < AT_SLA_METRICS; m++)
      if (strcmp (PQgetvalue (res, i, 0), s_metrics[m]) == 0) {
        s_row (res, i, ticket_id, &rows[m]);
        rows[m].metric = (at_sla_metric_t) m;
        present[m] = true;
      }
  PQclear (res);
  return AT_OK;
}

int
at_store_sla_clock_save (at_store_t *store, const at_sla_clock_row_t *r)
{
  char v[14][24];
  const at_clock_t *c = &r->clock;
  int64_t nums[] = {r->ticket_id, r->policy_id, r->calendar_id, c->target_s, c->consumed_s,
                    c->running_since, c->due == AT_CAL_NEVER ? 0 : c->due, c->warn_at,
                    r->version, r->cycle, r->breaches, r->met_at, r->breached_at};
  for (size_t i = 0; i < AT_ARRAY_LEN (nums); i++)
    snprintf (v[i], sizeof v[i], "%" PRId64, nums[i]);
  return at_store_do (store, &SQL_CLOCK_SAVE, v[0], at_sla_metric_name (r->metric), v[1],
                      r->priority, v[2], v[3], v[4], v[5], v[6], v[7],
                      c->warned ? "true" : "false", at_clock_state_name (c->state),
                      r->pause_reason, v[8], v[9], v[10], v[11], v[12]);
}

int
at_store_sla_event (at_store_t *store, int64_t ticket_id, at_sla_metric_t metric, int cycle,
                    const char *kind, const char *detail)
{
  char idt[24], cyc[16];
  snprintf (idt, sizeof idt, "%" PRId64, ticket_id);
  snprintf (cyc, sizeof cyc, "%d", cycle);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_EVENT, idt, at_sla_metric_name (metric), cyc, kind,
                       detail ? detail : "");
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_CONFLICT;
  PQclear (res);
  return rc;
}

int
at_store_sla_first_response_due (at_store_t *store, int64_t ticket_id, int64_t due)
{
  if (due <= 0 || due == AT_CAL_NEVER)
    return AT_OK;
  char idt[24], d[24];
  snprintf (idt, sizeof idt, "%" PRId64, ticket_id);
  snprintf (d, sizeof d, "%" PRId64, due);
  return at_store_do (store, &SQL_FIRST_RESPONSE_DUE, idt, d);
}

int
at_store_sla_ticket_times (at_store_t *store, int64_t ticket_id, int64_t *created_out,
                           int64_t *handoff_out)
{
  char idt[24];
  snprintf (idt, sizeof idt, "%" PRId64, ticket_id);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_TICKET_TIMES, idt);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_NOTFOUND;
  if (rc == AT_OK) {
    *created_out = s_i64 (res, 0, 0);
    *handoff_out = s_i64 (res, 0, 1);
  }
  PQclear (res);
  return rc;
}
