/* api_sla: SLA calendars and policies through the api (api_sla.h):
 *   POST /v1/calendars   {name, timezone, windows: [{days: ["mon",...], start: "08:00",
 *                         end: "12:00"}, ...], holidays?: ["2026-12-25" | {date, name}]}
 *   GET  /v1/calendars, GET /v1/calendars/{id}   (the latter with its holidays)
 *   POST /v1/calendars/{id}/holidays/ical        text/calendar: its events become holidays
 *   POST /v1/sla/policies {name, priority: normal|high, channel?: <channel>|any,
 *                         calendar_id, first_response?|next_response?|resolution?:
 *                         {target_s, time: business|wall}}  (at least one target)
 *   GET  /v1/sla/policies
 * Reading needs kpis:read (leads, admins); changing needs an admin, or a
 * signed-in lead. A change and its audit row (sla.calendar.create,
 * sla.holidays.import, sla.policy.create) commit together; bad input is a
 * 400/422 problem naming the field, nothing stored. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_sla.h"
#include "api_metrics.h"
#include "at_calendar.h"
#include "at_store_sla.h"
#include "at_time.h"
#include "at_log.h"

#define S_COMP "api"
#define S_NAME_MAX 80
#define S_HOLIDAYS_MAX 1000

static const char *const s_days[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static bool
s_may_change (api_request_t *req)
{
  if (at_auth_scope_allows (req->caller.scopes, AT_SCOPE_ADMIN))
    return true;
  if (req->caller.kind == API_CALLER_SESSION && req->caller.session.role == AT_ROLE_LEAD)
    return true;
  api_problem_t p;
  api_problem (&p, 403, NULL, "changing SLA calendars and policies needs an admin or a lead");
  api_reply_problem (req, &p);
  return false;
}

static int
s_day (const json_t *v, int *out)
{
  const char *name = json_string_value (v);
  for (int d = 0; name && d < 7; d++)
    if (strcmp (name, s_days[d]) == 0) {
      *out = d;
      return AT_OK;
    }
  return AT_INVALID;
}

/* One {days, start, end} into the calendar and the stored windows. */
static int
s_window (const json_t *w, size_t i, at_calendar_t *cal, json_t *stored, api_problem_t *p)
{
  const json_t *days = json_object_get (w, "days");
  int start, end;
  if (!json_is_object (w) || !json_is_array (days) || json_array_size (days) == 0
      || json_array_size (days) > 7)
    return api_problem (p, 422, "windows", "windows[%zu] must be {days: [\"mon\", ...],"
                        " start: \"HH:MM\", end: \"HH:MM\"}", i);
  if (at_calendar_minute_parse (json_string_value (json_object_get (w, "start")), &start) != AT_OK
      || at_calendar_minute_parse (json_string_value (json_object_get (w, "end")), &end) != AT_OK
      || start >= end)
    return api_problem (p, 422, "windows", "windows[%zu] needs start and end as HH:MM,"
                        " start before end (24:00 ends a day)", i);
  for (size_t k = 0; k < json_array_size (days); k++) {
    int d;
    if (s_day (json_array_get (days, k), &d) != AT_OK)
      return api_problem (p, 422, "windows", "windows[%zu].days[%zu] must be one of sun, mon,"
                          " tue, wed, thu, fri, sat", i, k);
    if (at_calendar_window_add (cal, d, start, end) != AT_OK)
      return api_problem (p, 422, "windows", "windows[%zu] overlaps another window on %s"
                          " (or a day has more than %d)", i, s_days[d], AT_CAL_WINDOWS_PER_DAY);
    json_array_append_new (stored, json_pack ("{s:i, s:i, s:i}", "weekday", d, "start", start,
                                              "end", end));
  }
  return AT_OK;
}

