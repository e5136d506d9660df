#!/usr/bin/env bash
# bench.sh measures `plat drift check --parallel 2` over 20 real tofu stacks (one
# local_file each, initialised and applied) against what a shell script would do
# with the same tofu: a sequential loop and an `xargs -P 2` loop of
# `tofu plan -refresh-only -out=...` + `tofu show -json`. All in one run, on the
# same stacks; prints the median of ROUNDS runs of each.
#
#   bash drift/bench/bench.sh            # 20 stacks, 5 rounds
#   STACKS=4 ROUNDS=1 bash drift/bench/bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
STACKS=${STACKS:-20}
ROUNDS=${ROUNDS:-5}
TOOLS=${PLAT_TOOLS_DIR:-$HOME/.cache/plat-tools}
TOFU=${TOFU:-$TOOLS/bin/tofu}
MIRROR=${MIRROR:-$TOOLS/mirror}
[ -x "$TOFU" ] || bash scripts/tools.sh tofu
[ -d "$MIRROR" ] || bash scripts/tools.sh provider_local

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/plat" ./cmd/plat
cat > "$work/tofu.rc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["*/*/*"]
  }
  direct { exclude = ["*/*/*"] }
}
RC
export TF_CLI_CONFIG_FILE="$work/tofu.rc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
unset TF_PLUGIN_CACHE_DIR TF_DATA_DIR

stacks=()
for i in $(seq -w 1 "$STACKS"); do
  d="$work/stacks/s$i"
  mkdir -p "$d"
  cat > "$d/main.tf" <<TF
resource "local_file" "f" {
  filename = "\${path.module}/f.txt"
  content  = "stack $i"
}
TF
  (cd "$d" && "$TOFU" init -input=false >/dev/null && "$TOFU" apply -auto-approve -input=false >/dev/null)
  stacks+=("$d")
done
mkdir -p "$work/plans"

one() { # one stack, as a script would do it
  local d=$1 p="$work/plans/$(basename "$1").tfplan"
  cd "$d" && "$TOFU" plan -refresh-only -input=false -lock-timeout=30s -out="$p" >/dev/null && "$TOFU" show -json "$p" >/dev/null
}
export -f one; export TOFU work

sequential() { for d in "${stacks[@]}"; do one "$d"; done; }
xargs2() { printf '%s\n' "${stacks[@]}" | xargs -P 2 -I{} bash -c 'one "$1"' _ {}; }
plat2() { "$work/plat" drift check -q --parallel 2 --format json "${stacks[@]}" >/dev/null; }

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A times
for r in $(seq "$ROUNDS"); do
  for m in sequential xargs2 plat2; do
    t0=$(now); $m; t1=$(now)
    times[$m]+="$(echo "$t1 - $t0" | bc) "
  done
done
seq_t=$(echo ${times[sequential]} | tr ' ' '\n' | median)
xargs_t=$(echo ${times[xargs2]} | tr ' ' '\n' | median)
plat_t=$(echo ${times[plat2]} | tr ' ' '\n' | median)
printf '%d stacks, median of %d rounds on %d CPUs\n' "$STACKS" "$ROUNDS" "$(nproc)"
printf '  sequential tofu loop     %6.2fs\n' "$seq_t"
printf '  xargs -P 2 tofu loop     %6.2fs\n' "$xargs_t"
printf '  plat drift check -P 2    %6.2fs\n' "$plat_t"
printf '  plat vs xargs: %+.1f%%   plat speed-up over sequential: %.2fx\n' \
  "$(echo "($plat_t - $xargs_t) * 100 / $xargs_t" | bc -l)" "$(echo "$seq_t / $plat_t" | bc -l)"
