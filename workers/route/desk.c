/* desk: queues, agents, assignment (see desk.h): route's hooks and the
 * desk.* messages it takes. What it asks of the bus is desk_ask.c; the
 * round itself desk_assign.c; the api's assign and transfer desk_manual.c. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "route/desk_int.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_COMP WRK_DESK_COMP

/* A new (or reopened) ticket into its team's queue, a round asked for,
 * and, when its match can widen, rounds for when it does. */
static int
s_enqueue (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, int64_t team_id, const char *why)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  char language[16];
  wrk_route_desk_language (t->language, language, sizeof language);
  int rc = at_store_desk_enqueue (wrk_ctx_store (ctx), t->id, team_id, t->channel, language,
                                  wrk_route_desk_rank (t->priority));
  if (rc == AT_OK)
    rc = wrk_route_desk_ask_round (ctx, m, team_id, why, 0);
  if (rc == AT_OK && language[0] && cfg->desk_widen_after_s > 0)
    rc = wrk_route_desk_ask_round (ctx, m, team_id, "widen", cfg->desk_widen_after_s + 1);
  if (rc == AT_OK && language[0] && cfg->desk_widen_after_s > 0)
    rc = wrk_route_desk_ask_round (ctx, m, team_id, "widen", 2 * cfg->desk_widen_after_s + 1);
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"ticket queued\" id=%s ticket_id=%" PRId64 " team_id=%" PRId64
             " priority=%s language=%s why=%s", m->msg->id, t->id, team_id, t->priority,
             language, why);
  return rc;
}

/* A resolved ticket the customer wrote on again: back to its agent when
 * they are online and it fits, else to the queue. */
static int
s_reopened (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const at_desk_ticket_t *d)
{
  at_store_t *store = wrk_ctx_store (ctx);
  char weights[AT_DESK_WEIGHTS_JSON_MAX];
  int64_t agent = 0, assignment = 0;
  int rc = wrk_route_desk_weights (ctx, weights);
  if (rc == AT_OK)
    rc = at_store_desk_returning_agent (store, t->id, weights, &agent);
  if (rc != AT_OK || agent == 0)
    return rc == AT_OK ? s_enqueue (ctx, m, t, d->team_id, "reopened") : rc;
  char language[16];
  wrk_route_desk_language (t->language, language, sizeof language);
  rc = at_store_desk_enqueue (store, t->id, d->team_id, t->channel, language,
                              wrk_route_desk_rank (t->priority));
  at_desk_assign_t a = {.ticket_id = t->id, .agent_id = agent, .team_id = d->team_id,
                        .how = "reopen", .weights_json = weights,
                        .reply_within_s = wrk_ctx_config (ctx)->desk_reply_within_s};
  if (rc == AT_OK)
    rc = at_store_desk_assign (store, &a, &assignment);
  if (rc == AT_CONFLICT)            /* went offline or full meanwhile */
    return wrk_route_desk_ask_round (ctx, m, d->team_id, "reopened", 0);
  if (rc == AT_OK)
    rc = wrk_route_desk_ask_reply_check (ctx, m, t->id, assignment);
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"reopened ticket back to its agent\" id=%s ticket_id=%" PRId64
             " agent_id=%" PRId64 " assignment_id=%" PRId64, m->msg->id, t->id, agent,
             assignment);
  return rc;
}

int
wrk_route_desk_needs_person (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t)
{
  at_store_t *store = wrk_ctx_store (ctx);
  at_desk_ticket_t d;
  int64_t team = 0, assignment = 0;
  int rc = at_store_desk_ticket_lock (store, t->id, &d);
  if (rc == AT_NOTFOUND) {
    rc = at_store_desk_default_team (store, wrk_ctx_config (ctx)->desk_default_team, &team);
    return rc == AT_OK ? s_enqueue (ctx, m, t, team, "queued") : rc;
  }
  if (rc != AT_OK)
    return rc;
  if (strcmp (d.state, "queued") == 0) {      /* still waiting: priority, language */
    char language[16];
    wrk_route_desk_language (t->language, language, sizeof language);
    return at_store_desk_enqueue (store, t->id, d.team_id, t->channel, language,
                                  wrk_route_desk_rank (t->priority));
  }
  if (strcmp (d.state, "assigned") == 0) {    /* its agent owes a reply now */
    rc = at_store_desk_reply_owed (store, t->id, wrk_ctx_config (ctx)->desk_reply_within_s,
                                   &assignment);
    return rc == AT_OK ? wrk_route_desk_ask_reply_check (ctx, m, t->id, assignment) : rc;
  }
  return s_reopened (ctx, m, t, &d);
}