static int
s_holidays (const json_t *list, at_holiday_t *out, size_t *n, api_problem_t *p)
{
  *n = 0;
  if (!list || json_is_null (list))
    return AT_OK;
  if (!json_is_array (list) || json_array_size (list) > S_HOLIDAYS_MAX)
    return api_problem (p, 422, "holidays", "holidays must be an array of at most %d dates",
                        S_HOLIDAYS_MAX);
  for (size_t i = 0; i < json_array_size (list); i++) {
    const json_t *h = json_array_get (list, i);
    const char *date = json_is_object (h) ? json_string_value (json_object_get (h, "date"))
                                           : json_string_value (h);
    const char *name = json_is_object (h) ? json_string_value (json_object_get (h, "name")) : "";
    at_holiday_t *o = &out[(*n)++];
    if (at_date_parse (date, &o->y, &o->m, &o->d) != AT_OK)
      return api_problem (p, 422, "holidays", "holidays[%zu] must be a date YYYY-MM-DD", i);
    if (name && strlen (name) > AT_CAL_HOLIDAY_NAME_MAX)
      return api_problem (p, 422, "holidays", "holidays[%zu].name is longer than %d bytes", i,
                          AT_CAL_HOLIDAY_NAME_MAX);
    at_strlcpy (o->name, name ? name : "", sizeof o->name);
  }
  return AT_OK;
}

static int
s_name (const json_t *obj, const char **out, api_problem_t *p)
{
  *out = json_string_value (json_object_get (obj, "name"));
  if (!*out || **out == '\0' || strlen (*out) > S_NAME_MAX)
    return api_problem (p, 422, "name", "name must be a string of 1 to %d bytes", S_NAME_MAX);
  return AT_OK;
}

/* The calendar body checked: name, zone, stored windows (JSON text, caller
 * frees) and holidays. */
static int
s_calendar_parse (const json_t *obj, const char **name, const char **tz, char **windows_json,
                  at_holiday_t *holidays, size_t *n_holidays, api_problem_t *p)
{
  *windows_json = NULL;
  if (s_name (obj, name, p) != AT_OK)
    return AT_INVALID;
  *tz = json_string_value (json_object_get (obj, "timezone"));
  if (!*tz || !at_calendar_tz_known (*tz))
    return api_problem (p, 422, "timezone", "timezone must be a known IANA time zone"
                        " (e.g. America/Sao_Paulo)");
  const json_t *windows = json_object_get (obj, "windows");
  if (!json_is_array (windows) || json_array_size (windows) == 0
      || json_array_size (windows) > 7 * AT_CAL_WINDOWS_PER_DAY)
    return api_problem (p, 422, "windows", "windows must be a non-empty array of at most %d",
                        7 * AT_CAL_WINDOWS_PER_DAY);
  at_calendar_t *cal = at_calendar_new (*tz);
  json_t *stored = json_array ();
  int rc = cal ? AT_OK : api_problem (p, 422, "timezone", "timezone is not known");
  for (size_t i = 0; rc == AT_OK && i < json_array_size (windows); i++)
    rc = s_window (json_array_get (windows, i), i, cal, stored, p);
  if (rc == AT_OK)
    rc = s_holidays (json_object_get (obj, "holidays"), holidays, n_holidays, p);
  if (rc == AT_OK)
    *windows_json = json_dumps (stored, JSON_COMPACT);
  json_decref (stored);
  at_calendar_destroy (&cal);
  return rc;
}

/* The change (done by fn) and its audit row in one transaction. */
typedef int (s_change_fn) (at_store_t *store, void *arg, int64_t *id);

static int
s_change (api_request_t *req, at_store_t *store, const char *action, s_change_fn *fn, void *arg,
          int64_t *id, json_t *detail)
{
  char target[48];
  int rc = at_store_begin (store);
  if (rc == AT_OK)
    rc = fn (store, arg, id);
  snprintf (target, sizeof target, "%s:%" PRId64,
            strncmp (action, "sla.policy", 10) == 0 ? "sla_policy" : "sla_calendar", *id);
  if (rc == AT_OK)
    rc = at_store_audit (store, req->caller.actor, action, target, detail, req->peer);
  if (rc == AT_OK)
    rc = at_store_commit (store);
  if (rc != AT_OK)
    (void) at_store_rollback (store);
  json_decref (detail);
  return rc;
}

