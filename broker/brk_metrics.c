/* The broker's metrics and health endpoints (broker/brk_metrics.h): the
 * broker loop publishes a snapshot under a mutex; the metrics server's
 * thread copies it and fills the registry from it before each render. */
#include "brk_metrics.h"
#include "at_metrics.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef ATENDE_VERSION
#define ATENDE_VERSION "dev"
#endif

const char *const brk_reject_names[BRK_REJECT_N] = {
  "malformed", "version", "unknown_command", "invalid_envelope", "oversize", "store", "busy",
  "forbidden", "denied", "uncommitted"};

const double brk_latency_bounds[BRK_HISTO_N - 1] = {
  0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
const double brk_commit_bounds[BRK_HISTO_N - 1] = {
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};

void
brk_histo_add (brk_histo_t *h, const double *bounds, double value)
{
  int i = 0;
  while (i < BRK_HISTO_N - 1 && value > bounds[i])
    i++;
  h->buckets[i]++;
  h->count++;
  h->sum += value;
}

/* How a per-stage field is read out of brk_stage_snap_t. */
typedef enum { S_INT64, S_UINT64, S_DOUBLE } s_field_t;

static const struct {
  const char *name;
  bool counter;
  const char *help;
  size_t offset;
  s_field_t field;
} s_stage_families[] = {
  {"atende_bus_depth", false, "Messages pending in the bus, per stage.",
   offsetof (brk_stage_snap_t, depth), S_INT64},
  {"atende_bus_oldest_age_seconds", false, "Age of the oldest pending message, per stage.",
   offsetof (brk_stage_snap_t, oldest_age_s), S_DOUBLE},
  {"atende_bus_ready", false, "Messages pending and due now, per stage (depth without delayed"
   " ones: scale workers on this).", offsetof (brk_stage_snap_t, ready), S_INT64},
  {"atende_bus_in_flight", false, "Messages delivered and not settled.",
   offsetof (brk_stage_snap_t, in_flight), S_UINT64},
  {"atende_bus_queued", false, "Messages held in the broker's memory.",
   offsetof (brk_stage_snap_t, queued), S_UINT64},
  {"atende_bus_published_total", true, "Messages committed by publish.",
   offsetof (brk_stage_snap_t, published), S_UINT64},
  {"atende_bus_delivered_total", true, "Messages delivered to workers.",
   offsetof (brk_stage_snap_t, delivered), S_UINT64},
  {"atende_bus_settled_done_total", true, "Messages settled as done.",
   offsetof (brk_stage_snap_t, settled_done), S_UINT64},
  {"atende_bus_released_total", true, "Messages released by workers (retry, dead letter, stale).",
   offsetof (brk_stage_snap_t, released), S_UINT64},
  {"atende_bus_redelivered_total", true, "Messages redelivered after a worker's lease expired.",
   offsetof (brk_stage_snap_t, redelivered), S_UINT64},
  {"atende_bus_dead_lettered_total", true,
   "Messages dead-lettered by workers (a subset of released).",
   offsetof (brk_stage_snap_t, dead_lettered), S_UINT64},
};
#define S_STAGE_FAMILIES AT_ARRAY_LEN (s_stage_families)

/* The broker's families, in the order /metrics shows them. */
typedef struct {
  at_metric_t *stage[S_STAGE_FAMILIES];
  at_metric_t *confirm, *commit, *shard, *durable, *draining, *rejected, *workers, *up, *ready,
      *build;
} s_families_t;

struct brk_metrics {
  at_metrics_t *registry;
  s_families_t families;
  at_metrics_http_t *http;
  pthread_mutex_t lock;
  brk_snapshot_t snap;
};

static void
s_register (at_metrics_t *reg, s_families_t *f)
{
  for (size_t i = 0; i < S_STAGE_FAMILIES; i++)
    f->stage[i] = s_stage_families[i].counter
                      ? at_metrics_counter (reg, s_stage_families[i].name,
                                            s_stage_families[i].help, "stage")
                      : at_metrics_gauge (reg, s_stage_families[i].name,
                                          s_stage_families[i].help, "stage");
  at_metric_decimals (f->stage[1], 3);   /* atende_bus_oldest_age_seconds (the second) */
  f->confirm = at_metrics_histogram (
      reg, "atende_bus_publish_confirm_seconds",
      "Time from reading a Publish to sending its Confirm (after COMMIT).", NULL,
      brk_latency_bounds, BRK_HISTO_N - 1);
  f->commit = at_metrics_histogram (reg, "atende_bus_commit_messages",
                                    "Messages per group commit.", NULL, brk_commit_bounds,
                                    BRK_HISTO_N - 1);
  f->shard = at_metrics_gauge (reg, "atende_broker_shard",
                               "This broker's shard and the number of brokers.", "index,count");
  f->durable = at_metrics_gauge (reg, "atende_broker_durable",
                                 "1: confirms after COMMIT; 0: benchmark mode.", NULL);
  f->draining = at_metrics_gauge (reg, "atende_draining", "1 after SIGTERM, while finishing.",
                                  NULL);
  f->rejected = at_metrics_counter (reg, "atende_bus_rejected_total",
                                    "Requests refused, by reason.", "reason");
  f->workers = at_metrics_gauge (reg, "atende_broker_workers", "Workers registered.", NULL);
  f->up = at_metrics_gauge (reg, "atende_up", "The process is running.", NULL);
  f->ready = at_metrics_gauge (reg, "atende_ready", "The broker reaches PostgreSQL and serves.",
                               NULL);
  f->build = at_metrics_gauge (reg, "atende_build_info", "Build version.", "version");
}

static double
s_stage_value (const brk_stage_snap_t *st, size_t family)
{
  const char *field = (const char *) st + s_stage_families[family].offset;
  switch (s_stage_families[family].field) {
  case S_INT64:
    return (double) *(const int64_t *) field;
  case S_DOUBLE:
    return *(const double *) field;
  default:
    return (double) *(const uint64_t *) field;
  }
}

static void
s_histo_set (at_metric_t *m, const brk_histo_t *h)
{
  at_metric_set_histogram (m, NULL, h->buckets, h->count, h->sum);
}

/* Sets every family from snap (into a registry just cleared). */
static void
s_fill (const s_families_t *f, const brk_snapshot_t *snap)
{
  for (size_t i = 0; i < S_STAGE_FAMILIES; i++)
    for (int s = 0; s < BRK_STAGES; s++)
      at_metric_set (f->stage[i], (const char *[]) {snap->stages[s].name},
                     s_stage_value (&snap->stages[s], i));
  s_histo_set (f->confirm, &snap->confirm_latency);
  s_histo_set (f->commit, &snap->commit_size);
  char index[24], count[24];
  snprintf (index, sizeof index, "%d", snap->shard_index);
  snprintf (count, sizeof count, "%d", snap->shard_count);
  at_metric_set (f->shard, (const char *[]) {index, count}, 1);
  at_metric_set (f->durable, NULL, snap->durable ? 1 : 0);
  at_metric_set (f->draining, NULL, snap->draining ? 1 : 0);
  for (int r = 0; r < BRK_REJECT_N; r++)
    at_metric_set (f->rejected, (const char *[]) {brk_reject_names[r]},
                   (double) snap->rejected[r]);
  at_metric_set (f->workers, NULL, (double) snap->workers);
  at_metric_set (f->up, NULL, 1);
  at_metric_set (f->ready, NULL, snap->ready ? 1 : 0);
  at_metric_set (f->build, (const char *[]) {ATENDE_VERSION}, 1);
}

size_t
brk_metrics_render (const brk_snapshot_t *snap, char *buf, size_t cap)
{
  if (cap == 0)
    return 0;
  at_metrics_t *reg = at_metrics_new ();
  s_families_t f;
  s_register (reg, &f);
  s_fill (&f, snap);
  at_buf_t out;
  at_buf_fixed (&out, buf, cap);
  at_metrics_render_to (reg, &out);
  at_metrics_destroy (&reg);
  return out.len;
}

/* On the server's thread, before a render: the registry from the latest snapshot. */
static void
s_collect (void *arg, at_metrics_t *registry)
{
  brk_metrics_t *self = arg;
  brk_snapshot_t snap;
  pthread_mutex_lock (&self->lock);
  snap = self->snap;
  pthread_mutex_unlock (&self->lock);
  at_metrics_clear (registry);
  s_fill (&self->families, &snap);
}

static bool
s_ready (void *arg)
{
  brk_metrics_t *self = arg;
  pthread_mutex_lock (&self->lock);
  bool ready = self->snap.ready;
  pthread_mutex_unlock (&self->lock);
  return ready;
}

brk_metrics_t *
brk_metrics_new (int port)
{
  if (port <= 0)
    return NULL;
  brk_metrics_t *self = at_calloc (1, sizeof *self);
  pthread_mutex_init (&self->lock, NULL);
  self->registry = at_metrics_new ();
  s_register (self->registry, &self->families);
  at_metrics_hooks_t hooks = {.collect = s_collect, .ready = s_ready, .arg = self};
  self->http = at_metrics_http_new (port, self->registry, &hooks, "broker");
  if (self->http == NULL)
    brk_metrics_destroy (&self);
  return self;
}

void
brk_metrics_destroy (brk_metrics_t **self_p)
{
  if (self_p == NULL || *self_p == NULL)
    return;
  brk_metrics_t *self = *self_p;
  at_metrics_http_destroy (&self->http);
  at_metrics_destroy (&self->registry);
  pthread_mutex_destroy (&self->lock);
  free (self);
  *self_p = NULL;
}

void
brk_metrics_update (brk_metrics_t *self, const brk_snapshot_t *snap)
{
  if (self == NULL)
    return;
  pthread_mutex_lock (&self->lock);
  self->snap = *snap;
  pthread_mutex_unlock (&self->lock);
}
