#!/usr/bin/env python3
"""The same measurement as `mnemobench bench-train` for the cpu backend, in
PyTorch: the paper's 784-1000-10 sigmoid MLP, batch 128, SGD (lr 0.01,
momentum 0.9, weight decay 5e-4), samples/s over 50 training steps, median of
5 repeats after 2 warm-ups.  Inputs are random tensors already in memory (no
data loader), so this is the framework's best case.  Usage:
  /usr/bin/python3 tools/pytorch_mlp_bench.py [threads]   (Debian: python3-torch)"""
import os
import statistics
import sys
import time

# libgomp's default busy-waiting workers lose their time slices on a shared 2-vCPU
# machine (measured here: ~2,200 samples/s spinning, ~17,000 passive); give
# PyTorch the same passive waiting the cpu backend uses.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402  (after the OpenMP setting, which libgomp reads at load)

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
torch.manual_seed(1)
model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 1000), torch.nn.Sigmoid(),
                            torch.nn.Linear(1000, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
loss_fn = torch.nn.CrossEntropyLoss()
steps, batch = 50, 128
x = torch.rand(steps, batch, 1, 28, 28)
y = torch.randint(0, 10, (steps, batch))


def run():
    t0 = time.perf_counter()
    for s in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[s]), y[s])
        loss.backward()
        opt.step()
    return steps * batch / (time.perf_counter() - t0)


for _ in range(2):
    run()
rates = sorted(run() for _ in range(5))
print(f"pytorch {torch.__version__} threads={threads}: train MLP b128 "
      f"median {statistics.median(rates):.0f} samples/s [min {rates[0]:.0f}, max {rates[-1]:.0f}]")
