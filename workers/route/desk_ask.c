/* desk_ask: what the desk asks of the bus (an assignment round, a reply
 * check) and the channel weights its statements take; the lowest layer of
 * the desk's files, called by desk.c, desk_assign.c and desk_manual.c. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "route/desk_int.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_COMP WRK_DESK_COMP
int
wrk_route_desk_weights (wrk_ctx_t *ctx, char out[AT_DESK_WEIGHTS_JSON_MAX])
{
  char why[160];
  if (at_store_desk_weights_json (&wrk_ctx_config (ctx)->desk_channel_weights, out,
                                  AT_DESK_WEIGHTS_JSON_MAX, why, sizeof why) == AT_OK)
    return AT_OK;
  at_error (S_COMP, "msg=\"ATENDE_DESK_CHANNEL_WEIGHTS refused\" reason=\"%s\"", why);
  return AT_ERROR;
}

/* A route message of type with key, delay_s later. */
static int
s_produce (wrk_ctx_t *ctx, wrk_msg_t *m, const char *type, const char *key,
           const ProtobufCMessage *pb, long delay_s)
{
  wrk_route_out_t o = {AT_STAGE_ROUTE, type, key, delay_s};
  return wrk_route_produce (ctx, m, &o, pb);
}

int
wrk_route_desk_ask_round (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t team_id, const char *why,
                          long delay_s)
{
  Atende__DeskAssign a = ATENDE__DESK_ASSIGN__INIT;
  a.team_id = team_id;
  a.why = (char *) why;
  char key[AT_KEY_LEN];
  snprintf (key, sizeof key, "team:%" PRId64, team_id);
  return s_produce (ctx, m, AT_TYPE_DESK_ASSIGN, key, &a.base, delay_s);
}

int
wrk_route_desk_ask_rounds_of (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t agent_id, const char *why)
{
  int64_t teams[AT_DESK_TEAMS_MAX];
  size_t n = 0;
  int rc = at_store_desk_agent_teams (wrk_ctx_store (ctx), agent_id, teams, AT_DESK_TEAMS_MAX,
                                      &n);
  for (size_t i = 0; rc == AT_OK && i < n; i++)
    rc = wrk_route_desk_ask_round (ctx, m, teams[i], why, 0);
  return rc;
}

int
wrk_route_desk_ask_reply_check (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id,
                                int64_t assignment_id)
{
  long within = wrk_ctx_config (ctx)->desk_reply_within_s;
  if (within <= 0 || assignment_id <= 0)
    return AT_OK;
  Atende__DeskReplyCheck c = ATENDE__DESK_REPLY_CHECK__INIT;
  c.ticket_id = ticket_id;
  c.assignment_id = assignment_id;
  char key[AT_KEY_LEN];
  snprintf (key, sizeof key, "ticket:%" PRId64, ticket_id);
  return s_produce (ctx, m, AT_TYPE_DESK_REPLY_CHECK, key, &c.base, within);
}
