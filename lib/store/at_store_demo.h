/* What the demo polls in the store to know when the pipeline's work has
 * landed, and what its summary reports (lib/store/store_demo.c): read-only
 * counts and ticket ids of the tickets after a given id (the demo's own). */
#ifndef AT_STORE_DEMO_H
#define AT_STORE_DEMO_H

#include "at_store.h"

typedef struct {
  long long inbound;           /* ticket_message in */
  long long tickets;
  long long routed;            /* tickets with an intent */
  long long auto_answered;
  long long order_events;
  long long survey_answers;
  long long max_ticket_id;
  long long auto_replies;      /* notifications auto_reply on the tickets */
  long long store_requests;    /* return and cancel requests on the tickets */
  long long kb_settled;        /* knowledge-base answers the customer answered */
} demo_counts_t;

int demo_probe_counts (at_store_t *store, int64_t after_ticket, demo_counts_t *out);
/* Ticket ids (> after) that wait for an agent, with their language; at most
 * cap. Waiting: not resolved, not answered by the bot (or handed to people
 * after it), no agent reply since the hand-over. Returns how many. */
size_t demo_probe_unanswered (at_store_t *store, int64_t after, int64_t *ids, char (*langs)[8],
                              size_t cap);
/* Ticket ids (> after) not resolved yet; at most cap. */
size_t demo_probe_open (at_store_t *store, int64_t after, int64_t *ids, size_t cap);

#define DEMO_PROVIDER_ID_MAX 96
/* Tickets (> after) whose knowledge-base answer awaits the customer's
 * "sim/não", with the provider_message_id of the question; at most cap. */
size_t demo_probe_kb_awaiting (at_store_t *store, int64_t after, int64_t *ids,
                               char (*provider_ids)[DEMO_PROVIDER_ID_MAX], size_t cap);

/* --- the summary */
#define DEMO_INTENTS 7
#define DEMO_TALLY_MAX 24
typedef struct {
  char name[40];
  long long n;
} demo_tally_t;

typedef struct {
  long long by_intent[DEMO_INTENTS];   /* in demo_intent_names' order */
  long long auto_total, auto_order, auto_kb, auto_return, auto_cancel, auto_payment;
  long long handed_over, for_people;   /* with a hand-over reason; left without one */
  long long high;
  long long kb_suggested, kb_helpful, kb_unhelpful, kb_no_result;
  long long requests_sent;             /* return/cancel requests the store took */
  demo_tally_t handoff[DEMO_TALLY_MAX], priority[DEMO_TALLY_MAX];
  size_t handoff_n, priority_n;
  long long desk_queued, desk_assigned, desk_waiting;   /* tickets queued for people, ... */
  long long sla_warnings, sla_breaches, sla_met, escalated;
  long long leads_told;                /* escalation mails to leads that went out */
  demo_tally_t by_agent[DEMO_TALLY_MAX], breach[DEMO_TALLY_MAX];   /* assignments, by metric */
  size_t by_agent_n, breach_n;
} demo_summary_t;

/* The ticket (> after) whose first response is due first under an SLA
 * policy (not the default), 0 if none; the breaches recorded so far. */
int64_t demo_probe_urgent (at_store_t *store, int64_t after);
long long demo_probe_breaches (at_store_t *store, int64_t after);

extern const char *const demo_intent_names[DEMO_INTENTS];
int demo_probe_summary (at_store_t *store, int64_t after, demo_summary_t *out);

#endif
