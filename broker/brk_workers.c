/* The broker's workers: registration and credit, dispatch with per-key
 * ordering, settlement, leases and their expiry. The sweep that finds in
 * PostgreSQL what the broker does not hold is brk_sweep.c. */
#include "brk_server.h"
#include "at_log.h"
#include "at_msg_pb.h"
#include "at_store_bus.h"
#include "at_zmq.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DELIVER_MAX 1024    /* envelopes in one Deliver */

typedef struct {
  brk_t *self;
  size_t found;
} s_produced_t;

brk_peer_t *
brk_peer_find (brk_t *self, const brk_identity_t *identity)
{
  return zhashx_lookup (self->peers, identity->hex);
}

/* ---- per-key in-flight counts ---- */

static void
s_key_add (brk_t *self, const at_msg_t *msg, int delta)
{
  if (msg->key[0] == '\0')
    return;
  char name[AT_STAGE_LEN + AT_KEY_LEN + 2];
  brk_key_name (msg->stage, msg->key, name, sizeof name);
  uintptr_t count = (uintptr_t) zhashx_lookup (self->keys, name);
  if (delta < 0 && count <= 1) {
    zhashx_delete (self->keys, name);
    int s = brk_stage_index (self, msg->stage);
    if (s >= 0)
      brk_queue_free_key (self->stages[s].queue, msg->key);   /* its next message may go */
  }
  else if (count == 0)
    zhashx_insert (self->keys, name, (void *) (uintptr_t) 1);
  else
    zhashx_update (self->keys, name, (void *) (count + (uintptr_t) (delta < 0 ? -1 : 1)));
}

/* ---- queueing ---- */

bool
brk_owns_key (const brk_t *self, const char *key)
{
  return at_bus_shard_of (key, (int) self->cfg->broker_count) == (int) self->cfg->broker_index;
}

size_t
brk_in_flight (const brk_t *self)
{
  size_t n = 0;
  for (int s = 0; s < BRK_STAGES; s++)
    n += self->stages[s].in_flight;
  return n;
}

/* swept: msg was found by the sweep as the head of its key. */
static void
s_enqueue (brk_t *self, at_msg_t **msg_p, bool swept)
{
  at_msg_t *msg = *msg_p;
  int s = brk_stage_index (self, msg->stage);
  if (s < 0 || zhashx_lookup (self->known, msg->id)
      || (msg->not_before_us > 0 && msg->not_before_us > at_now_us ())
      || !brk_owns_key (self, msg->key))
    return;   /* unknown stage, held, not due, or another broker's: the sweeps decide */
  const char *blocker = brk_key_blocker (self, msg);
  if (blocker && strcmp (blocker, msg->id) != 0)
    return;   /* an older message of its key is not held: it waits in PostgreSQL behind it */
  brk_stage_t *stage = &self->stages[s];
  if (stage->catching_up && !swept) {
    brk_key_block (self, msg, false);   /* older rows of its key may wait unknown: so does it */
    return;
  }
  if (brk_queue_size (stage->queue) >= (size_t) self->cfg->broker_queue_cap
      || brk_queue_bytes (stage->queue) + msg->payload_len > BRK_QUEUE_BYTES_MAX) {
    brk_key_block (self, msg, false);   /* full: it waits in PostgreSQL, and its key behind it */
    return;
  }
  brk_known_t *entry = at_calloc (1, sizeof *entry);
  entry->stage = s;
  zhashx_insert (self->known, msg->id, entry);
  brk_queue_push (stage->queue, msg_p);
}

void
brk_enqueue (brk_t *self, at_msg_t **msg_p)
{
  s_enqueue (self, msg_p, false);
}

void
brk_enqueue_swept (brk_t *self, at_msg_t **msg_p)
{
  s_enqueue (self, msg_p, true);
}

/* ---- registration ---- */

