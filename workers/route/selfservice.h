/* selfservice: the customer's return, cancel and payment requests served on
 * the channel, each a small state machine stored in PostgreSQL and never
 * answered twice under redelivery. */
#ifndef WRK_ROUTE_SELFSERVICE_H
#define WRK_ROUTE_SELFSERVICE_H

#include "route/route_int.h"
#include "at_intent.h"

/* After classification as return_refund, cancel or payment: runs the flow
 * for the customer's order, or hands the ticket to people with the reason. */
int wrk_route_selfservice (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t,
                           at_intent_t intent, const char *text);

#endif
