/* SLA calendars and policies as the api manages them, clocks as a ticket
 * shows them, and the SLA KPIs (at_store_sla.h). JSON built by PostgreSQL.
 * A deleted calendar or policy keeps its row (deleted_at, migration 021) for
 * the clocks that name it and is invisible here. A live policy's calendar is
 * live: a policy written locks its calendar FOR SHARE, a calendar deleted
 * locks it FOR UPDATE and then looks for its policies. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_store_sla.h"
#include "at_store_json.h"


static const at_sql_t SQL_CALENDAR_INSERT = {"sla_calendar_insert",
  "INSERT INTO sla_calendar (name, timezone, windows) VALUES ($1, $2, $3::jsonb) RETURNING id",
  3};

static const at_sql_t SQL_HOLIDAY_INSERT = {"sla_holiday_insert",
  "INSERT INTO sla_holiday (calendar_id, day, name)"
  " SELECT $1, $2::date, $3 WHERE EXISTS (SELECT 1 FROM sla_calendar WHERE id = $1"
  " AND deleted_at IS NULL) ON CONFLICT DO NOTHING RETURNING 1", 3};

static const at_sql_t SQL_CALENDAR_LIVE = {"sla_calendar_live",
  "SELECT 1 FROM sla_calendar WHERE id = $1 AND deleted_at IS NULL FOR SHARE", 1};

static const at_sql_t SQL_CALENDAR_LOCK = {"sla_calendar_lock",
  "SELECT 1 FROM sla_calendar WHERE id = $1 AND deleted_at IS NULL FOR UPDATE", 1};

static const at_sql_t SQL_CALENDAR_UPDATE = {"sla_calendar_update",
  "UPDATE sla_calendar SET name = $2, timezone = $3, windows = $4::jsonb WHERE id = $1", 4};

static const at_sql_t SQL_HOLIDAYS_CLEAR = {"sla_holidays_clear",
  "DELETE FROM sla_holiday WHERE calendar_id = $1", 1};

static const at_sql_t SQL_CALENDAR_POLICIES = {"sla_calendar_policies",
  "SELECT coalesce (json_agg (json_build_object ('id', id, 'name', name) ORDER BY id), '[]')"
  " FROM sla_policy WHERE calendar_id = $1 AND deleted_at IS NULL", 1};

static const at_sql_t SQL_CALENDAR_DELETE = {"sla_calendar_delete",
  "UPDATE sla_calendar SET deleted_at = now () WHERE id = $1", 1};

#define S_CALENDAR_JSON \
  "json_build_object ('id', c.id, 'name', c.name, 'timezone', c.timezone, 'windows'," \
  " (SELECT coalesce (json_agg (json_build_object ('weekday', (w->>'weekday')::int," \
  "   'start', to_char (make_interval (mins => (w->>'start')::int), 'HH24:MI')," \
  "   'end', CASE WHEN (w->>'end')::int = 1440 THEN '24:00' ELSE" \
  "     to_char (make_interval (mins => (w->>'end')::int), 'HH24:MI') END)" \
  "   ORDER BY (w->>'weekday')::int, (w->>'start')::int), '[]')" \
  "   FROM jsonb_array_elements (c.windows) w)," \
  " 'created_at', to_char (c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static const at_sql_t SQL_CALENDAR_GET = {"sla_calendar_get",
  "SELECT " S_CALENDAR_JSON ", 'holidays', (SELECT coalesce (json_agg (json_build_object"
  " ('date', to_char (h.day, 'YYYY-MM-DD'), 'name', h.name) ORDER BY h.day), '[]')"
  " FROM sla_holiday h WHERE h.calendar_id = c.id)) FROM sla_calendar c WHERE c.id = $1"
  " AND c.deleted_at IS NULL", 1};

static const at_sql_t SQL_CALENDAR_LIST = {"sla_calendar_list",
  "SELECT coalesce (json_agg (" S_CALENDAR_JSON ", 'holidays_count', (SELECT count (*)"
  " FROM sla_holiday h WHERE h.calendar_id = c.id)) ORDER BY c.id), '[]')"
  " FROM sla_calendar c WHERE c.deleted_at IS NULL", 0};

static const at_sql_t SQL_POLICY_INSERT = {"sla_policy_insert",
  "INSERT INTO sla_policy (name, priority, channel, calendar_id, first_response_s,"
  " first_response_business, next_response_s, next_response_business, resolution_s,"
  " resolution_business) VALUES ($1, $2, $3, $4, NULLIF ($5::int, 0), $6::boolean,"
  " NULLIF ($7::int, 0), $8::boolean, NULLIF ($9::int, 0), $10::boolean) RETURNING id", 10};

static const at_sql_t SQL_POLICY_LOCK = {"sla_policy_lock",
  "SELECT 1 FROM sla_policy WHERE id = $1 AND deleted_at IS NULL FOR UPDATE", 1};

static const at_sql_t SQL_POLICY_UPDATE = {"sla_policy_update",
  "UPDATE sla_policy SET name = $1, priority = $2, channel = $3, calendar_id = $4,"
  " first_response_s = NULLIF ($5::int, 0), first_response_business = $6::boolean,"
  " next_response_s = NULLIF ($7::int, 0), next_response_business = $8::boolean,"
  " resolution_s = NULLIF ($9::int, 0), resolution_business = $10::boolean"
  " WHERE id = $11 AND deleted_at IS NULL", 11};

static const at_sql_t SQL_POLICY_DELETE = {"sla_policy_delete",
  "UPDATE sla_policy SET deleted_at = now () WHERE id = $1 AND deleted_at IS NULL"
  " RETURNING id", 1};

#define S_TARGET_JSON(m) \
  "CASE WHEN " m "_s IS NULL THEN NULL ELSE json_build_object ('target_s', " m "_s," \
  " 'time', CASE WHEN " m "_business THEN 'business' ELSE 'wall' END) END"

#define S_POLICY_JSON \
  "json_build_object ('id', id, 'name', name, 'priority', priority," \
  " 'channel', channel, 'calendar_id', calendar_id," \
  " 'first_response', " S_TARGET_JSON ("first_response") "," \
  " 'next_response', " S_TARGET_JSON ("next_response") "," \
  " 'resolution', " S_TARGET_JSON ("resolution") ")"

static const at_sql_t SQL_POLICY_LIST = {"sla_policy_list",
  "SELECT coalesce (json_agg (" S_POLICY_JSON " ORDER BY id), '[]') FROM sla_policy"
  " WHERE deleted_at IS NULL", 0};

static const at_sql_t SQL_POLICY_GET = {"sla_policy_get",
  "SELECT " S_POLICY_JSON " FROM sla_policy WHERE id = $1 AND deleted_at IS NULL", 1};

#define S_TS(col) \
  "to_char (" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static const at_sql_t SQL_CLOCKS_JSON = {"sla_clocks_json",
  "SELECT coalesce (json_agg (json_build_object ('metric', metric, 'state', state,"
  " 'policy_id', policy_id, 'calendar_id', calendar_id,"
  " 'time', CASE WHEN calendar_id IS NULL THEN 'wall' ELSE 'business' END,"
  " 'target_s', target_s, 'consumed_s', consumed_s, 'running_since', " S_TS ("running_since") ","
  " 'pause_reason', pause_reason, 'due_at', " S_TS ("due_at") ", 'warn_at', " S_TS ("warn_at") ","
  " 'warned', warned, 'cycle', cycle, 'breaches', breaches, 'met_at', " S_TS ("met_at") ","
  " 'breached_at', " S_TS ("breached_at") ", 'version', version)"
  " ORDER BY CASE metric WHEN 'first_response' THEN 0 WHEN 'next_response' THEN 1 ELSE 2 END),"
  " '[]') FROM sla_clock WHERE ticket_id = $1", 1};

/* By metric, the ticket's team at the desk (none: ""), channel: clocks met or
 * breached, and those met without a breach. */