void
brk_on_ready (brk_t *self, const brk_identity_t *from, const Atende__Bus__Ready *ready)
{
  unsigned stages = 0;
  for (size_t i = 0; i < ready->n_stages; i++) {
    int s = brk_stage_index (self, ready->stages[i] ? ready->stages[i] : "");
    if (s < 0) {
      brk_wire_reject (self, from, 0, BRK_REJECT_INVALID, "Ready names an unknown stage");
      return;
    }
    stages |= 1u << s;
  }
  if (stages == 0) {
    brk_wire_reject (self, from, 0, BRK_REJECT_INVALID, "Ready names no stage");
    return;
  }
  brk_peer_t *peer = brk_peer_find (self, from);
  if (peer == NULL) {
    if (self->n_peers == BRK_PEERS_MAX) {
      brk_wire_reject (self, from, 0, BRK_REJECT_BUSY, "too many workers");
      return;
    }
    peer = at_calloc (1, sizeof *peer);
    peer->identity = *from;
    zhashx_insert (self->peers, from->hex, peer);
    self->peer_list[self->n_peers++] = peer;
  }
  at_strlcpy (peer->worker_id, ready->worker_id ? ready->worker_id : "", sizeof peer->worker_id);
  peer->stages = stages;
  peer->credit = ready->credit > BRK_CREDIT_MAX ? BRK_CREDIT_MAX : ready->credit;
  peer->paused = ready->credit == 0;
  peer->last_seen_ms = at_mono_ms ();
  peer->blocked = false;
  peer->gone = false;
  at_info ("broker", "msg=\"worker ready\" peer=%s worker_id=\"%s\" stages=%u credit=%u",
           peer->identity.hex, peer->worker_id, stages, peer->credit);
}

/* ---- settlement and leases ---- */

static void
s_settle_one (brk_t *self, brk_peer_t *peer, const char *id, bool done, bool dead)
{
  brk_known_t *entry = id ? zhashx_lookup (self->known, id) : NULL;
  bool orphan = entry && entry->orphan;
  if (entry == NULL || entry->peer != peer || orphan) {
    /* not held by this worker: a lease it lost while alive (its credit
     * comes back now), or another broker's message */
    if (peer->lapsed > 0) {
      peer->lapsed--;
      if (peer->credit < BRK_CREDIT_MAX)
        peer->credit++;
    }
    if (!orphan)
      return;
    /* an orphan's row was never fenced: whoever settles it held it at its
     * attempt (the lock its expiry skipped), so the outcome stands */
  }
  else {
    peer->held--;
    if (peer->credit < BRK_CREDIT_MAX && !peer->paused)
      peer->credit++;
  }
  brk_stage_t *stage = &self->stages[entry->stage];
  s_key_add (self, entry->msg, -1);
  stage->in_flight--;
  if (done || dead)
    brk_key_unblock (self, entry->msg);
  else
    brk_key_block (self, entry->msg, true);   /* its retry keeps the key's place */
  if (done) {
    stage->settled_done++;
    if (stage->db_depth > 0)
      stage->db_depth--;   /* its row is gone: the backlog check sees it before the next count */
  }
  else
    stage->released++;
  zhashx_delete (self->known, id);
}

static bool
s_listed (char **ids, size_t n, const char *id)
{
  for (size_t i = 0; id && i < n; i++)
    if (ids[i] && strcmp (ids[i], id) == 0)
      return true;
  return false;
}

/* A produced message read back from PostgreSQL: queued like a published one. */
static void
s_produced_row (at_msg_t **msg_p, void *arg)
{
  s_produced_t *p = arg;
  p->found++;
  brk_enqueue (p->self, msg_p);
}

/* Benchmark mode has no PostgreSQL: the envelopes are all there is. */
static void
s_queue_produced_envelopes (brk_t *self, const Atende__Bus__Settle *settle)
{
  for (size_t i = 0; i < settle->n_produced; i++) {
    at_msg_t *msg = NULL;
    char reason[160];
    if (at_msg_from_pb (settle->produced[i], &msg, reason, sizeof reason) != AT_OK) {
      at_warn ("broker", "msg=\"produced envelope ignored\" reason=\"%s\"", reason);
      continue;
    }
    brk_enqueue (self, &msg);
    at_msg_destroy (&msg);
  }
}

