#!/usr/bin/env bash
# wrk.sh: load-test `plat registry serve` with Debian's wrk. Builds plat, starts the
# registry on a fresh --data directory on a loopback port, publishes the four
# approved modules (or a small generated one), then runs wrk against the versions,
# download and archive endpoints, with open reads and with read tokens.
# Usage: internal/benchcmp/wrk.sh [DURATION (default 10s)] [CONNECTIONS (default 32)]
# Prints wrk's latency distribution and the server's peak RSS per phase, and, for
# the versions endpoint, the latency at a fixed 10,000 req/s (internal/benchcmp/loadgen).
# ACCESS_LOG=true keeps the per-request access log on (to a file), as by default.
set -euo pipefail
cd "$(dirname "$0")/../.."
dur=${1:-10s}
conns=${2:-32}
command -v wrk >/dev/null || bash scripts/tools.sh wrk >/dev/null
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
go build -o "$tmp/plat" ./cmd/plat
go build -o "$tmp/loadgen" ./internal/benchcmp/loadgen
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

publish_all() {
  local tok=$1 m
  for m in modules/*/aws; do
    [ -d "$m" ] || continue
    name=$(basename "$(dirname "$m")")
    PLAT_TOKEN=$tok "$tmp/plat" module publish "$m" --registry "$base" --namespace platform --name "$name" --system aws --version 1.0.0 >/dev/null
  done
  if ! ls modules/*/aws >/dev/null 2>&1; then
    mkdir -p "$tmp/mod" && printf 'variable "x" {}\n' >"$tmp/mod/main.tf"
    PLAT_TOKEN=$tok "$tmp/plat" module publish "$tmp/mod" --registry "$base" --namespace platform --name postgres --system aws --version 1.0.0 >/dev/null
  fi
}

start() {
  "$tmp/plat" registry serve --listen "127.0.0.1:$port" --data "$tmp/data" --access-log="${ACCESS_LOG:-false}" "$@" 2>"$tmp/serve.log" &
  pid=$!
  for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "registry did not start:" >&2; cat "$tmp/serve.log" >&2; exit 1
}

stop() { kill "$pid"; wait "$pid" || true; pid=""; }

run() { # NAME URL [wrk args...]
  local name=$1 url=$2; shift 2
  echo "== $name: wrk -t1 -c$conns -d$dur $url"
  wrk -t1 -c"$conns" -d"$dur" --latency "$@" "$url" | sed -n '/Latency Distribution/,/Transfer/p'
  echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
}

pubtok=$("$tmp/plat" registry token create --data "$tmp/data" --namespace platform --scope publish)
readtok=$("$tmp/plat" registry token create --data "$tmp/data" --namespace platform --scope read)
start
publish_all "$pubtok"
echo "server RSS after publish: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
run "versions (open reads)" "$base/v1/modules/platform/postgres/aws/versions"
echo "== versions at a fixed 10,000 req/s (open loop, internal/benchcmp/loadgen)"
"$tmp/loadgen" -url "$base/v1/modules/platform/postgres/aws/versions" -rate 10000 -duration "$dur" -conns "$conns"
echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
run "download (open reads)" "$base/v1/modules/platform/postgres/aws/1.0.0/download"
run "archive (open reads)" "$base/v1/archives/platform/postgres/aws/1.0.0.tar.gz"
stop
start --require-read-token
run "versions (read token)" "$base/v1/modules/platform/postgres/aws/versions" -H "Authorization: Bearer $readtok"
loc=$(curl -fsi -H "Authorization: Bearer $readtok" "$base/v1/modules/platform/postgres/aws/1.0.0/download" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-terraform-get" {print $2}')
run "archive via signed grant" "$base$loc"
stop
