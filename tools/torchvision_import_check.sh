#!/usr/bin/env bash
# A real PyTorch .pt through the import path, against torchvision's own predictions:
# saves a torchvision resnet18 (10 classes, seeded weights, BN statistics and affine
# parameters drawn away from 0/1) with torch.save, exports it with
# tools/export_state_dict.py, imports it (`import --model resnet18 --stem imagenet
# --in-shape 3,32,32`), and writes a CIFAR-10-format folder of N random images
# labelled with torchvision's predictions (eval mode, after the CIFAR normalisation
# mnemobench applies); `eval` on each backend must then report 100 % accuracy.
# Needs python3-torchvision (Debian 12: apt-get install -y python3-torchvision).
# Usage: tools/torchvision_import_check.sh [BACKEND...]   (default: ref cpu)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${MB:-./build/harness/mnemobench}
P=/usr/bin/python3
[ -x "$B" ] || { echo "torchvision_import_check: no build at $B (bash tools/build.sh)" >&2; exit 2; }
$P -c 'import torchvision' 2>/dev/null ||
  { echo "torchvision_import_check: apt-get install -y python3-torchvision" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export POCL_CACHE_DIR="$dir/pocl" MESA_SHADER_CACHE_DIR="$dir/mesa"
$P - "$dir" <<'PY'
import os, sys, torch, torchvision
d = sys.argv[1]
torch.manual_seed(5)
m = torchvision.models.resnet18(num_classes=10)
with torch.no_grad():
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.2, 0.2); mod.running_var.uniform_(0.5, 1.5)
            mod.weight.uniform_(0.5, 1.5); mod.bias.uniform_(-0.2, 0.2)
m.eval()
torch.save(m.state_dict(), os.path.join(d, "resnet18.pt"))
n = 200
u8 = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8)
mean = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
std = torch.tensor([0.2023, 0.1994, 0.2010]).view(1, 3, 1, 1)
with torch.no_grad():
    logits = m((u8.float() / 255 - mean) / std)
pred = logits.argmax(1)
top = logits.topk(2, 1).values
print("torchvision: %d images, predicted classes %s, smallest top-1 margin %.2g"
      % (n, torch.bincount(pred, minlength=10).tolist(), float((top[:, 0] - top[:, 1]).min())))
os.makedirs(os.path.join(d, "cifar"))
def write(name, k):
    with open(os.path.join(d, "cifar", name), "wb") as f:
        for i in range(k):
            f.write(bytes([int(pred[i])]) + u8[i].numpy().tobytes())
write("test_batch.bin", n)
for b in range(1, 6):
    write("data_batch_%d.bin" % b, 10)   # the reader wants the whole folder; eval reads the test set
PY
$P tools/export_state_dict.py "$dir/resnet18.pt" "$dir/resnet18.weights"
$B import --model resnet18 --stem imagenet --in-shape 3,32,32 --classes 10 \
  --weights "$dir/resnet18.weights" --out "$dir/resnet18.ckpt"
status=0
for be in "${@:-ref cpu}"; do
  for b in $be; do
    line=$($B eval --model "$dir/resnet18.ckpt" --data "$dir/cifar" --backend "$b" 2>&1 | tail -1)
    echo "$b: $line (100.00% = every prediction is torchvision's)"
    case $line in *"100.00%"*) ;; *) status=1 ;; esac
  done
done
exit $status
