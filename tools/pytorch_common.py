"""What the PyTorch counterparts of mnemobench's benchmarks share: the thread
setup, the timing loop, the ResNet-18 of core/resnet.c and the mnemonic-code
forgetting of core/forget_mnemonic.c / core/forget_batched.c
(docs/specification.md §2.1-§2.3), written the way a PyTorch user would:
per-sample gradients with functorch's vmap(grad).  Imported by
tools/pytorch_*_bench.py; not a program of its own."""
import os
import statistics
import sys
import time

# libgomp's default busy-waiting workers (~3 ms after each parallel region) lose their
# time slices on a shared 2-vCPU machine (measured here: ~2,200 samples/s spinning,
# ~17,000 passive), so PyTorch waits passively.  Not the short spin mnemobench's cpu
# backend uses (backends/registry.c): Debian's torch also runs OpenBLAS's own pthread
# pool, which spinning OpenMP workers starve (MLP training, three interleaved runs
# each: 26-29k samples/s passive, 21-22k with GOMP_SPINCOUNT=5000; ResNet-18 the same
# within noise).  Each side runs with the waiting that is fastest for it here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import torch  # noqa: E402  (after the OpenMP setting, which libgomp reads at load)
    import torch.nn as nn  # noqa: E402
    import torch.nn.functional as F  # noqa: E402
except ImportError:
    sys.exit("PyTorch is not installed.  On Debian 12: apt-get install -y python3-torch "
             "(then run this with /usr/bin/python3)")

WARMUPS = 2


def setup(threads):
    torch.set_num_threads(threads)
    torch.manual_seed(1)


def time_runs(run, repeats, warmups=WARMUPS):
    """run() returns one figure; the figures of `repeats` runs after `warmups`."""
    for _ in range(warmups):
        run()
    return [run() for _ in range(repeats)]


def omp_wait():
    """How libgomp's idle workers wait, as mnemobench's cpu rows say it."""
    spin = os.environ.get("GOMP_SPINCOUNT")
    if spin:
        return f"spin {spin}"
    return f"wait {os.environ.get('OMP_WAIT_POLICY') or 'default'}"


def line(threads, metric, values, unit, warmups=WARMUPS, fmt="{:.4g}"):
    """One line like mnemobench bench-train's text rows (median [min, max])."""
    v = sorted(values)
    med = statistics.median(v)
    print(f"  pytorch {metric:<36} {fmt.format(med):>10} {unit:<9} [min {fmt.format(v[0])}, "
          f"max {fmt.format(v[-1])}]  (torch {torch.__version__}, {threads} threads, {omp_wait()}, "
          f"{len(v)} repeats after {warmups} warm-ups)", flush=True)
    return med


