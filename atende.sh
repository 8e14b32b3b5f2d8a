#!/usr/bin/env bash
# atende's one entry point for humans and CI.
#   ./atende.sh deps          install missing Debian packages
#   ./atende.sh build         deps + cmake + make (into build/)
#   ./atende.sh test          build + ctest, then the same under ASan/UBSan (build-asan/)
#   ./atende.sh demo [args]   build + private PostgreSQL + migrate + `atende demo [args]`
#   ./atende.sh bench         the benchmarks that exist
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)

PACKAGES=(build-essential cmake pkg-config libzmq3-dev libczmq-dev libprotobuf-c-dev
  protobuf-c-compiler libpq-dev libcurl4-openssl-dev libssl-dev libmicrohttpd-dev
  libjansson-dev libcmocka-dev libstemmer-dev libunistring-dev postgresql clang
  libclang-rt-14-dev curl)

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
  if [[ ${#missing[@]} -eq 0 ]]; then
    return 0
  fi
  echo "atende.sh: installing ${missing[*]}"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
}

# build_in <dir> [cmake args...]
build_in() {
  local dir=$1
  shift
  cmake -S "$ROOT" -B "$ROOT/$dir" "$@"
  cmake --build "$ROOT/$dir" -j "$JOBS"
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

cmd_test() {
  cmd_deps
  local rc=0
  build_in build -DCMAKE_BUILD_TYPE=RelWithDebInfo || rc=1
  if [[ $rc -eq 0 ]]; then ctest_in build || rc=1; else FAILED=$((FAILED + 1)); fi

  # Same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
  # LeakSanitizer works as root here (it needs ptrace-like access to its own
  # process, which root has); set ATENDE_LSAN=0 where it cannot run
  # (e.g. some containers without CAP_SYS_PTRACE) to turn leak checks off.
  export ASAN_OPTIONS="detect_leaks=${ATENDE_LSAN:-1}:abort_on_error=0:strict_string_checks=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  local arc=0
  build_in build-asan -DCMAKE_BUILD_TYPE=Debug -DATENDE_SANITIZE=ON || arc=1
  if [[ $arc -eq 0 ]]; then ctest_in build-asan || arc=1; else FAILED=$((FAILED + 1)); fi
  [[ $arc -eq 0 ]] || rc=1

  echo "$PASSED passed, $FAILED failed"
  return $rc
}

cmd_demo() {
  cmd_build
  local pgdir
  pgdir=$(mktemp -d /tmp/atende-demo-pg.XXXXXX)
  chmod 755 "$pgdir"
  cleanup() {
    bash "$ROOT/tests/pg.sh" stop "$pgdir" >/dev/null 2>&1 || true
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  bash "$ROOT/tests/pg.sh" start "$pgdir"
  export ATENDE_DATABASE_URL="host=$pgdir port=5432 user=postgres dbname=postgres"
  "$ROOT/build/atende" migrate
  local rc=0
  "$ROOT/build/atende" demo "$@" || rc=$?
  return $rc
}

cmd_bench() {
  echo "atende.sh bench: no benchmarks exist yet."
  echo "Planned (the design's performance targets): broker dispatch vs raw libzmq,"
  echo "durable bus throughput vs pgbench, whole-pipeline latency. None is implemented, so"
  echo "nothing is measured here. For a throughput figure today, run ./atende.sh demo."
}

usage() {
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
}

case "${1:-}" in
  deps) cmd_deps ;;
  build) cmd_build ;;
  test) cmd_test ;;
  demo) shift; cmd_demo "$@" ;;
  bench) cmd_bench ;;
  -h|--help|help|"") usage ;;
  *) echo "atende.sh: unknown command '$1'" >&2; usage >&2; exit 2 ;;
esac
