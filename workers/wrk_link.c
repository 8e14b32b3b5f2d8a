/* wrk_link: a stage thread's DEALER sockets, one per broker (proto/README.md).
 *
 *   worker -> broker   Ready{stages, credit, worker_id}, Heartbeat, Settle,
 *                      Disconnect
 *   broker -> worker   Deliver{envelopes}, Heartbeat, Reconnect, Disconnect,
 *                      Reject
 * Each link counts the messages it delivered that are not settled yet
 * (held): Ready offers the broker the credit not held. A broker silent for
 * three heartbeat intervals, or one that answers Reconnect, gets Ready again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "wrk_int.h"
#include "at_log.h"
#include "at_msg_pb.h"
#include "at_zmq.h"

#define WRK_COMP "worker"
#define WRK_ENDPOINT_MAX 256
#define WRK_RECV_BURST 256     /* commands read from one broker per poll */

typedef struct {
  char endpoint[WRK_ENDPOINT_MAX];
  void *socket;
  int64_t heard_ms;            /* last command from it */
  int64_t beat_ms;             /* last heartbeat to it */
  int64_t ready_ms;            /* last Ready to it */
  bool silent;                 /* reported as silent */
  bool zero_ready;             /* a Ready with credit 0 paused it (not draining) */
  bool forbidden;              /* CURVE: our key's role may not work this stage there:
                                * not ready until it delivers or heartbeats to us */
  int64_t held;                /* delivered, not settled */
} wrk_link_t;

struct wrk_links {
  const at_config_t *cfg;
  char stage[AT_STAGE_LEN];
  char worker_id[WRK_ID_MAX];
  wrk_link_t links[WRK_LINKS_MAX];
  zmq_pollitem_t items[WRK_LINKS_MAX];
  size_t n;
  bool paused;                 /* draining: Ready with credit 0 sent */
  int64_t paused_ms;
  uint64_t n_send_failed;
  uint64_t n_bad_commands;
  uint64_t n_poll_failed;
};

static int
s_endpoints (wrk_links_t *self, const at_list_t *list)
{
  for (size_t i = 0; i < list->n; i++) {
    if (self->n == WRK_LINKS_MAX
        || at_strlcpy (self->links[self->n].endpoint, list->items[i].value, WRK_ENDPOINT_MAX)
             >= WRK_ENDPOINT_MAX)
      return AT_INVALID;
    self->n++;
  }
  return self->n > 0 ? AT_OK : AT_INVALID;
}

wrk_links_t *
wrk_links_new (const at_config_t *cfg, const char *stage, const char *worker_id)
{
  wrk_links_t *self = at_calloc (1, sizeof *self);
  self->cfg = cfg;
  at_strlcpy (self->stage, stage, sizeof self->stage);
  at_strlcpy (self->worker_id, worker_id, sizeof self->worker_id);
  if (s_endpoints (self, &cfg->broker_endpoints) != AT_OK) {
    at_error (WRK_COMP, "msg=\"bad broker endpoint list\" endpoints=\"%s\"",
              cfg->broker_endpoints.text);
    goto fail;
  }
  int64_t now = at_mono_ms ();
  at_bus_curve_t curve;
  for (size_t i = 0; i < self->n; i++) {
    wrk_link_t *link = &self->links[i];
    link->socket = at_bus_dealer_new (link->endpoint, at_bus_curve_of (cfg, &curve));
    if (link->socket == NULL)
      goto fail;
    link->heard_ms = now;
    link->beat_ms = now;
    self->items[i].socket = link->socket;
    self->items[i].events = ZMQ_POLLIN;
  }
  return self;
fail:
  wrk_links_destroy (&self, false, 0);
  return NULL;
}

