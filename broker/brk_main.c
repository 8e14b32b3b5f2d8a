/* The broker's entry point: the ROUTER socket, the poll loop and its timers
 * (stats, sweep, heartbeat and lease expiry), the metrics snapshot. */
#include "brk.h"
#include "brk_access.h"
#include "brk_server.h"
#include "at_log.h"
#include "at_store_bus.h"
#include "at_zmq.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_STATS_MS 1000
#define S_SNAPSHOT_MS 100
#define S_HWM 100000

static volatile sig_atomic_t s_stop;

static void
s_on_signal (int sig)
{
  (void) sig;
  s_stop = 1;
}

static void
s_signals (void)
{
  struct sigaction sa;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = s_on_signal;   /* no SA_RESTART: zmq_poll returns EINTR */
  sigemptyset (&sa.sa_mask);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  signal (SIGPIPE, SIG_IGN);
}

static void
s_known_free (void **item_p)
{
  brk_known_t *entry = *item_p;
  if (entry) {
    at_msg_destroy (&entry->msg);
    free (entry);
  }
  *item_p = NULL;
}

static void
s_peer_free (void **item_p)
{
  free (*item_p);
  *item_p = NULL;
}

/* CURVE on: the ROUTER is a CURVE server; the ZAP handler (bound first, in
 * brk_run) decides who gets in. */
static int
s_router_curve (void *router, const at_config_t *cfg)
{
  int one = 1;
  if (!zmq_has ("curve")) {
    at_error ("broker", "msg=\"ATENDE_BUS_CURVE_SECRET is set but this libzmq has no CURVE\"");
    return AT_ERROR;
  }
  if (zmq_setsockopt (router, ZMQ_CURVE_SERVER, &one, sizeof one) != 0
      || zmq_setsockopt (router, ZMQ_CURVE_SECRETKEY, cfg->bus_curve_secret,
                         strlen (cfg->bus_curve_secret) + 1) != 0
      || zmq_setsockopt (router, ZMQ_ZAP_DOMAIN, "atende", strlen ("atende")) != 0) {
    at_error ("broker", "msg=\"cannot make the bus a CURVE server\" error=\"%s\"",
              zmq_strerror (errno));
    return AT_ERROR;
  }
  return AT_OK;
}

