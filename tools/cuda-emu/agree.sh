#!/usr/bin/env bash
# The whole CUDA backend without a GPU, built for the host by tools/cuda-emu/module.sh
# as a cuda module in a private folder; then `mnemobench agree --backend cuda` against the ref oracle with that module, once
# per FILTER (an agree --filter substring; none: every case, about 3.5 min on one core).
# Needs a build (build/) and the CUDA toolkit's headers
# (no driver).  Usage: bash tools/cuda-emu/agree.sh [FILTER...]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${MB_BIN:-$root/build/harness/mnemobench}"   # MB_BIN: another build's program
[ -x "$bin" ] || { echo "cuda-emu agree: no build at $bin (bash tools/build.sh)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bash "$root/tools/cuda-emu/module.sh" "$work/modules"
export MB_BACKEND_DIR="$work/modules" MB_BACKENDS=cuda MB_PROBE_TIMEOUT=0
[ $# -gt 0 ] || set -- ""
rc=0
for f in "$@"; do
  if [ -n "$f" ]; then "$bin" agree --backend cuda --filter "$f" || rc=1
  else "$bin" agree --backend cuda || rc=1; fi
done
exit $rc
