#!/usr/bin/env bash
# The CUDA backend (host code and kernels) built for the host by tools/cuda-emu/agree.sh
# and run by the agreement suite against ref, for the given case filters (none: every
# case), as TAP: one test per case.  Usage: emu_agree_tap.sh SRCDIR [FILTER...]
# (MB_BIN: the program)
set -uo pipefail
root="$1"
shift
out=$(bash "$root/tools/cuda-emu/agree.sh" "$@" 2>&1)
rc=$?
cases=$(grep -E '^  [a-z_0-9]+/\S+ +(PASS|FAIL|SKIP)' <<<"$out")
n=$(grep -c . <<<"$cases")
echo "1..$((n + 1))"
i=0
while read -r id verdict rest; do
  [ -n "$id" ] || continue
  i=$((i + 1))
  case "$verdict" in
    PASS) echo "ok $i - cuda (emulated) $id $rest" ;;
    SKIP) echo "ok $i - cuda (emulated) $id # SKIP $rest" ;;
    *) echo "not ok $i - cuda (emulated) $id $verdict $rest" ;;
  esac
done <<<"$cases"
if [ "$rc" -eq 0 ] && [ "$n" -gt 0 ]; then
  echo "ok $((n + 1)) - agree exits 0 for every filter"
else
  echo "not ok $((n + 1)) - agree (or the emulated build) exits $rc after $n cases"
  tail -20 <<<"$out" | sed 's/^/# /'
fi
