#!/usr/bin/env bash
# Keeps README.md true: every setting of the table in lib/core/at_config.h is
# documented in README.md's configuration reference, and README shows the
# command .ci/run runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
missing=0
for env in $(grep -oE '"ATENDE_[A-Z0-9_]+"' "$root/lib/core/at_config.h" | tr -d '"' | sort -u); do
  if ! grep -q "\`$env\`" "$root/README.md"; then
    echo "README.md does not document $env"
    missing=$((missing + 1))
  fi
done
ci=$(grep -vE '^\s*(#|$|set |cd )' "$root/.ci/run" | tail -n 1 | sed 's/^exec //')
grep -qF -- "$ci" "$root/README.md" || { echo "README.md does not show '$ci'"; missing=$((missing + 1)); }
[[ $missing -eq 0 ]] && echo "README documents every setting and the CI command"
exit $((missing > 0))
