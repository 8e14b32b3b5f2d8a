/* brk_server: the broker's state, shared by the files of the broker loop
 * (brk_main.c: loop, timers and the command switch; brk_publish.c: group
 * commit; brk_workers.c: workers, credit, dispatch, leases; brk_sweep.c: what
 * PostgreSQL holds that the broker does not; brk_wire.c: the ROUTER socket,
 * decoding and encoding; brk_store.c: the connections to PostgreSQL).
 * Calls go down that list, never up: tests/check_circles.sh checks it.
 * Beside them, called only by brk_main.c on a CURVE bus: brk_zap.c (the ZAP
 * handler, who gets in) and brk_access.c (what each role may send).
 * Everything here belongs to the loop's one thread. */
#ifndef BRK_SERVER_H
#define BRK_SERVER_H

#include "at_config.h"
#include "at_msg.h"
#include "at_store.h"
#include "brk_metrics.h"
#include "brk_queue.h"
#include "brk_zap.h"
#include "bus.pb-c.h"

#include <czmq.h>
#include <string.h>

#define BRK_IDENTITY_MAX 255
#define BRK_PEERS_MAX 4096
#define BRK_QUEUE_BYTES_MAX (256u * 1024 * 1024)   /* payload bytes held per stage */
#define BRK_DRAIN_MAX 4096            /* commands read per wake-up */
#define BRK_CREDIT_MAX 100000
#define BRK_ROLES_MAX 256             /* a peer's CURVE roles (its ZAP user id) */

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
  size_t lapsed;                      /* leases it lost while alive: their Settle returns credit */
  bool blocked;                       /* its pipe was full: wait until it talks */
  bool gone;                          /* unreachable: removed at the next expiry pass */
  bool paused;                        /* its last Ready gave credit 0 (draining): a Settle
                                       * returns no credit until a Ready with credit > 0 */
} brk_peer_t;

typedef struct {
  char name[AT_STAGE_LEN];
  brk_queue_t *queue;
  size_t in_flight;
  int64_t db_depth;                   /* last count from PostgreSQL */
  int64_t db_delayed;                 /* of those, not due yet */
  double oldest_age_s;
  int64_t published_recent;           /* confirmed since that count */
  int64_t unconfirmed;                /* accepted into a group (gathering or committing),
                                       * not yet confirmed: counts against the backlog */
  uint64_t published, delivered, settled_done, released, redelivered, dead_lettered;
  double done_rate;                   /* settled done per second, smoothed (retry_after) */
  uint64_t done_at_stats;             /* settled_done at the last stats tick */
  size_t rr;                          /* round-robin cursor over peers */
  bool sweep_more;                    /* the last sweep filled the room: more may wait */
  int sweep_keys;                     /* keys the last sweep found (sizes the next runs) */
  int64_t sweep_took_ms;              /* how long the last sweep took */
  bool unblocked;                     /* a key's blocker finished: its followers wait in
                                       * PostgreSQL, sweep again soon */
  int64_t swept_ms;                   /* when this stage was last swept */
  bool catching_up;                   /* since start: PostgreSQL may hold rows of keys the
                                       * broker does not know; new messages wait there
                                       * (behind their key's head) until the sweeps hold
                                       * every ordered row */
} brk_stage_t;

/* A message the broker knows: queued (peer NULL, msg owned by the queue)
 * or in flight (peer set, msg owned here). */
typedef struct {
  int stage;
  brk_peer_t *peer;
  at_msg_t *msg;
  int64_t lease_until_ms;             /* in flight: redelivered after this unless Extended */
  bool orphan;                        /* lease ended but the row could not be fenced yet
                                       * (a worker's transaction holds it, or PostgreSQL is
                                       * away): still in flight, expiry retried each tick */
} brk_known_t;

#define BRK_COMMITS_MAX 4              /* publish_groups_in_flight's most */

