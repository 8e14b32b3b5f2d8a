#!/usr/bin/env bash
# atende's one entry point for humans and CI.
#   ./atende.sh deps          install missing Debian packages
#   ./atende.sh build         deps + cmake + make (into build/)
#   ./atende.sh test          build + ctest, the same under ASan/UBSan (build-asan/),
#                             then each fuzz target briefly with libFuzzer (build-fuzz/)
#   ./atende.sh demo [args]   build + private PostgreSQL + migrate + `atende demo [args]`
#   ./atende.sh bench         the benchmarks that exist
#   ./atende.sh peers         the bus beside graphile-worker, pg-boss and plain SQL
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)

PACKAGES=(build-essential cmake pkg-config libzmq3-dev libczmq-dev libprotobuf-c-dev
  protobuf-c-compiler libpq-dev libcurl4-openssl-dev libssl-dev libmicrohttpd-dev
  libjansson-dev libcmocka-dev libstemmer-dev libunistring-dev postgresql clang
  libclang-rt-14-dev curl libgmime-3.0-dev libxml2-dev libsodium-dev libical-dev
  chromium libjs-chart.js)
# chromium: the inbox's browser test (tests/browser), driven by Node; Node
# itself (Debian's nodejs) only when no `node` is on the PATH (cmd_deps).

JOBS=$(nproc 2>/dev/null || echo 2)

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

