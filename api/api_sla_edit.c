/* api_sla_edit: SLA calendars and policies changed and deleted (api_sla.h):
 *   PUT    /v1/calendars/{id}      the body of POST; holidays absent (or null):
 *                                  the calendar keeps its own, a list ([] too)
 *                                  replaces them -> 200 with the calendar
 *   DELETE /v1/calendars/{id}      -> 204; 409 naming the policies that use it
 *   GET    /v1/sla/policies/{id}
 *   PUT    /v1/sla/policies/{id}   the body of POST -> 200 with the policy
 *   DELETE /v1/sla/policies/{id}   -> 204
 * Who may: as for creating (api_sla_may_change). Each change and its audit
 * row (sla.calendar.update, sla.calendar.delete, sla.policy.update,
 * sla.policy.delete) commit together; bad input is a 422 naming the field
 * and an unknown id a 404, nothing stored. A deleted calendar or policy keeps
 * its row for the clocks that started on it (migration 021): clocks already
 * started keep their targets and calendar; new tickets, re-targets and
 * next-response rounds take the policies as they are now (README "SLA"). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_sla.h"
#include "at_json.h"
#include "at_log.h"

#define S_COMP "api"
#define S_NAMES_MAX 160            /* of the detail naming the policies of a 409 */

static int
s_calendar_update (at_store_t *store, void *arg, int64_t *id)
{
  const api_sla_calendar_body_t *b = arg;
  return at_store_sla_calendar_update (store, *id, b->name, b->tz, b->windows, b->holidays,
                                       b->n_holidays, b->has_holidays);
}

void
api_sla_calendar_put (api_request_t *req)
{
  api_problem_t p;
  api_sla_calendar_body_t b = {0};
  int64_t id;
  if (!api_sla_may_change (req))
    return;
  if (!api_param_id (req, &id)) {
    api_reply_not_found (req, "no calendar with this id");
    return;
  }
  json_t *obj = api_body_object (req->body, req->body_len, &p);
  if (!obj || api_sla_calendar_parse (obj, &b, &p) != AT_OK) {
    api_reply_problem (req, &p);
    goto out;
  }
  at_store_t *store = api_store (req);
  if (!store)
    goto out;
  int rc = api_sla_change (req, store, "sla.calendar.update", s_calendar_update, &b, &id,
                           json_pack ("{s:s, s:s, s:b}", "name", b.name, "timezone", b.tz,
                                      "holidays_replaced", b.has_holidays));
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no calendar with this id");
  else if (rc == AT_CONFLICT) {
    api_problem (&p, 409, "name", "another calendar has this name");
    api_reply_problem (req, &p);
  }
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else {
    at_info (S_COMP, "msg=\"sla calendar updated\" calendar_id=%" PRId64 " tz=%s"
             " holidays_replaced=%d request_id=%s", id, b.tz, b.has_holidays, req->request_id);
    api_sla_reply_calendar (req, store, 200, id);
  }
out:
  api_sla_calendar_body_clear (&b);
  json_decref (obj);
}

/* 409: the calendar's policies [{id, name}] named in the detail and listed
 * in the problem's "policies" member. */
static void
s_reply_in_use (api_request_t *req, const json_t *policies)
{
  char names[S_NAMES_MAX] = "";
  size_t used = 0, i;
  const json_t *pol;
  json_array_foreach (policies, i, pol) {
    int n = snprintf (names + used, sizeof names - used, "%s%" JSON_INTEGER_FORMAT " (%s)",
                      i ? ", " : "", json_integer_value (json_object_get (pol, "id")),
                      json_string_value (json_object_get (pol, "name")));
    if (n < 0 || (size_t) n >= sizeof names - used)
      break;                                   /* cut: the member lists them all */
    used += (size_t) n;
  }
  api_problem_t p;
  api_problem (&p, 409, "policies", "the calendar is used by policies %s: delete them or move"
               " them to another calendar first", names);
  char *text = at_problem_new (p.status, p.slug, p.title, p.detail, p.field);
  json_t *doc = text ? json_loads (text, 0, NULL) : NULL;
  free (text);
  text = NULL;
  if (doc && json_object_set (doc, "policies", (json_t *) policies) == 0)
    text = at_json_dump (doc, API_REPLY_CAP);
  json_decref (doc);
  if (text)
    api_reply_text (req, 409, "application/problem+json", text);
  else
    api_reply_problem (req, &p);
}

static int
s_calendar_remove (at_store_t *store, void *arg, int64_t *id)
{
  return at_store_sla_calendar_delete (store, *id, (json_t **) arg);
}