static const char *
s_cmd_name (int body_case)
{
  switch (body_case) {
  case ATENDE__BUS__COMMAND__BODY_READY: return "ready";
  case ATENDE__BUS__COMMAND__BODY_SETTLE: return "settle";
  case ATENDE__BUS__COMMAND__BODY_HEARTBEAT: return "heartbeat";
  case ATENDE__BUS__COMMAND__BODY_DISCONNECT: return "disconnect";
  case ATENDE__BUS__COMMAND__BODY_DELIVER: return "deliver";
  case ATENDE__BUS__COMMAND__BODY_RECONNECT: return "reconnect";
  case ATENDE__BUS__COMMAND__BODY_REJECT: return "reject";
  case ATENDE__BUS__COMMAND__BODY_EXTEND: return "extend";
  default: return "other";
  }
}

/* Sends without blocking; a refused send is logged (first, then every
 * 1000th), never silent. */
static int
s_send (wrk_links_t *self, wrk_link_t *link, Atende__Bus__Command *cmd)
{
  int rc = at_bus_cmd_send (link->socket, cmd, ZMQ_DONTWAIT);
  if (rc != AT_OK) {
    if (self->n_send_failed++ % 1000 == 0)
      at_warn (WRK_COMP, "msg=\"send to broker refused\" stage=%s endpoint=\"%s\" cmd=%s "
               "rc=%d failed_total=%llu", self->stage, link->endpoint,
               s_cmd_name (cmd->body_case), rc, (unsigned long long) self->n_send_failed);
  }
  return rc;
}

static void
s_send_ready (wrk_links_t *self, wrk_link_t *link)
{
  int64_t credit = self->paused ? 0 : self->cfg->worker_credit - link->held;
  /* Credit 0 pauses the broker until the next Ready: after a Settle frees
   * credit, say Ready again (s_settle_link). */
  link->zero_ready = credit <= 0 && !self->paused;
  char *stages[1] = {self->stage};
  Atende__Bus__Ready ready = ATENDE__BUS__READY__INIT;
  ready.n_stages = 1;
  ready.stages = stages;
  ready.credit = credit > 0 ? (uint32_t) credit : 0;
  ready.worker_id = self->worker_id;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_READY;
  cmd.ready = &ready;
  link->ready_ms = at_mono_ms ();
  if (s_send (self, link, &cmd) == AT_OK)
    at_info (WRK_COMP, "msg=\"ready\" stage=%s endpoint=\"%s\" credit=%u worker_id=%s",
             self->stage, link->endpoint, ready.credit, self->worker_id);
}

static void
s_send_simple (wrk_links_t *self, wrk_link_t *link, int body_case, const char *reason)
{
  Atende__Bus__Heartbeat heartbeat = ATENDE__BUS__HEARTBEAT__INIT;
  Atende__Bus__Disconnect disconnect = ATENDE__BUS__DISCONNECT__INIT;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = body_case;
  if (body_case == ATENDE__BUS__COMMAND__BODY_DISCONNECT) {
    disconnect.reason = (char *) (reason ? reason : "");
    cmd.disconnect = &disconnect;
  }
  else
    cmd.heartbeat = &heartbeat;
  s_send (self, link, &cmd);
}

