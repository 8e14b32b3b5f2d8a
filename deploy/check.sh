#!/usr/bin/env bash
# deploy/check.sh: what CI can prove about deploy/ without a Docker engine or a
# cluster. Called by `./atende.sh test`; runnable alone: bash deploy/check.sh
#   1. yamllint on every YAML file under deploy/
#   2. every overlay (and the HPA alternative) rendered with `kubectl kustomize`
#      and validated offline against the Kubernetes, KEDA and Prometheus Operator
#      schemas, plus atende's rules (deploy/tools/validate.mjs)
#   3. every environment the manifests and compose give atende is accepted by
#      `atende <role> --print-config` (each variable known, each value valid)
#   4. every shared library of the built binary comes from a package that the
#      Dockerfile's runtime stage installs (ldd + dpkg -S + apt-cache depends)
#   5. the image's build stage installs every build package atende.sh lists;
#      every metric the autoscalers and alerts use is exported by the code
#   6. the compose file's fake provider builds and answers as documented
#   7. every Grafana dashboard in deploy/grafana/ is valid and queries only metrics
#      (and labels) the code exports (deploy/grafana/check.mjs), and production ships it
# Tools are installed when missing (apt-get: yamllint, kubernetes-client, nodejs,
# npm; npm: pinned validators into a cache dir); offline, it says what is missing.
# Env: ATENDE_BIN (default build/atende), ATENDE_DEPLOY_OUT (default
# build/deploy-check: rendered manifests and per-role env files, which
# tests/integration/test_deploy_topology.c does not need but humans may read).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${ATENDE_BIN:-$ROOT/build/atende}
OUT=${ATENDE_DEPLOY_OUT:-$ROOT/build/deploy-check}
TOOLS=${ATENDE_DEPLOY_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/atende-deploy-tools}
NPM_PACKAGES=(kubernetes-models@5.1.0 @kubernetes-models/keda@2.0.0
  @kubernetes-models/prometheus-operator@6.0.0 yaml@2.8.1)
FAILED=()
PASSED=0

say() { printf 'deploy/check: %s\n' "$*"; }
ok() { PASSED=$((PASSED + 1)); say "ok   $*"; }
bad() { FAILED+=("$1"); say "FAIL $*"; }
die() { say "cannot run: $*"; exit 1; }

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# apt_need <command> <package>: installs the package when the command is missing.
apt_need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  say "installing $2 (for $1)"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$2" >/dev/null 2>&1; then
    as_root apt-get update >/dev/null 2>&1 || true
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$2" >/dev/null 2>&1 ||
      die "$1 is missing and apt-get could not install $2 (no Debian mirror reachable?)"
  fi
}

tools() {
  apt_need yamllint yamllint
  apt_need kubectl kubernetes-client
  apt_need node nodejs
  apt_need npm npm
  apt_need curl curl
  apt_need openssl openssl
  local stamp="$TOOLS/.installed" want="${NPM_PACKAGES[*]}"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    mkdir -p "$TOOLS"
    [[ -f "$TOOLS/package.json" ]] || echo '{"name":"atende-deploy-tools","private":true}' >"$TOOLS/package.json"
    say "installing ${NPM_PACKAGES[*]} into $TOOLS"
    (cd "$TOOLS" && npm install --no-audit --no-fund --loglevel=error "${NPM_PACKAGES[@]}" >npm.log 2>&1) ||
      die "npm could not install the validators (npm registry unreachable? see $TOOLS/npm.log)"
    echo "$want" >"$stamp"
  fi
  # validate.mjs resolves its imports from the tools directory
  cp "$ROOT/deploy/tools/validate.mjs" "$TOOLS/validate.mjs"
}

check_yamllint() {
  local files
  mapfile -t files < <(find deploy -name '*.yaml' -o -name '*.yml' | sort)
  if yamllint -s -c deploy/.yamllint "${files[@]}"; then
    ok "yamllint: ${#files[@]} files"
  else
    bad yamllint "yamllint found problems (above)"
  fi
}

