/* at_metrics: the registry's Prometheus text (labels, escaping, cumulative
 * histograms, snapshots, caps), updates from many threads, and the small
 * HTTP server (/metrics, /healthz, /readyz). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "at_buf.h"
#include "at_common.h"
#include "at_metrics.h"

#define V(...) ((const char *[]) {__VA_ARGS__})

static void
test_counters_with_labels (void **state)
{
  (void) state;
  at_metrics_t *m = at_metrics_new ();
  at_metric_t *req = at_metrics_counter (m, "atende_http_requests_total",
                                         "HTTP requests answered, by route and status.",
                                         "route,code");
  at_metric_t *up = at_metrics_gauge (m, "atende_up", "The process is running.", NULL);
  at_metric_t *age = at_metrics_gauge (m, "atende_age_seconds", "Age.", "stage");
  assert_non_null (req);
  assert_int_equal (at_metric_add (req, V ("messages", "202"), 1), AT_OK);
  assert_int_equal (at_metric_add (req, V ("messages", "422"), 2), AT_OK);
  assert_int_equal (at_metric_add (req, V ("messages", "202"), 3), AT_OK);
  assert_int_equal (at_metric_set (up, NULL, 1), AT_OK);
  at_metric_decimals (age, 3);
  assert_int_equal (at_metric_set (age, V ("route"), 1.5), AT_OK);
  assert_int_equal (at_metric_add (age, V ("route"), -0.25), AT_OK);   /* a gauge goes down */
  char *text = at_metrics_render (m);
  assert_string_equal (text,
                       "# HELP atende_http_requests_total HTTP requests answered, by route and "
                       "status.\n"
                       "# TYPE atende_http_requests_total counter\n"
                       "atende_http_requests_total{route=\"messages\",code=\"202\"} 4\n"
                       "atende_http_requests_total{route=\"messages\",code=\"422\"} 2\n"
                       "# HELP atende_up The process is running.\n"
                       "# TYPE atende_up gauge\n"
                       "atende_up 1\n"
                       "# HELP atende_age_seconds Age.\n"
                       "# TYPE atende_age_seconds gauge\n"
                       "atende_age_seconds{stage=\"route\"} 1.250\n");
  free (text);
  /* absolute values: a snapshot counted elsewhere */
  assert_int_equal (at_metric_set (req, V ("messages", "202"), 10), AT_OK);
  text = at_metrics_render (m);
  assert_non_null (strstr (text, "{route=\"messages\",code=\"202\"} 10\n"));
  free (text);
  at_metrics_destroy (&m);
  assert_null (m);
  at_metrics_destroy (&m);   /* safe on NULL */
}

static void
test_escaping (void **state)
{
  (void) state;
  at_metrics_t *m = at_metrics_new ();
  at_metric_t *c = at_metrics_counter (m, "x_total", "a \\ back\nslash \"quoted\"", "who");
  at_metric_add (c, V ("a\\b\"c\nd"), 1);
  char *text = at_metrics_render (m);
  assert_string_equal (text,
                       "# HELP x_total a \\\\ back\\nslash \"quoted\"\n"
                       "# TYPE x_total counter\n"
                       "x_total{who=\"a\\\\b\\\"c\\nd\"} 1\n");
  free (text);
  at_metrics_destroy (&m);
}

static void
test_histogram_cumulative (void **state)
{
  (void) state;
  const double bounds[] = {0.001, 0.01, 0.1};
  at_metrics_t *m = at_metrics_new ();
  at_metric_t *h = at_metrics_histogram (m, "batch_seconds", "Batch time.", "stage", bounds, 3);
  at_metric_t *p = at_metrics_histogram (m, "publish_seconds", "Publish.", NULL, bounds, 3);
  assert_int_equal (at_metric_touch (h, V ("ingest")), AT_OK);
  at_metric_observe (h, V ("route"), 0.0005);
  at_metric_observe (h, V ("route"), 0.001);   /* on the bound: le="0.001" */
  at_metric_observe (h, V ("route"), 0.05);
  at_metric_observe (h, V ("route"), 7);       /* only +Inf */
  char *text = at_metrics_render (m);
  assert_string_equal (text,
                       "# HELP batch_seconds Batch time.\n"
                       "# TYPE batch_seconds histogram\n"
                       "batch_seconds_bucket{stage=\"ingest\",le=\"0.001\"} 0\n"
                       "batch_seconds_bucket{stage=\"ingest\",le=\"0.01\"} 0\n"
                       "batch_seconds_bucket{stage=\"ingest\",le=\"0.1\"} 0\n"
                       "batch_seconds_bucket{stage=\"ingest\",le=\"+Inf\"} 0\n"
                       "batch_seconds_sum{stage=\"ingest\"} 0.000000\n"
                       "batch_seconds_count{stage=\"ingest\"} 0\n"
                       "batch_seconds_bucket{stage=\"route\",le=\"0.001\"} 2\n"
                       "batch_seconds_bucket{stage=\"route\",le=\"0.01\"} 2\n"
                       "batch_seconds_bucket{stage=\"route\",le=\"0.1\"} 3\n"
                       "batch_seconds_bucket{stage=\"route\",le=\"+Inf\"} 4\n"
                       "batch_seconds_sum{stage=\"route\"} 7.051500\n"
                       "batch_seconds_count{stage=\"route\"} 4\n"
                       "# HELP publish_seconds Publish.\n"
                       "# TYPE publish_seconds histogram\n"
                       "publish_seconds_bucket{le=\"0.001\"} 0\n"
                       "publish_seconds_bucket{le=\"0.01\"} 0\n"
                       "publish_seconds_bucket{le=\"0.1\"} 0\n"
                       "publish_seconds_bucket{le=\"+Inf\"} 0\n"
                       "publish_seconds_sum 0.000000\n"
                       "publish_seconds_count 0\n");
  free (text);
  /* a snapshot: per bucket, not cumulative; count includes +Inf */
  const uint64_t buckets[] = {1, 0, 2};
  assert_int_equal (at_metric_set_histogram (p, NULL, buckets, 5, 1.5), AT_OK);
  assert_int_equal (at_metric_set_histogram (p, NULL, buckets, 2, 1.5), AT_INVALID);
  text = at_metrics_render (m);
  assert_non_null (strstr (text, "publish_seconds_bucket{le=\"0.01\"} 1\n"
                                 "publish_seconds_bucket{le=\"0.1\"} 3\n"
                                 "publish_seconds_bucket{le=\"+Inf\"} 5\n"
                                 "publish_seconds_sum 1.500000\n"
                                 "publish_seconds_count 5\n"));
  free (text);
  at_metrics_destroy (&m);
}

