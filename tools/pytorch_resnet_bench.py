#!/usr/bin/env python3
"""The same measurements as `mnemobench bench-train --model resnet18` for the cpu
backend, in PyTorch: the 1-channel 28×28 ResNet-18 of core/resnet.c (CIFAR stem,
width 64), training samples/s at batch 32 over --steps SGD steps (lr 0.01,
momentum 0.9, weight decay 5e-4) on random in-memory batches (no data loader,
no code mixing: the framework's best case), and the mnemonic forgetting of class
0 of 10 (λ1 = 1e-3, λ2 = 1e4, Fashion-MNIST's values in core/hparams.c; the
FIM by functorch vmap(grad) per-sample gradients of the 10 codes, eval mode),
the whole forgetting timed; each the median of --repeats runs after 2 warm-ups.
Usage (Debian: apt-get install -y python3-torch):
  /usr/bin/python3 tools/pytorch_resnet_bench.py [--threads 2] [--width 64] [--steps 8]
                   [--repeats 5] [--only train|forget] [--fim vmap|loop]"""
import argparse
import sys
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_common as pc  # noqa: E402  (sets the OpenMP waiting policy before torch loads)
from pytorch_common import torch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--width", type=int, default=64)
ap.add_argument("--steps", type=int, default=8)
ap.add_argument("--repeats", type=int, default=5)
ap.add_argument("--only", choices=["train", "forget"])
ap.add_argument("--fim", choices=["vmap", "loop"], default="vmap",
                help="per-sample gradients: functorch vmap(grad), or one backward per code")
a = ap.parse_args()

pc.setup(a.threads)
model = pc.ResNet18(in_c=1, width=a.width, classes=10)
if a.only != "forget":
    rates = pc.time_runs(pc.train_rate(model, a.steps, 32, (1, 28, 28), 10), a.repeats)
    pc.line(a.threads, "train ResNet-18 b32", rates, "samples/s")
if a.only != "train":
    codes = torch.rand(10, 1, 28, 28)
    f = pc.Forgetter(model, codes, 1e-3, 1e4, chunk=10, fim=a.fim)

    def run():
        f.restore()                     # the same weights every time, outside the clock
        return 1e3 * f()
    pc.line(a.threads, f"forget class 0 of 10 ({a.fim})", pc.time_runs(run, a.repeats), "ms")