# ------------------------------------------------------------------ ResNet-18
# core/resnet.c: conv (no bias) + BN units, PyTorch's tensor order (conv, γ, β);
# the CIFAR stem (3×3/1 conv, no max-pool) or the ImageNet stem (7×7/2 conv,
# 3×3/2 max-pool); stages of width W, 2W, 4W, 8W with two basic blocks each,
# a 1×1 conv + BN shortcut where the shape changes; global average pool; linear.
class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, in_c=1, width=64, classes=10, imagenet_stem=False):
        super().__init__()
        if imagenet_stem:
            self.conv1 = nn.Conv2d(in_c, width, 7, 2, 3, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_c, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.pool = nn.MaxPool2d(3, 2, 1) if imagenet_stem else nn.Identity()
        layers, cin = [], width
        for st in range(4):
            cout = width << st
            for k in range(2):
                layers.append(Block(cin, cout, 2 if st > 0 and k == 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.layers(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def train_rate(model, steps, batch, shape, classes):
    """A closure timing `steps` SGD steps (lr 0.01, momentum 0.9, weight decay
    5e-4: mb_train_defaults) on random in-memory batches: samples/s."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.rand(steps, batch, *shape)
    y = torch.randint(0, classes, (steps, batch))
    model.train()

    def run():
        t0 = time.perf_counter()
        for s in range(steps):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x[s]), y[s])
            loss.backward()
            opt.step()
        return steps * batch / (time.perf_counter() - t0)
    return run


# ---------------------------------------------------------- mnemonic forgetting
class Forgetter:
    """Forgets class `forget` of a model with its K mnemonic codes: the FIM of
    forget and remaining codes from per-sample squared gradients of CE(code c,
    label c) in eval mode (floor 1e-16, divided by the class counts), per tensor
    η = exp(log F_f - log F_r) (NaN → 0, ±inf → the tensor's finite max),
    α = min(λ2 / max η, λ1), both candidates w ± α·η, and the 2K code forward
    passes that choose the sign by (1 - acc_forget) + acc_remain."""

    def __init__(self, model, codes, lambda1, lambda2, chunk, forget=0, fim="vmap"):
        from functorch import grad, make_functional_with_buffers, vmap
        self.fim = fim      # vmap: functorch vmap(grad) per chunk; loop: one backward per code
        self.model = model.eval()
        self.fmodel, _, self.buffers = make_functional_with_buffers(self.model)
        self.codes = codes
        self.K = codes.shape[0]
        self.forget = forget
        # forget class first, as core/forget_batched.c orders the rows
        self.order = torch.tensor([forget] + [c for c in range(self.K) if c != forget])
        self.l1, self.l2, self.chunk = lambda1, lambda2, chunk
        self.w0 = [p.detach().clone() for p in self.model.parameters()]

        def loss(params, buffers, x, y):
            return F.cross_entropy(self.fmodel(params, buffers, x.unsqueeze(0)), y.unsqueeze(0))
        self.per_sample = vmap(grad(loss), in_dims=(None, None, 0, 0))

    def restore(self):
        with torch.no_grad():
            for p, w in zip(self.model.parameters(), self.w0):
                p.copy_(w)

    def __call__(self):
        """Seconds for the whole forgetting (the timed region)."""
        t0 = time.perf_counter()
        params = tuple(p.detach() for p in self.model.parameters())
        ff = [torch.full_like(p, 1e-16) for p in params]
        fr = [torch.full_like(p, 1e-16) for p in params]
        n_f = 1
        for b0 in range(0, self.K if self.fim == "vmap" else 0, self.chunk):
            idx = self.order[b0:b0 + self.chunk]
            g = self.per_sample(params, self.buffers, self.codes[idx], idx)
            split = max(0, min(len(idx), n_f - b0))
            for a, b, gi in zip(ff, fr, g):
                if split > 0:
                    a.add_(gi[:split].square().sum(0))
                if split < len(idx):
                    b.add_(gi[split:].square().sum(0))
        if self.fim == "loop":
            # plain autograd, batch 1: the squares accumulate in place, no B×P gradient tensor
            for i, c in enumerate(self.order.tolist()):
                self.model.zero_grad(set_to_none=True)
                F.cross_entropy(self.model(self.codes[c:c + 1]), self.order[i:i + 1]).backward()
                for a, p in zip(ff if i < n_f else fr, self.model.parameters()):
                    a.addcmul_(p.grad, p.grad)
        plus, minus = [], []
        for w, a, b in zip(params, ff, fr):
            r = torch.nan_to_num(torch.log(a / n_f) - torch.log(b / (self.K - n_f)), nan=0.0,
                                 posinf=float("inf"), neginf=float("-inf"))
            fin = r[torch.isfinite(r)]
            mx = fin.max() if fin.numel() else torch.tensor(0.0)
            r = torch.where(torch.isinf(r), mx, r)
            eta = torch.exp(r)
            alpha = torch.clamp(self.l2 / eta.max(), max=self.l1)
            d = alpha * eta
            plus.append(w + d)
            minus.append(w - d)
        score = []
        with torch.no_grad():
            for cand in (plus, minus):
                ok_f = ok_r = 0
                for b0 in range(0, self.K, self.chunk):
                    idx = self.order[b0:b0 + self.chunk]
                    pred = self.fmodel(cand, self.buffers, self.codes[idx]).argmax(1)
                    hit = pred == idx
                    split = max(0, min(len(idx), n_f - b0))
                    ok_f += int(hit[:split].sum())
                    ok_r += int(hit[split:].sum())
                score.append((1 - ok_f / n_f) + ok_r / (self.K - n_f))
            chosen = plus if score[0] > score[1] else minus   # ties to minus
            for p, c in zip(self.model.parameters(), chosen):
                p.copy_(c)
        return time.perf_counter() - t0