void
api_sla_calendar_delete (api_request_t *req)
{
  int64_t id;
  json_t *policies = NULL;
  if (!api_sla_may_change (req))
    return;
  if (!api_param_id (req, &id)) {
    api_reply_not_found (req, "no calendar with this id");
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  int rc = api_sla_change (req, store, "sla.calendar.delete", s_calendar_remove, &policies,
                           &id, NULL);
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no calendar with this id");
  else if (rc == AT_CONFLICT && policies)
    s_reply_in_use (req, policies);
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else {
    at_info (S_COMP, "msg=\"sla calendar deleted\" calendar_id=%" PRId64 " request_id=%s", id,
             req->request_id);
    api_reply_text (req, 204, "application/json", at_strdup (""));
  }
  json_decref (policies);
}

/* --- policies */

static void
s_reply_policy (api_request_t *req, at_store_t *store, int64_t id)
{
  json_t *doc = NULL;
  int rc = at_store_sla_policy_get (store, id, &doc);
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no policy with this id");
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else
    api_reply_json (req, 200, doc);
}

void
api_sla_policy_get (api_request_t *req)
{
  int64_t id;
  if (!api_param_id (req, &id)) {
    api_reply_not_found (req, "no policy with this id");
    return;
  }
  at_store_t *store = api_store (req);
  if (store)
    s_reply_policy (req, store, id);
}

typedef struct {
  const at_sla_policy_t *pol;
  bool found;                        /* the policy is there (a NOTFOUND is its calendar) */
} s_policy_put_t;

static int
s_policy_update (at_store_t *store, void *arg, int64_t *id)
{
  s_policy_put_t *a = arg;
  int rc = at_store_sla_policy_lock (store, *id);
  a->found = rc == AT_OK;
  return rc == AT_OK ? at_store_sla_policy_update (store, *id, a->pol) : rc;
}

void
api_sla_policy_put (api_request_t *req)
{
  api_problem_t p;
  at_sla_policy_t pol;
  int64_t id;
  if (!api_sla_may_change (req))
    return;
  if (!api_param_id (req, &id)) {
    api_reply_not_found (req, "no policy with this id");
    return;
  }
  json_t *obj = api_body_object (req->body, req->body_len, &p);
  if (!obj || api_sla_policy_parse (obj, &pol, &p) != AT_OK) {
    api_reply_problem (req, &p);
    json_decref (obj);
    return;
  }
  s_policy_put_t a = {.pol = &pol};
  at_store_t *store = api_store (req);
  int rc = store ? api_sla_change (req, store, "sla.policy.update", s_policy_update, &a, &id,
                                   json_pack ("{s:s, s:s, s:I}", "priority", pol.priority,
                                              "channel", pol.channel, "calendar_id",
                                              (json_int_t) pol.calendar_id)) : AT_ERROR;
  if (rc == AT_NOTFOUND && !a.found)
    api_reply_not_found (req, "no policy with this id");
  else if (rc == AT_NOTFOUND) {
    api_problem (&p, 422, "calendar_id", "no calendar with this calendar_id");
    api_reply_problem (req, &p);
  }
  else if (rc == AT_CONFLICT) {
    api_problem (&p, 409, "channel", "another policy has this priority and channel");
    api_reply_problem (req, &p);
  }
  else if (rc != AT_OK) {
    if (store)                                 /* else api_store answered */
      api_reply_store_failed (req);
  }
  else {
    at_info (S_COMP, "msg=\"sla policy updated\" policy_id=%" PRId64 " priority=%s channel=%s"
             " request_id=%s", id, pol.priority, pol.channel, req->request_id);
    s_reply_policy (req, store, id);
  }
  json_decref (obj);
}

static int
s_policy_remove (at_store_t *store, void *arg, int64_t *id)
{
  (void) arg;
  return at_store_sla_policy_delete (store, *id);
}

void
api_sla_policy_delete (api_request_t *req)
{
  int64_t id;
  if (!api_sla_may_change (req))
    return;
  if (!api_param_id (req, &id)) {
    api_reply_not_found (req, "no policy with this id");
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  int rc = api_sla_change (req, store, "sla.policy.delete", s_policy_remove, NULL, &id, NULL);
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no policy with this id");
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else {
    at_info (S_COMP, "msg=\"sla policy deleted\" policy_id=%" PRId64 " request_id=%s", id,
             req->request_id);
    api_reply_text (req, 204, "application/json", at_strdup (""));
  }
}
