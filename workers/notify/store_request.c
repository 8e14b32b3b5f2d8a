/* notify, store.request: a customer's return or cancel request told to the
 * store's systems (ATENDE_STORE_WEBHOOK_URL), the way send.c tells
 * providers: the call happens in prepare, outside the worker's transaction,
 * bracketed by short transactions of its own:
 *
 *   claim   lock the request; still requested: attempts + 1      COMMIT
 *   call    POST, Standard Webhooks signed, webhook-id and Idempotency-Key
 *           = the request id (the store de-duplicates a repeat)
 *   record  2xx: sent_to_store; 4xx (or the last attempt): failed, and the
 *           ticket to people; otherwise the attempt's error      COMMIT
 *
 * handle then settles the message: done, retried by the loop (backoff and
 * jitter), or dead-lettered with the reason. The body is the generic
 * webhook's (lib/outbound provider_formats.c) with type "store.request":
 * id = request id, kind
 * return_request | cancel_request, channel "store", order_id, ticket_id,
 * created_at, and a line of text for people reading the store's logs. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_request.h"
#include "templates.h"
#include "at_store_selfservice.h"
#include "at_store_ticket.h"
#include "at_text.h"
#include "at_log.h"

typedef enum { S_AGAIN, S_DONE, S_DEAD } s_result_t;

/* m->state of a store.request message (freed by notify's release). */
typedef struct {
  s_result_t result;
  char reason[200];
  int64_t handoff_ticket_id;     /* > 0: failed for good, route hands it to people */
} s_outcome_t;

typedef struct {
  wrk_msg_t *m;
  s_outcome_t *outcome;
  char id[AT_ID_LEN];
  at_selfservice_claim_t claim;
  bool calling;
  char kind[24];
  char text[256];
  at_provider_msg_t msg;
} s_item_t;

int
wrk_notify_store_hook_new (const at_config_t *cfg, at_provider_t **hook_out)
{
  *hook_out = NULL;
  if (!cfg->store_webhook_url[0])
    return AT_OK;
  at_provider_conf_t c = {
    .url = cfg->store_webhook_url, .secret = cfg->store_webhook_secret,
    .timeout_ms = cfg->webhook_timeout_ms, .rate_per_sec = cfg->provider_rate_per_sec,
    .burst = cfg->provider_burst, .breaker_failures = cfg->breaker_failures,
    .breaker_cooldown_ms = cfg->breaker_cooldown_ms,
  };
  *hook_out = at_provider_new ("store", AT_PROVIDER_WEBHOOK, &c);
  if (!*hook_out) {
    at_error (WRK_NOTIFY_COMP, "msg=\"ATENDE_STORE_WEBHOOK_URL is set: ATENDE_STORE_WEBHOOK_SECRET"
              " must be a Standard Webhooks secret (whsec_ + base64)\"");
    return AT_ERROR;
  }
  return AT_OK;
}

static void
s_set (s_outcome_t *o, s_result_t result, const char *reason)
{
  o->result = result;
  at_strlcpy (o->reason, reason, sizeof o->reason);
}

/* The batch's store.request messages, decoded. */
static size_t
s_collect (wrk_msg_t **msgs, size_t n, s_item_t *items)
{
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    wrk_msg_t *m = msgs[i];
    if (strcmp (m->msg->type, AT_TYPE_STORE_REQUEST) != 0 || m->state)
      continue;
    s_outcome_t *o = at_calloc (1, sizeof *o);
    m->state = o;
    s_set (o, S_AGAIN, "not sent");
    s_item_t *it = &items[count];
    memset (it, 0, sizeof *it);
    if (at_selfservice_request_decode (m->msg, it->id) != AT_OK)
      s_set (o, S_DEAD, "payload is not a StoreRequest with a UUID request_id");
    else {
      it->m = m;
      it->outcome = o;
      count++;
    }
  }
  return count;
}

