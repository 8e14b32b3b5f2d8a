/* api_rules: rules through the api (api_rules.h; issue 15, "Rules"):
 *   GET    /v1/rules                  all rules, in the order they run
 *   POST   /v1/rules   {rule}         -> 201 (agents:write)
 *   GET    /v1/rules/{id}
 *   PUT    /v1/rules/{id} {rule}      -> 200 (agents:write)
 *   DELETE /v1/rules/{id}             -> 204 (agents:write)
 *   POST   /v1/rules/dry-run {event, last, rule?}
 *          which rules would fire on each of the last `last` tickets as they
 *          are now, and why; rule: a candidate (with the id of a saved rule:
 *          instead of it). Changes nothing.
 *   GET    /v1/tickets/{id}/rules     the ticket's execution log
 * A rule is checked by at_rule_check and its teams must exist; bad input is
 * a 422 problem naming the JSON pointer ("/conditions/1/field"), nothing
 * stored. A change and its audit row (rule.create, rule.update,
 * rule.delete) commit together. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_rules.h"
#include "at_store_rule.h"
#include "at_store_desk.h"
#include "at_store_template.h"
#include "at_log.h"

#define S_COMP "api"
#define S_FIELD_MAX 96            /* the JSON pointer a problem names */

/* Whether the store knows what action a names (a team, a template):
 * AT_OK, AT_NOTFOUND with the member named in field, or a store error. */
static int
s_action_known (at_store_t *store, const json_t *a, const char *base, char *field)
{
  const char *type = json_string_value (json_object_get (a, "type"));
  if (strcmp (type, "set_team") == 0) {
    int64_t team = 0;
    snprintf (field, S_FIELD_MAX, "%s/team", base);
    return at_store_desk_team_find (store, json_string_value (json_object_get (a, "team")),
                                    &team);
  }
  if (strcmp (type, "auto_reply") != 0)
    return AT_OK;
  static const char *const locales[] = {"pt-BR", "en", "es"};
  at_template_row_t row;
  int rc = AT_NOTFOUND;
  snprintf (field, S_FIELD_MAX, "%s/template", base);
  for (size_t i = 0; rc == AT_NOTFOUND && i < AT_ARRAY_LEN (locales); i++)
    rc = at_store_template_get (store, json_string_value (json_object_get (a, "template")),
                                locales[i], &row);
  return rc;
}

/* A rule body checked, its teams and templates included; the problem names
 * prefix + pointer, written into field (the problem borrows it). */
static int
s_check (at_store_t *store, const json_t *rule, const char *prefix, char field[S_FIELD_MAX],
         api_problem_t *p)
{
  char pointer[AT_RULE_POINTER_MAX], detail[AT_RULE_DETAIL_MAX], base[48];
  if (at_rule_check (rule, pointer, detail) != AT_OK) {
    snprintf (field, S_FIELD_MAX, "%s%s", prefix, pointer);
    return api_problem (p, 422, field, "%s", detail);
  }
  const json_t *a;
  size_t i;
  json_array_foreach (json_object_get (rule, "actions"), i, a) {
    snprintf (base, sizeof base, "%s/actions/%zu", prefix, i);
    int rc = s_action_known (store, a, base, field);
    if (rc == AT_NOTFOUND)
      return api_problem (p, 422, field, "no %s with this name", strstr (field, "/team")
                          ? "team" : "template (PUT /v1/templates/{name}/{locale} first)");
    if (rc != AT_OK)
      return api_problem (p, 503, NULL, "the store is unavailable");
  }
  return AT_OK;
}

