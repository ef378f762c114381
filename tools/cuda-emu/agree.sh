#!/usr/bin/env bash
# The whole CUDA backend without a GPU: backends/cuda's host code (built without cuDNN,
# so convolutions go through the core's composition) and every kernel of kernels/cuda,
# compiled for the host against tools/cuda-emu (cuda_emu.h for the kernel language,
# runtime.cpp for the runtime and cuBLAS calls), as a cuda module in a private folder;
# then `mnemobench agree --backend cuda` against the ref oracle with that module, once
# per FILTER (an agree --filter substring; none: every case, which takes hours, as each
# CUDA thread is a host thread).  Needs a build (build/) and the CUDA toolkit's headers
# (no driver).  Usage: bash tools/cuda-emu/agree.sh [FILTER...]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cuda_inc="${CUDA_HOME:-/usr/local/cuda}/include"
bin="${MB_BIN:-$root/build/harness/mnemobench}"   # MB_BIN: another build's program
[ -x "$bin" ] || { echo "cuda-emu agree: no build at $bin (bash tools/build.sh)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/obj" "$work/modules"
inc=(-I"$root/include" -I"$root/kernels/cuda" -I"$root/kernels/common" -I"$root/tools/cuda-emu"
     -I"$cuda_inc")
cxx=(g++ -std=c++20 -O1 -fPIC -ffp-contract=off -pthread -w "${inc[@]}")
for f in "$root"/kernels/cuda/*.cu; do
  n=$(basename "$f" .cu)
  python3 "$root/tools/cuda-emu/host_cu.py" "$f" "$work/obj/k_$n.cpp"
done
pids=()
for f in "$work"/obj/k_*.cpp; do "${cxx[@]}" -c "$f" -o "${f%.cpp}.o" & pids+=($!); done
"${cxx[@]}" -c "$root/tools/cuda-emu/runtime.cpp" -o "$work/obj/runtime.o" & pids+=($!)
"${cxx[@]}" -c "$root/tools/cuda-emu/emu_state.cpp" -o "$work/obj/emu_state.o" & pids+=($!)
for f in "$root"/backends/cuda/*.c; do
  [ "$(basename "$f")" = conv.c ] && continue   # cuDNN: not emulated
  gcc -std=c11 -O1 -fPIC -ffp-contract=off -w "${inc[@]}" -c "$f" -o "$work/obj/b_$(basename "$f" .c).o" &
  pids+=($!)
done
gcc -std=c11 -O1 -fPIC -w "${inc[@]}" -DMB_MODULE_OPS=mb_cuda_ops -c "$root/backends/module.c" \
  -o "$work/obj/module.o" & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
g++ -shared -pthread -o "$work/modules/mb-backend-cuda.so" "$work"/obj/*.o \
  -Wl,--version-script="$root/backends/module.map"
export MB_BACKEND_DIR="$work/modules" MB_BACKENDS=cuda MB_PROBE_TIMEOUT=0
[ $# -gt 0 ] || set -- ""
rc=0
for f in "$@"; do
  if [ -n "$f" ]; then "$bin" agree --backend cuda --filter "$f" || rc=1
  else "$bin" agree --backend cuda || rc=1; fi
done
exit $rc
