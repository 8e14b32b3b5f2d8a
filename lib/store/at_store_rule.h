/* at_store_rule: rules and their execution log (migration 019; issue 15
 * "Rules"). Rules as the api manages them (JSON built by PostgreSQL), the
 * facts a rule is checked against, the per-ticket log, and the few changes
 * rules make on a ticket that no other module makes (tags, escalation,
 * a priority set by a rule). */
#ifndef AT_STORE_RULE_H
#define AT_STORE_RULE_H

#include <jansson.h>
#include "at_store.h"
#include "at_rule.h"

#define AT_STORE_RULE_LAST_MAX 500

/* A rule as stored: conditions and actions are JSON text (checked by
 * at_rule_check before). */
typedef struct {
  const char *name;
  const char *event;
  const char *conditions_json;
  const char *actions_json;
  long position;
  bool enabled;
  long after_s;                     /* idle: > 0; else 0 */
} at_rule_row_t;

int at_store_rule_create (at_store_t *store, const at_rule_row_t *r, int64_t *id_out);
/* AT_NOTFOUND when there is no such rule. */
int at_store_rule_update (at_store_t *store, int64_t id, const at_rule_row_t *r);
int at_store_rule_delete (at_store_t *store, int64_t id);
int at_store_rule_get (at_store_t *store, int64_t id, json_t **doc_out);
/* All rules by (position, id); enabled_only: what route evaluates.
 * Each {id, position, name, enabled, event, after_s (idle, else null),
 * conditions, actions, created_at, updated_at}. */
int at_store_rule_list (at_store_t *store, bool enabled_only, json_t **items_out);

/* The ticket as rules see it now (at_rule_facts_t). AT_NOTFOUND: no ticket. */
int at_store_rule_facts (at_store_t *store, int64_t ticket_id, int64_t now_us,
                         at_rule_facts_t *out);
/* The ids of the last `last` tickets (newest first). */
int at_store_rule_recent_tickets (at_store_t *store, long last, int64_t *ids, size_t cap,
                                  size_t *n);

/* One row of the log. AT_CONFLICT when this message's chain logged it
 * already (a redelivery: apply nothing). */
typedef struct {
  int64_t ticket_id;
  const char *msg_id;
  const char *chain;
  const at_rule_run_t *run;
} at_rule_log_t;
int at_store_rule_log (at_store_t *store, const at_rule_log_t *l);
/* The ticket's log, oldest first: {rule_id, rule, event, chain, depth,
 * fired, why, actions, at}. */
int at_store_rule_runs (at_store_t *store, int64_t ticket_id, json_t **items_out);

/* A rule's changes on the ticket: AT_OK; *changed false when it was so. */
int at_store_rule_ticket_priority (at_store_t *store, int64_t ticket_id, const char *priority,
                                   bool *changed);
int at_store_rule_ticket_tag (at_store_t *store, int64_t ticket_id, const char *tag);

/* Whether an enabled rule listens to event. */
int at_store_rule_listened (at_store_t *store, const char *event, bool *yes);

/* The customer's latest ticket that is not resolved (AT_NOTFOUND: none). */
int at_store_rule_open_ticket (at_store_t *store, int64_t customer_id, int64_t *ticket_out);

/* The id of the ticket's latest message from the customer or an agent
 * (0: none; the bot's do not count). */
int at_store_rule_last_message (at_store_t *store, int64_t ticket_id, int64_t *id_out);

/* The id of the customer's latest message on the ticket (0: none). */
int at_store_rule_last_customer_message (at_store_t *store, int64_t ticket_id, int64_t *id_out);

#endif
