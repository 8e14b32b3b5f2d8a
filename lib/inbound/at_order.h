/* Orders: the status state machine, a pure function (lib/inbound/order.c);
 * the orders and order_event tables are lib/store/at_store_order.h.
 *
 * Ranks: placed < confirmed < packed < shipped < in_transit <
 * out_for_delivery < delivered < returned. cancelled is allowed before
 * delivered and ends the order. delayed and failed_attempt are allowed only
 * before delivered (and not after cancelled) and keep the current rank.
 * An event older than the order's status_at, of lower rank, or repeating the
 * current status is recorded but not applied; a repeat that brings another
 * expected delivery date (a carrier's new estimate) applies
 * (at_order_decide_event).
 *
 * Delay detection (workers/notify/delay.c): when an expected date is set or
 * moves, notify schedules an order.check_delay for the end of that day in the
 * store's time zone; if the order is then neither delivered, returned nor
 * cancelled, and that date is still its expected date, it becomes delayed
 * (missed_delivery = the date, expected_delivery cleared until a new
 * estimate) and the customer is told once per missed date. */
#ifndef AT_ORDER_H
#define AT_ORDER_H

#include "at_common.h"

#define AT_ORDER_ID_MAX 128        /* bytes of an order id */
#define AT_ORDER_EVENT_KEY_MAX 160 /* bytes of an event's dedup key */
#define AT_ORDER_STATUS_LEN 24
#define AT_LOCALE_LEN 8
#define AT_ORDER_DATE_LEN 16
#define AT_ORDER_TRACKING_MAX 1024   /* bytes of a tracking URL */
#define AT_ORDER_PAYMENT_CODE_MAX 512  /* bytes of a boleto line or a Pix code */

/* The order as stored; exists false when there is no row yet. */
typedef struct {
  bool exists;
  char status[AT_ORDER_STATUS_LEN];
  int rank;
  int64_t status_at_us;
  char expected_delivery[AT_ORDER_DATE_LEN];  /* YYYY-MM-DD or "" */
  char missed_delivery[AT_ORDER_DATE_LEN];    /* the date a delay was detected for, or "" */
  char delay_told_for[AT_ORDER_DATE_LEN];     /* "" until a delay check told the customer */
  int64_t customer_id;                        /* 0: unknown */
  char customer_channel[16];                  /* "" when unknown */
  char tracking_url[AT_ORDER_TRACKING_MAX + 1];  /* "" when unknown or longer */
} at_order_current_t;

typedef enum {
  AT_ORDER_IGNORE = 0,   /* recorded, not applied */
  AT_ORDER_APPLY = 1     /* becomes the order's status */
} at_order_decision_t;

/* True for the eleven statuses of OrderEvent. */
bool at_order_status_known (const char *status);
/* The i-th of them (placed confirmed packed shipped in_transit out_for_delivery
 * delivered delayed failed_attempt cancelled returned); NULL past the last. */
const char *at_order_status_name (size_t i);
/* The rank of a regular status; -1 for delayed, failed_attempt and unknown. */
int at_order_status_rank (const char *status);
/* Whether customers are told about this status (all but packed). */
bool at_order_status_customer_facing (const char *status);

/* Decides what an event does to the order. AT_INVALID for an unknown status;
 * otherwise AT_OK with *decision_out and, when applied, *rank_out = the rank
 * the order gets. */
int at_order_decide (const at_order_current_t *current, const char *status, int64_t occurred_us,
                     at_order_decision_t *decision_out, int *rank_out);

/* As at_order_decide, plus: an event repeating the current status with an
 * expected delivery date different from the stored one applies (a carrier's
 * new estimate: in_transit or delayed with a new date). expected may be NULL. */
int at_order_decide_event (const at_order_current_t *current, const char *status,
                           int64_t occurred_us, const char *expected,
                           at_order_decision_t *decision_out, int *rank_out);

/* True when no delivery is ahead any more: delivered, returned, cancelled. */
bool at_order_settled (const at_order_current_t *current);

/* The dedup key of an event: its event_id, or "<status>@<occurred_us>" when
 * the publisher gave none. AT_INVALID if it does not fit. */
int at_order_event_key (const char *event_id, const char *status, int64_t occurred_us,
                        char *out, size_t cap);

/* The payment an order event may carry (both or neither): method "boleto"
 * (code: the linha digitavel, 47 or 48 digits with or without dots and
 * spaces) or "pix" (code: the copia-e-cola EMV text, printable ASCII
 * starting "000201", at most AT_ORDER_PAYMENT_CODE_MAX bytes). AT_INVALID
 * with *field_out the field at fault and *why_out what is wrong with it. */
int at_order_payment_check (const char *method, const char *code, const char **field_out,
                            const char **why_out);

/* One of "pt-BR", "en", "es" for a customer's stored locale; fallback (then
 * pt-BR) when it is none of them. */
const char *at_locale_pick (const char *customer_locale, const char *fallback);

#endif