/* The keys of produced messages the broker could not read back wait for a
 * sweep (their rows, if committed, stay in PostgreSQL): nothing newer of
 * them is queued ahead. */
static void
s_produced_wait (brk_t *self, const Atende__Bus__Settle *settle)
{
  for (size_t i = 0; i < settle->n_produced; i++) {
    const Atende__Bus__Envelope *env = settle->produced[i];
    if (env && env->stage && env->key && brk_stage_index (self, env->stage) >= 0
        && strlen (env->key) < AT_KEY_LEN)
      brk_key_set (self, env->stage, env->key, BRK_KEY_IN_STORE);
  }
}

/* A Settle names the messages its worker committed with its done rows; the
 * broker queues only what it reads back from PostgreSQL by those ids, never
 * what the Settle says of them (a message with no committed row behind it,
 * from a buggy or hostile peer, is never delivered). One query per Settle;
 * ids that are not UUIDs or have no pending row are counted and dropped. */
static void
s_queue_produced (brk_t *self, const Atende__Bus__Settle *settle)
{
  if (settle->n_produced == 0)
    return;
  if (!self->durable) {
    s_queue_produced_envelopes (self, settle);
    return;
  }
  const char **ids = at_calloc (settle->n_produced, sizeof *ids);
  size_t n = 0;
  for (size_t i = 0; i < settle->n_produced; i++) {
    const char *id = settle->produced[i] ? settle->produced[i]->id : NULL;
    if (id && at_uuid_valid (id))
      ids[n++] = id;
  }
  s_produced_t p = {.self = self};
  int rc = !brk_store_up (self) ? AT_AGAIN : at_store_bus_fetch (self->store, ids, n,
                                                                  s_produced_row, &p);
  free (ids);
  if (rc != AT_OK) {
    s_produced_wait (self, settle);
    brk_store_lost (self);
    return;
  }
  if (p.found < settle->n_produced) {
    self->rejected[BRK_REJECT_UNCOMMITTED] += settle->n_produced - p.found;
    at_warn ("broker", "msg=\"produced messages without a pending row, not queued\" named=%zu"
             " found=%zu", settle->n_produced, p.found);
  }
}

void
brk_on_settle (brk_t *self, brk_peer_t *peer, const Atende__Bus__Settle *settle)
{
  if (peer) {
    for (size_t i = 0; i < settle->n_dead; i++) {
      brk_known_t *entry = settle->dead[i] ? zhashx_lookup (self->known, settle->dead[i]) : NULL;
      if (entry && (entry->peer == peer || entry->orphan))
        self->stages[entry->stage].dead_lettered++;
    }
    for (size_t i = 0; i < settle->n_done; i++)
      s_settle_one (self, peer, settle->done[i], true, false);
    for (size_t i = 0; i < settle->n_released; i++)
      s_settle_one (self, peer, settle->released[i], false,
                    s_listed (settle->dead, settle->n_dead, settle->released[i]));
  }
  s_queue_produced (self, settle);
}

/* The lease of an in-flight message ends without a Settle: fence the
 * holder (attempt + 1) and put the message back at the front. The fence
 * never waits on a row lock: when a worker's open transaction holds the row
 * (AT_BUSY), or PostgreSQL does not answer, the message stays in flight
 * without a holder (orphan) and the expiry is tried again next tick. */
