/* sla: a clock per ticket and metric (first response, next response,
 * resolution) on the business-hours calendar of the ticket's policy, paused
 * by the states that pause it; warnings and breaches are delayed bus
 * messages (issue 15; ../shared/design.md "The desk"). route calls these
 * hooks inside the worker's transaction. */
#ifndef WRK_ROUTE_SLA_H
#define WRK_ROUTE_SLA_H

#include "route/route_int.h"

/* The ticket was classified (priority, channel known; *t is the result):
 * its clocks start, or are re-targeted when the priority changed (the time
 * already used is kept). */
int wrk_route_sla_on_classified (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t);

/* A customer's message arrived on the ticket (before it is classified). */
int wrk_route_sla_on_customer_message (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t);

/* An answer went out (by an agent when agent is true, else automatic). */
int wrk_route_sla_on_answer (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, bool agent);

/* Automation handed the ticket to people: what an automatic answer
 * paused (first and next response) and waiting on the customer paused
 * (resolution) runs again: the ticket waits for a person. */
int wrk_route_sla_on_handoff (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t);

/* The ticket was resolved. */
int wrk_route_sla_on_resolve (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t);

/* A warning or breach an sla.check recorded (event "sla_warning" or
 * "sla_breach" for the rules; NULL: none). */
typedef struct {
  int64_t ticket_id;
  const char *event;
} wrk_sla_fired_t;

/* An SLA message of route (type sla.*): decodes and applies it; *fired
 * says what it recorded. AT_NOTFOUND when type is not an SLA type
 * (nothing done). */
int wrk_route_sla_handle (wrk_ctx_t *ctx, wrk_msg_t *m, const char *type, const uint8_t *data,
                          size_t len, wrk_sla_fired_t *fired);

#endif
