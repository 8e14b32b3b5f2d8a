/* notify: the stage that tells customers. Two message types:
 *   order.event        -> order state machine, order_status notification
 *   notification.send  -> signed webhook delivery (prepare), outcome (handle) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "notify.h"
#include "at_webhook.h"
#include "at_log.h"

static int
s_setup (wrk_ctx_t *ctx, void **stage_state)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  if (!cfg->webhook_secret || !*cfg->webhook_secret) {
    at_error (WRK_NOTIFY_COMP, "msg=\"ATENDE_WEBHOOK_SECRET is empty: notify signs every"
                               " delivery and cannot start without a whsec_ secret\"");
    return AT_ERROR;
  }
  at_webhook_t *client = at_webhook_new (cfg->webhook_url, cfg->webhook_secret,
                                         cfg->webhook_timeout_ms, cfg->webhook_concurrency);
  if (!client) {
    at_error (WRK_NOTIFY_COMP, "msg=\"notify cannot start: webhook client not created\""
                               " url=\"%s\"", cfg->webhook_url ? cfg->webhook_url : "");
    return AT_ERROR;
  }
  *stage_state = client;
  return AT_OK;
}

static void
s_teardown (void **stage_state)
{
  at_webhook_t *client = *stage_state;
  at_webhook_destroy (&client);
  *stage_state = NULL;
}

static int
s_prepare (wrk_ctx_t *ctx, wrk_msg_t **msgs, size_t n)
{
  return wrk_notify_send_prepare (ctx, msgs, n);
}

static int
s_handle (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  if (strcmp (m->msg->type, AT_TYPE_ORDER_EVENT) == 0)
    return wrk_notify_order_event (ctx, m);
  if (strcmp (m->msg->type, AT_TYPE_NOTIFICATION_SEND) == 0)
    return wrk_notify_send_handle (ctx, m);
  snprintf (m->reason, sizeof m->reason, "notify does not handle type %s", m->msg->type);
  return AT_INVALID;
}

static void
s_release (wrk_msg_t *m)
{
  free (m->state);
  m->state = NULL;
}

const wrk_stage_t wrk_stage_notify = {
  .name = AT_STAGE_NOTIFY,
  .setup = s_setup,
  .teardown = s_teardown,
  .prepare = s_prepare,
  .handle = s_handle,
  .release = s_release,
};