int
wrk_route_desk_on_agent_reply (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t,
                               const char *agent)
{
  (void) m, (void) agent;              /* any reply answers the customer */
  return at_store_desk_replied (wrk_ctx_store (ctx), t->id);
}

int
wrk_route_desk_on_resolve (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t)
{
  at_store_t *store = wrk_ctx_store (ctx);
  int64_t agent = 0;
  int rc = at_store_desk_release (store, t->id, "resolved", "done", &agent);
  if (rc == AT_NOTFOUND)
    return at_store_desk_done (store, t->id);
  if (rc == AT_OK)
    rc = wrk_route_desk_ask_rounds_of (ctx, m, agent, "resolved");
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"agent freed by a resolved ticket\" id=%s ticket_id=%" PRId64
             " agent_id=%" PRId64, m->msg->id, t->id, agent);
  return rc;
}

/* A desk.reply_check: the assignment still owes its reply past the time,
 * so the ticket goes back to the queue (not to this agent). */
static int
s_reply_check (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, int64_t assignment_id)
{
  at_store_t *store = wrk_ctx_store (ctx);
  at_ticket_t t;
  at_desk_ticket_t d;
  bool overdue = false;
  int64_t agent = 0;
  int rc = at_store_ticket_lock (store, ticket_id, &t);
  if (rc == AT_NOTFOUND)
    return wrk_route_bad (m, "unknown ticket", ticket_id);
  if (rc == AT_OK)
    rc = at_store_desk_ticket_lock (store, ticket_id, &d);
  if (rc == AT_OK)
    rc = at_store_desk_reply_overdue (store, ticket_id, assignment_id, &overdue);
  if (rc != AT_OK || !overdue)
    return rc == AT_NOTFOUND ? AT_OK : rc;
  rc = at_store_desk_release (store, ticket_id, "no_reply", "queued", &agent);
  if (rc == AT_OK)
    rc = wrk_route_desk_ask_round (ctx, m, d.team_id, "no_reply", 0);
  if (rc == AT_OK)
    rc = wrk_route_desk_ask_rounds_of (ctx, m, agent, "released");
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"no reply in time, ticket back to the queue\" id=%s ticket_id=%"
             PRId64 " agent_id=%" PRId64 " assignment_id=%" PRId64, m->msg->id, ticket_id,
             agent, assignment_id);
  return rc;
}

int
wrk_route_desk_handle (wrk_ctx_t *ctx, wrk_msg_t *m, const char *type, const uint8_t *data,
                       size_t len)
{
  int rc = AT_INVALID;
  if (strcmp (type, AT_TYPE_DESK_ASSIGN) == 0) {
    Atende__DeskAssign *pb = atende__desk_assign__unpack (NULL, len, data);
    if (pb)
      rc = pb->team_id > 0 ? wrk_route_desk_round (ctx, m, pb->team_id)
                           : wrk_route_bad (m, "desk.assign without a team", 0);
    atende__desk_assign__free_unpacked (pb, NULL);
  }
  else if (strcmp (type, AT_TYPE_DESK_MANUAL) == 0) {
    Atende__DeskManual *pb = atende__desk_manual__unpack (NULL, len, data);
    if (pb)
      rc = wrk_route_desk_manual (ctx, m, pb->ticket_id, pb->action, pb->agent_id, pb->team_id,
                                  pb->actor);
    atende__desk_manual__free_unpacked (pb, NULL);
  }
  else if (strcmp (type, AT_TYPE_DESK_REPLY_CHECK) == 0) {
    Atende__DeskReplyCheck *pb = atende__desk_reply_check__unpack (NULL, len, data);
    if (pb)
      rc = s_reply_check (ctx, m, pb->ticket_id, pb->assignment_id);
    atende__desk_reply_check__free_unpacked (pb, NULL);
  }
  else
    return AT_NOTFOUND;
  return rc == AT_OK || rc == AT_INVALID ? rc : wrk_route_store_rc (m, rc, "desk refused", 0);
}
