/* at_store_bus: the SQL of the bus (tables bus_message and bus_dead), used by
 * the broker (group-committed publishes, sweeps, lease expiry) and by the
 * worker loop (mark done, retry, dead-letter, insert produced messages).
 *
 * Every function runs on the caller's connection and inside the caller's
 * transaction when there is one; none of them begins or commits. Functions
 * that touch one message fence on its attempt: they return AT_STALE when no
 * row has that id at that attempt (someone else holds or finished it). */
#ifndef AT_STORE_BUS_H
#define AT_STORE_BUS_H

#include "at_store.h"
#include "at_msg.h"

/* Inserts n messages in one statement (ON CONFLICT (id) DO NOTHING: a
 * publisher's retry is harmless). not_before_us 0 means now. *inserted_out
 * (optional) gets how many rows were new. AT_INVALID when a value is refused
 * by the database (the statement inserted nothing). */
int at_store_bus_insert (at_store_t *store, at_msg_t *const *msgs, size_t n,
                         size_t *inserted_out);

/* Marks a message done: DELETE FROM bus_message WHERE id=$1 AND attempt=$2.
 * AT_STALE when no row matched. */
int at_store_bus_done (at_store_t *store, const char *id, uint32_t attempt);

/* Ids found by the sweep (at_store_bus_ready_ids) or locked (at_store_bus_lock). */
typedef void (*at_store_bus_id_fn) (const char *id, const char *key, bool stops, void *arg);

/* A worker's batch, inside its transaction: locks the rows of these ids at
 * these attempts (FOR UPDATE SKIP LOCKED) and calls fn (key "", stops
 * false) with each id it locked. An id not reported is stale (fenced, done,
 * or being fenced right now): its message must not be applied. */
int at_store_bus_lock (at_store_t *store, const char *const *ids, const uint32_t *attempts,
                       size_t n, at_store_bus_id_fn fn, void *arg);
/* The same for a batch that will be done as a whole or rolled back (the
 * worker's fast round): deletes the rows of these ids at these attempts at
 * once, which locks them as at_store_bus_lock does (until COMMIT nobody can
 * fence them; a ROLLBACK puts them back), and calls fn with each id it
 * deleted. One statement and one WAL record a row where the lock and the
 * done DELETE took two of each. A row another transaction holds is waited
 * for (up to the transaction's lock timeout: an error, and the worker rolls
 * back and takes the careful way). */
int at_store_bus_claim (at_store_t *store, const char *const *ids, const uint32_t *attempts,
                        size_t n, at_store_bus_id_fn fn, void *arg);
/* Marks done the messages whose rows this transaction locked with
 * at_store_bus_lock: one DELETE; *deleted_out rows it removed. */
int at_store_bus_done_many (at_store_t *store, const char *const *ids, size_t n,
                            size_t *deleted_out);

/* Schedules a retry: attempt = attempt + 1, not_before = now() + delay_ms,
 * last_error = reason (may be NULL), WHERE id AND attempt.
 * AT_STALE when no row matched. */
int at_store_bus_retry (at_store_t *store, const char *id, uint32_t attempt,
                        int64_t delay_ms, const char *reason);

/* Dead-letters a message: moves the row to bus_dead with reason (may be
 * NULL: "unknown"), in one statement. AT_STALE when no row matched. */
int at_store_bus_dead (at_store_t *store, const char *id, uint32_t attempt,
                       const char *reason);

/* ---- broker side ---- */

/* Per-stage pending count and age of the oldest message. */
typedef struct {
  char stage[AT_STAGE_LEN];
  int64_t depth;
  int64_t delayed;            /* of those, not due yet (a delayed publish), counted to the cap */
  double oldest_age_s;
} at_store_bus_stat_t;

/* Fills up to cap stats (one per stage present in bus_message); *n_out gets
 * how many. */
/* Per stage, the rows of one shard: depth counted exactly up to count_cap
 * (an index-only scan with a LIMIT: cheap with any backlog); at the cap, the
 * planner's estimate (pg_class.reltuples x the stage's share in pg_stats,
 * divided by count) when larger. oldest_age_s: how long the oldest due row
 * has been due (0: none). */
int at_store_bus_stats (at_store_t *store, int shard, int count, int64_t count_cap,
                        at_store_bus_stat_t *stats, size_t cap, size_t *n_out);