typedef struct {
  const char *name, *tz, *windows;
  const at_holiday_t *holidays;
  size_t n_holidays;
} s_calendar_arg_t;

static int
s_calendar_insert (at_store_t *store, void *arg, int64_t *id)
{
  s_calendar_arg_t *a = arg;
  return at_store_sla_calendar_create (store, a->name, a->tz, a->windows, a->holidays,
                                       a->n_holidays, id);
}

static void
s_reply_calendar (api_request_t *req, at_store_t *store, int status, int64_t id)
{
  json_t *doc = NULL;
  if (at_store_sla_calendar_get (store, id, &doc) != AT_OK) {
    api_reply_store_failed (req);
    return;
  }
  api_reply_json (req, status, doc);
}

void
api_sla_calendars_post (api_request_t *req)
{
  api_problem_t p;
  s_calendar_arg_t a = {0};
  char *windows = NULL;
  int64_t id = 0;
  at_holiday_t *holidays = calloc (S_HOLIDAYS_MAX, sizeof *holidays);
  json_t *obj = holidays ? api_body_object (req->body, req->body_len, &p) : NULL;
  if (!s_may_change (req) || !holidays)
    goto out;
  if (!obj || s_calendar_parse (obj, &a.name, &a.tz, &windows, holidays, &a.n_holidays, &p)
                  != AT_OK) {
    api_reply_problem (req, &p);
    goto out;
  }
  at_store_t *store = api_store (req);
  if (!store)
    goto out;
  a.windows = windows;
  a.holidays = holidays;
  int rc = s_change (req, store, "sla.calendar.create", s_calendar_insert, &a, &id,
                     json_pack ("{s:s, s:s}", "name", a.name, "timezone", a.tz));
  if (rc == AT_CONFLICT) {
    api_problem (&p, 409, "name", "a calendar with this name exists");
    api_reply_problem (req, &p);
    goto out;
  }
  if (rc != AT_OK) {
    api_reply_store_failed (req);
    goto out;
  }
  at_info (S_COMP, "msg=\"sla calendar created\" calendar_id=%" PRId64 " tz=%s request_id=%s",
           id, a.tz, req->request_id);
  snprintf (req->location, sizeof req->location, "/v1/calendars/%" PRId64, id);
  s_reply_calendar (req, store, 201, id);
out:
  free (windows);
  free (holidays);
  json_decref (obj);
}

void
api_sla_calendars_list (api_request_t *req)
{
  at_store_t *store = api_store (req);
  json_t *items = NULL;
  if (!store)
    return;
  if (at_store_sla_calendar_list (store, &items) != AT_OK) {
    api_reply_store_failed (req);
    return;
  }
  api_reply_json (req, 200, json_pack ("{s:o}", "items", items));
}

