/* notify: the stage that tells customers. Message types:
 *   order.event          -> order state machine, order_status notification
 *   order.check_delay    -> delay detection (delay.c)
 *   notification.send    -> channel choice and provider calls (prepare), outcome (handle)
 *   notification.status  -> a provider's delivery report
 *   store.request        -> a self-service request POSTed to the store (store_request.c)
 *   rule.webhook         -> a rule's webhook POSTed to the store (direct.c)
 *   lead.notify          -> an escalation mailed to a team's lead (direct.c) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "notify.h"
#include "orders.h"
#include "store_request.h"
#include "direct.h"
#include "at_log.h"

/* "21-8" -> 21, 8; "" -> -1, -1 (no quiet hours). */
static int
s_quiet_hours (const char *text, int *start, int *end)
{
  char a[8], b[8];
  long s, e;
  *start = *end = -1;
  if (!text || !*text)
    return AT_OK;
  const char *dash = strchr (text, '-');
  if (!dash || dash == text || (size_t) (dash - text) >= sizeof a || strlen (dash + 1) >= sizeof b)
    return AT_INVALID;
  memcpy (a, text, (size_t) (dash - text));
  a[dash - text] = 0;
  at_strlcpy (b, dash + 1, sizeof b);
  if (at_parse_long (a, 0, 23, &s) != AT_OK || at_parse_long (b, 0, 23, &e) != AT_OK || s == e)
    return AT_INVALID;
  *start = (int) s;
  *end = (int) e;
  return AT_OK;
}

static int
s_setup (wrk_ctx_t *ctx, void **stage_state)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  wrk_notify_state_t *st = at_calloc (1, sizeof *st);
  if (s_quiet_hours (cfg->quiet_hours, &st->policy.quiet_start, &st->policy.quiet_end)
      != AT_OK) {
    at_error (WRK_NOTIFY_COMP, "msg=\"ATENDE_QUIET_HOURS must be start-end in local hours"
              " 0-23, e.g. 21-8, or empty\" value=\"%s\"", cfg->quiet_hours);
    free (st);
    return AT_ERROR;
  }
  if (!at_store_timezone_valid (wrk_ctx_store (ctx), cfg->store_timezone)) {
    at_error (WRK_NOTIFY_COMP, "msg=\"ATENDE_STORE_TIMEZONE is not a time zone PostgreSQL"
              " knows (IANA name, e.g. America/Sao_Paulo), or the store is down\" value=\"%s\"",
              cfg->store_timezone);
    free (st);
    return AT_ERROR;
  }
  st->providers = wrk_providers_new (cfg, wrk_ctx_metrics (ctx));
  if (!st->providers) {
    at_error (WRK_NOTIFY_COMP, "msg=\"notify cannot start: providers not configured\"");
    free (st);
    return AT_ERROR;
  }
  if (wrk_notify_store_hook_new (cfg, &st->store_hook) != AT_OK) {
    wrk_providers_destroy (&st->providers);
    free (st);
    return AT_ERROR;
  }
  st->policy.store_timezone = cfg->store_timezone;
  st->policy.cap_window_min = cfg->notify_cap_window_min;
  st->policy.urgent_window_min = cfg->urgent_window_min;
  st->rng = (uint64_t) at_now_us () ^ ((uint64_t) (uintptr_t) st << 17);
  st->last_log_ms = at_mono_ms ();
  *stage_state = st;
  return AT_OK;
}

static void
s_teardown (void **stage_state)
{
  wrk_notify_state_t *st = *stage_state;
  if (st) {
    wrk_providers_log (st->providers);
    wrk_providers_destroy (&st->providers);
    at_provider_destroy (&st->store_hook);
  }
  free (st);
  *stage_state = NULL;
}

static int
s_prepare (wrk_ctx_t *ctx, wrk_msg_t **msgs, size_t n)
{
  wrk_notify_store_request_prepare (ctx, msgs, n);
  wrk_notify_direct_prepare (ctx, msgs, n);
  return wrk_notify_send_prepare (ctx, msgs, n);
}

static int
s_handle (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  if (strcmp (m->msg->type, AT_TYPE_ORDER_EVENT) == 0)
    return wrk_notify_order_event (ctx, m);
  if (strcmp (m->msg->type, AT_TYPE_ORDER_CHECK_DELAY) == 0)
    return wrk_notify_order_check_delay (ctx, m);
  if (strcmp (m->msg->type, AT_TYPE_NOTIFICATION_SEND) == 0)
    return wrk_notify_send_handle (ctx, m);
  if (strcmp (m->msg->type, AT_TYPE_NOTIFICATION_STATUS) == 0)
    return wrk_notify_status_handle (ctx, m);
  if (strcmp (m->msg->type, AT_TYPE_STORE_REQUEST) == 0)
    return wrk_notify_store_request_handle (ctx, m);
  if (strcmp (m->msg->type, AT_TYPE_RULE_WEBHOOK) == 0
      || strcmp (m->msg->type, AT_TYPE_LEAD_NOTIFY) == 0)
    return wrk_notify_direct_handle (ctx, m);
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
