/* What the demo polls in the store to know when the pipeline's work has
 * landed (lib/store/store_demo.c): read-only counts and ticket ids. */
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
} demo_counts_t;

int demo_probe_counts (at_store_t *store, int64_t after_ticket, demo_counts_t *out);
/* Ticket ids (> after) that wait for an agent (no first response, not
 * resolved), with their language; at most cap. Returns how many. */
size_t demo_probe_unanswered (at_store_t *store, int64_t after, int64_t *ids, char (*langs)[8],
                              size_t cap);
/* Ticket ids (> after) not resolved yet; at most cap. */
size_t demo_probe_open (at_store_t *store, int64_t after, int64_t *ids, size_t cap);

#endif
