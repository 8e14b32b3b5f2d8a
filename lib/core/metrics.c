/* at_metrics: the registry and its Prometheus text writer (at_metrics.h). */
#include "at_metrics.h"
#include "at_common.h"
#include "at_log.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_COMP "metrics"

typedef enum { S_COUNTER, S_GAUGE, S_HISTOGRAM } s_kind_t;

static const char *const s_kind_names[] = {"counter", "gauge", "histogram"};

typedef struct {
  char **values;          /* one per label name */
  uint64_t hash;          /* of values, to skip most comparisons */
  double value;           /* counter, gauge */
  uint64_t *buckets;      /* histogram: per bound, not cumulative */
  uint64_t count;         /* histogram: every observation (+Inf) */
  double sum;
} s_series_t;

struct at_metric {
  at_metrics_t *owner;
  s_kind_t kind;
  char *name;
  char *help;
  char *labels[AT_METRICS_LABELS_MAX];
  size_t n_labels;
  double *bounds;
  size_t n_bounds;
  int decimals;
  s_series_t **series;    /* in the order they were made */
  size_t n_series, cap_series;
};

struct at_metrics {
  pthread_mutex_t lock;
  at_metric_t **families; /* in the order they were registered */
  size_t n, cap;
};

/* ---- names, labels, bounds ---- */

static bool
s_name_ok (const char *name, bool metric)
{
  if (name == NULL || *name == '\0')
    return false;
  for (const char *p = name; *p; p++) {
    bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'
                 || (metric && *p == ':');
    if (!alpha && !(p > name && *p >= '0' && *p <= '9'))
      return false;
  }
  return metric || strncmp (name, "__", 2) != 0;
}

/* Splits "a,b" into m->labels; false when a name is bad, repeated or too many. */
static bool
s_labels_parse (at_metric_t *m, const char *labels)
{
  if (labels == NULL || *labels == '\0')
    return true;
  char *copy = at_strdup (labels), *save = NULL;
  bool ok = labels[strlen (labels) - 1] != ',' && strstr (labels, ",,") == NULL
            && labels[0] != ',';
  for (char *tok = strtok_r (copy, ",", &save); ok && tok; tok = strtok_r (NULL, ",", &save)) {
    ok = s_name_ok (tok, false) && m->n_labels < AT_METRICS_LABELS_MAX
         && !(m->kind == S_HISTOGRAM && strcmp (tok, "le") == 0);
    for (size_t i = 0; ok && i < m->n_labels; i++)
      ok = strcmp (m->labels[i], tok) != 0;
    if (ok)
      m->labels[m->n_labels++] = at_strdup (tok);
  }
  free (copy);
  return ok;
}