/* One Publish waiting for the group commit. */
typedef struct {
  brk_identity_t identity;
  uint64_t correlation;
  size_t first, count;                /* range in its group's msgs */
  int64_t received_us;                /* for atende_bus_publish_confirm_seconds */
} brk_pending_t;

/* A group commit: the publishes gathered while the previous group commits. */
typedef struct {
  at_msg_t **msgs;
  size_t len, cap;
  brk_pending_t *pending;
  size_t pending_len, pending_cap;
} brk_group_t;

typedef struct {
  const at_config_t *cfg;
  void *router;
  brk_zap_t *zap;                     /* CURVE on: the ZAP handler; NULL: a plain bus */
  at_store_t *store;                  /* NULL while PostgreSQL is unreachable */
  at_store_t *commit_store;           /* the asynchronous group-commit connection */
  bool durable;                       /* false: benchmark mode, no PostgreSQL at all */
  bool draining;                      /* SIGTERM: Busy to publishers, no deliveries */
  brk_group_t groups[BRK_COMMITS_MAX + 1];
  brk_group_t *gather;                /* publishes being read */
  brk_group_t *commits[BRK_COMMITS_MAX];   /* the groups in flight, oldest first */
  int n_commits;                      /* how many (publish_groups_in_flight at most) */
  bool commit_flushing;               /* what was sent is not fully written yet */
  int commit_rc;                      /* the oldest's answer so far (AT_NOTFOUND: none yet) */
  char commit_why[256];
  brk_histo_t confirm_latency;        /* seconds */
  brk_histo_t commit_size;            /* messages per commit */
  int64_t store_retry_ms;
  int store_backoff_ms;
  bool stats_due;                     /* a depth count is due: taken when no group commit is
                                       * in flight, so each committed row is counted once
                                       * (in the count or in published_recent, never both) */
  int64_t stats_ms;                   /* when the last one was taken */
  brk_stage_t stages[BRK_STAGES];
  zhashx_t *known;                    /* id -> brk_known_t */
  zhashx_t *keys;                     /* "stage\x1fkey" -> in-flight count */
  zhashx_t *blocked;                  /* "stage\x1fkey" -> id (owned string) of the message
                                       * that holds the key's place: released for a retry,
                                       * or left in PostgreSQL; brk_order.c */
  zhashx_t *peers;                    /* identity hex -> brk_peer_t */
  brk_peer_t *peer_list[BRK_PEERS_MAX];
  size_t n_peers;
  zhashx_t *logged;                   /* "peer reason" already logged */
  uint64_t rejected[BRK_REJECT_N];
  brk_metrics_t *metrics;
} brk_t;

/* The index of a stage in self->stages, -1 when none. */
static inline int
brk_stage_index (const brk_t *self, const char *stage)
{
  for (int i = 0; i < BRK_STAGES; i++)
    if (strcmp (self->stages[i].name, stage) == 0)
      return i;
  return -1;
}

/* brk_wire.c: the ROUTER socket, decoding and encoding only */
int brk_wire_send (brk_t *self, const brk_identity_t *to, Atende__Bus__Command *cmd);
void brk_wire_reject (brk_t *self, const brk_identity_t *to, uint64_t correlation,
                      brk_reject_t why, const char *reason);
void brk_wire_busy (brk_t *self, const brk_identity_t *to, uint64_t correlation,
                    uint32_t retry_after_ms, const char *stage);
void brk_wire_reconnect (brk_t *self, const brk_identity_t *to);
/* The next command a peer sent, decoded (free with
 * atende__bus__command__free_unpacked), its sender in from and, on a CURVE
 * bus, the roles the ZAP handler gave its key in roles ("" on a plain bus);
 * NULL when none is waiting. Frames that are not a v1 command a broker
 * accepts are refused on the way (brk_wire_reject) and skipped. */
Atende__Bus__Command *brk_wire_recv (brk_t *self, brk_identity_t *from, char *roles,
                                     size_t roles_cap);

