/* api_escalation (api_escalation.h):
 *   PUT /v1/teams/{id}/leads {leads: [user ids]}  the team's leads: each an
 *       enabled user of role lead or admin (else 422 naming /leads/N), at
 *       most AT_ESCALATION_LEADS_MAX; [] tells nobody. 200 with the team's
 *       leads; 404 no such team. Written with its audit row (team.leads).
 *   GET /v1/escalations?ticket=&limit=  the newest escalations (limit 1..1000,
 *       100 when absent), each with the notices to its team's leads and
 *       whether each mail went out (pending, sent, failed with why). */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_escalation.h"
#include "at_store_escalation.h"
#include "at_log.h"

#define S_COMP "api"
#define S_LIST_DEFAULT 100
#define S_LIST_MAX 1000

typedef struct {
  int64_t team_id;
  const char *ids_json;
  long bad;
} s_leads_t;

static int
s_leads_set (api_request_t *req, at_store_t *store, void *arg)
{
  (void) req;
  s_leads_t *l = arg;
  return at_store_team_leads_set (store, l->team_id, l->ids_json, &l->bad);
}

/* The body's leads: a JSON array of positive integers, at most the most.
 * field: the problem's field (it points there: the caller's, 32 bytes). */
static const json_t *
s_leads_body (const json_t *obj, api_problem_t *p, char *field)
{
  const json_t *leads = json_object_get (obj, "leads"), *v;
  size_t i;
  if (!json_is_array (leads) || json_array_size (leads) > AT_ESCALATION_LEADS_MAX) {
    api_problem (p, 422, "/leads", "leads must be an array of at most %d user ids",
                 AT_ESCALATION_LEADS_MAX);
    return NULL;
  }
  json_array_foreach (leads, i, v)
    if (!json_is_integer (v) || json_integer_value (v) <= 0) {
      snprintf (field, 32, "/leads/%zu", i);
      api_problem (p, 422, field, "a lead is a user id (GET /v1/users)");
      return NULL;
    }
  return leads;
}

void
api_team_leads_put (api_request_t *req)
{
  api_problem_t p;
  s_leads_t l = {.bad = -1};
  json_t *obj = NULL;
  const json_t *leads = NULL;
  char *text = NULL, target[32], field[32];
  if (!api_param_id (req, &l.team_id)) {
    api_reply_not_found (req, "no team with this id");
    return;
  }
  obj = api_body_object (req->body, req->body_len, &p);
  leads = obj ? s_leads_body (obj, &p, field) : NULL;
  text = leads ? json_dumps (leads, JSON_COMPACT) : NULL;
  at_store_t *store = text ? api_store (req) : NULL;
  if (!leads)
    api_reply_problem (req, &p);
  if (!store)
    goto out;
  l.ids_json = text;
  snprintf (target, sizeof target, "team:%" PRId64, l.team_id);
  int rc = api_audited (req, store, s_leads_set, &l, "team.leads", target,
                        json_pack ("{s:O}", "leads", leads));
  if (rc == AT_INVALID && l.bad >= 0) {
    snprintf (field, sizeof field, "/leads/%ld", l.bad);
    api_problem (&p, 422, field, "user %" JSON_INTEGER_FORMAT " is not an enabled user of role"
                 " lead or admin", json_integer_value (json_array_get (leads, (size_t) l.bad)));
    api_reply_problem (req, &p);
  } else if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no team with this id");
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else {
    at_info (S_COMP, "msg=\"team leads set\" team_id=%" PRId64 " leads=%zu request_id=%s",
             l.team_id, json_array_size (leads), req->request_id);
    api_reply_json (req, 200, json_pack ("{s:I, s:O}", "id", (json_int_t) l.team_id,
                                         "leads", leads));
  }
out:
  free (text);
  json_decref (obj);
}

void
api_escalations_list (api_request_t *req)
{
  api_problem_t p;
  long limit = S_LIST_DEFAULT, ticket = 0;
  const char *lim = api_query (req, "limit"), *tk = api_query (req, "ticket");
  int rc = AT_OK;
  if (lim && at_parse_long (lim, 1, S_LIST_MAX, &limit) != AT_OK)
    rc = api_problem (&p, 400, "limit", "limit must be an integer from 1 to %d", S_LIST_MAX);
  else if (tk && at_parse_long (tk, 1, LONG_MAX, &ticket) != AT_OK)
    rc = api_problem (&p, 400, "ticket", "ticket must be a ticket id");
  if (rc != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  json_t *items = NULL;
  if (!store)
    return;
  if (at_store_escalations_list (store, ticket, limit, &items) != AT_OK) {
    json_decref (items);
    api_reply_store_failed (req);
    return;
  }
  api_reply_json (req, 200, json_pack ("{s:o}", "items", items));
}
