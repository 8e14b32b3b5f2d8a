/* notify stage internals: order events (order_event.c), deliveries
 * (send.c), the choice of channel (channel_choice.c), the providers of each
 * channel (provider_routes.c) and providers' delivery reports
 * (provider_status.c). */
#ifndef WRK_NOTIFY_H
#define WRK_NOTIFY_H

#include "wrk.h"
#include "at_store_notification.h"
#include "at_provider.h"
#include "at_channel.h"

#define WRK_NOTIFY_COMP "notify"
#define WRK_NOTIFY_ROUTE_MAX 4        /* providers of one channel (failover order) */
#define WRK_NOTIFY_TEMPLATE_LEN 64

/* order.event: applies an OrderEvent and queues the customer's message. */
int wrk_notify_order_event (wrk_ctx_t *ctx, wrk_msg_t *m);

/* notification.send: prepare delivers the batch's notifications (recorded
 * before and after); handle turns each one's outcome into the result. */
int wrk_notify_send_prepare (wrk_ctx_t *ctx, wrk_msg_t **msgs, size_t n);
int wrk_notify_send_handle (wrk_ctx_t *ctx, wrk_msg_t *m);

/* notification.status: a provider's delivery report (inside the transaction). */
int wrk_notify_status_handle (wrk_ctx_t *ctx, wrk_msg_t *m);

/* --- providers per channel (provider_routes.c) --------------------------- */

typedef struct wrk_providers wrk_providers_t;

/* Parses cfg->provider_routes and creates each provider it names (webhook,
 * webhook2, whatsapp, twilio, smtp), counting in the provider families of
 * metrics (at_provider_metrics_register; NULL: no metrics). NULL (logged) on
 * a bad route or a provider whose settings are missing. */
wrk_providers_t *wrk_providers_new (const at_config_t *cfg, at_metrics_t *metrics);
void wrk_providers_destroy (wrk_providers_t **self_p);
/* The providers of channel in failover order ("*" applies to channels not
 * listed); returns how many (0: the channel cannot be sent to). */
size_t wrk_providers_route (wrk_providers_t *self, const char *channel, at_provider_t **out,
                            size_t cap);
at_sender_t *wrk_providers_sender (wrk_providers_t *self);
/* Logs one line per provider with its breaker state and counters. */
void wrk_providers_log (wrk_providers_t *self);

/* The notify stage's per-thread state. */
typedef struct {
  wrk_providers_t *providers;
  at_provider_t *store_hook;       /* ATENDE_STORE_WEBHOOK_URL (store_request.c); NULL: none */
  at_notification_policy_t policy;
  uint64_t rng;
  int64_t last_log_ms;
} wrk_notify_state_t;

/* --- channel choice (channel_choice.c), pure ----------------------------- */

typedef struct {
  const at_list_t *fallback;              /* "whatsapp,sms,email" */
  const at_list_t *whatsapp_templates;    /* "order_status=order_update,*=generic" */
  long cap_count;                    /* 0: no frequency cap */
  bool whatsapp_direct;              /* WhatsApp goes to Meta's API: the 24 h rule applies */
  /* true when the channel has at least one provider */
  bool (*routable) (void *arg, const char *channel);
  void *routable_arg;
} wrk_choice_policy_t;

typedef enum { WRK_CHOICE_SEND, WRK_CHOICE_HOLD, WRK_CHOICE_NONE } wrk_choice_action_t;

typedef struct {
  wrk_choice_action_t action;
  bool urgent;
  char channel[16];
  char recipient[AT_HANDLE_MAX + 1];
  char template_name[WRK_NOTIFY_TEMPLATE_LEN];   /* "" free text; else WhatsApp template */
  char template_lang[8];
  int64_t hold_until_us;
  char reason[200];
} wrk_choice_t;

/* Decides how (or whether now) the notification goes out:
 *   urgent (a reply to a customer who just wrote) is never held;
 *   otherwise quiet hours, then the frequency cap, hold it (HOLD, until);
 *   channels are tried in order: for replies the ticket's channel first, for
 *   the rest the customer's preferred channel first; then the notification's
 *   own channel, then the fallback order; a channel is skipped when it failed
 *   for good, has no provider, or the customer has no identity there;
 *   WhatsApp outside the 24 h window needs the kind's approved template
 *   (when atende talks to Meta itself: policy->whatsapp_direct).
 * NONE when no channel is left (reason says why). */
void wrk_notify_choose (const at_notification_ctx_t *ctx, const wrk_choice_policy_t *policy,
                        wrk_choice_t *out);
/* The template for kind in a "kind=name,...,*=name" list; false when none. */
bool wrk_notify_template_for (const at_list_t *templates, const char *kind, char *out, size_t cap);

#endif