static bool
s_bounds_ok (const double *bounds, size_t n)
{
  if (bounds == NULL || n == 0 || n > AT_METRICS_BOUNDS_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isfinite (bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
      return false;
  return true;
}

/* ---- series ---- */

static uint64_t
s_hash (const char *const *values, size_t n)
{
  uint64_t h = 14695981039346656037ULL;
  for (size_t i = 0; i < n; i++) {
    for (const unsigned char *p = (const unsigned char *) values[i]; *p; p++)
      h = (h ^ *p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
  }
  return h;
}

static void
s_series_free (s_series_t *s, size_t n_labels)
{
  if (s == NULL)
    return;
  for (size_t i = 0; i < n_labels; i++)
    free (s->values[i]);
  free (s->values);
  free (s->buckets);
  free (s);
}

static s_series_t *
s_series_new (const at_metric_t *m, const char *const *values, uint64_t hash)
{
  s_series_t *s = at_calloc (1, sizeof *s);
  s->values = at_calloc (m->n_labels ? m->n_labels : 1, sizeof *s->values);
  for (size_t i = 0; i < m->n_labels; i++)
    s->values[i] = at_strdup (values[i]);
  s->hash = hash;
  if (m->kind == S_HISTOGRAM)
    s->buckets = at_calloc (m->n_bounds, sizeof *s->buckets);
  return s;
}

/* The series for values (made when new), under the lock; NULL with *rc set. */
static s_series_t *
s_series (at_metric_t *m, const char *const *values, int *rc)
{
  *rc = AT_INVALID;
  if (m->n_labels > 0 && values == NULL)
    return NULL;
  for (size_t i = 0; i < m->n_labels; i++)
    if (values[i] == NULL)
      return NULL;
  uint64_t hash = s_hash (values, m->n_labels);
  for (size_t k = 0; k < m->n_series; k++) {
    s_series_t *s = m->series[k];
    bool same = s->hash == hash;
    for (size_t i = 0; same && i < m->n_labels; i++)
      same = strcmp (s->values[i], values[i]) == 0;
    if (same) {
      *rc = AT_OK;
      return s;
    }
  }
  *rc = AT_BUSY;
  if (m->n_series >= AT_METRICS_SERIES_MAX)
    return NULL;
  if (m->n_series == m->cap_series) {
    m->cap_series = m->cap_series ? m->cap_series * 2 : 8;
    m->series = at_realloc (m->series, m->cap_series * sizeof *m->series);
  }
  m->series[m->n_series++] = s_series_new (m, values, hash);
  *rc = AT_OK;
  return m->series[m->n_series - 1];
}

static void
s_clear_locked (at_metric_t *m)
{
  for (size_t k = 0; k < m->n_series; k++)
    s_series_free (m->series[k], m->n_labels);
  m->n_series = 0;
  if (m->n_labels == 0) {
    int rc;
    s_series (m, NULL, &rc);
  }
}

/* ---- the registry ---- */

at_metrics_t *
at_metrics_new (void)
{
  at_metrics_t *self = at_calloc (1, sizeof *self);
  pthread_mutex_init (&self->lock, NULL);
  return self;
}

static void
s_family_free (at_metric_t *m)
{
  for (size_t k = 0; k < m->n_series; k++)
    s_series_free (m->series[k], m->n_labels);
  for (size_t i = 0; i < m->n_labels; i++)
    free (m->labels[i]);
  free (m->series);
  free (m->bounds);
  free (m->name);
  free (m->help);
  free (m);
}

void
at_metrics_destroy (at_metrics_t **self_p)
{
  if (self_p == NULL || *self_p == NULL)
    return;
  at_metrics_t *self = *self_p;
  for (size_t i = 0; i < self->n; i++)
    s_family_free (self->families[i]);
  free (self->families);
  pthread_mutex_destroy (&self->lock);
  free (self);
  *self_p = NULL;
}

static bool
s_name_taken (const at_metrics_t *self, const char *name)
{
  for (size_t i = 0; i < self->n; i++)
    if (self->families[i]->name && strcmp (self->families[i]->name, name) == 0)
      return true;
  return false;
}

static at_metric_t *
s_register (at_metrics_t *self, s_kind_t kind, const char *name, const char *help,
            const char *labels, const double *bounds, size_t n_bounds)
{
  at_metric_t *m = at_calloc (1, sizeof *m);
  m->owner = self;
  m->kind = kind;
  bool ok = s_labels_parse (m, labels)
            && (kind != S_HISTOGRAM || s_bounds_ok (bounds, n_bounds));
  pthread_mutex_lock (&self->lock);
  ok = ok && s_name_ok (name, true) && !s_name_taken (self, name);
  if (ok) {
    m->name = name ? at_strdup (name) : NULL;
    m->help = at_strdup (help ? help : "");
    if (kind == S_HISTOGRAM) {
      m->bounds = at_malloc (n_bounds * sizeof *bounds);
      memcpy (m->bounds, bounds, n_bounds * sizeof *bounds);
      m->n_bounds = n_bounds;
    }
    s_clear_locked (m);
    if (self->n == self->cap) {
      self->cap = self->cap ? self->cap * 2 : 16;
      self->families = at_realloc (self->families, self->cap * sizeof *self->families);
    }
    self->families[self->n++] = m;
  }
  pthread_mutex_unlock (&self->lock);
  if (ok)
    return m;
  at_error (S_COMP, "msg=\"metric family refused\" name=\"%s\" kind=%s labels=\"%s\"",
            name ? name : "", s_kind_names[kind], labels ? labels : "");
  s_family_free (m);
  return NULL;
}

at_metric_t *
at_metrics_counter (at_metrics_t *self, const char *name, const char *help, const char *labels)
{
  return s_register (self, S_COUNTER, name, help, labels, NULL, 0);
}

at_metric_t *
at_metrics_gauge (at_metrics_t *self, const char *name, const char *help, const char *labels)
{
  return s_register (self, S_GAUGE, name, help, labels, NULL, 0);
}

at_metric_t *
at_metrics_histogram (at_metrics_t *self, const char *name, const char *help,
                      const char *labels, const double *bounds, size_t n_bounds)
{
  return s_register (self, S_HISTOGRAM, name, help, labels, bounds, n_bounds);
}

void
at_metric_decimals (at_metric_t *m, int decimals)
{
  if (m == NULL)
    return;
  pthread_mutex_lock (&m->owner->lock);
  m->decimals = decimals < 0 ? 0 : decimals > 9 ? 9 : decimals;
  pthread_mutex_unlock (&m->owner->lock);
}

/* ---- updates ---- */

typedef enum { S_ADD, S_SET, S_OBSERVE, S_TOUCH } s_op_t;

static int
s_update (at_metric_t *m, const char *const *values, s_op_t op, double v)
{
  if (m == NULL || isnan (v))
    return AT_INVALID;
  bool histogram = m->kind == S_HISTOGRAM;
  if ((op == S_OBSERVE) != histogram && op != S_TOUCH)
    return AT_INVALID;
  if (m->kind == S_COUNTER && v < 0)
    return AT_INVALID;
  int rc;
  pthread_mutex_lock (&m->owner->lock);
  s_series_t *s = s_series (m, values, &rc);
  if (s != NULL && op == S_ADD)
    s->value += v;
  else if (s != NULL && op == S_SET)
    s->value = v;
  else if (s != NULL && op == S_OBSERVE) {
    size_t i = 0;
    while (i < m->n_bounds && v > m->bounds[i])
      i++;
    if (i < m->n_bounds)
      s->buckets[i]++;
    s->count++;
    s->sum += v;
  }
  pthread_mutex_unlock (&m->owner->lock);
  return rc;
}

int
at_metric_add (at_metric_t *m, const char *const *values, double n)
{
  return s_update (m, values, S_ADD, n);
}

int
at_metric_set (at_metric_t *m, const char *const *values, double v)
{
  return s_update (m, values, S_SET, v);
}

int
at_metric_observe (at_metric_t *m, const char *const *values, double v)
{
  return s_update (m, values, S_OBSERVE, v);
}

int
at_metric_touch (at_metric_t *m, const char *const *values)
{
  return s_update (m, values, S_TOUCH, 0);
}

int
at_metric_set_histogram (at_metric_t *m, const char *const *values, const uint64_t *buckets,
                         uint64_t count, double sum)
{
  if (m == NULL || m->kind != S_HISTOGRAM || buckets == NULL || isnan (sum))
    return AT_INVALID;
  uint64_t total = 0;
  for (size_t i = 0; i < m->n_bounds; i++)
    total += buckets[i];
  if (total > count)
    return AT_INVALID;
  int rc;
  pthread_mutex_lock (&m->owner->lock);
  s_series_t *s = s_series (m, values, &rc);
  if (s != NULL) {
    memcpy (s->buckets, buckets, m->n_bounds * sizeof *buckets);
    s->count = count;
    s->sum = sum;
  }
  pthread_mutex_unlock (&m->owner->lock);
  return rc;
}

void
at_metric_clear (at_metric_t *m)
{
  if (m == NULL)
    return;
  pthread_mutex_lock (&m->owner->lock);
  s_clear_locked (m);
  pthread_mutex_unlock (&m->owner->lock);
}

void
at_metrics_clear (at_metrics_t *self)
{
  if (self == NULL)
    return;
  pthread_mutex_lock (&self->lock);
  for (size_t i = 0; i < self->n; i++)
    s_clear_locked (self->families[i]);
  pthread_mutex_unlock (&self->lock);
}

/* ---- rendering ---- */

/* Drops a line that did not fit whole (the buffer keeps overflow set, so
 * nothing after it is written either). */
static void
s_whole (at_buf_t *out, size_t start)
{
  if (out->overflow && out->len > start) {
    out->len = start;
    out->data[start] = '\0';
  }
}

/* text escaped for a HELP line (\\ and \n) or a label value (also \"). */
static void
s_put_escaped (at_buf_t *out, const char *text, bool quote)
{
  const char *run = text;
  for (const char *p = text; *p; p++) {
    const char *esc = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n"
                      : (quote && *p == '"') ? "\\\"" : NULL;
    if (esc == NULL)
      continue;
    at_buf_put (out, run, (size_t) (p - run));
    at_buf_puts (out, esc);
    run = p + 1;
  }
  at_buf_puts (out, run);
}

static void
s_format_value (char *out, size_t cap, double v, int decimals)
{
  if (isnan (v))
    snprintf (out, cap, "NaN");
  else if (isinf (v))
    snprintf (out, cap, "%sInf", v > 0 ? "+" : "-");
  else
    snprintf (out, cap, "%.*f", decimals, v);
}

/* name<suffix>{labels[,le="le"]} value */
static void
s_sample (at_buf_t *out, const at_metric_t *m, const s_series_t *s, const char *suffix,
          const char *le, const char *value)
{
  size_t start = out->len;
  at_buf_puts (out, m->name);
  at_buf_puts (out, suffix);
  if (m->n_labels > 0 || le != NULL) {
    at_buf_putc (out, '{');
    for (size_t i = 0; i < m->n_labels; i++) {
      at_buf_printf (out, "%s%s=\"", i ? "," : "", m->labels[i]);
      s_put_escaped (out, s->values[i], true);
      at_buf_putc (out, '"');
    }
    if (le != NULL)
      at_buf_printf (out, "%sle=\"%s\"", m->n_labels ? "," : "", le);
    at_buf_putc (out, '}');
  }
  at_buf_printf (out, " %s\n", value);
  s_whole (out, start);
}

static void
s_render_histogram (at_buf_t *out, const at_metric_t *m, const s_series_t *s)
{
  char le[40], value[48];
  uint64_t cumulative = 0;
  for (size_t i = 0; i < m->n_bounds; i++) {
    cumulative += s->buckets[i];
    snprintf (le, sizeof le, "%g", m->bounds[i]);
    snprintf (value, sizeof value, "%llu", (unsigned long long) cumulative);
    s_sample (out, m, s, "_bucket", le, value);
  }
  snprintf (value, sizeof value, "%llu", (unsigned long long) s->count);
  s_sample (out, m, s, "_bucket", "+Inf", value);
  s_format_value (value, sizeof value, s->sum, 6);
  s_sample (out, m, s, "_sum", NULL, value);
  snprintf (value, sizeof value, "%llu", (unsigned long long) s->count);
  s_sample (out, m, s, "_count", NULL, value);
}

static void
s_render_family (at_buf_t *out, const at_metric_t *m)
{
  size_t start = out->len;
  if (m->help[0] != '\0') {
    at_buf_printf (out, "# HELP %s ", m->name);
    s_put_escaped (out, m->help, false);
    at_buf_putc (out, '\n');
    s_whole (out, start);
  }
  start = out->len;
  at_buf_printf (out, "# TYPE %s %s\n", m->name, s_kind_names[m->kind]);
  s_whole (out, start);
  char value[48];
  for (size_t k = 0; k < m->n_series; k++) {
    if (m->kind == S_HISTOGRAM) {
      s_render_histogram (out, m, m->series[k]);
      continue;
    }
    s_format_value (value, sizeof value, m->series[k]->value, m->decimals);
    s_sample (out, m, m->series[k], "", NULL, value);
  }
}

int
at_metrics_render_to (at_metrics_t *self, at_buf_t *out)
{
  if (self == NULL || out == NULL)
    return AT_INVALID;
  pthread_mutex_lock (&self->lock);
  for (size_t i = 0; i < self->n && !out->overflow; i++)
    s_render_family (out, self->families[i]);
  pthread_mutex_unlock (&self->lock);
  return out->overflow ? AT_BUSY : AT_OK;
}

char *
at_metrics_render (at_metrics_t *self)
{
  at_buf_t out;
  at_buf_init (&out, AT_METRICS_RENDER_CAP);
  if (at_metrics_render_to (self, &out) == AT_BUSY)
    at_warn (S_COMP, "msg=\"metrics cut at the render cap\" cap=%d", AT_METRICS_RENDER_CAP);
  return at_buf_take (&out);
}
