#!/usr/bin/env bash
# bench-vs-local-sfn.sh: whole-process speed of `kstates run` against
# aws-local-stepfunctions' `local-sfn` (npm) on the same definitions and inputs:
# the counter loop (10,000 Pass/Choice transitions) and a 2,000-item INLINE Map
# (internal/engine/bench/testdata). It checks that both print the same output,
# then prints a table of median wall-clock times and the ratio.
#
# Needs go, node and npm; uses hyperfine when installed (apt-get install
# hyperfine), else a bash loop timed with date +%s%N.
#
#   hack/bench-vs-local-sfn.sh            # RUNS=10 runs of each
#   RUNS=30 hack/bench-vs-local-sfn.sh
#
# Environment:
#   RUNS               runs per command (default 10)
#   MIN_RATIO          required speed-up (default 20); exit status 3 below it
#   LOCAL_SFN_VERSION  aws-local-stepfunctions version (default 3.0.0)
#   LOCAL_SFN_DIR      where it is installed (default
#                      ${XDG_CACHE_HOME:-$HOME/.cache}/kstates/local-sfn)
# Exit status: 0 ok, 1 outputs differ or a run failed, 2 missing tools,
# 3 speed-up below MIN_RATIO.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-10}
MIN_RATIO=${MIN_RATIO:-20}
LOCAL_SFN_VERSION=${LOCAL_SFN_VERSION:-3.0.0}
LOCAL_SFN_DIR=${LOCAL_SFN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kstates/local-sfn}
TESTDATA=$ROOT/internal/engine/bench/testdata
KSTATES=$ROOT/bin/kstates

for tool in go node npm; do
  command -v "$tool" >/dev/null || { echo "bench-vs-local-sfn: $tool is required" >&2; exit 2; }
done

# 1. aws-local-stepfunctions, installed once into the cache folder.
LOCAL_SFN=$LOCAL_SFN_DIR/node_modules/.bin/local-sfn
installed=$(node -p "try { require('$LOCAL_SFN_DIR/node_modules/aws-local-stepfunctions/package.json').version } catch (e) { '' }")
if [[ "$installed" != "$LOCAL_SFN_VERSION" ]]; then
  echo "Installing aws-local-stepfunctions@$LOCAL_SFN_VERSION into $LOCAL_SFN_DIR" >&2
  mkdir -p "$LOCAL_SFN_DIR"
  (cd "$LOCAL_SFN_DIR" && npm install --no-audit --no-fund --loglevel=error "aws-local-stepfunctions@$LOCAL_SFN_VERSION" >&2)
fi

# 2. kstates.
echo "Building $KSTATES" >&2
(cd "$ROOT" && go build -o "$KSTATES" ./cmd/kstates)

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# 3. Inputs: the counter starts at 0; the Map gets 2,000 items
#    {"id": i, "qty": i % 7} (as bench.MapInput builds them).
cp "$ROOT/hack/bench/counter-input.json" "$WORK/counter-input.json"
node -e 'process.stdout.write(JSON.stringify({items: Array.from({length: 2000}, (_, i) => ({id: i, qty: i % 7}))}) + "\n")' \
  > "$WORK/map-input.json"

WORKLOADS=(counter map)
declare -A DESCRIPTION=([counter]="counter loop (10,000 transitions)" [map]="inline Map (2,000 items)")

kstates_cmd() { echo "$KSTATES run $TESTDATA/$1.json --input-file $WORK/$1-input.json -o json"; }
local_sfn_cmd() { echo "$LOCAL_SFN -f $TESTDATA/$1.json < $WORK/$1-input.json"; }

# 4. Same output from both.
for w in "${WORKLOADS[@]}"; do
  bash -c "$(kstates_cmd "$w")" > "$WORK/$w.kstates.out" || true
  bash -c "$(local_sfn_cmd "$w")" > "$WORK/$w.local-sfn.out" || { echo "local-sfn failed on $w" >&2; exit 1; }
  node "$ROOT/hack/bench/canonical.js" kstates "$WORK/$w.kstates.out" > "$WORK/$w.kstates.canon" || {
    echo "kstates failed on $w:" >&2; head -c 2000 "$WORK/$w.kstates.out" >&2; exit 1; }
  node "$ROOT/hack/bench/canonical.js" local-sfn "$WORK/$w.local-sfn.out" > "$WORK/$w.local-sfn.canon"
  if ! cmp -s "$WORK/$w.kstates.canon" "$WORK/$w.local-sfn.canon"; then
    echo "$w: the outputs differ:" >&2
    echo "  kstates:   $(head -c 300 "$WORK/$w.kstates.canon")" >&2
    echo "  local-sfn: $(head -c 300 "$WORK/$w.local-sfn.canon")" >&2
    exit 1
  fi
  echo "$w: same output ($(wc -c < "$WORK/$w.kstates.canon") bytes)" >&2
done

# 5. Timing: median wall-clock milliseconds of RUNS runs.
median_ms() { # command
  if command -v hyperfine >/dev/null; then
    hyperfine --style none --warmup 1 --runs "$RUNS" --export-json "$WORK/h.json" "$1" >/dev/null 2>&1 \
      || { echo "failed: $1" >&2; return 1; }
    node -p "(require('$WORK/h.json').results[0].median * 1000).toFixed(1)"
  else
    local times=() t0 t1
    bash -c "$1" >/dev/null 2>&1 # warm-up
    for ((i = 0; i < RUNS; i++)); do
      t0=$(date +%s%N)
      bash -c "$1" >/dev/null 2>&1 || { echo "failed: $1" >&2; return 1; }
      t1=$(date +%s%N)
      times+=($(( (t1 - t0) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f\n", m / 1000}'
  fi
}

timer=hyperfine; command -v hyperfine >/dev/null || timer="bash loop"
echo
echo "kstates $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') vs aws-local-stepfunctions $LOCAL_SFN_VERSION (node $(node --version)); $RUNS runs each ($timer), $(nproc) CPUs"
printf '%-36s %18s %20s %8s\n' workload "kstates median ms" "local-sfn median ms" ratio
status=0
for w in "${WORKLOADS[@]}"; do
  k=$(median_ms "$(kstates_cmd "$w")")
  l=$(median_ms "$(local_sfn_cmd "$w")")
  ratio=$(awk -v k="$k" -v l="$l" 'BEGIN { printf "%.1f", l / k }')
  printf '%-36s %18s %20s %7sx\n' "${DESCRIPTION[$w]}" "$k" "$l" "$ratio"
  if awk -v r="$ratio" -v m="$MIN_RATIO" 'BEGIN { exit !(r < m) }'; then status=3; fi
done
if ((status == 3)); then
  echo "below the required ${MIN_RATIO}x speed-up" >&2
fi
exit $status
