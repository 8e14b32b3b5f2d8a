/* brk_server: the broker's state, shared by the files of the broker loop
 * (brk_main.c: loop and timers; brk_wire.c: the ROUTER socket; brk_publish.c:
 * group commit; brk_workers.c: workers, credit, dispatch, leases, sweeps).
 * Everything here belongs to the loop's one thread. */
#ifndef BRK_SERVER_H
#define BRK_SERVER_H

#include "at_config.h"
#include "at_msg.h"
#include "at_store.h"
#include "brk_metrics.h"
#include "brk_queue.h"
#include "bus.pb-c.h"

#include <czmq.h>

#define BRK_IDENTITY_MAX 255
#define BRK_PEERS_MAX 4096
#define BRK_LOOKAHEAD 64              /* entries looked at past a busy key */
#define BRK_QUEUE_BYTES_MAX (256u * 1024 * 1024)   /* payload bytes held per stage */
#define BRK_DRAIN_MAX 4096            /* commands read per wake-up */
#define BRK_CREDIT_MAX 100000

typedef struct {
  uint8_t data[BRK_IDENTITY_MAX];
  size_t len;
  char hex[2 * BRK_IDENTITY_MAX + 1];
} brk_identity_t;

typedef struct {
  brk_identity_t identity;
  char worker_id[64];
  unsigned stages;                    /* bit i: brk_t.stages[i] */
  uint32_t credit;                    /* messages it may still receive */
  size_t held;                        /* in flight to it */
  int64_t last_seen_ms;
  bool blocked;                       /* its pipe was full: wait until it talks */
  bool gone;                          /* unreachable: removed at the next expiry pass */
} brk_peer_t;

typedef struct {
  char name[AT_STAGE_LEN];
  brk_queue_t *queue;
  size_t in_flight;
  int64_t db_depth;                   /* last count from PostgreSQL */
  double oldest_age_s;
  int64_t published_recent;           /* published since that count */
  uint64_t published, delivered, settled_done, released, redelivered;
  size_t rr;                          /* round-robin cursor over peers */
  bool sweep_more;                    /* the last sweep filled the room: more may wait */
} brk_stage_t;

/* A message the broker knows: queued (peer NULL, msg owned by the queue)
 * or in flight (peer set, msg owned here). */
typedef struct {
  int stage;
  brk_peer_t *peer;
  at_msg_t *msg;
} brk_known_t;

/* One Publish waiting for the group commit. */
typedef struct {
  brk_identity_t identity;
  uint64_t correlation;
  size_t first, count;                /* range in brk_t.batch */
} brk_pending_t;

typedef struct {
  const at_config_t *cfg;
  void *router;
  at_store_t *store;                  /* NULL while PostgreSQL is unreachable */
  int64_t store_retry_ms;
  int store_backoff_ms;
  brk_stage_t stages[BRK_STAGES];
  zhashx_t *known;                    /* id -> brk_known_t */
  zhashx_t *keys;                     /* "stage\x1fkey" -> in-flight count */
  zhashx_t *peers;                    /* identity hex -> brk_peer_t */
  brk_peer_t *peer_list[BRK_PEERS_MAX];
  size_t n_peers;
  zhashx_t *logged;                   /* "peer reason" already logged */
  uint64_t rejected[BRK_REJECT_N];
  at_msg_t **batch;                   /* envelopes of the pending publishes */
  size_t batch_len, batch_cap;
  brk_pending_t *pending;
  size_t pending_len, pending_cap;
  brk_metrics_t *metrics;
} brk_t;

/* brk_wire.c */
int brk_stage_index (const brk_t *self, const char *stage);
int brk_wire_send (brk_t *self, const brk_identity_t *to, Atende__Bus__Command *cmd);
void brk_wire_reject (brk_t *self, const brk_identity_t *to, uint64_t correlation,
                      brk_reject_t why, const char *reason);
void brk_wire_busy (brk_t *self, const brk_identity_t *to, uint64_t correlation,
                    uint32_t retry_after_ms, const char *stage);
/* Reads and handles up to BRK_DRAIN_MAX commands; publishes are gathered
 * for brk_publish_flush. */
void brk_wire_drain (brk_t *self);

/* brk_publish.c */
void brk_publish_add (brk_t *self, const brk_identity_t *from, const Atende__Bus__Publish *pub);
bool brk_publish_full (const brk_t *self);
void brk_publish_flush (brk_t *self);
bool brk_store_up (brk_t *self);
void brk_store_lost (brk_t *self);

/* brk_workers.c */
brk_peer_t *brk_peer_find (brk_t *self, const brk_identity_t *identity);
void brk_on_ready (brk_t *self, const brk_identity_t *from, const Atende__Bus__Ready *ready);
void brk_on_settle (brk_t *self, brk_peer_t *peer, const Atende__Bus__Settle *settle);
void brk_peer_remove (brk_t *self, brk_peer_t *peer, const char *why);
/* Takes a committed message into the queue of its stage when there is room,
 * it is due and it is not known yet; otherwise the sweep will find it. */
void brk_enqueue (brk_t *self, at_msg_t **msg_p);
void brk_dispatch (brk_t *self);
void brk_sweep (brk_t *self);
/* True when a stage's last sweep found more than it could hold and its
 * queue has drained below half: sweep again without waiting. */
bool brk_sweep_due (const brk_t *self);
void brk_heartbeat (brk_t *self);
void brk_expire (brk_t *self);

#endif
