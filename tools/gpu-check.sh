#!/usr/bin/env bash
# The GPU checks in one run, for a machine with an NVIDIA GPU, the CUDA toolkit, meson and ninja but
# none of Debian's packages and no network.  With .gpu-bundle/ beside the checkout (made on a Debian 12
# machine by tools/gpu-bundle.sh) it unpacks the Vulkan and OpenCL loaders and headers, CLBlast,
# glslangValidator, pkg-config and zlib under /tmp, points the build and the loaders at them and at the
# NVIDIA drivers it finds, and builds all three GPU APIs; without the bundle it builds what the machine
# has (CUDA at least).  Then, most important first, each step under its own time cap and all of them
# within --budget seconds (a step that would start too late is skipped, and the summary says so):
#   the agreement suite on cuda, tools/cuda-kernel-check.cu (batch norm against an f64 oracle and its
#   time at the bench-scale stem, the fused forgetting update against the op chain bit for bit, layer
#   norm, softmax and GELU against f64), bench-train (GEMM rates, MLP training and forgetting) on every
#   GPU API, the agreement suite on vulkan (the device's default GEMM design; under the bundle's
#   validation layer, synchronisation checks included, where it loads) and opencl, the MLP
#   quickstart on cuda, bench-scale on cuda, the MLP quickstart on vulkan and opencl, bench-train
#   --model resnet18 on each API, the Vulkan GEMM designs one by one and cuda's generic compositions
#   through the GEMM and forgetting cases, the ResNet-18 quickstart on cuda, bench-scale --quick on
#   vulkan and opencl, and a CLBlast tuning run with bench-train on opencl after it.
# Logs and JSON rows go to $OUT (default ./gpu-check), summary.txt first; with --archive the logs are
# packed into gpu-check.tgz after every step instead, so that $OUT holds two files.
#   bash tools/gpu-check.sh [--budget SECONDS] [--archive] [--scale-quick] [--commit REV]
# --budget: total seconds for all steps, the build included (default 420);
# --scale-quick: bench-scale on cuda at 32x32 instead of the paper's 224x224;
# --commit: the commit rows record when the tree is a copy without .git (meson -Dcommit).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-$PWD/gpu-check}"
budget=420 archive=0 commit=unknown
scale_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --budget) budget="$2"; shift 2 ;;
    --archive) archive=1; shift ;;
    --scale-quick) scale_args=(--quick); shift ;;
    --commit) commit="$2"; shift 2 ;;
    *) echo "usage: bash tools/gpu-check.sh [--budget SECONDS] [--archive] [--scale-quick] [--commit REV]" >&2
       exit 2 ;;
  esac
done
case "$budget" in ''|*[!0-9]*) echo "gpu-check: --budget takes whole seconds, not '$budget'" >&2; exit 2 ;; esac
mkdir -p "$out" || exit 1
if [ "$archive" = 1 ]; then logs=$(mktemp -d /tmp/gpu-check.XXXXXX); else logs="$out"; fi
summary="$logs/summary.txt"
: >"$summary"
t0=$SECONDS

log() { echo "== $*" | tee -a "$summary"; }
note() { tee -a "$summary"; }
pack() {
  [ "$logs" = "$out" ] && return 0
  cp "$summary" "$out/summary.txt"
  tar czf "$out/.gpu-check.tgz.part" -C "$logs" . && mv "$out/.gpu-check.tgz.part" "$out/gpu-check.tgz"
}
# step NAME CAP CMD...: CMD's output to NAME.txt (stdout: results, JSON rows with --json) and NAME.err
# under a limit of CAP seconds or the time left, whichever is less; its exit status and time, and on a
# failure the end of NAME.err, go to the summary.  Returns CMD's exit status (125: not run).
step() {
  local name="$1" cap="$2"; shift 2
  local left=$((budget - (SECONDS - t0))) t s rc
  t=$cap; [ "$left" -lt "$t" ] && t=$left
  if [ "$t" -lt 15 ]; then log "$name: not run ($left s of the budget left)"; return 125; fi
  s=$SECONDS
  timeout -k 5 "$t" "$@" >"$logs/$name.txt" 2>"$logs/$name.err"
  rc=$?
  case $rc in
    0) log "$name: ok in $((SECONDS - s)) s" ;;
    124|137) log "$name: stopped at its limit of $t s" ;;
    *) log "$name: exit $rc in $((SECONDS - s)) s"; tail -3 "$logs/$name.err" | note ;;
  esac
  pack
  return $rc
}
# rows NAME: one line per JSON row of NAME.txt (the harness's result rows)
rows() {
  [ -f "$logs/$1.txt" ] || return 0
  env -u LD_LIBRARY_PATH python3 -c '
import json, sys
for line in open(sys.argv[1]):
    if not line.startswith("{"): continue
    r = json.loads(line)
    if r.get("status") != "ok":
        print("  %s %s %s: %s %s" % (r.get("command"), r.get("backend"), r.get("method"), r.get("status"), r.get("reason")))
        continue
    f = lambda k, fmt="%.4g": "-" if r.get(k) is None else fmt % r[k]
    print("  %s %-6s %-10s %-9s acc %s  A_R %s -> %s  E_F %s -> %s  sign %s  %s s [%s, %s] device %s ms  batch %s" % (
        r.get("command"), r.get("backend"), str(r.get("scale_model", r.get("model")))[:10], r.get("method"),
        f("test_acc"), f("A_R_before"), f("A_R"), f("E_F_before"), f("E_F"), f("sign", "%+d"),
        f("forget_s"), f("forget_s_min"), f("forget_s_max"), f("forget_device_ms"), f("batch", "%s")))
' "$logs/$1.txt" 2>&1 | note
}

