/* wrk: the shared worker loop and the interface every stage implements.
 *
 * The loop receives batches from the broker, and for each batch:
 *   1. calls stage->prepare (optional) outside any transaction: the place
 *      for effects outside PostgreSQL (notify's HTTP calls);
 *   2. BEGIN; locks the rows at their attempts; first without savepoints:
 *      stage->handle for each, stage->flush, what they produced inserted,
 *      their rows deleted, COMMIT; if any message fails, all that is rolled
 *      back and the batch runs careful: for each message SAVEPOINT;
 *      stage->handle; stage->flush; on AT_OK inserts what handle produced;
 *      on failure ROLLBACK TO SAVEPOINT and schedules a retry (AT_AGAIN,
 *      AT_ERROR) or dead-letters (AT_INVALID) with m->reason; the done rows
 *      deleted; COMMIT (workers/wrk_batch.c);
 *   3. tells the broker (Settle) what was done, released and produced. */
#ifndef WRK_H
#define WRK_H

#include "at_config.h"
#include "at_store.h"
#include "at_metrics.h"
#include "at_msg.h"

typedef struct wrk_ctx wrk_ctx_t;

typedef struct {
  at_msg_t *msg;         /* the delivered message (owned by the loop) */
  void *state;           /* the stage's own, from prepare to handle; freed by stage->release */
  char reason[256];      /* why it failed, when it did */
} wrk_msg_t;

typedef struct {
  const char *name;                                   /* a stage name */
  int (*check) (const at_config_t *cfg);              /* optional: before any thread starts;
                                                         non-zero stops the process (said) */
  int (*setup) (wrk_ctx_t *ctx, void **stage_state);  /* optional, once per thread */
  void (*teardown) (void **stage_state);              /* optional */
  int (*prepare) (wrk_ctx_t *ctx, wrk_msg_t **msgs, size_t n);  /* optional */
  int (*handle) (wrk_ctx_t *ctx, wrk_msg_t *m);       /* inside the transaction */
  void (*release) (wrk_msg_t *m);                     /* optional: free m->state */
  /* optional: writes in the transaction what handle buffered (several
   * messages' rows in one statement), and empties the buffer; with write
   * false it only empties it. Called after each handle under savepoints,
   * once after all of them in the fast round. */
  int (*flush) (wrk_ctx_t *ctx, bool write);
} wrk_stage_t;

const at_config_t *wrk_ctx_config (wrk_ctx_t *ctx);
at_store_t *wrk_ctx_store (wrk_ctx_t *ctx);
void *wrk_ctx_stage_state (wrk_ctx_t *ctx);
/* The worker's metrics registry, served on its /metrics (NULL: none). A
 * stage registers its own families in setup and updates them where it
 * counts (at_metrics.h: any thread may). */
at_metrics_t *wrk_ctx_metrics (wrk_ctx_t *ctx);
/* From handle: queue a message to insert in this transaction (takes
 * ownership, nulls *msg_p). Discarded if this message's savepoint rolls back. */
int wrk_ctx_produce (wrk_ctx_t *ctx, at_msg_t **msg_p);
/* From prepare or handle during long work (notify's HTTP calls): sends the
 * heartbeats due and, at most once per heartbeat interval, an Extend that
 * renews the leases of the batch being run, so they are not redelivered.
 * Cheap enough to call often; never blocks. */
void wrk_ctx_keepalive (wrk_ctx_t *ctx);
/* How many times the process was asked to reload (SIGHUP) since it started:
 * a stage that holds files (route's intent model) reloads them, between
 * messages, when the count differs from the one it last saw. */
unsigned wrk_ctx_reloads (wrk_ctx_t *ctx);

extern const wrk_stage_t wrk_stage_ingest;
extern const wrk_stage_t wrk_stage_route;
extern const wrk_stage_t wrk_stage_notify;
extern const wrk_stage_t wrk_stage_survey;

/* Looks a stage up by name (NULL if unknown). */
const wrk_stage_t *wrk_stage_find (const char *name);

/* Runs one thread per stage in stages_csv ("ingest,route" or "all") until
 * SIGTERM/SIGINT, then drains; SIGHUP asks the stages to reload
 * (wrk_ctx_reloads). Returns the process exit code. */
int wrk_run (const at_config_t *cfg, const char *stages_csv);

#endif