static void
s_lease_expire (brk_t *self, const char *id, brk_known_t *entry)
{
  brk_stage_t *stage = &self->stages[entry->stage];
  entry->peer = NULL;
  int rc = !self->durable ? AT_OK
           : brk_store_up (self) ? at_store_bus_bump (self->store, id, entry->msg->attempt)
                                 : AT_AGAIN;
  if (rc != AT_OK && rc != AT_STALE) {
    if (!entry->orphan)
      at_info ("broker", "msg=\"lease expiry deferred\" id=%s rc=%d", id, rc);
    entry->orphan = true;   /* still in flight: its key stays busy */
    if (rc == AT_AGAIN)
      brk_store_lost (self);
    return;
  }
  at_msg_t *msg = entry->msg;
  entry->msg = NULL;
  entry->orphan = false;
  s_key_add (self, msg, -1);
  stage->in_flight--;
  if (rc == AT_OK) {
    msg->attempt++;
    stage->redelivered++;
    brk_queue_push_front (stage->queue, &msg);
    return;
  }
  /* Stale: its holder finished it, or scheduled a retry it has not settled
   * yet. Either way its key waits (a gone blocker is cleared by the sweep). */
  brk_key_block (self, msg, true);
  at_msg_destroy (&msg);
  zhashx_delete (self->known, id);
}

void
brk_on_extend (brk_t *self, brk_peer_t *peer, const Atende__Bus__Extend *extend)
{
  if (peer == NULL)
    return;
  int64_t until = at_mono_ms () + self->cfg->lease_ms;
  for (size_t i = 0; i < extend->n_ids; i++) {
    brk_known_t *entry = extend->ids[i] ? zhashx_lookup (self->known, extend->ids[i]) : NULL;
    if (entry && entry->peer == peer)
      entry->lease_until_ms = until;   /* ids it does not hold are ignored */
  }
}

void
brk_peer_remove (brk_t *self, brk_peer_t *peer, const char *why)
{
  at_info ("broker", "msg=\"worker gone\" peer=%s worker_id=\"%s\" why=%s held=%zu",
           peer->identity.hex, peer->worker_id, why, peer->held);
  if (peer->held > 0) {
    zlistx_t *ids = zlistx_new ();
    zlistx_set_destructor (ids, (zlistx_destructor_fn *) zstr_free);
    for (brk_known_t *e = zhashx_first (self->known); e; e = zhashx_next (self->known))
      if (e->peer == peer)
        zlistx_add_end (ids, strdup (zhashx_cursor (self->known)));
    for (char *id = zlistx_first (ids); id; id = zlistx_next (ids))
      s_lease_expire (self, id, zhashx_lookup (self->known, id));
    zlistx_destroy (&ids);
  }
  for (size_t i = 0; i < self->n_peers; i++)
    if (self->peer_list[i] == peer) {
      self->peer_list[i] = self->peer_list[--self->n_peers];
      break;
    }
  zhashx_delete (self->peers, peer->identity.hex);   /* frees peer */
}

/* ---- dispatch ---- */

/* Sends one Deliver of up to the peer's credit; returns the send result. */
static int
s_deliver (brk_t *self, int s, brk_peer_t *peer)
{
  brk_stage_t *stage = &self->stages[s];
  size_t max = peer->credit < S_DELIVER_MAX ? peer->credit : S_DELIVER_MAX;
  at_msg_t *msgs[S_DELIVER_MAX];
  Atende__Bus__Envelope envs[S_DELIVER_MAX];
  Atende__Bus__Envelope *ptrs[S_DELIVER_MAX];
  size_t n = 0, bytes = 0;
  while (n < max && bytes < AT_BUS_BATCH_BYTES) {
    at_msg_t *msg = brk_queue_take (stage->queue);   /* its key's lane waits now */
    if (msg == NULL)
      break;
    s_key_add (self, msg, +1);
    atende__bus__envelope__init (&envs[n]);
    at_msg_to_pb (msg, &envs[n]);
    ptrs[n] = &envs[n];
    bytes += msg->payload_len;
    msgs[n++] = msg;
  }
  if (n == 0)
    return AT_NOTFOUND;
  Atende__Bus__Deliver deliver = ATENDE__BUS__DELIVER__INIT;
  deliver.n_envelopes = n;
  deliver.envelopes = ptrs;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_DELIVER;
  cmd.deliver = &deliver;
  int rc = brk_wire_send (self, &peer->identity, &cmd);
  for (size_t i = n; i-- > 0;) {
    if (rc != AT_OK) {
      s_key_add (self, msgs[i], -1);
      brk_queue_push_front (stage->queue, &msgs[i]);
      continue;
    }
    brk_known_t *entry = zhashx_lookup (self->known, msgs[i]->id);
    assert (entry != NULL);   /* every queued message is known */
    entry->peer = peer;
    entry->msg = msgs[i];
    entry->lease_until_ms = at_mono_ms () + self->cfg->lease_ms;
    stage->in_flight++;
    stage->delivered++;
    peer->held++;
    peer->credit--;
  }
  if (rc == AT_AGAIN)
    peer->blocked = true;
  else if (rc != AT_OK)
    peer->gone = true;
  return rc;
}

