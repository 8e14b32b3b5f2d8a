#!/usr/bin/env bash
# The layering test: reads every #include "..." of the tree and fails, naming
# the file and line, when a folder includes one it may not, when a header
# cannot be found, when a source file lies outside the folders below, or when
# headers include each other in a circle.
#
#   tests/check_layers.sh [ROOT]        (default: the tree this file is in)
#
# The layers of lib/, lowest first; each may include the ones before it:
#   core < bus < inbound < store < outbound       (proto: the generated
#   *.pb-c.h, usable from bus up)
# The processes sit above lib/ and never include each other; cli (the
# `atende` command) and the drivers (bench, tools, tests) sit above them.
# The CMake targets enforce the same for lib/ (a layer links only the ones
# below it, so a wrong include does not compile); this names the line.
set -uo pipefail
root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
cd "$root" || exit 2

# which unit a file belongs to: sets $unit (no subshell: this runs per include)
unit_of() {
  case $1 in
    lib/core/*) unit=core ;;
    lib/bus/*) unit=bus ;;
    lib/inbound/*) unit=inbound ;;
    lib/store/*) unit=store ;;
    lib/outbound/*) unit=outbound ;;
    proto/*) unit=proto ;;
    broker/*) unit=broker ;;
    workers/*) unit=workers ;;
    api/*) unit=api ;;
    cli/*) unit=cli ;;
    bench/*) unit=bench ;;
    tools/*) unit=tools ;;
    tests/*) unit=tests ;;
    *) unit="" ;;
  esac
}

lib="core proto bus inbound store outbound"
declare -A may=(
  [core]="core"
  [bus]="core proto bus"
  [inbound]="core proto bus inbound"
  [store]="core proto bus inbound store"
  [outbound]="$lib"
  [broker]="core proto bus store broker"
  [workers]="$lib workers"
  [api]="$lib api"
  [cli]="$lib broker workers api cli"
  [tools]="$lib workers cli tools"
  [bench]="$lib broker workers api cli bench"
  [tests]="$lib broker workers api cli bench tests"
)

# where a quoted include is looked for, after the including file's folder
search=(lib/core lib/bus lib/inbound lib/store lib/outbound broker workers api cli bench
  tests/support tests/fakes tests/integration)

# resolve <including file> <include>: sets $path, "" when found nowhere;
# "a/b/../c" is folded to "a/c", so a climb cannot hide which folder it is
resolve() {
  local dir=${1%/*} inc=$2 d
  path=""
  if [[ -f "$dir/$inc" ]]; then
    path="$dir/$inc"
    while [[ $path =~ ^(.*/)?[^/]+/\.\./(.*)$ ]]; do
      path="${BASH_REMATCH[1]}${BASH_REMATCH[2]}"
    done
    return
  fi
  for d in "${search[@]}"; do
    if [[ -f "$d/$inc" ]]; then
      path="$d/$inc"
      return
    fi
  done
  if [[ $inc == *.pb-c.h && -f "proto/${inc%.pb-c.h}.proto" ]]; then
    path="proto/${inc%.pb-c.h}.proto"
  fi
}

errors=0
fail() {
  echo "check_layers: $*"
  errors=$((errors + 1))
}

edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
mapfile -t all < <(find lib proto broker workers api cli bench tools tests -type f \
                     \( -name '*.c' -o -name '*.h' \) -not -path '*/corpus/*' 2>/dev/null | sort)
files=${#all[@]}
declare -A outside=()
for file in "${all[@]}"; do
  unit_of "$file"
  if [[ -z "$unit" ]]; then
    outside[$file]=1
    fail "$file: not in a folder of the layering table (lib/ holds only its layers' folders:"\
      "core, bus, inbound, store, outbound)"
  fi
done
# every quoted include of every file, read by one grep (a process per file
# made this test take a minute on a busy machine)
while IFS=: read -r file line inc; do
  [[ -n ${outside[$file]:-} ]] && continue
  unit_of "$file"
  from=$unit
  resolve "$file" "$inc"
  if [[ -z "$path" ]]; then
    fail "$file:$line: includes \"$inc\", found nowhere in the tree"
    continue
  fi
  unit_of "$path"
  to=$unit
  if [[ " ${may[$from]} " != *" $to "* ]]; then
    fail "$file:$line: includes \"$inc\" ($path): $from may include only ${may[$from]}"
  fi
  [[ $path == *.h ]] && echo "$file $path" >>"$edges"
done < <(grep -nHE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "${all[@]}" \
           | sed -E 's/^([^:]+):([0-9]+):[^"]*"([^"]+)".*/\1:\2:\3/')

# circles of headers (a .c file is never included, so every loop is of headers)
if ! loop=$(tsort "$edges" 2>&1 >/dev/null) || [[ -n "$loop" ]]; then
  if [[ -n "$loop" ]]; then
    fail "headers include each other in a circle:"
    grep -v 'input contains a loop' <<<"$loop" | sed 's/^tsort: /  /'
  fi
fi

if [[ $errors -gt 0 ]]; then
  echo "check_layers: $errors problem(s) in $files files"
  exit 1
fi
echo "check_layers: $files files, every include within its layer, no circle"
