/* at_kpi_hist: log-spaced duration buckets and percentiles from them (see
 * at_kpi_hist.h). */
#include <math.h>
#include "at_kpi_hist.h"

int
at_kpi_hist_bucket (double seconds)
{
  if (!(seconds >= 1.0))               /* also NAN and negative */
    return 0;
  double guess = floor (2.0 * log2 (seconds)) + 1.0;
  int i = guess >= AT_KPI_HIST_BUCKETS - 1 ? AT_KPI_HIST_BUCKETS - 1 : (int) guess;
  /* the edges decide, computed as SQL's at_kpi_bucket computes them (pow) */
  while (i > 1 && seconds < at_kpi_hist_lower (i))
    i--;
  while (i < AT_KPI_HIST_BUCKETS - 1 && seconds >= at_kpi_hist_upper (i))
    i++;
  return i;
}

double
at_kpi_hist_lower (int i)
{
  return i <= 0 ? 0.0 : pow (2.0, (i - 1) / 2.0);
}

double
at_kpi_hist_upper (int i)
{
  return i >= AT_KPI_HIST_BUCKETS - 1 ? INFINITY : pow (2.0, i / 2.0);
}

double
at_kpi_hist_quantile (const int64_t *counts, size_t n, double q)
{
  int64_t total = 0;
  if (n > AT_KPI_HIST_BUCKETS)
    n = AT_KPI_HIST_BUCKETS;
  for (size_t i = 0; i < n; i++)
    total += counts[i] > 0 ? counts[i] : 0;
  if (total == 0 || !(q > 0.0) || q > 1.0)
    return NAN;
  double rank = q * (double) total, before = 0;
  for (size_t i = 0; i < n; i++) {
    double c = counts[i] > 0 ? (double) counts[i] : 0.0;
    if (c > 0 && before + c >= rank) {
      double f = (rank - before) / c, lo = at_kpi_hist_lower ((int) i);
      double hi = at_kpi_hist_upper ((int) i);
      if (i == 0)
        return f * hi;
      if (isinf (hi))
        return lo;
      return lo * pow (hi / lo, f);
    }
    before += c;
  }
  return at_kpi_hist_lower ((int) n - 1);   /* not reached: rank <= total */
}
