/* at_rule: rules as data (issue 15, "Rules"). A rule listens to one event,
 * holds when all its conditions hold on a ticket's facts, and then applies
 * its actions in order. This module is pure: it checks a rule's JSON (each
 * refusal names a JSON pointer), matches conditions, and plans what a chain
 * of rules does on a copy of the facts. route applies the plan
 * (workers/route/rules.c); the api's dry run answers it (api/api_rules.c);
 * both plan with at_rule_plan, so a dry run says what then happens.
 *
 * A rule: {"name", "event", "conditions": [{"field", "op", "value"}],
 *          "actions": [{"type", ...}], "position"?, "enabled"?}
 *   events     ticket_created message_in intent_set priority_changed
 *              sla_warning sla_breach order_status_changed idle (no
 *              message from anyone for the rule's "after_s" seconds)
 *   fields     channel intent language priority order_status team (strings;
 *              op eq | not | in | contains), tag (eq: has it, not: lacks
 *              it, in: has one of them), text (the customer's latest
 *              message; contains | not: ASCII case-insensitive substring),
 *              business_hours (eq true | false: the ticket's SLA calendar
 *              is open now; no calendar: always open)
 *   actions    set_team {team}, set_priority {priority: normal | high},
 *              add_tag {tag}, assign {agent_id}, escalate {},
 *              webhook {name} (signed, to the store's systems, by notify),
 *              close_after_days {days} (resolved then unless the customer
 *              wrote since; days may be a fraction), auto_reply {template}
 *              (a template rule_*, said by the bot right after)
 * The one event an action raises: set_priority that changes the priority
 * raises priority_changed. A chain never fires a rule twice and stops at
 * depth AT_RULE_DEPTH_MAX. */
#ifndef AT_RULE_H
#define AT_RULE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "at_common.h"

#define AT_RULE_DEPTH_MAX 4
#define AT_RULE_CONDITIONS_MAX 16
#define AT_RULE_ACTIONS_MAX 8
#define AT_RULE_TAGS_MAX 32
#define AT_RULE_TAG_MAX 40
#define AT_RULE_TEXT_MAX 4096
#define AT_RULE_WHY_MAX 240
#define AT_RULE_POINTER_MAX 72
#define AT_RULE_DETAIL_MAX 200
#define AT_RULE_RUNS_MAX 256          /* one chain's runs at most */
#define AT_RULE_IDLE_MAX_S 2592000    /* 30 days: the longest after_s of an idle rule */

/* What conditions are checked against: a ticket as it is now. */
typedef struct {
  char channel[32];
  char intent[32];
  char language[16];
  char priority[16];
  char order_status[32];            /* the customer's latest order; "" none */
  char team[64];                    /* the ticket's team at the desk; "" none */
  char tags[AT_RULE_TAGS_MAX][AT_RULE_TAG_MAX + 1];
  size_t n_tags;
  char text[AT_RULE_TEXT_MAX];      /* the customer's latest message */
  bool business_hours;
} at_rule_facts_t;

/* One rule evaluated in a chain. */
typedef struct {
  int64_t rule_id;                  /* 0: the chain's guard stopped it */
  char event[24];
  int depth;
  bool fired;
  char why[AT_RULE_WHY_MAX];
  const json_t *actions;            /* borrowed from the rules given to at_rule_plan */
} at_rule_run_t;

/* Whether name can be a rule's template: "rule_" and 1..18 of a-z, 0-9,
 * _ (the message templates' event of an auto_reply action). */
bool at_rule_template_name_ok (const char *name);

/* Whether name is an event rules listen to. */
bool at_rule_event_known (const char *name);

/* Checks a rule document (a POST or PUT body). AT_OK, or AT_INVALID with
 * the JSON pointer of what is wrong ("/conditions/1/field", "/event",
 * "/actions/0") and a sentence saying why. A rule whose own action raises
 * the event it listens to, with conditions that action leaves true, loops:
 * refused naming "/actions/N". */
int at_rule_check (const json_t *rule, char pointer[AT_RULE_POINTER_MAX],
                   char detail[AT_RULE_DETAIL_MAX]);

/* Whether every condition holds on facts; why says so, or names the first
 * condition that fails and what the ticket has instead. */
bool at_rule_matches (const json_t *conditions, const at_rule_facts_t *facts,
                      char why[AT_RULE_WHY_MAX]);

/* Adds a tag to facts (once; nothing past AT_RULE_TAGS_MAX). */
void at_rule_facts_tag (at_rule_facts_t *facts, const char *tag);

/* The chain that event starts: rules is the array of enabled rules in
 * order ({id, event, conditions, actions}), facts is changed as fired
 * actions change the ticket. runs[0..*n) in the order they were evaluated;
 * AT_OK, or AT_ERROR when cap runs do not hold the chain. */
int at_rule_plan (const json_t *rules, const char *event, at_rule_facts_t *facts,
                  at_rule_run_t *runs, size_t cap, size_t *n);

#endif