render() {  # render <dir> <out-file>
  local err
  err=$(kubectl kustomize "$1" 2>&1 >"$2") || { echo "$err" >&2; return 1; }
  grep -v '^# Warning: .* is deprecated' <<<"$err" >&2 || true
}

check_manifests() {
  mkdir -p "$OUT/render"
  local o rc=0
  for o in dev production; do
    if ! render "deploy/k8s/overlays/$o" "$OUT/render/$o.yaml"; then
      bad "render-$o" "kubectl kustomize deploy/k8s/overlays/$o failed"
      rc=1
      continue
    fi
    if node "$TOOLS/validate.mjs" k8s "$OUT/env/$o" "$OUT/render/$o.yaml"; then
      ok "overlay $o: rendered and valid"
    else
      bad "validate-$o" "overlay $o breaks the schemas or the rules (above)"
      rc=1
    fi
  done
  # the HPA alternative: production without the ScaledObjects, plus autoscaling/hpa
  if render deploy/k8s/autoscaling/hpa "$OUT/render/hpa.yaml"; then
    awk 'BEGIN{RS="\n---\n"; ORS="\n---\n"} !/\nkind: ScaledObject\n/' \
      "$OUT/render/production.yaml" >"$OUT/render/production-no-keda.yaml"
    if node "$TOOLS/validate.mjs" k8s "$OUT/env/production-hpa" \
      "$OUT/render/production-no-keda.yaml" "$OUT/render/hpa.yaml"; then
      ok "autoscaling/hpa with production: valid"
    else
      bad validate-hpa "autoscaling/hpa breaks the schemas or the rules (above)"
    fi
  else
    bad render-hpa "kubectl kustomize deploy/k8s/autoscaling/hpa failed"
  fi
  if node "$TOOLS/validate.mjs" compose "$OUT/env/compose" deploy/compose.yaml; then
    ok "compose: rules hold"
  else
    bad compose "deploy/compose.yaml breaks the rules (above)"
  fi
  return $rc
}

# Secrets are not in the repo: stand-ins of the right shape.
secret_value() {
  case "$1" in
    */database-url) echo "host=/nonexistent port=5432 user=atende dbname=atende" ;;
    */webhook-secret) echo "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" ;;
    # the bus's CURVE keys (bus-curve.yaml): one stand-in pair made by `atende keys curve`
    # for this check only, used for every role, so that each pair matches its halves
    atende-bus-keys/broker-secret | atende-bus-keys/*-secret) echo 'nPPCLe9]Te*Aya!bzjMP])Nmc()pfZQQEPM7?%YX' ;;
    atende-bus-keys/server-key | atende-bus-keys/*-public) echo 'j=%!UPrlXM5.0incdo6vqml8SfLBv8F*>26ig}^6' ;;
    atende-bus-keys/clients) echo 'publisher=j=%!UPrlXM5.0incdo6vqml8SfLBv8F*>26ig}^6,worker:*=j=%!UPrlXM5.0incdo6vqml8SfLBv8F*>26ig}^6' ;;
    *) echo "stand-in-secret-for-deploy-check" ;;
  esac
}

# print_config <env-file>: atende <args> --print-config with exactly that env.
print_config() {
  local f=$1 args line name value out rc
  local envs=("PATH=/usr/bin:/bin")
  read -r -a args < <(sed -n '1s/^# args: //p' "$f")
  while IFS= read -r line; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    name=${line%%=*}
    value=${line#*=}
    [[ "$value" == @secret:* ]] && value=$(secret_value "${value#@secret:}")
    envs+=("$name=$value")
  done <"$f"
  out=$(env -i "${envs[@]}" "$BIN" "${args[@]}" --print-config 2>&1)
  rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "  $f: atende ${args[*]} --print-config exited $rc: $out"
    return 1
  fi
  rc=0
  while IFS= read -r line; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    name=${line%%=*}
    if ! grep -qE "^[a-z0-9_]+ +$name +.*\(env\)$" <<<"$out"; then
      echo "  $f: $name is not a setting atende knows (atende --print-config does not list it)"
      rc=1
    fi
  done <"$f"
  return $rc
}

check_env() {
  [[ -x "$BIN" ]] || { bad env "no atende binary at $BIN (build first, or set ATENDE_BIN)"; return; }
  local f n=0 rc=0
  for f in "$OUT"/env/*/*.env; do
    [[ -e "$f" ]] || continue
    n=$((n + 1))
    print_config "$f" || rc=1
  done
  if [[ $n -eq 0 ]]; then
    bad env "no env files were generated"
  elif [[ $rc -eq 0 ]]; then
    ok "settings: $n role environments accepted by atende --print-config"
  else
    bad env "some environments are not accepted (above)"
  fi
}

