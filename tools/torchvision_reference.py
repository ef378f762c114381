#!/usr/bin/env python3
"""Writes the torchvision reference the Swin-T tests compare mnemobench with
(tests/fixtures/swin-small.weights and swin-small-ref.weights).

A small Swin Transformer of torchvision's own class (torchvision.models.
swin_transformer.SwinTransformer: patch 4, window 7, embed 8, depths 2-2-2-2,
heads 1-2-2-4, 5 classes; the code of swin_t at a smaller size) with seeded
weights drawn so that every part matters (LayerNorm scales around 1, position
bias tables of unit scale), and, computed by PyTorch in eval mode:
  input.32 [3,3,32,32], labels.32 [3] (as floats), logits.32 [3,5]: 8x8 tokens,
      padded to 14x14 for the windows, shifted windows in stage 1;
  grad.NAME: the gradient of the mean cross-entropy of that batch;
  sq.NAME: sum over the 3 images of the squared per-image gradient of its
      cross-entropy (the FIM sum of docs/specification.md §2.1);
  input.56 [2,3,56,56], logits.56 [2,5]: 14x14 tokens, four windows, a 7x7
      stage that patch merging pads to 8x8.
Both files use the weights container of tools/export_state_dict.py.

Usage (Debian 12: apt-get install -y python3-torchvision; run with /usr/bin/python3):
    /usr/bin/python3 tools/torchvision_reference.py tests/fixtures"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_state_dict import write_container  # noqa: E402

import torch  # noqa: E402
from torchvision.models.swin_transformer import SwinTransformer  # noqa: E402


def blob(t):
    return t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()


def main(out_dir):
    torch.manual_seed(20261202)
    torch.set_num_threads(1)
    m = SwinTransformer(patch_size=[4, 4], embed_dim=8, depths=[2, 2, 2, 2], num_heads=[1, 2, 2, 4],
                        window_size=[7, 7], num_classes=5, stochastic_depth_prob=0.0)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("relative_position_bias_table"):
                p.normal_(0.0, 1.0)
            elif p.dim() == 1 and ("norm" in name or name.startswith("features.0.2")):
                p.uniform_(0.5, 1.5) if name.endswith("weight") else p.uniform_(-0.2, 0.2)
            elif p.dim() == 1:
                p.uniform_(-0.1, 0.1)
            else:
                fan_in = p[0].numel()
                p.uniform_(-(fan_in ** -0.5), fan_in ** -0.5)
    m.eval()
    params = list(m.named_parameters())
    write_container(os.path.join(out_dir, "swin-small.weights"),
                    [(n, tuple(p.shape), blob(p)) for n, p in params])

    ref = []
    x = torch.randn(3, 3, 32, 32)
    y = torch.tensor([0, 3, 4])
    logits = m(x)
    loss = torch.nn.functional.cross_entropy(logits, y)
    grads = torch.autograd.grad(loss, [p for _, p in params])
    sq = [torch.zeros_like(p) for _, p in params]
    for i in range(3):
        li = torch.nn.functional.cross_entropy(m(x[i:i + 1]), y[i:i + 1])
        for s, g in zip(sq, torch.autograd.grad(li, [p for _, p in params])):
            s += g * g
    ref += [("input.32", tuple(x.shape), blob(x)), ("labels.32", (3,), blob(y.float())),
            ("logits.32", tuple(logits.shape), blob(logits))]
    ref += [("grad." + n, tuple(g.shape), blob(g)) for (n, _), g in zip(params, grads)]
    ref += [("sq." + n, tuple(s.shape), blob(s)) for (n, _), s in zip(params, sq)]
    x56 = torch.randn(2, 3, 56, 56)
    ref += [("input.56", tuple(x56.shape), blob(x56)), ("logits.56", (2, 5), blob(m(x56)))]
    write_container(os.path.join(out_dir, "swin-small-ref.weights"), ref)
    print("wrote %s/swin-small.weights (%d tensors, %d parameters) and swin-small-ref.weights"
          % (out_dir, len(params), sum(p.numel() for _, p in params)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
