/* wrk_int: the worker loop's private pieces, shared by workers/wrk_*.c.
 *   wrk_loop.c   wrk_run, the stage threads, signals, the pending queue
 *   wrk_batch.c  one batch in one transaction (prepare, handle, settle rows)
 *   wrk_link.c   the DEALER sockets to the brokers (Ready, Heartbeat, Settle) */
#ifndef WRK_INT_H
#define WRK_INT_H

#include "wrk.h"
#include <stdatomic.h>
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
  bool locked;               /* its row is held by the running round, at its attempt */
  int64_t retry_ms;          /* the delay of a scheduled retry */
  at_msg_t **produced;       /* owned, committed with it when done */
  size_t n_produced;
  size_t cap_produced;
} wrk_item_t;

typedef struct wrk_metrics wrk_metrics_t;

struct wrk_ctx {
  const at_config_t *cfg;
  const wrk_stage_t *stage;
  at_store_t *store;
  void *stage_state;
  wrk_item_t *current;       /* the message handle is running on */
  wrk_links_t *links;        /* heartbeats keep going during a batch (may be NULL) */
  uint64_t rng;              /* xorshift64 state for retry jitter */
  uint64_t n_done, n_retried, n_dead, n_stale, n_aborted, n_batches;
  uint64_t n_conflicts;      /* messages set aside after losing a lock conflict */
  uint64_t n_fallbacks;      /* fast rounds rolled back (wrk_batch.c) */
  int careful;               /* batches left that skip the fast round */
  long max_attempts;         /* this stage's (ATENDE_STAGE_MAX_ATTEMPTS or max_attempts) */
  const atomic_bool *stop;   /* set on SIGTERM (may be NULL) */
  const atomic_uint *reloads;  /* SIGHUPs received (may be NULL) */
  bool paused;               /* Ready with credit 0 sent: draining */
  wrk_item_t *batch;         /* the batch being run (leases kept alive) */
  size_t batch_n;
  int64_t extended_ms;       /* last Extend of the batch's leases */
  const wrk_item_t *ring;    /* the loop's delivered, not yet run (leases kept alive too) */
  size_t ring_cap;
  const size_t *ring_head, *ring_count;
  wrk_metrics_t *metrics;    /* may be NULL */
  size_t metrics_index;      /* this stage's row in metrics */
};

/* ---- wrk_link.c: leases during long work ---- */

#define WRK_STAGES_MAX 4

/* From the loop (and keepalive): when stop is set and Ready with credit 0
 * was not sent yet, sends it (no new deliveries within a command's trip). */
void wrk_ctx_pause_if_stopping (wrk_ctx_t *ctx);

/* ---- wrk_metrics.c ---- */

/* The worker process's /metrics, /healthz, /readyz (port 0: counters only,
 * no server). NULL (logged) when the port cannot be bound. */
wrk_metrics_t *wrk_metrics_new (const at_config_t *cfg, const char *const *stages, size_t n);
void wrk_metrics_destroy (wrk_metrics_t **self_p);
/* One committed batch: counts by outcome (indexed by wrk_outcome_t). */
void wrk_metrics_batch (wrk_metrics_t *self, size_t stage, const size_t count[5],
                        double seconds);
/* One message settled outside a batch (an undecodable one dead-lettered). */
void wrk_metrics_count (wrk_metrics_t *self, size_t stage, wrk_outcome_t outcome);
/* A stage thread's readiness (store up, brokers linked, not draining). */
void wrk_metrics_ready (wrk_metrics_t *self, size_t stage, bool ready);

/* ---- wrk_batch.c ---- */

/* Runs items[0..n) as one batch: stage->prepare, then one transaction (a
 * fast one without savepoints first, then with a savepoint per message). AT_OK when it committed (each item's outcome set);
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
/* Ready with credit 0 to every broker: they deliver nothing more and a
 * Settle returns no credit (draining). */
void wrk_links_pause (wrk_links_t *self);
/* True once every broker has sent a command after our pause: nothing it
 * delivered before the pause is still on its way. */
bool wrk_links_pause_heard (wrk_links_t *self);
/* Renews the leases of items[0..n) and of ring[(head + i) % cap] for i <
 * count (may be NULL) with the brokers that delivered them. */
void wrk_links_extend (wrk_links_t *self, const wrk_item_t *items, size_t n,
                       const wrk_item_t *ring, size_t cap, size_t head, size_t count);
/* True when every broker answered within 3 heartbeat intervals. */
bool wrk_links_up (wrk_links_t *self);

#endif
