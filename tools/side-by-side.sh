#!/usr/bin/env bash
# mnemobench's cpu backend and PyTorch on the same cores, interleaved: each pair runs
# one mnemobench command, then its PyTorch counterpart (tools/pytorch_*_bench.py),
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
for p in $(seq 1 "$pairs"); do
  echo "## pair $p"
  run "$p|mlp|mb" $B bench-train --backend cpu
  run "$p|mlp|pt" $P tools/pytorch_mlp_bench.py 2
  run "$p|resnet|mb" $B bench-train --model resnet18 --backend cpu --repeats 3
  run "$p|resnet|pt" $P tools/pytorch_resnet_bench.py --repeats 3
  run "$p|resnetloop|pt" $P tools/pytorch_resnet_bench.py --repeats 3 --only forget --fim loop
  if [ $scale -eq 1 ]; then
    for m in resnet18 resnext50 swin_t; do
      run "$p|scale-$m|mb" $B bench-scale --quick --model $m --backend cpu --no-ssd --repeats 1 --warmups 0
      run "$p|scale-$m|pt" $P tools/pytorch_scale_bench.py --model $m --repeats 1 --warmups 0
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
print("\n| workload | mnemobench cpu | PyTorch | ratio |\n|---|---:|---:|---:|")
for (group, kind, unit), sides in vals.items():
    mb = sides.get("mb", {})
    for other, label in (("pt", "PyTorch"), ("loop", "PyTorch, one backward per code")):
        pt = sides.get(other, {})
        common = sorted(set(mb) & set(pt))
        if not common:
            continue
        faster_high = unit == "samples/s"
        ratios = [mb[p] / pt[p] if faster_high else pt[p] / mb[p] for p in common]
        print(f"| {names.get(group, group)} {kind} ({unit}; vs {label}) | "
              f"{statistics.median(mb[p] for p in common):.4g} | "
              f"{statistics.median(pt[p] for p in common):.4g} | {statistics.median(ratios):.2f}× |")
PY
