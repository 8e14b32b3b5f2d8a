/* at_query: the read side the api shows (lib/store/store_query.c): a ticket with
 * its messages, where a bus message is, the KPIs, survey state. */
#ifndef AT_QUERY_H
#define AT_QUERY_H

#include "at_store.h"

#define AT_QUERY_TICKET_MESSAGES_MAX 1000   /* first messages of a ticket shown */

/* Timestamps are RFC 3339 text in UTC; NULL fields are SQL NULL. */
typedef struct {
  int64_t id;
  char *direction;     /* in | out */
  char *author;        /* customer | agent | bot */
  char *body;
  char *created_at;
  char *agent;         /* who, for an agent's message; NULL otherwise */
  char *channel;       /* the channel it came or went on */
} at_ticket_message_view_t;

typedef struct {
  int64_t id;
  int64_t customer_id;
  char *channel, *status, *intent, *priority, *language;
  double intent_confidence;            /* 0..1; -1: none (NULL) */
  bool auto_answered;
  char *created_at, *first_response_due, *first_response_at, *resolved_at;
  char *priority_reason;               /* "agency,negative_tone"; NULL: none */
  char *handoff_reason, *handoff_at;   /* why and when automation gave it to people */
  at_ticket_message_view_t *messages;
  size_t message_count;
} at_ticket_view_t;

/* AT_OK and *out, AT_NOTFOUND, or a store error. */
int at_query_ticket (at_store_t *store, int64_t ticket_id, at_ticket_view_t **out);
void at_ticket_view_destroy (at_ticket_view_t **self_p);

/* AT_OK when the ticket exists, AT_NOTFOUND, or a store error. */
int at_query_ticket_exists (at_store_t *store, int64_t ticket_id);

typedef enum { AT_BUS_STATE_PROCESSED, AT_BUS_STATE_PENDING, AT_BUS_STATE_DEAD } at_bus_state_t;

typedef struct {
  at_bus_state_t state;
  int64_t ticket_id;       /* processed: the ticket the message went to */
  char reason[256];        /* dead: why */
} at_message_status_t;

/* Where the bus message `id` (a UUID) is: in a ticket, still on the bus or
 * dead-lettered. AT_NOTFOUND when none of them. */
int at_query_message_status (at_store_t *store, const char *id, at_message_status_t *out);

/* KPIs over what happened since since_us (unix microseconds; 0: all time).
 * Averages and percentiles are NAN when there is nothing to measure. */
typedef struct {
  long long tickets_opened, tickets_open, tickets_resolved;
  long long messages_inbound, messages_outbound;
  long long first_response_count;
  double first_response_avg, first_response_p50, first_response_p90;
  double resolution_avg, resolution_p50;
  long long csat_responses;
  double csat_average, csat_satisfied_share;
  double auto_answered_share;          /* of tickets with intent order_status */
  long long notifications_delivered, notifications_pending, notifications_failed;
  long long orders_count, orders_delivered;
} at_kpis_t;

int at_query_kpis (at_store_t *store, int64_t since_us, at_kpis_t *out);

/* SELECT 1: AT_OK when the store answers. */
int at_query_ping (at_store_t *store);

#endif
