/* notify, rule.webhook (rule_webhook.h): the store's webhook provider of
 * store_request.c (ATENDE_STORE_WEBHOOK_URL, Standard Webhooks signed with
 * ATENDE_STORE_WEBHOOK_SECRET, its rate limit and breaker), called with the
 * generic webhook body of type "rule.webhook": id = the bus message id,
 * kind = the action's name, channel "store", ticket_id, created_at, and a
 * line of text naming the rule and the event. Nothing is written to
 * PostgreSQL: the message itself is the record, settled by handle. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rule_webhook.h"
#include "at_log.h"
#include "domain.pb-c.h"

typedef enum { S_AGAIN = 0, S_DONE, S_DEAD } s_result_t;

/* m->state of a rule.webhook message (freed by notify's release). */
typedef struct {
  s_result_t result;
  char reason[200];
} s_outcome_t;

typedef struct {
  wrk_msg_t *m;
  s_outcome_t *outcome;
  bool calling;                  /* admitted: called in this batch */
  char kind[48];
  char text[256];
  at_provider_msg_t msg;
} s_item_t;

static void
s_set (s_outcome_t *o, s_result_t result, const char *reason)
{
  o->result = result;
  at_strlcpy (o->reason, reason, sizeof o->reason);
}

/* The batch's rule.webhook messages, decoded into items and their body. */
static size_t
s_collect (wrk_msg_t **msgs, size_t n, s_item_t *items)
{
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    wrk_msg_t *m = msgs[i];
    if (strcmp (m->msg->type, AT_TYPE_RULE_WEBHOOK) != 0 || m->state)
      continue;
    s_outcome_t *o = at_calloc (1, sizeof *o);
    m->state = o;
    Atende__RuleWebhook *w = atende__rule_webhook__unpack (NULL, m->msg->payload_len,
                                                           m->msg->payload);
    if (!w || w->ticket_id <= 0 || !w->name || !w->name[0]) {
      s_set (o, S_DEAD, "payload is not a RuleWebhook with a ticket and a name");
      atende__rule_webhook__free_unpacked (w, NULL);
      continue;
    }
    s_item_t *it = &items[count++];
    memset (it, 0, sizeof *it);
    it->m = m;
    it->outcome = o;
    s_set (o, S_AGAIN, "not sent");
    at_strlcpy (it->kind, w->name, sizeof it->kind);
    snprintf (it->text, sizeof it->text, "Rule \"%.80s\" fired on ticket %" PRId64 " (%.32s).",
              w->rule ? w->rule : "", w->ticket_id, w->event ? w->event : "");
    it->msg = (at_provider_msg_t) {.id = m->msg->id, .kind = it->kind, .channel = "store",
                                   .to = "store", .text = it->text, .ticket_id = w->ticket_id,
                                   .created_us = m->msg->created_us,
                                   .event_type = "rule.webhook"};
    atende__rule_webhook__free_unpacked (w, NULL);
  }
  return count;
}

static void
s_on_tick (void *arg)
{
  wrk_ctx_keepalive (arg);
}

/* One answer into the outcome. */
static void
s_observe (s_item_t *it)
{
  const at_provider_msg_t *pm = &it->msg;
  char why[200];
  at_log (pm->outcome == AT_OK ? AT_LOG_INFO : AT_LOG_WARN, WRK_NOTIFY_COMP,
          "msg=\"rule webhook %s\" message_id=%s ticket_id=%" PRId64 " kind=%s attempt=%u"
          " status=%ld error=\"%s\"", pm->outcome == AT_OK ? "sent" : "not sent", it->m->msg->id,
          pm->ticket_id, pm->kind, it->m->msg->attempt, pm->status, pm->error);
  snprintf (why, sizeof why, "store webhook: %.180s", pm->error[0] ? pm->error : "no answer");
  if (pm->outcome == AT_OK)
    s_set (it->outcome, S_DONE, "sent");
  else
    s_set (it->outcome, pm->outcome == AT_INVALID ? S_DEAD : S_AGAIN, why);
}

int
wrk_notify_rule_webhook_prepare (wrk_ctx_t *ctx, wrk_msg_t **msgs, size_t n)
{
  wrk_notify_state_t *st = wrk_ctx_stage_state (ctx);
  s_item_t *items = at_calloc (n ? n : 1, sizeof *items);
  at_provider_call_t *calls = at_calloc (n ? n : 1, sizeof *calls);
  size_t count = s_collect (msgs, n, items), k = 0;
  int64_t wait = 0;
  for (size_t i = 0; i < count; i++) {
    if (!st->store_hook)
      s_set (items[i].outcome, S_DEAD, "ATENDE_STORE_WEBHOOK_URL is not set");
    else if (at_provider_admit (st->store_hook, at_mono_ms (), &wait) != AT_OK)
      s_set (items[i].outcome, S_AGAIN, "store webhook rate limited or its breaker is open");
    else {
      items[i].calling = true;
      calls[k++] = (at_provider_call_t) {.provider = st->store_hook, .msg = &items[i].msg};
    }
  }
  at_sender_hooks_t hooks = {.tick = s_on_tick, .arg = ctx};
  if (k > 0)
    at_sender_run (wrk_providers_sender (st->providers), calls, k, &hooks);
  int64_t now = at_mono_ms ();
  for (size_t i = 0; i < k; i++)
    at_provider_observe (calls[i].provider, calls[i].msg, now);
  for (size_t i = 0; i < count; i++)
    if (items[i].calling)
      s_observe (&items[i]);
  free (calls);
  free (items);
  return AT_OK;
}

int
wrk_notify_rule_webhook_handle (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  (void) ctx;
  const s_outcome_t *o = m->state;
  if (!o) {
    snprintf (m->reason, sizeof m->reason, "rule webhook was not attempted");
    return AT_AGAIN;
  }
  if (o->result == S_DONE)
    return AT_OK;
  snprintf (m->reason, sizeof m->reason, "%s", o->reason);
  return o->result == S_DEAD ? AT_INVALID : AT_AGAIN;
}
