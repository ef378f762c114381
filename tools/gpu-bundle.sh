#!/usr/bin/env bash
# Gathers, on a Debian 12 machine, what tools/gpu-check.sh needs to build and run the Vulkan and
# OpenCL backends beside CUDA on a GPU machine that has the CUDA toolkit but none of Debian's
# packages and no network: the .deb files of the Vulkan and OpenCL loaders and headers, CLBlast,
# glslangValidator, the Vulkan validation layer, pkg-config and zlib, plus Fashion-MNIST's IDX
# files, into .gpu-bundle/ (ignored by git, about 40 MB).  Copy or carry that folder with the checkout; gpu-check.sh
# unpacks the packages under /tmp (never over /) and points the build and the loaders at them.
#   bash tools/gpu-bundle.sh [DIR]        (default .gpu-bundle)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-.gpu-bundle}"
# glvnd: the NVIDIA Vulkan driver (libGLX_nvidia) needs libGLdispatch at load; the validation
# layer checks the Vulkan runs there (MB_VK_VALIDATION) where its libstdc++ needs are met
pkgs=(libvulkan1 libvulkan-dev glslang-tools vulkan-validationlayers
      ocl-icd-libopencl1 ocl-icd-opencl-dev opencl-c-headers opencl-clhpp-headers
      libclblast1 libclblast-dev
      pkgconf pkgconf-bin libpkgconf3 zlib1g zlib1g-dev libglvnd0)
data_src=/usr/share/datasets/fashion-mnist

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/debs"
if ! (cd "$dir.tmp/debs" && apt-get download "${pkgs[@]}" >/dev/null 2>&1); then
  apt-get update >/dev/null
  (cd "$dir.tmp/debs" && apt-get download "${pkgs[@]}" >/dev/null) \
    || { echo "gpu-bundle: apt-get download failed (is this Debian 12?)" >&2; exit 1; }
fi
# plain names (no version, epoch '%3a' or '~')
for f in "$dir.tmp"/debs/*.deb; do mv "$f" "$dir.tmp/debs/$(basename "$f" | cut -d_ -f1).deb"; done
if [ -f "$data_src/train-images-idx3-ubyte.gz" ]; then
  mkdir -p "$dir.tmp/fashion-mnist"
  cp "$data_src"/*-ubyte.gz "$dir.tmp/fashion-mnist/"
else
  echo "gpu-bundle: $data_src not found (apt-get install dataset-fashion-mnist); the GPU run will use the synthetic set" >&2
fi
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "gpu-bundle: $(ls "$dir/debs" | wc -l) packages$([ -d "$dir/fashion-mnist" ] && echo " and Fashion-MNIST") in $dir ($(du -sh "$dir" | cut -f1))"
