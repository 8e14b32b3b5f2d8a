/* wrk_batch: one batch of delivered messages in one PostgreSQL transaction.
 *
 *   prepare (outside the transaction)
 *   BEGIN (lock waits limited to ATENDE_WORKER_LOCK_TIMEOUT_MS)
 *     per message: SAVEPOINT; handle;
 *       AT_OK       mark done (fenced on attempt) + insert what it produced
 *       conflict    (lost a deadlock, a lock wait or a serialization check)
 *                   ROLLBACK TO SAVEPOINT; set aside for the next round
 *       AT_AGAIN..  ROLLBACK TO SAVEPOINT; retry with backoff, or dead-letter
 *                   after the last attempt
 *       AT_INVALID  ROLLBACK TO SAVEPOINT; dead-letter with the reason
 *     RELEASE SAVEPOINT
 *   COMMIT
 *   the messages set aside run again in a new transaction (up to
 *   S_CONFLICT_ROUNDS rounds; in the last a conflict is an ordinary retry).
 * Two batches that touch the same customers in different orders would
 * otherwise deadlock, and PostgreSQL takes deadlock_timeout (1 s) to notice;
 * with the lock timeout one side steps back at once and, after its COMMIT
 * freed its locks, the other side's rows are free for it.
 * Any failure of the store itself rolls the round back: nothing of it
 * happened, and its messages go back to the broker as released.
 *
 * The fast round comes first: the same transaction without a savepoint per
 * message (one round trip less each), its rows deleted at its start instead
 * of locked then deleted at its end (the delete locks them as well; one
 * statement and one WAL record a row less), the stage's flush once, what the
 * batch produced inserted in one statement. It settles every message as
 * done or not at all: at the first message that fails, conflicts or finds
 * its row fenced, it is rolled back and the batch runs as above. After such
 * a fallback the next S_CAREFUL_BATCHES batches start careful, and so does
 * a batch that holds a redelivered message (attempt > 1): a message that
 * failed once is likely to fail again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <czmq.h>
#include "wrk_int.h"
#include "at_log.h"
#include "at_store_bus.h"

#define WRK_COMP "worker"
#define S_CONFLICT_ROUNDS 3
#define S_CAREFUL_BATCHES 16

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

unsigned
wrk_ctx_reloads (wrk_ctx_t *ctx)
{
  return ctx->reloads ? atomic_load (ctx->reloads) : 0;
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

/* Inserts what the message produced (its row is deleted with the round's
 * other done rows, which the round holds locked). */