static const at_sql_t SQL_KPIS = {"sla_kpis",
  "SELECT k.metric, coalesce (tm.name, ''), t.channel, count (*),"
  " count (*) FILTER (WHERE k.breaches = 0 AND k.state = 'met')"
  " FROM sla_clock k JOIN ticket t ON t.id = k.ticket_id"
  " LEFT JOIN desk_ticket d ON d.ticket_id = t.id LEFT JOIN team tm ON tm.id = d.team_id"
  " WHERE (k.state IN ('met', 'breached') OR k.breaches > 0)"
  " AND t.created_at >= to_timestamp ($1::double precision / 1e6)"
  " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 LIMIT 512", 1};

static int
s_json (at_store_t *store, const at_sql_t *sql, const char *arg, json_t **out)
{
  const char *values[] = {arg};
  return at_store_json (store, sql, values, out);
}

static int
s_holiday_insert (at_store_t *store, const char *cal, const at_holiday_t *h, bool *added)
{
  char day[16];
  snprintf (day, sizeof day, "%04d-%02d-%02d", h->y, h->m, h->d);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_HOLIDAY_INSERT, cal, day, h->name);
  if (rc != AT_OK)
    return rc;
  *added = PQntuples (res) == 1;
  PQclear (res);
  return AT_OK;
}

