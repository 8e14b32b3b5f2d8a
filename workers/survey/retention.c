/* Retention as a scheduled message on the bus: AT_RETENTION_TYPE
 * ("maintenance.retention"), key AT_RETENTION_KEY, on the survey stage.
 *
 * Why survey: its worker has the store at hand, and nothing on it is
 * latency-critical (CSAT invitations and answers): a batch that spends a
 * while erasing texts delays no customer's reply, which on ingest, route or
 * notify it would.
 *
 * A run, in the loop's transaction: takes the schedule's lock, erases the
 * texts of at most ATENDE_RETENTION_BATCH messages of tickets resolved more
 * than ATENDE_RETENTION_DAYS ago with an audit row (actor "retention"), and
 * produces its successor: at once when the batch was full, else the run due
 * in ATENDE_RETENTION_INTERVAL_S. Exactly one run is pending at any time:
 * every writer holds the lock while it looks and writes, a run that finds
 * another pending (a start racing a chain) ends without a successor, and
 * ids are derived (at_retention_msg_at, _after), so the same run written
 * twice is one row. With ATENDE_RETENTION_DAYS=0 a run ends the schedule;
 * every survey worker starts it again at its start when retention is on and
 * no run is pending. */
#include <stdio.h>
#include "retention.h"
#include "at_store_privacy.h"
#include "at_log.h"

#define S_COMP "retention"
#define S_ACTOR "retention"

int
wrk_retention_start (wrk_ctx_t *ctx)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  bool started = false;
  if (cfg->retention_days == 0) {
    at_info (S_COMP, "msg=\"retention off (ATENDE_RETENTION_DAYS=0): no schedule\"");
    return AT_OK;
  }
  int rc = at_store_retention_start (wrk_ctx_store (ctx), cfg->retention_interval_s,
                                     at_config_shards (cfg), &started);
  if (rc != AT_OK) {
    at_error (S_COMP, "msg=\"cannot start the retention schedule\" error=\"%s\"",
              at_store_last_error (wrk_ctx_store (ctx)));
    return rc;
  }
  if (!started)
    at_info (S_COMP, "msg=\"retention schedule already pending\" days=%ld interval_s=%ld",
             cfg->retention_days, cfg->retention_interval_s);
  return AT_OK;
}

/* The run after this one: at once after a full batch, else in an interval. */
static int
s_successor (wrk_ctx_t *ctx, wrk_msg_t *m, bool full)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  int64_t due_us = at_now_us () + (int64_t) cfg->retention_interval_s * 1000000;
  at_msg_t *next = full ? at_retention_msg_after (m->msg)
                        : at_retention_msg_at (due_us, cfg->retention_interval_s, NULL);
  if (!next) {
    snprintf (m->reason, sizeof m->reason, "cannot build the next retention run");
    return AT_ERROR;
  }
  at_info (S_COMP, "msg=\"next retention run scheduled\" message_id=%s next_id=%s in_s=%ld",
           m->msg->id, next->id, full ? 0L : cfg->retention_interval_s);
  return wrk_ctx_produce (ctx, &next);
}

int
wrk_retention_handle (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  at_store_t *store = wrk_ctx_store (ctx);
  long erased = 0, others = 0;
  if (cfg->retention_days == 0) {
    at_info (S_COMP, "msg=\"retention off (ATENDE_RETENTION_DAYS=0): the schedule ends\""
             " message_id=%s", m->msg->id);
    return AT_OK;
  }
  int rc = at_store_retention_lock (store);
  if (rc == AT_OK)
    rc = at_store_retention_erase_in (store, cfg->retention_days, cfg->retention_batch,
                                      S_ACTOR, m->msg->id, &erased);
  if (rc == AT_OK)
    rc = at_store_retention_pending (store, m->msg->id, &others);
  if (rc != AT_OK) {
    snprintf (m->reason, sizeof m->reason, "retention run: %s", at_store_last_error (store));
    return rc;
  }
  at_info (S_COMP, "msg=\"retention run\" message_id=%s days=%ld messages_erased=%ld",
           m->msg->id, cfg->retention_days, erased);
  if (others > 0) {
    at_info (S_COMP, "msg=\"another retention run is pending: this one has no successor\""
             " message_id=%s pending=%ld", m->msg->id, others);
    return AT_OK;
  }
  return s_successor (ctx, m, erased >= cfg->retention_batch);
}
