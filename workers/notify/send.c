/* notify, notification.send: provider calls happen in prepare, outside the
 * worker's transaction, bracketed by short transactions of their own:
 *
 *   claim    lock each notification, choose its channel (channel_choice.c),
 *            then hold it (quiet hours, frequency cap, rate limit, open
 *            breaker), fail it (no channel left) or record "sending on
 *            channel C through provider P, attempt n"            COMMIT
 *   call     all calls of the batch at once (curl multi), leases kept alive
 *   failover a retryable answer moves the call to the channel's next
 *            provider: recorded (result of P, sending through Q)  COMMIT, call
 *   record   each answer: delivered (with the provider's id), pending for a
 *            retry, or the channel failed for good               COMMIT
 *
 * handle then settles each bus message: done; done plus a new
 * notification.send due later (a retry after backoff/Retry-After, a hold, the
 * next channel: recorded as not_before, since the loop's own retry delay
 * cannot carry Retry-After); or dead-lettered with the reason. The
 * notification's UUID is the idempotency key of every call. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "notify.h"
#include "at_log.h"
#include "at_order.h"
#include "at_store_survey.h"
#include "domain.pb-c.h"

typedef enum { S_AGAIN, S_DONE, S_RESCHEDULE, S_DEAD } s_result_t;

/* m->state of a notification.send message. */
typedef struct {
  s_result_t result;
  int64_t not_before_us;       /* S_RESCHEDULE: 0 now */
  char id[AT_ID_LEN];
  char reason[200];
} s_outcome_t;

/* Per-batch work of one notification. */
typedef struct {
  wrk_msg_t *m;
  s_outcome_t *outcome;
  at_notification_ctx_t ctx;
  wrk_choice_t choice;
  at_provider_t *route[WRK_NOTIFY_ROUTE_MAX];
  bool tried[WRK_NOTIFY_ROUTE_MAX];
  size_t nroute, current, previous;
  bool calling;                /* a call goes out this round */
  bool unrecorded;             /* a call's answer is still to be recorded */
  bool early;                  /* delivered, to be recorded at the next flush */
  char mode[WRK_NOTIFY_TEMPLATE_LEN + 16];   /* whatsapp_mode recorded */
  char survey_kind[8];                       /* a survey's: csat | nps (the WhatsApp list) */
  int attempts;
  at_provider_msg_t msg;
} s_item_t;

typedef struct {
  wrk_ctx_t *ctx;
  wrk_notify_state_t *state;
  at_store_t *store;
  s_item_t *items;
  size_t count;
  size_t nearly;               /* items with early set */
  int64_t flushed_ms;
} s_batch_t;

#define S_FLUSH_MS 20          /* deliveries are recorded at least this often */

static void
s_set (s_outcome_t *o, s_result_t result, int64_t not_before_us, const char *reason)
{
  o->result = result;
  o->not_before_us = not_before_us;
  at_strlcpy (o->reason, reason ? reason : "", sizeof o->reason);
}

static uint64_t
s_rand (wrk_notify_state_t *st)
{
  uint64_t x = st->rng ? st->rng : 0x9E3779B97F4A7C15ull;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  st->rng = x;
  return x;
}

static bool
s_seen_in_batch (const s_item_t *items, size_t count, const char *id)
{
  for (size_t i = 0; i < count; i++)
    if (strcmp (items[i].outcome->id, id) == 0)
      return true;
  return false;
}

/* Decodes the batch's notification.send messages. */
static size_t
s_collect (wrk_msg_t **msgs, size_t n, s_item_t *items)
{
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    wrk_msg_t *m = msgs[i];
    if (strcmp (m->msg->type, AT_TYPE_NOTIFICATION_SEND) != 0 || m->state)
      continue;
    s_outcome_t *o = at_calloc (1, sizeof *o);
    m->state = o;
    s_set (o, S_AGAIN, 0, "not delivered");
    Atende__NotificationSend *pb = atende__notification_send__unpack (NULL, m->msg->payload_len,
                                                                      m->msg->payload);
    if (!pb || !at_uuid_valid (pb->notification_id))
      s_set (o, S_DEAD, 0, pb ? "notification_id is not a UUID"
                              : "payload is not a NotificationSend");
    else if (s_seen_in_batch (items, count, pb->notification_id))
      s_set (o, S_DONE, 0, "same notification earlier in this batch");
    else {
      at_strlcpy (o->id, pb->notification_id, sizeof o->id);
      items[count++] = (s_item_t) {.m = m, .outcome = o};
    }
    if (pb)
      atende__notification_send__free_unpacked (pb, NULL);
  }
  return count;
}