/* The sweep: the heads of their keys among the due messages of `stage`
 * and `shard` (a head: no row of the same stage and key inserted before it,
 * migration 007, is due or waits for a retry), oldest first, at most limit,
 * each followed by its key's run (no payloads read). fn gets, in that order,
 * the head and the rows of its key after it that are due, at most `run` in
 * all, with stops = false; then, when the key has more rows that keep order
 * (due, or waiting for a retry), the first of them with stops = true: it and
 * everything after it must wait. A row waiting for a retry always stops its
 * run. The empty key has no order: its rows come alone. */
int at_store_bus_ready_ids (at_store_t *store, const char *stage, int shard, int limit, int run,
                            at_store_bus_id_fn fn, void *arg);

/* Counts, up to cap, the rows of `stage` and `shard` that take part in key
 * order: due, or waiting for a retry (attempt > 1). */
int at_store_bus_ordered_count (at_store_t *store, const char *stage, int shard, int64_t cap,
                                int64_t *count_out);

/* Loads the messages with these ids that are still pending, in the order
 * of ids, and calls fn for each. fn takes ownership of the
 * message (it nulls *msg_p, or leaves it for this function to free). */
typedef void (*at_store_bus_msg_fn) (at_msg_t **msg_p, void *arg);
int at_store_bus_fetch (at_store_t *store, const char *const *ids, size_t n,
                        at_store_bus_msg_fn fn, void *arg);

/* Lease expiry: attempt = attempt + 1 WHERE id AND attempt, so the worker
 * that held it at `attempt` is fenced. Never waits on a row lock: AT_BUSY
 * when a worker's open transaction holds the row (try again later);
 * AT_STALE when no row matched (the message was already done, retried or
 * dead-lettered). */
int at_store_bus_bump (at_store_t *store, const char *id, uint32_t attempt);

/* Sets the broker's session up on a fresh connection: lock_timeout (ms), so
 * that no statement of its single-threaded loop waits long on a row lock
 * (a timeout fails the statement with SQLSTATE 55P03: try later). */
int at_store_bus_session (at_store_t *store, int lock_timeout_ms);

/* The broker's publish: inserts like at_store_bus_insert and fills each
 * row's shard with at_bus_shard_of (key, shard_count). One statement,
 * autocommitted unless the caller began a transaction. */
int at_store_bus_publish (at_store_t *store, at_msg_t *const *msgs, size_t n, int shard_count);

/* The same, asynchronous (group commit without blocking the broker's loop),
 * with several groups in flight on one connection in libpq's pipeline mode:
 * each group is its own INSERT and its own implicit transaction (its Sync),
 * and the server runs them one after the other, so a group commits only
 * after every group sent before it has committed (what a key's order needs)
 * while the broker already sends the next. _send queues one group (it
 * prepares the statement and enters pipeline mode first when nothing is in
 * flight); AT_AGAIN when the connection is down. _flush: AT_OK when
 * everything was written, AT_AGAIN when the caller must wait for PQsocket
 * to be writable and flush again. _poll, when PQsocket is readable: false
 * while the oldest group's answer is incomplete; true when it is done, with
 * *rc_io AT_OK (committed), AT_INVALID (refused, why set, nothing written)
 * or AT_AGAIN (connection lost: the outcome of every group in flight is
 * unknown). The caller sets *rc_io = AT_NOTFOUND for each group and keeps it
 * between calls (an answer may arrive over several), and calls _poll again
 * after a true: the next group's answer may be read already. */
int at_store_bus_publish_send (at_store_t *store, at_msg_t *const *msgs, size_t n,
                               int shard_count);
int at_store_bus_publish_flush (at_store_t *store);
bool at_store_bus_publish_poll (at_store_t *store, int *rc_io, char *why, size_t why_cap);

/* ---- worker side: the worker loop's transaction ---- */

/* As at_store_bus_insert, filling each row's shard with at_bus_shard_of
 * (key, shard_count) (the worker's produced messages). at_store_bus_insert
 * is this with shard_count 1. at_store_bus_retry and _dead also append the
 * failure {attempt, at, reason} to the row's errors history (last 20), which
 * follows the message into bus_dead (lib/store/at_store_dlq.h). */
int at_store_bus_insert_sharded (at_store_t *store, at_msg_t *const *msgs, size_t n,
                                 int shard_count, size_t *inserted_out);

#endif
