#!/usr/bin/env bash
# Installs what mnemobench needs on Debian 12 (as root, or through sudo).
# CUDA is optional: the CUDA backend is built when nvcc is found (/usr/local/cuda).
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc python3 git
      libopenblas-dev libopenblas-openmp-dev libdnnl-dev zlib1g-dev libcriterion-dev
      ocl-icd-opencl-dev opencl-headers pocl-opencl-icd libclblast-dev clinfo
      oclgrind                              # the OpenCL kernels' race checks (tests/hazards)
      libvulkan-dev mesa-vulkan-drivers vulkan-tools vulkan-validationlayers glslang-tools
      dataset-fashion-mnist chromium
      slurmctld slurmd slurm-client munge   # the one-node test cluster (tools/slurm-cluster.sh)
      clang libclang-rt-14-dev)             # the fuzz targets (tests/fuzz): clang's libFuzzer
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  # another setup (a second checkout, a helper) may hold the dpkg lock: wait for it
  $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# nvcc is on PATH only in login shells; meson looks for it on PATH.
if [ -x /usr/local/cuda/bin/nvcc ] && ! command -v nvcc >/dev/null; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
echo "setup: ok"
