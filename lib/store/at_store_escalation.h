/* at_store_escalation: escalations and the leads they reach (migration 020,
 * lib/store/store_escalation.c). A team names its leads; a rule's escalate
 * action records one escalation per firing and one notice per lead of the
 * ticket's team (the default team's when the ticket is not at the desk),
 * which notify mails (lead.notify) and marks sent or failed. */
#ifndef AT_STORE_ESCALATION_H
#define AT_STORE_ESCALATION_H

#include <jansson.h>
#include "at_store.h"

#define AT_ESCALATION_LEADS_MAX 16   /* leads of one team (the column's check) */
#define AT_ESCALATION_EMAIL_MAX 254

typedef struct {
  int64_t lead_id;
  char email[AT_ESCALATION_EMAIL_MAX + 1];
  char language[16];                 /* the lead's first language tag; "" none */
} at_escalation_lead_t;

typedef struct {
  int64_t id;                        /* 0: this message recorded it before */
  char team[64];                     /* "" no team */
  char channel[16], priority[16];
  at_escalation_lead_t leads[AT_ESCALATION_LEADS_MAX];
  size_t n_leads;
} at_escalation_t;

typedef struct {
  int64_t ticket_id, rule_id;
  const char *rule_name;             /* "" when the rule has none */
  const char *event;                 /* the event the rule heard */
  const char *msg_id;                /* the bus message whose chain fired it */
} at_escalation_in_t;

/* In the caller's transaction: the ticket escalated (escalated_at the first
 * time, tag "escalated"), an escalation row and a pending notice per enabled
 * lead of its team, into *out. Once per (msg_id, ticket, rule): again (or
 * for a ticket that does not exist) nothing is written and out->id is 0. */
int at_store_escalation_record (at_store_t *store, const at_escalation_in_t *in,
                                at_escalation_t *out);

/* notify's outcome for one notice: sent, or failed with why (attempt: the
 * bus message's attempt). AT_NOTFOUND when there is no such notice. */
int at_store_escalation_notice_done (at_store_t *store, int64_t escalation_id, int64_t lead_id,
                                     bool sent, const char *why, unsigned attempt);

/* The newest escalations (limit 1..1000), each with its ticket, team, rule,
 * event, time and notices [{lead_id, email, state, attempts, sent_at,
 * last_error}], as a JSON array; ticket_id > 0: only that ticket's. */
int at_store_escalations_list (at_store_t *store, int64_t ticket_id, long limit,
                               json_t **items_out);

/* A team's leads from a JSON array of user ids (checked to be numbers by
 * the caller): AT_OK; AT_NOTFOUND no such team; AT_INVALID with *bad_index
 * the first id that is no enabled user of role lead or admin. */
int at_store_team_leads_set (at_store_t *store, int64_t team_id, const char *ids_json,
                             long *bad_index);

#endif
