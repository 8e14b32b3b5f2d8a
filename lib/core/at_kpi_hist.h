/* at_kpi_hist: the fixed, log-spaced histogram of durations that the KPI
 * rollups keep (first response and resolution times), and percentiles read
 * from it. The same edges are written in SQL (migration 022,
 * at_kpi_bucket) and in README "KPIs: facts, rollups, definitions":
 *
 *   bucket 0             [0 s, 1 s)
 *   bucket i, 1..43      [2^((i-1)/2) s, 2^(i/2) s)   (each edge sqrt 2 times the last)
 *   bucket 44            [2^21.5 s (about 34 days), infinity)
 *
 * Counts of any hours and days add up bucket by bucket, so a percentile
 * over a range is read from the sum, never averaged from the parts. */
#ifndef AT_KPI_HIST_H
#define AT_KPI_HIST_H

#include <stddef.h>
#include <stdint.h>

#define AT_KPI_HIST_BUCKETS 45

/* The bucket of a duration in seconds (negative counts as 0). */
int at_kpi_hist_bucket (double seconds);

/* The lower and upper edges of bucket i in seconds (upper of the last:
 * INFINITY). */
double at_kpi_hist_lower (int i);
double at_kpi_hist_upper (int i);

/* The q-quantile (0 < q <= 1) of the durations counted in counts[0..n-1]
 * (n <= AT_KPI_HIST_BUCKETS): the bucket where the cumulative count reaches
 * q * total, and within it a geometric interpolation between its edges
 * (linear in bucket 0; the lower edge in the last, open bucket). NAN when
 * nothing is counted. The answer is always inside the bucket that holds the
 * true quantile, so its error is at most that bucket's width (41%). */
double at_kpi_hist_quantile (const int64_t *counts, size_t n, double q);

#endif
