/* notify stage internals: order events (order_event.c) and deliveries (send.c). */
#ifndef WRK_NOTIFY_H
#define WRK_NOTIFY_H

#include "wrk.h"

#define WRK_NOTIFY_COMP "notify"

/* order.event: applies an OrderEvent and queues the customer's message. */
int wrk_notify_order_event (wrk_ctx_t *ctx, wrk_msg_t *m);

/* notification.send: prepare delivers the batch's notifications (recorded
 * before and after); handle turns each one's outcome into the result. */
int wrk_notify_send_prepare (wrk_ctx_t *ctx, wrk_msg_t **msgs, size_t n);
int wrk_notify_send_handle (wrk_ctx_t *ctx, wrk_msg_t *m);

#endif
