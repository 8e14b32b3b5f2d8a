/* api_desk_assign: POST /v1/tickets/{id}/assign {agent_id} and
 * POST /v1/tickets/{id}/transfer {team} | {agent_id} (tickets:write).
 * Checked here, so that a refusal names its reason: 404 no ticket, 422 an
 * agent_id that is no agent or a team that does not exist, 409 naming
 * agent_id when the agent is offline (or away) or full (load + the
 * ticket's weight over their limit), 409 when the ticket is resolved.
 * Then published to route (desk.manual, key ticket:<id>, so it is ordered
 * with the ticket's replies and resolution), which checks again under its
 * locks and applies it: the api never writes assignment state. 202. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "api_desk.h"
#include "at_log.h"
#include "at_store_query.h"
#include "domain.pb-c.h"

#define S_COMP "api"

/* The refusal of a check's why (409 / 422), into p. */
static void
s_refusal (const char *why, const char *detail, int64_t agent_id, api_problem_t *p)
{
  if (strcmp (why, "resolved") == 0)
    api_problem (p, 409, NULL, "%s", detail);
  else if (strcmp (why, "not_agent") == 0)
    api_problem (p, 422, "agent_id", "agent_id %" PRId64 ": %s", agent_id, detail);
  else
    api_problem (p, 409, "agent_id", "agent_id %" PRId64 " cannot take it (%s): %s", agent_id,
                 why, detail);
}

/* Checks that the agent can take the ticket: AT_OK, or answered. */
static int
s_check_agent (api_request_t *req, at_store_t *store, int64_t ticket_id, int64_t agent_id)
{
  api_problem_t p;
  char weights[AT_DESK_WEIGHTS_JSON_MAX], reason[160], why[AT_DESK_WHY_MAX];
  char detail[AT_DESK_DETAIL_MAX];
  if (at_store_desk_weights_json (&req->cfg->desk_channel_weights, weights, sizeof weights,
                                  reason, sizeof reason) != AT_OK) {
    at_error (S_COMP, "msg=\"ATENDE_DESK_CHANNEL_WEIGHTS refused\" reason=\"%s\"", reason);
    api_problem (&p, 500, NULL, "the desk's channel weights are misconfigured");
    api_reply_problem (req, &p);
    return AT_ERROR;
  }
  int rc = at_store_desk_assign_check (store, ticket_id, agent_id, weights, why, detail);
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no ticket with this id");
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else if (why[0]) {
    s_refusal (why, detail, agent_id, &p);
    api_reply_problem (req, &p);
    at_info (S_COMP, "msg=\"manual assignment refused\" ticket_id=%" PRId64 " agent_id=%"
             PRId64 " reason=%s request_id=%s", ticket_id, agent_id, why, req->request_id);
    rc = AT_CONFLICT;
  }
  return rc;
}

/* The team named team: AT_OK with its id, or answered (422 / 503 / 404). */
static int
s_check_team (api_request_t *req, at_store_t *store, int64_t ticket_id, const char *team,
              int64_t *team_id)
{
  api_problem_t p;
  int rc = at_query_ticket_exists (store, ticket_id);
  if (rc == AT_NOTFOUND) {
    api_reply_not_found (req, "no ticket with this id");
    return rc;
  }
  if (rc == AT_OK)
    rc = at_store_desk_team_find (store, team, team_id);
  if (rc == AT_NOTFOUND) {
    api_problem (&p, 422, "team", "no team named %s", team);
    api_reply_problem (req, &p);
  }
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  return rc;
}

/* Publishes the desk.manual; its audit row after the confirm; 202. */
static void
s_publish (api_request_t *req, int64_t ticket_id, const char *action, int64_t agent_id,
           int64_t team_id)
{
  Atende__DeskManual d = ATENDE__DESK_MANUAL__INIT;
  d.ticket_id = ticket_id;
  d.action = (char *) action;
  d.agent_id = agent_id;
  d.team_id = team_id;
  d.actor = req->caller.actor;
  uint8_t payload[256];
  char key[AT_KEY_LEN], target[48], audit_action[32];
  if (atende__desk_manual__get_packed_size (&d) > sizeof payload) {
    api_reply_store_failed (req);
    return;
  }
  size_t len = atende__desk_manual__pack (&d, payload);
  snprintf (key, sizeof key, "ticket:%" PRId64, ticket_id);
  at_msg_t *msg = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_DESK_MANUAL, key, api_trace_id (req),
                              payload, len);
  if (msg && api_publish (req, msg) == AT_OK) {
    snprintf (target, sizeof target, "ticket:%" PRId64, ticket_id);
    snprintf (audit_action, sizeof audit_action, "ticket.%s", action);
    json_t *detail = json_pack ("{s:s, s:I, s:I}", "message_id", msg->id, "agent_id",
                                (json_int_t) agent_id, "team_id", (json_int_t) team_id);
    at_store_t *store = api_store (req);
    if (!store || at_store_audit (store, req->caller.actor, audit_action, target, detail,
                                  req->peer) != AT_OK)
      at_warn (S_COMP, "msg=\"audit row not written\" action=%s ticket=%" PRId64 " actor=%s"
               " request_id=%s", audit_action, ticket_id, req->caller.actor, req->request_id);
    json_decref (detail);
    at_info (S_COMP, "msg=\"ticket %s accepted\" ticket_id=%" PRId64 " agent_id=%" PRId64
             " team_id=%" PRId64 " message_id=%s request_id=%s", action, ticket_id, agent_id,
             team_id, msg->id, req->request_id);
    api_reply_json (req, 202, json_pack ("{s:s, s:s}", "id", msg->id, "status", "accepted"));
  }
  else if (!msg)
    api_reply_store_failed (req);
  at_msg_destroy (&msg);
}

static void
s_action (api_request_t *req, bool transfer)
{
  api_problem_t p;
  int64_t ticket_id = 0, agent_id = 0, team_id = 0;
  char team[AT_DESK_TEAM_MAX + 1];
  if (!api_param_id (req, &ticket_id)) {
    api_reply_not_found (req, "no ticket with this id");
    return;
  }
  if (api_desk_target_parse (req->body, req->body_len, transfer, &agent_id, team, &p) != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  int rc = agent_id > 0 ? s_check_agent (req, store, ticket_id, agent_id)
                        : s_check_team (req, store, ticket_id, team, &team_id);
  if (rc == AT_OK)
    s_publish (req, ticket_id, transfer ? "transfer" : "assign", agent_id, team_id);
}

void
api_tickets_assign_post (api_request_t *req)
{
  s_action (req, false);
}

void
api_tickets_transfer_post (api_request_t *req)
{
  s_action (req, true);
}