static bool
s_routable (void *arg, const char *channel)
{
  at_provider_t *route[WRK_NOTIFY_ROUTE_MAX];
  return wrk_providers_route (arg, channel, route, WRK_NOTIFY_ROUTE_MAX) > 0;
}

static wrk_choice_policy_t
s_choice_policy (s_batch_t *b)
{
  const at_config_t *cfg = wrk_ctx_config (b->ctx);
  at_provider_t *route[WRK_NOTIFY_ROUTE_MAX];
  size_t n = wrk_providers_route (b->state->providers, "whatsapp", route, WRK_NOTIFY_ROUTE_MAX);
  bool direct = false;
  for (size_t i = 0; i < n; i++)
    direct |= at_provider_kind (route[i]) == AT_PROVIDER_WHATSAPP;
  return (wrk_choice_policy_t) {
    .fallback = &cfg->channel_fallback, .whatsapp_templates = &cfg->whatsapp_templates,
    .cap_count = cfg->notify_cap_count, .whatsapp_direct = direct,
    .routable = s_routable, .routable_arg = b->state->providers,
  };
}

/* The first provider of the item's route not tried yet that its guards let
 * through; else *wait_ms says when to come back. */
static bool
s_admit (s_item_t *it, int64_t *wait_ms)
{
  int64_t now = at_mono_ms (), best = -1;
  for (size_t i = 0; i < it->nroute; i++) {
    int64_t wait = 0;
    if (it->tried[i])
      continue;
    if (at_provider_admit (it->route[i], now, &wait) == AT_OK) {
      it->current = i;
      it->tried[i] = true;
      return true;
    }
    if (best < 0 || wait < best)
      best = wait;
  }
  *wait_ms = best < 0 ? 0 : best;
  return false;
}

/* Marks the item to be recorded as sending (s_sending_write writes them). */
static int
s_record_sending (s_batch_t *b, s_item_t *it)
{
  it->mode[0] = 0;
  if (strcmp (it->choice.channel, "whatsapp") == 0) {
    if (it->choice.template_name[0])
      snprintf (it->mode, sizeof it->mode, "template:%s", it->choice.template_name);
    else
      at_strlcpy (it->mode, "text", sizeof it->mode);
  }
  it->calling = true;
  return AT_OK;
}

/* Writes every "sending" of this round in one statement. */
static int
s_sending_write (s_batch_t *b)
{
  at_notification_sending_t *rows = at_calloc (b->count ? b->count : 1, sizeof *rows);
  size_t n = 0;
  for (size_t i = 0; i < b->count; i++) {
    s_item_t *it = &b->items[i];
    if (it->calling)
      rows[n++] = (at_notification_sending_t) {
        .id = it->outcome->id, .channel = it->choice.channel, .recipient = it->choice.recipient,
        .provider = at_provider_name (it->route[it->current]), .whatsapp_mode = it->mode,
        .attempts_out = &it->attempts};
  }
  int rc = at_store_notification_sending_many (b->store, rows, n);
  free (rows);
  return rc;
}

/* After choose said SEND: pick a provider and record the call, or hold. */
static int
s_claim_send (s_batch_t *b, s_item_t *it)
{
  int64_t wait = 0;
  it->nroute = wrk_providers_route (b->state->providers, it->choice.channel, it->route,
                                    WRK_NOTIFY_ROUTE_MAX);
  if (!s_admit (it, &wait)) {
    int64_t until = at_now_us () + (wait > 0 ? wait : 1) * 1000;
    s_set (it->outcome, S_RESCHEDULE, until, "every provider of the channel is rate limited"
                                             " or its breaker is open");
    return at_store_notification_hold (b->store, it->outcome->id, until, it->outcome->reason);
  }
  it->survey_kind[0] = 0;
  if (strcmp (it->ctx.kind, "survey") == 0) {
    int rc = at_store_survey_kind_of_notification (b->store, it->outcome->id, it->survey_kind);
    if (rc != AT_OK && rc != AT_NOTFOUND)
      return rc;
  }
  return s_record_sending (b, it);
}

