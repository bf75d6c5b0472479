#!/usr/bin/env bash
# The precision study of issue 4 (Tu et al., ICLR 2024, Sec. 4: the precision schedule keeps
# zero-shot super-resolution): one Darcy dataset from `mpno generate` (training at 32 x 32,
# test sets at 32, 64 and 128), then one `mpno train` per variant and seed:
#   full      float32 FFT and contraction, no stabilizer, no autocast
#   mixed     float32 FFT, reduced-type contraction and inverse FFT, tanh, Autocast = auto
#   half      as mixed with the forward FFT's input and output in the reduced type too
#             (emulated on CPU: rounded float32 FFT)
#   schedule  0:half, 0.25:mixed, 0.75:full (fractions of the epochs), tanh
#   tfno      mixed, model tfno (Tucker, rank 0.05: subsection Surrogate/TFNO)
# It prints per variant (mean over the seeds) the relative L2 and H1 test errors at each
# resolution, the training time and the spectral parameters, and writes them to
# OUTPUT/precision_study_mean.csv, per run to OUTPUT/precision_study.csv.
#
#   benchmarks/precision_study.sh [--build DIR] [--output DIR] [--prm FILE]
#                                 [--variants full,mixed,half,schedule,tfno] [--seeds 0,1]
#                                 [--set 'Entry name=value' ...]
# Defaults: build/, output/precision_study, benchmarks/precision_study.prm, every
# variant, seed 0. The dataset is generated once and reused if OUTPUT/data/dataset.h5
# exists; so is a run whose OUTPUT/VARIANT-seedSEED/summary.json exists (delete it to
# train again), so that runs can be split over several invocations and tabulated
# together. --set replaces an entry of the parameter file in every variant's training
# (repeatable; e.g. --set 'Learning rate=1e-2' with another --output); it does not apply
# to the data generation, which reads the parameter file as it is. Needs python3 (to read
# summary.json).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build
output=$root/output/precision_study
prm=$root/benchmarks/precision_study.prm
variants=full,mixed,half,schedule,tfno
seeds=0
extra=()
while (($#)); do
  (($# >= 2)) || { echo "precision_study.sh: '$1' needs a value (see the comment at the top of $0)" >&2; exit 2; }
  case $1 in
    --build) build=$2 ;;
    --output) output=$2 ;;
    --prm) prm=$2 ;;
    --variants) variants=$2 ;;
    --seeds) seeds=$2 ;;
    --set) extra+=("$2") ;;
    *) echo "precision_study.sh: unknown argument '$1' (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
  shift 2
done
command -v python3 >/dev/null || { echo "precision_study.sh: needs python3 (apt-get install python3)" >&2; exit 2; }
[ -x "$build/bin/mpno" ] || { echo "precision_study.sh: no $build/bin/mpno: build first (scripts/setup.sh)" >&2; exit 2; }
[ -f "$prm" ] || { echo "precision_study.sh: parameter file '$prm' does not exist" >&2; exit 2; }
mkdir -p "$output"
output=$(cd "$output" && pwd)
mpno=$build/bin/mpno

