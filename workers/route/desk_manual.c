/* desk_manual: the api's POST /v1/tickets/{id}/assign and /transfer as
 * route applies them (desk.manual, key ticket:<id>). The api checked the
 * agent (online, capacity); here it is checked again under the locks, and
 * what no longer holds is logged and left as it is. */
#include <inttypes.h>
#include <string.h>

#include "route/desk_int.h"
#include "at_log.h"

#define S_COMP WRK_DESK_COMP

/* The ticket's desk row, made (queued for the default team) when missing. */
static int
s_desk_row (wrk_ctx_t *ctx, const at_ticket_t *t, at_desk_ticket_t *d)
{
  at_store_t *store = wrk_ctx_store (ctx);
  int rc = at_store_desk_ticket_lock (store, t->id, d);
  if (rc != AT_NOTFOUND)
    return rc;
  int64_t team = 0;
  char language[16];
  wrk_route_desk_language (t->language, language, sizeof language);
  rc = at_store_desk_default_team (store, wrk_ctx_config (ctx)->desk_default_team, &team);
  if (rc == AT_OK)
    rc = at_store_desk_enqueue (store, t->id, team, t->channel, language,
                                wrk_route_desk_rank (t->priority));
  return rc == AT_OK ? at_store_desk_ticket_lock (store, t->id, d) : rc;
}

/* Takes the ticket from whoever holds it (state queued); their teams get
 * a round. A ticket that was done is queued again. */
static int
s_take_back (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const at_desk_ticket_t *d,
             const char *reason)
{
  at_store_t *store = wrk_ctx_store (ctx);
  int64_t prev = 0;
  if (strcmp (d->state, "done") == 0) {
    char language[16];
    wrk_route_desk_language (t->language, language, sizeof language);
    return at_store_desk_enqueue (store, t->id, d->team_id, t->channel, language,
                                  wrk_route_desk_rank (t->priority));
  }
  if (strcmp (d->state, "assigned") != 0)
    return AT_OK;
  int rc = at_store_desk_release (store, t->id, reason, "queued", &prev);
  return rc == AT_OK ? wrk_route_desk_ask_rounds_of (ctx, m, prev, "released") : rc;
}

static int
s_to_team (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const at_desk_ticket_t *d,
           int64_t team_id, const char *actor)
{
  int rc = s_take_back (ctx, m, t, d, "transferred");
  if (rc == AT_OK)
    rc = at_store_desk_ticket_set_team (wrk_ctx_store (ctx), t->id, team_id);
  if (rc == AT_OK)
    rc = wrk_route_desk_ask_round (ctx, m, team_id, "transfer", 0);
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"ticket transferred to a team\" id=%s ticket_id=%" PRId64
             " team_id=%" PRId64 " from_team_id=%" PRId64 " actor=%s", m->msg->id, t->id,
             team_id, d->team_id, actor);
  return rc;
}

static int
s_to_agent (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const at_desk_ticket_t *d,
            int64_t agent_id, const char *how, const char *actor)
{
  at_store_t *store = wrk_ctx_store (ctx);
  char weights[AT_DESK_WEIGHTS_JSON_MAX], why[AT_DESK_WHY_MAX], detail[AT_DESK_DETAIL_MAX];
  int64_t assignment = 0;
  if (d->assignee == agent_id)
    return AT_OK;                                  /* theirs already */
  int rc = wrk_route_desk_weights (ctx, weights);
  if (rc == AT_OK)
    rc = at_store_desk_assign_check (store, t->id, agent_id, weights, why, detail);
  if (rc == AT_OK && why[0]) {
    at_warn (S_COMP, "msg=\"manual assignment refused when applied\" id=%s ticket_id=%" PRId64
             " agent_id=%" PRId64 " reason=%s detail=\"%s\" actor=%s", m->msg->id, t->id,
             agent_id, why, detail, actor);
    return AT_OK;
  }
  if (rc == AT_OK)
    rc = s_take_back (ctx, m, t, d, strcmp (how, "transfer") == 0 ? "transferred" : "reassigned");
  at_desk_assign_t a = {.ticket_id = t->id, .agent_id = agent_id, .team_id = d->team_id,
                        .how = how, .actor = actor, .weights_json = weights,
                        .reply_within_s = wrk_ctx_config (ctx)->desk_reply_within_s};
  if (rc == AT_OK)
    rc = at_store_desk_assign (store, &a, &assignment);
  if (rc == AT_CONFLICT) {                         /* went offline or full since the check */
    at_warn (S_COMP, "msg=\"manual assignment lost a race, ticket queued\" id=%s ticket_id=%"
             PRId64 " agent_id=%" PRId64, m->msg->id, t->id, agent_id);
    return wrk_route_desk_ask_round (ctx, m, d->team_id, "queued", 0);
  }
  if (rc == AT_OK)
    rc = wrk_route_desk_ask_reply_check (ctx, m, t->id, assignment);
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"ticket assigned by hand\" id=%s ticket_id=%" PRId64 " agent_id=%"
             PRId64 " assignment_id=%" PRId64 " how=%s actor=%s", m->msg->id, t->id, agent_id,
             assignment, how, actor);
  return rc;
}

int
wrk_route_desk_manual (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, const char *action,
                       int64_t agent_id, int64_t team_id, const char *actor)
{
  bool transfer = action && strcmp (action, "transfer") == 0;
  if (!transfer && !(action && strcmp (action, "assign") == 0))
    return wrk_route_bad (m, "desk.manual with an unknown action for ticket", ticket_id);
  if ((agent_id > 0) == (team_id > 0) || (!transfer && agent_id <= 0))
    return wrk_route_bad (m, "desk.manual needs an agent or a team for ticket", ticket_id);
  at_ticket_t t;
  at_desk_ticket_t d;
  int rc = at_store_ticket_lock (wrk_ctx_store (ctx), ticket_id, &t);
  if (rc == AT_NOTFOUND)
    return wrk_route_bad (m, "unknown ticket", ticket_id);
  if (rc == AT_OK && strcmp (t.status, "resolved") == 0) {
    at_warn (S_COMP, "msg=\"manual %s of a resolved ticket ignored\" id=%s ticket_id=%" PRId64,
             action, m->msg->id, ticket_id);
    return AT_OK;
  }
  if (rc == AT_OK)
    rc = s_desk_row (ctx, &t, &d);
  if (rc != AT_OK)
    return rc;
  const char *who = actor && *actor ? actor : "-";
  if (team_id > 0)
    return s_to_team (ctx, m, &t, &d, team_id, who);
  return s_to_agent (ctx, m, &t, &d, agent_id, transfer ? "transfer" : "manual", who);
}
