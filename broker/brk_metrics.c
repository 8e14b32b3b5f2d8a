/* The broker's metrics and health endpoints (broker/brk_metrics.h). */
#include "brk_metrics.h"
#include "at_log.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ATENDE_VERSION
#define ATENDE_VERSION "dev"
#endif

#define S_METRICS_CAP (64 * 1024)

const char *const brk_reject_names[BRK_REJECT_N] = {
  "malformed", "version", "unknown_command", "invalid_envelope", "oversize", "store", "busy"};

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

struct brk_metrics {
  struct MHD_Daemon *daemon;
  pthread_mutex_t lock;
  brk_snapshot_t snap;
};

typedef struct {
  char *buf;
  size_t cap, len;
} s_out_t;

static void s_put (s_out_t *out, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_put (s_out_t *out, const char *fmt, ...)
{
  if (out->len + 1 >= out->cap)
    return;
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (out->buf + out->len, out->cap - out->len, fmt, ap);
  va_end (ap);
  if (n > 0)
    out->len += (size_t) n < out->cap - out->len ? (size_t) n : out->cap - out->len - 1;
}

/* One per-stage family: HELP, TYPE and a sample per stage. */
static void
s_family (s_out_t *out, const brk_snapshot_t *snap, const char *name, const char *type,
          const char *help, size_t offset, bool is_double)
{
  s_put (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
  for (int i = 0; i < BRK_STAGES; i++) {
    const brk_stage_snap_t *st = &snap->stages[i];
    const char *field = (const char *) st + offset;
    if (is_double)
      s_put (out, "%s{stage=\"%s\"} %.3f\n", name, st->name, *(const double *) field);
    else if (offset == offsetof (brk_stage_snap_t, depth))
      s_put (out, "%s{stage=\"%s\"} %lld\n", name, st->name, (long long) *(const int64_t *) field);
    else
      s_put (out, "%s{stage=\"%s\"} %llu\n", name, st->name,
             (unsigned long long) *(const uint64_t *) field);
  }
}

static void
s_histo (s_out_t *out, const char *name, const char *help, const brk_histo_t *h,
         const double *bounds)
{
  s_put (out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
  uint64_t cumulative = 0;
  for (int i = 0; i < BRK_HISTO_N - 1; i++) {
    cumulative += h->buckets[i];
    s_put (out, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], (unsigned long long) cumulative);
  }
  s_put (out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
         (unsigned long long) h->count, name, h->sum, name, (unsigned long long) h->count);
}

size_t
brk_metrics_render (const brk_snapshot_t *snap, char *buf, size_t cap)
{
  s_out_t out = {buf, cap, 0};
  if (cap == 0)
    return 0;
  buf[0] = '\0';
  s_family (&out, snap, "atende_bus_depth", "gauge", "Messages pending in the bus, per stage.",
            offsetof (brk_stage_snap_t, depth), false);
  s_family (&out, snap, "atende_bus_oldest_age_seconds", "gauge",
            "Age of the oldest pending message, per stage.",
            offsetof (brk_stage_snap_t, oldest_age_s), true);
  s_family (&out, snap, "atende_bus_in_flight", "gauge", "Messages delivered and not settled.",
            offsetof (brk_stage_snap_t, in_flight), false);
  s_family (&out, snap, "atende_bus_queued", "gauge", "Messages held in the broker's memory.",
            offsetof (brk_stage_snap_t, queued), false);
  s_family (&out, snap, "atende_bus_published_total", "counter", "Messages committed by publish.",
            offsetof (brk_stage_snap_t, published), false);
  s_family (&out, snap, "atende_bus_delivered_total", "counter", "Messages delivered to workers.",
            offsetof (brk_stage_snap_t, delivered), false);
  s_family (&out, snap, "atende_bus_settled_done_total", "counter", "Messages settled as done.",
            offsetof (brk_stage_snap_t, settled_done), false);
  s_family (&out, snap, "atende_bus_released_total", "counter",
            "Messages released by workers (retry, dead letter, stale).",
            offsetof (brk_stage_snap_t, released), false);
  s_family (&out, snap, "atende_bus_redelivered_total", "counter",
            "Messages redelivered after a worker's lease expired.",
            offsetof (brk_stage_snap_t, redelivered), false);
  s_family (&out, snap, "atende_bus_dead_lettered_total", "counter",
            "Messages dead-lettered by workers (a subset of released).",
            offsetof (brk_stage_snap_t, dead_lettered), false);
  s_histo (&out, "atende_bus_publish_confirm_seconds",
           "Time from reading a Publish to sending its Confirm (after COMMIT).",
           &snap->confirm_latency, brk_latency_bounds);
  s_histo (&out, "atende_bus_commit_messages", "Messages per group commit.", &snap->commit_size,
           brk_commit_bounds);
  s_put (&out, "# HELP atende_broker_shard This broker's shard and the number of brokers.\n"
               "# TYPE atende_broker_shard gauge\natende_broker_shard{index=\"%d\",count=\"%d\"} 1\n",
         snap->shard_index, snap->shard_count);
  s_put (&out, "# HELP atende_broker_durable 1: confirms after COMMIT; 0: benchmark mode.\n"
               "# TYPE atende_broker_durable gauge\natende_broker_durable %d\n", snap->durable ? 1 : 0);
  s_put (&out, "# HELP atende_draining 1 after SIGTERM, while finishing.\n"
               "# TYPE atende_draining gauge\natende_draining %d\n", snap->draining ? 1 : 0);
  s_put (&out, "# HELP atende_bus_rejected_total Requests refused, by reason.\n"
               "# TYPE atende_bus_rejected_total counter\n");
  for (int r = 0; r < BRK_REJECT_N; r++)
    s_put (&out, "atende_bus_rejected_total{reason=\"%s\"} %llu\n", brk_reject_names[r],
           (unsigned long long) snap->rejected[r]);
  s_put (&out, "# HELP atende_broker_workers Workers registered.\n"
               "# TYPE atende_broker_workers gauge\natende_broker_workers %llu\n",
         (unsigned long long) snap->workers);
  s_put (&out, "# HELP atende_up The process is running.\n# TYPE atende_up gauge\natende_up 1\n");
  s_put (&out, "# HELP atende_ready The broker reaches PostgreSQL and serves.\n"
               "# TYPE atende_ready gauge\natende_ready %d\n", snap->ready ? 1 : 0);
  s_put (&out, "# HELP atende_build_info Build version.\n# TYPE atende_build_info gauge\n"
               "atende_build_info{version=\"%s\"} 1\n", ATENDE_VERSION);
  return out.len;
}

static enum MHD_Result
s_reply (struct MHD_Connection *connection, unsigned status, const char *type, char *body)
{
  struct MHD_Response *response
      = MHD_create_response_from_buffer (strlen (body), body, MHD_RESPMEM_MUST_FREE);
  if (response == NULL) {
    free (body);
    return MHD_NO;
  }
  MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  enum MHD_Result rc = MHD_queue_response (connection, status, response);
  MHD_destroy_response (response);
  return rc;
}

static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
  brk_metrics_t *self = cls;
  if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0)
    return s_reply (connection, 405, "text/plain", at_strdup ("method not allowed\n"));
  brk_snapshot_t snap;
  pthread_mutex_lock (&self->lock);
  snap = self->snap;
  pthread_mutex_unlock (&self->lock);
  if (strcmp (url, "/metrics") == 0) {
    char *body = at_malloc (S_METRICS_CAP);
    brk_metrics_render (&snap, body, S_METRICS_CAP);
    return s_reply (connection, 200, "text/plain; version=0.0.4", body);
  }
  if (strcmp (url, "/healthz") == 0)
    return s_reply (connection, 200, "text/plain", at_strdup ("ok\n"));
  if (strcmp (url, "/readyz") == 0)
    return snap.ready ? s_reply (connection, 200, "text/plain", at_strdup ("ready\n"))
                      : s_reply (connection, 503, "text/plain", at_strdup ("not ready\n"));
  return s_reply (connection, 404, "text/plain", at_strdup ("not found\n"));
}

brk_metrics_t *
brk_metrics_new (int port)
{
  if (port <= 0)
    return NULL;
  brk_metrics_t *self = at_calloc (1, sizeof *self);
  pthread_mutex_init (&self->lock, NULL);
  self->daemon = MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                                   (uint16_t) port, NULL, NULL, s_handle, self,
                                   MHD_OPTION_CONNECTION_LIMIT, (unsigned) 64,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 10, MHD_OPTION_END);
  if (self->daemon == NULL) {
    at_error ("broker", "msg=\"cannot serve metrics\" port=%d", port);
    pthread_mutex_destroy (&self->lock);
    free (self);
    return NULL;
  }
  return self;
}

void
brk_metrics_destroy (brk_metrics_t **self_p)
{
  if (self_p == NULL || *self_p == NULL)
    return;
  brk_metrics_t *self = *self_p;
  MHD_stop_daemon (self->daemon);
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
