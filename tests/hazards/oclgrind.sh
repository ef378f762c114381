#!/bin/bash
# The OpenCL kernels under Oclgrind, a simulated OpenCL device that checks every
# work-item's accesses: data races between work-items (a missing barrier), and errors
# in the API calls.  pocl runs a work-group's items in an order that hides most races;
# a GPU does not.  The agreement suite's small cases and those whose outputs alias their
# inputs (the filters below: ~170 cases, every kernel family but CLBlast's GEMM, the
# fused forgetting update included) run on it against ref;
# a case must pass and Oclgrind must report nothing.  First, the checker is checked:
# race.cl, a kernel with a missing barrier, must be reported.  Skips when oclgrind
# is not installed (tools/setup-debian.sh installs it).
# Usage: oclgrind.sh MNEMOBENCH
set -u
bin=$1
here=$(dirname "$(realpath "$0")")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$here/../tap.sh"   # t, fail, say, begin, bad, end
filters="one_ odd special inplace softmax_xent/ optim/ mem/"

if ! command -v oclgrind >/dev/null || ! command -v oclgrind-kernel >/dev/null; then
  say "1..0 # SKIP oclgrind is not installed (apt-get install oclgrind)"
  exit 0
fi
# the program must reach Oclgrind's device through the OpenCL backend
if ! oclgrind "$bin" devices 2>&1 | grep -q "Oclgrind"; then
  say "1..0 # SKIP the opencl backend is not built, or does not see Oclgrind's device"
  exit 0
fi

begin "oclgrind --data-races reports the race of race.cl (a missing barrier)"
(cd "$here" && oclgrind-kernel --data-races --log "$tmp/race.log" race.sim) > /dev/null 2>&1 ||
  bad "oclgrind-kernel race.sim failed: $(head -c 300 "$tmp/race.log" 2>/dev/null)"
grep -q "data race" "$tmp/race.log" 2>/dev/null || bad "no data race reported for race.cl"
end

for f in $filters; do
  begin "agree --backend opencl --filter $f under oclgrind: every case passes, no race, no API error"
  log="$tmp/${f%/}.log" out="$tmp/${f%/}.out"
  oclgrind --data-races --check-api --log "$log" \
    "$bin" agree --backend opencl --filter "$f" > "$out" 2>&1 ||
    bad "agree exits $?: $(grep -E 'FAIL' "$out" | head -3 | tr '\n' ' ')"
  grep -q "opencl   [1-9][0-9]* pass, 0 fail" "$out" || bad "no case passed: $(tail -2 "$out" | tr '\n' ' ')"
  grep -q "Oclgrind" "$out" || bad "the cases did not run on Oclgrind's device"
  if [ -s "$log" ]; then
    bad "oclgrind reported $(grep -cE 'data race|error|Error' "$log") problem(s):"
    head -12 "$log" | sed 's/^/#   /'
  fi
  end
done

say "1..$t"
exit $fail