int
at_store_sla_calendar_create (at_store_t *store, const char *name, const char *tz,
                              const char *windows_json, const at_holiday_t *holidays,
                              size_t n_holidays, int64_t *id_out)
{
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_CALENDAR_INSERT, name, tz, windows_json);
  if (rc != AT_OK)
    return rc;
  char cal[24];
  at_strlcpy (cal, PQgetvalue (res, 0, 0), sizeof cal);
  *id_out = strtoll (cal, NULL, 10);
  PQclear (res);
  for (size_t i = 0; i < n_holidays && rc == AT_OK; i++) {
    bool added;
    rc = s_holiday_insert (store, cal, &holidays[i], &added);
  }
  return rc;
}

/* Whether a row answers sql (a lock of one live row): AT_OK or AT_NOTFOUND. */
static int
s_row (at_store_t *store, const at_sql_t *sql, const char *id)
{
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, sql, id);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_NOTFOUND;
  PQclear (res);
  return rc;
}

int
at_store_sla_holidays_add (at_store_t *store, int64_t calendar_id, const at_holiday_t *h,
                           size_t n, long *added_out)
{
  char cal[24];
  snprintf (cal, sizeof cal, "%" PRId64, calendar_id);
  *added_out = 0;
  int rc = s_row (store, &SQL_CALENDAR_LIVE, cal);
  for (size_t i = 0; i < n && rc == AT_OK; i++) {
    bool added = false;
    rc = s_holiday_insert (store, cal, &h[i], &added);
    *added_out += added;
  }
  return rc;
}

int
at_store_sla_calendar_update (at_store_t *store, int64_t id, const char *name, const char *tz,
                              const char *windows_json, const at_holiday_t *holidays,
                              size_t n_holidays, bool replace_holidays)
{
  char cal[24];
  snprintf (cal, sizeof cal, "%" PRId64, id);
  int rc = s_row (store, &SQL_CALENDAR_LOCK, cal);
  if (rc == AT_OK)
    rc = at_store_do (store, &SQL_CALENDAR_UPDATE, cal, name, tz, windows_json);
  if (rc == AT_OK && replace_holidays)
    rc = at_store_do (store, &SQL_HOLIDAYS_CLEAR, cal);
  for (size_t i = 0; replace_holidays && i < n_holidays && rc == AT_OK; i++) {
    bool added;
    rc = s_holiday_insert (store, cal, &holidays[i], &added);
  }
  return rc;
}

int
at_store_sla_calendar_delete (at_store_t *store, int64_t id, json_t **policies_out)
{
  char cal[24];
  snprintf (cal, sizeof cal, "%" PRId64, id);
  *policies_out = NULL;
  int rc = s_row (store, &SQL_CALENDAR_LOCK, cal);
  if (rc == AT_OK)
    rc = s_json (store, &SQL_CALENDAR_POLICIES, cal, policies_out);
  if (rc == AT_OK && json_array_size (*policies_out) > 0)
    return AT_CONFLICT;
  json_decref (*policies_out);
  *policies_out = NULL;
  return rc == AT_OK ? at_store_do (store, &SQL_CALENDAR_DELETE, cal) : rc;
}

int
at_store_sla_calendar_get (at_store_t *store, int64_t id, json_t **out)
{
  char idt[24];
  snprintf (idt, sizeof idt, "%" PRId64, id);
  return s_json (store, &SQL_CALENDAR_GET, idt, out);
}