void
api_sla_calendar_get (api_request_t *req)
{
  int64_t id;
  json_t *doc = NULL;
  if (!api_param_id (req, &id)) {
    api_reply_not_found (req, "no calendar with this id");
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  int rc = at_store_sla_calendar_get (store, id, &doc);
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no calendar with this id");
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else
    api_reply_json (req, 200, doc);
}

typedef struct {
  const at_holiday_t *h;
  size_t n;
  long added;
} s_import_arg_t;

static int
s_holidays_insert (at_store_t *store, void *arg, int64_t *id)
{
  s_import_arg_t *a = arg;
  return at_store_sla_holidays_add (store, *id, a->h, a->n, &a->added);
}

void
api_sla_holidays_ical_post (api_request_t *req)
{
  api_problem_t p;
  int64_t id;
  s_import_arg_t a = {0};
  if (!s_may_change (req))
    return;
  if (sscanf (req->path, "/v1/calendars/%" SCNd64 "/holidays/ical", &id) != 1 || id <= 0) {
    api_reply_not_found (req, "no calendar with this id");
    return;
  }
  if (!api_content_is (req, "text/calendar")) {
    api_problem (&p, 415, "Content-Type", "the body must be text/calendar (RFC 5545)");
    api_reply_problem (req, &p);
    return;
  }
  at_holiday_t *h = calloc (S_HOLIDAYS_MAX, sizeof *h);
  if (!h || at_calendar_ical_holidays (req->body, req->body_len, h, S_HOLIDAYS_MAX, &a.n)
                != AT_OK) {
    api_problem (&p, 422, "body", "the body must be an iCalendar VCALENDAR whose VEVENTs have"
                 " dates (at most %d days)", S_HOLIDAYS_MAX);
    api_reply_problem (req, &p);
    free (h);
    return;
  }
  a.h = h;
  at_store_t *store = api_store (req);
  int rc = store ? s_change (req, store, "sla.holidays.import", s_holidays_insert, &a, &id,
                             json_pack ("{s:I}", "days", (json_int_t) a.n)) : AT_ERROR;
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no calendar with this id");
  else if (rc == AT_OK)
    api_reply_json (req, 200, json_pack ("{s:I, s:I, s:I}", "calendar_id", (json_int_t) id,
                                         "days_in_file", (json_int_t) a.n, "added",
                                         (json_int_t) a.added));
  else if (store)
    api_reply_store_failed (req);
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"sla holidays imported\" calendar_id=%" PRId64 " days=%zu added=%ld"
             " request_id=%s", id, a.n, a.added, req->request_id);
  free (h);
}

/* --- policies */

static int
s_target (const json_t *obj, const char *field, at_sla_target_t *t, api_problem_t *p)
{
  const json_t *v = json_object_get (obj, field);
  t->target_s = 0;
  t->business = true;
  if (!v || json_is_null (v))
    return AT_OK;
  const json_t *target = json_object_get (v, "target_s");
  const char *time = json_string_value (json_object_get (v, "time"));
  if (!json_is_object (v) || !json_is_integer (target) || json_integer_value (target) < 1
      || json_integer_value (target) > 31536000)
    return api_problem (p, 422, field, "%s must be {target_s: 1..31536000, time: business|wall}",
                        field);
  if (time && strcmp (time, "business") != 0 && strcmp (time, "wall") != 0)
    return api_problem (p, 422, field, "%s.time must be business or wall", field);
  t->target_s = json_integer_value (target);
  t->business = !time || strcmp (time, "business") == 0;
  return AT_OK;
}

static bool
s_channel_ok (const char *c)
{
  static const char *const known[] = {"any", "email", "whatsapp", "sms", "chat", "form",
                                      "messenger", "instagram", "phone"};
  for (size_t i = 0; c && i < AT_ARRAY_LEN (known); i++)
    if (strcmp (c, known[i]) == 0)
      return true;
  return false;
}

static int
s_policy_parse (const json_t *obj, at_sla_policy_t *pol, api_problem_t *p)
{
  memset (pol, 0, sizeof *pol);
  if (s_name (obj, &pol->name, p) != AT_OK)
    return AT_INVALID;
  pol->priority = json_string_value (json_object_get (obj, "priority"));
  if (!pol->priority || (strcmp (pol->priority, "normal") && strcmp (pol->priority, "high")))
    return api_problem (p, 422, "priority", "priority must be normal or high");
  const json_t *channel = json_object_get (obj, "channel");
  pol->channel = channel ? json_string_value (channel) : "any";
  if (!s_channel_ok (pol->channel))
    return api_problem (p, 422, "channel", "channel must be any or a channel (email, whatsapp,"
                        " sms, chat, form, messenger, instagram, phone)");
  const json_t *cal = json_object_get (obj, "calendar_id");
  if (!json_is_integer (cal) || json_integer_value (cal) < 1)
    return api_problem (p, 422, "calendar_id", "calendar_id is required: the id of a calendar");
  pol->calendar_id = json_integer_value (cal);
  static const char *const fields[AT_SLA_METRICS] = {"first_response", "next_response",
                                                     "resolution"};
  bool any = false;
  for (int m = 0; m < AT_SLA_METRICS; m++) {
    if (s_target (obj, fields[m], &pol->targets[m], p) != AT_OK)
      return AT_INVALID;
    any = any || pol->targets[m].target_s > 0;
  }
  if (!any)
    return api_problem (p, 422, "first_response", "a policy needs at least one target"
                        " (first_response, next_response or resolution)");
  return AT_OK;
}

