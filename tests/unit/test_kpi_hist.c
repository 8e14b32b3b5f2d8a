/* The KPI histogram (lib/core/at_kpi_hist.h): its bucket edges, and
 * percentiles read from bucket counts checked against hand counts: the
 * answer lies in the bucket of the true percentile, and adding two ranges'
 * counts gives the percentile of the union (not an average of the parts). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "at_kpi_hist.h"

static void
test_edges (void **state)
{
  (void) state;
  assert_int_equal (at_kpi_hist_bucket (0), 0);
  assert_int_equal (at_kpi_hist_bucket (-5), 0);
  assert_int_equal (at_kpi_hist_bucket (NAN), 0);
  assert_int_equal (at_kpi_hist_bucket (0.999), 0);
  assert_int_equal (at_kpi_hist_bucket (1), 1);         /* [1, 1.414) */
  assert_int_equal (at_kpi_hist_bucket (1.5), 2);       /* [1.414, 2) */
  assert_int_equal (at_kpi_hist_bucket (2), 3);         /* [2, 2.83) */
  assert_int_equal (at_kpi_hist_bucket (4), 5);
  assert_int_equal (at_kpi_hist_bucket (60), 12);       /* [45.25, 64) */
  assert_int_equal (at_kpi_hist_bucket (64), 13);
  assert_int_equal (at_kpi_hist_bucket (3600), 24);     /* [2896, 4096) */
  assert_int_equal (at_kpi_hist_bucket (1e9), AT_KPI_HIST_BUCKETS - 1);
  for (int i = 1; i < AT_KPI_HIST_BUCKETS; i++) {
    double lo = at_kpi_hist_lower (i);
    assert_int_equal (at_kpi_hist_bucket (lo), i);     /* each lower edge is its own */
    assert_int_equal (at_kpi_hist_bucket (nextafter (lo, 0)), i - 1);
    assert_true (at_kpi_hist_upper (i - 1) == lo);
  }
  assert_true (isinf (at_kpi_hist_upper (AT_KPI_HIST_BUCKETS - 1)));
}

static void
s_count (int64_t *h, const double *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    h[at_kpi_hist_bucket (v[i])]++;
}

static void
s_in_bucket_of (double got, double truth)
{
  int b = at_kpi_hist_bucket (truth);
  if (!(got >= at_kpi_hist_lower (b) && got <= at_kpi_hist_upper (b)))
    fail_msg ("%g is not in the bucket of %g [%g, %g]", got, truth, at_kpi_hist_lower (b),
              at_kpi_hist_upper (b));
}

static void
test_quantiles_hand_count (void **state)
{
  (void) state;
  int64_t h[AT_KPI_HIST_BUCKETS] = {0};
  assert_true (isnan (at_kpi_hist_quantile (h, AT_KPI_HIST_BUCKETS, 0.5)));
  /* first responses of ten tickets, sorted: p50 is the 5th (120 s), p90 the 9th (3000 s) */
  const double v[] = {5, 30, 45, 90, 120, 150, 600, 900, 3000, 86400};
  s_count (h, v, 10);
  s_in_bucket_of (at_kpi_hist_quantile (h, AT_KPI_HIST_BUCKETS, 0.5), 120);
  s_in_bucket_of (at_kpi_hist_quantile (h, AT_KPI_HIST_BUCKETS, 0.9), 3000);
  s_in_bucket_of (at_kpi_hist_quantile (h, AT_KPI_HIST_BUCKETS, 1.0), 86400);
  assert_true (isnan (at_kpi_hist_quantile (h, AT_KPI_HIST_BUCKETS, 0)));
  /* one value: every quantile is in its bucket; below a second: linear in [0, 1) */
  int64_t one[AT_KPI_HIST_BUCKETS] = {0};
  one[at_kpi_hist_bucket (0.25)] = 4;
  assert_true (fabs (at_kpi_hist_quantile (one, AT_KPI_HIST_BUCKETS, 0.5) - 0.5) < 1e-9);
  int64_t far[AT_KPI_HIST_BUCKETS] = {0};
  far[AT_KPI_HIST_BUCKETS - 1] = 1;                    /* the open bucket: its lower edge */
  assert_true (at_kpi_hist_quantile (far, AT_KPI_HIST_BUCKETS, 0.5)
               == at_kpi_hist_lower (AT_KPI_HIST_BUCKETS - 1));
}

/* Two days' counts added: the median of all twenty values, where the
 * average of the two days' medians would be far off. */
static void
test_sum_of_ranges (void **state)
{
  (void) state;
  int64_t a[AT_KPI_HIST_BUCKETS] = {0}, b[AT_KPI_HIST_BUCKETS] = {0}, sum[AT_KPI_HIST_BUCKETS];
  const double day1[] = {10, 10, 10, 10, 10, 10, 10, 10, 10, 10};
  const double day2[] = {20, 7200, 7200, 7200, 7200, 7200, 7200, 7200, 7200, 7200};
  s_count (a, day1, 10);
  s_count (b, day2, 10);
  for (int i = 0; i < AT_KPI_HIST_BUCKETS; i++)
    sum[i] = a[i] + b[i];
  /* sorted: ten 10s, one 20, nine 7200s: the 10th value is 10 */
  s_in_bucket_of (at_kpi_hist_quantile (sum, AT_KPI_HIST_BUCKETS, 0.5), 10);
  s_in_bucket_of (at_kpi_hist_quantile (sum, AT_KPI_HIST_BUCKETS, 0.9), 7200);
  double avg = (at_kpi_hist_quantile (a, AT_KPI_HIST_BUCKETS, 0.5)
                + at_kpi_hist_quantile (b, AT_KPI_HIST_BUCKETS, 0.5)) / 2;
  assert_true (avg > 1000);                            /* what averaging would have said */
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_edges),
    cmocka_unit_test (test_quantiles_hand_count),
    cmocka_unit_test (test_sum_of_ranges),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
