/* api_sla: SLA calendars and policies through the api (api_sla.h):
 *   POST /v1/calendars   {name, timezone, windows: [{days: ["mon",...], start: "08:00",
 *                         end: "12:00"}, ...], holidays?: ["2026-12-25" | {date, name}]}
 *   GET  /v1/calendars, GET /v1/calendars/{id}   (the latter with its holidays)
 *   POST /v1/calendars/{id}/holidays/ical        text/calendar: its events become holidays
 *   POST /v1/sla/policies {name, priority: normal|high, channel?: <channel>|any,
 *                         calendar_id, first_response?|next_response?|resolution?:
 *                         {target_s, time: business|wall}}  (at least one target)
 *   GET  /v1/sla/policies
 * (PUT and DELETE in api_sla_edit.c; the bodies checked in api_sla_parse.c.)
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

bool
api_sla_may_change (api_request_t *req)
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

typedef struct {
  api_sla_change_fn *fn;
  void *arg;
  int64_t *id;
  const char *kind;               /* sla_policy | sla_calendar */
  char target[48];
} s_change_t;

/* The change, then its audit target (the row's id known only now). */
static int
s_change (api_request_t *req, at_store_t *store, void *arg)
{
  (void) req;
  s_change_t *c = arg;
  int rc = c->fn (store, c->arg, c->id);
  snprintf (c->target, sizeof c->target, "%s:%" PRId64, c->kind, *c->id);
  return rc;
}

int
api_sla_change (api_request_t *req, at_store_t *store, const char *action,
                api_sla_change_fn *fn, void *arg, int64_t *id, json_t *detail)
{
  s_change_t c = {.fn = fn, .arg = arg, .id = id,
                  .kind = strncmp (action, "sla.policy", 10) == 0 ? "sla_policy"
                                                                   : "sla_calendar"};
  return api_audited (req, store, s_change, &c, action, c.target, detail);
}

static int
s_calendar_insert (at_store_t *store, void *arg, int64_t *id)
{
  const api_sla_calendar_body_t *b = arg;
  return at_store_sla_calendar_create (store, b->name, b->tz, b->windows, b->holidays,
                                       b->n_holidays, id);
}

void
api_sla_reply_calendar (api_request_t *req, at_store_t *store, int status, int64_t id)
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
  api_sla_calendar_body_t b = {0};
  int64_t id = 0;
  if (!api_sla_may_change (req))
    return;
  json_t *obj = api_body_object (req->body, req->body_len, &p);
  if (!obj || api_sla_calendar_parse (obj, &b, &p) != AT_OK) {
    api_reply_problem (req, &p);
    goto out;
  }
  at_store_t *store = api_store (req);
  if (!store)
    goto out;
  int rc = api_sla_change (req, store, "sla.calendar.create", s_calendar_insert, &b, &id,
                           json_pack ("{s:s, s:s}", "name", b.name, "timezone", b.tz));
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
           id, b.tz, req->request_id);
  snprintf (req->location, sizeof req->location, "/v1/calendars/%" PRId64, id);
  api_sla_reply_calendar (req, store, 201, id);
out:
  api_sla_calendar_body_clear (&b);
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
  if (!api_sla_may_change (req))
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
  at_holiday_t *h = calloc (API_SLA_HOLIDAYS_MAX, sizeof *h);
  if (!h || at_calendar_ical_holidays (req->body, req->body_len, h, API_SLA_HOLIDAYS_MAX, &a.n)
                != AT_OK) {
    api_problem (&p, 422, "body", "the body must be an iCalendar VCALENDAR whose VEVENTs have"
                 " dates (at most %d days)", API_SLA_HOLIDAYS_MAX);
    api_reply_problem (req, &p);
    free (h);
    return;
  }
  a.h = h;
  at_store_t *store = api_store (req);
  int rc = store ? api_sla_change (req, store, "sla.holidays.import", s_holidays_insert, &a, &id,
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
  if (!api_sla_may_change (req))
    return;
  json_t *obj = api_body_object (req->body, req->body_len, &p);
  if (!obj || api_sla_policy_parse (obj, &pol, &p) != AT_OK) {
    api_reply_problem (req, &p);
    json_decref (obj);
    return;
  }
  at_store_t *store = api_store (req);
  int rc = store ? api_sla_change (req, store, "sla.policy.create", s_policy_insert, &pol, &id,
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