static void *
s_router_new (const at_config_t *cfg)
{
  void *router = zmq_socket (at_bus_zmq_context (), ZMQ_ROUTER);
  if (router == NULL)
    return NULL;
  int one = 1, linger = 0, hwm = S_HWM;
  int64_t max_size = AT_BUS_FRAME_MAX;
  zmq_setsockopt (router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
  zmq_setsockopt (router, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt (router, ZMQ_SNDHWM, &hwm, sizeof hwm);
  zmq_setsockopt (router, ZMQ_RCVHWM, &hwm, sizeof hwm);
  zmq_setsockopt (router, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size);
  if (cfg->bus_curve_secret[0] && s_router_curve (router, cfg) != AT_OK) {
    zmq_close (router);
    return NULL;
  }
  if (zmq_bind (router, cfg->broker_bind) != 0) {
    at_error ("broker", "msg=\"cannot bind\" endpoint=\"%s\" error=\"%s\"", cfg->broker_bind,
              zmq_strerror (errno));
    zmq_close (router);
    return NULL;
  }
  return router;
}

static brk_t *
s_new (const at_config_t *cfg)
{
  static const char *const names[BRK_STAGES]
      = {AT_STAGE_INGEST, AT_STAGE_ROUTE, AT_STAGE_NOTIFY, AT_STAGE_SURVEY};
  brk_t *self = at_calloc (1, sizeof *self);
  self->cfg = cfg;
  for (int s = 0; s < BRK_STAGES; s++) {
    at_strlcpy (self->stages[s].name, names[s], sizeof self->stages[s].name);
    self->stages[s].queue = brk_queue_new ();
    self->stages[s].catching_up = cfg->broker_durable != 0;
  }
  self->known = zhashx_new ();
  zhashx_set_destructor (self->known, s_known_free);
  self->keys = zhashx_new ();
  self->blocked = zhashx_new ();
  zhashx_set_destructor (self->blocked, (zhashx_destructor_fn *) zstr_free);
  self->peers = zhashx_new ();
  zhashx_set_destructor (self->peers, s_peer_free);
  self->logged = zhashx_new ();
  self->gather = &self->groups[0];
  self->commit_rc = AT_NOTFOUND;   /* no answer yet for the first group in flight */
  self->durable = cfg->broker_durable != 0;
  return self;
}

static void
s_destroy (brk_t **self_p)
{
  brk_t *self = *self_p;
  if (self == NULL)
    return;
  if (self->router) {
    int linger = 0;
    zmq_setsockopt (self->router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close (self->router);
  }
  brk_zap_destroy (&self->zap);
  brk_metrics_destroy (&self->metrics);
  for (int s = 0; s < BRK_STAGES; s++)
    brk_queue_destroy (&self->stages[s].queue);
  zhashx_destroy (&self->known);
  zhashx_destroy (&self->keys);
  zhashx_destroy (&self->blocked);
  zhashx_destroy (&self->peers);
  zhashx_destroy (&self->logged);
  brk_publish_destroy (self);
  at_store_destroy (&self->store);
  free (self);
  *self_p = NULL;
}

/* Exact counts stop here; above it the planner's estimate is used. */
#define S_COUNT_CAP 10000

/* Refreshes the per-stage depth and oldest age of this broker's shard from
 * PostgreSQL (capped count + estimate: cheap with any backlog), and the
 * smoothed pace at which each stage's messages are done. Called only while
 * no group commit is in flight: a group that commits while the count runs
 * would be in the count and, once confirmed, in published_recent too (the
 * backlog looked full one group early: Busy before it was). */
static void
s_stats (brk_t *self)
{
  int64_t now = at_mono_ms ();
  double span_ms = self->stats_ms > 0 && now > self->stats_ms ? (double) (now - self->stats_ms)
                                                              : S_STATS_MS;
  self->stats_ms = now;
  self->stats_due = false;
  for (int s = 0; s < BRK_STAGES; s++) {
    brk_stage_t *st = &self->stages[s];
    double rate = (double) (st->settled_done - st->done_at_stats) * 1000.0 / span_ms;
    st->done_rate = st->done_rate * 0.7 + rate * 0.3;
    st->done_at_stats = st->settled_done;
  }
  if (!self->durable) {
    for (int s = 0; s < BRK_STAGES; s++)
      self->stages[s].db_depth = (int64_t) (brk_queue_size (self->stages[s].queue)
                                            + self->stages[s].in_flight);
    return;
  }
  if (!brk_store_up (self))
    return;
  at_store_bus_stat_t stats[BRK_STAGES];
  size_t n = 0;
  if (at_store_bus_stats (self->store, (int) self->cfg->broker_index,
                          (int) self->cfg->broker_count, S_COUNT_CAP, stats,
                          AT_ARRAY_LEN (stats), &n) != AT_OK) {
    brk_store_lost (self);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    int s = brk_stage_index (self, stats[i].stage);
    if (s >= 0) {
      self->stages[s].db_depth = stats[i].depth;
      self->stages[s].db_delayed = stats[i].delayed;
      self->stages[s].oldest_age_s = stats[i].oldest_age_s;
      self->stages[s].published_recent = 0;
    }
  }
}

static void
s_snapshot (brk_t *self)
{
  if (self->metrics == NULL)
    return;
  brk_snapshot_t snap;
  memset (&snap, 0, sizeof snap);
  for (int s = 0; s < BRK_STAGES; s++) {
    const brk_stage_t *st = &self->stages[s];
    brk_stage_snap_t *out = &snap.stages[s];
    at_strlcpy (out->name, st->name, sizeof out->name);
    out->depth = st->db_depth + st->published_recent;
    out->ready = out->depth > st->db_delayed ? out->depth - st->db_delayed : 0;
    out->oldest_age_s = st->oldest_age_s;
    out->in_flight = st->in_flight;
    out->queued = brk_queue_size (st->queue);
    out->published = st->published;
    out->delivered = st->delivered;
    out->settled_done = st->settled_done;
    out->released = st->released;
    out->redelivered = st->redelivered;
    out->dead_lettered = st->dead_lettered;
  }
  snap.confirm_latency = self->confirm_latency;
  snap.commit_size = self->commit_size;
  snap.shard_index = (int) self->cfg->broker_index;
  snap.shard_count = (int) self->cfg->broker_count;
  snap.durable = self->durable;
  snap.draining = self->draining;
  memcpy (snap.rejected, self->rejected, sizeof snap.rejected);
  snap.workers = self->n_peers;
  snap.ready = !self->draining
               && (!self->durable
                   || (self->store != NULL && at_store_ok (self->store)
                       && self->commit_store != NULL && at_store_ok (self->commit_store)));
  brk_metrics_update (self->metrics, &snap);
}

static int64_t
s_min (int64_t a, int64_t b)
{
  return a < b ? a : b;
}

/* SIGTERM: publishers get Busy and nothing more is delivered from now on;
 * workers have drain_grace_ms to settle what they hold. */
static void
s_drain_start (brk_t *self, int64_t *deadline)
{
  self->draining = true;
  *deadline = at_mono_ms () + self->cfg->drain_grace_ms;
  at_info ("broker", "msg=\"draining\" in_flight=%zu grace_ms=%ld", brk_in_flight (self),
           self->cfg->drain_grace_ms);
  s_snapshot (self);
}

/* ---- the commands: each read from the wire goes to the part that acts on it */

/* CURVE on: whether the sender's roles allow the command; a refusal is
 * rejected like other bad input, counted as forbidden. */
static bool
s_allowed (brk_t *self, const brk_identity_t *from, const char *roles,
           const Atende__Bus__Command *cmd)
{
  char reason[200];
  if (self->zap == NULL || brk_access_check (roles, cmd, reason, sizeof reason) == AT_OK)
    return true;
  uint64_t correlation = cmd->body_case == ATENDE__BUS__COMMAND__BODY_PUBLISH && cmd->publish
                           ? cmd->publish->correlation : 0;
  brk_wire_reject (self, from, correlation, BRK_REJECT_FORBIDDEN, reason);
  return false;
}

static void
s_command (brk_t *self, const brk_identity_t *from, const char *roles,
           const Atende__Bus__Command *cmd)
{
  if (!s_allowed (self, from, roles, cmd))
    return;
  brk_peer_t *peer = brk_peer_find (self, from);
  if (peer) {
    peer->last_seen_ms = at_mono_ms ();
    peer->blocked = false;
  }
  switch (cmd->body_case) {
  case ATENDE__BUS__COMMAND__BODY_PUBLISH:
    brk_publish_add (self, from, cmd->publish);
    break;
  case ATENDE__BUS__COMMAND__BODY_READY:
    brk_on_ready (self, from, cmd->ready);
    break;
  case ATENDE__BUS__COMMAND__BODY_SETTLE:
    brk_on_settle (self, peer, cmd->settle);
    if (peer == NULL)
      brk_wire_reconnect (self, from);
    break;
  case ATENDE__BUS__COMMAND__BODY_HEARTBEAT:
    if (peer == NULL)
      brk_wire_reconnect (self, from);
    break;
  case ATENDE__BUS__COMMAND__BODY_EXTEND:
    brk_on_extend (self, peer, cmd->extend);
    if (peer == NULL)
      brk_wire_reconnect (self, from);
    break;
  case ATENDE__BUS__COMMAND__BODY_DISCONNECT:
    if (peer)
      brk_peer_remove (self, peer, "disconnect");
    break;
  default:   /* brk_frame_decode let through only the commands above */
    break;
  }
}

/* Reads and handles up to BRK_DRAIN_MAX commands; publishes are gathered
 * for brk_publish_flush (reading stops when the gathering group is full). */
static void
s_commands (brk_t *self)
{
  for (int i = 0; i < BRK_DRAIN_MAX && !brk_publish_full (self); i++) {
    brk_identity_t from;
    char roles[BRK_ROLES_MAX];
    Atende__Bus__Command *cmd = brk_wire_recv (self, &from, roles, sizeof roles);
    if (cmd == NULL)
      break;
    s_command (self, &from, roles, cmd);
    atende__bus__command__free_unpacked (cmd, NULL);
  }
}

/* One wait on the ROUTER, the commit connection and the ZAP handler; reads
 * what is ready (handshakes are answered even while reading is paused). */
static bool
s_poll (brk_t *self, int64_t wait)
{
  zmq_pollitem_t items[3] = {{self->router, 0, ZMQ_POLLIN, 0}};
  int n = 1, commit = -1, zap = -1;
  short events = 0;
  int fd = brk_publish_fd (self, &events);
  if (fd >= 0) {
    commit = n++;
    items[commit] = (zmq_pollitem_t) {NULL, fd, events, 0};
  }
  if (self->zap) {
    zap = n++;
    items[zap] = (zmq_pollitem_t) {brk_zap_socket (self->zap), 0, ZMQ_POLLIN, 0};
  }
  if (brk_publish_full (self))
    items[0].events = 0;   /* the gathering group is full: wait for the commit */
  int ready = zmq_poll (items, n, wait > 0 ? (long) wait : 0);
  if (ready < 0 && errno != EINTR) {
    at_error ("broker", "msg=\"poll failed\" error=\"%s\"", zmq_strerror (errno));
    return false;
  }
  if (ready > 0 && commit >= 0 && items[commit].revents)
    brk_publish_io (self);
  if (ready > 0 && zap >= 0 && items[zap].revents)
    self->rejected[BRK_REJECT_DENIED] += brk_zap_serve (self->zap);
  if (self->stats_due && self->n_commits == 0)
    s_stats (self);   /* between two groups: every committed row is confirmed */
  if (ready > 0 && items[0].revents)
    s_commands (self);
  brk_publish_flush (self);
  return true;
}

static void
s_loop (brk_t *self)
{
  const at_config_t *cfg = self->cfg;
  int64_t now = at_mono_ms ();
  int64_t next_stats = now, next_sweep = now, next_beat = now + cfg->heartbeat_ms;
  int64_t next_snapshot = now, drain_deadline = 0;
  for (;;) {
    if (s_stop && !self->draining)
      s_drain_start (self, &drain_deadline);
    if (self->draining && at_mono_ms () >= drain_deadline)
      break;   /* what workers still hold stays pending in PostgreSQL */
    if (self->draining && self->n_commits == 0 && brk_in_flight (self) == 0)
      break;
    now = at_mono_ms ();
    int64_t wait = s_min (s_min (next_stats, next_sweep), s_min (next_beat, next_snapshot)) - now;
    if (!s_poll (self, wait))
      break;
    now = at_mono_ms ();
    if (now >= next_stats) {
      self->stats_due = true;
      next_stats = now + S_STATS_MS;
    }
    if (self->stats_due && self->n_commits == 0)
      s_stats (self);
    if (now >= next_beat) {
      brk_heartbeat (self);
      brk_expire (self);
      next_beat = now + cfg->heartbeat_ms;
    }
    if (!self->draining && (now >= next_sweep || brk_sweep_due (self))) {
      brk_sweep (self);
      next_sweep = at_mono_ms () + cfg->broker_sweep_ms;   /* from its end: not back to back */
    }
    if (!self->draining)
      brk_dispatch (self);
    if (now >= next_snapshot) {
      s_snapshot (self);
      next_snapshot = now + S_SNAPSHOT_MS;
    }
  }
}

/* Benchmark mode must be asked for twice, and is announced loudly. */
static bool
s_mode_allowed (const at_config_t *cfg)
{
  if (cfg->broker_durable)
    return true;
  if (!cfg->broker_benchmark) {
    at_error ("broker", "msg=\"refusing ATENDE_BROKER_DURABLE=0 without ATENDE_BROKER_BENCHMARK=1:"
                        " it confirms messages that are never written and loses them on any crash\"");
    return false;
  }
  for (int i = 0; i < 3; i++)
    at_warn ("broker", "msg=\"NON-DURABLE BENCHMARK MODE: no PostgreSQL, confirmed messages live"
                       " only in memory and ARE LOST on any crash; never use in production\"");
  return true;
}

int
brk_run (const at_config_t *cfg)
{
  int code = 1;
  if (!s_mode_allowed (cfg))
    return 2;
  if (cfg->broker_index >= cfg->broker_count) {
    at_error ("broker", "msg=\"ATENDE_BROKER_INDEX must be below ATENDE_BROKER_COUNT\" index=%ld"
                        " count=%ld", cfg->broker_index, cfg->broker_count);
    return 2;
  }
  s_signals ();
  brk_t *self = s_new (cfg);
  if (cfg->bus_curve_secret[0]) {
    self->zap = brk_zap_new (cfg);   /* before the ROUTER: no handshake without it */
    if (self->zap == NULL)
      goto out;
  }
  self->router = s_router_new (cfg);
  if (self->router == NULL)
    goto out;
  if (cfg->broker_metrics_port > 0) {
    self->metrics = brk_metrics_new ((int) cfg->broker_metrics_port);
    if (self->metrics == NULL)
      goto out;
  }
  if (self->durable && !brk_store_up (self))
    at_warn ("broker", "msg=\"PostgreSQL not reachable yet: publishers are told busy\"");
  at_info ("broker", "msg=\"broker started\" endpoint=\"%s\" metrics_port=%ld queue_cap=%ld"
           " shard=%ld/%ld durable=%d curve=%d", cfg->broker_bind, cfg->broker_metrics_port,
           cfg->broker_queue_cap, cfg->broker_index, cfg->broker_count, self->durable ? 1 : 0,
           self->zap ? 1 : 0);
  s_loop (self);
  at_info ("broker", "msg=\"broker stopping\" workers=%zu in_flight=%zu", self->n_peers,
           brk_in_flight (self));
  code = 0;
out:
  s_destroy (&self);
  return code;
}