/* The stored form of a checked rule: JSON texts the caller frees. */
static void
s_row (const json_t *rule, at_rule_row_t *r, char **conditions, char **actions)
{
  const json_t *c = json_object_get (rule, "conditions");
  *conditions = c ? json_dumps (c, JSON_COMPACT) : at_strdup ("[]");
  *actions = json_dumps (json_object_get (rule, "actions"), JSON_COMPACT);
  const json_t *en = json_object_get (rule, "enabled");
  *r = (at_rule_row_t) {.name = json_string_value (json_object_get (rule, "name")),
                        .event = json_string_value (json_object_get (rule, "event")),
                        .conditions_json = *conditions, .actions_json = *actions,
                        .position = (long) json_integer_value (json_object_get (rule,
                                                                                "position")),
                        .enabled = !en || json_is_true (en),
                        .after_s = (long) json_integer_value (json_object_get (rule, "after_s"))};
}

typedef struct {
  const at_rule_row_t *row;       /* NULL: delete */
  int64_t *id;                    /* 0: create */
  char target[48];
} s_change_t;

/* Create, update or delete, then the audit target (a new rule's id). */
static int
s_change (api_request_t *req, at_store_t *store, void *arg)
{
  (void) req;
  s_change_t *c = arg;
  int rc = !c->row ? at_store_rule_delete (store, *c->id)
           : *c->id == 0 ? at_store_rule_create (store, c->row, c->id)
                         : at_store_rule_update (store, *c->id, c->row);
  snprintf (c->target, sizeof c->target, "rule:%" PRId64, *c->id);
  return rc;
}

/* The change (create when *id is 0, else update) and its audit row. */
static int
s_save (api_request_t *req, at_store_t *store, const at_rule_row_t *r, int64_t *id)
{
  s_change_t c = {.row = r, .id = id};
  return api_audited (req, store, s_change, &c, *id == 0 ? "rule.create" : "rule.update",
                      c.target, json_pack ("{s:s, s:s}", "name", r->name, "event", r->event));
}

static void
s_reply_rule (api_request_t *req, at_store_t *store, int status, int64_t id)
{
  json_t *doc = NULL;
  int rc = at_store_rule_get (store, id, &doc);
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no rule with this id");
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else
    api_reply_json (req, status, doc);
}

/* POST (id 0) or PUT (id of the rule). */
static void
s_write (api_request_t *req, int64_t id)
{
  api_problem_t p;
  char field[S_FIELD_MAX];
  json_t *rule = api_body_object (req->body, req->body_len, &p);
  at_store_t *store = rule ? api_store (req) : NULL;
  char *conditions = NULL, *actions = NULL;
  if (!rule)
    api_reply_problem (req, &p);
  if (!store)
    goto out;
  if (s_check (store, rule, "", field, &p) != AT_OK) {
    api_reply_problem (req, &p);
    goto out;
  }
  at_rule_row_t r;
  s_row (rule, &r, &conditions, &actions);
  bool create = id == 0;
  int rc = conditions && actions ? s_save (req, store, &r, &id) : AT_ERROR;
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no rule with this id");
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else {
    at_info (S_COMP, "msg=\"rule %s\" rule_id=%" PRId64 " event=%s request_id=%s",
             create ? "created" : "changed", id, r.event, req->request_id);
    if (create)
      snprintf (req->location, sizeof req->location, "/v1/rules/%" PRId64, id);
    s_reply_rule (req, store, create ? 201 : 200, id);
  }
out:
  free (conditions);
  free (actions);
  json_decref (rule);
}

void
api_rules_post (api_request_t *req)
{
  s_write (req, 0);
}

void
api_rule_put (api_request_t *req)
{
  int64_t id;
  if (!api_param_id (req, &id))
    api_reply_not_found (req, "no rule with this id");
  else
    s_write (req, id);
}

void
api_rules_list (api_request_t *req)
{
  at_store_t *store = api_store (req);
  json_t *items = NULL;
  if (!store)
    return;
  if (at_store_rule_list (store, false, &items) != AT_OK)
    api_reply_store_failed (req);
  else
    api_reply_json (req, 200, json_pack ("{s:o}", "items", items));
}

