/* api_desk: the desk through the api (api_desk.h):
 *   POST /v1/teams {name, default?}          -> 201 (409 when the name is taken)
 *   GET  /v1/teams                           teams, waiting tickets, agents online
 *   GET  /v1/agents?team=                    agents with settings, presence and load
 *   PUT  /v1/agents/{user_id}                settings (agents:write) -> 200
 *   PUT  /v1/agents/{user_id}/presence       {presence}: the agent themself, or admin
 *   GET  /v1/desk/queue?team=&limit=         waiting tickets in the order they are taken
 * Settings, teams and presence are written here (with their audit row, in
 * one transaction); assignment state never is: an agent who comes online
 * (or whose settings change while online) makes the api publish a
 * desk.assign round for each of their teams, and route assigns. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_desk.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_COMP "api"
#define S_QUEUE_DEFAULT 100

/* A desk.assign round for each team id of the JSON array teams. */
static int
s_ask_rounds (api_request_t *req, const json_t *teams, const char *why)
{
  size_t i;
  const json_t *v;
  json_array_foreach (teams, i, v) {
    Atende__DeskAssign a = ATENDE__DESK_ASSIGN__INIT;
    a.team_id = json_integer_value (v);
    a.why = (char *) why;
    uint8_t payload[128];
    char key[AT_KEY_LEN];
    if (atende__desk_assign__get_packed_size (&a) > sizeof payload)
      return AT_ERROR;
    size_t len = atende__desk_assign__pack (&a, payload);
    snprintf (key, sizeof key, "team:%" PRId64, (int64_t) a.team_id);
    at_msg_t *msg = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_DESK_ASSIGN, key, api_trace_id (req),
                                payload, len);
    int rc = msg ? api_publish (req, msg) : AT_ERROR;
    at_msg_destroy (&msg);
    if (rc != AT_OK)
      return rc;
  }
  return AT_OK;
}

/* --- teams */

typedef struct {
  const char *name;
  bool is_default;
  int64_t id;
} s_team_t;

static int
s_team_create (api_request_t *req, at_store_t *store, void *arg)
{
  (void) req;
  s_team_t *t = arg;
  return at_store_desk_team_create (store, t->name, t->is_default, &t->id);
}

void
api_teams_post (api_request_t *req)
{
  api_problem_t p;
  json_t *obj = api_body_object (req->body, req->body_len, &p);
  s_team_t t = {0};
  int rc = obj ? AT_OK : AT_INVALID;
  const json_t *def = obj ? json_object_get (obj, "default") : NULL;
  t.name = obj ? json_string_value (json_object_get (obj, "name")) : NULL;
  if (rc == AT_OK && !api_desk_team_name_ok (t.name))
    rc = api_problem (&p, 422, "name", "name must be 1 to 63 of a-z 0-9 _ . - (starting with a"
                      " letter or digit)");
  else if (rc == AT_OK && def && !json_is_boolean (def))
    rc = api_problem (&p, 422, "default", "default must be true or false");
  t.is_default = json_is_true (def);
  at_store_t *store = rc == AT_OK ? api_store (req) : NULL;
  if (rc != AT_OK)
    api_reply_problem (req, &p);
  if (!store)
    goto out;
  rc = api_audited (req, store, s_team_create, &t, "team.create", t.name,
                  json_pack ("{s:b}", "default", t.is_default));
  if (rc == AT_CONFLICT) {
    api_problem (&p, 409, "name", "a team named %s exists", t.name);
    api_reply_problem (req, &p);
  }
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else {
    at_info (S_COMP, "msg=\"team created\" team_id=%" PRId64 " name=%s default=%d request_id=%s",
             t.id, t.name, t.is_default, req->request_id);
    api_reply_json (req, 201, json_pack ("{s:I, s:s, s:b}", "id", (json_int_t) t.id, "name",
                                         t.name, "default", t.is_default));
  }
out:
  json_decref (obj);
}

static void
s_reply_items (api_request_t *req, int rc, json_t *items)
{
  if (rc != AT_OK) {
    json_decref (items);
    api_reply_store_failed (req);
    return;
  }
  api_reply_json (req, 200, json_pack ("{s:o}", "items", items));
}

void
api_teams_list (api_request_t *req)
{
  at_store_t *store = api_store (req);
  json_t *items = NULL;
  if (store) {
    int rc = at_store_desk_teams_list (store, &items);
    s_reply_items (req, rc, items);
  }
}

/* ?team= as its id: AT_OK, or answered (400 naming team, or 503). */
static int
s_team_query (api_request_t *req, at_store_t *store, bool required, int64_t *id)
{
  api_problem_t p;
  const char *name = api_query (req, "team");
  *id = 0;
  if (!name && !required)
    return AT_OK;
  int rc = api_desk_team_name_ok (name) ? at_store_desk_team_find (store, name, id)
                                        : AT_NOTFOUND;
  if (rc == AT_NOTFOUND) {
    api_problem (&p, 400, "team", "team must name a team (GET /v1/teams)");
    api_reply_problem (req, &p);
  }
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  return rc;
}

