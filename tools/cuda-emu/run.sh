#!/usr/bin/env bash
# Runs tools/cuda-kernel-check.cu's checks (batch norm, the forgetting update, layer norm,
# softmax, GELU) on the host,
# without a GPU: the kernels of kernels/cuda are compiled as C++ by g++ (C++20) against
# cuda_emu.h, their <<<...>>> launches rewritten to emu_launch(...).  Needs the CUDA
# toolkit's headers only (no driver).  About 20 s.  Usage:
#   bash tools/cuda-emu/run.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cuda_inc="${CUDA_HOME:-/usr/local/cuda}/include"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for f in norm forget eltwise reduce rng loss; do
  python3 "$root/tools/cuda-emu/host_cu.py" "$root/kernels/cuda/$f.cu" "$work/${f}_emu.cpp"
done
flags=(-std=c++20 -O1 -ffp-contract=off -pthread -w -I"$root/tools/cuda-emu" -I"$root/tools"
       -I"$cuda_inc" -I"$root/kernels/cuda" -I"$root/include" -I"$root/kernels/common")
for f in norm forget eltwise reduce rng loss; do
  g++ "${flags[@]}" -c "$work/${f}_emu.cpp" -o "$work/$f.o" &
done
wait
g++ "${flags[@]}" "$root/tools/cuda-emu/emu_main.cpp" "$root/tools/cuda-emu/emu_state.cpp" \
  "$root/tools/cuda-emu/runtime.cpp" "$work"/*.o -o "$work/emu_check"
"$work/emu_check"