# The Dockerfile's runtime packages: the apt-get install between the markers.
runtime_packages() {
  sed -n '/# runtime-packages:begin/,/# runtime-packages:end/p' deploy/docker/Dockerfile |
    tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' |
    grep -vE '^(apt-get|update|install|rm|run|debian_frontend=noninteractive)$' | sort -u
}

check_libraries() {
  [[ -x "$BIN" ]] || { bad libs "no atende binary at $BIN"; return; }
  local pkgs closure lib real pkg missing=() n=0
  mapfile -t pkgs < <(runtime_packages)
  [[ ${#pkgs[@]} -gt 0 ]] || { bad libs "no runtime packages found between the Dockerfile's markers"; return; }
  closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "${pkgs[@]}" 2>/dev/null | grep -E '^[a-z0-9]' | sort -u)
  [[ -n "$closure" ]] || die "apt-cache depends knows none of ${pkgs[*]} (run apt-get update)"
  while read -r lib; do
    n=$((n + 1))
    real=$(readlink -f "$lib")
    pkg=""
    for p in "$lib" "$real" "${real/#\/usr\/lib//lib}" "${real/#\/lib//usr/lib}"; do
      pkg=$(dpkg -S "$p" 2>/dev/null | head -1 | cut -d: -f1) && [[ -n "$pkg" ]] && break
    done
    if [[ -z "$pkg" ]]; then
      missing+=("$lib (no Debian package owns it)")
    elif ! grep -qx "$pkg" <<<"$closure"; then
      missing+=("$lib (from $pkg, which the runtime stage does not install)")
    fi
  done < <(ldd "$BIN" | awk '$3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u)
  if [[ ${#missing[@]} -eq 0 ]]; then
    ok "libraries: $n shared libraries, all from the runtime stage's ${#pkgs[@]} packages"
  else
    printf '  %s\n' "${missing[@]}"
    bad libs "the runtime image would miss libraries (above)"
  fi
}

# Every library package atende.sh builds with is installed by the image's build
# stage too (test-only tools excepted), so a new dependency cannot be forgotten.
check_build_packages() {
  local pkgs p missing=()
  pkgs=$(sed -n '/^PACKAGES=(/,/)/p' atende.sh | tr ' ()' '\n\n\n' | grep -E -- '-dev$|^protobuf-c-compiler$' |
    grep -vE '^(libcmocka-dev|libclang-rt-[0-9]+-dev)$')
  for p in $pkgs; do
    sed -n '/^FROM .* AS build$/,/^FROM /p' deploy/docker/Dockerfile | grep -qw -- "$p" || missing+=("$p")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    ok "build stage: installs the $(wc -w <<<"$pkgs") build packages atende.sh lists"
  else
    bad build-packages "deploy/docker/Dockerfile's build stage lacks: ${missing[*]}"
  fi
}

check_metrics() {
  local names name missing=()
  names=$(grep -rhoE '\batende_[a-z_]+' deploy/k8s/autoscaling deploy/k8s/monitoring | sort -u)
  for name in $names; do
    # exported names appear in the code's string literals (a family's base name)
    if ! grep -rqE --include='*.c' "$name([^a-z_]|\$)" broker workers api lib 2>/dev/null; then
      missing+=("$name")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    ok "metrics: every name the autoscalers and alerts use is exported ($(wc -w <<<"$names"))"
  else
    bad metrics "used by autoscaling/alerts but exported nowhere in the code: ${missing[*]}"
  fi
}

# deploy/grafana/*.json: JSON, panel ids unique, every panel on the ${DS_PROMETHEUS}
# variable, and every metric name of every query (histograms by _bucket/_sum/_count) a
# family the C code registers, with its labels (deploy/grafana/check.mjs says it all).
check_dashboard() {
  local dashboards
  mapfile -t dashboards < <(find deploy/grafana -name '*.json' | sort)
  [[ ${#dashboards[@]} -gt 0 ]] || { bad dashboard "no dashboard in deploy/grafana"; return; }
  if ! node deploy/grafana/check.mjs "${dashboards[@]}" -- broker workers api lib; then
    bad dashboard "a Grafana dashboard queries what the code does not export, or is malformed (above)"
    return
  fi
  if [[ -f "$OUT/render/production.yaml" ]] &&
    ! grep -q '^  name: atende-grafana-dashboard$' "$OUT/render/production.yaml"; then
    bad dashboard "overlays/production does not ship the dashboard's ConfigMap (k8s/monitoring -> grafana)"
    return
  fi
  ok "dashboard: ${#dashboards[@]} Grafana dashboard(s), every query on exported metrics"
}

check_fake_provider() {
  local exe="$OUT/atende-fake-provider" port pid secret key ts body sig stats code rc=0
  # shellcheck disable=SC2046
  if ! cc -std=c11 -O2 -Wall -Wextra -Werror -o "$exe" deploy/fake-provider/fake_provider.c \
    $(pkg-config --cflags --libs libmicrohttpd openssl jansson) 2>"$OUT/fake-provider.build.log"; then
    cat "$OUT/fake-provider.build.log"
    bad fake-provider "deploy/fake-provider/fake_provider.c does not build"
    return
  fi
  port=$(( (RANDOM % 20000) + 30000 ))
  secret="whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
  ATENDE_WEBHOOK_SECRET=$secret FAKE_PROVIDER_PORT=$port "$exe" 2>"$OUT/fake-provider.log" &
  pid=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.05
  done
  key=$(printf '%s' "${secret#whsec_}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
  ts=$(date +%s)
  body='{"to":"+5511999990000","text":"Seu pedido saiu para entrega"}'
  sig=$(printf '%s' "msg_1.$ts.$body" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64)
  post() { curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/hooks" \
    -H 'content-type: application/json' -H "webhook-id: $1" -H "webhook-timestamp: $ts" \
    -H "webhook-signature: v1,$2" --data "$body"; }
  [[ $(post msg_1 "$sig") == 200 ]] || { echo "  signed POST not accepted"; rc=1; }
  [[ $(post msg_1 "$sig") == 200 ]] || { echo "  redelivery not accepted"; rc=1; }
  [[ $(post msg_2 "$sig") == 401 ]] || { echo "  a wrong signature was not refused with 401"; rc=1; }
  stats=$(curl -s "http://127.0.0.1:$port/stats")
  [[ "$stats" == '{"requests":3,"delivered":1,"duplicates":1,"bad_signatures":1,"malformed":0}' ]] ||
    { echo "  /stats answered $stats"; rc=1; }
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || { echo "  did not exit 0 on SIGTERM"; rc=1; }
  if [[ $rc -eq 0 ]]; then
    ok "fake provider: builds, verifies signatures, counts redeliveries"
  else
    bad fake-provider "the fake provider misbehaves (above)"
  fi
}

main() {
  rm -rf "$OUT/env" "$OUT/render"
  mkdir -p "$OUT"
  tools
  check_yamllint
  check_manifests
  check_env
  check_libraries
  check_build_packages
  check_metrics
  check_dashboard
  check_fake_provider
  if [[ ${#FAILED[@]} -eq 0 ]]; then
    say "all $PASSED checks hold"
    return 0
  fi
  say "${#FAILED[@]} of $((PASSED + ${#FAILED[@]})) checks failed: ${FAILED[*]}"
  return 1
}

main "$@"
