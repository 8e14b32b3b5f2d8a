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

/* --- the pure part (desk_rules.c), unit-tested --------------------------- */

/* How far a ticket's match is widened after waiting waited_s:
 * WRK_DESK_WIDEN_NONE, _SKILLS (skills no longer required) after
 * widen_after_s, _LANGUAGE (nor the language) after twice that; never
 * when widen_after_s is 0. */
typedef enum { WRK_DESK_WIDEN_NONE = 0, WRK_DESK_WIDEN_SKILLS, WRK_DESK_WIDEN_LANGUAGE }
  wrk_desk_widen_t;
wrk_desk_widen_t wrk_route_desk_widen (double waited_s, long widen_after_s);

/* The queue rank of a ticket's priority: 0 high, 1 anything else. */
int wrk_route_desk_rank (const char *priority);

/* The language an agent must speak for a ticket: its primary subtag
 * ("pt" of "pt-BR"), "" when unknown or "other" (anyone). */
void wrk_route_desk_language (const char *ticket_language, char *out, size_t cap);

/* The "widened" of an assignment log row: what the match left out. */
const char *wrk_route_desk_widened (wrk_desk_widen_t w, bool needs_skills,
                                    const char *language);

#endif
