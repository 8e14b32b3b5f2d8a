/* The broker's publish path: asynchronous group commit. Publishes are read
 * into the gathering group while earlier groups' INSERTs (one statement,
 * its own transaction, each) are in flight on a dedicated non-blocking
 * connection in pipeline mode whose socket the loop polls next to the
 * ROUTER: up to publish_groups_in_flight groups, which the server runs and
 * commits in the order they were sent. When a group's COMMIT returns, each
 * publisher of the group is confirmed and only then are the messages queued
 * for delivery. Benchmark mode (broker_durable=0) confirms on receipt. */
#include "brk_server.h"
#include "at_log.h"
#include "at_msg_pb.h"
#include "at_store_bus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#define S_STORE_RETRY_AFTER_MS 1000
#define S_DRAIN_RETRY_AFTER_MS 1000
#define S_RETRY_AFTER_MIN_MS 50
#define S_RETRY_AFTER_MAX_MS 10000
#define S_PIPELINE_MIN 64      /* messages a group needs to go out behind another */

bool
brk_publish_full (const brk_t *self)
{
  return self->gather->len >= (size_t) self->cfg->publish_batch_max;
}

static bool
s_text_ok (const char *text)
{
  return text == NULL || u8_check ((const uint8_t *) text, strlen (text)) == NULL;
}

/* Checks one envelope; AT_OK with *msg_out, or the refusal and its reason. */
static int
s_envelope (brk_t *self, const Atende__Bus__Envelope *env, at_msg_t **msg_out, brk_reject_t *why,
            char *reason, size_t cap)
{
  *msg_out = NULL;
  *why = BRK_REJECT_INVALID;
  if (env == NULL) {
    snprintf (reason, cap, "empty envelope");
    return AT_INVALID;
  }
  if (env->payload.len > AT_MSG_PAYLOAD_MAX) {
    *why = BRK_REJECT_OVERSIZE;
    snprintf (reason, cap, "payload of %zu bytes exceeds %d", env->payload.len, AT_MSG_PAYLOAD_MAX);
    return AT_INVALID;
  }
  if (!s_text_ok (env->id) || !s_text_ok (env->stage) || !s_text_ok (env->key)
      || !s_text_ok (env->type) || !s_text_ok (env->trace_id)) {
    snprintf (reason, cap, "a text field is not UTF-8");
    return AT_INVALID;
  }
  char why_text[160] = "";
  if (at_msg_from_pb (env, msg_out, why_text, sizeof why_text) != AT_OK || *msg_out == NULL) {
    snprintf (reason, cap, "invalid envelope: %s", why_text);
    return AT_INVALID;
  }
  if (brk_stage_index (self, (*msg_out)->stage) < 0) {
    snprintf (reason, cap, "unknown stage");
    at_msg_destroy (msg_out);
    return AT_INVALID;
  }
  return AT_OK;
}

/* The messages in [first, first + count) of g leave the unconfirmed count:
 * confirmed, or refused (busy, rejected, lost) with their publish. */
static void
s_unconfirmed_sub (brk_t *self, const brk_group_t *g, size_t first, size_t count)
{
  for (size_t i = first; i < first + count; i++)
    self->stages[brk_stage_index (self, g->msgs[i]->stage)].unconfirmed--;
}

static void
s_group_append (brk_t *self, brk_group_t *g, at_msg_t *msg)
{
  self->stages[brk_stage_index (self, msg->stage)].unconfirmed++;
  if (g->len == g->cap) {
    g->cap = g->cap ? g->cap * 2 : 256;
    g->msgs = realloc (g->msgs, g->cap * sizeof *g->msgs);
    if (g->msgs == NULL)
      abort ();
  }
  g->msgs[g->len++] = msg;
}

/* Drops the envelopes appended since `first` (a publish refused midway). */
static void
s_group_truncate (brk_group_t *g, size_t first)
{
  while (g->len > first)
    at_msg_destroy (&g->msgs[--g->len]);
}

