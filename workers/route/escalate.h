/* route, escalate: a rule's escalate action (workers/route/rules.c) records
 * the escalation and tells the ticket's team's leads (escalate.c). */
#ifndef WRK_ROUTE_ESCALATE_H
#define WRK_ROUTE_ESCALATE_H

#include "route_int.h"
#include "at_rule.h"

/* In m's transaction: the ticket escalated (escalated_at, tag "escalated"),
 * an escalation row, and a lead.notify for notify per enabled lead of the
 * ticket's team, in the lead's language. Once per message: a message
 * delivered again records and produces nothing. */
int wrk_route_escalate (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id,
                        const at_rule_run_t *run, const char *rule_name);

#endif
