#!/usr/bin/env bash
# Cooperative writers: several `bench` processes on one spec, one results file
# and one model cache at once (harness/results.h): every cell exactly once, each
# model trained once, all exit 0; --shard I/N splits the plan; --stage train
# fills the cache only; a killed writer's cells are taken over.  A tiny
# synthetic spec on ref: a few seconds.
# Usage: writers.sh MNEMOBENCH
set -u
. "$(dirname "$(realpath "$0")")/../tap.sh"   # t, fail, say, begin, bad, end
bin=$(realpath "$1")
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

cat > tiny.spec <<'EOF'
[bench]
name = tiny
data = synthetic
train_per_class = 30
model = 784-8-10
epochs = 1
repeats = 1
warmup = 0
train_backend = ref
[experiment lam]
kind = lambda
backends = ref
seeds = 1, 2
param.mnemonic.lambda1 = 1e-6, 1e-5, 1e-4, 1e-3, 1e-2
EOF
n_cells=10
n_models=2

# check FILE EXPECTED_CELL_LIST: every row ok, each cell once, exactly the expected cells
check() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = set(open(sys.argv[2]).read().split())
cells = [r.get("cell") for r in rows]
bad = [r["cell"] + ": " + r["status"] for r in rows if r.get("status") != "ok"]
dup = sorted({c for c in cells if cells.count(c) > 1})
if bad: print("# rows not ok:", bad)
if dup: print("# cells twice:", dup)
if set(cells) != want: print("# cells", len(set(cells)), "expected", len(want), "missing", sorted(want - set(cells))[:3])
sys.exit(1 if bad or dup or set(cells) != want else 0)
EOF
}
"$bin" bench tiny.spec --list --results none.jsonl | awk '$1 == "todo" {print $2}' > all.txt

begin "two writers on one results file and one cache: each cell once, each model trained once, both exit 0"
"$bin" bench tiny.spec --results two.jsonl --cache c1 2> a.log &
pa=$!
"$bin" bench tiny.spec --results two.jsonl --cache c1 2> b.log
rb=$?
wait $pa; ra=$?
[ "$ra" -eq 0 ] && [ "$rb" -eq 0 ] || bad "exit codes $ra and $rb"
[ "$(wc -l < all.txt)" -eq $n_cells ] || bad "the plan has $(wc -l < all.txt) cells, expected $n_cells"
check two.jsonl all.txt || bad "the shared results file"
trained=$(cat a.log b.log | grep -c 'training 784-8-10')
[ "$trained" -eq $n_models ] || bad "$trained trainings for $n_models models"
[ "$(ls c1/*.ckpt | wc -l)" -eq $n_models ] || bad "cache: $(ls c1)"
ls c1 | grep -q tmp && bad "temporary files left in the cache: $(ls c1)"
ran=$(cat a.log b.log | sed -n 's/.*: \([0-9]*\) cell(s) run in.*/\1/p' | awk '{s += $1} END {print s}')
[ "$ran" = $n_cells ] || bad "the two writers ran $ran cells together"
end

begin "a rerun on the finished file writes nothing"
before=$(wc -l < two.jsonl)
"$bin" bench tiny.spec --results two.jsonl --cache c1 2> /dev/null || bad "rerun failed"
[ "$(wc -l < two.jsonl)" -eq "$before" ] || bad "rows added"
end

begin "--stage train fills the cache and writes no results; the run then trains nothing"
"$bin" bench tiny.spec --stage train --results st.jsonl --cache c2 2> st.log || bad "--stage train failed"
[ -e st.jsonl ] && bad "--stage train wrote a results file"
[ "$(ls c2/*.ckpt 2>/dev/null | wc -l)" -eq $n_models ] || bad "cache after --stage train: $(ls c2)"
"$bin" bench tiny.spec --results st.jsonl --cache c2 2> run.log || bad "run after --stage train failed"
grep -q 'training 784' run.log && bad "the run trained a model again"
check st.jsonl all.txt || bad "the run's results"
end

begin "--shard I/3: disjoint, together the whole plan, the same split every time"
: > union.txt
for i in 0 1 2; do
  "$bin" bench tiny.spec --shard $i/3 --list --results none.jsonl | awk '$1 == "todo" {print $2}' > s$i.txt
  "$bin" bench tiny.spec --shard $i/3 --list --results none.jsonl | awk '$1 == "todo" {print $2}' | cmp -s - s$i.txt ||
    bad "shard $i differs between two plans"
  cat s$i.txt >> union.txt
done
[ "$(sort union.txt | uniq -d | wc -l)" -eq 0 ] || bad "a cell in two shards"
sort union.txt | cmp -s - <(sort all.txt) || bad "the shards do not cover the plan"
for i in 0 1 2; do [ -s s$i.txt ] || bad "shard $i is empty"; done
end

begin "three shards at once: one results file each, and one shared file"
pids=""
for i in 0 1 2; do
  "$bin" bench tiny.spec --shard $i/3 --results shard-$i.jsonl --cache c1 2> /dev/null & pids="$pids $!"
  "$bin" bench tiny.spec --shard $i/3 --results shared.jsonl --cache c3 2> /dev/null & pids="$pids $!"