void
api_rule_get (api_request_t *req)
{
  int64_t id;
  at_store_t *store = NULL;
  if (!api_param_id (req, &id))
    api_reply_not_found (req, "no rule with this id");
  else if ((store = api_store (req)))
    s_reply_rule (req, store, 200, id);
}

static int
s_delete (api_request_t *req, at_store_t *store, int64_t id)
{
  s_change_t c = {.row = NULL, .id = &id};
  return api_audited (req, store, s_change, &c, "rule.delete", c.target, NULL);
}

void
api_rule_delete (api_request_t *req)
{
  int64_t id;
  if (!api_param_id (req, &id)) {
    api_reply_not_found (req, "no rule with this id");
    return;
  }
  at_store_t *store = api_store (req);
  int rc = store ? s_delete (req, store, id) : AT_ERROR;
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no rule with this id");
  else if (rc == AT_OK) {
    at_info (S_COMP, "msg=\"rule deleted\" rule_id=%" PRId64 " request_id=%s", id,
             req->request_id);
    api_reply_text (req, 204, "application/json", at_strdup (""));
  }
  else if (store)
    api_reply_store_failed (req);
}

void
api_ticket_rules_get (api_request_t *req)
{
  int64_t id;
  json_t *items = NULL;
  if (sscanf (req->path, "/v1/tickets/%" SCNd64 "/rules", &id) != 1 || id <= 0) {
    api_reply_not_found (req, "no ticket with this id");
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  if (at_store_rule_runs (store, id, &items) != AT_OK)
    api_reply_store_failed (req);
  else
    api_reply_json (req, 200, json_pack ("{s:I, s:o}", "ticket_id", (json_int_t) id, "items",
                                         items));
}

/* --- the dry run */

/* The saved rules with the candidate in its place: instead of the saved
 * rule of its id, or (id -1) after the rules of its position or lower. */
static json_t *
s_with_candidate (json_t *saved, const json_t *candidate)
{
  if (!candidate)
    return json_incref (saved);
  json_t *c = json_deep_copy (candidate);
  const json_t *cid = json_object_get (candidate, "id");
  json_int_t id = json_is_integer (cid) ? json_integer_value (cid) : -1;
  json_object_set_new (c, "id", json_integer (id));
  json_int_t pos = json_integer_value (json_object_get (candidate, "position"));
  json_t *out = json_array ();
  const json_t *r;
  size_t i;
  bool placed = false;
  json_array_foreach (saved, i, r) {
    if (json_integer_value (json_object_get (r, "id")) == id)
      continue;
    if (!placed && json_integer_value (json_object_get (r, "position")) > pos) {
      json_array_append (out, c);
      placed = true;
    }
    json_array_append (out, (json_t *) r);
  }
  if (!placed)
    json_array_append (out, c);
  json_decref (c);
  return out;
}

static const char *
s_rule_name (const json_t *rules, int64_t id)
{
  const json_t *r;
  size_t i;
  json_array_foreach (rules, i, r)
    if (json_integer_value (json_object_get (r, "id")) == id)
      return json_string_value (json_object_get (r, "name"));
  return NULL;
}

/* One ticket's plan as the answer shows it. */
static json_t *
s_ticket_plan (const json_t *rules, int64_t ticket_id, const at_rule_run_t *runs, size_t n)
{
  json_t *items = json_array (), *fired = json_array ();
  for (size_t i = 0; i < n; i++) {
    const char *name = s_rule_name (rules, runs[i].rule_id);
    json_t *run = json_pack ("{s:I, s:s?, s:s, s:i, s:b, s:s}", "rule_id",
                             (json_int_t) runs[i].rule_id, "rule", name, "event", runs[i].event,
                             "depth", runs[i].depth, "fired", runs[i].fired, "why", runs[i].why);
    json_object_set_new (run, "actions", runs[i].fired ? json_deep_copy (runs[i].actions)
                                                        : json_array ());
    json_array_append_new (items, run);
    if (runs[i].fired && name)
      json_array_append_new (fired, json_string (name));
  }
  return json_pack ("{s:I, s:o, s:o}", "ticket_id", (json_int_t) ticket_id, "fires", fired,
                    "runs", items);
}

/* The plans over the tickets: AT_OK with *out, or a store failure. */
static int
s_dry_run (at_store_t *store, const json_t *rules, const char *event, long last, json_t **out)
{
  int64_t *ids = calloc (AT_STORE_RULE_LAST_MAX, sizeof *ids);
  at_rule_facts_t *facts = malloc (sizeof *facts);
  at_rule_run_t *runs = calloc (AT_RULE_RUNS_MAX, sizeof *runs);
  size_t n_ids = 0;
  *out = json_array ();
  int rc = ids && facts && runs ? AT_OK : AT_ERROR;
  if (rc == AT_OK)
    rc = at_store_rule_recent_tickets (store, last, ids, AT_STORE_RULE_LAST_MAX, &n_ids);
  int64_t now = at_now_us ();
  for (size_t i = 0; rc == AT_OK && i < n_ids; i++) {
    size_t n = 0;
    rc = at_store_rule_facts (store, ids[i], now, facts);
    if (rc == AT_NOTFOUND) {
      rc = AT_OK;                    /* erased meanwhile */
      continue;
    }
    if (rc == AT_OK)
      rc = at_rule_plan (rules, event, facts, runs, AT_RULE_RUNS_MAX, &n);
    if (rc == AT_OK)
      json_array_append_new (*out, s_ticket_plan (rules, ids[i], runs, n));
  }
  free (runs);
  free (facts);
  free (ids);
  return rc;
}

static int
s_dry_parse (at_store_t *store, const json_t *body, const char **event, long *last,
             char field[S_FIELD_MAX], api_problem_t *p)
{
  *event = json_string_value (json_object_get (body, "event"));
  if (!at_rule_event_known (*event))
    return api_problem (p, 422, "/event", "event must be one of ticket_created, message_in,"
                        " intent_set, priority_changed, sla_warning, sla_breach,"
                        " order_status_changed, idle");
  const json_t *l = json_object_get (body, "last");
  if (l && (!json_is_integer (l) || json_integer_value (l) < 1
            || json_integer_value (l) > AT_STORE_RULE_LAST_MAX))
    return api_problem (p, 422, "/last", "last must be an integer 1..%d",
                        AT_STORE_RULE_LAST_MAX);
  *last = l ? (long) json_integer_value (l) : 20;
  const json_t *rule = json_object_get (body, "rule");
  if (rule && !json_is_null (rule))
    return s_check (store, rule, "/rule", field, p);
  return AT_OK;
}

void
api_rules_dry_run (api_request_t *req)
{
  api_problem_t p;
  char field[S_FIELD_MAX];
  const char *event = NULL;
  long last = 0;
  json_t *saved = NULL, *rules = NULL, *tickets = NULL;
  json_t *body = api_body_object (req->body, req->body_len, &p);
  at_store_t *store = body ? api_store (req) : NULL;
  if (!body)
    api_reply_problem (req, &p);
  if (!store)
    goto out;
  if (s_dry_parse (store, body, &event, &last, field, &p) != AT_OK) {
    api_reply_problem (req, &p);
    goto out;
  }
  const json_t *candidate = json_object_get (body, "rule");
  int rc = at_store_rule_list (store, true, &saved);
  if (rc == AT_OK) {
    rules = s_with_candidate (saved, json_is_object (candidate) ? candidate : NULL);
    rc = s_dry_run (store, rules, event, last, &tickets);
  }
  if (rc != AT_OK) {
    api_reply_store_failed (req);
    goto out;
  }
  api_reply_json (req, 200, json_pack ("{s:s, s:I, s:O}", "event", event, "last",
                                       (json_int_t) last, "tickets", tickets));
out:
  json_decref (tickets);
  json_decref (rules);
  json_decref (saved);
  json_decref (body);
}
