/* brk_metrics: the broker's /metrics (Prometheus text), /healthz and
 * /readyz, served by at_metrics_http from its own thread out of a snapshot
 * the broker loop publishes under a mutex (the registry, lib/core/at_metrics.h,
 * is filled from the snapshot before each render). */
#ifndef BRK_METRICS_H
#define BRK_METRICS_H

#include "at_msg.h"

#define BRK_STAGES 4

/* Why the broker refused something (label of atende_bus_rejected_total). */
typedef enum {
  BRK_REJECT_MALFORMED = 0,   /* bytes that are not a Command */
  BRK_REJECT_VERSION,         /* Command.version is not 1 */
  BRK_REJECT_UNKNOWN,         /* no known body, or a command a broker never receives */
  BRK_REJECT_INVALID,         /* an envelope breaks the rules (stage, id, sizes, UTF-8) */
  BRK_REJECT_OVERSIZE,        /* payload above AT_MSG_PAYLOAD_MAX */
  BRK_REJECT_STORE,           /* PostgreSQL refused the rows */
  BRK_REJECT_BUSY,            /* backlog above bus_backlog_max or store down: Busy */
  BRK_REJECT_FORBIDDEN,       /* CURVE: a command the peer's role may not send (brk_access.h) */
  BRK_REJECT_DENIED,          /* CURVE: a handshake whose key is not admitted (brk_zap.h) */
  BRK_REJECT_UNCOMMITTED,     /* a Settle named a produced message with no pending row */
  BRK_REJECT_N
} brk_reject_t;

extern const char *const brk_reject_names[BRK_REJECT_N];

/* A Prometheus histogram with fixed bucket bounds (brk_metrics.c). */
#define BRK_HISTO_N 14
typedef struct {
  uint64_t buckets[BRK_HISTO_N];      /* non-cumulative; the last is +Inf */
  uint64_t count;
  double sum;
} brk_histo_t;

extern const double brk_latency_bounds[BRK_HISTO_N - 1];
extern const double brk_commit_bounds[BRK_HISTO_N - 1];
void brk_histo_add (brk_histo_t *h, const double *bounds, double value);

typedef struct {
  char name[AT_STAGE_LEN];
  int64_t depth;              /* pending rows in bus_message (last count + publishes since) */
  int64_t ready;              /* of those, due now (what workers can take: scale on this) */
  double oldest_age_s;
  uint64_t in_flight;
  uint64_t queued;            /* held in the broker's memory */
  uint64_t published, delivered, settled_done, released, redelivered, dead_lettered;
} brk_stage_snap_t;

typedef struct {
  brk_stage_snap_t stages[BRK_STAGES];
  uint64_t rejected[BRK_REJECT_N];
  uint64_t workers;
  brk_histo_t confirm_latency, commit_size;
  int shard_index, shard_count;
  bool ready;
  bool durable;
  bool draining;
} brk_snapshot_t;

typedef struct brk_metrics brk_metrics_t;

/* Starts the HTTP server on port (0: returns NULL, nothing served).
 * NULL (logged) when the port cannot be bound. */
brk_metrics_t *brk_metrics_new (int port);
void brk_metrics_destroy (brk_metrics_t **self_p);
/* Publishes a new snapshot (copied). */
void brk_metrics_update (brk_metrics_t *self, const brk_snapshot_t *snap);

/* Renders snap as Prometheus text into buf (always NUL-terminated, whole
 * lines only); returns the length written. */
size_t brk_metrics_render (const brk_snapshot_t *snap, char *buf, size_t cap);

#endif
