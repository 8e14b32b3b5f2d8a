-- atende store, version 25: the KPI rollups' refresh and reads, faster (issue 16;
-- measured by bench/bench_kpi, README "Benchmarks").
--
-- A refresh deletes and rebuilds the hourly rows of the dirty hours and the daily rows of
-- their days, reading the hourly rows of those days: by grain and bucket, whatever the
-- dimension. The primary key (grain, dim, bucket, value) cannot serve that without a dim,
-- so every refresh scanned every hourly row (on a 90-day history, hundreds of thousands).
CREATE INDEX kpi_rollup_grain_bucket ON kpi_rollup (grain, bucket);

-- The dirty hours, newest first, and deleting them: by hour, not a scan of every row a busy
-- hour's fact changes appended (and their dead versions until vacuum).
CREATE INDEX kpi_dirty_hour ON kpi_dirty (hour);

-- Adding two histograms (the daily rollups, and every read over more than one bucket): a
-- PL/pgSQL loop over the array instead of an SQL ARRAY (SELECT ... generate_series) per
-- pair, which was most of a read by agent.
CREATE OR REPLACE FUNCTION at_kpi_hist_merge (a bigint[], b bigint[]) RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF b IS NULL THEN RETURN a; END IF;
  FOR i IN 1 .. 45 LOOP
    a[i] := a[i] + b[i];
  END LOOP;
  RETURN a;
END $$;
