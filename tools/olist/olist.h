/* olist: the Olist order sample as a timeline of order events and delay
 * checks (olist_data.c), replayed by olist_replay.c. */
#ifndef OLIST_H
#define OLIST_H

#include "at_common.h"

#define OLIST_ID_LEN 40

typedef struct {
  char id[OLIST_ID_LEN];
  char customer[OLIST_ID_LEN];      /* customer_unique_id: one person across orders */
  char status[16];                  /* Olist's order_status */
  char expected[11];                /* YYYY-MM-DD or "" */
  bool late;                        /* delivered after the end of the expected day */
  bool never_delivered;             /* expected date given, no delivery in the data */
} olist_order_t;

typedef enum { OLIST_EVENT = 0, OLIST_CHECK = 1 } olist_kind_t;

typedef struct {
  int64_t at_us;                    /* simulated time (UTC) */
  olist_kind_t kind;
  int order;                        /* index into the orders */
  const char *status;               /* an atende status (OLIST_EVENT) */
  bool synthesized;                 /* not in the data: in_transit, cancelled */
  char occurred_at[32];             /* RFC 3339 */
} olist_item_t;

typedef struct {
  olist_order_t *orders;
  size_t n_orders;
  olist_item_t *items;              /* sorted by at_us, events before checks on ties */
  size_t n_items;
  size_t n_synthesized, n_late, n_never_delivered;
} olist_t;

/* Loads dir/olist_orders_dataset.csv and dir/olist_customers_dataset.csv
 * (at most max_orders orders, 0: all). AT_NOTFOUND when the files are
 * absent, AT_INVALID for a malformed file (reason printed). */
int olist_load (const char *dir, size_t max_orders, olist_t **out);
void olist_destroy (olist_t **self_p);

#endif