/* Locks each request and counts the attempt of those still to be sent. */
static int
s_claim (at_store_t *store, s_item_t *items, size_t count)
{
  int rc = at_store_notification_begin (store);
  for (size_t i = 0; rc == AT_OK && i < count; i++) {
    s_item_t *it = &items[i];
    rc = at_store_selfservice_claim (store, it->id, &it->claim);
    if (rc == AT_NOTFOUND) {
      s_set (it->outcome, S_DEAD, "unknown self-service request");
      rc = AT_OK;
    } else if (rc == AT_OK && strcmp (it->claim.state, "requested") != 0)
      s_set (it->outcome, S_DONE, "already sent or closed");
    else if (rc == AT_OK)
      it->calling = true;
  }
  if (rc == AT_OK)
    rc = at_store_commit (store);
  if (rc != AT_OK) {
    at_store_rollback (store);
    for (size_t i = 0; i < count; i++) {
      items[i].calling = false;
      s_set (items[i].outcome, S_AGAIN, "store unavailable before the call");
    }
  }
  return rc;
}

static void
s_message (s_item_t *it)
{
  at_provider_msg_t *pm = &it->msg;
  snprintf (it->kind, sizeof it->kind, "%s_request", it->claim.kind);
  snprintf (it->text, sizeof it->text, "The customer asked on ticket %" PRId64 " to %s order"
            " %.80s.", it->claim.ticket_id, strcmp (it->claim.kind, "cancel") == 0 ? "cancel"
                                                                                  : "return",
            it->claim.order_id);
  memset (pm, 0, sizeof *pm);
  pm->id = it->id;
  pm->kind = it->kind;
  pm->channel = "store";
  pm->to = "store";
  pm->text = it->text;
  pm->order_id = it->claim.order_id;
  pm->ticket_id = it->claim.ticket_id;
  pm->created_us = it->claim.created_us;
  pm->event_type = "store.request";
}

static void
s_on_tick (void *arg)
{
  wrk_ctx_keepalive (arg);
}

/* Every claimed request goes out at once, through the store's guards. */
static void
s_call (wrk_ctx_t *ctx, wrk_notify_state_t *st, s_item_t *items, size_t count)
{
  at_provider_call_t *calls = at_calloc (count ? count : 1, sizeof *calls);
  size_t n = 0;
  int64_t wait = 0;
  for (size_t i = 0; i < count; i++) {
    s_item_t *it = &items[i];
    if (!it->calling)
      continue;
    if (at_provider_admit (st->store_hook, at_mono_ms (), &wait) != AT_OK) {
      it->calling = false;
      s_set (it->outcome, S_AGAIN, "store webhook rate limited or its breaker is open");
      continue;
    }
    s_message (it);
    calls[n++] = (at_provider_call_t) {.provider = st->store_hook, .msg = &it->msg};
  }
  at_sender_hooks_t hooks = {.tick = s_on_tick, .arg = ctx};
  if (n > 0)
    at_sender_run (wrk_providers_sender (st->providers), calls, n, &hooks);
  int64_t now = at_mono_ms ();
  for (size_t i = 0; i < n; i++)
    at_provider_observe (calls[i].provider, calls[i].msg, now);
  free (calls);
}

/* Failed for good: the request closes failed (its reason kept on the row)
 * and the message is done by handing its ticket to people (handle asks
 * route, in the message's own transaction). */
static int
s_fail (at_store_t *store, s_item_t *it, const char *why)
{
  int64_t ticket_id = 0;
  s_set (it->outcome, S_DONE, why);
  int rc = at_store_selfservice_fail (store, it->id, why, &ticket_id);
  it->outcome->handoff_ticket_id = rc == AT_OK ? ticket_id : 0;
  at_warn (WRK_NOTIFY_COMP, "msg=\"store request failed, ticket to people\" request_id=%s"
           " message_id=%s ticket_id=%" PRId64 " reason=\"%s\"", it->id, it->m->msg->id,
           ticket_id, why);
  return rc;
}