int
at_store_sla_calendar_list (at_store_t *store, json_t **out)
{
  return s_json (store, &SQL_CALENDAR_LIST, NULL, out);
}

/* A policy's columns as text: calendar, then target and business per metric. */
typedef struct {
  char cal[24], t[AT_SLA_METRICS][24];
  const char *b[AT_SLA_METRICS];
} s_policy_text_t;

static void
s_policy_text (const at_sla_policy_t *p, s_policy_text_t *x)
{
  snprintf (x->cal, sizeof x->cal, "%" PRId64, p->calendar_id);
  for (int m = 0; m < AT_SLA_METRICS; m++) {
    snprintf (x->t[m], sizeof x->t[m], "%" PRId64, p->targets[m].target_s);
    x->b[m] = p->targets[m].business ? "true" : "false";
  }
}

int
at_store_sla_policy_create (at_store_t *store, const at_sla_policy_t *p, int64_t *id_out)
{
  s_policy_text_t x;
  s_policy_text (p, &x);
  int rc = s_row (store, &SQL_CALENDAR_LIVE, x.cal);
  if (rc != AT_OK)
    return rc;
  PGresult *res = NULL;
  rc = at_store_q (store, &res, &SQL_POLICY_INSERT, p->name, p->priority, p->channel, x.cal,
                   x.t[0], x.b[0], x.t[1], x.b[1], x.t[2], x.b[2]);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_ERROR;
  if (rc == AT_OK)
    *id_out = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return rc;
}

int
at_store_sla_policy_lock (at_store_t *store, int64_t id)
{
  char idt[24];
  snprintf (idt, sizeof idt, "%" PRId64, id);
  return s_row (store, &SQL_POLICY_LOCK, idt);
}

int
at_store_sla_policy_update (at_store_t *store, int64_t id, const at_sla_policy_t *p)
{
  char idt[24];
  snprintf (idt, sizeof idt, "%" PRId64, id);
  s_policy_text_t x;
  s_policy_text (p, &x);
  int rc = s_row (store, &SQL_CALENDAR_LIVE, x.cal);
  if (rc != AT_OK)
    return rc;
  return at_store_do (store, &SQL_POLICY_UPDATE, p->name, p->priority, p->channel, x.cal,
                      x.t[0], x.b[0], x.t[1], x.b[1], x.t[2], x.b[2], idt);
}

int
at_store_sla_policy_delete (at_store_t *store, int64_t id)
{
  char idt[24];
  snprintf (idt, sizeof idt, "%" PRId64, id);
  return s_row (store, &SQL_POLICY_DELETE, idt);
}

int
at_store_sla_policy_get (at_store_t *store, int64_t id, json_t **out)
{
  char idt[24];
  snprintf (idt, sizeof idt, "%" PRId64, id);
  return s_json (store, &SQL_POLICY_GET, idt, out);
}

int
at_store_sla_policy_list (at_store_t *store, json_t **out)
{
  return s_json (store, &SQL_POLICY_LIST, NULL, out);
}

int
at_store_sla_clocks_json (at_store_t *store, int64_t ticket_id, json_t **out)
{
  char idt[24];
  snprintf (idt, sizeof idt, "%" PRId64, ticket_id);
  return s_json (store, &SQL_CLOCKS_JSON, idt, out);
}

int
at_store_sla_kpis (at_store_t *store, int64_t since_us, at_sla_kpi_t *rows, size_t cap,
                   size_t *n_out)
{
  char since[24];
  snprintf (since, sizeof since, "%" PRId64, since_us);
  *n_out = 0;
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_KPIS, since);
  if (rc != AT_OK)
    return rc;
  for (int i = 0; i < PQntuples (res) && *n_out < cap; i++) {
    at_sla_kpi_t *k = &rows[(*n_out)++];
    at_strlcpy (k->metric, PQgetvalue (res, i, 0), sizeof k->metric);
    at_strlcpy (k->team, PQgetvalue (res, i, 1), sizeof k->team);
    at_strlcpy (k->channel, PQgetvalue (res, i, 2), sizeof k->channel);
    k->tickets = strtoll (PQgetvalue (res, i, 3), NULL, 10);
    k->within = strtoll (PQgetvalue (res, i, 4), NULL, 10);
  }
  PQclear (res);
  return AT_OK;
}