static brk_pending_t *
s_pending_add (brk_group_t *g)
{
  if (g->pending_len == g->pending_cap) {
    g->pending_cap = g->pending_cap ? g->pending_cap * 2 : 64;
    g->pending = realloc (g->pending, g->pending_cap * sizeof *g->pending);
    if (g->pending == NULL)
      abort ();
  }
  return &g->pending[g->pending_len++];
}

/* How long a publisher should wait before retrying into a full stage: the
 * time the stage's workers need, at their recent pace, to bring the backlog
 * back under the limit (at least 50 ms, at most 10 s). */
static uint32_t
s_retry_after (const brk_t *self, const brk_stage_t *stage)
{
  int64_t excess = stage->db_depth + stage->published_recent + stage->unconfirmed
                   - self->cfg->bus_backlog_max + 1;
  double rate = stage->done_rate > 1 ? stage->done_rate : 1;
  double ms = 1000.0 * (double) (excess > 0 ? excess : 1) / rate;
  if (ms < S_RETRY_AFTER_MIN_MS)
    ms = S_RETRY_AFTER_MIN_MS;
  return (uint32_t) (ms > S_RETRY_AFTER_MAX_MS ? S_RETRY_AFTER_MAX_MS : ms);
}

/* True (and Busy sent) when the stage of msg cannot take more. The backlog
 * is the last count, what was confirmed since, and what is gathered or
 * committing now (this publish's earlier envelopes included). */
static bool
s_stage_full (brk_t *self, const brk_identity_t *from, uint64_t correlation, const at_msg_t *msg)
{
  brk_stage_t *stage = &self->stages[brk_stage_index (self, msg->stage)];
  bool full;
  if (self->durable)
    full = stage->db_depth + stage->published_recent + stage->unconfirmed
           >= self->cfg->bus_backlog_max;
  else   /* memory is all there is: the queue's cap is the backlog */
    full = (int64_t) brk_queue_size (stage->queue) + stage->unconfirmed
           >= self->cfg->broker_queue_cap;
  if (full)
    brk_wire_busy (self, from, correlation,
                   self->durable ? s_retry_after (self, stage) : S_RETRY_AFTER_MIN_MS,
                   stage->name);
  return full;
}

/* Confirms one committed publish and queues its messages. */
static void
s_confirm (brk_t *self, brk_group_t *g, const brk_pending_t *p)
{
  Atende__Bus__Confirm confirm = ATENDE__BUS__CONFIRM__INIT;
  confirm.correlation = p->correlation;
  confirm.count = (uint32_t) p->count;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_CONFIRM;
  cmd.confirm = &confirm;
  if (brk_wire_send (self, &p->identity, &cmd) != AT_OK)
    at_warn ("broker", "msg=\"confirm not sent: publisher will retry\" peer=%s",
             p->identity.hex);
  brk_histo_add (&self->confirm_latency, brk_latency_bounds,
                 (double) (at_mono_us () - p->received_us) / 1e6);
  s_unconfirmed_sub (self, g, p->first, p->count);
  for (size_t i = p->first; i < p->first + p->count; i++) {
    brk_stage_t *stage = &self->stages[brk_stage_index (self, g->msgs[i]->stage)];
    stage->published++;
    stage->published_recent++;
    brk_enqueue (self, &g->msgs[i]);
  }
}

void
brk_publish_add (brk_t *self, const brk_identity_t *from, const Atende__Bus__Publish *pub)
{
  if (self->draining) {
    brk_wire_busy (self, from, pub->correlation, S_DRAIN_RETRY_AFTER_MS, "");
    return;
  }
  if (self->durable && !brk_store_up (self)) {
    brk_wire_busy (self, from, pub->correlation, S_STORE_RETRY_AFTER_MS, "");
    return;
  }
  brk_group_t *g = self->gather;
  size_t first = g->len;
  for (size_t i = 0; i < pub->n_envelopes; i++) {
    at_msg_t *msg = NULL;
    brk_reject_t why;
    char reason[256];
    if (s_envelope (self, pub->envelopes[i], &msg, &why, reason, sizeof reason) != AT_OK) {
      s_unconfirmed_sub (self, g, first, g->len - first);
      s_group_truncate (g, first);
      brk_wire_reject (self, from, pub->correlation, why, reason);
      return;
    }
    if (s_stage_full (self, from, pub->correlation, msg)) {
      at_msg_destroy (&msg);
      s_unconfirmed_sub (self, g, first, g->len - first);
      s_group_truncate (g, first);
      return;
    }
    s_group_append (self, g, msg);
  }
  brk_pending_t *p = s_pending_add (g);
  p->identity = *from;
  p->correlation = pub->correlation;
  p->first = first;
  p->count = g->len - first;
  p->received_us = at_mono_us ();
  if (!self->durable) {   /* benchmark mode: "committed" on receipt */
    s_confirm (self, g, p);
    s_group_truncate (g, 0);
    g->pending_len = 0;
  }
}