/* One notification in the claim transaction (its context already read). */
static int
s_claim_one (s_batch_t *b, s_item_t *it, const wrk_choice_policy_t *policy)
{
  const at_config_t *cfg = wrk_ctx_config (b->ctx);
  if (!it->ctx.id[0]) {
    s_set (it->outcome, S_DEAD, 0, "unknown notification");
    return AT_OK;
  }
  if (strcmp (it->ctx.status, "delivered") == 0 || strcmp (it->ctx.status, "failed") == 0) {
    s_set (it->outcome, S_DONE, 0, "already delivered or failed");
    return AT_OK;
  }
  if (it->ctx.attempts >= cfg->max_attempts) {
    char why[200];
    snprintf (why, sizeof why, "gave up after %d provider calls", it->ctx.attempts);
    s_set (it->outcome, S_DEAD, 0, why);
    return at_store_notification_fail (b->store, it->outcome->id, why);
  }
  wrk_notify_choose (&it->ctx, policy, &it->choice);
  switch (it->choice.action) {
  case WRK_CHOICE_HOLD:
    s_set (it->outcome, S_RESCHEDULE, it->choice.hold_until_us, it->choice.reason);
    return at_store_notification_hold (b->store, it->outcome->id, it->choice.hold_until_us,
                                       it->choice.reason);
  case WRK_CHOICE_NONE:
    s_set (it->outcome, S_DEAD, 0, it->choice.reason);
    return at_store_notification_fail (b->store, it->outcome->id, it->choice.reason);
  case WRK_CHOICE_SEND:
  default:
    return s_claim_send (b, it);
  }
}

static int
s_claim (s_batch_t *b)
{
  wrk_choice_policy_t policy = s_choice_policy (b);
  const char **ids = at_calloc (b->count, sizeof *ids);
  at_notification_ctx_t *ctx = at_calloc (b->count, sizeof *ctx);
  for (size_t i = 0; i < b->count; i++)
    ids[i] = b->items[i].outcome->id;
  int rc = at_store_notification_begin (b->store);
  if (rc == AT_OK)
    rc = at_store_notification_contexts (b->store, ids, b->count, &b->state->policy, ctx);
  for (size_t i = 0; i < b->count; i++)
    b->items[i].ctx = ctx[i];   /* owned by the item from here (cleared in prepare) */
  free (ctx);
  free (ids);
  for (size_t i = 0; rc == AT_OK && i < b->count; i++)
    rc = s_claim_one (b, &b->items[i], &policy);
  if (rc == AT_OK)
    rc = s_sending_write (b);
  if (rc == AT_OK)
    rc = at_store_commit (b->store);
  if (rc != AT_OK) {
    at_store_rollback (b->store);
    for (size_t i = 0; i < b->count; i++) {
      b->items[i].calling = false;
      s_set (b->items[i].outcome, S_AGAIN, 0, "store unavailable before delivery");
    }
  }
  return rc;
}

static void
s_message (s_item_t *it, const char *default_locale)
{
  at_provider_msg_t *pm = &it->msg;
  memset (pm, 0, sizeof *pm);
  pm->id = it->outcome->id;
  pm->kind = it->ctx.kind;
  pm->channel = it->choice.channel;
  pm->to = it->choice.recipient;
  pm->text = it->ctx.body;
  pm->order_id = it->ctx.order_id;
  pm->ticket_id = it->ctx.ticket_id;
  pm->created_us = it->ctx.created_us;
  pm->template_name = it->choice.template_name[0] ? it->choice.template_name : NULL;
  pm->template_lang = it->choice.template_lang;
  pm->survey_kind = it->survey_kind[0] ? it->survey_kind : NULL;
  pm->locale = at_locale_pick (it->ctx.locale, default_locale);
}

/* Records the deliveries answered since the last flush, in one short
 * transaction, so that a worker killed in the middle of a long batch sends
 * again only what was in flight. s_record writes them again, harmlessly. */
static void
s_flush (s_batch_t *b)
{
  if (b->nearly == 0 || at_store_notification_begin (b->store) != AT_OK)
    return;
  int rc = AT_OK;
  for (size_t i = 0; rc == AT_OK && i < b->count; i++) {
    s_item_t *it = &b->items[i];
    if (it->early)
      rc = at_store_notification_result (b->store, it->outcome->id, AT_OK, it->choice.channel,
                                         at_provider_name (it->route[it->current]),
                                         it->msg.provider_message_id, it->msg.status, NULL);
  }
  if (rc == AT_OK && at_store_commit (b->store) == AT_OK) {
    for (size_t i = 0; i < b->count; i++)
      b->items[i].early = false;
    b->nearly = 0;
  } else
    at_store_rollback (b->store);
  b->flushed_ms = at_mono_ms ();
}

static void
s_on_done (at_provider_call_t *call, void *arg)
{
  s_batch_t *b = arg;
  if (call->msg->outcome != AT_OK)
    return;
  s_item_t *it = (s_item_t *) ((char *) call->msg - offsetof (s_item_t, msg));
  it->early = true;
  b->nearly++;
  if (at_mono_ms () - b->flushed_ms >= S_FLUSH_MS)
    s_flush (b);
}

