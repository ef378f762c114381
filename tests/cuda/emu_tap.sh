#!/usr/bin/env bash
# The CUDA kernels' logic on the host, without a GPU (tools/cuda-emu/run.sh: the kernels
# compiled as C++, each CUDA thread a fiber), as TAP: each check the emulation prints is
# one test, then its exit status.  ~20 s.  Usage: emu_tap.sh SRCDIR
set -uo pipefail
root="$1"
out=$(bash "$root/tools/cuda-emu/run.sh" 2>&1)
rc=$?
lines=$(grep -E '^(bn |ln |softmax |gelu |ok +forget|ok +emu:|FAIL)' <<<"$out")
n=$(grep -c . <<<"$lines")
echo "1..$((n + 1))"
i=0
while IFS= read -r l; do
  [ -n "$l" ] || continue
  i=$((i + 1))
  case "$l" in
    FAIL*) echo "not ok $i - $l" ;;
    *) echo "ok $i - $l" ;;
  esac
done <<<"$lines"
if [ "$rc" -eq 0 ]; then
  echo "ok $((n + 1)) - the emulation exits 0 ($(tail -1 <<<"$out"))"
else
  echo "not ok $((n + 1)) - the emulation exits $rc"
  tail -20 <<<"$out" | sed 's/^/# /'
fi
