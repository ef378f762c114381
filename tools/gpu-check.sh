#!/usr/bin/env bash
# The GPU checks of the CUDA backend in one run, for a machine with an NVIDIA GPU,
# the CUDA toolkit, meson and ninja but none of the Debian packages (so no
# OpenCL/Vulkan headers, OpenBLAS or Criterion): it builds what it can, lists
# the drivers it finds, and runs the agreement suite, tools/cuda-kernel-check.cu (batch
# norm against an f64 oracle and its time at the bench-scale stem, the fused forgetting
# update against the op chain bit for bit, layer norm, softmax and GELU against f64), the quickstarts (MLP and
# ResNet-18), the training/GEMM benchmark and the scalability point on `cuda`.  Results go to
# $OUT (or ./gpu-check) as logs and JSON rows.  Usage:
#   bash tools/gpu-check.sh [--scale-quick]
# Fashion-MNIST is read from data/fashion-mnist when it was copied there
# (decompressed IDX files: such a machine may lack zlib's headers, and then the
# build reads no .gz), else the synthetic set is used, and the rows say so.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-$PWD/gpu-check}"
mkdir -p "$out"
scale_args=()
[ "${1:-}" = "--scale-quick" ] && scale_args=(--quick)
log() { echo "== $*" | tee -a "$out/summary.txt"; }

log "machine: $(uname -m), $(nproc) cores"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  | tee -a "$out/summary.txt"
log "OpenCL ICDs: $(ls /etc/OpenCL/vendors 2>/dev/null | tr '\n' ' ')"
log "NVIDIA OpenCL library: $(ldconfig -p | grep -o 'libnvidia-opencl[^ ]*' | head -1)"
log "Vulkan loader: $(ldconfig -p | grep -o 'libvulkan\.so[^ ]*' | head -1)"
log "NVIDIA Vulkan ICD: $(ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>/dev/null | grep -i nvidia | head -1)"

[ -x /usr/local/cuda/bin/nvcc ] && export PATH="/usr/local/cuda/bin:$PATH"
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.')
arch="${arch:-90}"
if [ ! -d build-gpu ]; then
  meson setup build-gpu --buildtype=release -Dcuda=enabled -Dnvcc_arch="$arch" \
    -Dvulkan=auto -Dopencl=auto -Dtests=disabled >"$out/meson-setup.log" 2>&1 \
    || { log "meson setup failed (see meson-setup.log)"; exit 1; }
fi
ninja -C build-gpu >"$out/build.log" 2>&1 || { log "build failed (see build.log)"; exit 1; }
B=./build-gpu/harness/mnemobench
data=()
[ -d data/fashion-mnist ] && data=(--data data/fashion-mnist)

log "devices"; $B devices | tee -a "$out/summary.txt"
log "agree --backend cuda"
$B agree --backend cuda >"$out/agree.txt" 2>"$out/agree.err"; echo "exit $?" >>"$out/agree.txt"
grep -A3 '^summary' "$out/agree.txt" | tee -a "$out/summary.txt"
for fam in forget_update conv2d; do
  log "agree --backend cuda --filter $fam/ with MB_ENGINE=generic (the composition the optional op replaces)"
  MB_ENGINE=generic $B agree --backend cuda --filter "$fam/" >"$out/agree-generic-$fam.txt" 2>&1
  echo "exit $?" >>"$out/agree-generic-$fam.txt"
  grep -A3 '^summary' "$out/agree-generic-$fam.txt" | tee -a "$out/summary.txt"
done
log "cuda kernel check: batch norm against an f64 oracle and its time at the bench-scale stem (512x64x112x112); the fused forgetting update against the op chain, bit for bit; layer norm, softmax and GELU against f64"
if nvcc -O2 --fmad=false -gencode "arch=compute_$arch,code=sm_$arch" -Iinclude -Ikernels/cuda -Ikernels/common \
    -o build-gpu/cuda-kernel-check tools/cuda-kernel-check.cu kernels/cuda/norm.cu kernels/cuda/forget.cu \
    kernels/cuda/eltwise.cu kernels/cuda/reduce.cu kernels/cuda/rng.cu kernels/cuda/loss.cu \
    >"$out/kernel-check-build.log" 2>&1; then
  ./build-gpu/cuda-kernel-check >"$out/kernel-check.txt" 2>&1; echo "exit $?" >>"$out/kernel-check.txt"
  grep -E '^(FAIL|bn bench|gelu|PASS|device)' "$out/kernel-check.txt" | tee -a "$out/summary.txt"
else
  log "kernel check build failed (see kernel-check-build.log)"
fi
log "quickstart --backend cuda (default settings)"
$B quickstart --backend cuda "${data[@]}" --json >"$out/quickstart-cuda.jsonl" 2>"$out/quickstart-cuda.err"
tail -1 "$out/quickstart-cuda.jsonl" | tee -a "$out/summary.txt"; tail -1 "$out/quickstart-cuda.err" | tee -a "$out/summary.txt"
log "quickstart --backend cuda --epochs 30 (compare: ref/cpu/opencl/vulkan gave 84.15, A_R 83.84 -> 84.86, E_F 13.1 -> 100, minus)"
$B quickstart --backend cuda "${data[@]}" --epochs 30 --lambda2 10 --json >>"$out/quickstart-cuda.jsonl" 2>>"$out/quickstart-cuda.err"
tail -1 "$out/quickstart-cuda.jsonl" | tee -a "$out/summary.txt"; tail -1 "$out/quickstart-cuda.err" | tee -a "$out/summary.txt"
log "quickstart --model resnet18 --backend cuda, 300/class, 5 epochs (compare: the same run on cpu gave test acc 84.30, A_R 84.33 -> 85.67, E_F 16 -> 100, minus; training drifts across backends like a seed)"
$B quickstart --model resnet18 --backend cuda "${data[@]}" --train-limit 300 --test-limit 100 --epochs 5 --batch 32 \
  --json >"$out/quickstart-resnet-cuda.jsonl" 2>"$out/quickstart-resnet-cuda.err"
tail -1 "$out/quickstart-resnet-cuda.jsonl" | tee -a "$out/summary.txt"; tail -1 "$out/quickstart-resnet-cuda.err" | tee -a "$out/summary.txt"
log "bench-train --backend cuda"
$B bench-train --backend cuda 2>&1 | tee "$out/bench-train.txt" | tee -a "$out/summary.txt"
# the paper's Table 4: ResNet-18, ResNeXt-50 and Swin-T; 3 repeats keep the three within minutes
log "bench-scale --backend cuda --repeats 3 ${scale_args[*]}"
$B bench-scale --backend cuda --repeats 3 "${scale_args[@]}" --json >"$out/bench-scale.jsonl" 2>"$out/bench-scale.err"
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("status") == "ok":
        print("%-28s %-9s %10.3f s  (%s parameters, batch %s, sign %s)" % (r.get("model"), r.get("method"),
              r.get("forget_s", r.get("seconds", float("nan"))), r.get("n_params"), r.get("batch"), r.get("sign")))
    else:
        print(r.get("model"), r.get("method"), r.get("status"), r.get("reason", ""))' "$out/bench-scale.jsonl" \
  | tee -a "$out/summary.txt"; tail -2 "$out/bench-scale.err" | tee -a "$out/summary.txt"
log "done"
