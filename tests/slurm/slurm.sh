#!/usr/bin/env bash
# A real Slurm cluster: tools/slurm-cluster.sh starts a one-node cluster on
# this machine; a tiny spec runs as 4 shards through `mnemobench slurm
# --submit` (training job, job array, report job), and its merged results must
# have the same cells and the same A_R, E_F and sign as a local run; then one
# task is cancelled mid-run (scancel) and a resubmission completes it without
# a duplicate row, touching no other shard's file.  Skips only when Slurm is
# not installed or we are not root (tools/setup-debian.sh installs it).
# Usage: slurm.sh MNEMOBENCH SOURCE_DIR
set -u
. "$(dirname "$(realpath "$0")")/../tap.sh"   # t, fail, say, begin, bad, end
bin=$(realpath "$1")
src=$(realpath "$2")
for p in slurmctld slurmd munged sbatch squeue scancel; do
  if ! command -v "$p" >/dev/null && [ ! -x "/usr/sbin/$p" ]; then
    echo "1..0 # SKIP $p not installed (tools/setup-debian.sh installs slurmctld slurmd slurm-client munge)"
    exit 0
  fi
done
if [ "$(id -u)" -ne 0 ]; then echo "1..0 # SKIP the test cluster runs its daemons as root"; exit 0; fi
PATH="$PATH:/usr/sbin"
tmp=$(mktemp -d)
cluster="$tmp/cluster"
cleanup() { bash "$src/tools/slurm-cluster.sh" stop "$cluster"; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 1' TERM INT   # a timeout still stops the cluster
cd "$tmp" || exit 1

cat > tiny.spec <<'EOF'
[bench]
name = slurmtiny
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
param.mnemonic.lambda1 = 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1
EOF

# same FILES... LOCAL: the merged rows have LOCAL's cells once each, all ok, same A_R, E_F, sign
same() {
  python3 - "$@" <<'EOF'
import json, sys
def rows(paths):
    out = []
    for p in paths:
        out += [json.loads(l) for l in open(p) if l.strip()]
    return out
merged, local = rows(sys.argv[1:-1]), rows([sys.argv[-1]])
want = {r["cell"]: r for r in local}
cells = [r["cell"] for r in merged]
errs = []
if len(want) != len(local) or not local: errs.append("local run: %d rows, %d cells" % (len(local), len(want)))
dup = sorted({c for c in cells if cells.count(c) > 1})
if dup: errs.append("cells twice: %s" % dup[:3])
if set(cells) != set(want): errs.append("cells: %d, local %d" % (len(set(cells)), len(want)))
for r in merged:
    w = want.get(r["cell"])
    if r.get("status") != "ok": errs.append("%s: %s" % (r["cell"], r.get("status")))
    elif w:
        for k in ("A_R", "E_F", "sign"):
            if r.get(k) != w.get(k): errs.append("%s: %s %r, local %r" % (r["cell"], k, r.get(k), w.get(k)))
for e in errs[:8]: print("#", e)
sys.exit(1 if errs else 0)
EOF
}

# wait_idle SECONDS: until no job runs or waits (a job whose dependency can never be met counts as gone)
wait_idle() {
  for _ in $(seq $(($1 * 5))); do
    [ -z "$(squeue -h -o '%i %r' | grep -v DependencyNeverSatisfied)" ] && return 0
    sleep 0.2
  done
  squeue | sed 's/^/# /'
  return 1
}

job_ids() { sed -n 's/^submitted: training job \([0-9]*\), shards \([0-9]*\) .*, report \([0-9]*\)$/\1 \2 \3/p' "$1"; }

begin "a local run of the spec"
t0=$(date +%s.%N)
"$bin" bench tiny.spec --results local.jsonl --cache local-cache 2> local.log || bad "local bench: $(tail -2 local.log)"
echo "# local run: $(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $t0}") s"
[ "$(wc -l < local.jsonl)" -eq 12 ] || bad "local rows: $(wc -l < local.jsonl)"
end

begin "a one-node Slurm cluster starts (tools/slurm-cluster.sh)"
t0=$(date +%s.%N)
if ! bash "$src/tools/slurm-cluster.sh" start "$cluster" > cluster.env 2> cluster.log; then
  bad "cluster start: $(tail -5 cluster.log)"
  end
  echo "1..$t"
  exit 1
fi
echo "# cluster start: $(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $t0}") s"
export SLURM_CONF="$cluster/slurm.conf"
sinfo -h > /dev/null || bad "sinfo failed"
end

begin "mnemobench slurm --array 4 --submit: training, 4 shards, report; merged = local run"
t0=$(date +%s.%N)
"$bin" slurm tiny.spec --array 4 --dir s1 --cache "$tmp/cache" --submit > s1.out 2> s1.err || bad "submit: $(cat s1.err)"
read -r tj aj rj <<< "$(job_ids s1.out)"
[ -n "${rj:-}" ] || bad "no job ids in: $(cat s1.out)"
wait_idle 120 || bad "the jobs did not finish in 120 s"
echo "# submission to report: $(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $t0}") s"
for i in 0 1 2 3; do [ -s s1/results/shard-$i-of-4.jsonl ] || bad "shard $i wrote no rows"; done
same s1/results/shard-*-of-4.jsonl local.jsonl || bad "merged shards differ from the local run"
[ -s s1/report/report.md ] || bad "the report job wrote no report: $(cat s1/logs/*report* 2>/dev/null | tail -3)"
grep -q 'training 784-8-10' s1/logs/*shards* && bad "a shard trained a model (the training job should have)"
[ "$(grep -c 'training 784-8-10' s1/logs/*train*)" -eq 2 ] || bad "the training job did not train the 2 models"
end

begin "scancel of one running task, then a resubmission: completes, no duplicate, other shards untouched"
t0=$(date +%s.%N)
MB_BENCH_PAUSE_MS=1500 "$bin" slurm tiny.spec --array 4 --dir s2 --cache "$tmp/cache" --submit > s2.out 2> s2.err ||
  bad "submit: $(cat s2.err)"
read -r tj aj rj <<< "$(job_ids s2.out)"
f1=s2/results/shard-1-of-4.jsonl
for _ in $(seq 600); do [ -s "$f1" ] && break; sleep 0.1; done
[ -s "$f1" ] || bad "task 1 wrote no row in 60 s"
scancel "${aj}_1" || bad "scancel ${aj}_1"
wait_idle 120 || bad "the jobs did not finish in 120 s after the scancel"
kept=$(wc -l < "$f1")
[ "$kept" -ge 1 ] && [ "$kept" -lt 3 ] || bad "task 1 has $kept rows after the scancel (expected 1 or 2 of 3)"
[ -s s2/report/report.md ] && bad "the report ran although a task was cancelled"
for i in 0 2 3; do cp s2/results/shard-$i-of-4.jsonl before-$i.jsonl; done
"$bin" slurm tiny.spec --array 4 --dir s2 --cache "$tmp/cache" --submit > s3.out 2> s3.err ||
  bad "resubmit: $(cat s3.err)"
wait_idle 120 || bad "the resubmission did not finish in 120 s"
echo "# cancel and resubmission: $(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $t0}") s"
for i in 0 2 3; do cmp -s before-$i.jsonl s2/results/shard-$i-of-4.jsonl || bad "shard $i's file changed"; done
same s2/results/shard-*-of-4.jsonl local.jsonl || bad "merged shards after the resubmission differ from the local run"
[ -s s2/report/report.md ] || bad "no report after the resubmission"
end

echo "1..$t"
exit $fail