static void
s_on_tick (void *arg)
{
  s_batch_t *b = arg;
  wrk_ctx_keepalive (b->ctx);
  s_flush (b);
}

/* One round: every item with calling set goes out at once. */
static void
s_call_round (s_batch_t *b)
{
  at_provider_call_t *calls = at_calloc (b->count, sizeof *calls);
  size_t n = 0;
  for (size_t i = 0; i < b->count; i++) {
    s_item_t *it = &b->items[i];
    if (!it->calling)
      continue;
    s_message (it, wrk_ctx_config (b->ctx)->default_locale);
    calls[n++] = (at_provider_call_t) {.provider = it->route[it->current], .msg = &it->msg};
    it->unrecorded = true;
  }
  at_sender_hooks_t hooks = {.done = s_on_done, .tick = s_on_tick, .arg = b,
                             .tick_ms = S_FLUSH_MS};
  b->flushed_ms = at_mono_ms ();
  at_sender_run (wrk_providers_sender (b->state->providers), calls, n, &hooks);
  s_flush (b);
  int64_t now = at_mono_ms ();
  for (size_t i = 0; i < n; i++)
    at_provider_observe (calls[i].provider, calls[i].msg, now);
  for (size_t i = 0; i < b->count; i++)
    b->items[i].calling = false;
  free (calls);
}

/* The failover transaction rolled back: the moved calls do not go out and
 * their first answers are recorded as they were. */
static void
s_failover_undo (s_batch_t *b)
{
  for (size_t k = 0; k < b->count; k++)
    if (b->items[k].calling) {
      b->items[k].calling = false;
      b->items[k].unrecorded = true;
      b->items[k].current = b->items[k].previous;
    }
}

/* Retryable answers move to the channel's next provider now: the failed
 * call and the new one are recorded before it goes. */
static bool
s_failover (s_batch_t *b)
{
  size_t moved = 0;
  if (at_store_notification_begin (b->store) != AT_OK)
    return false;
  for (size_t i = 0; i < b->count; i++) {
    s_item_t *it = &b->items[i];
    int64_t wait;
    if (!it->unrecorded || it->msg.outcome != AT_AGAIN)
      continue;
    size_t failed = it->current;
    it->previous = failed;
    if (!s_admit (it, &wait))
      continue;
    int rc = at_store_notification_result (b->store, it->outcome->id, AT_AGAIN,
                                           it->choice.channel, at_provider_name (it->route[failed]),
                                           NULL, it->msg.status, it->msg.error);
    if (rc == AT_OK)
      rc = s_record_sending (b, it);
    if (rc != AT_OK) {
      at_store_rollback (b->store);
      s_failover_undo (b);
      return false;
    }
    it->unrecorded = false;
    at_info (WRK_NOTIFY_COMP, "msg=\"failover\" notification_id=%s channel=%s from=%s to=%s"
             " error=\"%s\"", it->outcome->id, it->choice.channel,
             at_provider_name (it->route[failed]), at_provider_name (it->route[it->current]),
             it->msg.error);
    moved++;
  }
  if (s_sending_write (b) != AT_OK || at_store_commit (b->store) != AT_OK) {
    at_store_rollback (b->store);
    s_failover_undo (b);
    return false;
  }
  return moved > 0;
}

/* The outcome after a call's answer was recorded. */
static int
s_settle_answer (s_batch_t *b, s_item_t *it)
{
  const at_config_t *cfg = wrk_ctx_config (b->ctx);
  const at_provider_msg_t *pm = &it->msg;
  if (pm->outcome == AT_OK) {
    s_set (it->outcome, S_DONE, 0, "delivered");
    return AT_OK;
  }
  if (pm->outcome == AT_AGAIN) {
    int64_t delay = at_provider_backoff_ms (it->attempts, cfg->retry_base_ms, cfg->retry_max_ms,
                                            pm->retry_after_ms, s_rand (b->state));
    s_set (it->outcome, S_RESCHEDULE, at_now_us () + delay * 1000, pm->error);
    return AT_OK;
  }
  /* Permanent for this channel: the next channel, if the customer has one. */
  size_t used = strlen (it->ctx.failed_channels);
  snprintf (it->ctx.failed_channels + used, sizeof it->ctx.failed_channels - used, "%s%s",
            used ? "," : "", it->choice.channel);
  wrk_choice_policy_t policy = s_choice_policy (b);
  char failed_channel[16];
  at_strlcpy (failed_channel, it->choice.channel, sizeof failed_channel);
  wrk_notify_choose (&it->ctx, &policy, &it->choice);
  char why[200];
  snprintf (why, sizeof why, "%s failed for good: %.150s", failed_channel, pm->error);
  if (it->choice.action == WRK_CHOICE_NONE) {
    s_set (it->outcome, S_DEAD, 0, why);
    return at_store_notification_fail (b->store, it->outcome->id, why);
  }
  s_set (it->outcome, S_RESCHEDULE,
         it->choice.action == WRK_CHOICE_HOLD ? it->choice.hold_until_us : 0, why);
  return AT_OK;
}