cmd_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  command -v node >/dev/null || missing+=(nodejs)
  if [[ ${#missing[@]} -eq 0 ]]; then
    return 0
  fi
  echo "atende.sh: installing ${missing[*]}"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
}

# build_in <dir> [cmake args...]
# Keeps going past a file that does not compile (-k), so the tests that do
# build still run; the build's failure is still reported.
build_in() {
  local dir=$1
  shift
  cmake -S "$ROOT" -B "$ROOT/$dir" "$@"
  cmake --build "$ROOT/$dir" -j "$JOBS" -- -k
}

cmd_build() {
  cmd_deps
  build_in build -DCMAKE_BUILD_TYPE=RelWithDebInfo
}

# ctest_in <dir>: runs the suite, adds its counts to PASSED/FAILED.
PASSED=0
FAILED=0
ctest_in() {
  local dir=$1 log rc=0
  log=$(mktemp)
  (cd "$ROOT/$dir" && ctest --output-on-failure -j2) 2>&1 | tee "$log" || rc=$?
  # ctest's summary: "100% tests passed, 0 tests failed out of 12"
  local line total failed
  line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$log" | tail -1 || true)
  if [[ -n "$line" ]]; then
    failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
    local skipped
    skipped=$(grep -cE "\*\*\*Skipped|Not Run.*Disabled" "$log" || true)
    PASSED=$((PASSED + total - failed - skipped))
    FAILED=$((FAILED + failed))
  elif [[ $rc -ne 0 ]]; then
    FAILED=$((FAILED + 1))
  fi
  rm -f "$log"
  return $rc
}

# fuzz_targets: every tests/fuzz/fuzz_*.c, built with clang + libFuzzer and
# run for ATENDE_FUZZ_SECONDS (default 20) each from its seed corpus.
fuzz_targets() {
  [[ -d "$ROOT/tests/fuzz" ]] || return 0
  if ! command -v clang >/dev/null; then
    echo "atende.sh: clang not found, fuzzing skipped"
    return 0
  fi
  local names=() f
  for f in "$ROOT"/tests/fuzz/fuzz_*.c; do
    [[ -e "$f" ]] && names+=("$(basename "$f" .c)")
  done
  [[ ${#names[@]} -gt 0 ]] || return 0
  local dir="$ROOT/build-fuzz" rc=0
  CC=clang cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DATENDE_SANITIZE=ON \
    -DATENDE_FUZZ=ON >/dev/null || { FAILED=$((FAILED + 1)); return 1; }
  for n in "${names[@]}"; do
    local seed="$ROOT/tests/fuzz/corpus/${n#fuzz_}" work="$dir/corpus/${n#fuzz_}"
    mkdir -p "$work"
    [[ -d "$seed" ]] || seed=""
    if cmake --build "$dir" -j "$JOBS" --target "$n" >"$dir/$n.build.log" 2>&1 &&
      "$dir/tests/fuzz/$n" -max_total_time="${ATENDE_FUZZ_SECONDS:-20}" \
        -artifact_prefix="$dir/$n-" "$work" $seed >"$dir/$n.log" 2>&1; then
      echo "fuzz $n: ok ($(grep -o 'Done [0-9]* runs' "$dir/$n.log" | tail -1))"
      PASSED=$((PASSED + 1))
    else
      echo "fuzz $n: FAILED, see $dir/$n.build.log, $dir/$n.log and $dir/$n-* artifacts"
      tail -30 "$dir/$n.log" 2>/dev/null || tail -30 "$dir/$n.build.log"
      FAILED=$((FAILED + 1))
      rc=1
    fi
  done
  return $rc
}

# suite <dir> [cmake args]: build then ctest. A build failure fails the run;
# it counts as one failure only when no test already failed because of it.
suite() {
  local dir=$1 built=0 before=$FAILED
  build_in "$@" || built=1
  ctest_in "$dir" || built=$((built | 2))
  if [[ $built -ne 0 && $FAILED -eq $before ]]; then
    FAILED=$((FAILED + 1))
  fi
  return $((built != 0))
}

cmd_test() {
  cmd_deps
  local rc=0
  suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo || rc=1

  # Same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
  # LeakSanitizer works as root here (it needs ptrace-like access to its own
  # process, which root has); set ATENDE_LSAN=0 where it cannot run
  # (e.g. some containers without CAP_SYS_PTRACE) to turn leak checks off.
  export ASAN_OPTIONS="detect_leaks=${ATENDE_LSAN:-1}:abort_on_error=0:strict_string_checks=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  suite build-asan -DCMAKE_BUILD_TYPE=Debug -DATENDE_SANITIZE=ON || rc=1

  fuzz_targets || rc=1
  if bash "$ROOT/deploy/check.sh"; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); rc=1; fi

  echo "$PASSED passed, $FAILED failed"
  return $rc
}

cmd_demo() {
  cmd_deps
  # the demo needs only the binary: a test that does not compile must not stop it
  cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$ROOT/build" -j "$JOBS" --target atende
  DEMO_PG=$(mktemp -d /tmp/atende-demo-pg.XXXXXX)   # global: the EXIT trap reads it
  local pgdir=$DEMO_PG
  chmod 755 "$pgdir"
  trap 'bash "$ROOT/tests/pg.sh" stop "$DEMO_PG" >/dev/null 2>&1 || true' EXIT
  trap 'exit 130' INT TERM
  ATENDE_PG_FSYNC=on bash "$ROOT/tests/pg.sh" start "$pgdir"   # durable, as in production
  export ATENDE_DATABASE_URL="host=$pgdir port=5432 user=postgres dbname=postgres"
  "$ROOT/build/atende" migrate
  local rc=0
  "$ROOT/build/atende" demo "$@" || rc=$?
  return $rc
}

# The benchmarks (bench/): broker dispatch vs raw libzmq, the durable bus
# (throughput, messages per commit, confirm latency, with a backlog), and
# pgbench on the same private PostgreSQL (fsync on). Sizes: see bench/bench.sh.
cmd_bench() {
  cmd_deps
  # only the binaries it needs: a test that does not compile must not stop it
  cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$ROOT/build" -j "$JOBS" --target atende bench_dispatch bench_bus
  bash "$ROOT/bench/bench.sh" "$ROOT/build"
}

# atende's bus against graphile-worker and pg-boss (npm versions pinned by
# bench/peers/package-lock.json) and the plain-SQL floor, on the same jobs
# and the same private PostgreSQL (fsync on); one table. Size: PEERS_JOBS.
cmd_peers() {
  cmd_deps
  cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$ROOT/build" -j "$JOBS" --target atende bench_bus
  bash "$ROOT/bench/peers.sh" "$ROOT/build"
}

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
}

case "${1:-}" in
  deps) cmd_deps ;;
  build) cmd_build ;;
  test) cmd_test ;;
  demo) shift; cmd_demo "$@" ;;
  bench) cmd_bench ;;
  peers) cmd_peers ;;
  -h|--help|help|"") usage ;;
  *) echo "atende.sh: unknown command '$1'" >&2; usage >&2; exit 2 ;;
esac
