#!/usr/bin/env python3
"""The same measurements as `mnemobench bench-train` for the cpu backend, in
PyTorch: the paper's 784-1000-10 sigmoid MLP, batch 128, SGD (lr 0.01,
momentum 0.9, weight decay 5e-4), samples/s over 50 training steps, and the
mnemonic forgetting of class 0 with its 10 codes (λ1 = 1e-3, λ2 = 10, the
method's defaults; the FIM by functorch vmap(grad) per-sample gradients), the
whole forgetting timed; each the median of 5 repeats after 2 warm-ups.  Inputs
are random tensors already in memory (no data loader), so this is the
framework's best case.  Usage (Debian: apt-get install -y python3-torch):
  /usr/bin/python3 tools/pytorch_mlp_bench.py [threads]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_common as pc  # noqa: E402  (sets the OpenMP waiting policy before torch loads)
from pytorch_common import torch  # noqa: E402

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
pc.setup(threads)
model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 1000), torch.nn.Sigmoid(),
                            torch.nn.Linear(1000, 10))
rates = pc.time_runs(pc.train_rate(model, 50, 128, (1, 28, 28), 10), 5)
pc.line(threads, "train MLP b128", rates, "samples/s")
f = pc.Forgetter(model, torch.rand(10, 1, 28, 28), 1e-3, 10.0, chunk=10)


def run():
    f.restore()                         # the same weights every time, outside the clock
    return 1e3 * f()


pc.line(threads, "forget class 0 (mnemonic codes)", pc.time_runs(run, 5), "ms")
