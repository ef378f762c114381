#!/usr/bin/env python3
"""Writes a PyTorch state_dict as a mnemobench weights container, which
`mnemobench import` turns into a checkpoint (docs/specification.md §1.4).

    python3 tools/export_state_dict.py MODEL.pt OUT.weights     # needs torch
    python3 tools/export_state_dict.py --list FILE.weights      # plain Python

The container is one file: the line "mnemobench-weights 1", one line per tensor
"NAME f32 D0,D1,... OFFSET" (OFFSET: bytes into the data), the line "end", then
the tensors' raw little-endian float32 bytes.  MODEL.pt may hold a state_dict, a
dict with one under "state_dict" or "model", or a whole nn.Module; a "module."
prefix (DataParallel) is dropped and num_batches_tracked entries are left out
(mnemobench ignores them).  For torchvision's resnet18 import with
`--model resnet18 --stem imagenet`; for a ResNet trained on the CIFAR layout of
specification §0.2 (kuangliu's names: conv1, bn1, layerX.Y.shortcut.0/1, linear)
with the default --stem cifar.

read_container / write_container below need neither torch nor numpy, so tests
and users without torch can build or edit a container (tests/finetune)."""
import array
import sys

MAGIC = "mnemobench-weights 1"


def write_container(path, tensors):
    """tensors: list of (name, shape tuple, float values: an array('f'), a list or
    bytes of little-endian float32).  Writes through a temporary file."""
    import os
    header = [MAGIC]
    blobs = []
    off = 0
    for name, shape, values in tensors:
        if isinstance(values, (bytes, bytearray)):
            blob = bytes(values)
        else:
            a = array.array("f", values)
            if sys.byteorder != "little":
                a.byteswap()
            blob = a.tobytes()
        header.append("%s f32 %s %d" % (name, ",".join(str(d) for d in shape) or "-", off))
        blobs.append(blob)
        off += len(blob)
    header.append("end")
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(("\n".join(header) + "\n").encode())
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_container(path):
    """[(name, shape tuple, dtype, raw bytes)] in file order."""
    data = open(path, "rb").read()
    end = data.find(b"\nend\n")
    if not data.startswith((MAGIC + "\n").encode()) or end < 0:
        raise ValueError("%s: not a mnemobench weights container" % path)
    body = data[end + 5:]
    out = []
    for line in data[len(MAGIC) + 1:end + 1].decode().splitlines():
        name, dtype, shape, off = line.split()
        dims = () if shape == "-" else tuple(int(d) for d in shape.split(","))
        n = 1
        for d in dims:
            n *= d
        size = n * (4 if dtype == "f32" else 8)
        out.append((name, dims, dtype, body[int(off):int(off) + size]))
    return out


def export_torch(src, dst):
    try:
        import torch
    except ImportError:
        sys.exit("PyTorch is not installed (Debian 12: apt-get install -y python3-torch); "
                 "read_container/write_container in this file work without it")
    obj = torch.load(src, map_location="cpu")
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    tensors = []
    for name, t in obj.items():
        if name.startswith("module."):
            name = name[len("module."):]
        if name.endswith("num_batches_tracked"):
            continue
        t = t.detach().to(torch.float32).contiguous().cpu()
        tensors.append((name, tuple(t.shape), t.numpy().astype("<f4").tobytes()))
    write_container(dst, tensors)
    print("wrote %d tensors to %s" % (len(tensors), dst))


def main(argv):
    if len(argv) == 3 and argv[1] == "--list":
        for name, dims, dtype, _ in read_container(argv[2]):
            print("%-40s %s %s" % (name, dtype, list(dims)))
        return 0
    if len(argv) != 3 or argv[1].startswith("-"):
        sys.stderr.write(__doc__)
        return 2
    export_torch(argv[1], argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
