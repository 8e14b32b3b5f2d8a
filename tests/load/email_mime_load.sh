#!/usr/bin/env bash
# Inbound email MIME load: signed raw messages POSTed to /v1/channels/email
# of a real api + broker + N ingest workers on a private PostgreSQL (fsync
# on), timed from the first HTTP request to the last committed ticket_message
# row. Each message is a multipart/mixed MIME (quoted-printable Latin-1 text
# with a quoted reply and a signature, plus a small base64 attachment) from
# its own sender, so each opens a customer, an identity and a ticket.
#
#   tests/load/email_mime_load.sh [build-dir] [messages] [workers...]
#   e.g. tests/load/email_mime_load.sh build 2000 1 2
#
# Prints one line per worker count: messages, seconds, messages/s.
# Needs: curl, openssl, the atende binary in <build-dir>. Not a test.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
N=${2:-2000}
shift 2 2>/dev/null || shift $#
WORKERS=("$@")
[[ ${#WORKERS[@]} -gt 0 ]] || WORKERS=(1 2)
BIN="$BUILD/atende"
[[ -x "$BIN" ]] || { echo "no atende binary in $BUILD" >&2; exit 2; }

WORK=$(mktemp -d /tmp/atende-email-load.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash "$ROOT/tests/pg.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

KEY_B64=$(head -c 24 /dev/urandom | base64)
KEY_HEX=$(printf '%s' "$KEY_B64" | base64 -d | od -An -tx1 | tr -d ' \n')
export ATENDE_EMAIL_RELAY_SECRET="whsec_$KEY_B64"
export ATENDE_API_ADDRESS=127.0.0.1 ATENDE_BROKER_METRICS_PORT=0 ATENDE_LOG_LEVEL=warn
export ATENDE_API_THREADS=${ATENDE_API_THREADS:-32} PGOPTIONS="-c client_min_messages=warning"
export ATENDE_API_PORT=$((20000 + RANDOM % 20000))
BROKER_PORT=$((ATENDE_API_PORT + 1))
export ATENDE_BROKER_BIND="tcp://127.0.0.1:$BROKER_PORT"
export ATENDE_BROKER_ENDPOINTS="$ATENDE_BROKER_BIND"
API="http://127.0.0.1:$ATENDE_API_PORT"

mkdir -p "$WORK/pg" "$WORK/mail"
ATENDE_PG_FSYNC=on bash "$ROOT/tests/pg.sh" start "$WORK/pg" >/dev/null
PSQL=(psql -X -q -t -A -h "$WORK/pg" -U postgres)

# One signed request per message, as a curl config block.
make_requests() {
  local conf=$1 tag=$2 ts
  ts=$(date +%s)
  : >"$conf"
  for ((i = 0; i < N; i++)); do
    local body="$WORK/mail/$tag-$i.eml" id="load-$tag-$i"
    printf 'From: Cliente %d <cliente%d.%s@example.com>\r\nTo: atendimento@loja.example\r\nSubject: =?ISO-8859-1?Q?Pedido_n=E3o_chegou_%d?=\r\nMessage-ID: <%s@load.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nOl=E1, meu pedido %d ainda n=E3o chegou. Podem verificar?\r\n\r\nEm seg., 16 de nov. de 2026, Loja escreveu:\r\n> Seu pedido foi enviado.\r\n\r\n-- \r\nCliente\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="nota.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQgbm90YQo=\r\n--b--\r\n' \
      "$i" "$i" "$tag" "$i" "$id" "$i" >"$body"
    local sig
    sig=$({ printf '%s.%s.' "$id" "$ts"; cat "$body"; } |
      openssl dgst -sha256 -mac HMAC -macopt "hexkey:$KEY_HEX" -binary | base64)
    [[ $i -gt 0 ]] && printf 'next\n' >>"$conf"
    printf 'url = "%s/v1/channels/email"\nheader = "Content-Type: message/rfc822"\nheader = "webhook-id: %s"\nheader = "webhook-timestamp: %s"\nheader = "webhook-signature: v1,%s"\ndata-binary = "@%s"\noutput = "/dev/null"\n' \
      "$API" "$id" "$ts" "$sig" "$body" >>"$conf"
  done
}

for w in "${WORKERS[@]}"; do
  db="load_w$w"
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  export ATENDE_DATABASE_URL="host=$WORK/pg port=5432 user=postgres dbname=$db"
  "$BIN" migrate >/dev/null 2>&1
  make_requests "$WORK/curl-$w.conf" "w$w"
  "$BIN" broker 2>"$WORK/broker-$w.log" & PIDS+=($!)
  "$BIN" api 2>"$WORK/api-$w.log" & PIDS+=($!)
  for ((k = 0; k < w; k++)); do "$BIN" worker ingest 2>"$WORK/ingest-$w-$k.log" & PIDS+=($!); done
  for ((t = 0; t < 300; t++)); do curl -sf "$API/healthz" >/dev/null && break; sleep 0.1; done
  start=$(date +%s.%N)
  curl -s --no-progress-meter --parallel --parallel-max 32 -K "$WORK/curl-$w.conf"
  while [[ $("${PSQL[@]}" -d "$db" -c "SELECT count(*) FROM ticket_message") -lt $N ]]; do
    sleep 0.05
    if [[ $(echo "$(date +%s.%N) - $start > 300" | bc) -eq 1 ]]; then echo "timeout" >&2; break; fi
  done
  end=$(date +%s.%N)
  rows=$("${PSQL[@]}" -d "$db" -c "SELECT count(*) FROM ticket_message")
  tickets=$("${PSQL[@]}" -d "$db" -c "SELECT count(*) FROM ticket")
  atts=$("${PSQL[@]}" -d "$db" -c "SELECT count(*) FROM attachment_content")
  secs=$(echo "$end - $start" | bc -l)
  printf 'ingest_workers=%d messages=%d ticket_messages=%d tickets=%d attachments=%d seconds=%.2f msg_per_s=%.0f\n' \
    "$w" "$N" "$rows" "$tickets" "$atts" "$secs" "$(echo "$rows / $secs" | bc -l)"
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
done