void
brk_dispatch (brk_t *self)
{
  for (int s = 0; s < BRK_STAGES; s++) {
    brk_stage_t *stage = &self->stages[s];
    size_t n = self->n_peers;
    for (size_t k = 0; k < n && brk_queue_size (stage->queue) > 0; k++) {
      brk_peer_t *peer = self->peer_list[(stage->rr + k) % n];
      if (!(peer->stages & (1u << s)) || peer->credit == 0 || peer->blocked || peer->gone)
        continue;
      if (s_deliver (self, s, peer) == AT_NOTFOUND && !peer->gone)
        break;   /* nothing deliverable: every key ahead is busy */
    }
    stage->rr++;
  }
}

/* ---- timers ---- */

void
brk_heartbeat (brk_t *self)
{
  for (size_t i = 0; i < self->n_peers; i++) {
    brk_peer_t *peer = self->peer_list[i];
    Atende__Bus__Heartbeat heartbeat = ATENDE__BUS__HEARTBEAT__INIT;
    Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
    cmd.body_case = ATENDE__BUS__COMMAND__BODY_HEARTBEAT;
    cmd.heartbeat = &heartbeat;
    if (brk_wire_send (self, &peer->identity, &cmd) == AT_NOTFOUND)
      peer->gone = true;
  }
}

/* Leases past their time whose worker is alive (it is slow, or stuck):
 * fence it and redeliver; its credit returns when it settles them. */
static void
s_expire_leases (brk_t *self)
{
  int64_t now = at_mono_ms ();
  zlistx_t *ids = NULL;
  for (brk_known_t *e = zhashx_first (self->known); e; e = zhashx_next (self->known))
    if ((e->peer && e->lease_until_ms < now) || e->orphan) {
      if (ids == NULL) {
        ids = zlistx_new ();
        zlistx_set_destructor (ids, (zlistx_destructor_fn *) zstr_free);
      }
      zlistx_add_end (ids, strdup (zhashx_cursor (self->known)));
    }
  if (ids == NULL)
    return;
  for (char *id = zlistx_first (ids); id; id = zlistx_next (ids)) {
    brk_known_t *entry = zhashx_lookup (self->known, id);
    brk_peer_t *peer = entry->peer;
    if (peer) {
      at_info ("broker", "msg=\"lease expired\" id=%s worker_id=\"%s\" attempt=%u", id,
               peer->worker_id, entry->msg->attempt);
      peer->held--;
      peer->lapsed++;
    }
    s_lease_expire (self, id, entry);
  }
  zlistx_destroy (&ids);
}

void
brk_expire (brk_t *self)
{
  s_expire_leases (self);
  int64_t limit = at_mono_ms () - 3 * self->cfg->heartbeat_ms;
  for (size_t i = self->n_peers; i-- > 0;) {
    brk_peer_t *peer = self->peer_list[i];
    if (peer->gone)
      brk_peer_remove (self, peer, "unreachable");
    else if (peer->last_seen_ms < limit)
      brk_peer_remove (self, peer, "expired");
  }
}
