#!/bin/bash
# Injected faults (MB_FAULT, util/fault.h) in quickstart-sized runs of train,
# forget, bench and report: every device allocation, op, file write or fsync
# that fails must end the run with the fault named on one line and a non-zero
# exit -- never a signal or a hang -- and leave no partial checkpoint or report,
# no temporary file, and a results file that still parses with its earlier rows
# intact.  The events of each run are counted first (MB_FAULT=count); each kind
# is swept over all its N when the run has at most MAX events of it, else over
# MAX evenly spaced N from the first to the last (deterministic).  MAX is
# FAULTS_MAX (default 8) on cpu and FAULTS_GPU_MAX (default 2, at least 2) on
# the GPU-API backend, halved for bench; the report sweeps all its N.
# FAULTS_MAX=100000 sweeps every event (1550 faults on cpu, ~30 min).
# Usage: faults.sh MNEMOBENCH [GPU_BACKEND]   (FAULTS_MAX, FAULTS_GPU_MAX: sample sizes)
set -u
bin=$(readlink -f "$1")
gpu=${2:-vulkan}
cpu_max=${FAULTS_MAX:-8}
gpu_max=${FAULTS_GPU_MAX:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fail=0
t=0
say() { printf '%s\n' "$*"; }
begin() { desc=$*; cur=0; }
# faulted runs are in a subshell: bad() leaves a mark that end() reads
bad() { say "# FAIL: $*"; cur=1; fail=1; : > "$tmp/bad"; }
end() { t=$((t + 1)); if [ "$cur" -eq 0 ] && [ ! -f "$tmp/bad" ]; then say "ok $t - $desc"; else fail=1; say "not ok $t - $desc"; fi; rm -f "$tmp/bad"; }
skip() { t=$((t + 1)); say "ok $t - $desc # SKIP $*"; }

small='--synthetic --train-limit 10 --test-limit 5 --epochs 1 --arch 784-8-10 --batch 50'
spec() {   # spec BACKEND NAME LAMBDAS
  printf '[bench]\nname = %s\ndata = synthetic\ntrain_per_class = 10\ntest_per_class = 5\n' "$2"
  printf 'model = 784-8-10\nepochs = 1\nrepeats = 1\nwarmup = 0\ntrain_backend = %s\n' "$1"
  printf '[experiment lam]\nkind = lambda\nbackends = %s\nparam.mnemonic.lambda1 = %s\n' "$1" "$3"
}
no_temps() { # no temporary file of an atomic writer anywhere under the run's folder
  local left
  left=$(find "$tmp/run" -name '*.tmp.*' 2>/dev/null)
  [ -z "$left" ] || bad "$1: temporary files left: $left"
}
# the points of a sweep: all of 1..T when T <= MAX, else MAX evenly spaced ones from 1 to T
points() {
  local total=$1 max=$2
  [ "$max" -ge 2 ] || max=2
  if [ "$total" -le "$max" ]; then seq 1 "$total"; return; fi
  awk -v T="$total" -v K="$max" 'BEGIN { for (i = 0; i < K; i++) print 1 + int(i * (T - 1) / (K - 1)) }' | uniq
}
counts() {   # counts CMD...: the event counts of an unfaulted run, as "alloc op write fsync"
  MB_FAULT=count "$@" > /dev/null 2> "$tmp/count.err" || { say "# counting run failed: $(tail -n 3 "$tmp/count.err")"; return 1; }
  sed -n 's/.*MB_FAULT events: alloc=\([0-9]*\) op=\([0-9]*\) write=\([0-9]*\) fsync=\([0-9]*\).*/\1 \2 \3 \4/p' "$tmp/count.err"
}
# one faulted run: checks its exit and its error line
faulted() {   # faulted SPEC CMD...
  local f=$1; shift
  echo >> "$tmp/injected"
  MB_FAULT=$f timeout 120 "$@" > "$tmp/out" 2> "$tmp/err"
  local rc=$?
  if [ $rc -eq 124 ]; then bad "MB_FAULT=$f: hung (killed after 120 s)"; return; fi
  if [ $rc -ge 128 ]; then bad "MB_FAULT=$f: killed by a signal (status $rc): $(tail -n 3 "$tmp/err")"; return; fi
  if [ $rc -eq 0 ]; then bad "MB_FAULT=$f: exit 0 (the fault went unnoticed)"; return; fi
  local named
  named=$(grep -c 'injected: MB_FAULT\|Input/output error' "$tmp/err")
  [ "$named" -eq 1 ] || bad "MB_FAULT=$f: the fault is named on $named lines: $(cat "$tmp/err")"
  grep -qi 'sanitizer\|assert' "$tmp/err" && bad "MB_FAULT=$f: $(cat "$tmp/err")"
  return 0
}
sweep() {   # sweep WHAT MAX SETUP CHECK CMD...: every kind, its points
  local what=$1 max=$2 setup=$3 check=$4; shift 4
  local c k i n
  rm -rf "$tmp/run"; mkdir -p "$tmp/run"; $setup
  c=$(cd "$tmp/run" && counts "$@") || { bad "$what: the unfaulted run fails"; return; }
  say "# $what: events alloc op write fsync = $c"
  i=0
  for k in alloc op write fsync; do
    i=$((i + 1))
    total=$(echo "$c" | cut -d' ' -f$i)
    [ "$total" -gt 0 ] || continue
    for n in $(points "$total" "$max"); do
      rm -rf "$tmp/run"; mkdir -p "$tmp/run"; $setup
      (cd "$tmp/run" && faulted "$k:$n" "$@")
      $check "$k:$n"
    done
  done
}

# reference files: a checkpoint, a results file with rows, a report
"$bin" train --backend cpu $small --seed 7 --out "$tmp/old.ckpt" > /dev/null 2>&1 || { say "Bail out! train fails"; exit 1; }
"$bin" train --backend cpu $small --seed 1 --out "$tmp/base.ckpt" > /dev/null 2>&1 || { say "Bail out! train fails"; exit 1; }
spec cpu before 1e-4 > "$tmp/before.spec"
"$bin" bench "$tmp/before.spec" --results "$tmp/before.jsonl" --cache "$tmp/cache0" > /dev/null 2>&1 ||
  { say "Bail out! bench fails"; exit 1; }
"$bin" report "$tmp/before.jsonl" --out "$tmp/old-report" > /dev/null 2>&1 || { say "Bail out! report fails"; exit 1; }

# --- train: the checkpoint at --out is the old one, whole
setup_train() { cp "$tmp/old.ckpt" "$tmp/run/m.ckpt"; }
check_train() { cmp -s "$tmp/old.ckpt" "$tmp/run/m.ckpt" || bad "MB_FAULT=$1: m.ckpt changed"; no_temps "MB_FAULT=$1"; }
# --- forget: the same for its --out, and the model it read is untouched
setup_forget() { cp "$tmp/base.ckpt" "$tmp/run/base.ckpt"; cp "$tmp/old.ckpt" "$tmp/run/f.ckpt"; }
check_forget() {
  cmp -s "$tmp/old.ckpt" "$tmp/run/f.ckpt" || bad "MB_FAULT=$1: f.ckpt changed"
  cmp -s "$tmp/base.ckpt" "$tmp/run/base.ckpt" || bad "MB_FAULT=$1: the model read changed"
  no_temps "MB_FAULT=$1"
}
# --- bench: the results file keeps its rows and parses; no torn checkpoint in the cache
setup_bench() { cp "$tmp/before.jsonl" "$tmp/run/r.jsonl"; }
check_bench() {
  local n
  n=$(wc -c < "$tmp/before.jsonl")
  head -c "$n" "$tmp/run/r.jsonl" | cmp -s - "$tmp/before.jsonl" || bad "MB_FAULT=$1: the earlier rows changed"
  "$bin" report "$tmp/run/r.jsonl" > /dev/null 2> "$tmp/report.err" || bad "MB_FAULT=$1: report fails on the results"
  grep -q corrupt "$tmp/report.err" && bad "MB_FAULT=$1: $(cat "$tmp/report.err")"
  no_temps "MB_FAULT=$1"
  for ck in $(find "$tmp/run/cache" -name '*.ckpt' 2>/dev/null); do
    "$bin" eval --backend ref --model "$ck" --test-limit 1 > /dev/null 2>&1 || bad "MB_FAULT=$1: torn $ck"
  done
}
# --- report: the folder holds the earlier report, every file as it was, nothing more
setup_report() { cp -r "$tmp/old-report" "$tmp/run/rep"; }
check_report() {
  diff -r "$tmp/old-report" "$tmp/run/rep" > /dev/null || bad "MB_FAULT=$1: the report folder changed"
  no_temps "MB_FAULT=$1"
}

for be in cpu "$gpu"; do
  max=$cpu_max; [ "$be" = cpu ] || max=$gpu_max
  if [ "$be" != cpu ]; then
    why=$("$bin" devices --json 2>/dev/null | grep "\"backend\": \"$be\"" | grep -v '"status": "available"')
    if [ -n "$why" ]; then
      for w in train forget bench; do begin "$w on $be: every injected fault ends cleanly"; skip "$be unavailable: $why"; done
      continue
    fi
  fi
  spec "$be" faults 1e-3,1e-2 > "$tmp/faults-$be.spec"
  begin "train on $be: every injected fault ends cleanly"
  sweep "train on $be" "$max" setup_train check_train "$bin" train --backend "$be" $small --out m.ckpt
  end
  begin "forget on $be: every injected fault ends cleanly"
  sweep "forget on $be" "$max" setup_forget check_forget "$bin" forget --backend "$be" --model base.ckpt \
    --classes 0 --test-limit 5 --out f.ckpt
  end
  begin "bench on $be: every injected fault ends cleanly"
  sweep "bench on $be" $(( (max + 1) / 2 )) setup_bench check_bench "$bin" bench "$tmp/faults-$be.spec" \
    --results r.jsonl --cache cache
  end
done
begin "report: every injected write or fsync fault ends cleanly"
sweep report 1000 setup_report check_report "$bin" report "$tmp/before.jsonl" "$tmp/before.jsonl" --out rep
end
say "# $(wc -l < "$tmp/injected") faults injected"
say "1..$t"
exit $fail
