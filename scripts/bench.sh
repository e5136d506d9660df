#!/usr/bin/env bash
# bench.sh runs plat's side-by-side benchmarks (see BENCHMARKS.md). --smoke runs each
# once on tiny inputs so the benchmarks do not rot; it asserts nothing about speed.
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=false
[ "${1:-}" = "--smoke" ] && smoke=true
if $smoke; then
  go test -run '^$' -bench . -benchtime 1x ./... >/dev/null
  echo "bench-smoke: ok"
else
  go test -run '^$' -bench . -benchmem ./...
fi
