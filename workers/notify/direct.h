/* notify, messages sent as they are, with no notification row (direct.c):
 *   rule.webhook  a rule's webhook action (workers/route/rules.c), POSTed to
 *                 the store's systems through the store's webhook;
 *   lead.notify   an escalation told to a team's lead (workers/route/
 *                 escalate.c), mailed through the email channel's providers,
 *                 its escalation_notice marked sent or failed. */
#ifndef WRK_NOTIFY_DIRECT_H
#define WRK_NOTIFY_DIRECT_H

#include "notify.h"

/* prepare: calls the provider for the batch's rule.webhook and lead.notify
 * messages, outside the transaction (at least once; webhook-id, Idempotency-
 * Key or Message-ID are the bus message's id, the same on every attempt).
 * handle: the outcome: done on a 2xx, retried (the loop's backoff) on a 5xx
 * or no answer, dead-lettered on a 4xx or with no provider set. A lead's
 * notice is the record of its mail: marked sent, or failed (a 4xx, no email
 * provider, the stage's last attempt) with the message done, in handle's
 * transaction. */
int wrk_notify_direct_prepare (wrk_ctx_t *ctx, wrk_msg_t **msgs, size_t n);
int wrk_notify_direct_handle (wrk_ctx_t *ctx, wrk_msg_t *m);

#endif
