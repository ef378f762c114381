#!/usr/bin/env bash
# mnemobench's cpu backend and PyTorch on the same cores, interleaved: each pair runs
# one mnemobench command and its PyTorch counterpart (tools/pytorch_*_bench.py; even
# pairs PyTorch first),
# for every row of the README's "Measured here" comparison.  Prints both programs'
# lines as they come, then one table: the median over the pairs of each figure and
# the median of the per-pair ratios (> 1: mnemobench faster).
# Usage: tools/side-by-side.sh [PAIRS (default 1)] [--no-scale]
# Needs a build (build/) and python3-torch (apt-get install -y python3-torch).
set -uo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-1}
scale=1
[ "${2:-}" = "--no-scale" ] && scale=0
B=./build/harness/mnemobench
P=/usr/bin/python3
if ! $P -c 'import torch' 2>/dev/null; then
  echo "side-by-side: PyTorch is missing: apt-get install -y python3-torch" >&2
  exit 2
fi
[ -x "$B" ] || { echo "side-by-side: no build at $B (bash tools/build.sh)" >&2; exit 2; }
export POCL_CACHE_DIR="$PWD/build/pocl-cache" MESA_SHADER_CACHE_DIR="$PWD/build/mesa-cache"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {   # TAG COMMAND...: the command's output, each line tagged
  local tag=$1; shift
  echo "# $tag: $* (load $(cut -d' ' -f1-3 /proc/loadavg))"
  "$@" 2>&1 | sed "s/^/$tag|/" | tee -a "$log" | sed "s/^$tag|//"
}
# Each pair runs both sides of a workload back to back; even pairs run PyTorch first, so
# a drift of the host's speed (other tenants, clocks) does not always favour one side.
pair() {   # P GROUP "MNEMOBENCH ARGS" "PYTORCH ARGS"
  local p=$1 group=$2 mb=$3 pt=$4
  if [ $((p % 2)) -eq 1 ]; then
    run "$p|$group|mb" $B $mb
    run "$p|$group|pt" $P $pt
  else
    run "$p|$group|pt" $P $pt
    run "$p|$group|mb" $B $mb
  fi
}
for p in $(seq 1 "$pairs"); do
  echo "## pair $p"
  pair "$p" mlp "bench-train --backend cpu" "tools/pytorch_mlp_bench.py 2"
  pair "$p" resnet "bench-train --model resnet18 --backend cpu --repeats 3" \
    "tools/pytorch_resnet_bench.py --repeats 3"
  run "$p|resnetloop|pt" $P tools/pytorch_resnet_bench.py --repeats 3 --only forget --fim loop
  if [ $scale -eq 1 ]; then
    for m in resnet18 resnext50 swin_t; do
      pair "$p" "scale-$m" "bench-scale --quick --model $m --backend cpu --no-ssd --repeats 1 --warmups 0" \
        "tools/pytorch_scale_bench.py --model $m --repeats 1 --warmups 0"
    done
  fi
done
$P - "$log" <<'PY'
import re, statistics, sys
vals = {}   # (workload, side) -> {pair: value}
for line in open(sys.argv[1]):
    pair, group, side, text = line.rstrip("\n").split("|", 3)
    m = re.match(r"\s*(\S+)\s+(.*?)\s{2,}([0-9.]+(?:e[+-]?[0-9]+)?)\s+(samples/s|ms|s)\b", text)
    if not m:
        continue
    what, value, unit = m.group(2), float(m.group(3)), m.group(4)
    if what.startswith("train"):
        key = (group, "training", unit)
    elif what.startswith("forget"):
        key = (group if group != "resnetloop" else "resnet", "forgetting", unit)
    else:
        continue
    sub = "loop" if group == "resnetloop" else side
    vals.setdefault(key, {}).setdefault(sub, {})[pair] = value
names = {"mlp": "paper MLP", "resnet": "ResNet-18 (1×28×28, width 64)",
         "scale-resnet18": "bench-scale --quick ResNet-18", "scale-resnext50": "bench-scale --quick ResNeXt-50",
         "scale-swin_t": "bench-scale --quick Swin-T"}
print("\nEach cell: the pairs' values, then (median).")
print("\n| workload | mnemobench cpu | PyTorch | ratio |\n|---|---:|---:|---:|")
def cells(xs, fmt):
    return " / ".join(fmt(x) for x in xs) + f" ({fmt(statistics.median(xs))})"
for (group, kind, unit), sides in vals.items():
    mb = sides.get("mb", {})
    for other, label in (("pt", "PyTorch"), ("loop", "PyTorch, one backward per code")):
        pt = sides.get(other, {})
        common = sorted(set(mb) & set(pt))
        if not common:
            continue
        faster_high = unit == "samples/s"
        ratios = [mb[p] / pt[p] if faster_high else pt[p] / mb[p] for p in common]
        num = lambda x: f"{x:.4g}"
        print(f"| {names.get(group, group)} {kind} ({unit}; vs {label}) | "
              f"{cells([mb[p] for p in common], num)} | {cells([pt[p] for p in common], num)} | "
              f"{cells(ratios, lambda x: f'{x:.2f}×')} |")
PY
