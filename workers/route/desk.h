/* desk: tickets that need a person, in a team's queue, given to agents by
 * skills, language and free capacity (issue 15; ../shared/design.md "The
 * desk"). route calls these hooks inside the worker's transaction. */
#ifndef WRK_ROUTE_DESK_H
#define WRK_ROUTE_DESK_H

#include "route/route_int.h"

/* After a customer's message was handled and the ticket still waits for a
 * person (status open: automation did not answer it, or handed it over):
 * into its team's queue (or back to its agent), and an assignment is asked
 * for. */
int wrk_route_desk_needs_person (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t);

/* An agent's reply went out on the ticket (agent: who, "" unknown). */
int wrk_route_desk_on_agent_reply (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t,
                                   const char *agent);

/* The ticket was resolved: its agent's capacity frees up. */
int wrk_route_desk_on_resolve (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t);

/* A desk message of route (type desk.*): decodes and applies it.
 * AT_NOTFOUND when type is not a desk type (nothing done). */
int wrk_route_desk_handle (wrk_ctx_t *ctx, wrk_msg_t *m, const char *type, const uint8_t *data,
                           size_t len);

#endif
