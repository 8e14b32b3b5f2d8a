/* wrk_int: the worker loop's private pieces, shared by workers/wrk_*.c.
 *   wrk_loop.c   wrk_run, the stage threads, signals, the pending queue
 *   wrk_batch.c  one batch in one transaction (prepare, handle, settle rows)
 *   wrk_link.c   the DEALER sockets to the brokers (Ready, Heartbeat, Settle) */
#ifndef WRK_INT_H
#define WRK_INT_H

#include "wrk.h"
#include "bus.pb-c.h"

#define WRK_PRODUCE_MAX 1024   /* messages one handle may produce */
#define WRK_LINKS_MAX 64       /* brokers one worker connects to */
#define WRK_ID_MAX 160         /* worker id: <host>-<pid>-<stage> */

/* What became of a delivered message once its batch ran. */
typedef enum {
  WRK_OUT_NONE = 0,  /* not run, or the transaction did not commit: released */
  WRK_OUT_DONE,      /* committed as done, with what it produced */
  WRK_OUT_RETRY,     /* a retry is scheduled in bus_message */
  WRK_OUT_DEAD,      /* moved to bus_dead */
  WRK_OUT_STALE      /* fenced: another attempt holds it */
} wrk_outcome_t;

/* One delivered message in the loop's hands. */
typedef struct wrk_links wrk_links_t;

typedef struct {
  wrk_msg_t m;               /* m.msg owned */
  size_t link;               /* index of the broker that delivered it */
  wrk_outcome_t outcome;
  int64_t retry_ms;          /* the delay of a scheduled retry */
  at_msg_t **produced;       /* owned, committed with it when done */
  size_t n_produced;
  size_t cap_produced;
} wrk_item_t;

struct wrk_ctx {
  const at_config_t *cfg;
  const wrk_stage_t *stage;
  at_store_t *store;
  void *stage_state;
  wrk_item_t *current;       /* the message handle is running on */
  wrk_links_t *links;        /* heartbeats keep going during a batch (may be NULL) */
  uint64_t rng;              /* xorshift64 state for retry jitter */
  uint64_t n_done, n_retried, n_dead, n_stale, n_aborted, n_batches;
};

/* ---- wrk_batch.c ---- */

/* Runs items[0..n) as one batch: stage->prepare, then one transaction with a
 * savepoint per message. AT_OK when it committed (each item's outcome set);
 * AT_AGAIN when it did not: nothing of it happened, every outcome is
 * WRK_OUT_NONE and the caller releases them. */
int wrk_batch_run (wrk_ctx_t *ctx, wrk_item_t *items, size_t n);
/* Frees what an item holds (after stage->release); leaves it zeroed. */
void wrk_item_clear (wrk_item_t *item);
/* Retry delay for a message at `attempt`: exponential with full jitter. */
int64_t wrk_retry_delay_ms (wrk_ctx_t *ctx, uint32_t attempt);

/* ---- wrk_link.c ---- */

/* Called for every delivered envelope (borrowed for the call). */
typedef void (wrk_envelope_fn) (void *arg, size_t link, const Atende__Bus__Envelope *env);

/* Connects one DEALER per endpoint of cfg->broker_endpoints. NULL (logged)
 * when there is no usable endpoint. */
wrk_links_t *wrk_links_new (const at_config_t *cfg, const char *stage, const char *worker_id);
/* Sends Disconnect to every broker (when disconnect is true), lingers at
 * most linger_ms to flush, closes. */
void wrk_links_destroy (wrk_links_t **self_p, bool disconnect, int linger_ms);
size_t wrk_links_size (wrk_links_t *self);
/* Sends Ready to every broker with the credit not held from it. */
void wrk_links_ready (wrk_links_t *self);
/* Heartbeats due; Ready again to a broker silent for 3 intervals. */
void wrk_links_tick (wrk_links_t *self, int64_t now_ms);
/* Only the heartbeats due (from inside a batch, when nothing is read). */
void wrk_links_beat (wrk_links_t *self, int64_t now_ms);
/* Milliseconds until the next heartbeat is due (>= 0). */
int wrk_links_next_due_ms (wrk_links_t *self, int64_t now_ms);
/* Waits up to timeout_ms for commands and handles those that came. */
int wrk_links_poll (wrk_links_t *self, int timeout_ms, wrk_envelope_fn *fn, void *arg);
/* Tells each broker what became of items[0..n): done, released, produced
 * (each produced envelope to the broker owning its key). */
void wrk_links_settle (wrk_links_t *self, const wrk_item_t *items, size_t n);
/* Settles one id as released with the broker that delivered it. */
void wrk_links_release (wrk_links_t *self, size_t link, const char *id);

#endif
