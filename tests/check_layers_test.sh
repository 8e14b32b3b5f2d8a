#!/usr/bin/env bash
# The layering test catches what it should: on a copy of the tree with wrong
# includes put in on purpose, tests/check_layers.sh must fail and name each
# file and line; on the tree as it is, it must pass.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for d in lib proto broker workers api cli bench tools tests; do cp -r "$root/$d" "$tmp/"; done

sed -i '1a #include "at_store.h"' "$tmp/lib/core/log.c"               # core -> store
sed -i '1a #include "../store/at_store_bus.h"' "$tmp/lib/bus/msg.c"    # a climb, bus -> store
sed -i '1a #include "api.h"' "$tmp/broker/brk_order.c"                 # a process -> another
sed -i '1a #include "at_provider.h"' "$tmp/lib/store/store_dlq.c"      # store -> outbound
echo '#include "at_msg.h"' >>"$tmp/lib/core/at_common.h"               # with at_msg.h -> at_common.h:
                                                                       # a circle, and core -> bus
echo 'int stray;' >"$tmp/lib/stray.c"                                  # outside every layer

out=$(bash "$root/tests/check_layers.sh" "$tmp" 2>&1) && {
  echo "FAIL: check_layers passed a tree with wrong includes"
  exit 1
}
echo "$out"
for want in 'lib/core/log.c:2: includes "at_store.h"' \
            'lib/bus/msg.c:2: includes "../store/at_store_bus.h" (lib/store/at_store_bus.h)' \
            'broker/brk_order.c:2: includes "api.h"' \
            'lib/store/store_dlq.c:2: includes "at_provider.h"' \
            'lib/core/at_common.h:' \
            'headers include each other in a circle' \
            'lib/stray.c: not in a folder of the layering table'; do
  grep -qF "$want" <<<"$out" || { echo "FAIL: not reported: $want"; exit 1; }
done
bash "$root/tests/check_layers.sh" "$root" >/dev/null || { echo "FAIL: the tree itself"; exit 1; }
echo "check_layers_test: every wrong include named, the tree passes"
