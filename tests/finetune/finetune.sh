#!/usr/bin/env bash
# Fine-tune then forget (docs/specification.md §1.3) and the weights container
# (§1.4): a model trained without codes cannot be forgotten with codes; after
# `finetune` it can.  export -> import -> export is bit-identical for a ResNet
# (weights and BN statistics) and an MLP, a container written by plain Python
# (tools/export_state_dict.py, no torch) imports, and broken containers or
# arguments are refused with one line and no output file; the rows of quickstart,
# finetune, forget and eval record the settings that change their numbers.  Synthetic data, a
# 784-100-10 MLP and a width-4 ResNet-18 on the ref/cpu backends, a width-16 ResNeXt-50
# container enumerated in Python by torchvision's names: ~10-20 s.  torchvision's swin_t
# (10 classes, 3x32x32: 27.5 M weights, 110 MB containers) written the same way, imported,
# evaluated, fine-tuned and forgotten on a tiny CIFAR-format folder on cpu: ~20 s more.
# Usage: finetune.sh MNEMOBENCH SOURCE_ROOT
set -u
. "$(dirname "$(realpath "$0")")/../tap.sh"   # t, fail, say, begin, bad, end
bin=$(realpath "$1")
tools=$(realpath "$2")/tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
# field FILE KEY: a number from a one-line JSON row
field() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read())[sys.argv[2]])' "$1" "$2"; }
# refused DESC CMD...: non-zero exit, exactly one line on stderr, no out.ckpt / out.w left
refused() {
  local what=$1; shift
  rm -f out.ckpt out.w err
  if "$@" > /dev/null 2> err; then bad "$what: exit 0"; fi
  [ "$(wc -l < err)" -eq 1 ] || { bad "$what: stderr is not one line:"; sed 's/^/#   /' err; }
  [ -e out.ckpt ] || [ -e out.w ] && bad "$what: left an output file"
  ls ./*.tmp.* > /dev/null 2>&1 && bad "$what: left a temporary file"
  [ $# -gt 0 ] && [ -n "${expect:-}" ] && ! grep -q -- "$expect" err && bad "$what: '$(cat err)' does not say '$expect'"
  expect=
}
echo "1..13"

begin "a plain model (t_mix 0) is not forgotten with its codes; fine-tuned with codes it is (E_F >= 99)"
# a well-trained plain model (99 % on this set): the codes were never shown to it
"$bin" train --synthetic --arch 784-100-10 --t-mix 0 --epochs 5 --train-limit 1000 \
  --test-limit 50 --out plain.ckpt > /dev/null 2>&1 || bad "train"
"$bin" forget --model plain.ckpt --classes 0 --test-limit 50 --json > plain.json 2> /dev/null || bad "forget plain"
# 300 steps at lr 0.01: this small MLP learns the codes too slowly at the paper's 0.001
"$bin" finetune --model plain.ckpt --steps 300 --lr 0.01 --train-limit 1000 --test-limit 50 \
  --out ft.ckpt --json > ft.json 2> /dev/null || bad "finetune"
"$bin" forget --model ft.ckpt --classes 0 --test-limit 50 --out ftf.ckpt --json > ftf.json 2> /dev/null ||
  bad "forget fine-tuned"
if [ "$cur" -eq 0 ]; then
  pe=$(field plain.json E_F); fe=$(field ftf.json E_F); fa=$(field ftf.json A_R)
  echo "# plain model: E_F after forget $pe; fine-tuned: E_F $fe, A_R $fa; fine-tuning $(field ft.json train_s) s"
  python3 -c "import sys; sys.exit(0 if float('$pe') < 50 else 1)" || bad "the plain model was forgotten (E_F $pe): the test shows nothing"
  python3 -c "import sys; sys.exit(0 if float('$fe') >= 99 and float('$fa') >= 90 else 1)" || bad "fine-tuned model: E_F $fe, A_R $fa"
  [ "$(field ft.json method)" = finetune ] || bad "row method"
  [ "$(field ft.json command)" = finetune ] || bad "row command $(field ft.json command)"
  [ "$(field ftf.json command)" = forget ] || bad "forget row command $(field ftf.json command)"
  [ "$(field ftf.json finetune_steps)" = 300 ] || bad "forget row of the fine-tuned model: finetune_steps $(field ftf.json finetune_steps)"
  [ "$(field plain.json finetune_steps)" = 0 ] || bad "forget row of the plain model: finetune_steps $(field plain.json finetune_steps)"
  head -c 8192 ftf.ckpt | grep -a -q "^finetune_steps=300$" || bad "forget --out dropped the fine-tuning record"
fi
end

begin "the fine-tuned checkpoint records its fine-tuning (format version 4)"
if [ -e ft.ckpt ]; then
  head -c 8192 ft.ckpt | grep -a -q "^finetune_steps=300$" || bad "no finetune_steps=300"
  head -c 8192 ft.ckpt | grep -a -q "^finetune_base=$(realpath plain.ckpt)$" || bad "no finetune_base"
  head -c 8192 ft.ckpt | grep -a -q "^t_mix=0.1" || bad "t_mix is not the fine-tuning rate"
  [ "$(od -An -tu4 -j8 -N4 ft.ckpt | tr -d ' ')" = 4 ] || bad "version is not 4"
  head -c 8192 plain.ckpt | grep -a -q "^finetune_" && bad "a model never fine-tuned has finetune_ keys"
else bad "no ft.ckpt"; fi
end

begin "rows record every setting that changes their numbers; a checkpoint's recipe as ckpt_*"
# quickstart rows that differ only in --batch, --lr, --test-limit or --codes must say so
q() { "$bin" quickstart --synthetic --arch 784-16-10 --epochs 1 --train-limit 20 "$@" --json 2> /dev/null; }
q > q0.json && q --batch 64 --lr 0.02 --test-limit 10 --codes normal01 > q1.json || bad "quickstart"
"$bin" eval --model ft.ckpt --test-limit 20 --json > ev.json 2> /dev/null || bad "eval"
python3 - <<'PY' || bad "row settings"
import json
r = {n: json.load(open(n + ".json")) for n in ("q0", "q1", "ft", "plain", "ftf", "ev")}
want = {
    # the command's own settings; 0 per class: every sample
    "q0": dict(command="quickstart", batch=128, lr=0.01, codes="uniform01", train_per_class=20, test_per_class=0),
    "q1": dict(batch=64, lr=0.02, codes="normal01", train_per_class=20, test_per_class=10),
    "ft": dict(finetune_steps=300, batch=64, lr=0.01, weight_decay=0.0005, t_mix=0.1, train_per_class=1000,
               test_per_class=50, ckpt_epochs=5, ckpt_batch=128, ckpt_lr=0.01, ckpt_t_mix=0, ckpt_finetune_steps=0),
    "plain": dict(test_per_class=50, ckpt_epochs=5, ckpt_batch=128, ckpt_lr=0.01, ckpt_codes="uniform01"),
    "ftf": dict(test_per_class=50, ckpt_finetune_steps=300, ckpt_finetune_batch=64, ckpt_finetune_lr=0.01,
                ckpt_finetune_weight_decay=0.0005, ckpt_finetune_t_mix=0.1, ckpt_t_mix=0.1),
    "ev": dict(command="eval", test_per_class=20, ckpt_epochs=5, ckpt_finetune_steps=300, epochs=5, t_mix=0.1),
}
ok = True
for n, kv in want.items():
    for k, v in kv.items():
        if r[n].get(k, "(absent)") != v:
            print("# %s row: %s is %r, expected %r" % (n, k, r[n].get(k, "(absent)"), v)); ok = False
# a command that trains nothing has no batch or lr of its own; a checkpoint's fine-tuning only when it had one
for n, k in (("ftf", "batch"), ("ftf", "lr"), ("ev", "batch"), ("plain", "ckpt_finetune_batch"), ("q0", "ckpt_epochs"),
             ("q0", "width"), ("ft", "codes")):
    if k in r[n]: print("# %s row has %s" % (n, k)); ok = False
raise SystemExit(0 if ok else 1)
PY
end

begin "finetune refuses bad arguments with one line and writes nothing"
expect="--model FILE" refused "no --model" "$bin" finetune --steps 5 --out out.ckpt
expect="cannot open" refused "missing checkpoint" "$bin" finetune --model nothere.ckpt --steps 5 --out out.ckpt
expect="--steps" refused "steps 0" "$bin" finetune --model plain.ckpt --steps 0 --out out.ckpt
expect="--t-mix" refused "t_mix 0" "$bin" finetune --model plain.ckpt --steps 5 --t-mix 0 --out out.ckpt
expect="--out FILE" refused "no --out" "$bin" finetune --model plain.ckpt --steps 5
end

begin "ResNet-18 (width 4): export -> import -> export is bit-identical; names and shapes are PyTorch's"
"$bin" train --model resnet18 --width 4 --synthetic --t-mix 0 --epochs 1 --train-limit 3 \
  --test-limit 2 --batch 16 --out rn.ckpt > /dev/null 2>&1 || bad "train resnet"
"$bin" export --model rn.ckpt --weights rn.w > /dev/null || bad "export"
"$bin" import --model resnet18 --width 4 --weights rn.w --out rn2.ckpt > /dev/null || bad "import"
"$bin" export --model rn2.ckpt --weights rn2.w > /dev/null || bad "export again"
cmp -s rn.w rn2.w || bad "containers differ"
python3 - "$tools" rn.w <<'EOF' || bad "container contents"
import sys
sys.path.insert(0, sys.argv[1])
from export_state_dict import read_container
t = {n: (s, d) for n, s, d, _ in read_container(sys.argv[2])}
want = {"conv1.weight": (4, 1, 3, 3), "bn1.running_var": (4,), "layer2.0.shortcut.0.weight": (8, 4, 1, 1),
        "layer4.1.bn2.running_mean": (32,), "linear.weight": (10, 32), "linear.bias": (10,)}
for n, s in want.items():
    if t.get(n, (None,))[0] != s:
        print("# %s: %s, expected %s" % (n, t.get(n), s)); sys.exit(1)
# 62 parameter tensors + 2 statistics for each of the 20 BN layers
if len(t) != 62 + 40: print("# %d tensors" % len(t)); sys.exit(1)
EOF
# the imported model runs: eval on the same data gives the same accuracy
"$bin" eval --model rn.ckpt --synthetic --test-limit 2 --json > e1.json 2> /dev/null || bad "eval"
"$bin" eval --model rn2.ckpt --synthetic --seed 1 --test-limit 2 --json > e2.json 2> /dev/null || bad "eval imported"
[ "$(field e1.json test_acc)" = "$(field e2.json test_acc)" ] || bad "accuracy differs after import"
[ "$(field e1.json width)" = 4 ] && [ "$(field e2.json width)" = 4 ] || bad "eval rows: width is not 4"
[ "$(field e1.json ckpt_batch)" = 16 ] && [ -z "$(field e2.json ckpt_codes)" ] || bad "eval rows: ckpt_batch, ckpt_codes"
end

begin "ResNeXt-50 32x4d (width 16): torchvision's state_dict names and shapes, enumerated in Python, import and export back byte for byte"
python3 - "$tools" rx.w <<'EOF' || bad "python resnext writer"
import sys, random
sys.path.insert(0, sys.argv[1])
from export_state_dict import write_container
# torchvision.models.resnext50_32x4d(width_per_group=4, groups=32) with 16 stem planes, 10 classes
W, K, G, BW = 16, 10, 32, 4
rnd = random.Random(3)
out = []
def t(name, *shape):
    n = 1
    for d in shape: n *= d
    var = name.endswith("running_var")
    out.append((name, shape, [rnd.uniform(0.5, 2) if var else rnd.uniform(-1, 1) for _ in range(n)]))
def bn(p, c):
    for s in ("weight", "bias", "running_mean", "running_var"): t("%s.%s" % (p, s), c)
t("conv1.weight", W, 3, 7, 7); bn("bn1", W)
cin = W
for st, depth in enumerate((3, 4, 6, 3)):
    planes = W << st; mid = planes * BW // 64 * G; cout = 4 * planes
    for k in range(depth):
        p = "layer%d.%d" % (st + 1, k)
        t(p + ".conv1.weight", mid, cin, 1, 1); bn(p + ".bn1", mid)
        t(p + ".conv2.weight", mid, mid // G, 3, 3); bn(p + ".bn2", mid)
        t(p + ".conv3.weight", cout, mid, 1, 1); bn(p + ".bn3", cout)
        if k == 0:
            t(p + ".downsample.0.weight", cout, cin, 1, 1); bn(p + ".downsample.1", cout)
        cin = cout
t("fc.weight", K, cin); t("fc.bias", K)
write_container(sys.argv[2], out)
EOF
"$bin" import --model resnext50_32x4d --width 16 --in-shape 3,32,32 --classes 10 --weights rx.w \
  --out rx.ckpt > /dev/null || bad "import resnext"
[ "$(od -An -tu4 -j8 -N4 rx.ckpt | tr -d ' ')" = 5 ] || bad "a ResNeXt checkpoint is not version 5"
head -c 4096 rx.ckpt | grep -a -q "model=resnext50_32x4d$" && head -c 4096 rx.ckpt | grep -a -q "^groups=32$" || bad "no model=resnext50_32x4d, groups=32"
"$bin" export --model rx.ckpt --weights rx2.w > /dev/null || bad "export resnext"
cmp -s rx.w rx2.w || bad "resnext containers differ"
expect="ResNeXt" refused "resnext width 8" "$bin" import --model resnext50_32x4d --width 8 --weights rx.w --out out.ckpt
end

begin "an imported ResNeXt-50 evaluates, fine-tunes and forgets under its own name; it has no lambda table row: lambda from the codes"
# a CIFAR-10-format folder of random images (20 test, 10 per training batch)
python3 - <<'EOF' || bad "cifar folder"
import os, random
r = random.Random(1)
os.makedirs("cifar", exist_ok=True)
def w(name, n):
    with open("cifar/" + name, "wb") as f:
        for i in range(n): f.write(bytes([i % 10]) + r.randbytes(3072))
w("test_batch.bin", 20)
for b in range(1, 6): w("data_batch_%d.bin" % b, 10)
EOF
"$bin" eval --model rx.ckpt --data cifar --json > rxe.json 2> /dev/null || bad "eval resnext"
"$bin" finetune --model rx.ckpt --data cifar --steps 2 --batch 8 --out rxft.ckpt --json > rxft.json 2> /dev/null || bad "finetune resnext"
"$bin" forget --model rxft.ckpt --classes 0 --json > rxf.json 2> /dev/null || bad "forget resnext"
if [ "$cur" -eq 0 ]; then
  for f in rxe rxft rxf; do
    [ "$(field $f.json model)" = resnext50_32x4d-imagenet-w16 ] || bad "$f row model: $(field $f.json model)"
  done
  [ "$(field rxft.json t_mix)" = 0.1 ] || bad "fine-tuning t_mix $(field rxft.json t_mix), not 0.1 (no table row)"
  [ "$(field rxf.json lambda_source)" = codes ] || bad "lambda_source $(field rxf.json lambda_source), not codes"
fi
expect="no row for resnext50_32x4d" refused "--lambda-from table on a ResNeXt" "$bin" forget --model rxft.ckpt --classes 0 --lambda-from table
end

begin "torchvision's swin_t (names and shapes enumerated in Python, relative_position_index included): import, eval, export -> import -> export byte-identical"
# swin [MODE]: writes sw.w (MODE missing: without one tensor; index: a wrong relative_position_index)
swin() {
  python3 - "$tools" "$1" "${2:-}" <<'EOF'
import sys, random, array
sys.path.insert(0, sys.argv[1])
from export_state_dict import write_container
# torchvision.models.swin_t(num_classes=10): patch 4, window 7, embed 96, depths 2-2-6-2, heads 3-6-12-24
E, K, WIN, depths, heads = 96, 10, 7, (2, 2, 6, 2), (3, 6, 12, 24)
mode = sys.argv[3]
rnd = random.Random(3)
pool = array.array("f", [rnd.uniform(-0.1, 0.1) for _ in range(65537)])   # slices of a seeded pool
big = pool * 64
pos = [0]
out = []
def t(name, *shape, lo=None):
    n = 1
    for d in shape: n *= d
    if lo is not None: v = array.array("f", [rnd.uniform(lo, lo + 1) for _ in range(n)])
    else:
        s = pos[0] % 65537; pos[0] += 7919
        v = big[s:s + n]
    if not (mode == "missing" and name == "features.5.3.attn.proj.bias"): out.append((name, shape, v))
def ln(p, c): t(p + ".weight", c, lo=0.5); t(p + ".bias", c)
N = WIN * WIN
idx = [((i // WIN) - (j // WIN) + WIN - 1) * (2 * WIN - 1) + (i % WIN) - (j % WIN) + WIN - 1
       for i in range(N) for j in range(N)]
t("features.0.0.weight", E, 3, 4, 4); t("features.0.0.bias", E); ln("features.0.2", E)
C = E
for st in range(4):
    for k in range(depths[st]):
        p = "features.%d.%d." % (1 + 2 * st, k)
        ln(p + "norm1", C)
        t(p + "attn.relative_position_bias_table", (2 * WIN - 1) ** 2, heads[st])
        bad = mode == "index" and p == "features.3.1."
        out.append((p + "attn.relative_position_index", (N * N,), array.array("f", idx[::-1] if bad else idx)))
        t(p + "attn.qkv.weight", 3 * C, C); t(p + "attn.qkv.bias", 3 * C)
        t(p + "attn.proj.weight", C, C); t(p + "attn.proj.bias", C)
        ln(p + "norm2", C)
        t(p + "mlp.0.weight", 4 * C, C); t(p + "mlp.0.bias", 4 * C)
        t(p + "mlp.3.weight", C, 4 * C); t(p + "mlp.3.bias", C)
    if st < 3:
        p = "features.%d." % (2 + 2 * st)
        t(p + "reduction.weight", 2 * C, 4 * C); ln(p + "norm", 4 * C)
        C *= 2
ln("norm", C); t("head.weight", K, C); t("head.bias", K)
write_container(sys.argv[2], out)
EOF
}
swin sw.w || bad "python swin writer"
simp=(import --model swin_t --in-shape 3,32,32 --classes 10)
"$bin" "${simp[@]}" --weights sw.w --out sw.ckpt > /dev/null || bad "import swin_t"
head -c 4096 sw.ckpt | grep -a -q "model=swin_t$" && head -c 4096 sw.ckpt | grep -a -q "^in_shape=3,32,32$" || bad "no model=swin_t, in_shape=3,32,32"
"$bin" export --model sw.ckpt --weights sw2.w > /dev/null || bad "export swin"
"$bin" "${simp[@]}" --weights sw2.w --out sw2.ckpt > /dev/null || bad "import the exported swin"
"$bin" export --model sw2.ckpt --weights sw3.w > /dev/null && cmp -s sw2.w sw3.w || bad "swin export -> import -> export differs"
python3 - "$tools" sw.w sw2.w <<'EOF' || bad "swin export is not the imported container less its relative_position_index buffers"
import sys
sys.path.insert(0, sys.argv[1])
from export_state_dict import read_container
a = [(n, s, b) for n, s, _, b in read_container(sys.argv[2]) if not n.endswith("relative_position_index")]
e = [(n, s, b) for n, s, _, b in read_container(sys.argv[3])]
if a != e or len(e) != 173: print("# %d exported tensors" % len(e)); sys.exit(1)
EOF
rm -f sw2.w sw3.w sw2.ckpt
"$bin" eval --model sw.ckpt --data cifar --json > swe.json 2> /dev/null || bad "eval swin"
[ "$cur" -eq 0 ] && { [ "$(field swe.json model)" = swin_t-32-c10 ] || bad "swin row model: $(field swe.json model)"; }
end

begin "Swin-T: fine-tune then forget (lambda given; --lambda-from table and MU-Mis refused with one line); bad containers and options refused"
"$bin" finetune --model sw.ckpt --data cifar --steps 2 --batch 4 --out swft.ckpt --json > swft.json 2> /dev/null || bad "finetune swin"
"$bin" forget --model swft.ckpt --classes 0 --lambda1 1e-3 --lambda2 10 --json > swf.json 2> /dev/null || bad "forget swin"
if [ "$cur" -eq 0 ]; then
  [ "$(field swf.json model)" = swin_t-32-c10 ] && [ "$(field swf.json lambda_source)" = user ] &&
    [ "$(field swf.json method)" = mnemonic ] || bad "swin forget row: $(cat swf.json)"
  [ "$(field swft.json t_mix)" = 0.1 ] || bad "swin fine-tuning t_mix $(field swft.json t_mix), not 0.1"
fi
expect="no row for swin_t" refused "--lambda-from table on Swin-T" "$bin" forget --model swft.ckpt --classes 0 --lambda-from table
expect="not written for Swin-T" refused "MU-Mis on Swin-T" "$bin" forget --model swft.ckpt --classes 0 --method mumis
expect="'head.weight' has shape \\[10, 768\\] but the model's is \\[100, 768\\]" refused "swin container at 100 classes" \
  "$bin" import --model swin_t --in-shape 3,32,32 --classes 100 --weights sw.w --out out.ckpt
rm -f sw.w swft.ckpt
swin bad-missing.w missing && swin bad-index.w index || bad "python swin writer (bad cases)"
expect="missing tensor 'features.5.3.attn.proj.bias' \[384\]" refused "swin missing tensor" "$bin" "${simp[@]}" --weights bad-missing.w --out out.ckpt
expect="'features.3.1.attn.relative_position_index' is not torchvision's relative position index" refused "swin wrong index" "$bin" "${simp[@]}" --weights bad-index.w --out out.ckpt
rm -f bad-missing.w
for o in "--stem imagenet" "--width 32" "--arch 8-8"; do
  expect="takes no ${o%% *}" refused "import swin_t $o" "$bin" "${simp[@]}" $o --weights bad-index.w --out out.ckpt
done
rm -f bad-index.w sw.ckpt
end

begin "a container written by plain Python (no torch) imports, num_batches_tracked is ignored"
python3 - "$tools" rn.w py.w <<'EOF' || bad "python writer"
import sys
sys.path.insert(0, sys.argv[1])
from export_state_dict import read_container, write_container
ts = read_container(sys.argv[2])
out = []
for n, s, d, b in ts:
    out.append((n, s, b))
    if n.endswith("bn1.weight") and n.count(".") == 1:
        out.append(("bn1.num_batches_tracked", (), b"\x07" + b"\x00" * 7))
write_container(sys.argv[3], out)
EOF
# write_container writes num_batches_tracked as f32 with shape "-": rewrite its dtype as PyTorch's i64
python3 - py.w <<'EOF'
import sys
p = sys.argv[1]; d = open(p, "rb").read()
open(p, "wb").write(d.replace(b"bn1.num_batches_tracked f32 - ", b"bn1.num_batches_tracked i64 - ", 1))
EOF
"$bin" import --model resnet18 --width 4 --weights py.w --out py.ckpt > /dev/null || bad "import python container"
"$bin" export --model py.ckpt --weights py2.w > /dev/null && cmp -s rn.w py2.w || bad "python container did not round-trip"
end

begin "import refuses missing, extra, mis-shaped and truncated tensors with one line"
mutate() {   # mutate KIND OUT
  python3 - "$tools" rn.w "$2" "$1" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from export_state_dict import read_container, write_container
ts = [(n, s, b) for n, s, _, b in read_container(sys.argv[2])]
k = sys.argv[4]
if k == "missing": ts = [x for x in ts if x[0] != "layer3.1.bn1.running_var"]
if k == "extra": ts.append(("layer5.0.conv1.weight", (1,), b"\0\0\0\0"))
if k == "shape": ts = [(n, (16, 1, 3, 3) if n == "layer1.0.conv1.weight" else s, b) for n, s, b in ts]
if k == "twice": ts.append(ts[0])
write_container(sys.argv[3], ts)
if k == "truncated":
    d = open(sys.argv[3], "rb").read(); open(sys.argv[3], "wb").write(d[:-4])
EOF
}
for k in missing extra shape twice truncated; do mutate $k bad-$k.w || bad "mutate $k"; done
expect="missing tensor 'layer3.1.bn1.running_var' \[16\]" refused missing "$bin" import --model resnet18 --width 4 --weights bad-missing.w --out out.ckpt
expect="unexpected tensor 'layer5.0.conv1.weight'" refused extra "$bin" import --model resnet18 --width 4 --weights bad-extra.w --out out.ckpt
expect="has shape \[16, 1, 3, 3\] but the model's is \[4, 4, 3, 3\]" refused shape "$bin" import --model resnet18 --width 4 --weights bad-shape.w --out out.ckpt
expect="appears twice" refused twice "$bin" import --model resnet18 --width 4 --weights bad-twice.w --out out.ckpt
expect="run past the data" refused truncated "$bin" import --model resnet18 --width 4 --weights bad-truncated.w --out out.ckpt
expect="has shape" refused "wrong width" "$bin" import --model resnet18 --width 8 --weights rn.w --out out.ckpt
expect="not a mnemobench weights container" refused "not a container" "$bin" import --model resnet18 --width 4 --weights rn.ckpt --out out.ckpt
expect="cannot open" refused "no file" "$bin" import --model resnet18 --width 4 --weights none.w --out out.ckpt
expect="--in-shape" refused "bad in-shape" "$bin" import --model resnet18 --in-shape 1,28 --weights rn.w --out out.ckpt
expect="--weights FILE" refused "no --weights" "$bin" import --model resnet18 --out out.ckpt
expect="cannot open" refused "export of a missing checkpoint" "$bin" export --model none.ckpt --weights out.w
end

begin "MLP: export -> import -> export is bit-identical; an imported model (no codes) fine-tunes"
"$bin" export --model plain.ckpt --weights mlp.w > /dev/null || bad "export mlp"
"$bin" import --model mlp --arch 784-100-10 --weights mlp.w --out mlp.ckpt > /dev/null || bad "import mlp"
"$bin" export --model mlp.ckpt --weights mlp2.w > /dev/null && cmp -s mlp.w mlp2.w || bad "mlp round trip"
# (the data notice of --synthetic comes first)
if "$bin" forget --model mlp.ckpt --synthetic --classes 0 > /dev/null 2> err; then bad "forget without codes: exit 0"; fi
tail -1 err | grep -q "no mnemonic codes" || bad "forget without codes: $(tail -1 err)"
"$bin" finetune --model mlp.ckpt --synthetic --seed 1 --steps 20 --train-limit 50 --test-limit 20 \
  --out mlp-ft.ckpt > /dev/null 2>&1 || bad "finetune of an imported model"
"$bin" forget --model mlp-ft.ckpt --classes 0 --test-limit 20 > /dev/null 2>&1 || bad "forget after finetune of an imported model"
end
begin "torchvision's resnet18 layout (--stem imagenet: 7x7 stem, downsample, fc) imports and exports back byte-identical"
python3 - "$tools" rn.w tv.w <<'EOF' || bad "python torchvision-style container"
import array, random, sys
sys.path.insert(0, sys.argv[1])
from export_state_dict import read_container, write_container
random.seed(3)
out = []
for n, s, _, b in read_container(sys.argv[2]):
    n = n.replace("shortcut", "downsample").replace("linear.", "fc.")
    if n == "conv1.weight":
        s = (4, 3, 7, 7)
        b = array.array("f", [random.uniform(-0.1, 0.1) for _ in range(4 * 3 * 7 * 7)]).tobytes()
    out.append((n, s, b))
write_container(sys.argv[3], out)
EOF
"$bin" import --model resnet18 --stem imagenet --width 4 --in-shape 3,32,32 --classes 10 --weights tv.w \
  --out tv.ckpt > /dev/null || bad "import torchvision layout"
"$bin" export --model tv.ckpt --weights tv2.w > /dev/null && cmp -s tv.w tv2.w || bad "torchvision layout round trip"
expect="'conv1.weight' has shape \[4, 1, 3, 3\] but the model's is \[4, 1, 7, 7\]" refused "a CIFAR-stem container under --stem imagenet" \
  "$bin" import --model resnet18 --stem imagenet --width 4 --in-shape 1,28,28 --classes 10 --weights rn.w --out out.ckpt
end
exit $fail