/* One answer recorded. */
static int
s_record_one (wrk_ctx_t *ctx, s_item_t *it)
{
  at_store_t *store = wrk_ctx_store (ctx);
  const at_provider_msg_t *pm = &it->msg;
  char why[200];
  at_log (pm->outcome == AT_OK ? AT_LOG_INFO : AT_LOG_WARN, WRK_NOTIFY_COMP,
          "msg=\"store request %s\" request_id=%s message_id=%s order_id=\"%s\" kind=%s"
          " attempt=%d status=%ld error=\"%s\"", pm->outcome == AT_OK ? "sent" : "not sent",
          it->id, it->m->msg->id, it->claim.order_id, it->claim.kind, it->claim.attempts,
          pm->status, pm->error);
  if (pm->outcome == AT_OK) {
    s_set (it->outcome, S_DONE, "sent");
    return at_store_selfservice_sent (store, it->id, pm->status);
  }
  snprintf (why, sizeof why, "store webhook: %.180s", pm->error[0] ? pm->error : "no answer");
  long max = at_config_max_attempts (wrk_ctx_config (ctx), AT_STAGE_NOTIFY);
  if (pm->outcome == AT_INVALID || (long) it->m->msg->attempt >= max)
    return s_fail (store, it, why);
  s_set (it->outcome, S_AGAIN, why);
  return at_store_selfservice_attempt_failed (store, it->id, pm->status, pm->error);
}

static void
s_record (wrk_ctx_t *ctx, s_item_t *items, size_t count)
{
  at_store_t *store = wrk_ctx_store (ctx);
  int rc = at_store_notification_begin (store);
  for (size_t i = 0; rc == AT_OK && i < count; i++)
    if (items[i].calling)
      rc = s_record_one (ctx, &items[i]);
  if (rc == AT_OK)
    rc = at_store_commit (store);
  if (rc != AT_OK) {
    at_store_rollback (store);
    for (size_t i = 0; i < count; i++)
      if (items[i].calling)
        s_set (items[i].outcome, S_AGAIN, "outcome not recorded; will call again");
  }
}

/* Without a store webhook (the setting was removed after the request was
 * opened): people take the requests over. */
static void
s_no_hook (wrk_ctx_t *ctx, s_item_t *items, size_t count)
{
  at_store_t *store = wrk_ctx_store (ctx);
  int rc = at_store_notification_begin (store);
  for (size_t i = 0; rc == AT_OK && i < count; i++)
    if (items[i].calling)
      rc = s_fail (store, &items[i], "ATENDE_STORE_WEBHOOK_URL is not set");
  if (rc == AT_OK)
    rc = at_store_commit (store);
  if (rc != AT_OK) {
    at_store_rollback (store);
    for (size_t i = 0; i < count; i++)
      s_set (items[i].outcome, S_AGAIN, "store unavailable");
  }
}

int
wrk_notify_store_request_prepare (wrk_ctx_t *ctx, wrk_msg_t **msgs, size_t n)
{
  wrk_notify_state_t *st = wrk_ctx_stage_state (ctx);
  s_item_t *items = at_calloc (n ? n : 1, sizeof *items);
  size_t count = s_collect (msgs, n, items);
  if (count > 0 && s_claim (wrk_ctx_store (ctx), items, count) == AT_OK) {
    if (!st->store_hook)
      s_no_hook (ctx, items, count);
    else {
      s_call (ctx, st, items, count);
      s_record (ctx, items, count);
    }
  }
  free (items);
  return AT_OK;
}

/* ticket.handoff for route: the ticket goes to people with reason. */
static int
s_produce_handoff (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, const char *reason)
{
  at_msg_t *out = at_ticket_handoff_msg (ticket_id, reason, m->msg->trace_id);
  return out ? wrk_ctx_produce (ctx, &out) : AT_ERROR;
}