static void
test_refused (void **state)
{
  (void) state;
  const double bounds[] = {1, 2}, unordered[] = {2, 1};
  at_metrics_t *m = at_metrics_new ();
  at_metric_t *c = at_metrics_counter (m, "ok_total", "Fine.", "a,b");
  at_metric_t *g = at_metrics_gauge (m, "ok_gauge", "Fine.", NULL);
  assert_non_null (c);
  assert_non_null (g);
  assert_null (at_metrics_counter (m, "ok_total", "Taken.", NULL));
  assert_null (at_metrics_counter (m, "9lives", "Digit first.", NULL));
  assert_null (at_metrics_counter (m, "has space", "Space.", NULL));
  assert_null (at_metrics_counter (m, "l1", "Repeated label.", "a,a"));
  assert_null (at_metrics_counter (m, "l2", "Empty label.", "a,,b"));
  assert_null (at_metrics_counter (m, "l3", "Reserved label.", "__a"));
  assert_null (at_metrics_histogram (m, "h1", "le is the bucket's.", "le", bounds, 2));
  assert_null (at_metrics_histogram (m, "h2", "Unordered.", NULL, unordered, 2));
  assert_null (at_metrics_histogram (m, "h3", "No bounds.", NULL, NULL, 0));
  assert_int_equal (at_metric_add (c, NULL, 1), AT_INVALID);            /* values missing */
  assert_int_equal (at_metric_add (c, V ("x", NULL), 1), AT_INVALID);
  assert_int_equal (at_metric_add (c, V ("x", "y"), -1), AT_INVALID);   /* counters go up */
  assert_int_equal (at_metric_observe (c, V ("x", "y"), 1), AT_INVALID);
  assert_int_equal (at_metric_add (NULL, NULL, 1), AT_INVALID);
  for (int i = 0; i < AT_METRICS_SERIES_MAX; i++) {
    char v[16];
    snprintf (v, sizeof v, "%d", i);
    assert_int_equal (at_metric_add (c, V (v, "y"), 1), AT_OK);
  }
  assert_int_equal (at_metric_add (c, V ("one", "more"), 1), AT_BUSY);
  assert_int_equal (at_metric_add (c, V ("0", "y"), 1), AT_OK);          /* old ones still count */
  at_metrics_destroy (&m);
}

static void
test_render_clear_and_cap (void **state)
{
  (void) state;
  at_metrics_t *m = at_metrics_new ();
  at_metric_t *g = at_metrics_gauge (m, "g", "G.", NULL);
  at_metric_t *c = at_metrics_counter (m, "c_total", "C.", "k");
  at_metric_set (g, NULL, 3);
  at_metric_add (c, V ("a"), 1);
  char *text = at_metrics_render (m);
  assert_string_equal (text, "# HELP g G.\n# TYPE g gauge\ng 3\n"
                             "# HELP c_total C.\n# TYPE c_total counter\nc_total{k=\"a\"} 1\n");
  free (text);
  /* whole lines only, and AT_BUSY, when the buffer's cap is reached */
  char small[40];
  at_buf_t out;
  at_buf_fixed (&out, small, sizeof small);
  assert_int_equal (at_metrics_render_to (m, &out), AT_BUSY);
  assert_string_equal (small, "# HELP g G.\n# TYPE g gauge\ng 3\n");
  at_metrics_clear (m);
  text = at_metrics_render (m);
  assert_string_equal (text, "# HELP g G.\n# TYPE g gauge\ng 0\n"
                             "# HELP c_total C.\n# TYPE c_total counter\n");
  free (text);
  at_metrics_destroy (&m);
}

