#!/usr/bin/env bash
# The circle test catches what it should: two files of one library that call
# each other must fail tests/check_circles.sh, naming both calls; the same
# files with one call removed must pass.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/broker" "$tmp/build/CMakeFiles/atende_broker.dir/broker"
cat >"$tmp/src/broker/brk_up.c" <<'C'
void brk_down_work (void);
void brk_up_event (void) { }
void brk_up_run (void) { brk_down_work (); }
C
cat >"$tmp/src/broker/brk_down.c" <<'C'
void brk_up_event (void);
void brk_down_work (void) { brk_up_event (); }   /* calls back up: a circle */
C
compile() {
  for f in brk_up brk_down; do
    cc -c "$tmp/src/broker/$f.c" -o "$tmp/build/CMakeFiles/atende_broker.dir/broker/$f.c.o"
  done
}
compile
out=$(CHECK_CIRCLES_SRC="$tmp/src" bash "$root/tests/check_circles.sh" "$tmp/build" 2>&1) && {
  echo "FAIL: check_circles passed two files that call each other"
  exit 1
}
echo "$out"
for want in 'broker/brk_up.c -> broker/brk_down.c (brk_down_work)' \
            'broker/brk_down.c -> broker/brk_up.c (brk_up_event)'; do
  grep -qF "$want" <<<"$out" || { echo "FAIL: the report does not say: $want"; exit 1; }
done
sed -i 's|{ brk_up_event (); }|{ }|' "$tmp/src/broker/brk_down.c"
compile
CHECK_CIRCLES_SRC="$tmp/src" bash "$root/tests/check_circles.sh" "$tmp/build" ||
  { echo "FAIL: check_circles refused files without a circle"; exit 1; }
echo "check_circles_test: ok"
