#!/usr/bin/env bash
# A real PyTorch .pt through the import path, against torchvision's own predictions:
# saves a torchvision model (10 classes, seeded weights; BN statistics and affine
# parameters, or for Swin-T the LayerNorm affine parameters and the relative position
# bias tables, drawn away from their 0/1 initial values so that they matter) with
# torch.save, exports it with tools/export_state_dict.py, imports it (`import --model
# resnet18 --stem imagenet | resnext50_32x4d | swin_t`, `--in-shape 3,32,32 --classes
# 10`), and writes a CIFAR-10-format folder of N random images labelled with
# torchvision's predictions (eval mode, after the CIFAR normalisation mnemobench
# applies; the last layer rescaled so that each class's logit is standardised over the
# images, which spreads the predictions over the classes); `eval` on each backend must
# then report 100 % accuracy.
# N is 200 for resnet18 and 50 for the big models (resnext50, swin_t).
# Needs python3-torchvision (Debian 12: apt-get install -y python3-torchvision).
# Usage: tools/torchvision_import_check.sh [--model resnet18|resnext50|swin_t] [BACKEND...]
#        (default resnet18 on ref cpu)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${MB:-./build/harness/mnemobench}
P=/usr/bin/python3
model=resnet18
if [ "${1:-}" = --model ]; then model=${2:-}; shift 2 || true; fi
case $model in
  resnet18) import=(--model resnet18 --stem imagenet); n=200 ;;
  resnext50) import=(--model resnext50_32x4d); n=50 ;;
  swin_t) import=(--model swin_t); n=50 ;;
  *) echo "torchvision_import_check: --model takes resnet18, resnext50 or swin_t, not '$model'" >&2; exit 2 ;;
esac
[ -x "$B" ] || { echo "torchvision_import_check: no build at $B (bash tools/build.sh)" >&2; exit 2; }
$P -c 'import torchvision' 2>/dev/null ||
  { echo "torchvision_import_check: apt-get install -y python3-torchvision" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export POCL_CACHE_DIR="$dir/pocl" MESA_SHADER_CACHE_DIR="$dir/mesa"
$P - "$dir" "$model" "$n" <<'PY'
import os, sys, torch, torchvision
d, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.manual_seed(5)
make = {"resnet18": torchvision.models.resnet18, "resnext50": torchvision.models.resnext50_32x4d,
        "swin_t": torchvision.models.swin_t}[name]
m = make(num_classes=10)
with torch.no_grad():
    for mn, mod in m.named_modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.2, 0.2); mod.running_var.uniform_(0.5, 1.5)
            mod.weight.uniform_(0.5, 1.5); mod.bias.uniform_(-0.2, 0.2)
        elif isinstance(mod, torch.nn.LayerNorm):
            mod.weight.uniform_(0.5, 1.5); mod.bias.uniform_(-0.2, 0.2)
        if hasattr(mod, "relative_position_bias_table"):
            mod.relative_position_bias_table.uniform_(-1, 1)
m.eval()
u8 = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8)
mean = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
std = torch.tensor([0.2023, 0.1994, 0.2010]).view(1, 3, 1, 1)
x = (u8.float() / 255 - mean) / std
# random deep networks give every image much the same logits (resnext50: one class for
# all): standardise each class's logit over these images through the last layer, so
# that the predictions spread over the classes and a wrong image shows
head = m.head if name == "swin_t" else m.fc
with torch.no_grad():
    z = m(x)
    mu, sd = z.mean(0), z.std(0)
    head.weight /= sd[:, None]
    head.bias.copy_((head.bias - mu) / sd)
    logits = m(x)
torch.save(m.state_dict(), os.path.join(d, "model.pt"))
pred = logits.argmax(1)
top = logits.topk(2, 1).values
print("torchvision %s: %d images, predicted classes %s, smallest top-1 margin %.2g"
      % (name, n, torch.bincount(pred, minlength=10).tolist(), float((top[:, 0] - top[:, 1]).min())))
os.makedirs(os.path.join(d, "cifar"))
def write(fname, k):
    with open(os.path.join(d, "cifar", fname), "wb") as f:
        for i in range(k):
            f.write(bytes([int(pred[i])]) + u8[i].numpy().tobytes())
write("test_batch.bin", n)
for b in range(1, 6):
    write("data_batch_%d.bin" % b, 10)   # the reader wants the whole folder; eval reads the test set
PY
$P tools/export_state_dict.py "$dir/model.pt" "$dir/model.weights"
$B import "${import[@]}" --in-shape 3,32,32 --classes 10 \
  --weights "$dir/model.weights" --out "$dir/model.ckpt"
status=0
for be in "${@:-ref cpu}"; do
  for b in $be; do
    line=$($B eval --model "$dir/model.ckpt" --data "$dir/cifar" --backend "$b" 2>&1 | tail -1)
    echo "$model on $b: $line (100.00% = every prediction is torchvision's)"
    case $line in *"100.00%"*) ;; *) status=1 ;; esac
  done
done
exit $status