static int
s_item_commit (wrk_ctx_t *ctx, wrk_item_t *item)
{
  int rc = AT_OK;
  if (item->n_produced > 0) {
    size_t inserted = 0;
    rc = at_store_bus_insert_sharded (ctx->store, item->produced, item->n_produced,
                                      at_config_shards (ctx->cfg), &inserted);
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

/* The stage's flush (wrk.h): writes what handle buffered, or drops it. */
static int
s_flush (wrk_ctx_t *ctx, wrk_item_t *item, bool write)
{
  if (ctx->stage->flush == NULL)
    return AT_OK;
  int rc = ctx->stage->flush (ctx, write);
  if (rc != AT_OK && item && item->m.reason[0] == '\0')
    snprintf (item->m.reason, sizeof item->m.reason, "stage %s: flush failed: %.160s",
              ctx->stage->name, at_store_last_error (ctx->store));
  return rc;
}

/* One message in its savepoint. AT_OK when it is settled (outcome set) or
 * set aside (*deferred: it lost a lock conflict, and this is not the last
 * round); anything else aborts the round. */
static int
s_item_run (wrk_ctx_t *ctx, wrk_item_t *item, bool prepared, bool last_round, bool *deferred,
            bool *sp_open)
{
  *deferred = false;
  /* the previous message's savepoint is released as this one's is taken:
   * one round trip (COMMIT releases the last) */
  if ((*sp_open ? at_store_savepoint_next (ctx->store) : at_store_savepoint (ctx->store)) != AT_OK)
    return AT_AGAIN;
  *sp_open = true;
  uint64_t conflicts = at_store_conflicts (ctx->store);
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
  rc = s_flush (ctx, item, rc == AT_OK) == AT_OK ? rc : AT_AGAIN;
  if (rc == AT_OK) {
    rc = s_item_commit (ctx, item);
    if (rc == AT_OK) {
      item->outcome = WRK_OUT_DONE;
      return AT_OK;
    }
    if (rc != AT_STALE && !at_store_ok (ctx->store))
      return AT_AGAIN;
  }
  s_produced_free (item);
  if (at_store_savepoint_rollback (ctx->store) != AT_OK)
    return AT_AGAIN;
  if (rc != AT_STALE && !last_round && at_store_conflicts (ctx->store) != conflicts) {
    item->m.reason[0] = '\0';
    *deferred = true;   /* another transaction holds what it needs: after our COMMIT */
    ctx->n_conflicts++;
  }
  else if (rc == AT_STALE)
    item->outcome = WRK_OUT_STALE;
  else {
    if (rc != AT_INVALID)
      rc = rc == AT_AGAIN ? AT_AGAIN : AT_ERROR;
    if (item->m.reason[0] == '\0' && at_store_conflicts (ctx->store) != conflicts)
      snprintf (item->m.reason, sizeof item->m.reason, "lost a lock or serialization conflict"
                " in the batch's last round: %.160s", at_store_last_error (ctx->store));
    rc = s_item_fail (ctx, item, rc);
    if (rc != AT_OK && rc != AT_STALE)
      return rc;
  }
  return AT_OK;
}

/* The round's rows, locked at their attempts: an item whose row it did
 * not get is stale (fenced, or being fenced) and is not run. */
static void
s_on_locked (const char *id, const char *key, bool stops, void *arg)
{
  (void) key;
  (void) stops;
  zhashx_t *want = arg;
  wrk_item_t *item = zhashx_lookup (want, id);
  if (item)
    item->locked = true;
}

/* Locks the rows of todo (claim: deletes them, the fast round's way). */
static int
s_round_lock (wrk_ctx_t *ctx, wrk_item_t **todo, size_t n, bool claim)
{
  const char **ids = at_calloc (n, sizeof *ids);
  uint32_t *attempts = at_calloc (n, sizeof *attempts);
  zhashx_t *want = zhashx_new ();
  for (size_t k = 0; k < n; k++) {
    ids[k] = todo[k]->m.msg->id;
    attempts[k] = todo[k]->m.msg->attempt;
    todo[k]->locked = false;
    zhashx_insert (want, ids[k], todo[k]);
  }
  int rc = (claim ? at_store_bus_claim : at_store_bus_lock) (ctx->store, ids, attempts, n,
                                                             s_on_locked, want);
  zhashx_destroy (&want);
  free (attempts);
  free (ids);
  return rc;
}

/* Deletes the rows of the round's done messages, all held by the round. */
static int
s_round_done (wrk_ctx_t *ctx, wrk_item_t **todo, size_t n)
{
  const char **ids = at_calloc (n, sizeof *ids);
  size_t n_done = 0, deleted = 0;
  for (size_t k = 0; k < n; k++)
    if (todo[k]->outcome == WRK_OUT_DONE)
      ids[n_done++] = todo[k]->m.msg->id;
  int rc = at_store_bus_done_many (ctx->store, ids, n_done, &deleted);
  free (ids);
  if (rc == AT_OK && deleted != n_done) {
    at_error (WRK_COMP, "msg=\"done rows missing under the batch's locks\" stage=%s done=%zu "
              "deleted=%zu", ctx->stage->name, n_done, deleted);
    rc = AT_ERROR;
  }
  return rc;
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
  at_debug (WRK_COMP, "msg=\"batch committed\" stage=%s size=%zu done=%zu retry=%zu dead=%zu "
            "stale=%zu first_id=%s took_us=%lld", ctx->stage->name, n, count[WRK_OUT_DONE],
            count[WRK_OUT_RETRY], count[WRK_OUT_DEAD], count[WRK_OUT_STALE],
            items[0].m.msg->id, (long long) (at_mono_us () - started_us));
}

/* The stage's prepare, outside the transaction: false when it failed (each
 * message of the batch is then retried). */
static bool
s_batch_prepare (wrk_ctx_t *ctx, wrk_item_t *items, size_t n)
{
  if (!ctx->stage->prepare)
    return true;
  wrk_msg_t **msgs = at_calloc (n, sizeof *msgs);
  for (size_t i = 0; i < n; i++)
    msgs[i] = &items[i].m;
  int rc = ctx->stage->prepare (ctx, msgs, n);
  free (msgs);
  if (rc == AT_OK)
    return true;
  at_error (WRK_COMP, "msg=\"prepare failed, batch retried\" stage=%s size=%zu rc=%d "
            "first_id=%s", ctx->stage->name, n, rc, items[0].m.msg->id);
  return false;
}

/* One round in one transaction: the messages of todo, each under its
 * savepoint; those that lost a lock conflict go to next for the next round.
 * AT_AGAIN (at todo[*failed_at]) when the round must be rolled back. */
static int
s_batch_round (wrk_ctx_t *ctx, wrk_item_t **todo, size_t n_todo, bool prepared, bool last,
               wrk_item_t **next, size_t *n_next, size_t *failed_at)
{
  bool sp_open = false;
  *n_next = 0;
  *failed_at = 0;   /* a round that cannot begin fails at its first message */
  if (at_store_begin_wait (ctx->store, (int) ctx->cfg->worker_lock_timeout_ms) != AT_OK
      || s_round_lock (ctx, todo, n_todo, false) != AT_OK)
    return AT_AGAIN;
  for (size_t k = 0; k < n_todo; k++) {
    bool deferred = false;
    *failed_at = k;
    if (!todo[k]->locked)
      todo[k]->outcome = WRK_OUT_STALE;
    else if (s_item_run (ctx, todo[k], prepared, last, &deferred, &sp_open) != AT_OK)
      return AT_AGAIN;
    else if (deferred)
      next[(*n_next)++] = todo[k];
    wrk_ctx_keepalive (ctx);
  }
  if (s_round_done (ctx, todo, n_todo) != AT_OK || at_store_commit (ctx->store) != AT_OK)
    return AT_AGAIN;
  return AT_OK;
}

/* The fast round's messages, handled one after the other, flushed once,
 * what they produced inserted at once: AT_OK when all are done. */
static int
s_fast_handle (wrk_ctx_t *ctx, wrk_item_t *items, size_t n)
{
  size_t n_produced = 0;
  for (size_t k = 0; k < n; k++) {
    if (!items[k].locked)
      return AT_STALE;   /* fenced: the careful rounds settle it */
    ctx->current = &items[k];
    int rc = ctx->stage->handle (ctx, &items[k].m);
    ctx->current = NULL;
    if (rc != AT_OK)
      return rc;
    n_produced += items[k].n_produced;
    wrk_ctx_keepalive (ctx);
  }
  if (s_flush (ctx, NULL, true) != AT_OK)
    return AT_AGAIN;
  int rc = AT_OK;
  if (n_produced > 0) {
    at_msg_t **all = at_calloc (n_produced, sizeof *all);
    size_t at = 0, inserted = 0;
    for (size_t k = 0; k < n; k++)
      for (size_t i = 0; i < items[k].n_produced; i++)
        all[at++] = items[k].produced[i];
    rc = at_store_bus_insert_sharded (ctx->store, all, n_produced, at_config_shards (ctx->cfg),
                                      &inserted);
    free (all);
    if (rc == AT_OK && inserted != n_produced)
      rc = AT_ERROR;   /* a produced id already on the bus: the careful rounds say whose */
  }
  for (size_t k = 0; k < n && rc == AT_OK; k++)
    items[k].outcome = WRK_OUT_DONE;
  return rc;
}

/* The fast round (see the top): AT_OK when every message was done and
 * committed; otherwise nothing of it happened. */
static int
s_batch_fast (wrk_ctx_t *ctx, wrk_item_t *items, size_t n)
{
  wrk_item_t **todo = at_calloc (n, sizeof *todo);
  for (size_t k = 0; k < n; k++)
    todo[k] = &items[k];
  int rc = AT_AGAIN;
  if (at_store_begin_wait (ctx->store, (int) ctx->cfg->worker_lock_timeout_ms) == AT_OK) {
    rc = s_round_lock (ctx, todo, n, true);   /* the rows deleted: done if it commits */
    if (rc == AT_OK)
      rc = s_fast_handle (ctx, items, n);
    if (rc == AT_OK)
      rc = at_store_commit (ctx->store);
    else if (at_store_ok (ctx->store))
      at_store_rollback (ctx->store);
  }
  free (todo);
  if (rc == AT_OK)
    return AT_OK;
  s_flush (ctx, NULL, false);
  for (size_t k = 0; k < n; k++) {
    items[k].outcome = WRK_OUT_NONE;
    items[k].m.reason[0] = '\0';
    s_produced_free (&items[k]);
  }
  ctx->careful = S_CAREFUL_BATCHES;
  ctx->n_fallbacks++;
  at_debug (WRK_COMP, "msg=\"fast round rolled back, batch runs careful\" stage=%s size=%zu "
            "rc=%d error=\"%s\"", ctx->stage->name, n, rc, at_store_last_error (ctx->store));
  return rc;
}

/* Whether the batch starts with the fast round. */
static bool
s_fast_first (wrk_ctx_t *ctx, const wrk_item_t *items, size_t n, bool prepared)
{
  if (!prepared)
    return false;
  if (ctx->careful > 0) {
    ctx->careful--;
    return false;
  }
  for (size_t k = 0; k < n; k++)
    if (items[k].m.msg->attempt > 1)
      return false;
  return true;
}

int
wrk_batch_run (wrk_ctx_t *ctx, wrk_item_t *items, size_t n)
{
  if (n == 0)
    return AT_OK;
  int64_t started_us = at_mono_us ();
  ctx->batch = items;
  ctx->batch_n = n;
  ctx->extended_ms = at_mono_ms ();
  bool prepared = s_batch_prepare (ctx, items, n);
  wrk_ctx_keepalive (ctx);
  if (s_fast_first (ctx, items, n, prepared) && s_batch_fast (ctx, items, n) == AT_OK) {
    s_batch_report (ctx, items, n, started_us);
    ctx->batch = NULL;
    ctx->batch_n = 0;
    return AT_OK;
  }
  /* round after round, the messages that lost a lock conflict */
  wrk_item_t **todo = at_calloc (n, sizeof *todo), **next = at_calloc (n, sizeof *next);
  size_t n_todo = n, failed_at = 0;
  for (size_t k = 0; k < n; k++)
    todo[k] = &items[k];
  int rc = AT_OK;
  for (int round = 0; n_todo > 0 && rc == AT_OK; round++) {
    size_t n_next = 0;
    rc = s_batch_round (ctx, todo, n_todo, prepared, round + 1 >= S_CONFLICT_ROUNDS, next,
                        &n_next, &failed_at);
    if (rc == AT_OK) {
      wrk_item_t **swap = todo;
      todo = next;
      next = swap;
      n_todo = n_next;
    }
  }
  free (next);
  if (rc == AT_OK) {
    free (todo);
    s_batch_report (ctx, items, n, started_us);
    ctx->batch = NULL;
    ctx->batch_n = 0;
    return AT_OK;
  }

  /* the round that failed: nothing of it happened, its messages are released */
  at_error (WRK_COMP, "msg=\"batch rolled back, messages released\" stage=%s size=%zu "
            "at_id=%s error=\"%s\"", ctx->stage->name, n_todo, todo[failed_at]->m.msg->id,
            at_store_last_error (ctx->store));
  if (at_store_ok (ctx->store))
    at_store_rollback (ctx->store);
  for (size_t k = 0; k < n_todo; k++) {
    todo[k]->outcome = WRK_OUT_NONE;
    s_produced_free (todo[k]);
  }
  free (todo);
  ctx->current = NULL;
  ctx->batch = NULL;
  ctx->batch_n = 0;
  ctx->n_aborted++;
  return AT_AGAIN;
}
