#!/usr/bin/env bash
# Two builds of atende measured in the same hour on the same private
# PostgreSQL (fsync on), alternating A B A B so drift hits both: bench_bus
# (durable publish -> deliver -> done, confirm latency) and the demo's
# inbound throughput. For "did this change make it slower?".
#   bench/compare.sh OLD_BUILD NEW_BUILD [ROUNDS]
# OLD_BUILD/NEW_BUILD: build trees with atende and bench/bench_bus built
# (e.g. a clone of an older commit built with
#  cmake --build build --target atende bench_bus). ROUNDS default 2.
# Sizes: COMPARE_MESSAGES (bench_bus, default 100000), COMPARE_CUSTOMERS
# (demo, default 3000); COMPARE_STAGE=ingest runs bench_bus on the real
# ingest stage (default tiny).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
old=$(cd "${1:?usage: compare.sh OLD_BUILD NEW_BUILD [ROUNDS]}" && pwd)
new=$(cd "${2:?usage: compare.sh OLD_BUILD NEW_BUILD [ROUNDS]}" && pwd)
rounds=${3:-2}
for b in "$old" "$new"; do
  for x in atende bench/bench_bus; do
    [[ -x $b/$x ]] || { echo "compare.sh: $b/$x not built" >&2; exit 2; }
  done
done
PGDIR=$(mktemp -d /tmp/atende-compare-pg.XXXXXX)
chmod 755 "$PGDIR"
trap 'bash "$ROOT/tests/pg.sh" stop "$PGDIR" >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT TERM
ATENDE_PG_FSYNC=on bash "$ROOT/tests/pg.sh" start "$PGDIR" >/dev/null
conn() { echo "host=$PGDIR port=5432 user=postgres dbname=$1"; }

# a fresh, migrated database for one run of one build
fresh_db() {
  local build=$1 name=$2
  psql -q -h "$PGDIR" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $name" \
       -c "CREATE DATABASE $name" >/dev/null
  ATENDE_DATABASE_URL=$(conn "$name") "$build/atende" migrate >/dev/null 2>&1
}

declare -A bus=() p50=() p99=() demo=()
for ((r = 1; r <= rounds; r++)); do
  for side in old new; do
    build=${!side}
    fresh_db "$build" "cmp_$side"
    out=$(cd "$build" && "$build/bench/bench_bus" --db "$(conn "cmp_$side")" --atende "$build/atende" \
          --messages "${COMPARE_MESSAGES:-100000}" --latency-seconds 5 --backlog 0 \
          --stage "${COMPARE_STAGE:-tiny}" 2>&1)
    brate=$(grep -oE "^RESULT bus_msg_s=[0-9.]+" <<<"$out" | tail -1 | sed 's/.*=//')
    lat=$(grep -E "^RESULT confirm_p50_ms=" <<<"$out" | tail -1)
    bus[$side]+="${brate:-?} "
    p50[$side]+="$(grep -oE 'p50_ms=[0-9.]+' <<<"$lat" | sed 's/.*=//') "
    p99[$side]+="$(grep -oE 'p99_ms=[0-9.]+' <<<"$lat" | sed 's/.*=//') "
    fresh_db "$build" "cmp_${side}_demo"
    out=$(cd "$build" && ATENDE_DATABASE_URL=$(conn "cmp_${side}_demo") \
          "$build/atende" demo --quiet --customers "${COMPARE_CUSTOMERS:-3000}" 2>&1 || true)
    rate=$(grep -oE "throughput: +[0-9]+" <<<"$out" | grep -oE "[0-9]+$" | tail -1)
    demo[$side]+="${rate:-?} "
    echo "round $r $side: bench_bus ${brate:-?} msg/s, demo ${rate:-?} msg/s" >&2
  done
done
printf '%-34s %-28s %s\n' "" "old ($old)" "new ($new)"
printf '%-34s %-28s %s\n' "bench_bus msg/s (100k, 1k keys)" "${bus[old]}" "${bus[new]}"
printf '%-34s %-28s %s\n' "confirm p50 ms at half load" "${p50[old]}" "${p50[new]}"
printf '%-34s %-28s %s\n' "confirm p99 ms at half load" "${p99[old]}" "${p99[new]}"
printf '%-34s %-28s %s\n' "demo inbound messages/s" "${demo[old]}" "${demo[new]}"
