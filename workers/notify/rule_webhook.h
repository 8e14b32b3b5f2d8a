/* notify, rule.webhook: a rule's webhook action (workers/route/rules.c)
 * POSTed to the store's systems through the store's webhook (rule_webhook.c). */
#ifndef WRK_NOTIFY_RULE_WEBHOOK_H
#define WRK_NOTIFY_RULE_WEBHOOK_H

#include "notify.h"

/* prepare: calls the store's webhook for the batch's rule.webhook messages,
 * outside the transaction (at least once; webhook-id and Idempotency-Key
 * are the bus message's id, the same on every attempt). handle: the
 * outcome: done on a 2xx, retried (the loop's backoff) on a 5xx or no
 * answer, dead-lettered on a 4xx or with no store webhook set. */
int wrk_notify_rule_webhook_prepare (wrk_ctx_t *ctx, wrk_msg_t **msgs, size_t n);
int wrk_notify_rule_webhook_handle (wrk_ctx_t *ctx, wrk_msg_t *m);

#endif
