#!/usr/bin/env bash
# Configures and builds into ./build (pass extra meson options as arguments).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/local/cuda/bin/nvcc ] && export PATH="/usr/local/cuda/bin:$PATH"
if [ -d build ]; then
  meson configure build "$@" >/dev/null
else
  meson setup build --buildtype=release "$@" >/dev/null
fi
ninja -C build >/dev/null
