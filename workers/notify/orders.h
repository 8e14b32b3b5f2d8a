/* notify: what the order files share (order_event.c, delay.c). */
#ifndef WRK_NOTIFY_ORDERS_H
#define WRK_NOTIFY_ORDERS_H

#include "wrk.h"
#include "at_template.h"

#define AT_TYPE_ORDER_CHECK_DELAY "order.check_delay"   /* notify, OrderCheckDelay */

/* A message about an order to its customer. */
typedef struct {
  const char *order_id;
  const char *event;          /* the template: an order status */
  int64_t customer_id;
  const char *channel;        /* where to reach the customer */
  const char *handle;         /* normalised handle on channel */
  const char *name_hint;      /* the publisher's name for the customer, "" if none */
  at_template_vars_t vars;    /* first_name is filled in from the store */
} wrk_order_tell_t;

/* Creates the order_status notification and produces its notification.send.
 * AT_OK also when the event has no template (nothing to say). */
int wrk_notify_order_tell (wrk_ctx_t *ctx, wrk_msg_t *m, wrk_order_tell_t *t);

/* Schedules the delay check of order_id for its expected date (end of that
 * day in the store's time zone). Nothing with ATENDE_DELAY_CHECKS=external. */
int wrk_notify_order_schedule_check (wrk_ctx_t *ctx, wrk_msg_t *m, const char *order_id,
                                     const char *expected_date);

/* A delay check message for order_id's expected_date due at due_us. */
at_msg_t *wrk_notify_check_msg (const char *order_id, const char *expected_date, int64_t due_us,
                                const char *trace_id);

/* order.check_delay (delay.c). */
int wrk_notify_order_check_delay (wrk_ctx_t *ctx, wrk_msg_t *m);

#endif
