/* wrk_batch: one batch of delivered messages in one PostgreSQL transaction.
 *
 *   prepare (outside the transaction)
 *   BEGIN
 *     per message: SAVEPOINT; handle;
 *       AT_OK       mark done (fenced on attempt) + insert what it produced
 *       AT_AGAIN..  ROLLBACK TO SAVEPOINT; retry with backoff, or dead-letter
 *                   after the last attempt
 *       AT_INVALID  ROLLBACK TO SAVEPOINT; dead-letter with the reason
 *     RELEASE SAVEPOINT
 *   COMMIT
 * Any failure of the store itself rolls the whole batch back: nothing of it
 * happened, and the messages go back to the broker as released. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wrk_int.h"
#include "at_log.h"
#include "at_store_bus.h"

#define WRK_COMP "worker"

const at_config_t *
wrk_ctx_config (wrk_ctx_t *ctx)
{
  return ctx->cfg;
}

at_store_t *
wrk_ctx_store (wrk_ctx_t *ctx)
{
  return ctx->store;
}

void *
wrk_ctx_stage_state (wrk_ctx_t *ctx)
{
  return ctx->stage_state;
}

int
wrk_ctx_produce (wrk_ctx_t *ctx, at_msg_t **msg_p)
{
  if (msg_p == NULL || *msg_p == NULL)
    return AT_INVALID;
  wrk_item_t *item = ctx ? ctx->current : NULL;
  char reason[160] = "";
  int rc = AT_OK;
  if (item == NULL) {
    at_error (WRK_COMP, "msg=\"produce called outside handle\" id=%s", (*msg_p)->id);
    rc = AT_ERROR;
  }
  else if (at_msg_validate (*msg_p, reason, sizeof reason) != AT_OK) {
    at_error (WRK_COMP, "msg=\"produced message is invalid\" id=%s parent=%s reason=\"%s\"",
              (*msg_p)->id, item->m.msg->id, reason);
    rc = AT_INVALID;
  }
  else if (item->n_produced >= WRK_PRODUCE_MAX) {
    at_error (WRK_COMP, "msg=\"too many produced messages\" parent=%s max=%d",
              item->m.msg->id, WRK_PRODUCE_MAX);
    rc = AT_ERROR;
  }
  if (rc != AT_OK) {
    at_msg_destroy (msg_p);
    return rc;
  }
  if (item->n_produced == item->cap_produced) {
    size_t cap = item->cap_produced ? item->cap_produced * 2 : 4;
    at_msg_t **grown = realloc (item->produced, cap * sizeof *grown);
    if (grown == NULL)
      abort ();
    item->produced = grown;
    item->cap_produced = cap;
  }
  item->produced[item->n_produced++] = *msg_p;
  *msg_p = NULL;
  return AT_OK;
}

static void
s_produced_free (wrk_item_t *item)
{
  for (size_t i = 0; i < item->n_produced; i++)
    at_msg_destroy (&item->produced[i]);
  item->n_produced = 0;
}

void
wrk_item_clear (wrk_item_t *item)
{
  s_produced_free (item);
  free (item->produced);
  at_msg_destroy (&item->m.msg);
  memset (item, 0, sizeof *item);
}

static uint64_t
s_rand (wrk_ctx_t *ctx)
{
  uint64_t x = ctx->rng ? ctx->rng : 0x9E3779B97F4A7C15ull;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  ctx->rng = x;
  return x;
}

int64_t
wrk_retry_delay_ms (wrk_ctx_t *ctx, uint32_t attempt)
{
  int64_t max = ctx->cfg->retry_max_ms;
  int64_t delay = ctx->cfg->retry_base_ms;
  for (uint32_t i = 1; i < attempt && delay < max; i++)
    delay *= 2;
  if (delay > max)
    delay = max;
  int64_t half = delay / 2;
  return half + (int64_t) (s_rand (ctx) % (uint64_t) (delay - half + 1));
}

/* The handler's or the loop's failure, inside the message's savepoint
 * (already rolled back): schedule a retry or dead-letter. AT_OK or AT_STALE
 * settle the message; anything else aborts the batch. */
