#!/usr/bin/env bash
# atende's durable bus side by side with its peers on the same jobs: one
# private PostgreSQL with fsync on, one database each, one after the other:
#   atende        bench_bus, tiny stage (broker + consumers, one effect row per message)
#   graphile-worker, pg-boss   (versions pinned by bench/peers/package-lock.json)
#   the plain-SQL floor        (clients looping DELETE ... SKIP LOCKED + effect INSERT)
# Each: workers up and idle, then 4 publishers add 100 jobs per call over
# 1,000 keys while the workers run; the clock runs from the first enqueue to
# the last job done (its effect row committed, nothing left in the queue);
# a 5,000-job warm-up first, not counted. Prints one markdown table.
#   bench/peers.sh [BUILD_DIR]          (./atende.sh peers builds, then runs this)
# Environment: PEERS_JOBS (default 100000); the peers' settings, each
# defaulting to the one in the table: PEERS_GW_CONCURRENCY, PEERS_GW_POOL,
# PEERS_GW_LOCAL_QUEUE, PEERS_GW_COMPLETE_DELAY, PEERS_GW_POLL_MS,
# PEERS_GW_QUEUES=1 (adds a graphile-worker row with queue_name = key, the
# per-key order atende keeps), PEERS_PGBOSS_WORKERS, PEERS_PGBOSS_BATCH,
# PEERS_PGBOSS_POLL_S, PEERS_FLOOR_CLIENTS, PEERS_FLOOR_CLAIM; and
# PEERS_GW_PROCESSES, PEERS_PGBOSS_PROCESSES (worker processes, default 1),
# PEERS_DEBUG=1 (progress four times a second, for tuning).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" 2>/dev/null && pwd) || { echo "peers.sh: no build directory ${1:-$ROOT/build}" >&2; exit 1; }
PEERS=$ROOT/bench/peers
JOBS=${PEERS_JOBS:-100000}
WARMUP=5000
[[ $JOBS =~ ^[0-9]+$ && $JOBS -ge 1000 ]] || { echo "peers.sh: PEERS_JOBS must be a number >= 1000" >&2; exit 1; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

for b in "$BUILD/atende" "$BUILD/bench/bench_bus"; do
  [[ -x "$b" ]] || { echo "peers.sh: $b not built (cmake --build $BUILD --target atende bench_bus)" >&2; exit 1; }
done
command -v psql >/dev/null || { echo "peers.sh: psql not found (postgresql-client)" >&2; exit 1; }
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "peers.sh: installing nodejs and npm"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [[ $node_major -lt 20 ]]; then
  echo "peers.sh: Node.js $(node --version) is too old: the pinned pg-boss needs Node 20 or later" >&2
  exit 1
fi
if ! (cd "$PEERS" && npm ls --depth=0 >/dev/null 2>&1); then   # missing, or not what the lock pins
  echo "peers.sh: npm ci in bench/peers (graphile-worker, pg-boss, pg as package-lock.json pins them)"
  (cd "$PEERS" && npm ci --no-audit --no-fund) || { echo "peers.sh: npm ci failed" >&2; exit 1; }
fi

PGDIR=$(mktemp -d /tmp/atende-peers-pg.XXXXXX)
chmod 755 "$PGDIR"
OUT=$(mktemp /tmp/atende-peers-out.XXXXXX)
cleanup() {
  bash "$ROOT/tests/pg.sh" stop "$PGDIR" >/dev/null 2>&1 || true
  rm -f "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ATENDE_PG_FSYNC=on bash "$ROOT/tests/pg.sh" start "$PGDIR"
conn() { echo "host=$PGDIR port=5432 user=postgres dbname=$1"; }
fresh_db() {
  PGOPTIONS='-c client_min_messages=warning' psql -q -h "$PGDIR" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
}
PG_VERSION=$(psql -X -At -h "$PGDIR" -U postgres -d postgres -c "SHOW server_version" | cut -d' ' -f1)
FSYNC=$(psql -X -At -h "$PGDIR" -U postgres -d postgres -c "SHOW fsync")
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
ATENDE_VERSION=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo "source tree")

run() {
  echo
  echo "\$ $*"
  "$@" 2>&1 | tee -a "$OUT"
}

# atende: bench_bus's throughput run alone (no latency or backlog run),
# with its defaults: 4 publishers x 100, 2 consumers, 1,000 keys, 5,000 warm-up.
fresh_db peers_atende
ATENDE_DATABASE_URL=$(conn peers_atende) "$BUILD/atende" migrate >/dev/null
(cd "$BUILD" && run "$BUILD/bench/bench_bus" --db "$(conn peers_atende)" --atende "$BUILD/atende" \
  --messages "$JOBS" --latency-seconds 0 --backlog 0 --stage tiny)
rate=$(grep -oE "^RESULT bus_msg_s=[0-9.]+" "$OUT" | tail -1 | sed 's/.*=//')
[[ -n $rate ]] || { echo "peers.sh: bench_bus printed no result" >&2; exit 1; }
secs=$(awk -v n="$JOBS" -v r="$rate" 'BEGIN { printf "%.2f", n / r }')
echo "RESULT system=atende version=\"$ATENDE_VERSION\" jobs=$JOBS seconds=$secs jobs_s=$rate" \
  "settings=\"broker + 2 consumers (bench_bus tiny stage: worker batch code, credit 1024, one transaction per delivered batch); 4 publishers x 100\"" >>"$OUT"

peer() {
  local system=$1 db=peers_$1${2:-}
  fresh_db "$db"
  run env PEERS_PG_VERSION="$PG_VERSION" node "$PEERS/peers.js" --system "$system" --host "$PGDIR" \
    --db "$db" --jobs "$JOBS" --keys 1000 --publishers 4 --batch 100 --warmup "$WARMUP" ||
    { echo "peers.sh: $system failed" >&2; exit 1; }
}
PEERS_GW_QUEUES=0 peer graphile
if [[ ${PEERS_GW_QUEUES:-0} == 1 ]]; then PEERS_GW_QUEUES=1 peer graphile _queues; fi
peer pgboss
peer floor

# the table, from the RESULT lines
field() { grep -oE "(^| )$1=(\"[^\"]*\"|[^ ]*)" <<<"$2" | head -1 | sed -E "s/^ ?$1=//; s/^\"//; s/\"$//"; }
mapfile -t lines < <(grep -E "^RESULT system=" "$OUT")
base=$(field jobs_s "${lines[0]}")
floor=$(field jobs_s "$(grep -E "^RESULT system=floor " "$OUT" | tail -1)")
name() {
  case $1 in
    atende) echo "atende bus" ;;
    graphile) [[ $2 == *"queue_name per key"* ]] && echo "graphile-worker, queue per key" || echo "graphile-worker" ;;
    pgboss) echo "pg-boss" ;;
    floor) echo "plain-SQL floor" ;;
  esac
}
echo
echo "peers side by side: $JOBS jobs over 1,000 keys each, first enqueue -> last job done;"
echo "PostgreSQL $PG_VERSION (fsync=$FSYNC) on the same machine, $(nproc) cores, $(date -u +%Y-%m-%d);"\
  "node $(node --version); load average (1, 5, 15 min) at the start $LOAD_START, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| system | version | jobs | seconds | jobs/s | ratio to atende | ratio to the floor | settings |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
for l in "${lines[@]}"; do
  s=$(field system "$l"); r=$(field jobs_s "$l"); settings=$(field settings "$l")
  awk -v n="$(name "$s" "$settings")" -v v="$(field version "$l")" -v j="$(field jobs "$l")" \
    -v sec="$(field seconds "$l")" -v r="$r" -v a="$base" -v f="$floor" -v set="$settings" \
    'BEGIN { printf "| %s | %s | %d | %s | %d | %.3f | %.3f | %s |\n", n, v, j, sec, r, r / a, r / f, set }'
done