static void
s_group_reset (brk_group_t *g)
{
  s_group_truncate (g, 0);
  g->pending_len = 0;
}

/* The grouped insert was refused: commit each publish alone on the sync
 * connection, so one bad publisher does not fail the others. */
static void
s_commit_one_by_one (brk_t *self, brk_group_t *g)
{
  for (size_t k = 0; k < g->pending_len; k++) {
    brk_pending_t *p = &g->pending[k];
    int rc = brk_store_up (self) ? at_store_bus_publish (self->store, g->msgs + p->first,
                                                         p->count, (int) self->cfg->broker_count)
                                 : AT_AGAIN;
    if (rc == AT_OK)
      s_confirm (self, g, p);
    else if (rc == AT_INVALID) {
      char reason[256];
      snprintf (reason, sizeof reason, "store refused the messages: %.200s",
                at_store_last_error (self->store));
      s_unconfirmed_sub (self, g, p->first, p->count);
      brk_wire_reject (self, &p->identity, p->correlation, BRK_REJECT_STORE, reason);
    }
    else {
      s_unconfirmed_sub (self, g, p->first, p->count);
      brk_store_lost (self);
      brk_wire_busy (self, &p->identity, p->correlation, S_STORE_RETRY_AFTER_MS, "");
    }
  }
}

/* Unknown outcome (the connection died during COMMIT): the publishers retry,
 * and ON CONFLICT makes a retry of a committed row harmless. */
static void
s_commit_lost (brk_t *self, brk_group_t *g)
{
  brk_store_lost (self);
  s_unconfirmed_sub (self, g, 0, g->len);
  for (size_t k = 0; k < g->pending_len; k++)
    brk_wire_busy (self, &g->pending[k].identity, g->pending[k].correlation,
                   S_STORE_RETRY_AFTER_MS, "");
}

/* The oldest group's COMMIT returned (rc) or failed: answer its publishers. */
static void
s_commit_done (brk_t *self, int rc, const char *why)
{
  brk_group_t *g = self->commits[0];
  for (int i = 1; i < self->n_commits; i++)
    self->commits[i - 1] = self->commits[i];
  self->commits[--self->n_commits] = NULL;
  if (self->n_commits == 0)
    self->commit_flushing = false;
  if (rc == AT_OK) {
    brk_histo_add (&self->commit_size, brk_commit_bounds, (double) g->len);
    for (size_t k = 0; k < g->pending_len; k++)
      s_confirm (self, g, &g->pending[k]);
    at_debug ("broker", "msg=\"group commit\" publishes=%zu messages=%zu", g->pending_len, g->len);
  }
  else if (rc == AT_INVALID) {
    at_warn ("broker", "msg=\"group refused, committing publishes one by one\" error=\"%.200s\"",
             why);
    s_commit_one_by_one (self, g);
  }
  else {
    at_warn ("broker", "msg=\"group commit lost\" error=\"%.200s\"", why);
    s_commit_lost (self, g);
  }
  s_group_reset (g);
  self->commit_rc = AT_NOTFOUND;   /* the next group's answer (why may be commit_why): set
                                      here and at start (brk_main.c) */
  self->commit_why[0] = '\0';
}

/* Every group in flight has an unknown outcome (its connection is gone):
 * its publishers retry, oldest group first. */
