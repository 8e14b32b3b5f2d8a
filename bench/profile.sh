#!/usr/bin/env bash
# Where the durable bus's time goes: bench_bus's throughput run (the tiny
# stage, as bench/bench.sh runs it, without the latency and backlog runs) on a
# private PostgreSQL with fsync on, with `perf record -a -g` over the measured
# part (after the warm-up, until the last message is done) and
# pg_stat_statements reset at its start. Prints the run's lines, the CPU share
# of every process on the machine (swapper is idle), the run's threads
# (postgres backends named by their last statement, the broker `atende`,
# bench_bus's publishers and consumers), the run's processes by symbol,
# postgres's time by symbol with callees included, and the statements by
# total execution time.
#   bench/profile.sh [BUILD_DIR]
# PROFILE_MESSAGES  messages of the measured run  (default 100000)
# PROFILE_TOP       lines of each table           (default 25)
# PROFILE_DATA      keep perf.data at this path   (default: removed on exit)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)   # absolute: the run happens from inside it
ATENDE=$BUILD/atende
for b in "$ATENDE" "$BUILD/bench/bench_bus"; do
  [[ -x "$b" ]] || { echo "profile.sh: $b not built" >&2; exit 1; }
done
command -v psql >/dev/null || { echo "profile.sh: psql not found (postgresql-client)" >&2; exit 1; }
if ! command -v perf >/dev/null; then
  echo "profile.sh: installing linux-perf"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null
fi
TOP=${PROFILE_TOP:-25}

source "$ROOT/bench/bench_pg.sh"
WORK=$(mktemp -d /tmp/atende-profile.XXXXXX)
BENCH_TMP+=("$WORK")
DATA=${PROFILE_DATA:-$WORK/perf.data}
ATENDE_LOG_LEVEL=warn ATENDE_PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all" \
  bench_pg_start profile >/dev/null
sql() { psql -X -q -h "$PGDIR" -U postgres -d postgres "$@"; }
sql -c "CREATE EXTENSION pg_stat_statements"
cd "$BUILD"   # the benchmark's process logs land here

# until bench_bus has printed a line matching $1
wait_for() {
  until grep -q "$1" "$WORK/out"; do
    kill -0 "$bench" 2>/dev/null || { cat "$WORK/out"; echo "profile.sh: bench_bus ended" >&2; exit 1; }
    sleep 0.5   # its own load stays out of the profile (grep, sleep: a few per second)
  done
}
# the run's processes: bench_bus, what it started, the postmaster and its children
run_pids() {
  local pm
  pm=$(head -1 "$PGDIR/data/postmaster.pid")
  echo "$bench" "$pm" $(pgrep -P "$bench" || true) $(pgrep -P "$pm" || true)
}

cmd=("$BUILD/bench/bench_bus" --db "$DB" --atende "$ATENDE" --messages "${PROFILE_MESSAGES:-100000}"
     --latency-seconds 0 --backlog 0 --stage tiny)
echo "\$ ${cmd[*]}"
"${cmd[@]}" >"$WORK/out" 2>&1 &
bench=$!
wait_for "^RESULT warm-up_msg_s="
pids=$(run_pids)
sql -At -F ' ' -c "SELECT pid, CASE backend_type WHEN 'client backend' THEN 'last statement: '
  || left (regexp_replace (query, '\s+', ' ', 'g'), 60) ELSE backend_type END
  FROM pg_stat_activity" >"$WORK/backends"
sql -c "SELECT pg_stat_statements_reset ()" >/dev/null
perf record -a -g -F 999 -o "$DATA" >"$WORK/perf.log" 2>&1 &
perf_pid=$!
wait_for "^RESULT bus_msg_s="
pids=$(echo "$pids" "$(run_pids)" | tr ' ' '\n' | sort -u | paste -sd,)
kill -INT "$perf_pid"
wait "$perf_pid" || true   # its status after SIGINT is not 0
grep -q "Captured and wrote" "$WORK/perf.log" || { cat "$WORK/perf.log" >&2; exit 1; }
wait "$bench"
cat "$WORK/out"

report() {   # perf report's table without its comments, TOP lines
  nice -n 10 perf report -i "$DATA" --stdio -g none "$@" 2>/dev/null | grep -vE '^(#|$)' | head -n "$TOP" || true
}
echo
echo "== the whole machine during the measured run, by process (swapper: idle)"
echo "\$ perf report --no-children --sort comm"
report --no-children --sort comm
echo
echo "== the run's threads, of all the machine's samples (postgres: its last statement before"
echo "   the measured run names its client)"
report --no-children --pid "$pids" --sort comm,pid |
  awk 'NR == FNR { id = $1; $1 = ""; what[id] = $0; next }
       { split ($3, p, ":"); printf "%8s  %-12s %-7s %s\n", $1, $2, p[1], what[p[1]] }' \
      "$WORK/backends" -
echo
echo "== the run's processes, by symbol (self time)"
echo "\$ perf report --no-children --sort comm,dso,sym --pid ..."
report --no-children --pid "$pids" --sort comm,dso,sym
echo
echo "== postgres, by symbol with callees (children)"
report --children --pid "$pids" --comm postgres --sort sym
echo
echo "== statements by total execution time (pg_stat_statements, the measured run)"
sql -c "SELECT calls, round (total_exec_time::numeric) AS total_ms,
          round (mean_exec_time::numeric, 3) AS mean_ms, rows,
          round ((100 * total_exec_time / sum (total_exec_time) OVER ())::numeric, 1) AS pct,
          left (regexp_replace (query, '\s+', ' ', 'g'), 90) AS statement
        FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT $TOP"
