/* wrk_metrics: a worker process's counters and its small HTTP endpoint
 * (libmicrohttpd, ATENDE_WORKER_METRICS_PORT; 0 keeps the counters and
 * serves nothing):
 *   /metrics  Prometheus text: atende_up, atende_ready, atende_build_info,
 *             atende_worker_messages_total{stage,outcome}, atende_worker_batch_seconds
 *   /healthz  200 while the process runs
 *   /readyz   200 when every stage thread has its store and brokers and is
 *             not draining, else 503
 * Stage threads add under a mutex once per batch; the server's thread reads
 * a copy under the same mutex. */
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wrk_int.h"
#include "at_log.h"

#define WRK_COMP "worker"
#define S_RENDER_CAP (64 * 1024)
#define S_EXTRA_CAP 4096

static const double s_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                  1, 2.5, 5, 10, 30};
#define S_BOUNDS (sizeof s_bounds / sizeof s_bounds[0])

/* Outcomes reported, by wrk_outcome_t index. */
static const char *const s_outcomes[5] = {NULL, "done", "retried", "dead", "stale"};

typedef struct {
  char name[AT_STAGE_LEN];
  uint64_t outcome[5];
  uint64_t buckets[S_BOUNDS];       /* per bucket, not cumulative */
  uint64_t batches;
  double seconds;
  bool ready;
  char extra[S_EXTRA_CAP];          /* the stage's own lines (wrk_stage_t.metrics) */
} s_stage_t;

struct wrk_metrics {
  pthread_mutex_t lock;
  s_stage_t stages[WRK_STAGES_MAX];
  size_t n;
  struct MHD_Daemon *daemon;
};

typedef struct {
  char *buf;
  size_t len;
} s_out_t;

static void __attribute__ ((format (printf, 2, 3)))
s_put (s_out_t *o, const char *fmt, ...)
{
  if (o->len >= S_RENDER_CAP - 1)
    return;
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (o->buf + o->len, S_RENDER_CAP - o->len, fmt, ap);
  va_end (ap);
  if (n > 0)
    o->len = o->len + (size_t) n < S_RENDER_CAP ? o->len + (size_t) n : S_RENDER_CAP - 1;
}

static bool
s_ready (const s_stage_t *stages, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!stages[i].ready)
      return false;
  return n > 0;
}

static char *
s_render (const s_stage_t *stages, size_t n)
{
  s_out_t o = {at_malloc (S_RENDER_CAP), 0};
  o.buf[0] = '\0';
  s_put (&o, "# HELP atende_up The process is running.\n# TYPE atende_up gauge\natende_up 1\n");
  s_put (&o, "# HELP atende_ready Every stage has its store and brokers and is not draining.\n"
             "# TYPE atende_ready gauge\natende_ready %d\n", s_ready (stages, n) ? 1 : 0);
  s_put (&o, "# HELP atende_build_info Build version.\n# TYPE atende_build_info gauge\n"
             "atende_build_info{version=\"%s\",component=\"worker\"} 1\n", ATENDE_VERSION);
  s_put (&o, "# HELP atende_worker_messages_total Messages this process settled, by outcome.\n"
             "# TYPE atende_worker_messages_total counter\n");
  for (size_t i = 0; i < n; i++)
    for (int k = 1; k < 5; k++)
      s_put (&o, "atende_worker_messages_total{stage=\"%s\",outcome=\"%s\"} %llu\n",
             stages[i].name, s_outcomes[k], (unsigned long long) stages[i].outcome[k]);
  s_put (&o, "# HELP atende_worker_batch_seconds Time to run one batch (prepare to COMMIT).\n"
             "# TYPE atende_worker_batch_seconds histogram\n");
  for (size_t i = 0; i < n; i++) {
    uint64_t cumulative = 0;
    for (size_t b = 0; b < S_BOUNDS; b++) {
      cumulative += stages[i].buckets[b];
      s_put (&o, "atende_worker_batch_seconds_bucket{stage=\"%s\",le=\"%g\"} %llu\n",
             stages[i].name, s_bounds[b], (unsigned long long) cumulative);
    }
    s_put (&o, "atende_worker_batch_seconds_bucket{stage=\"%s\",le=\"+Inf\"} %llu\n"
               "atende_worker_batch_seconds_sum{stage=\"%s\"} %.6f\n"
               "atende_worker_batch_seconds_count{stage=\"%s\"} %llu\n",
           stages[i].name, (unsigned long long) stages[i].batches, stages[i].name,
           stages[i].seconds, stages[i].name, (unsigned long long) stages[i].batches);
  }
  for (size_t i = 0; i < n; i++)
    s_put (&o, "%s", stages[i].extra);
  return o.buf;
}

