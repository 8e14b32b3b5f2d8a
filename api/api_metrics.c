/* api_metrics: the api's Prometheus metrics. Counters live in one table
 * behind a mutex (a handful of additions per request; the request threads
 * never hold it for longer than that). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_internal.h"

#define S_ROUTES_MAX 64            /* routes + "unmatched" */
#define S_CODES_MAX 16             /* distinct status codes kept per route */
#define S_RENDER_CAP (256 * 1024)

static const double s_buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                    0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define S_BUCKETS AT_ARRAY_LEN (s_buckets)

typedef struct {
  uint64_t counts[S_BUCKETS];      /* per bucket, not cumulative */
  uint64_t count;
  double sum;
} s_histogram_t;

typedef struct {
  int code[S_CODES_MAX];
  uint64_t total[S_CODES_MAX];
  s_histogram_t duration;
} s_route_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static s_route_t s_route[S_ROUTES_MAX];
static s_histogram_t s_publish;

static void
s_observe (s_histogram_t *h, double seconds)
{
  size_t i = 0;
  while (i < S_BUCKETS && seconds > s_buckets[i])
    i++;
  if (i < S_BUCKETS)
    h->counts[i]++;
  h->count++;
  h->sum += seconds;
}

void
api_metrics_init (void)
{
  pthread_mutex_lock (&s_lock);
  memset (s_route, 0, sizeof s_route);
  memset (&s_publish, 0, sizeof s_publish);
  pthread_mutex_unlock (&s_lock);
}

void
api_metrics_request (size_t route_index, int status, double seconds)
{
  if (route_index >= S_ROUTES_MAX)
    route_index = S_ROUTES_MAX - 1;
  pthread_mutex_lock (&s_lock);
  s_route_t *r = &s_route[route_index];
  for (size_t i = 0; i < S_CODES_MAX; i++) {
    if (r->code[i] == status || r->code[i] == 0 || i == S_CODES_MAX - 1) {
      r->code[i] = r->code[i] == 0 ? status : r->code[i];
      r->total[i]++;
      break;
    }
  }
  s_observe (&r->duration, seconds);
  pthread_mutex_unlock (&s_lock);
}

void
api_metrics_publish (double seconds)
{
  pthread_mutex_lock (&s_lock);
  s_observe (&s_publish, seconds);
  pthread_mutex_unlock (&s_lock);
}

typedef struct {
  char *buf;
  size_t len;
  bool full;
} s_out_t;

static void __attribute__ ((format (printf, 2, 3)))
s_put (s_out_t *o, const char *fmt, ...)
{
  va_list ap;
  if (o->full)
    return;
  va_start (ap, fmt);
  int n = vsnprintf (o->buf + o->len, S_RENDER_CAP - o->len, fmt, ap);
  va_end (ap);
  if (n < 0 || (size_t) n >= S_RENDER_CAP - o->len)
    o->full = true;
  else
    o->len += (size_t) n;
}

static void
s_put_histogram (s_out_t *o, const char *name, const char *labels, const s_histogram_t *h)
{
  uint64_t cumulative = 0;
  const char *sep = labels[0] ? "," : "";
  for (size_t i = 0; i < S_BUCKETS; i++) {
    cumulative += h->counts[i];
    s_put (o, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, s_buckets[i],
           (unsigned long long) cumulative);
  }
  s_put (o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
         (unsigned long long) h->count);
  const char *open = labels[0] ? "{" : "", *close = labels[0] ? "}" : "";
  s_put (o, "%s_sum%s%s%s %.6f\n", name, open, labels, close, h->sum);
  s_put (o, "%s_count%s%s%s %llu\n", name, open, labels, close, (unsigned long long) h->count);
}

static void
s_render_routes (s_out_t *o, size_t nroutes)
{
  char labels[96];
  s_put (o, "# HELP atende_http_requests_total HTTP requests answered, by route and status.\n"
            "# TYPE atende_http_requests_total counter\n");
  for (size_t r = 0; r < nroutes; r++)
    for (size_t i = 0; i < S_CODES_MAX && s_route[r].code[i]; i++)
      s_put (o, "atende_http_requests_total{route=\"%s\",code=\"%d\"} %llu\n",
             api_route_name (r), s_route[r].code[i], (unsigned long long) s_route[r].total[i]);
  s_put (o, "# HELP atende_http_request_duration_seconds Time to answer a request.\n"
            "# TYPE atende_http_request_duration_seconds histogram\n");
  for (size_t r = 0; r < nroutes; r++) {
    if (s_route[r].duration.count == 0)
      continue;
    snprintf (labels, sizeof labels, "route=\"%s\"", api_route_name (r));
    s_put_histogram (o, "atende_http_request_duration_seconds", labels, &s_route[r].duration);
  }
}

char *
api_metrics_render (void)
{
  s_out_t o = { at_malloc (S_RENDER_CAP), 0, false };
  size_t nroutes = api_route_count () + 1;
  if (nroutes > S_ROUTES_MAX)
    nroutes = S_ROUTES_MAX;
  pthread_mutex_lock (&s_lock);
  s_render_routes (&o, nroutes);
  s_put (&o, "# HELP atende_publish_confirm_seconds Time from publish to the broker's confirm.\n"
             "# TYPE atende_publish_confirm_seconds histogram\n");
  s_put_histogram (&o, "atende_publish_confirm_seconds", "", &s_publish);
  pthread_mutex_unlock (&s_lock);
  s_put (&o, "# HELP atende_up 1 while the api process runs.\n# TYPE atende_up gauge\n"
             "atende_up 1\n");
  s_put (&o, "# HELP atende_build_info Version of the running build.\n"
             "# TYPE atende_build_info gauge\natende_build_info{version=\"%s\"} 1\n",
         ATENDE_VERSION);
  o.buf[o.len] = '\0';
  return o.buf;
}