static int
s_item_fail (wrk_ctx_t *ctx, wrk_item_t *item, int handle_rc)
{
  at_msg_t *msg = item->m.msg;
  if (item->m.reason[0] == '\0')
    snprintf (item->m.reason, sizeof item->m.reason, "%s (code %d, no reason given)",
              handle_rc == AT_INVALID ? "invalid" : "failed", handle_rc);
  long max_attempts = ctx->max_attempts > 0 ? ctx->max_attempts : ctx->cfg->max_attempts;
  int rc;
  if (handle_rc == AT_INVALID || msg->attempt >= (uint32_t) max_attempts) {
    rc = at_store_bus_dead (ctx->store, msg->id, msg->attempt, item->m.reason);
    item->outcome = WRK_OUT_DEAD;
  }
  else {
    item->retry_ms = wrk_retry_delay_ms (ctx, msg->attempt);
    rc = at_store_bus_retry (ctx->store, msg->id, msg->attempt, item->retry_ms, item->m.reason);
    item->outcome = WRK_OUT_RETRY;
  }
  if (rc == AT_STALE)
    item->outcome = WRK_OUT_STALE;
  return rc;
}

/* Marks the message done and inserts what it produced. */
static int
s_item_commit (wrk_ctx_t *ctx, wrk_item_t *item)
{
  at_msg_t *msg = item->m.msg;
  int rc = at_store_bus_done (ctx->store, msg->id, msg->attempt);
  if (rc == AT_OK && item->n_produced > 0) {
    size_t inserted = 0;
    rc = at_store_bus_insert_sharded (ctx->store, item->produced, item->n_produced,
                                      (int) ctx->cfg->broker_count, &inserted);
    if (rc == AT_OK && inserted != item->n_produced) {
      snprintf (item->m.reason, sizeof item->m.reason,
                "produced message id already on the bus (%zu of %zu new)", inserted,
                item->n_produced);
      rc = AT_ERROR;
    }
    else if (rc != AT_OK)
      snprintf (item->m.reason, sizeof item->m.reason, "inserting produced messages: %s",
                at_store_last_error (ctx->store));
  }
  return rc;
}

/* One message in its savepoint. AT_OK when it is settled (outcome set);
 * anything else aborts the batch. */
static int
s_item_run (wrk_ctx_t *ctx, wrk_item_t *item, bool prepared)
{
  if (at_store_savepoint (ctx->store) != AT_OK)
    return AT_AGAIN;
  int rc;
  if (prepared) {
    ctx->current = item;
    rc = ctx->stage->handle (ctx, &item->m);
    ctx->current = NULL;
  }
  else {
    snprintf (item->m.reason, sizeof item->m.reason, "stage %s: prepare failed",
              ctx->stage->name);
    rc = AT_AGAIN;
  }
  if (rc == AT_OK) {
    rc = s_item_commit (ctx, item);
    if (rc == AT_OK) {
      item->outcome = WRK_OUT_DONE;
      return at_store_savepoint_release (ctx->store);
    }
    if (rc != AT_STALE && !at_store_ok (ctx->store))
      return AT_AGAIN;
  }
  s_produced_free (item);
  if (at_store_savepoint_rollback (ctx->store) != AT_OK)
    return AT_AGAIN;
  if (rc == AT_STALE)
    item->outcome = WRK_OUT_STALE;
  else {
    if (rc != AT_INVALID)
      rc = rc == AT_AGAIN ? AT_AGAIN : AT_ERROR;
    rc = s_item_fail (ctx, item, rc);
    if (rc != AT_OK && rc != AT_STALE)
      return rc;
  }
  return at_store_savepoint_release (ctx->store);
}

