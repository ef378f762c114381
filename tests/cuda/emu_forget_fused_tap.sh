#!/usr/bin/env bash
# The fused forgetting update of the CUDA backend against its own op chain, bit for bit
# (tests/unit/test_forget_fused.c, forget_fused::cuda), with the backend built for the host
# by tools/cuda-emu/module.sh: the same check a GPU would run, without one.  A skip counts
# as a failure here (the emulated module must open).  Usage: SRCDIR TEST_PROGRAM
set -uo pipefail
root="$1" prog="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "1..1"
if ! out=$(bash "$root/tools/cuda-emu/module.sh" "$work/modules" 2>&1); then
  echo "not ok 1 - cuda (emulated) forget_fused: the module did not build"
  tail -5 <<<"$out" | sed 's/^/# /'
  exit 0
fi
out=$(MB_BACKEND_DIR="$work/modules" MB_PROBE_TIMEOUT=0 "$prog" --filter 'forget_fused/cuda' 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q 'Tested: 1 | Passing: 1' <<<"$out" && ! grep -qi 'skip' <<<"$out"; then
  echo "ok 1 - cuda (emulated) forget_fused: fused update equals the op chain bit for bit"
else
  echo "not ok 1 - cuda (emulated) forget_fused (exit $rc)"
  tail -8 <<<"$out" | sed 's/^/# /'
fi
