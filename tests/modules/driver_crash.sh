#!/bin/sh
# A GPU driver that crashes or hangs while the program discovers devices must
# cost only its own backend: each GPU API module is probed in a child process
# first (backends/registry.c).  A fake OpenCL ICD (OCL_ICD_VENDORS) and a fake
# Vulkan driver (VK_ICD_FILENAMES / VK_DRIVER_FILES) whose discovery entry points
# abort, segfault or hang are installed; `devices` must list the other backends
# and exit 0, and a run on the broken backend must fail with one line.
# Usage: driver_crash.sh MNEMOBENCH FAKE_DRIVER_SO
set -u
bin=$1
lib=$(readlink -f "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$(realpath "$0")")/../tap.sh"   # t, fail, say, begin, bad, end
skip() { t=$((t + 1)); say "ok $t - $desc # SKIP $*"; }

mkdir -p "$tmp/icd"
echo "$lib" > "$tmp/icd/fake.icd"
cat > "$tmp/fake_vk.json" <<JSON
{ "file_format_version": "1.0.0", "ICD": { "library_path": "$lib", "api_version": "1.3.0" } }
JSON
fake() {   # fake MODE CMD...: runs CMD with both fake drivers in MODE
  mode=$1; shift
  FAKE_DRIVER_MODE=$mode OCL_ICD_VENDORS=$tmp/icd \
    VK_ICD_FILENAMES=$tmp/fake_vk.json VK_DRIVER_FILES=$tmp/fake_vk.json "$@"
}
"$bin" devices --json > "$tmp/plain.jsonl" 2>&1 || bad "devices fails without the fake drivers"
built() { ! grep "\"backend\": \"$1\"" "$tmp/plain.jsonl" | grep -q 'not built'; }
row() { grep "\"backend\": \"$1\"" "$2"; }

for mode in abort segv; do
  sig=6; [ $mode = segv ] && sig=11
  begin "drivers that $mode in discovery: devices exits 0, lists the others, names the signal"
  fake $mode "$bin" devices --json > "$tmp/$mode.jsonl" 2> "$tmp/$mode.err"
  rc=$?
  [ $rc -eq 0 ] || bad "devices exited $rc: $(cat "$tmp/$mode.err")"
  for be in opencl vulkan; do
    built $be || continue
    case $(row $be "$tmp/$mode.jsonl") in
      *'"status": "unavailable"'*"driver crashed during discovery (signal $sig"*) ;;
      *) bad "$be: $(row $be "$tmp/$mode.jsonl")" ;;
    esac
  done
  row ref "$tmp/$mode.jsonl" | grep -q '"status": "available"' || bad "ref missing"
  if built cpu; then row cpu "$tmp/$mode.jsonl" | grep -q '"status": "available"' || bad "cpu missing"; fi
  end
done

for be in opencl vulkan; do
  begin "--backend $be with its driver aborting: one line, non-zero exit, no crash"
  if ! built $be; then skip "$be not built"; continue; fi
  fake abort "$bin" train --backend $be --synthetic --epochs 1 --train-limit 10 --test-limit 5 \
    --out "$tmp/m.ckpt" > "$tmp/run.out" 2> "$tmp/run.err"
  rc=$?
  if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then bad "exit status $rc"; fi
  [ "$(wc -l < "$tmp/run.err")" -eq 1 ] || bad "stderr is not one line: $(cat "$tmp/run.err")"
  grep -q "backend $be unavailable: driver crashed during discovery (signal 6" "$tmp/run.err" ||
    bad "no reason: $(cat "$tmp/run.err")"
  [ ! -e "$tmp/m.ckpt" ] || bad "a checkpoint was written"
  end
done

begin "a driver that hangs in discovery: timed out after MB_PROBE_TIMEOUT, the others listed"
start=$(date +%s)
MB_PROBE_TIMEOUT=1 fake hang "$bin" devices --json > "$tmp/hang.jsonl" 2> "$tmp/hang.err"
rc=$?
took=$(( $(date +%s) - start ))
[ $rc -eq 0 ] || bad "devices exited $rc"
[ $took -le 10 ] || bad "took $took s"
for be in opencl vulkan; do
  built $be || continue
  row $be "$tmp/hang.jsonl" | grep -q 'timed out after 1 s' || bad "$be: $(row $be "$tmp/hang.jsonl")"
done
row ref "$tmp/hang.jsonl" | grep -q '"status": "available"' || bad "ref missing"
end

begin "a driver that exits the process in discovery: the others listed"
fake exit "$bin" devices --json > "$tmp/exit.jsonl" 2> "$tmp/exit.err" || bad "devices exited $?"
for be in opencl vulkan; do
  built $be || continue
  row $be "$tmp/exit.jsonl" | grep -q 'exited the process during discovery (status 3)' ||
    bad "$be: $(row $be "$tmp/exit.jsonl")"
done
end

begin "MB_PROBE_TIMEOUT=0 turns the probe off (then the crash is the process's)"
fake abort env MB_PROBE_TIMEOUT=0 "$bin" devices --json > /dev/null 2>&1
rc=$?
if built opencl || built vulkan; then [ $rc -ge 128 ] || bad "devices exited $rc without the probe"; fi
end

begin "with working drivers the probe changes nothing"
"$bin" devices --json > "$tmp/again.jsonl" 2>&1 || bad "devices failed"
MB_PROBE_TIMEOUT=0 "$bin" devices --json > "$tmp/noprobe.jsonl" 2>&1 || bad "devices failed without the probe"
a=$(sed 's/"mem_bytes": [0-9]*//' "$tmp/again.jsonl"); b=$(sed 's/"mem_bytes": [0-9]*//' "$tmp/noprobe.jsonl")
[ "$a" = "$b" ] || bad "with the probe: $a; without: $b"
end
say "1..$t"
exit $fail
