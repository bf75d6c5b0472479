#!/usr/bin/env bash
# The Darcy-16 acceptance run of parameter_files/darcy_pt_fno.prm over several seeds and
# precisions: one training per (precision, seed), then the relative L2 / H1 test errors
# per run and their mean. The error of a single 20-epoch run varies by about +-0.004
# with the seed, so one run is not enough to compare with a reference figure.
#   benchmarks/darcy_seeds.sh [build dir] [seeds...]     (default: build, seeds 0 1 2 3)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
shift || true
seeds=("$@")
((${#seeds[@]})) || seeds=(0 1 2 3)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for precision in mixed full; do
  for seed in "${seeds[@]}"; do
    prm="$root/parameter_files/.darcy_seed_${precision}_${seed}.prm"
    sed -e "s/^\(  set Seed *=\).*/\1 $seed/" "$root/parameter_files/darcy_pt_fno.prm" >"$prm"
    if [ "$precision" = full ]; then
      sed -i -e "s/^\(  set Spectral precision *=\).*/\1 full/" -e "s/^\(  set Stabilizer *=\).*/\1 none/" \
        -e "s/^\(  set Autocast *=\).*/\1 false/" "$prm"
    fi
    "$build/bin/mpno" train "$prm" --output "$work/$precision-$seed" >/dev/null
    rm -f "$prm"
    python3 - "$work/$precision-$seed/summary.json" "$precision" "$seed" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
e = s["test_errors"]["16"]
print(f"{sys.argv[2]:6s} seed {sys.argv[3]}: L2 {e['l2']:.4f}  H1 {e['h1']:.4f}  {s['samples_per_second']:.0f} samples/s")
PY
  done
done | tee "$work/table.txt"
python3 - "$work/table.txt" <<'PY'
import re, sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
for p in sorted({r[0] for r in rows}):
    l2 = [float(r[4]) for r in rows if r[0] == p]
    h1 = [float(r[6]) for r in rows if r[0] == p]
    print(f"{p:6s} mean over {len(l2)} seeds: L2 {statistics.mean(l2):.4f} (min {min(l2):.4f}, max {max(l2):.4f})  H1 {statistics.mean(h1):.4f}")
PY
