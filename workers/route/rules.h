/* rules: route applies the rules (at_rule.h) listening to what happened on
 * a ticket, inside the worker's transaction (issue 15, "Rules"). */
#ifndef WRK_ROUTE_RULES_H
#define WRK_ROUTE_RULES_H

#include "route/route_int.h"

/* written: a message (the customer's, an agent's) was just written on the
 * ticket, so each idle rule's timer starts again (a delayed rule.idle).
 * Then for each event in order, the chain it starts on the ticket: at_rule_plan
 * over the enabled rules and the ticket's facts read then; every run is
 * logged (rule_run, keyed by m's id, so a redelivered message finds its
 * rows and applies nothing twice) and what fired is applied: set_team
 * (a transfer at the desk), set_priority (the SLA clocks re-targeted),
 * add_tag, assign (as the api's assign does), escalate, webhook (a
 * rule.webhook for notify), close_after_days (a delayed rule.close),
 * auto_reply (a rule.reply, said right after). */
int wrk_route_rules_events (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id,
                            const char *const *events, size_t n_events, bool written);

/* A rules message of route (rule.close, rule.reply, rule.event, rule.idle):
 * decodes and applies it.
 * AT_NOTFOUND when type is not one (nothing done). */
int wrk_route_rules_handle (wrk_ctx_t *ctx, wrk_msg_t *m, const char *type, const uint8_t *data,
                            size_t len);

#endif
