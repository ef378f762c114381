#!/usr/bin/env bash
# Fresh Debian 12 → the main job: set up, build, and run the quickstart
# (the paper's MLP with mnemonic codes on Fashion-MNIST; forget class 0).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-debian.sh
bash tools/build.sh
export POCL_CACHE_DIR="$PWD/build/pocl-cache" MESA_SHADER_CACHE_DIR="$PWD/build/mesa-cache"
./build/harness/mnemobench devices
./build/harness/mnemobench quickstart "$@"