done
for p in $pids; do wait "$p" || bad "a shard exited non-zero"; done
for i in 0 1 2; do check shard-$i.jsonl s$i.txt || bad "shard $i's file"; done
check shared.jsonl all.txt || bad "the shared file"
cat shard-*.jsonl > merged.jsonl
check merged.jsonl all.txt || bad "the merged shard files"
"$bin" report shard-0.jsonl shard-1.jsonl shard-2.jsonl --out rep > /dev/null 2> rep.log || bad "report of the shards: $(head -3 rep.log)"
end

begin "a writer killed mid-run: the other takes its cells over, each cell once"
MB_BENCH_PAUSE_MS=400 "$bin" bench tiny.spec --results kill.jsonl --cache c1 2> /dev/null &
pk=$!
for _ in $(seq 200); do [ -s kill.jsonl ] && break; sleep 0.05; done
MB_BENCH_PAUSE_MS=100 "$bin" bench tiny.spec --results kill.jsonl --cache c1 2> k.log &
pb=$!
sleep 0.5
kill -9 $pk
wait $pk 2>/dev/null
wait $pb || bad "the surviving writer exited $?"
python3 - kill.jsonl <<'EOF' || bad "the killed writer's last row"
import sys
lines = open(sys.argv[1]).read().split("\n")
sys.exit(0 if lines[-1] == "" else 1)   # whole rows only: the file ends with a newline
EOF
check kill.jsonl all.txt || bad "results after the kill"
end

begin "bad --shard and --stage values: one line, exit 2, no output"
for a in "--shard 3/3" "--shard 1" "--shard -1/2" "--shard 0/0" "--stage run" "--backend metal"; do
  # shellcheck disable=SC2086
  "$bin" bench tiny.spec $a --results bad.jsonl --cache c4 > out.txt 2> err.txt
  rc=$?
  [ "$rc" -eq 2 ] || bad "$a: exit $rc"
  [ "$(wc -l < err.txt)" -le 3 ] || bad "$a: $(cat err.txt)"
  [ -e bad.jsonl ] || [ -e c4 ] && bad "$a: wrote output"
done
end

begin "mnemobench slurm: the scripts, run by hand without a cluster, give the whole plan once"
"$bin" slurm tiny.spec --array 4 --partition gpu-a --gres gpu:1 --backend ref --cpus-per-task 2 --time 1:00:00 --exclusive \
  --dir sl --cache "$PWD/c5" > sl.out 2> sl.err || bad "slurm: $(cat sl.err)"
grep -q '^#SBATCH --array=0-3$' sl/shards.sbatch || bad "no array line"
grep -q '^#SBATCH --requeue$' sl/shards.sbatch || bad "shards not requeueable"
grep -q '^#SBATCH --partition=gpu-a$' sl/train.sbatch || bad "no partition"
grep -q '^#SBATCH --gres=gpu:1$' sl/shards.sbatch || bad "no gres on the shards"
grep -q 'gres' sl/report.sbatch && bad "the report job asks for a GPU"
grep -q '^#SBATCH --exclusive$' sl/shards.sbatch || bad "shards not exclusive"
grep -q -- '--stage train' sl/train.sbatch || bad "the training job does not train"
grep -q 'afterok:$t shards.sbatch' sl/submit.sh && grep -q 'afterok:$a report.sbatch' sl/submit.sh ||
  bad "submit.sh lacks the dependencies: $(cat sl/submit.sh)"
sh sl/train.sbatch 2> sl-train.log || bad "train.sbatch by hand: $(tail -2 sl-train.log)"
for i in 0 1 2 3; do SLURM_ARRAY_TASK_ID=$i sh sl/shards.sbatch 2> /dev/null || bad "shard $i by hand"; done
sh sl/report.sbatch > /dev/null 2>&1 || bad "report.sbatch by hand"
[ -s sl/report/report.md ] || bad "no report"
check <(cat sl/results/shard-*-of-4.jsonl) all.txt || bad "the shards' rows"
end

begin "mnemobench slurm: bad options, one line, exit 2, no scripts"
for a in "--array 0" "--array x" "--partition 'a;b'" "--gres 'gpu 1'" "--backend metal" "--cpus-per-task 0" "--nosuch"; do
  eval "\"$bin\" slurm tiny.spec $a --dir bad-sl" > out.txt 2> err.txt
  rc=$?
  [ "$rc" -eq 2 ] || bad "$a: exit $rc"
  head -1 err.txt | grep -q 'mnemobench: slurm: ' || bad "$a: $(head -1 err.txt)"
  [ -e bad-sl ] && bad "$a: wrote scripts"
done
"$bin" slurm nosuch.spec --dir bad-sl > out.txt 2> err.txt
[ $? -eq 2 ] && [ ! -e bad-sl ] || bad "a missing spec"
end

echo "1..$t"
exit $fail