static int
s_policy_insert (at_store_t *store, void *arg, int64_t *id)
{
  return at_store_sla_policy_create (store, arg, id);
}

void
api_sla_policies_post (api_request_t *req)
{
  api_problem_t p;
  at_sla_policy_t pol;
  int64_t id = 0;
  if (!s_may_change (req))
    return;
  json_t *obj = api_body_object (req->body, req->body_len, &p);
  if (!obj || s_policy_parse (obj, &pol, &p) != AT_OK) {
    api_reply_problem (req, &p);
    json_decref (obj);
    return;
  }
  at_store_t *store = api_store (req);
  int rc = store ? s_change (req, store, "sla.policy.create", s_policy_insert, &pol, &id,
                             json_pack ("{s:s, s:s, s:I}", "priority", pol.priority, "channel",
                                        pol.channel, "calendar_id",
                                        (json_int_t) pol.calendar_id)) : AT_ERROR;
  if (rc == AT_NOTFOUND)
    api_problem (&p, 422, "calendar_id", "no calendar with this calendar_id");
  else if (rc == AT_CONFLICT)
    api_problem (&p, 409, "channel", "a policy for this priority and channel exists");
  if (rc == AT_NOTFOUND || rc == AT_CONFLICT)
    api_reply_problem (req, &p);
  else if (rc != AT_OK && store)
    api_reply_store_failed (req);
  else if (rc == AT_OK) {
    at_info (S_COMP, "msg=\"sla policy created\" policy_id=%" PRId64 " priority=%s channel=%s"
             " request_id=%s", id, pol.priority, pol.channel, req->request_id);
    snprintf (req->location, sizeof req->location, "/v1/sla/policies/%" PRId64, id);
    api_reply_json (req, 201, json_pack ("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t) id,
                                         "name", pol.name, "priority", pol.priority, "channel",
                                         pol.channel, "calendar_id",
                                         (json_int_t) pol.calendar_id));
  }
  json_decref (obj);
}

void
api_sla_policies_list (api_request_t *req)
{
  at_store_t *store = api_store (req);
  json_t *items = NULL;
  if (!store)
    return;
  if (at_store_sla_policy_list (store, &items) != AT_OK) {
    api_reply_store_failed (req);
    return;
  }
  api_reply_json (req, 200, json_pack ("{s:o}", "items", items));
}

/* --- the gauges of /metrics */

void
api_sla_metrics_refresh (api_request_t *req)
{
  at_store_t *store = api_store (req);
  if (!store)
    return;
  at_sla_kpi_t *rows = calloc (AT_SLA_KPI_ROWS_MAX, sizeof *rows);
  size_t n = 0;
  int64_t since = at_now_us () - (int64_t) req->cfg->sla_metrics_window_h * 3600 * 1000000;
  if (rows && at_store_sla_kpis (store, since, rows, AT_SLA_KPI_ROWS_MAX, &n) == AT_OK) {
    api_metrics_sla_clear ();
    for (size_t i = 0; i < n; i++)
      api_metrics_sla_set (rows[i].metric, rows[i].team, rows[i].channel, rows[i].tickets,
                           rows[i].within);
  }
  free (rows);
}
