#!/usr/bin/env python3
"""The scale point of `mnemobench bench-scale --quick` (its mnemonic row) in
PyTorch: the ImageNet-stem ResNet-18 of core/resnet.c for 1000 classes at
3×32×32 (width 64, untrained: the work does not depend on the weights), or
with --model resnext50 / swin_t torchvision's resnext50_32x4d / swin_t (needs
python3-torchvision) at the same size, eval mode, forgetting class 0 with 1000 uniform codes: the per-sample squared
gradients of the codes by functorch vmap(grad) in chunks of --chunk rows (32,
as bench-scale picks on a CPU), η/α per tensor (λ1 = 1e-5, λ2 = 1e4), both
candidates and the 2K code forward passes, the whole forgetting timed; the
median of --repeats runs after --warmups.
Usage (Debian: apt-get install -y python3-torch):
  /usr/bin/python3 tools/pytorch_scale_bench.py [--model resnet18|resnext50|swin_t] [--threads 2]
                   [--chunk 32] [--repeats 3] [--warmups 1] [--fim loop|vmap]"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_common as pc  # noqa: E402  (sets the OpenMP waiting policy before torch loads)
from pytorch_common import torch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--model", choices=["resnet18", "resnext50", "swin_t"], default="resnet18")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--classes", type=int, default=1000)
ap.add_argument("--size", type=int, default=32)
ap.add_argument("--chunk", type=int, default=32)
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--warmups", type=int, default=1)
ap.add_argument("--fim", choices=["vmap", "loop"], default="loop",
                help="per-sample gradients: functorch vmap(grad) per chunk, or one backward per code "
                     "(default: loop; vmap materialises chunk x 11.7M gradients and was >10x slower here)")
a = ap.parse_args()

pc.setup(a.threads)
if a.model == "resnet18":
    model = pc.ResNet18(in_c=3, width=64, classes=a.classes, imagenet_stem=True)
else:
    import torchvision
    make = {"resnext50": torchvision.models.resnext50_32x4d, "swin_t": torchvision.models.swin_t}
    model = make[a.model](num_classes=a.classes)
codes = torch.rand(a.classes, 3, a.size, a.size)
f = pc.Forgetter(model, codes, 1e-5, 1e4, chunk=a.chunk, fim=a.fim)


def run():
    f.restore()                         # the same weights every time, outside the clock
    return f()


secs = pc.time_runs(run, a.repeats, a.warmups)
pc.line(a.threads, f"forget 1 of {a.classes} ({a.model}, {a.size}x{a.size}, {a.fim})", secs, "s",
        a.warmups)
