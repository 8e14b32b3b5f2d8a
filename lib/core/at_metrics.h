/* at_metrics: the one metrics registry and Prometheus text writer.
 *
 * A registry holds metric families (counter, gauge, histogram), each with a
 * name, help text and label names; a family holds one series per set of
 * label values, created on first use. Every call takes the registry's mutex,
 * so any thread may update while another renders.
 *
 *   at_metrics_t *m = at_metrics_new ();
 *   at_metric_t *req = at_metrics_counter (m, "atende_http_requests_total",
 *                                          "HTTP requests answered.", "route,code");
 *   at_metric_add (req, (const char *[]) {"messages", "202"}, 1);
 *   char *text = at_metrics_render (m);       Prometheus text, free() it
 *   at_metrics_destroy (&m);
 *
 * Label values are passed as an array of as many strings as the family has
 * label names (NULL for a family without labels). Families and series are
 * rendered in the order they were made; a family without labels has its one
 * series from the start. Values print as integers unless the family was given
 * decimals (at_metric_decimals); histogram sums with six.

 *
 * at_metrics_http serves a registry on /metrics, with /healthz and /readyz,
 * from libmicrohttpd's thread. */
#ifndef AT_METRICS_H
#define AT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "at_buf.h"

#define AT_METRICS_LABELS_MAX 8          /* label names per family */
#define AT_METRICS_BOUNDS_MAX 32         /* histogram bucket bounds */
#define AT_METRICS_SERIES_MAX 1024       /* series per family; more are dropped */
#define AT_METRICS_RENDER_CAP (1024 * 1024)

typedef struct at_metrics at_metrics_t;
typedef struct at_metric at_metric_t;

at_metrics_t *at_metrics_new (void);
void at_metrics_destroy (at_metrics_t **self_p);

/* Register a family. name: [a-zA-Z_:][a-zA-Z0-9_:]*, not taken yet; labels:
 * label names separated by commas ("stage,outcome"), NULL or "" for none;
 * bounds: a histogram's bucket upper bounds, ascending, finite (copied; +Inf
 * is implied). Returns a handle owned by the registry, or NULL (logged) when
 * the name, labels or bounds are not valid. */
at_metric_t *at_metrics_counter (at_metrics_t *self, const char *name, const char *help,
                                 const char *labels);
at_metric_t *at_metrics_gauge (at_metrics_t *self, const char *name, const char *help,
                               const char *labels);
at_metric_t *at_metrics_histogram (at_metrics_t *self, const char *name, const char *help,
                                   const char *labels, const double *bounds, size_t n_bounds);

/* Prints the family's values (counter or gauge) with this many decimals
 * (0..9; 0, the default, prints integers). */
void at_metric_decimals (at_metric_t *m, int decimals);

/* Updates. values: the label values (see above). 0; AT_INVALID for a NULL
 * family, missing values or the wrong kind of family; AT_BUSY when the
 * series would be new and the family has AT_METRICS_SERIES_MAX already. */
/* Counter (n >= 0) or gauge: adds n. */
int at_metric_add (at_metric_t *m, const char *const *values, double n);
/* Counter or gauge: sets the value (a snapshot counted elsewhere). */
int at_metric_set (at_metric_t *m, const char *const *values, double v);
/* Histogram: one observation. */
int at_metric_observe (at_metric_t *m, const char *const *values, double v);
/* Histogram: sets the whole state (a snapshot counted elsewhere): buckets[i]
 * observations in (bounds[i-1], bounds[i]], one per bound, not cumulative;
 * count includes those above the last bound. */
int at_metric_set_histogram (at_metric_t *m, const char *const *values, const uint64_t *buckets,
                             uint64_t count, double sum);
/* Any family: makes the series exist (at zero) so it is rendered before the
 * first update. */
int at_metric_touch (at_metric_t *m, const char *const *values);

/* Removes the family's series (one without labels keeps its one, at zero). */
void at_metric_clear (at_metric_t *m);
/* at_metric_clear on every family. */
void at_metrics_clear (at_metrics_t *self);

/* Appends the whole registry as Prometheus text (format 0.0.4) to out, whole
 * lines only. 0; AT_BUSY when out's cap stopped it (what fit is kept); AT_INVALID
 * for a NULL registry or buffer. */
int at_metrics_render_to (at_metrics_t *self, at_buf_t *out);
/* The whole registry as Prometheus text, at most AT_METRICS_RENDER_CAP bytes
 * (whole lines); the caller frees it. */
char *at_metrics_render (at_metrics_t *self);

/* ---- metrics_http.c: /metrics, /healthz, /readyz ---- */

typedef struct at_metrics_http at_metrics_http_t;

typedef struct {
  /* Called on the server's thread before each render of /metrics (NULL:
   * none): fills the registry with values kept elsewhere. */
  void (*collect) (void *arg, at_metrics_t *metrics);
  /* /readyz answers 200 when it returns true, else 503 (NULL: always 200). */
  bool (*ready) (void *arg);
  void *arg;
} at_metrics_hooks_t;

/* Serves metrics (borrowed: it must outlive the server) on 0.0.0.0:port.
 * hooks may be NULL; component names the process in logs. NULL (logged)
 * when port is not 1..65535 or cannot be bound. */
at_metrics_http_t *at_metrics_http_new (int port, at_metrics_t *metrics,
                                        const at_metrics_hooks_t *hooks, const char *component);
/* Stops serving (waits for the server's thread). */
void at_metrics_http_destroy (at_metrics_http_t **self_p);

#endif
