/* The orders and order_event tables (lib/store/store_order.c); the status
 * state machine they apply is lib/inbound/at_order.h. */
#ifndef AT_STORE_ORDER_H
#define AT_STORE_ORDER_H

#include "at_order.h"
#include "at_store.h"

/* --- store ------------------------------------------------------------- */

/* Reads and locks (FOR UPDATE) the order; current->exists false when absent. */
int at_store_order_lock (at_store_t *store, const char *order_id, at_order_current_t *current);

typedef struct {
  const char *order_id;
  int64_t customer_id;          /* 0: unknown */
  const char *status;
  int rank;
  int64_t status_at_us;
  const char *expected_delivery; /* YYYY-MM-DD or NULL/"" */
  const char *tracking_url;      /* NULL/"": keep the stored one */
  const char *customer_channel;  /* NULL/"": keep the stored one */
} at_order_update_t;

/* Inserts the order (AT_CONFLICT if it appeared meanwhile) or applies a new
 * status to it. */
int at_store_order_insert (at_store_t *store, const at_order_update_t *u);
int at_store_order_apply (at_store_t *store, const at_order_update_t *u);

/* Stores the payment an event carried (method boleto | pix, its code, the
 * due date YYYY-MM-DD or NULL/""), unless the stored one came with a newer
 * event (occurred_us). The delivery time is kept by insert/apply themselves:
 * delivered_at = status_at when the status delivered applies. */
int at_store_order_payment (at_store_t *store, const char *order_id, const char *method,
                            const char *code, const char *due, int64_t occurred_us);

/* Records an event once: *recorded_out false when (order_id, key) was seen. */
int at_store_order_event_record (at_store_t *store, const char *order_id, const char *key,
                                 const char *status, int64_t occurred_us, bool applied,
                                 bool *recorded_out);

/* Marks the order delayed by a delay check: status delayed at status_at_us
 * (rank kept), missed_delivery = delay_told_for = missed_date, and
 * expected_delivery cleared (it passed; a carrier's new estimate sets it). */
int at_store_order_mark_delayed (at_store_t *store, const char *order_id, int64_t status_at_us,
                                 const char *missed_date);

/* Records that the customer was told the order is late for date (a
 * publisher's delayed event without a new estimate): its check stays quiet. */
int at_store_order_delay_told (at_store_t *store, const char *order_id, const char *date);

/* The end of day date (YYYY-MM-DD) in time zone tz (IANA), as unix
 * microseconds: midnight at the start of the next day there. AT_INVALID for
 * a bad date or an unknown time zone. */
int at_store_order_day_end (at_store_t *store, const char *date, const char *tz,
                            int64_t *us_out);

/* What the orders and their notifications came to (the olist replay's report). */
typedef struct {
  long long orders, orders_delayed, orders_delay_told;
  long long notifications, notifications_delivered, notifications_open;
  long long notifications_max_per_order, notify_backlog;
} at_order_stats_t;

int at_store_order_stats (at_store_t *store, at_order_stats_t *out);
/* Calls fn with the id of every order a delay check marked delayed. */
int at_store_order_delayed_each (at_store_t *store, void (*fn) (const char *order_id, void *arg),
                                 void *arg);

/* The customer's name and stored locale (either may come back ""). */
int at_store_order_customer (at_store_t *store, int64_t customer_id, char *name_out,
                             size_t name_cap, char locale_out[AT_LOCALE_LEN]);

#endif