# A copy of the parameter file next to it (relative paths keep their meaning) with the
# given entries replaced: each argument is 'Entry name=value', matched at any depth.
variant_prm() {
  local target=$1
  shift
  cp "$prm" "$target"
  local assignment name value
  for assignment in "$@"; do
    name=${assignment%%=*}
    value=${assignment#*=}
    grep -q "^ *set $name *=" "$target" ||
      { echo "precision_study.sh: '$prm' has no entry '$name'" >&2; exit 2; }
    # The value literally: escape what sed's replacement would interpret.
    value=$(printf '%s' "$value" | sed -e 's/[\\&|]/\\&/g')
    sed -i -e "s|^\( *set $name *=\).*|\1 $value|" "$target"
  done
}

data=$output/data
if [ ! -f "$data/dataset.h5" ]; then
  echo "== mpno generate ($prm) -> $data"
  "$mpno" generate "$prm" --output "$data" | grep -E "^mpno generate: (done|wrote)|instances" || true
  [ -f "$data/dataset.h5" ] || { echo "precision_study.sh: mpno generate wrote no dataset.h5" >&2; exit 1; }
fi

common=("Training file=$data/dataset.h5" "Test files=")
for variant in ${variants//,/ }; do
  case $variant in
    full) settings=("Spectral precision=full" "Stabilizer=none" "Autocast=false" "Schedule=" "Model=fno") ;;
    mixed) settings=("Spectral precision=mixed" "Stabilizer=tanh" "Autocast=auto" "Schedule=" "Model=fno") ;;
    half) settings=("Spectral precision=half" "Stabilizer=tanh" "Autocast=auto" "Schedule=" "Model=fno") ;;
    schedule) settings=("Spectral precision=half" "Stabilizer=tanh" "Autocast=auto"
      "Schedule=0:half, 0.25:mixed, 0.75:full" "Model=fno") ;;
    tfno) settings=("Spectral precision=mixed" "Stabilizer=tanh" "Autocast=auto" "Schedule=" "Model=tfno") ;;
    *) echo "precision_study.sh: unknown variant '$variant' (full, mixed, half, schedule, tfno)" >&2; exit 2 ;;
  esac
  for seed in ${seeds//,/ }; do
    run=$output/$variant-seed$seed
    if [ -f "$run/summary.json" ]; then
      echo "== $variant, seed $seed: reusing $run"
      continue
    fi
    # Next to the parameter file (relative paths keep their meaning), a unique name.
    file=$(mktemp "$(dirname "$prm")/.precision_study_${variant}_${seed}_XXXXXX.prm")
    trap 'rm -f "$file"' EXIT
    variant_prm "$file" "${common[@]}" "${settings[@]}" ${extra[@]+"${extra[@]}"}
    # Training/Seed is the last entry named 'Seed' (after Data generation's).
    line=$(grep -n "^ *set Seed *=" "$file" | tail -1 | cut -d: -f1 || true)
    [ -n "$line" ] || { echo "precision_study.sh: '$prm' has no entry 'Seed' (Training/Seed)" >&2; exit 2; }
    sed -i -e "${line}s|=.*|= $seed|" "$file"
    echo "== $variant, seed $seed -> $run"
    if ! "$mpno" train "$file" --output "$run" >"$run.log" 2>&1; then
      rm -f "$file"
      echo "precision_study.sh: mpno train failed, see $run.log" >&2
      tail -5 "$run.log" >&2
      exit 1
    fi
    rm -f "$file"
  done
done

python3 - "$output" "$variants" "$seeds" <<'PY'
import csv, json, math, os, statistics, sys
output, variants, seeds = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
rows = []
for v in variants:
    for seed in seeds:
        s = json.load(open(os.path.join(output, f"{v}-seed{seed}", "summary.json")))
        row = {"variant": v, "seed": seed, "model": s["model"], "precision": s["precision"],
               "spectral_parameters": s.get("n_spectral_parameters", 0), "parameters": s["n_parameters"],
               "epochs": s["epochs"], "training_seconds": s["training_seconds"],
               "samples_per_second": s["samples_per_second"], "threads": s["threads"]}
        for name, e in sorted(s["test_errors"].items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0):
            # A diverged run's errors are written as null.
            row[f"l2_{name}"], row[f"h1_{name}"] = (math.nan if e[k] is None else e[k] for k in ("l2", "h1"))
        rows.append(row)
keys = list(dict.fromkeys(k for r in rows for k in r))
with open(os.path.join(output, "precision_study.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=keys)
    w.writeheader()
    w.writerows(rows)
error_keys = [k for k in keys if k.startswith(("l2_", "h1_"))]
means = []
for v in variants:
    rs = [r for r in rows if r["variant"] == v]
    m = {"variant": v, "runs": len(rs), "spectral_parameters": rs[0]["spectral_parameters"]}
    for k in error_keys + ["training_seconds", "samples_per_second"]:
        m[k] = statistics.mean(r[k] for r in rs if k in r)
    means.append(m)
with open(os.path.join(output, "precision_study_mean.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(means[0]))
    w.writeheader()
    w.writerows(means)
header = f"{'variant':9s} {'runs':>4s} {'spectral':>9s} " + " ".join(f"{k:>8s}" for k in error_keys) + \
         f" {'train s':>8s} {'samples/s':>9s}"
print("\nMean over seeds " + ",".join(seeds) + f" ({rows[0]['epochs']} epochs, {rows[0]['threads']} thread(s)):")
print(header)
for m in means:
    print(f"{m['variant']:9s} {m['runs']:4d} {m['spectral_parameters']:9d} " +
          " ".join(f"{m[k]:8.4f}" for k in error_keys) +
          f" {m['training_seconds']:8.1f} {m['samples_per_second']:9.1f}")
full = next((m for m in means if m["variant"] == "full"), None)
if full:
    print("\nRelative to full precision (error / full's error - 1):")
    for m in means:
        if m is not full:
            print(f"{m['variant']:9s} " + " ".join(f"{k}={m[k] / full[k] - 1:+.3f}" for k in error_keys if k.startswith("l2_")))
print(f"\nWritten: {output}/precision_study.csv, {output}/precision_study_mean.csv")
PY
