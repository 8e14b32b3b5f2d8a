#!/usr/bin/env bash
# The flake counter: runs a suite N times in a row and prints, per test, how
# many runs it failed in. A test that fails once in ten runs is a broken
# build; this is how we find it before CI does.
#
#   tests/flakes.sh [--runs N] [--load CORES] [--suite ci|DIR] [-R REGEX] [--keep DIR]
#
#   --runs N      how many runs (default 10)
#   --load CORES  keep CORES cores busy meanwhile with stress-ng (default 0),
#                 the way a shared CI host is loaded
#   --suite ci    each run is the whole CI command (./atende.sh test);
#   --suite DIR   each run is `ctest -j2` in an already built tree DIR, e.g.
#                 build-asan (default: build)
#   -R REGEX      with --suite DIR, only the tests whose names match
#   --keep DIR    where each failing run's output, and the logs of the
#                 processes its failed tests started, are kept
#                 (default /tmp/atende-flakes)
#
# Prints one line per run and, at the end, "name: F of N runs failed" for
# every test that failed at least once, then "N passed, N failed" counting
# runs. Exits 1 when any run failed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

runs=10 load=0 suite=build regex="" keep=/tmp/atende-flakes
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --load) load=$2; shift 2 ;;
    --suite) suite=$2; shift 2 ;;
    -R) regex=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "flakes.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 ]] || { echo "flakes.sh: --runs takes a count" >&2; exit 2; }
[[ $load =~ ^[0-9]+$ ]] || { echo "flakes.sh: --load takes a count of cores" >&2; exit 2; }
mkdir -p "$keep"

stress_pid=""
stop_load() {
  if [[ -n "$stress_pid" ]]; then
    kill "$stress_pid" 2>/dev/null || true
    wait "$stress_pid" 2>/dev/null || true
  fi
}
trap stop_load EXIT
if [[ $load -gt 0 ]]; then
  if ! command -v stress-ng >/dev/null; then
    if [[ $(id -u) -eq 0 ]]; then apt-get install -y stress-ng >/dev/null; else sudo apt-get install -y stress-ng >/dev/null; fi
  fi
  stress-ng --cpu "$load" --cpu-method matrixprod --quiet &
  stress_pid=$!
  echo "flakes: $load core(s) kept busy by stress-ng (pid $stress_pid)"
fi

# failed tests of one ctest tree's last run, one name a line
last_failed() {
  local f="$ROOT/$1/Testing/Temporary/LastTestsFailed.log"
  [[ -f "$f" ]] && sed -E 's/^[0-9]+://' "$f" | sed "s|^|$1/|" || true
}

declare -A fails=()
bad_runs=0
for ((i = 1; i <= runs; i++)); do
  log="$keep/run-$i.log"
  start=$(date +%s)
  rc=0
  if [[ $suite == ci ]]; then
    rm -f "$ROOT"/build*/Testing/Temporary/LastTestsFailed.log
    ./atende.sh test >"$log" 2>&1 || rc=$?
    failed=$( { last_failed build; last_failed build-asan;
                grep -oE '^fuzz [a-z_]+: FAILED' "$log" | sed -E 's/^fuzz ([a-z_]+).*/fuzz\/\1/' || true; } )
  else
    [[ -d "$ROOT/$suite" ]] || { echo "flakes.sh: no build tree $suite (build it first)" >&2; exit 2; }
    rm -f "$ROOT/$suite/Testing/Temporary/LastTestsFailed.log"
    args=(--output-on-failure -j2)
    [[ -n "$regex" ]] && args+=(-R "$regex")
    (cd "$ROOT/$suite" && ctest "${args[@]}") >"$log" 2>&1 || rc=$?
    failed=$(last_failed "$suite")
  fi
  secs=$(( $(date +%s) - start ))
  if [[ $rc -eq 0 && -z "$failed" ]]; then
    echo "run $i/$runs: green in ${secs}s"
    rm -f "$log"
  else
    bad_runs=$((bad_runs + 1))
    [[ -n "$failed" ]] || failed="(no test named: exit $rc)"
    echo "run $i/$runs: FAILED in ${secs}s: $(tr '\n' ' ' <<<"$failed")(kept in $keep/run-$i*)"
    while IFS= read -r t; do
      [[ -n "$t" ]] || continue
      fails[$t]=$(( ${fails[$t]:-0} + 1 ))
      # an integration test's processes log into its run folder: keep it,
      # the next run would write over it
      run_dir="$ROOT/${t%%/*}/tests/run/${t#*/}"
      [[ -d "$run_dir" ]] && cp -r "$run_dir" "$keep/run-$i-${t//\//-}"
    done <<<"$failed"
  fi
done

echo "flakes: $runs runs of ${suite}${regex:+ -R $regex}, load $load core(s)"
for t in "${!fails[@]}"; do
  echo "  $t: ${fails[$t]} of $runs runs failed"
done | sort
echo "flakes: $((runs - bad_runs)) passed, $bad_runs failed"
[[ $bad_runs -eq 0 ]]