log "machine: $(uname -m), $(nproc) cores; tree $commit$(git describe --always --dirty 2>/dev/null | sed 's/^/, git /')"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap \
  --format=csv,noheader 2>&1 | note

# ---- the bundle: Debian's packages unpacked under /tmp, never over / ----
data=()
bundle=.gpu-bundle prefix=/tmp/mb-gpu-prefix
if [ -d "$bundle/debs" ]; then
  rm -rf "$prefix" && mkdir -p "$prefix"
  for d in "$bundle"/debs/*.deb; do
    if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$d" "$prefix"
    else ar p "$d" data.tar.xz | tar xJ -C "$prefix"; fi || log "could not unpack $d"
  done
  lib="$prefix/usr/lib/x86_64-linux-gnu"
  # absolute links (zlib1g-dev's libz.so -> /lib/...) point into the prefix
  find "$prefix" -type l -lname '/*' | while read -r l; do ln -sfn "$prefix$(readlink "$l")" "$l"; done
  # the .pc files name /usr; make them name the prefix
  sed -i "s|^prefix=/usr\$|prefix=$prefix/usr|" "$lib"/pkgconfig/*.pc "$prefix"/usr/share/pkgconfig/*.pc
  export PKG_CONFIG_PATH="$lib/pkgconfig:$prefix/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  export PATH="$PATH:$prefix/usr/bin"
  export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  [ -d "$prefix/usr/share/vulkan/explicit_layer.d" ] &&
    export VK_LAYER_PATH="$prefix/usr/share/vulkan/explicit_layer.d"
  log "bundle: $(ls "$bundle"/debs | wc -l) packages unpacked in $prefix"
  [ -d "$bundle/fashion-mnist" ] && data=(--data "$bundle/fashion-mnist")
else
  log "no $bundle/ (tools/gpu-bundle.sh makes it): building with what this machine has"
  [ -d data/fashion-mnist ] && data=(--data data/fashion-mnist)
fi
log "data: ${data[*]:-the built-in synthetic set}"

# ---- the NVIDIA drivers behind the Vulkan and OpenCL loaders ----
nv=/usr/local/nvidia
[ -d "$nv/lib64" ] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$nv/lib64"
icd=$(ls "$nv"/share/vulkan/icd.d/nvidia*.json /usr/share/vulkan/icd.d/nvidia*.json \
         /etc/vulkan/icd.d/nvidia*.json 2>/dev/null | head -1)
if [ -n "$icd" ]; then
  export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"
  log "Vulkan driver: $icd ($(grep -o '"library_path"[^,]*' "$icd"))"
else
  log "Vulkan driver: no nvidia*.json ICD file found"
fi
if ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1; then
  log "OpenCL drivers: $(cat /etc/OpenCL/vendors/*.icd | tr '\n' ' ')"
else
  cl=$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so\.1 /{print $NF; exit}')
  [ -z "$cl" ] && cl=$(ls "$nv"/lib64/libnvidia-opencl.so.1 2>/dev/null | head -1)
  if [ -n "$cl" ]; then
    mkdir -p "$logs/icd" && echo "$cl" >"$logs/icd/nvidia.icd"
    export OCL_ICD_VENDORS="$logs/icd"
    log "OpenCL driver: $cl (an ICD file written for it)"
  else
    log "OpenCL driver: no libnvidia-opencl.so.1 found"
  fi
fi
pack

# ---- build ----
[ -x /usr/local/cuda/bin/nvcc ] && export PATH="/usr/local/cuda/bin:$PATH"
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.')
arch="${arch:-90}"
setup=(setup)
[ -d build-gpu ] && setup=(setup --reconfigure)
step meson-setup 120 meson "${setup[@]}" build-gpu --buildtype=release -Dcuda=enabled -Dnvcc_arch="$arch" \
  -Dvulkan=auto -Dopencl=auto -Dtests=disabled -Dcommit="$commit" || { log "meson setup failed"; exit 1; }
grep -E '^\s+(CUDA|Vulkan|OpenCL|cpu|gzip)|^Library cudnn' "$logs/meson-setup.txt" | note
step build 300 ninja -C build-gpu || { tail -20 "$logs/build.txt" | note; log "build failed"; exit 1; }
B=./build-gpu/harness/mnemobench
gpu_backends=()
step devices 60 $B devices
note <"$logs/devices.txt"
for b in cuda vulkan opencl; do
  grep -qE "^  $b +0 " "$logs/devices.txt" && gpu_backends+=("$b")
done
log "GPU APIs with a device: ${gpu_backends[*]:-none}"
has() { [[ " ${gpu_backends[*]} " == *" $1 "* ]]; }
summ() { [ -f "$logs/$1.txt" ] && grep -A4 '^summary' "$logs/$1.txt" | note; }

# ---- the checks, most important first ----
has cuda && { step agree-cuda 120 $B agree --backend cuda; summ agree-cuda; }
if has cuda && nvcc -O2 --fmad=false -gencode "arch=compute_$arch,code=sm_$arch" -Iinclude -Ikernels/cuda \
    -Ikernels/common -o build-gpu/cuda-kernel-check tools/cuda-kernel-check.cu kernels/cuda/norm.cu \
    kernels/cuda/forget.cu kernels/cuda/eltwise.cu kernels/cuda/reduce.cu kernels/cuda/rng.cu \
    kernels/cuda/loss.cu >"$logs/kernel-check-build.txt" 2>&1; then
  step kernel-check 90 ./build-gpu/cuda-kernel-check
  grep -E '^(FAIL|bn bench|gelu|PASS|device)' "$logs/kernel-check.txt" | note
elif has cuda; then
  log "kernel check build failed (kernel-check-build.txt)"
fi
for b in "${gpu_backends[@]}"; do
  step "bench-train-$b" 90 $B bench-train --backend "$b" && grep -E 'sgemm 1024|train|forget' "$logs/bench-train-$b.txt" | note
done
# the Vulkan runs under the validation layer's core and synchronisation checks where it loads
vkval=()
if has vulkan && MB_VK_VALIDATION=sync timeout 60 $B agree --backend vulkan --filter mem/copy_1 \
     >"$logs/vk-validation-probe.txt" 2>&1; then
  vkval=(MB_VK_VALIDATION=sync)
  log "vulkan: agreement runs under MB_VK_VALIDATION=sync"
elif has vulkan; then
  log "vulkan: no validation layer here: $(grep -m1 -iE 'valid|layer|error' "$logs/vk-validation-probe.txt" | cut -c1-200)"
fi
for b in vulkan opencl; do
  ev=(); [ "$b" = vulkan ] && ev=("${vkval[@]}")
  has $b && { step "agree-$b" 150 env "${ev[@]}" $B agree --backend $b; summ "agree-$b"; }
done
quickstart() {  # quickstart NAME BACKEND ARGS...
  local name="$1" b="$2"; shift 2
  step "$name" 150 $B quickstart --backend "$b" "${data[@]}" --json "$@"
  rows "$name"
}
has cuda && quickstart quickstart-cuda cuda
has cuda && { step bench-scale-cuda 240 $B bench-scale --backend cuda --repeats 3 "${scale_args[@]}" --json;
              rows bench-scale-cuda; }
for b in vulkan opencl; do has $b && quickstart "quickstart-$b" $b; done
for b in "${gpu_backends[@]}"; do
  step "bench-train-resnet18-$b" 120 $B bench-train --model resnet18 --backend "$b" \
    && grep -E 'train|forget' "$logs/bench-train-resnet18-$b.txt" | note
done
if has vulkan; then
  for design in coopmat subgroup tiled; do
    step "agree-vulkan-gemm-$design" 60 env "${vkval[@]}" MB_VK_GEMM=$design $B agree --backend vulkan --filter gemm
    summ "agree-vulkan-gemm-$design"
  done
fi
# the compositions the optional ops replace, against ref, and the forgetting time through them
for b in "${gpu_backends[@]}"; do
  fams=(forget_update); [ "$b" = cuda ] && fams=(forget_update conv2d gemm_sq_acc)
  for fam in "${fams[@]}"; do
    step "agree-$b-generic-$fam" 60 env MB_ENGINE=generic $B agree --backend "$b" --filter "$fam/"
    summ "agree-$b-generic-$fam"
  done
  step "bench-train-$b-generic" 60 env MB_ENGINE=generic $B bench-train --backend "$b" \
    && grep -E 'forget' "$logs/bench-train-$b-generic.txt" | note
done
if has cuda; then
  quickstart quickstart-resnet18-cuda cuda --model resnet18 --train-limit 300 --test-limit 100 --epochs 5 --batch 32
fi
for b in vulkan opencl; do
  has $b && { step "bench-scale-quick-$b" 150 $B bench-scale --backend $b --quick --repeats 3 --model resnet18 --json;
              rows "bench-scale-quick-$b"; }
done
tuner=./build-gpu/backends/opencl/mnemobench-clblast-tune
if has opencl && [ -x $tuner ]; then
  step clblast-tune 150 $tuner --seconds 60 --out "$logs/clblast.tune" && [ -f "$logs/clblast.tune" ] \
    && step bench-train-opencl-tuned 60 env MB_CLBLAST_TUNING="$logs/clblast.tune" $B bench-train --backend opencl \
    && grep -E 'sgemm|train|forget' "$logs/bench-train-opencl-tuned.txt" | note
fi
log "done in $((SECONDS - t0)) s of the $budget s budget"
pack
