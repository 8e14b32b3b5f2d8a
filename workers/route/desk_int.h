/* desk_int: what the desk's files share (desk.c: route's hooks and the
 * desk.* messages; desk_ask.c: what the desk asks of the bus;
 * desk_assign.c: the assignment round; desk_manual.c: the api's assign and
 * transfer). All in the worker's transaction. */
#ifndef WRK_ROUTE_DESK_INT_H
#define WRK_ROUTE_DESK_INT_H

#include "route/desk.h"
#include "at_store_desk.h"

#define WRK_DESK_COMP "desk"

/* ATENDE_DESK_CHANNEL_WEIGHTS as the statements' JSON; AT_ERROR (logged)
 * when a weight is not a number. */
int wrk_route_desk_weights (wrk_ctx_t *ctx, char out[AT_DESK_WEIGHTS_JSON_MAX]);

/* Produces a desk.assign round for team (key team:<id>), delay_s later. */
int wrk_route_desk_ask_round (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t team_id, const char *why,
                              long delay_s);

/* A round for each team of agent (their capacity freed). */
int wrk_route_desk_ask_rounds_of (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t agent_id,
                                  const char *why);

/* Produces the delayed desk.reply_check of an assignment (nothing when
 * ATENDE_DESK_REPLY_WITHIN_S is 0). */
int wrk_route_desk_ask_reply_check (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id,
                                    int64_t assignment_id);

/* One desk.assign round for team. */
int wrk_route_desk_round (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t team_id);

/* A desk.manual message: assign or transfer. */
int wrk_route_desk_manual (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, const char *action,
                           int64_t agent_id, int64_t team_id, const char *actor);

#endif
