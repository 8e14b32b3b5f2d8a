/* notify, store.request: a customer's return or cancel request (opened by
 * route's self-service) POSTed to the store's systems, and the order events
 * that close such requests (store_request.c). */
#ifndef WRK_NOTIFY_STORE_REQUEST_H
#define WRK_NOTIFY_STORE_REQUEST_H

#include "notify.h"
#include "domain.pb-c.h"

/* The store's webhook (ATENDE_STORE_WEBHOOK_URL, signed with
 * ATENDE_STORE_WEBHOOK_SECRET). *hook_out NULL when no URL is set; AT_ERROR
 * (logged) when the URL is set without a valid whsec_ secret. */
int wrk_notify_store_hook_new (const at_config_t *cfg, at_provider_t **hook_out);

/* prepare: calls the store for the batch's store.request messages, outside
 * the transaction, recorded before and after (at least once; the request
 * id is the webhook-id the store de-duplicates on). handle: the outcome. */
int wrk_notify_store_request_prepare (wrk_ctx_t *ctx, wrk_msg_t **msgs, size_t n);
int wrk_notify_store_request_handle (wrk_ctx_t *ctx, wrk_msg_t *m);

/* An order event ev applied (status now ev->status): closes the order's
 * open request it answers, inside the worker's transaction:
 *   cancelled           cancel -> confirmed; the customer is told on the
 *                       request's ticket in its language (*told_out: the
 *                       usual cancelled message is then not sent);
 *   returned            return -> confirmed;
 *   shipped and later   cancel -> refused; the ticket goes to people. */
int wrk_notify_selfservice_event (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__OrderEvent *ev,
                                  bool *told_out);

#endif
