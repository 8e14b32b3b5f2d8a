/* wrk_metrics: a worker process's metrics and its small HTTP endpoint
 * (at_metrics_http, ATENDE_WORKER_METRICS_PORT; 0 keeps the counters and
 * serves nothing):
 *   /metrics  Prometheus text: atende_up, atende_ready, atende_build_info,
 *             atende_worker_messages_total{stage,outcome}, atende_worker_batch_seconds,
 *             then the families stages register in setup (wrk_ctx_metrics:
 *             notify's atende_provider_*)
 *   /healthz  200 while the process runs
 *   /readyz   200 when every stage thread has its store and brokers and is
 *             not draining, else 503
 * Stage threads update the registry (lib/core/at_metrics.h, thread-safe)
 * once per batch; readiness flags are atomics read when served. */
#include <stdatomic.h>
#include <stdlib.h>
#include "wrk_int.h"
#include "at_log.h"
#include "at_metrics.h"

#define WRK_COMP "worker"

static const double s_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                  1, 2.5, 5, 10, 30};

/* Outcomes reported, by wrk_outcome_t index. */
static const char *const s_outcomes[5] = {NULL, "done", "retried", "dead", "stale"};

struct wrk_metrics {
  at_metrics_t *registry;
  at_metric_t *up, *ready, *build, *messages, *batch;
  char names[WRK_STAGES_MAX][AT_STAGE_LEN];
  atomic_bool stage_ready[WRK_STAGES_MAX];
  size_t n;
  at_metrics_http_t *http;
};

static bool
s_ready (void *arg)
{
  wrk_metrics_t *self = arg;
  for (size_t i = 0; i < self->n; i++)
    if (!atomic_load (&self->stage_ready[i]))
      return false;
  return self->n > 0;
}

static void
s_collect (void *arg, at_metrics_t *registry)
{
  (void) registry;
  wrk_metrics_t *self = arg;
  at_metric_set (self->ready, NULL, s_ready (self) ? 1 : 0);
}

/* The families, in the order /metrics shows them, with every stage's series. */
static void
s_register (wrk_metrics_t *self)
{
  at_metrics_t *reg = self->registry;
  self->up = at_metrics_gauge (reg, "atende_up", "The process is running.", NULL);
  self->ready = at_metrics_gauge (
      reg, "atende_ready", "Every stage has its store and brokers and is not draining.", NULL);
  self->build = at_metrics_gauge (reg, "atende_build_info", "Build version.", "version,component");
  self->messages = at_metrics_counter (reg, "atende_worker_messages_total",
                                       "Messages this process settled, by outcome.",
                                       "stage,outcome");
  self->batch = at_metrics_histogram (reg, "atende_worker_batch_seconds",
                                      "Time to run one batch (prepare to COMMIT).", "stage",
                                      s_bounds, AT_ARRAY_LEN (s_bounds));
  at_metric_set (self->up, NULL, 1);
  at_metric_set (self->build, (const char *[]) {ATENDE_VERSION, "worker"}, 1);
  for (size_t i = 0; i < self->n; i++) {
    for (int k = 1; k < 5; k++)
      at_metric_touch (self->messages, (const char *[]) {self->names[i], s_outcomes[k]});
    at_metric_touch (self->batch, (const char *[]) {self->names[i]});
  }
}

wrk_metrics_t *
wrk_metrics_new (const at_config_t *cfg, const char *const *stages, size_t n)
{
  wrk_metrics_t *self = at_calloc (1, sizeof *self);
  for (size_t i = 0; i < n && i < WRK_STAGES_MAX; i++) {
    at_strlcpy (self->names[self->n], stages[i], sizeof self->names[0]);
    atomic_init (&self->stage_ready[self->n], false);
    self->n++;
  }
  self->registry = at_metrics_new ();
  s_register (self);
  if (cfg->worker_metrics_port == 0)
    return self;
  at_metrics_hooks_t hooks = {.collect = s_collect, .ready = s_ready, .arg = self};
  self->http = at_metrics_http_new ((int) cfg->worker_metrics_port, self->registry, &hooks,
                                    WRK_COMP);
  if (self->http == NULL) {
    wrk_metrics_destroy (&self);
    return NULL;
  }
  at_info (WRK_COMP, "msg=\"metrics served\" port=%ld", cfg->worker_metrics_port);
  return self;
}

void
wrk_metrics_destroy (wrk_metrics_t **self_p)
{
  if (self_p == NULL || *self_p == NULL)
    return;
  wrk_metrics_t *self = *self_p;
  at_metrics_http_destroy (&self->http);
  at_metrics_destroy (&self->registry);
  free (self);
  *self_p = NULL;
}

void
wrk_metrics_batch (wrk_metrics_t *self, size_t stage, const size_t count[5], double seconds)
{
  if (self == NULL || stage >= self->n)
    return;
  for (int k = 1; k < 5; k++)
    if (count[k] > 0)
      at_metric_add (self->messages, (const char *[]) {self->names[stage], s_outcomes[k]},
                     (double) count[k]);
  at_metric_observe (self->batch, (const char *[]) {self->names[stage]}, seconds);
}

at_metrics_t *
wrk_ctx_metrics (wrk_ctx_t *ctx)
{
  return ctx && ctx->metrics ? ctx->metrics->registry : NULL;
}

void
wrk_metrics_ready (wrk_metrics_t *self, size_t stage, bool ready)
{
  if (self == NULL || stage >= self->n)
    return;
  atomic_store (&self->stage_ready[stage], ready);
}

void
wrk_metrics_count (wrk_metrics_t *self, size_t stage, wrk_outcome_t outcome)
{
  if (self == NULL || stage >= self->n || outcome <= WRK_OUT_NONE || outcome > WRK_OUT_STALE)
    return;
  at_metric_add (self->messages, (const char *[]) {self->names[stage], s_outcomes[outcome]}, 1);
}
