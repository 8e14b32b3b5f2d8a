# Sourced by bench/bench.sh and bench/profile.sh (which set ROOT and ATENDE):
#   bench_pg_start NAME   a private PostgreSQL with fsync on (tests/pg.sh) in
#                         /tmp/atende-NAME-pg.*, migrated by $ATENDE; sets
#                         PGDIR and DB (its conninfo). Stopped and removed on
#                         exit, with the files listed in BENCH_TMP.
# ATENDE_PG_OPTIONS (tests/pg.sh) passes further server settings.
BENCH_TMP=()

bench_pg_cleanup() {
  [[ -n ${PGDIR:-} ]] && { bash "$ROOT/tests/pg.sh" stop "$PGDIR" >/dev/null 2>&1 || true; }
  [[ ${#BENCH_TMP[@]} -eq 0 ]] || rm -rf "${BENCH_TMP[@]}"
}

bench_pg_start() {
  PGDIR=$(mktemp -d "/tmp/atende-$1-pg.XXXXXX")
  chmod 755 "$PGDIR"
  trap bench_pg_cleanup EXIT
  trap 'exit 130' INT TERM
  ATENDE_PG_FSYNC=on bash "$ROOT/tests/pg.sh" start "$PGDIR"
  DB="host=$PGDIR port=5432 user=postgres dbname=postgres"
  ATENDE_DATABASE_URL=$DB "$ATENDE" migrate >/dev/null
}