int
wrk_notify_store_request_handle (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  const s_outcome_t *o = m->state;
  if (!o) {
    snprintf (m->reason, sizeof m->reason, "store request was not attempted");
    return AT_AGAIN;
  }
  if (o->result == S_DONE && o->handoff_ticket_id > 0)
    return s_produce_handoff (ctx, m, o->handoff_ticket_id, "store_request_failed");
  if (o->result == S_DONE)
    return AT_OK;
  snprintf (m->reason, sizeof m->reason, "%s", o->reason);
  return o->result == S_DEAD ? AT_INVALID : AT_AGAIN;
}

/* --- order events that close requests ------------------------------------ */

/* Tells the customer on the request's ticket that the cancel is confirmed;
 * *told_out false when the ticket's channel has no handle of theirs. */
static int
s_tell_cancelled (wrk_ctx_t *ctx, wrk_msg_t *m, const char *order_id,
                  const at_selfservice_closed_t *req, bool *told_out)
{
  at_store_t *store = wrk_ctx_store (ctx);
  char text[WRK_NOTIFY_TEXT_MAX], id[AT_ID_LEN];
  const char *used = NULL;
  at_ticket_t t;
  at_template_vars_t vars = {.order_id = order_id};
  int rc = wrk_notify_render (store, wrk_ctx_config (ctx), "ss_cancel_confirmed", req->locale,
                              &vars, text, sizeof text, &used);
  if (rc == AT_NOTFOUND || rc == AT_INVALID)
    return AT_OK;                 /* the usual cancelled message says it */
  if (rc == AT_OK)
    rc = at_store_ticket_lock (store, req->ticket_id, &t);
  if (rc == AT_OK)
    rc = at_store_notification_for_ticket (store, t.id, "auto_reply", text, id);
  if (rc == AT_NOTFOUND)
    return AT_OK;
  at_ticket_message_t tm = {.ticket_id = t.id, .direction = "out", .author = "bot",
                            .channel = t.channel, .body = text, .bus_message_id = m->msg->id,
                            .language = at_lang_name (at_lang_parse (used ? used
                                                                      : req->locale))};
  if (rc == AT_OK)
    rc = at_store_ticket_message_add (store, &tm, NULL);
  at_msg_t *send = rc == AT_OK ? at_notification_send_msg (id, m->msg->trace_id) : NULL;
  if (rc == AT_OK && !send)
    rc = AT_ERROR;
  if (rc != AT_OK)
    return rc;
  *told_out = true;
  at_info (WRK_NOTIFY_COMP, "msg=\"cancel request confirmed, customer told\" order_id=\"%s\""
           " request_id=%s ticket_id=%" PRId64 " notification_id=%s locale=%s", order_id,
           req->id, t.id, id, used ? used : req->locale);
  return wrk_ctx_produce (ctx, &send);
}

int
wrk_notify_selfservice_event (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__OrderEvent *ev,
                              bool *told_out)
{
  at_store_t *store = wrk_ctx_store (ctx);
  at_selfservice_closed_t req;
  int rc = AT_OK;
  *told_out = false;
  if (strcmp (ev->status, "cancelled") == 0) {
    rc = at_store_selfservice_close (store, ev->order_id, "cancel", "confirmed", &req);
    if (rc == AT_OK && req.closed)
      rc = s_tell_cancelled (ctx, m, ev->order_id, &req, told_out);
  } else if (strcmp (ev->status, "returned") == 0)
    rc = at_store_selfservice_close (store, ev->order_id, "return", "confirmed", &req);
  else if (at_order_status_rank (ev->status) >= at_order_status_rank ("shipped")) {
    rc = at_store_selfservice_close (store, ev->order_id, "cancel", "refused", &req);
    if (rc == AT_OK && req.closed) {
      at_info (WRK_NOTIFY_COMP, "msg=\"cancel request refused: the order %s\" order_id=\"%s\""
               " request_id=%s ticket_id=%" PRId64, ev->status, ev->order_id, req.id,
               req.ticket_id);
      rc = s_produce_handoff (ctx, m, req.ticket_id, "cancel_refused");
    }
  }
  return rc;
}
