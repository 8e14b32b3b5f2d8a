#!/usr/bin/env bash
# A private PostgreSQL cluster for the integration tests (and the demo).
#   tests/pg.sh start <dir>   initdb + start, unix socket in <dir>, port 5432
#   tests/pg.sh stop <dir>    stop (fast) and remove <dir>
# Conninfo: "host=<dir> port=5432 user=postgres dbname=postgres".
# PostgreSQL refuses to run as root: as root, the cluster runs as the
# postgres user (runuser); otherwise as the current user. Idempotent.
# fsync: off by default, because the test cluster is thrown away after the
# run and there is nothing to keep durable (faster tests on slow disks); the
# demo and the benchmarks set ATENDE_PG_FSYNC=on so their figures are honest.
# ATENDE_PG_OPTIONS: further server options ("-c name=value ..."), appended.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop <dir>" >&2
  exit 2
fi

pgbin=${ATENDE_PG_BIN:-}
if [[ -z "$pgbin" ]]; then
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" ]] && pgbin=$d
  done
fi
if [[ -z "$pgbin" && -n "$(command -v initdb || true)" ]]; then
  pgbin=$(dirname "$(command -v initdb)")
fi
if [[ -z "$pgbin" ]]; then
  echo "pg.sh: PostgreSQL server binaries not found (initdb); install postgresql" >&2
  exit 1
fi

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_user() {
  if [[ $(id -u) -eq 0 ]]; then echo postgres; else id -un; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then chown postgres "$dir"; fi
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
      as_owner "$pgbin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
      }
    fi
    if as_owner "$pgbin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      echo "pg.sh: already running in $dir"
      exit 0
    fi
    as_owner "$pgbin/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/log" \
      -o "-k $dir -c listen_addresses='' -p 5432 -c fsync=${ATENDE_PG_FSYNC:-off} -c max_connections=300 -c autovacuum_naptime=10s ${ATENDE_PG_OPTIONS:-}" start >/dev/null || {
      cat "$dir/log" >&2
      exit 1
    }
    echo "pg.sh: started in $dir as $(pg_user): host=$dir port=5432 user=postgres dbname=postgres"
    ;;
  stop)
    if [[ -f "$dir/data/PG_VERSION" ]]; then
      as_owner "$pgbin/pg_ctl" -D "$dir/data" -w -t 60 stop -m fast >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    echo "pg.sh: stopped and removed $dir"
    ;;
  *)
    echo "usage: $0 start|stop <dir>" >&2
    exit 2
    ;;
esac
