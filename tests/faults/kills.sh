#!/bin/bash
# SIGKILL at chosen points, then resume: `train` killed while it writes its
# checkpoint, `bench` while it writes a row and while it trains its model,
# `report` while it writes its files.  The points are events of the run
# (MB_FAULT=KIND:N:kill, util/fault.h: the process kills itself with SIGKILL at
# the N-th file write -- after writing half of it -- or fsync or device op), drawn
# from KILLS_SEED over the events an unkilled run has.  After each kill: no torn
# checkpoint or report under its name (the old one or none), and the resumed run
# gives what an uninterrupted run gives:
#   train:  the checkpoint, byte for byte;
#   bench:  every cell exactly once as a valid row, each row equal to the
#           uninterrupted run's except the timing fields (time, *_s, *_s_*, *_ms,
#           *_ms_*, device_host_ratio, timer_disagree), at most one corrupt line
#           (the row torn by the kill, kept and skipped by design), and the
#           report folder built from the results byte-identical to the
#           uninterrupted run's once its summary's count of corrupt lines skipped
#           (0 or 1) is set to 0;
#   report: the folder byte-identical to the uninterrupted run's;
# and no temporary file is left after the resume.
# Usage: kills.sh MNEMOBENCH   (KILLS_SEED, KILLS_N: kills per scenario, default 20)
set -u
. "$(dirname "$(realpath "$0")")/../tap.sh"   # t, fail, say, begin, bad, end
bin=$(readlink -f "$1")
seed=${KILLS_SEED:-20231}
nk=${KILLS_N:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
export MB_THREADS=${MB_THREADS:-2}
kills=0

# draws SALT COUNT LO HI: COUNT numbers in [LO, HI] from the seed
draws() { awk -v s="$seed" -v salt="$1" -v n="$2" -v lo="$3" -v hi="$4" \
  'BEGIN { srand(s * 7919 + salt); for (i = 0; i < n; i++) print lo + int(rand() * (hi - lo + 1)) }'; }
counts() {   # counts CMD...: "alloc op write fsync" of an unkilled run
  MB_FAULT=count "$@" > /dev/null 2> "$tmp/count.err" || return 1
  sed -n 's/.*MB_FAULT events: alloc=\([0-9]*\) op=\([0-9]*\) write=\([0-9]*\) fsync=\([0-9]*\).*/\1 \2 \3 \4/p' "$tmp/count.err"
}
field() { echo "$1" | cut -d' ' -f"$2"; }
# the point among W writes then F fsyncs: write:N:kill or fsync:N:kill
wpoint() { if [ "$1" -le "$2" ]; then echo "write:$1:kill"; else echo "fsync:$(($1 - $2)):kill"; fi; }
killed() {   # killed SPEC CMD...: runs CMD, which must die by SIGKILL at SPEC
  kills=$((kills + 1))
  # in a subshell: the shell's "Killed" notice goes to /dev/null
  (MB_FAULT=$1 timeout 120 "${@:2}" > /dev/null 2> "$tmp/kill.err"; exit $?) 2> /dev/null
  local rc=$?
  [ $rc -eq 137 ] || bad "MB_FAULT=$1: status $rc, not killed: $(tail -n 2 "$tmp/kill.err")"
}
temps_left() { find "$1" -name '*.tmp.*' 2>/dev/null; }
# the lines of a results file that are whole JSON objects (a torn row may still
# start with { and end with }, so they are parsed)
valid_rows() {
  python3 -c 'import json, sys
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        if isinstance(json.loads(line), dict): print(line, end="")
    except ValueError: pass' "$1"
}
# a row without its timing fields, for comparing runs
untimed() {
  valid_rows "$1" | sed -E 's/"time": "[^"]*", //; s/, "[a-z_]*(_s|_s_[a-z]+|_ms|_ms_[a-z]+|_ratio)": (\[[^]]*\]|[-0-9.e+]+|null)//g;
          s/, "timer_disagree": (true|false)//' | sort
}

small='--synthetic --train-limit 10 --test-limit 5 --epochs 1 --arch 784-8-10 --batch 50'
command -v python3 > /dev/null || { say "1..0 # SKIP python3 (to parse the results) not found"; exit 0; }
"$bin" train --backend cpu $small --seed 7 --out old.ckpt > /dev/null 2>&1 || { say "Bail out! train fails"; exit 1; }
"$bin" train --backend cpu $small --out ref.ckpt > /dev/null 2>&1 || { say "Bail out! train fails"; exit 1; }

# ---- train, killed while writing its checkpoint
begin "train killed $nk times while writing its checkpoint: old checkpoint or none, resume gives the same file"
c=$(counts "$bin" train --backend cpu $small --out c.ckpt)
w=$(field "$c" 3); f=$(field "$c" 4)
say "# train: $w writes and $f fsyncs of its checkpoint"
i=0
for n in $(draws 1 "$nk" 1 $((w + f))); do
  i=$((i + 1))
  rm -rf run; mkdir run
  [ $((i % 2)) -eq 0 ] && cp old.ckpt run/m.ckpt   # half with an older checkpoint there
  p=$(wpoint "$n" "$w")
  killed "$p" "$bin" train --backend cpu $small --out run/m.ckpt
  if [ $((i % 2)) -eq 0 ]; then cmp -s old.ckpt run/m.ckpt || bad "$p: the old checkpoint changed"
  else [ ! -e run/m.ckpt ] || bad "$p: a checkpoint appeared"; fi
  "$bin" train --backend cpu $small --out run/m.ckpt > /dev/null 2>&1 || bad "$p: the rerun fails"
  cmp -s ref.ckpt run/m.ckpt || bad "$p: the rerun's checkpoint differs from an uninterrupted run's"
  [ -z "$(temps_left run)" ] || bad "$p: left $(temps_left run)"
done
end

# ---- bench
cat > k.spec <<SPEC
[bench]
name = kills
data = synthetic
train_per_class = 10
test_per_class = 5
model = 784-8-10
epochs = 1
repeats = 1
warmup = 0
train_backend = cpu
[experiment lam]
kind = lambda
backends = cpu
param.mnemonic.lambda1 = 1e-4, 1e-3, 1e-2, 1e-1
SPEC
bench() { "$bin" bench "$tmp/k.spec" --results "$1" --cache "$2"; }
kbench() { killed "$1" "$bin" bench "$tmp/k.spec" --results "$2" --cache "$3"; }
mkdir ref
c_all=$(counts bench ref/r.jsonl ref/cache) || { say "Bail out! bench fails"; exit 1; }
"$bin" report ref/r.jsonl --out ref/rep > /dev/null 2>&1 || { say "Bail out! report fails"; exit 1; }
rm ref/r.jsonl
c_rows=$(counts bench ref/r.jsonl ref/cache)          # the model cached: the rows only
cells=$(grep -c . ref/r.jsonl)
say "# bench: $cells cells; events with training: $c_all; with the model cached: $c_rows"
check_bench() {   # check_bench WHAT: the resumed results against the uninterrupted run
  local rows
  valid_rows run/r.jsonl > run/valid.jsonl
  rows=$(grep -c . run/valid.jsonl)
  [ "$rows" -eq "$cells" ] || bad "$1: $rows whole rows for $cells cells"
  [ "$(grep -o '"cell": "[^"]*"' run/valid.jsonl | sort -u | wc -l)" -eq "$cells" ] || bad "$1: a cell lost or doubled"
  untimed run/r.jsonl > run/a.txt; untimed ref/r.jsonl > run/b.txt
  cmp -s run/a.txt run/b.txt || bad "$1: rows differ from the uninterrupted run's: $(diff run/a.txt run/b.txt | head -c 600)"
  "$bin" report run/r.jsonl --out run/rep > /dev/null 2>&1 || bad "$1: report fails"
  # a row torn by the kill stays in the file as one corrupt line (harness/results.c)
  # and the report's summary counts it: that count is the one difference allowed
  local torn
  torn=$(( $(grep -c . run/r.jsonl) - rows ))
  [ "$torn" -le 1 ] || bad "$1: $torn corrupt lines"
  sed -i "s/; $torn corrupt lines skipped/; 0 corrupt lines skipped/" run/rep/report.*
  diff -r ref/rep run/rep > /dev/null || bad "$1: the report differs: $(diff -r ref/rep run/rep | head -c 400)"
  [ -z "$(temps_left run)" ] || bad "$1: left $(temps_left run)"
}

begin "bench killed $nk times while writing a row: resumed, no cell lost or doubled, same rows and report"
wr=$(field "$c_rows" 3); fr=$(field "$c_rows" 4)
set -- $(draws 2 "$nk" 0 $((cells - 1)))   # rows already there before the killed run
for n in $(draws 3 "$nk" 1 $((wr + fr))); do
  k=$1; shift
  rm -rf run; mkdir run; cp -r ref/cache run/cache
  head -n "$k" ref/r.jsonl > run/r.jsonl
  # the killed run writes the remaining rows only: draw among them
  left=$((cells - k)); n=$(( (n - 1) % (2 * left) + 1 ))
  p=$(wpoint "$n" "$left")
  kbench "$p" run/r.jsonl run/cache
  bench run/r.jsonl run/cache > /dev/null 2>&1 || bad "$p after $k rows: the resumed bench fails"
  check_bench "$p after $k rows"
done
end

begin "bench killed $nk times while training its model: no torn checkpoint, resumed, same rows and report"
ops=$(( $(field "$c_all" 2) - $(field "$c_rows" 2) ))
say "# bench: the model's training is about $ops ops"
for n in $(draws 4 "$nk" 1 "$ops"); do
  rm -rf run; mkdir run
  p="op:$n:kill"
  kbench "$p" run/r.jsonl run/cache
  for ck in $(find run/cache -name '*.ckpt' 2>/dev/null); do
    "$bin" eval --backend ref --model "$ck" --test-limit 1 > /dev/null 2>&1 || bad "$p: torn $ck"
  done
  bench run/r.jsonl run/cache > /dev/null 2>&1 || bad "$p: the resumed bench fails"
  check_bench "$p"
done
end

# ---- report
begin "report killed $nk times while writing: the old report or none, rerun gives the same folder"
head -n 1 ref/r.jsonl > one.jsonl
"$bin" report one.jsonl --out old-rep > /dev/null 2>&1 || bad "report fails"
c=$(counts "$bin" report ref/r.jsonl --out cnt-rep)
w=$(field "$c" 3); f=$(field "$c" 4)
say "# report: $w writes, $f fsyncs"
i=0
for n in $(draws 5 "$nk" 1 $((w + f))); do
  i=$((i + 1))
  rm -rf run; mkdir run
  [ $((i % 2)) -eq 0 ] && cp -r old-rep run/rep
  p=$(wpoint "$n" "$w")
  killed "$p" "$bin" report ref/r.jsonl --out run/rep
  if [ $((i % 2)) -eq 0 ]; then
    diff -r -x '*.tmp.*' old-rep run/rep > /dev/null || bad "$p: the old report changed"
  else
    [ -z "$(ls run/rep 2>/dev/null | grep -v '\.tmp\.')" ] || bad "$p: report files appeared: $(ls run/rep)"
  fi
  "$bin" report ref/r.jsonl --out run/rep > /dev/null 2>&1 || bad "$p: the rerun fails"
  diff -r ref/rep run/rep > /dev/null || bad "$p: the rerun's report differs: $(diff -r ref/rep run/rep | head -c 300)"
  [ -z "$(temps_left run)" ] || bad "$p: left $(temps_left run)"
done
end
say "# $kills kills (seed $seed)"
say "1..$t"
exit $fail
