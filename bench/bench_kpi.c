/* bench_kpi: what the leads' dashboard costs on a long history, with the
 * store functions the api's GET /v1/kpis uses (at_store_kpi.h). Seeds
 * --tickets tickets over the last --days days through the ticket table's
 * triggers (at_store_kpi_bench.h), then measures:
 *   - the first refresh of the rollups over that history (every hour dirty),
 *     in calls of at most 168 hours as the api makes them;
 *   - reads with nothing left to refresh, over whole days of UTC and of São
 *     Paulo (as a dashboard there asks: by=day in its dates, the range's
 *     edges from the hourly rollups): by day, channel, intent, agent and all
 *     (--reads each, the median and the slowest);
 *   - after --fresh new tickets in the current hour: the refresh a dashboard's
 *     next read does, and that read.
 * Prints figures, never asserts a time.
 *
 *   bench_kpi --db CONNINFO [--tickets 200000] [--days 90] [--reads 9] [--fresh 1000] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "at_store.h"
#include "at_store_kpi.h"
#include "at_store_kpi_bench.h"
#include "at_time.h"

static double
s_now_ms (void)
{
  return (double) at_mono_us () / 1000.0;
}

/* Refreshes until nothing is dirty; the calls made and the hours recomputed. */
static int
s_refresh_all (at_store_t *store, long *calls, long *hours)
{
  long h = 0;
  *calls = *hours = 0;
  do {
    if (at_store_kpi_refresh (store, &h) != AT_OK)
      return AT_ERROR;
    *calls += 1;
    *hours += h;
  } while (h > 0 && *calls < 100000);
  return AT_OK;
}

/* --reads reads by `by` over the last `days` whole days until the end of
 * today: UTC's (tz NULL), or São Paulo's (UTC-3, no summer time since 2019)
 * as a dashboard there asks. The median and slowest ms. */
static int
s_reads (at_store_t *store, const char *by, int days, long reads, const char *tz,
         at_kpi_group_t *rows)
{
  int64_t *us = at_calloc ((size_t) reads, sizeof *us);
  size_t n = 0;
  const char *q_grain = "?";
  const int64_t day_us = (int64_t) 86400 * 1000000;
  int64_t until = (at_now_us () / day_us + 1) * day_us + (tz ? 3 * 3600 * (int64_t) 1000000 : 0);
  for (long i = 0; i < reads; i++) {
    at_kpi_query_t q = {.by = by, .since_us = until - (int64_t) days * day_us,
                        .until_us = until, .tz = tz};
    int64_t t0 = at_mono_us ();
    if (at_store_kpi_groups (store, &q, rows, AT_KPI_GROUPS_MAX, &n) != AT_OK) {
      free (us);
      return AT_ERROR;
    }
    us[i] = at_mono_us () - t0;
    q_grain = q.grain ? q.grain : "?";
  }
  qsort (us, (size_t) reads, sizeof *us, bench_cmp_i64);
  printf ("read by=%-8s over %d days of %s (%s): %4zu groups, median %8.1f ms, slowest %8.1f"
          " ms\n", by, days, tz ? tz : "UTC", q_grain, n,
          (double) bench_percentile (us, (size_t) reads, 50) / 1000.0,
          (double) us[reads - 1] / 1000.0);
  free (us);
  return AT_OK;
}

static int
s_run (at_store_t *store, long tickets, int days, long reads, long fresh)
{
  static const char *const bys[] = { "day", "channel", "intent", "agent", "all" };
  at_kpi_group_t *rows = at_calloc (AT_KPI_GROUPS_MAX, sizeof *rows);
  long calls = 0, hours = 0;
  double t0 = s_now_ms ();
  int rc = at_store_kpi_bench_seed (store, tickets, days);
  double seed_ms = s_now_ms () - t0;
  if (rc == AT_OK)
    printf ("seeded %ld tickets over %d days (facts by the triggers): %.1f s, %.0f tickets/s\n",
            tickets, days, seed_ms / 1000, tickets / (seed_ms / 1000));
  t0 = s_now_ms ();
  if (rc == AT_OK && (rc = s_refresh_all (store, &calls, &hours)) == AT_OK)
    printf ("first refresh: %ld hours in %ld calls, %.1f s (%.1f ms an hour)\n", hours, calls,
            (s_now_ms () - t0) / 1000, hours ? (s_now_ms () - t0) / (double) hours : 0.0);
  for (size_t i = 0; rc == AT_OK && i < AT_ARRAY_LEN (bys); i++)
    rc = s_reads (store, bys[i], days, reads, NULL, rows);
  for (size_t i = 0; rc == AT_OK && i < AT_ARRAY_LEN (bys); i++)
    rc = s_reads (store, bys[i], days, reads, "America/Sao_Paulo", rows);
  if (rc == AT_OK && fresh > 0 && (rc = at_store_kpi_bench_seed (store, fresh, 0)) == AT_OK) {
    t0 = s_now_ms ();
    rc = s_refresh_all (store, &calls, &hours);
    printf ("after %ld new tickets this hour: refresh %ld hours in %.1f ms\n", fresh, hours,
            s_now_ms () - t0);
    if (rc == AT_OK)
      rc = s_reads (store, "day", days, reads, NULL, rows);
  }
  free (rows);
  return rc;
}

int
main (int argc, char **argv)
{
  bench_print_cmdline (argc, argv);
  const char *db = bench_flag_str (argc, argv, "--db", NULL);
  long tickets = bench_flag_long (argc, argv, "--tickets", 200000, 1, 100000000);
  long days = bench_flag_long (argc, argv, "--days", 90, 1, 3650);
  long reads = bench_flag_long (argc, argv, "--reads", 9, 1, 1000);
  long fresh = bench_flag_long (argc, argv, "--fresh", 1000, 0, 10000000);
  if (!db) {
    fprintf (stderr, "usage: bench_kpi --db CONNINFO [--tickets N] [--days N] [--reads N]"
             " [--fresh N]\n");
    return 2;
  }
  at_store_t *store = at_store_new (db, "bench");
  if (!store || at_store_migrate (store, NULL) != AT_OK) {
    fprintf (stderr, "bench_kpi: no usable database at %s\n", db);
    return 1;
  }
  int rc = s_run (store, tickets, (int) days, reads, fresh);
  if (rc != AT_OK)
    fprintf (stderr, "bench_kpi: a store call failed (see the log above)\n");
  at_store_destroy (&store);
  return rc == AT_OK ? 0 : 1;
}
