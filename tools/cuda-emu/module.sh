#!/usr/bin/env bash
# Builds the CUDA backend for the host, without a GPU: backends/cuda's host code (without
# cuDNN, so convolutions go through the core's composition) and every kernel of
# kernels/cuda, compiled against tools/cuda-emu (cuda_emu.h for the kernel language,
# runtime.cpp for the runtime and cuBLAS calls), as OUTDIR/mb-backend-cuda.so, a module
# the registry loads with MB_BACKEND_DIR=OUTDIR.  Needs the CUDA toolkit's headers (no
# driver).  Usage: bash tools/cuda-emu/module.sh OUTDIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:?usage: module.sh OUTDIR}"
cuda_inc="${CUDA_HOME:-/usr/local/cuda}/include"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/obj" "$out"
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
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
[ $rc -eq 0 ] || { echo "cuda-emu module: a compile failed" >&2; exit 1; }
g++ -shared -pthread -o "$out/mb-backend-cuda.so" "$work"/obj/*.o \
  -Wl,--version-script="$root/backends/module.map"