#define S_THREADS 8
#define S_ROUNDS 20000

static void *
s_hammer (void *arg)
{
  at_metric_t **families = arg;
  for (int i = 0; i < S_ROUNDS; i++) {
    at_metric_add (families[0], V (i % 2 ? "odd" : "even"), 1);
    at_metric_observe (families[1], NULL, 0.5);
  }
  return NULL;
}

static void
test_threads_sum (void **state)
{
  (void) state;
  const double bounds[] = {1};
  at_metrics_t *m = at_metrics_new ();
  at_metric_t *families[2] = {at_metrics_counter (m, "n_total", "N.", "parity"),
                              at_metrics_histogram (m, "h_seconds", "H.", NULL, bounds, 1)};
  pthread_t threads[S_THREADS];
  for (int i = 0; i < S_THREADS; i++)
    assert_int_equal (pthread_create (&threads[i], NULL, s_hammer, families), 0);
  for (int i = 0; i < 50; i++)
    free (at_metrics_render (m));   /* renders while they write */
  for (int i = 0; i < S_THREADS; i++)
    pthread_join (threads[i], NULL);
  char *text = at_metrics_render (m);
  char want[128];
  snprintf (want, sizeof want, "n_total{parity=\"even\"} %d\n", S_THREADS * S_ROUNDS / 2);
  assert_non_null (strstr (text, want));
  snprintf (want, sizeof want, "n_total{parity=\"odd\"} %d\n", S_THREADS * S_ROUNDS / 2);
  assert_non_null (strstr (text, want));
  snprintf (want, sizeof want, "h_seconds_bucket{le=\"1\"} %d\n", S_THREADS * S_ROUNDS);
  assert_non_null (strstr (text, want));
  snprintf (want, sizeof want, "h_seconds_sum %d.000000\n", S_THREADS * S_ROUNDS / 2);
  assert_non_null (strstr (text, want));
  free (text);
  at_metrics_destroy (&m);
}

/* ---- the HTTP server ---- */

static atomic_bool s_ready_answer;

static bool
s_ready (void *arg)
{
  (void) arg;
  return s_ready_answer;
}

static void
s_collect (void *arg, at_metrics_t *metrics)
{
  (void) metrics;
  at_metric_set (arg, NULL, 42);
}

static size_t
s_body (char *data, size_t size, size_t n, void *arg)
{
  at_buf_put (arg, data, size * n);
  return size * n;
}

/* GET url: the status, the body into out. */
static long
s_get (int port, const char *path, at_buf_t *out)
{
  char url[128];
  snprintf (url, sizeof url, "http://127.0.0.1:%d%s", port, path);
  CURL *curl = curl_easy_init ();
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_body);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, out);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 10L);
  long status = 0;
  if (curl_easy_perform (curl) == CURLE_OK)
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup (curl);
  return status;
}

/* A port the kernel just gave out (free unless someone takes it at once). */
static int
s_free_port (void)
{
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
  socklen_t len = sizeof addr;
  assert_int_equal (bind (fd, (struct sockaddr *) &addr, sizeof addr), 0);
  assert_int_equal (getsockname (fd, (struct sockaddr *) &addr, &len), 0);
  close (fd);
  return ntohs (addr.sin_port);
}

static void
test_http (void **state)
{
  (void) state;
  at_metrics_t *m = at_metrics_new ();
  at_metric_t *g = at_metrics_gauge (m, "depth", "Depth.", NULL);
  at_metrics_hooks_t hooks = {.collect = s_collect, .ready = s_ready, .arg = g};
  assert_null (at_metrics_http_new (0, m, &hooks, "test"));
  int port = s_free_port ();
  at_metrics_http_t *http = at_metrics_http_new (port, m, &hooks, "test");
  assert_non_null (http);
  at_buf_t body;
  at_buf_init (&body, 64 * 1024);
  assert_int_equal (s_get (port, "/metrics", &body), 200);
  assert_string_equal (body.data, "# HELP depth Depth.\n# TYPE depth gauge\ndepth 42\n");
  at_buf_reset (&body);
  assert_int_equal (s_get (port, "/healthz", &body), 200);
  s_ready_answer = false;
  assert_int_equal (s_get (port, "/readyz", &body), 503);
  s_ready_answer = true;
  assert_int_equal (s_get (port, "/readyz", &body), 200);
  assert_int_equal (s_get (port, "/nothing", &body), 404);
  at_buf_free (&body);
  at_metrics_http_destroy (&http);
  assert_null (http);
  at_metrics_destroy (&m);
}

int
main (void)
{
  curl_global_init (CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_counters_with_labels),
    cmocka_unit_test (test_escaping),
    cmocka_unit_test (test_histogram_cumulative),
    cmocka_unit_test (test_refused),
    cmocka_unit_test (test_render_clear_and_cap),
    cmocka_unit_test (test_threads_sum),
    cmocka_unit_test (test_http),
  };
  int rc = cmocka_run_group_tests (tests, NULL, NULL);
  curl_global_cleanup ();
  return rc;
}