static void
s_commits_lost (brk_t *self, const char *why)
{
  while (self->n_commits > 0)
    s_commit_done (self, AT_AGAIN, why);
}

/* A group not in flight and not gathering, to gather into next. */
static brk_group_t *
s_group_free (brk_t *self)
{
  for (int i = 0; i <= BRK_COMMITS_MAX; i++) {
    brk_group_t *g = &self->groups[i];
    bool busy = g == self->gather;
    for (int k = 0; k < self->n_commits; k++)
      busy = busy || g == self->commits[k];
    if (!busy)
      return g;
  }
  abort ();   /* BRK_COMMITS_MAX + 1 groups: one is always free */
}

/* Sends the gathered group when fewer than publish_groups_in_flight are in
 * flight. Behind a group in flight, only a group of S_PIPELINE_MIN messages
 * or more: a smaller one waits and grows (each group is a commit of its
 * own, and small ones sent at once slowed the broker's confirms at
 * moderate load). A depth count that is due waits for the groups in flight
 * to return first (it must see no group half-confirmed), so none is added
 * then. */
void
brk_publish_flush (brk_t *self)
{
  brk_group_t *g = self->gather;
  /* A connection that died under groups in flight may have no socket left
   * to poll (a send found it dead): nothing would ever answer them. */
  if (self->n_commits > 0 && !at_store_ok (self->commit_store))
    s_commits_lost (self, "commit connection lost");
  int most = (int) self->cfg->publish_groups_in_flight;
  most = most < 1 ? 1 : most > BRK_COMMITS_MAX ? BRK_COMMITS_MAX : most;
  if (g->pending_len == 0 || self->n_commits >= most
      || (self->n_commits > 0 && (self->stats_due || g->len < S_PIPELINE_MIN)))
    return;
  if (!brk_store_up (self)) {
    s_commit_lost (self, g);
    s_group_reset (g);
    return;
  }
  int rc = at_store_bus_publish_send (self->commit_store, g->msgs, g->len,
                                      (int) self->cfg->broker_count);
  if (rc == AT_INVALID) {   /* too large for one statement */
    s_commit_one_by_one (self, g);
    s_group_reset (g);
    return;
  }
  if (rc != AT_OK) {   /* the connection is down: the groups sent on it too */
    s_commits_lost (self, at_store_last_error (self->commit_store));
    s_commit_lost (self, g);
    s_group_reset (g);
    return;
  }
  self->commits[self->n_commits++] = g;
  self->gather = s_group_free (self);
  rc = at_store_bus_publish_flush (self->commit_store);
  self->commit_flushing = rc == AT_AGAIN;
  if (rc == AT_ERROR)
    s_commits_lost (self, at_store_last_error (self->commit_store));
}

int
brk_publish_fd (const brk_t *self, short *events)
{
  *events = 0;
  if (self->n_commits == 0 || self->commit_store == NULL)
    return -1;
  *events = (short) (ZMQ_POLLIN | (self->commit_flushing ? ZMQ_POLLOUT : 0));
  return PQsocket (at_store_conn (self->commit_store));
}

void
brk_publish_io (brk_t *self)
{
  if (self->n_commits == 0)
    return;
  if (self->commit_flushing) {
    int rc = at_store_bus_publish_flush (self->commit_store);
    self->commit_flushing = rc == AT_AGAIN;
    if (rc == AT_ERROR) {
      s_commits_lost (self, "flush failed");
      return;
    }
  }
  /* Every group whose answer is read: the next one's may have come with it. */
  while (self->n_commits > 0
         && at_store_bus_publish_poll (self->commit_store, &self->commit_rc, self->commit_why,
                                       sizeof self->commit_why))
    s_commit_done (self, self->commit_rc, self->commit_why);
}

void
brk_publish_destroy (brk_t *self)
{
  for (int i = 0; i <= BRK_COMMITS_MAX; i++) {
    s_group_reset (&self->groups[i]);
    free (self->groups[i].msgs);
    free (self->groups[i].pending);
  }
  at_store_destroy (&self->commit_store);
}