/* After COMMIT: counters and one line per failed message. */
static void
s_batch_report (wrk_ctx_t *ctx, const wrk_item_t *items, size_t n, int64_t started_us)
{
  size_t count[5] = {0};
  for (size_t i = 0; i < n; i++) {
    const wrk_item_t *item = &items[i];
    const at_msg_t *msg = item->m.msg;
    count[item->outcome]++;
    if (item->outcome == WRK_OUT_RETRY)
      at_warn (WRK_COMP, "msg=\"retry scheduled\" stage=%s id=%s attempt=%u delay_ms=%lld "
               "reason=\"%s\"", ctx->stage->name, msg->id, msg->attempt,
               (long long) item->retry_ms, item->m.reason);
    else if (item->outcome == WRK_OUT_DEAD)
      at_error (WRK_COMP, "msg=\"dead-lettered\" stage=%s id=%s attempt=%u reason=\"%s\"",
                ctx->stage->name, msg->id, msg->attempt, item->m.reason);
    else if (item->outcome == WRK_OUT_STALE)
      at_info (WRK_COMP, "msg=\"stale delivery, fenced\" stage=%s id=%s attempt=%u",
               ctx->stage->name, msg->id, msg->attempt);
  }
  ctx->n_batches++;
  ctx->n_done += count[WRK_OUT_DONE];
  ctx->n_retried += count[WRK_OUT_RETRY];
  ctx->n_dead += count[WRK_OUT_DEAD];
  ctx->n_stale += count[WRK_OUT_STALE];
  if (ctx->metrics)
    wrk_metrics_batch (ctx->metrics, ctx->metrics_index, count,
                       (double) (at_mono_us () - started_us) / 1e6);
  if (ctx->metrics && ctx->stage->metrics) {
    char text[4096] = "";
    ctx->stage->metrics (ctx->stage_state, text, sizeof text);
    wrk_metrics_stage_text (ctx->metrics, ctx->metrics_index, text);
  }
  at_debug (WRK_COMP, "msg=\"batch committed\" stage=%s size=%zu done=%zu retry=%zu dead=%zu "
            "stale=%zu first_id=%s took_us=%lld", ctx->stage->name, n, count[WRK_OUT_DONE],
            count[WRK_OUT_RETRY], count[WRK_OUT_DEAD], count[WRK_OUT_STALE],
            items[0].m.msg->id, (long long) (at_mono_us () - started_us));
}

int
wrk_batch_run (wrk_ctx_t *ctx, wrk_item_t *items, size_t n)
{
  if (n == 0)
    return AT_OK;
  int64_t started_us = at_mono_us ();
  bool prepared = true;
  ctx->batch = items;
  ctx->batch_n = n;
  ctx->extended_ms = at_mono_ms ();
  if (ctx->stage->prepare) {
    wrk_msg_t **msgs = at_calloc (n, sizeof *msgs);
    for (size_t i = 0; i < n; i++)
      msgs[i] = &items[i].m;
    int rc = ctx->stage->prepare (ctx, msgs, n);
    free (msgs);
    if (rc != AT_OK) {
      at_error (WRK_COMP, "msg=\"prepare failed, batch retried\" stage=%s size=%zu rc=%d "
                "first_id=%s", ctx->stage->name, n, rc, items[0].m.msg->id);
      prepared = false;
    }
  }
  wrk_ctx_keepalive (ctx);
  size_t i = 0;
  if (at_store_begin (ctx->store) != AT_OK)
    goto abort;
  for (; i < n; i++) {
    if (s_item_run (ctx, &items[i], prepared) != AT_OK)
      goto abort;
    wrk_ctx_keepalive (ctx);
  }
  if (at_store_commit (ctx->store) != AT_OK)
    goto abort;
  s_batch_report (ctx, items, n, started_us);
  ctx->batch = NULL;
  ctx->batch_n = 0;
  return AT_OK;

abort:
  at_error (WRK_COMP, "msg=\"batch rolled back, messages released\" stage=%s size=%zu "
            "at_id=%s error=\"%s\"", ctx->stage->name, n, items[i < n ? i : 0].m.msg->id,
            at_store_last_error (ctx->store));
  if (at_store_ok (ctx->store))
    at_store_rollback (ctx->store);
  for (size_t k = 0; k < n; k++) {
    items[k].outcome = WRK_OUT_NONE;
    s_produced_free (&items[k]);
  }
  ctx->current = NULL;
  ctx->batch = NULL;
  ctx->batch_n = 0;
  ctx->n_aborted++;
  return AT_AGAIN;
}
