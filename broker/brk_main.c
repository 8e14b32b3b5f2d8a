/* The broker's entry point: the ROUTER socket, the poll loop and its timers
 * (stats, sweep, heartbeat and lease expiry), the metrics snapshot. */
#include "brk.h"
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
  }
  self->known = zhashx_new ();
  zhashx_set_destructor (self->known, s_known_free);
  self->keys = zhashx_new ();
  self->peers = zhashx_new ();
  zhashx_set_destructor (self->peers, s_peer_free);
  self->logged = zhashx_new ();
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
  brk_metrics_destroy (&self->metrics);
  for (int s = 0; s < BRK_STAGES; s++)
    brk_queue_destroy (&self->stages[s].queue);
  zhashx_destroy (&self->known);
  zhashx_destroy (&self->keys);
  zhashx_destroy (&self->peers);
  zhashx_destroy (&self->logged);
  for (size_t i = 0; i < self->batch_len; i++)
    at_msg_destroy (&self->batch[i]);
  free (self->batch);
  free (self->pending);
  at_store_destroy (&self->store);
  free (self);
  *self_p = NULL;
}

/* Refreshes the per-stage depth and oldest age from PostgreSQL. */
static void
s_stats (brk_t *self)
{
  if (!brk_store_up (self))
    return;
  at_store_bus_stat_t stats[16];
  size_t n = 0;
  if (at_store_bus_stats (self->store, stats, AT_ARRAY_LEN (stats), &n) != AT_OK) {
    brk_store_lost (self);
    return;
  }
  for (int s = 0; s < BRK_STAGES; s++) {
    self->stages[s].db_depth = 0;
    self->stages[s].oldest_age_s = 0;
    self->stages[s].published_recent = 0;
  }
  for (size_t i = 0; i < n; i++) {
    int s = brk_stage_index (self, stats[i].stage);
    if (s >= 0) {
      self->stages[s].db_depth = stats[i].depth;
      self->stages[s].oldest_age_s = stats[i].oldest_age_s;
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
    out->oldest_age_s = st->oldest_age_s;
    out->in_flight = st->in_flight;
    out->queued = brk_queue_size (st->queue);
    out->published = st->published;
    out->delivered = st->delivered;
    out->settled_done = st->settled_done;
    out->released = st->released;
    out->redelivered = st->redelivered;
  }
  memcpy (snap.rejected, self->rejected, sizeof snap.rejected);
  snap.workers = self->n_peers;
  snap.ready = self->store != NULL && at_store_ok (self->store);
  brk_metrics_update (self->metrics, &snap);
}

static int64_t
s_min (int64_t a, int64_t b)
{
  return a < b ? a : b;
}

static void
s_loop (brk_t *self)
{
  const at_config_t *cfg = self->cfg;
  int64_t now = at_mono_ms ();
  int64_t next_stats = now, next_sweep = now, next_beat = now + cfg->heartbeat_ms;
  int64_t next_snapshot = now;
  while (!s_stop) {
    now = at_mono_ms ();
    int64_t wait = s_min (s_min (next_stats, next_sweep), s_min (next_beat, next_snapshot)) - now;
    zmq_pollitem_t item = {self->router, 0, ZMQ_POLLIN, 0};
    int ready = zmq_poll (&item, 1, wait > 0 ? (long) wait : 0);
    if (ready < 0 && errno != EINTR) {
      at_error ("broker", "msg=\"poll failed\" error=\"%s\"", zmq_strerror (errno));
      break;
    }
    if (ready > 0) {
      brk_wire_drain (self);
      brk_publish_flush (self);
    }
    now = at_mono_ms ();
    if (now >= next_stats) {
      s_stats (self);
      next_stats = now + S_STATS_MS;
    }
    if (now >= next_beat) {
      brk_heartbeat (self);
      brk_expire (self);
      next_beat = now + cfg->heartbeat_ms;
    }
    if (now >= next_sweep || brk_sweep_due (self)) {
      brk_sweep (self);
      next_sweep = now + cfg->broker_sweep_ms;
    }
    brk_dispatch (self);
    if (now >= next_snapshot) {
      s_snapshot (self);
      next_snapshot = now + S_SNAPSHOT_MS;
    }
  }
}

int
brk_run (const at_config_t *cfg)
{
  int code = 1;
  s_signals ();
  brk_t *self = s_new (cfg);
  self->router = s_router_new (cfg);
  if (self->router == NULL)
    goto out;
  if (cfg->broker_metrics_port > 0) {
    self->metrics = brk_metrics_new ((int) cfg->broker_metrics_port);
    if (self->metrics == NULL)
      goto out;
  }
  if (!brk_store_up (self))
    at_warn ("broker", "msg=\"PostgreSQL not reachable yet: publishers are told busy\"");
  at_info ("broker", "msg=\"broker started\" endpoint=\"%s\" metrics_port=%ld queue_cap=%ld",
           cfg->broker_bind, cfg->broker_metrics_port, cfg->broker_queue_cap);
  s_loop (self);
  at_info ("broker", "msg=\"broker stopping\" workers=%zu", self->n_peers);
  code = 0;
out:
  s_destroy (&self);
  return code;
}
