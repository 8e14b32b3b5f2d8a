/* notify, direct sends (direct.h): messages whose bus row is their record.
 *   rule.webhook: the store's webhook provider of store_request.c
 *     (ATENDE_STORE_WEBHOOK_URL, Standard Webhooks signed with
 *     ATENDE_STORE_WEBHOOK_SECRET, its rate limit and breaker), called with
 *     the generic webhook body of type "rule.webhook": id = the bus message
 *     id, kind = the action's name, channel "store", ticket_id, created_at,
 *     and a line of text naming the rule and the event.
 *   lead.notify: the first provider of the email channel's route
 *     (ATENDE_PROVIDER_ROUTES) its guards let through, with the lead's
 *     address, the subject and text route wrote, kind "escalation" and event
 *     type "lead.escalation"; handle marks the lead's escalation_notice. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "direct.h"
#include "at_log.h"
#include "at_store_escalation.h"
#include "domain.pb-c.h"

typedef enum { S_AGAIN = 0, S_DONE, S_DEAD } s_result_t;

/* m->state of a direct message (freed by notify's release). */
typedef struct {
  s_result_t result;
  bool lead;                     /* lead.notify: a notice to mark */
  int64_t escalation_id, lead_id;
  char reason[200];
} s_outcome_t;

typedef struct {
  wrk_msg_t *m;
  s_outcome_t *outcome;
  at_provider_t *route[WRK_NOTIFY_ROUTE_MAX];   /* the providers to try, in order */
  size_t nroute;
  const char *what;              /* "store webhook" | "lead mail" */
  bool calling;                  /* admitted: called in this batch */
  char kind[48];
  char to[AT_ESCALATION_EMAIL_MAX + 1];
  char subject[160], locale[8];
  char text[640];
  at_provider_msg_t msg;
} s_item_t;

static void
s_set (s_outcome_t *o, s_result_t result, const char *reason)
{
  o->result = result;
  at_strlcpy (o->reason, reason, sizeof o->reason);
}

/* A rule.webhook into it; false when the payload is bad (outcome set). */
static bool
s_rule_webhook (s_item_t *it, wrk_notify_state_t *st)
{
  const at_msg_t *msg = it->m->msg;
  Atende__RuleWebhook *w = atende__rule_webhook__unpack (NULL, msg->payload_len, msg->payload);
  bool ok = w && w->ticket_id > 0 && w->name && w->name[0];
  if (ok) {
    at_strlcpy (it->kind, w->name, sizeof it->kind);
    snprintf (it->text, sizeof it->text, "Rule \"%.80s\" fired on ticket %" PRId64 " (%.32s).",
              w->rule ? w->rule : "", w->ticket_id, w->event ? w->event : "");
    it->msg = (at_provider_msg_t) {.id = msg->id, .kind = it->kind, .channel = "store",
                                   .to = "store", .text = it->text, .ticket_id = w->ticket_id,
                                   .created_us = msg->created_us,
                                   .event_type = "rule.webhook"};
    it->route[0] = st->store_hook;
    it->nroute = st->store_hook ? 1 : 0;
    it->what = "store webhook";
    if (!st->store_hook)
      s_set (it->outcome, S_DEAD, "ATENDE_STORE_WEBHOOK_URL is not set");
  } else
    s_set (it->outcome, S_DEAD, "payload is not a RuleWebhook with a ticket and a name");
  atende__rule_webhook__free_unpacked (w, NULL);
  return ok;
}

/* A lead.notify into it; false when the payload is bad (outcome set). */
static bool
s_lead_notify (s_item_t *it, wrk_notify_state_t *st)
{
  const at_msg_t *msg = it->m->msg;
  Atende__LeadNotify *l = atende__lead_notify__unpack (NULL, msg->payload_len, msg->payload);
  bool ok = l && l->escalation_id > 0 && l->lead_id > 0 && l->ticket_id > 0 && l->email
            && strchr (l->email, '@') && l->text && l->text[0];
  if (ok) {
    it->outcome->lead = true;
    it->outcome->escalation_id = l->escalation_id;
    it->outcome->lead_id = l->lead_id;
    at_strlcpy (it->kind, "escalation", sizeof it->kind);
    at_strlcpy (it->to, l->email, sizeof it->to);
    at_strlcpy (it->subject, l->subject ? l->subject : "", sizeof it->subject);
    at_strlcpy (it->locale, l->locale && l->locale[0] ? l->locale : "pt-BR", sizeof it->locale);
    at_strlcpy (it->text, l->text, sizeof it->text);
    it->msg = (at_provider_msg_t) {.id = msg->id, .kind = it->kind, .channel = "email",
                                   .to = it->to, .text = it->text,
                                   .subject = it->subject[0] ? it->subject : NULL,
                                   .locale = it->locale, .ticket_id = l->ticket_id,
                                   .created_us = msg->created_us,
                                   .event_type = "lead.escalation"};
    it->what = "lead mail";
    it->nroute = wrk_providers_route (st->providers, "email", it->route, WRK_NOTIFY_ROUTE_MAX);
    if (it->nroute == 0)
      s_set (it->outcome, S_DEAD, "no provider for the email channel (ATENDE_PROVIDER_ROUTES)");
  } else
    s_set (it->outcome, S_DEAD, "payload is not a LeadNotify with an escalation, a lead, an"
                                " address and a text");
  atende__lead_notify__free_unpacked (l, NULL);
  return ok;
}