static enum MHD_Result
s_reply (struct MHD_Connection *conn, unsigned status, const char *type, char *body)
{
  struct MHD_Response *resp
      = MHD_create_response_from_buffer (strlen (body), body, MHD_RESPMEM_MUST_FREE);
  if (resp == NULL) {
    free (body);
    return MHD_NO;
  }
  MHD_add_response_header (resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  enum MHD_Result rc = MHD_queue_response (conn, status, resp);
  MHD_destroy_response (resp);
  return rc;
}

static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
  wrk_metrics_t *self = cls;
  if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0)
    return s_reply (conn, 405, "text/plain", at_strdup ("method not allowed\n"));
  s_stage_t stages[WRK_STAGES_MAX];
  pthread_mutex_lock (&self->lock);
  size_t n = self->n;
  memcpy (stages, self->stages, sizeof stages);
  pthread_mutex_unlock (&self->lock);
  if (strcmp (url, "/metrics") == 0)
    return s_reply (conn, 200, "text/plain; version=0.0.4", s_render (stages, n));
  if (strcmp (url, "/healthz") == 0)
    return s_reply (conn, 200, "text/plain", at_strdup ("ok\n"));
  if (strcmp (url, "/readyz") == 0)
    return s_ready (stages, n) ? s_reply (conn, 200, "text/plain", at_strdup ("ready\n"))
                               : s_reply (conn, 503, "text/plain", at_strdup ("not ready\n"));
  return s_reply (conn, 404, "text/plain", at_strdup ("not found\n"));
}

wrk_metrics_t *
wrk_metrics_new (const at_config_t *cfg, const char *const *stages, size_t n)
{
  wrk_metrics_t *self = at_calloc (1, sizeof *self);
  pthread_mutex_init (&self->lock, NULL);
  for (size_t i = 0; i < n && i < WRK_STAGES_MAX; i++)
    at_strlcpy (self->stages[self->n++].name, stages[i], sizeof self->stages[0].name);
  if (cfg->worker_metrics_port == 0)
    return self;
  self->daemon = MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                                   (uint16_t) cfg->worker_metrics_port, NULL, NULL, s_handle,
                                   self, MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 64,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 10,
                                   MHD_OPTION_END);
  if (self->daemon == NULL) {
    at_error (WRK_COMP, "msg=\"cannot serve metrics\" port=%ld", cfg->worker_metrics_port);
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
  if (self->daemon)
    MHD_stop_daemon (self->daemon);
  pthread_mutex_destroy (&self->lock);
  free (self);
  *self_p = NULL;
}

void
wrk_metrics_batch (wrk_metrics_t *self, size_t stage, const size_t count[5], double seconds)
{
  if (self == NULL || stage >= self->n)
    return;
  size_t b = 0;
  while (b < S_BOUNDS && seconds > s_bounds[b])
    b++;
  pthread_mutex_lock (&self->lock);
  s_stage_t *s = &self->stages[stage];
  for (int k = 1; k < 5; k++)
    s->outcome[k] += count[k];
  if (b < S_BOUNDS)
    s->buckets[b]++;
  s->batches++;
  s->seconds += seconds;
  pthread_mutex_unlock (&self->lock);
}

void
wrk_metrics_stage_text (wrk_metrics_t *self, size_t stage, const char *text)
{
  if (self == NULL || stage >= self->n)
    return;
  pthread_mutex_lock (&self->lock);
  at_strlcpy (self->stages[stage].extra, text, sizeof self->stages[stage].extra);
  pthread_mutex_unlock (&self->lock);
}

void
wrk_metrics_ready (wrk_metrics_t *self, size_t stage, bool ready)
{
  if (self == NULL || stage >= self->n)
    return;
  pthread_mutex_lock (&self->lock);
  self->stages[stage].ready = ready;
  pthread_mutex_unlock (&self->lock);
}

void
wrk_metrics_count (wrk_metrics_t *self, size_t stage, wrk_outcome_t outcome)
{
  if (self == NULL || stage >= self->n || outcome <= WRK_OUT_NONE || outcome > WRK_OUT_STALE)
    return;
  pthread_mutex_lock (&self->lock);
  self->stages[stage].outcome[outcome]++;
  pthread_mutex_unlock (&self->lock);
}
