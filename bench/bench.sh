#!/usr/bin/env bash
# The benchmarks, in order, against a private PostgreSQL with fsync on, and
# a summary against the targets of ../shared/design.md.
#   bench/bench.sh [BUILD_DIR]          (./atende.sh bench builds, then runs this)
# Sizes (environment):
#   BENCH_DISPATCH_MESSAGES  bench_dispatch messages          (default 1000000)
#   BENCH_MESSAGES           bench_bus messages per run        (default 100000)
#   BENCH_BACKLOG            rows already waiting, bench_bus   (default 1000000; 10000000 for
#                            the design's 10M figure: inserting them takes minutes)
#   BENCH_LATENCY_SECONDS    confirm-latency run               (default 10)
#   BENCH_PGBENCH_SECONDS    each pgbench run                  (default 20)
#   BENCH_STAGE              tiny (one effect row, the design's measure) or ingest (default tiny)
#   BENCH_ASSIGN_TICKETS     bench_assign's waiting tickets    (default 100000)
#   BENCH_KPI_TICKETS        bench_kpi's 90-day history        (default 200000)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)   # absolute: the runs happen from inside it
ATENDE=$BUILD/atende
for b in "$ATENDE" "$BUILD/bench/bench_dispatch" "$BUILD/bench/bench_bus"; do
  [[ -x "$b" ]] || { echo "bench.sh: $b not built" >&2; exit 1; }
done
command -v pgbench >/dev/null || { echo "bench.sh: pgbench not found (postgresql-client)" >&2; exit 1; }

source "$ROOT/bench/bench_pg.sh"
OUT=$(mktemp /tmp/atende-bench-out.XXXXXX)
BENCH_TMP+=("$OUT")
bench_pg_start bench
cd "$BUILD"   # the benchmarks' process logs land here

run() {
  echo
  echo "\$ $*"
  "$@" 2>&1 | tee -a "$OUT"
}

run "$BUILD/bench/bench_dispatch" --atende "$ATENDE" --messages "${BENCH_DISPATCH_MESSAGES:-1000000}"
run "$BUILD/bench/bench_bus" --db "$DB" --atende "$ATENDE" --messages "${BENCH_MESSAGES:-100000}" \
  --latency-seconds "${BENCH_LATENCY_SECONDS:-10}" --backlog "${BENCH_BACKLOG:-1000000}" \
  --stage "${BENCH_STAGE:-tiny}"
[[ -x "$BUILD/bench/bench_assign" ]] && run "$BUILD/bench/bench_assign" --db "$DB" --agents 1000 \
  --tickets "${BENCH_ASSIGN_TICKETS:-100000}"
if [[ -x "$BUILD/bench/bench_kpi" ]]; then   # its own database: a history of its own
  psql -X -q -h "$PGDIR" -U postgres -d postgres -c "CREATE DATABASE kpi" >/dev/null
  run "$BUILD/bench/bench_kpi" --db "host=$PGDIR port=5432 user=postgres dbname=kpi" \
    --tickets "${BENCH_KPI_TICKETS:-200000}" --days 90 --reads 5
fi

PGB=(pgbench -h "$PGDIR" -p 5432 -U postgres)
T=${BENCH_PGBENCH_SECONDS:-20}
run "${PGB[@]}" -i -s 10 -q postgres
run "${PGB[@]}" -c 4 -j 2 -T "$T" postgres
tpcb=$(grep -E "^tps = " "$OUT" | tail -1 | sed -E 's/tps = ([0-9.]+).*/\1/')
run "${PGB[@]}" -c 4 -j 2 -T "$T" -N postgres
simple=$(grep -E "^tps = " "$OUT" | tail -1 | sed -E 's/tps = ([0-9.]+).*/\1/')

# key=value from the RESULT lines
val() { grep -hoE "(^| )$1=[-0-9.]+" "$OUT" | tail -1 | sed -E 's/.*=//'; }
dispatch=$(val dispatch_msg_s); raw=$(val raw_zmq_msg_s); ratio=$(val ratio)
assign=$(val assign_fill_s); bus=$(val bus_msg_s); per_commit=$(grep -E "^RESULT bus_msg_s=" "$OUT" | tail -1 | grep -oE "msgs_per_publish_commit=[-0-9.]+" | sed 's/.*=//')
p50=$(val confirm_p50_ms); p99=$(val confirm_p99_ms)
offered=$(val confirm_offered_msg_s); achieved=$(val confirm_achieved_msg_s)
backlog=$(val backlog); backlog_ratio=$(val backlog_ratio)
bus_per_tps=$(awk -v a="${bus:-0}" -v b="${simple:-0}" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }')

echo
echo "summary (PostgreSQL fsync=on, $(nproc) cores; targets from ../shared/design.md)"
printf "| %-52s | %-22s | %-18s |\n" "what" "measured" "target"
printf "| %-52s | %-22s | %-18s |\n" "----" "--------" "------"
printf "| %-52s | %-22s | %-18s |\n" "broker dispatch, non-durable, 200 B (msg/s)" "${dispatch:-n/a}" ">= 500000"
printf "| %-52s | %-22s | %-18s |\n" "  raw libzmq PUSH/PULL same run (msg/s); ratio" "${raw:-n/a}; ${ratio:-n/a}" ">= 0.25"
printf "| %-52s | %-22s | %-18s |\n" "durable bus publish -> done, ${BENCH_STAGE:-tiny} stage (msg/s)" "${bus:-n/a}" ">= 40000"
printf "| %-52s | %-22s | %-18s |\n" "messages per publish commit" "${per_commit:-n/a}" ">= 100"
printf "| %-52s | %-22s | %-18s |\n" "desk assignments, 1000 agents, 100k waiting (/s)" "${assign:-n/a}" ""
printf "| %-52s | %-22s | %-18s |\n" "publish confirm at half load p50 / p99 (ms)" "${p50:-n/a} / ${p99:-n/a}" "<= 1 / <= 5"
printf "| %-52s | %-22s | %-18s |\n" "  one-message publishes offered / achieved (msg/s)" "${offered:-n/a} / ${achieved:-n/a}" ""
printf "| %-52s | %-22s | %-18s |\n" "throughput with ${backlog:-?} waiting / empty table" "${backlog_ratio:-n/a}" ">= 0.8 (at 10M)"
printf "| %-52s | %-22s | %-18s |\n" "pgbench TPC-B -c 4 -j 2 (tps)" "${tpcb:-n/a}" "the limit"
printf "| %-52s | %-22s | %-18s |\n" "pgbench -N simple-update -c 4 -j 2 (tps)" "${simple:-n/a}" "the limit"
printf "| %-52s | %-22s | %-18s |\n" "durable bus msg/s per pgbench -N tps" "$bus_per_tps" ""