/* The batch's direct messages, decoded into items. */
static size_t
s_collect (wrk_msg_t **msgs, size_t n, s_item_t *items, wrk_notify_state_t *st)
{
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    wrk_msg_t *m = msgs[i];
    bool hook = strcmp (m->msg->type, AT_TYPE_RULE_WEBHOOK) == 0;
    if ((!hook && strcmp (m->msg->type, AT_TYPE_LEAD_NOTIFY) != 0) || m->state)
      continue;
    s_outcome_t *o = at_calloc (1, sizeof *o);
    m->state = o;
    s_set (o, S_AGAIN, "not sent");
    s_item_t *it = &items[count];
    memset (it, 0, sizeof *it);
    it->m = m;
    it->outcome = o;
    if (hook ? s_rule_webhook (it, st) : s_lead_notify (it, st))
      count++;
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
          "msg=\"%s %s\" message_id=%s ticket_id=%" PRId64 " kind=%s attempt=%u"
          " status=%ld error=\"%s\"", it->what, pm->outcome == AT_OK ? "sent" : "not sent",
          it->m->msg->id, pm->ticket_id, pm->kind, it->m->msg->attempt, pm->status, pm->error);
  snprintf (why, sizeof why, "%s: %.170s", it->what, pm->error[0] ? pm->error : "no answer");
  if (pm->outcome == AT_OK)
    s_set (it->outcome, S_DONE, "sent");
  else
    s_set (it->outcome, pm->outcome == AT_INVALID ? S_DEAD : S_AGAIN, why);
}

/* The first provider of the item's route its guards let through. */
static at_provider_t *
s_admit (const s_item_t *it)
{
  int64_t now = at_mono_ms (), wait = 0;
  for (size_t i = 0; i < it->nroute; i++)
    if (at_provider_admit (it->route[i], now, &wait) == AT_OK)
      return it->route[i];
  return NULL;
}

int
wrk_notify_direct_prepare (wrk_ctx_t *ctx, wrk_msg_t **msgs, size_t n)
{
  wrk_notify_state_t *st = wrk_ctx_stage_state (ctx);
  s_item_t *items = at_calloc (n ? n : 1, sizeof *items);
  at_provider_call_t *calls = at_calloc (n ? n : 1, sizeof *calls);
  size_t count = s_collect (msgs, n, items, st), k = 0;
  for (size_t i = 0; i < count; i++) {
    if (items[i].outcome->result == S_DEAD)
      continue;
    at_provider_t *p = s_admit (&items[i]);
    char why[200];
    snprintf (why, sizeof why, "%s rate limited or its breaker is open", items[i].what);
    if (!p)
      s_set (items[i].outcome, S_AGAIN, why);
    else {
      items[i].calling = true;
      calls[k++] = (at_provider_call_t) {.provider = p, .msg = &items[i].msg};
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

/* A lead's notice marked sent or failed in the worker's transaction. */
static int
s_mark (wrk_ctx_t *ctx, wrk_msg_t *m, const s_outcome_t *o, bool sent)
{
  int rc = at_store_escalation_notice_done (wrk_ctx_store (ctx), o->escalation_id, o->lead_id,
                                            sent, o->reason, m->msg->attempt);
  if (rc == AT_NOTFOUND)
    at_warn (WRK_NOTIFY_COMP, "msg=\"lead notice not found, nothing marked\" message_id=%s"
             " escalation_id=%" PRId64 " lead_id=%" PRId64, m->msg->id, o->escalation_id,
             o->lead_id);
  else if (rc != AT_OK) {
    snprintf (m->reason, sizeof m->reason, "lead notice not marked: the store failed");
    return AT_AGAIN;
  }
  if (!sent)
    at_error (WRK_NOTIFY_COMP, "msg=\"lead not told of an escalation\" message_id=%s"
              " escalation_id=%" PRId64 " lead_id=%" PRId64 " attempt=%u why=\"%s\"",
              m->msg->id, o->escalation_id, o->lead_id, m->msg->attempt, o->reason);
  return AT_OK;
}

/* A lead's notice is the record of its mail: sent, or failed for good (a
 * 4xx, or the stage's last attempt), the message done either way; a
 * failure that may pass is retried. */
static int
s_lead_handle (wrk_ctx_t *ctx, wrk_msg_t *m, const s_outcome_t *o)
{
  long last = at_config_max_attempts (wrk_ctx_config (ctx), AT_STAGE_NOTIFY);
  if (o->result == S_DONE || o->result == S_DEAD || m->msg->attempt >= (uint32_t) last)
    return s_mark (ctx, m, o, o->result == S_DONE);
  snprintf (m->reason, sizeof m->reason, "%s", o->reason);
  return AT_AGAIN;
}

int
wrk_notify_direct_handle (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  const s_outcome_t *o = m->state;
  if (!o) {
    snprintf (m->reason, sizeof m->reason, "%s was not attempted", m->msg->type);
    return AT_AGAIN;
  }
  if (o->lead)
    return s_lead_handle (ctx, m, o);
  if (o->result == S_DONE)
    return AT_OK;
  snprintf (m->reason, sizeof m->reason, "%s", o->reason);
  return o->result == S_DEAD ? AT_INVALID : AT_AGAIN;
}