void
wrk_links_destroy (wrk_links_t **self_p, bool disconnect, int linger_ms)
{
  if (self_p == NULL || *self_p == NULL)
    return;
  wrk_links_t *self = *self_p;
  for (size_t i = 0; i < self->n; i++) {
    wrk_link_t *link = &self->links[i];
    if (link->socket == NULL)
      continue;
    if (disconnect)
      s_send_simple (self, link, ATENDE__BUS__COMMAND__BODY_DISCONNECT, "shutdown");
    /* Linger so the last Settle and the Disconnect leave before exit. */
    int linger = linger_ms > 0 ? linger_ms : 0;
    zmq_setsockopt (link->socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close (link->socket);
    link->socket = NULL;
  }
  if (self->n_send_failed || self->n_bad_commands)
    at_warn (WRK_COMP, "msg=\"links closed\" stage=%s send_failed_total=%llu "
             "bad_commands_total=%llu", self->stage, (unsigned long long) self->n_send_failed,
             (unsigned long long) self->n_bad_commands);
  free (self);
  *self_p = NULL;
}

size_t
wrk_links_size (wrk_links_t *self)
{
  return self->n;
}

void
wrk_links_ready (wrk_links_t *self)
{
  for (size_t i = 0; i < self->n; i++)
    s_send_ready (self, &self->links[i]);
}

void
wrk_links_beat (wrk_links_t *self, int64_t now_ms)
{
  for (size_t i = 0; i < self->n; i++) {
    wrk_link_t *link = &self->links[i];
    if (now_ms - link->beat_ms >= self->cfg->heartbeat_ms) {
      s_send_simple (self, link, ATENDE__BUS__COMMAND__BODY_HEARTBEAT, NULL);
      link->beat_ms = now_ms;
    }
  }
}

/* True when commands wait unread (we were busy, the broker was not silent). */
static bool
s_unread (wrk_link_t *link)
{
  int events = 0;
  size_t size = sizeof events;
  return zmq_getsockopt (link->socket, ZMQ_EVENTS, &events, &size) == 0
         && (events & ZMQ_POLLIN);
}

void
wrk_links_tick (wrk_links_t *self, int64_t now_ms)
{
  int64_t beat = self->cfg->heartbeat_ms;
  wrk_links_beat (self, now_ms);
  for (size_t i = 0; i < self->n; i++) {
    wrk_link_t *link = &self->links[i];
    if (now_ms - link->heard_ms >= 3 * beat && !s_unread (link)) {
      if (!link->silent)
        at_warn (WRK_COMP, "msg=\"broker silent, sending ready again\" stage=%s "
                 "endpoint=\"%s\" silent_ms=%lld", self->stage, link->endpoint,
                 (long long) (now_ms - link->heard_ms));
      link->silent = true;
      link->heard_ms = now_ms;
      s_send_ready (self, link);
    }
  }
}

int
wrk_links_next_due_ms (wrk_links_t *self, int64_t now_ms)
{
  int64_t due = self->cfg->heartbeat_ms;
  for (size_t i = 0; i < self->n; i++) {
    int64_t left = self->links[i].beat_ms + self->cfg->heartbeat_ms - now_ms;
    if (left < due)
      due = left;
  }
  return due > 0 ? (int) due : 0;
}

/* One command from a broker. */
static void
s_handle (wrk_links_t *self, size_t index, Atende__Bus__Command *cmd, wrk_envelope_fn *fn,
          void *arg)
{
  wrk_link_t *link = &self->links[index];
  switch (cmd->body_case) {
  case ATENDE__BUS__COMMAND__BODY_DELIVER:
    link->forbidden = false;
    for (size_t i = 0; cmd->deliver && i < cmd->deliver->n_envelopes; i++) {
      link->held++;
      fn (arg, index, cmd->deliver->envelopes[i]);
    }
    break;
  case ATENDE__BUS__COMMAND__BODY_HEARTBEAT:
    link->forbidden = false;   /* brokers heartbeat only the workers they registered */
    break;
  case ATENDE__BUS__COMMAND__BODY_RECONNECT:
    /* Heartbeats queued while it was away each bring a Reconnect: one Ready
     * per interval answers them all (a lost one is asked for again). */
    if (at_mono_ms () - link->ready_ms < self->cfg->heartbeat_ms)
      break;
    at_info (WRK_COMP, "msg=\"broker does not know us\" stage=%s endpoint=\"%s\"",
             self->stage, link->endpoint);
    s_send_ready (self, link);
    break;
  case ATENDE__BUS__COMMAND__BODY_DISCONNECT:
    at_info (WRK_COMP, "msg=\"broker said goodbye\" stage=%s endpoint=\"%s\" reason=\"%s\"",
             self->stage, link->endpoint,
             cmd->disconnect && cmd->disconnect->reason ? cmd->disconnect->reason : "");
    break;
  case ATENDE__BUS__COMMAND__BODY_REJECT: {
    const char *reason = cmd->reject && cmd->reject->reason ? cmd->reject->reason : "";
    bool forbidden = strncmp (reason, "forbidden", 9) == 0;
    self->n_bad_commands++;
    if (!forbidden || !link->forbidden)   /* a refused role: said once, not every Ready */
      at_warn (WRK_COMP, "msg=\"broker rejected a command\" stage=%s endpoint=\"%s\" "
               "reason=\"%.200s\"", self->stage, link->endpoint, reason);
    link->forbidden = link->forbidden || forbidden;
    break;
  }
  default:
    if (self->n_bad_commands++ % 1000 == 0)
      at_warn (WRK_COMP, "msg=\"unexpected command from broker\" stage=%s endpoint=\"%s\" "
               "body=%d", self->stage, link->endpoint, (int) cmd->body_case);
    break;
  }
}

/* Reads what one broker sent, up to a burst. */
static void
s_drain (wrk_links_t *self, size_t index, wrk_envelope_fn *fn, void *arg)
{
  wrk_link_t *link = &self->links[index];
  for (int k = 0; k < WRK_RECV_BURST; k++) {
    Atende__Bus__Command *cmd = NULL;
    char reason[160] = "";
    int rc = at_bus_cmd_recv (link->socket, &cmd, ZMQ_DONTWAIT, reason, sizeof reason);
    if (rc == AT_AGAIN)
      return;
    if (rc == AT_INVALID) {
      if (self->n_bad_commands++ % 1000 == 0)
        at_warn (WRK_COMP, "msg=\"bad frame from broker\" stage=%s endpoint=\"%s\" "
                 "reason=\"%s\"", self->stage, link->endpoint, reason);
      continue;
    }
    if (rc != AT_OK)
      return;
    link->heard_ms = at_mono_ms ();
    if (link->silent) {
      at_info (WRK_COMP, "msg=\"broker answering again\" stage=%s endpoint=\"%s\"",
               self->stage, link->endpoint);
      link->silent = false;
    }
    s_handle (self, index, cmd, fn, arg);
    atende__bus__command__free_unpacked (cmd, NULL);
  }
}

int
wrk_links_poll (wrk_links_t *self, int timeout_ms, wrk_envelope_fn *fn, void *arg)
{
  int rc = zmq_poll (self->items, (int) self->n, timeout_ms);
  if (rc == 0 || (rc < 0 && zmq_errno () == EINTR))
    return AT_OK;
  if (rc < 0) {
    if (self->n_poll_failed++ % 1000 == 0)
      at_error (WRK_COMP, "msg=\"poll failed\" stage=%s error=\"%s\"", self->stage,
                zmq_strerror (zmq_errno ()));
    return AT_ERROR;
  }
  for (size_t i = 0; i < self->n; i++)
    if (self->items[i].revents & ZMQ_POLLIN)
      s_drain (self, i, fn, arg);
  return AT_OK;
}

static void
s_release_held (wrk_link_t *link, size_t n)
{
  link->held -= (int64_t) n;
  if (link->held < 0)
    link->held = 0;
}

/* How many of a settled batch's messages one link settles (done, released)
 * and how many produced messages go to its broker. */
static void
s_settle_counts (const wrk_links_t *self, size_t index, const wrk_item_t *items, size_t n,
                 size_t *n_done, size_t *n_released, size_t *n_produced)
{
  *n_done = *n_released = *n_produced = 0;
  for (size_t i = 0; i < n; i++) {
    if (items[i].link == index && items[i].outcome == WRK_OUT_DONE)
      (*n_done)++;
    else if (items[i].link == index)
      (*n_released)++;
    if (items[i].outcome == WRK_OUT_DONE)
      for (size_t p = 0; p < items[i].n_produced; p++)
        *n_produced += at_bus_shard (items[i].produced[p]->key, (uint32_t) self->n) == index;
  }
}

/* Sends one link's share of a settled batch; produced envelopes are split
 * so that no frame carries more than AT_BUS_BATCH_BYTES of payload. */
static void
s_settle_link (wrk_links_t *self, size_t index, const wrk_item_t *items, size_t n)
{
  wrk_link_t *link = &self->links[index];
  size_t n_done, n_released, n_produced;
  s_settle_counts (self, index, items, n, &n_done, &n_released, &n_produced);
  if (n_done + n_released + n_produced == 0)
    return;
  char **done = at_calloc (n_done + 1, sizeof *done);
  char **released = at_calloc (n_released + 1, sizeof *released);
  char **dead = at_calloc (n_released + 1, sizeof *dead);
  Atende__Bus__Envelope *envs = at_calloc (n_produced + 1, sizeof *envs);
  Atende__Bus__Envelope **env_ps = at_calloc (n_produced + 1, sizeof *env_ps);
  Atende__Bus__Settle settle = ATENDE__BUS__SETTLE__INIT;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_SETTLE;
  cmd.settle = &settle;
  settle.done = done;
  settle.released = released;
  settle.dead = dead;
  settle.produced = env_ps;
  size_t bytes = 0;
  for (size_t i = 0; i < n; i++) {
    const wrk_item_t *item = &items[i];
    if (item->link == index) {
      if (item->outcome == WRK_OUT_DONE)
        done[settle.n_done++] = (char *) item->m.msg->id;
      else
        released[settle.n_released++] = (char *) item->m.msg->id;
      if (item->outcome == WRK_OUT_DEAD)
        dead[settle.n_dead++] = (char *) item->m.msg->id;
    }
    for (size_t p = 0; item->outcome == WRK_OUT_DONE && p < item->n_produced; p++) {
      const at_msg_t *msg = item->produced[p];
      if (at_bus_shard (msg->key, (uint32_t) self->n) != index)
        continue;
      if (settle.n_produced > 0 && bytes + msg->payload_len > AT_BUS_BATCH_BYTES) {
        s_send (self, link, &cmd);       /* a full frame: send it, reuse the arrays */
        settle.n_done = settle.n_released = settle.n_produced = settle.n_dead = 0;
        bytes = 0;
      }
      Atende__Bus__Envelope *env = &envs[settle.n_produced];
      atende__bus__envelope__init (env);
      at_msg_to_pb (msg, env);
      env_ps[settle.n_produced++] = env;
      bytes += msg->payload_len;
    }
  }
  s_send (self, link, &cmd);
  s_release_held (link, n_done + n_released);
  if (link->zero_ready && !self->paused && n_done + n_released > 0)
    s_send_ready (self, link);
  free (dead);
  free (env_ps);
  free (envs);
  free (released);
  free (done);
}

void
wrk_links_settle (wrk_links_t *self, const wrk_item_t *items, size_t n)
{
  for (size_t i = 0; i < self->n; i++)
    s_settle_link (self, i, items, n);
}

void
wrk_links_release (wrk_links_t *self, size_t index, const char *id)
{
  if (index >= self->n || id == NULL)
    return;
  char *released[1] = {(char *) id};
  Atende__Bus__Settle settle = ATENDE__BUS__SETTLE__INIT;
  settle.n_released = 1;
  settle.released = released;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_SETTLE;
  cmd.settle = &settle;
  s_send (self, &self->links[index], &cmd);
  s_release_held (&self->links[index], 1);
}

void
wrk_links_pause (wrk_links_t *self)
{
  if (self->paused)
    return;
  self->paused = true;
  self->paused_ms = at_mono_ms ();
  for (size_t i = 0; i < self->n; i++)
    s_send_ready (self, &self->links[i]);
}

/* A broker command read half an interval after the pause was sent came
 * after the broker read the pause (it reads commands before its timers):
 * any Deliver it sent before is in our hands. A silent broker sends nothing. */
bool
wrk_links_pause_heard (wrk_links_t *self)
{
  if (!self->paused)
    return false;
  int64_t after = self->paused_ms + self->cfg->heartbeat_ms / 2;
  int64_t now = at_mono_ms ();
  for (size_t i = 0; i < self->n; i++) {
    const wrk_link_t *link = &self->links[i];
    bool silent = now - link->heard_ms >= 3 * self->cfg->heartbeat_ms;
    if (link->heard_ms < after && !silent)
      return false;
  }
  return true;
}

void
wrk_links_extend (wrk_links_t *self, const wrk_item_t *items, size_t n,
                  const wrk_item_t *ring, size_t cap, size_t head, size_t count)
{
  if (ring == NULL || cap == 0)
    count = 0;
  if (n + count == 0)
    return;
  char **ids = at_calloc (n + count, sizeof *ids);
  for (size_t l = 0; l < self->n; l++) {
    Atende__Bus__Extend extend = ATENDE__BUS__EXTEND__INIT;
    extend.ids = ids;
    for (size_t i = 0; i < n; i++)
      if (items[i].link == l && items[i].m.msg)
        ids[extend.n_ids++] = (char *) items[i].m.msg->id;
    for (size_t i = 0; i < count; i++) {
      const wrk_item_t *item = &ring[(head + i) % cap];
      if (item->link == l && item->m.msg)
        ids[extend.n_ids++] = (char *) item->m.msg->id;
    }
    if (extend.n_ids == 0)
      continue;
    Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
    cmd.body_case = ATENDE__BUS__COMMAND__BODY_EXTEND;
    cmd.extend = &extend;
    s_send (self, &self->links[l], &cmd);
  }
  free (ids);
}

bool
wrk_links_up (wrk_links_t *self)
{
  int64_t now = at_mono_ms ();
  for (size_t i = 0; i < self->n; i++)
    if (self->links[i].silent || self->links[i].forbidden
        || now - self->links[i].heard_ms >= 3 * self->cfg->heartbeat_ms)
      return false;
  return true;
}

/* ---- leases during long work: keepalive, pause on drain ---- */

void
wrk_ctx_pause_if_stopping (wrk_ctx_t *ctx)
{
  if (ctx == NULL || ctx->links == NULL || ctx->paused || ctx->stop == NULL
      || !atomic_load (ctx->stop))
    return;
  wrk_links_pause (ctx->links);
  ctx->paused = true;
  if (ctx->metrics)
    wrk_metrics_ready (ctx->metrics, ctx->metrics_index, false);
  at_info (WRK_COMP, "msg=\"draining: no new deliveries\" stage=%s", ctx->stage->name);
}

void
wrk_ctx_keepalive (wrk_ctx_t *ctx)
{
  if (ctx == NULL || ctx->links == NULL)
    return;
  wrk_ctx_pause_if_stopping (ctx);
  int64_t now = at_mono_ms ();
  wrk_links_beat (ctx->links, now);
  /* Renew well before a lease ends: every third of it, at most every heartbeat. */
  int64_t every = ctx->cfg->lease_ms / 3 < ctx->cfg->heartbeat_ms ? ctx->cfg->lease_ms / 3
                                                                   : ctx->cfg->heartbeat_ms;
  if (ctx->batch_n > 0 && now - ctx->extended_ms >= every) {
    size_t head = ctx->ring_head ? *ctx->ring_head : 0;
    size_t count = ctx->ring_count ? *ctx->ring_count : 0;
    wrk_links_extend (ctx->links, ctx->batch, ctx->batch_n, ctx->ring, ctx->ring_cap, head,
                      count);
    ctx->extended_ms = now;
  }
}