void
api_desk_queue_get (api_request_t *req)
{
  api_problem_t p;
  long limit = S_QUEUE_DEFAULT;
  const char *text = api_query (req, "limit");
  if (text && at_parse_long (text, 1, AT_DESK_QUEUE_LIST_MAX, &limit) != AT_OK) {
    api_problem (&p, 400, "limit", "limit must be an integer from 1 to %d",
                 AT_DESK_QUEUE_LIST_MAX);
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  int64_t team = 0;
  json_t *items = NULL;
  if (store && s_team_query (req, store, true, &team) == AT_OK) {
    int rc = at_store_desk_queue_list (store, team, (int) limit, &items);
    s_reply_items (req, rc, items);
  }
}

/* --- agents */

void
api_agents_list (api_request_t *req)
{
  at_store_t *store = api_store (req);
  int64_t team = 0;
  json_t *items = NULL;
  if (store && s_team_query (req, store, false, &team) == AT_OK) {
    int rc = at_store_desk_agents_list (store, team, &items);
    s_reply_items (req, rc, items);
  }
}

typedef struct {
  int64_t user_id;
  at_desk_agent_t a;
} s_agent_put_t;

static int
s_agent_put (api_request_t *req, at_store_t *store, void *arg)
{
  (void) req;
  s_agent_put_t *x = arg;
  return at_store_desk_agent_put (store, x->user_id, &x->a);
}

/* 422 naming teams when one of them is no team; AT_OK otherwise. */
static int
s_teams_known (api_request_t *req, at_store_t *store, const char *teams)
{
  api_problem_t p;
  char unknown[AT_DESK_TEAM_MAX + 1] = "";
  int rc = teams ? at_store_desk_teams_unknown (store, teams, unknown, sizeof unknown) : AT_OK;
  if (rc != AT_OK)
    api_reply_store_failed (req);
  else if (unknown[0]) {
    api_problem (&p, 422, "teams", "no team named %s (POST /v1/teams first)", unknown);
    api_reply_problem (req, &p);
    rc = AT_INVALID;
  }
  return rc;
}

/* The agent as they are now; with why, a round for each of their teams
 * when they are online (their settings may have freed capacity). */
static void
s_reply_agent (api_request_t *req, at_store_t *store, int64_t user_id, const char *why)
{
  json_t *doc = NULL;
  if (at_store_desk_agent_get (store, user_id, &doc) != AT_OK) {
    api_reply_store_failed (req);
    return;
  }
  const char *presence = json_string_value (json_object_get (doc, "presence"));
  if (why && presence && strcmp (presence, "online") == 0
      && s_ask_rounds (req, json_object_get (doc, "team_ids"), why) != AT_OK) {
    json_decref (doc);
    return;                                   /* answered: 503 */
  }
  api_reply_json (req, 200, doc);
}

void
api_agent_put (api_request_t *req)
{
  api_problem_t p;
  api_desk_agent_body_t b;
  s_agent_put_t x = {0};
  char target[48];
  if (!api_param_id (req, &x.user_id)) {
    api_reply_not_found (req, "no user with this id");
    return;
  }
  if (api_desk_agent_parse (req->body, req->body_len, &b, &p) != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store || s_teams_known (req, store, b.teams) != AT_OK)
    goto out;
  x.a = (at_desk_agent_t) {.teams_json = b.teams, .skills_json = b.skills,
                           .languages_json = b.languages, .weights_json = b.weights,
                           .limit = b.limit[0] ? b.limit : NULL,
                           .default_limit = req->cfg->desk_agent_limit};
  snprintf (target, sizeof target, "user:%" PRId64, x.user_id);
  int rc = api_audited (req, store, s_agent_put, &x, "agent.update", target,
                      json_loads (req->body, 0, NULL));
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no enabled user with this id");
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else {
    at_info (S_COMP, "msg=\"agent settings changed\" user_id=%" PRId64 " request_id=%s",
             x.user_id, req->request_id);
    s_reply_agent (req, store, x.user_id, "settings");
  }
out:
  api_desk_agent_body_clear (&b);
}

typedef struct {
  int64_t user_id;
  const char *presence;
  long default_limit;
  json_t *teams;
} s_presence_t;

static int
s_presence (api_request_t *req, at_store_t *store, void *arg)
{
  (void) req;
  s_presence_t *x = arg;
  return at_store_desk_presence_set (store, x->user_id, x->presence, x->default_limit, &x->teams);
}

/* The agent themself (signed in), or an admin. */
static bool
s_may_set_presence (const api_request_t *req, int64_t user_id)
{
  return (req->caller.scopes & AT_SCOPE_ADMIN)
         || (req->caller.kind == API_CALLER_SESSION && req->caller.session.user_id == user_id);
}

void
api_agent_presence_put (api_request_t *req)
{
  api_problem_t p;
  s_presence_t x = {.default_limit = req->cfg->desk_agent_limit};
  char target[48];
  if (!api_param_id (req, &x.user_id)) {
    api_reply_not_found (req, "no user with this id");
    return;
  }
  if (!s_may_set_presence (req, x.user_id)) {
    api_problem (&p, 403, NULL, "only the agent themself (signed in) or an admin sets presence");
    api_reply_problem (req, &p);
    return;
  }
  if (api_desk_presence_parse (req->body, req->body_len, &x.presence, &p) != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  snprintf (target, sizeof target, "user:%" PRId64, x.user_id);
  int rc = api_audited (req, store, s_presence, &x, "agent.presence", target,
                      json_pack ("{s:s}", "presence", x.presence));
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no enabled user with this id");
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else {
    at_info (S_COMP, "msg=\"agent presence\" user_id=%" PRId64 " presence=%s request_id=%s",
             x.user_id, x.presence, req->request_id);
    if (strcmp (x.presence, "online") != 0 || s_ask_rounds (req, x.teams, "online") == AT_OK)
      s_reply_agent (req, store, x.user_id, NULL);
  }
  json_decref (x.teams);
}