/* brk_publish.c */
void brk_publish_add (brk_t *self, const brk_identity_t *from, const Atende__Bus__Publish *pub);
/* True when the gathering group holds publish_batch_max messages: stop
 * reading until a commit in flight returns. */
bool brk_publish_full (const brk_t *self);
/* Starts the commit of the gathered group when fewer than
 * publish_groups_in_flight are in flight. */
void brk_publish_flush (brk_t *self);
/* The commit connection's socket and the events to poll it for (0: none). */
int brk_publish_fd (const brk_t *self, short *events);
/* The commit connection is ready: reads its answers, confirms the groups. */
void brk_publish_io (brk_t *self);
void brk_publish_destroy (brk_t *self);

/* brk_store.c */
/* True when both connections are up, (re)connecting them when the backoff
 * allows; false in benchmark mode (no store) and while PostgreSQL is away. */
bool brk_store_up (brk_t *self);
/* A statement or a connection failed: schedules the reconnection. */
void brk_store_lost (brk_t *self);

/* brk_order.c: per-key order across retries (proto/README.md, "Per-key
 * order"). The blocker of a key is the oldest message of it that the broker
 * does not hold: no later message of that stage and key is queued or
 * delivered until the blocker is done or dead-lettered. */
/* The blocker of a key whose rows a sweep could not all bring into memory:
 * never a message id, so only a sweep clears it. */
#define BRK_KEY_IN_STORE "(rows in PostgreSQL)"
/* "stage\x1fkey" of a message into out (cap >= AT_STAGE_LEN + AT_KEY_LEN + 2). */
void brk_key_name (const char *stage, const char *key, char *out, size_t cap);
/* The id blocking msg's key, or NULL (none, or an empty key). */
const char *brk_key_blocker (brk_t *self, const at_msg_t *msg);
/* msg (in flight, released for a retry, or not held) blocks its key. An
 * existing blocker is kept unless `replace`; with `replace` (a retry) the
 * queued messages of that key leave memory too (they wait in PostgreSQL for
 * the sweep). */
void brk_key_block (brk_t *self, const at_msg_t *msg, bool replace);
/* msg is done or dead-lettered: its key is free again if it blocked it. */
void brk_key_unblock (brk_t *self, const at_msg_t *msg);
/* The sweep read a key's run from PostgreSQL: its blocker becomes id, the
 * first row of the run it did not bring into memory, or none (id NULL)
 * when the whole run is held. */
void brk_key_set (brk_t *self, const char *stage, const char *key, const char *id);

/* brk_workers.c */
brk_peer_t *brk_peer_find (brk_t *self, const brk_identity_t *identity);
void brk_on_ready (brk_t *self, const brk_identity_t *from, const Atende__Bus__Ready *ready);
void brk_on_settle (brk_t *self, brk_peer_t *peer, const Atende__Bus__Settle *settle);
void brk_on_extend (brk_t *self, brk_peer_t *peer, const Atende__Bus__Extend *extend);
/* True when the broker holds messages of this shard (cfg broker_index/count). */
bool brk_owns_key (const brk_t *self, const char *key);
void brk_peer_remove (brk_t *self, brk_peer_t *peer, const char *why);
/* Takes a committed message into the queue of its stage when there is room,
 * it is due and it is not known yet; otherwise the sweep will find it. */
void brk_enqueue (brk_t *self, at_msg_t **msg_p);
/* The same for a message the sweep found as its key's next row (brk_sweep.c):
 * queued even while the broker catches up after its start. */
void brk_enqueue_swept (brk_t *self, at_msg_t **msg_p);
void brk_dispatch (brk_t *self);
void brk_sweep (brk_t *self);
/* True when a stage's last sweep found more than it could hold and its
 * queue has drained below half: sweep again without waiting. */
bool brk_sweep_due (const brk_t *self);
void brk_heartbeat (brk_t *self);
/* Expires silent workers and leases past their time. */
void brk_expire (brk_t *self);
size_t brk_in_flight (const brk_t *self);

#endif