static void
s_record (s_batch_t *b)
{
  int rc = at_store_notification_begin (b->store);
  for (size_t i = 0; rc == AT_OK && i < b->count; i++) {
    s_item_t *it = &b->items[i];
    if (!it->unrecorded)
      continue;
    const at_provider_msg_t *pm = &it->msg;
    rc = at_store_notification_result (b->store, it->outcome->id, pm->outcome, it->choice.channel,
                                       at_provider_name (it->route[it->current]),
                                       pm->provider_message_id, pm->status, pm->error);
    at_log (pm->outcome == AT_OK ? AT_LOG_INFO : AT_LOG_WARN, WRK_NOTIFY_COMP,
            "msg=\"notification %s\" notification_id=%s message_id=%s channel=%s provider=%s"
            " attempt=%d status=%ld provider_message_id=%s error=\"%s\"",
            pm->outcome == AT_OK ? "delivered" : "not delivered", it->outcome->id,
            it->m->msg->id, it->choice.channel, at_provider_name (it->route[it->current]),
            it->attempts, pm->status, pm->provider_message_id, pm->error);
    if (rc == AT_OK)
      rc = s_settle_answer (b, it);
  }
  if (rc == AT_OK)
    rc = at_store_commit (b->store);
  if (rc != AT_OK) {
    at_store_rollback (b->store);
    for (size_t i = 0; i < b->count; i++)
      if (b->items[i].unrecorded)
        s_set (b->items[i].outcome, S_AGAIN, 0, "delivery outcome not recorded; will resend");
  }
}

int
wrk_notify_send_prepare (wrk_ctx_t *ctx, wrk_msg_t **msgs, size_t n)
{
  s_batch_t b = {.ctx = ctx, .state = wrk_ctx_stage_state (ctx), .store = wrk_ctx_store (ctx)};
  b.items = at_calloc (n ? n : 1, sizeof *b.items);
  b.count = s_collect (msgs, n, b.items);
  int64_t t0 = at_mono_us (), t1 = t0, t2 = t0;
  if (b.count > 0 && s_claim (&b) == AT_OK) {
    t1 = at_mono_us ();
    s_call_round (&b);
    for (int round = 1; round < WRK_NOTIFY_ROUTE_MAX && s_failover (&b); round++)
      s_call_round (&b);
    t2 = at_mono_us ();
    s_record (&b);
    at_debug (WRK_NOTIFY_COMP, "msg=\"send batch\" notifications=%zu claim_us=%lld calls_us=%lld"
              " record_us=%lld", b.count, (long long) (t1 - t0), (long long) (t2 - t1),
              (long long) (at_mono_us () - t2));
  }
  for (size_t i = 0; i < b.count; i++)
    at_notification_ctx_clear (&b.items[i].ctx);
  free (b.items);
  int64_t now = at_mono_ms ();
  if (now - b.state->last_log_ms >= 60000) {
    b.state->last_log_ms = now;
    wrk_providers_log (b.state->providers);
  }
  return AT_OK;
}

int
wrk_notify_send_handle (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  const s_outcome_t *o = m->state;
  if (!o) {
    snprintf (m->reason, sizeof m->reason, "delivery was not attempted");
    return AT_AGAIN;
  }
  switch (o->result) {
  case S_DONE:
    return AT_OK;
  case S_RESCHEDULE: {
    at_msg_t *next = at_notification_send_msg (o->id, m->msg->trace_id);
    if (!next) {
      snprintf (m->reason, sizeof m->reason, "cannot write the next notification.send");
      return AT_ERROR;
    }
    next->not_before_us = o->not_before_us;
    return wrk_ctx_produce (ctx, &next);
  }
  case S_DEAD:
    snprintf (m->reason, sizeof m->reason, "%s", o->reason);
    return AT_INVALID;
  case S_AGAIN:
  default:
    snprintf (m->reason, sizeof m->reason, "%s", o->reason);
    return AT_AGAIN;
  }
}
