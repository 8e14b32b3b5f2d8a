#!/usr/bin/env bash
# check_circles.sh BUILD_DIR: no circle of files that call each other.
# Within each library of the build (lib/core, lib/bus, ..., broker, workers,
# api, cli) a file may call functions of another file only if that file does
# not, directly or through others, call back into it: the calls between the
# files of one library form a tree of layers, the way the libraries do
# between themselves (which the linker and tests/check_layers.sh enforce).
#
# Reads the compiled objects with nm: an edge A -> B for each function A
# uses that B defines; tsort names any circle. Prints each circle with the
# calls that close it, and exits 1.
set -euo pipefail
build=${1:?usage: check_circles.sh BUILD_DIR}
src=${CHECK_CIRCLES_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
[[ -d $build/CMakeFiles ]] || { echo "check_circles: $build is not a build tree" >&2; exit 2; }

# the object folders of our own libraries (generated and test code excluded)
roots=()
for r in "$build/lib/CMakeFiles" "$build/CMakeFiles"; do [[ -d $r ]] && roots+=("$r"); done
mapfile -t dirs < <(find "${roots[@]}" -name '*.o' \
  \( -path '*/at_core.dir/*' -o -path '*/at_bus.dir/*' -o -path '*/at_inbound.dir/*' \
     -o -path '*/at_store.dir/*' -o -path '*/at_outbound.dir/*' -o -path '*/atende_broker.dir/*' \
     -o -path '*/atende_workers.dir/*' -o -path '*/atende_api.dir/*' -o -path '*/atende_cli.dir/*' \) \
  -printf '%h\n' | sed -E 's#(\.dir)/.*#\1#' | sort -u)
[[ ${#dirs[@]} -gt 0 ]] || { echo "check_circles: no objects under $build (build it first)" >&2; exit 2; }

# .../atende_broker.dir/broker/brk_wire.c.o -> broker/brk_wire.c,
# .../lib/CMakeFiles/at_core.dir/core/buf.c.o -> lib/core/buf.c
name_of() {
  sed -E 's#^.*/lib/CMakeFiles/[^/]*\.dir/#lib/#; s#^.*\.dir/##; s#\.o$##'
}

name_of_edges() {   # "path path sym" -> "name name sym"
  sed -E 's#[^ ]*/lib/CMakeFiles/[^/ ]*\.dir/#lib/#g; s#[^ ]*\.dir/##g; s#\.o( |$)#\1#g'
}

list=$(mktemp)
trap 'rm -f "$list"' EXIT
bad=0
for d in "${dirs[@]}"; do
  # objects of sources that still exist (a deleted file leaves its object behind)
  objs=()
  while IFS=' ' read -r o n; do
    [[ -f $src/$n ]] && objs+=("$o")
  done < <(find "$d" -name '*.o' | sort > "$list"; paste -d ' ' "$list" <(name_of < "$list"))
  [[ ${#objs[@]} -gt 1 ]] || continue
  # "from to symbol" for every function a file uses that another file defines
  edges=$( { nm -A -g --defined-only "${objs[@]}"; nm -A -u "${objs[@]}"; } 2>/dev/null |
    awk '{ split($1, p, ":"); f = p[1]; sym = $NF; kind = $(NF-1)
           if (kind == "U") users[sym] = users[sym] " " f
           else if (kind ~ /^[TDBR]$/) def[sym] = f }
         END { for (sym in users) if (sym in def) {
                 n = split(users[sym], us, " ")
                 for (i = 1; i <= n; i++) if (us[i] != def[sym]) print us[i], def[sym], sym } }' |
    name_of_edges)
  loops=$(awk '{print $1, $2}' <<<"$edges" | sort -u | tsort 2>&1 >/dev/null |
          grep -v "input contains a loop" | sed -E 's/^tsort: //' || true)
  if [[ -n $loops ]]; then
    bad=1
    echo "check_circles: files of ${d##*/} call each other in a circle:"
    # each call between two files of the circle
    awk 'NR == FNR { in_loop[$1] = 1; next } ($1 in in_loop) && ($2 in in_loop) {
           print "  " $1 " -> " $2 " (" $3 ")" }' <(echo "$loops") <(echo "$edges") | sort -u
  fi
done
[[ $bad -eq 0 ]] && echo "check_circles: no circle of files in ${#dirs[@]} libraries"
exit $bad
