#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/:
small valid inputs and the error cases of the unit tests (tests/unit/test_data.c,
test_cifar.c, test_checkpoint.c, tests/report/test_report.c), each in the framing
its target reads (see the comment at the top of tests/fuzz/fuzz_<target>.c).
Deterministic: rerunning it rewrites the same bytes.

usage: tests/fuzz/make_corpus.py [RESNET_PARAMS RESNET_STATS]
The ResNet-18 seeds need the parameter and BN-channel counts of the cifar-stem,
width-1, 1x8x8, 2-class model, as mb_resnet_table_build gives them (the values
below, or the arguments).  Should core/resnet.c change them, the seeds still
serve as error cases until this is rerun with the new counts."""
import gzip
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus")

# ResNet-18 (cifar stem, width 1, in_shape 1,8,8, 2 classes): parameters, BN channels.
RN_PARAMS, RN_STATS = 2901, 75


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def be32(*v):
    return b"".join(struct.pack(">I", x) for x in v)


def le32(v):
    return struct.pack("<I", v)


# ---------------------------------------------------------------- IDX
def idx(magic, dims, payload):
    return be32(magic, *dims) + bytes(payload)


def idx_pair(images, labels):
    return le32(len(images)) + images + labels


def idx_corpus():
    pix = [0, 1, 2, 3, 254, 255, 10, 20, 30, 40, 50, 60, 255, 0, 128, 7, 8, 9]   # test_data.c
    img = idx(0x803, [3, 2, 3], pix)
    lab = idx(0x801, [3], [0, 2, 1])
    put("idx", "valid_raw", idx_pair(img, lab))
    put("idx", "valid_gzip", idx_pair(gz(img), gz(lab)))
    put("idx", "valid_gzip_images", idx_pair(gz(img), lab))
    put("idx", "valid_gzip_labels", idx_pair(img, gz(lab)))
    mn = bytes((i * 37 + 11) % 256 for i in range(2 * 28 * 28))
    put("idx", "valid_mnist_shape", idx_pair(idx(0x803, [2, 28, 28], mn), idx(0x801, [2], [9, 255])))
    put("idx", "label_255", idx_pair(img, idx(0x801, [3], [255, 0, 1])))
    put("idx", "truncated_header", idx_pair(img[:10], lab))
    put("idx", "truncated_images", idx_pair(img[:-4], lab))
    put("idx", "truncated_labels", idx_pair(img, lab[:-1]))
    put("idx", "wrong_magic", idx_pair(idx(0x1234, [3, 2, 3], pix), lab))
    put("idx", "wrong_type", idx_pair(idx(0x903, [3, 2, 3], pix), lab))
    put("idx", "wrong_rank", idx_pair(idx(0x802, [3, 6], pix), lab))
    put("idx", "zero_dim", idx_pair(idx(0x803, [3, 0, 3], []), lab))
    put("idx", "huge_dims", idx_pair(idx(0x803, [3, 100000, 100000], pix), lab))
    put("idx", "huge_count", idx_pair(idx(0x803, [0xFFFFFFFF, 2, 3], pix), idx(0x801, [0xFFFFFFFF], [0])))
    put("idx", "count_mismatch", idx_pair(img, idx(0x801, [2], [0, 1])))
    put("idx", "trailing_bytes", idx_pair(img + b"xyz", lab))
    put("idx", "corrupt_gzip", idx_pair(gz(img)[:-10], lab))
    g = bytearray(gz(img))
    g[12] ^= 0xFF
    put("idx", "corrupt_gzip_data", idx_pair(bytes(g), lab))
    put("idx", "gzip_trailing", idx_pair(gz(img + b"\0"), gz(lab)))
    put("idx", "empty", b"")


# kinds of fuzz_idx_dir.c: 0 absent, 1 raw, 2 .gz name, 3 '.' before the kind, 4 a folder,
# 5 raw + a .gz beside it (the same bytes less the last: the raw file must win)
def dir_file(kind, data=b""):
    if kind in (0, 4):
        return bytes([kind])
    return bytes([kind]) + le32(len(data)) + data


def idx_dir_corpus():
    pix = [0, 1, 2, 3, 254, 255, 10, 20, 30, 40, 50, 60, 255, 0, 128, 7, 8, 9]
    img = idx(0x803, [3, 2, 3], pix)
    lab = idx(0x801, [3], [0, 2, 1])
    timg = idx(0x803, [2, 2, 3], pix[:12])
    tlab = idx(0x801, [2], [1, 0])
    four = [img, lab, timg, tlab]
    put("idx_dir", "valid_raw", b"".join(dir_file(1, f) for f in four))
    put("idx_dir", "valid_gzip", b"".join(dir_file(2, gz(f)) for f in four))
    put("idx_dir", "valid_dot_names", b"".join(dir_file(3, f) for f in four))
    put("idx_dir", "valid_mixed", dir_file(1, img) + dir_file(2, gz(lab)) + dir_file(3, timg) + dir_file(2, tlab))
    put("idx_dir", "raw_beside_gzip", b"".join(dir_file(5, f) for f in four))
    # a class only in the test split: both get its count (4 classes)
    put("idx_dir", "class_only_in_test", dir_file(1, img) + dir_file(1, lab) + dir_file(1, timg) +
        dir_file(1, idx(0x801, [2], [3, 0])))
    put("idx_dir", "shape_mismatch", dir_file(1, img) + dir_file(1, lab) +
        dir_file(1, idx(0x803, [2, 3, 2], pix[:12])) + dir_file(1, tlab))
    put("idx_dir", "no_test_labels", b"".join(dir_file(1, f) for f in four[:3]) + dir_file(0))
    put("idx_dir", "no_train_images", dir_file(0) + b"".join(dir_file(1, f) for f in four[1:]))
    put("idx_dir", "folder_for_labels", dir_file(1, img) + dir_file(4) + dir_file(1, timg) + dir_file(1, tlab))
    put("idx_dir", "test_truncated", dir_file(1, img) + dir_file(1, lab) + dir_file(1, timg[:-3]) + dir_file(1, tlab))
    put("idx_dir", "test_count_mismatch", dir_file(1, img) + dir_file(1, lab) + dir_file(1, timg) +
        dir_file(1, idx(0x801, [3], [0, 1, 1])))
    put("idx_dir", "corrupt_gzip", dir_file(2, gz(img)[:-8]) + b"".join(dir_file(1, f) for f in four[1:]))
    put("idx_dir", "nothing", b"")


# ------------------------------------------------------------- CIFAR-10
REC = 3073


def record(label, seed):
    return bytes([label]) + bytes((seed * 131 + i * 7) % 256 for i in range(REC - 1))


def cifar_file(data):
    return b"\x01" + le32(len(data)) + data


def cifar_corpus():
    valid = [cifar_file(record(i, i)) for i in range(5)] + [cifar_file(record(9, 5) + record(0, 6))]
    put("cifar", "valid", b"".join(valid))
    put("cifar", "missing_test_batch", b"".join(valid[:5]) + b"\x00")
    put("cifar", "missing_batch_3", b"".join(valid[:2]) + b"\x00" + b"".join(valid[3:]))
    put("cifar", "empty_file", b"".join(valid[:5]) + b"\x03")
    put("cifar", "partial_record", b"".join(valid[:5]) + cifar_file(record(1, 9)[:-1]))
    put("cifar", "record_and_a_half", b"".join(valid[:1]) + cifar_file(record(1, 1) + record(2, 2)[:100]) +
        b"".join(valid[2:]))
    put("cifar", "bad_label", b"".join(valid[:5]) + cifar_file(record(0, 1) + record(10, 2)))
    put("cifar", "folder_in_place", b"".join(valid[:4]) + b"\x02" + valid[5])
    put("cifar", "nothing", b"")


# ------------------------------------------------------------ checkpoint
# FNV-1a 64 as core/checkpoint.c computes it: its offset basis is 1469598103934665603,
# not the standard 14695981039346656037 (a digit short), which the format now keeps.
def fnv1a64(data, h=1469598103934665603):
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def floats(n, scale=1.0):
    return b"".join(struct.pack("<f", scale * ((i % 17) - 8) / 8.0) for i in range(n))


MLP_HEADER = ("model=mlp\ndims=4,3,2\nact=sigmoid\nin_shape=1,2,2\nclasses=2\ncodes=uniform01\nhas_codes=1\n"
              "t_mix=0.1\nseed=1\nepochs=1\nbatch=4\nlr=0.01\ndataset=toy\ndataset_checksum=00000000000000ab\n"
              "backend=ref\ndevice=host\nforgotten=\ndata_kind=synthetic\ndata_path=\n")
MLP_PARAMS = 4 * 3 + 3 + 3 * 2 + 2


def ckpt_body(header, version=3, n_params=MLP_PARAMS, params=None, n_codes=8, codes=None, n_stats=0,
              stats=None, header_len=None):
    h = header.encode()
    out = b"MNEMOBCK" + struct.pack("<II", version, len(h) if header_len is None else header_len) + h
    out += struct.pack("<Q", n_params) + (floats(n_params) if params is None else params)
    out += struct.pack("<Q", n_codes) + (floats(n_codes, 0.5) if codes is None else codes)
    if version >= 2:
        out += struct.pack("<Q", n_stats) + (floats(2 * n_stats, 0.25) if stats is None else stats)
    return out


def with_sum(body):
    return body + struct.pack("<Q", fnv1a64(body))


def ckpt_corpus():
    # flags byte 0: the file as given (with its own checksum); 1: the harness appends it
    body = ckpt_body(MLP_HEADER)
    put("checkpoint", "mlp_v3", b"\x00" + with_sum(body))
    put("checkpoint", "mlp_v3_harness_sum", b"\x01" + body)
    put("checkpoint", "mlp_v2", b"\x01" + ckpt_body(MLP_HEADER.replace("data_kind=synthetic\ndata_path=\n", ""), 2))
    put("checkpoint", "mlp_v1", b"\x01" + ckpt_body(MLP_HEADER, 1))
    put("checkpoint", "mlp_relu_3_layers", b"\x01" + ckpt_body(
        MLP_HEADER.replace("dims=4,3,2", "dims=4,3,3,2").replace("act=sigmoid", "act=relu"),
        n_params=4 * 3 + 3 + 3 * 3 + 3 + 3 * 2 + 2))
    put("checkpoint", "mlp_no_codes", b"\x01" + ckpt_body(MLP_HEADER, n_codes=0))
    put("checkpoint", "mlp_nan_weight", b"\x01" + ckpt_body(MLP_HEADER, params=struct.pack("<f", float("nan")) +
                                                             floats(MLP_PARAMS - 1)))
    rn = ("model=resnet18\nstem=cifar\nwidth=1\nin_shape=1,8,8\nclasses=2\ncodes=normal01\nhas_codes=1\n"
          "t_mix=0\nseed=3\nepochs=1\nbatch=2\nlr=0.1\ndataset=toy\ndataset_checksum=1\nbackend=cpu\n"
          "device=host\nforgotten=0\ndata_kind=cifar-10\ndata_path=/data/cifar\n")
    put("checkpoint", "resnet_v3", b"\x01" + ckpt_body(rn, n_params=RN_PARAMS, n_codes=2 * 64, n_stats=RN_STATS))
    # the 7x7 stem has 49 weights per channel where the 3x3 one has 9
    put("checkpoint", "resnet_imagenet_stem", b"\x01" + ckpt_body(rn.replace("stem=cifar", "stem=imagenet"),
                                                                   n_params=RN_PARAMS + 40, n_codes=2 * 64,
                                                                   n_stats=RN_STATS))
    put("checkpoint", "resnet_v1", b"\x01" + ckpt_body(rn, 1, n_params=RN_PARAMS, n_codes=2 * 64))
    # version 4: a fine-tuned model records its fine-tuning (finetune_* keys, harness/cmd_finetune.c)
    ft = ("finetune_steps=300\nfinetune_batch=64\nfinetune_lr=0.00999999978\nfinetune_weight_decay=0\n"
          "finetune_t_mix=0.100000001\nfinetune_seed=1\nfinetune_s=1.250000\nfinetune_base=/tmp/x/plain.ckpt\n"
          "finetune_base_checksum=0123456789abcdef\n")
    put("checkpoint", "mlp_v4_finetuned", b"\x00" + with_sum(ckpt_body(MLP_HEADER + ft, 4)))
    put("checkpoint", "mlp_v4_harness_sum", b"\x01" + ckpt_body(MLP_HEADER + ft, 4))
    put("checkpoint", "mlp_v4_not_finetuned", b"\x01" + ckpt_body(MLP_HEADER, 4))
    put("checkpoint", "resnet_v4_finetuned", b"\x01" + ckpt_body(rn.replace("backend=cpu", "backend=import") + ft, 4,
                                                                 n_params=RN_PARAMS, n_codes=2 * 64, n_stats=RN_STATS))
    put("checkpoint", "v4_finetune_steps_negative", b"\x01" + ckpt_body(MLP_HEADER + ft.replace("steps=300", "steps=-1"), 4))
    put("checkpoint", "v4_finetune_base_empty", b"\x01" + ckpt_body(MLP_HEADER + ft.replace("/tmp/x/plain.ckpt", ""), 4))
    # error cases (test_checkpoint.c and the reader's messages)
    put("checkpoint", "bad_magic", b"\x00" + b"MNEMOBCX" + with_sum(body)[8:])
    put("checkpoint", "version_5", b"\x01" + ckpt_body(MLP_HEADER, 5))
    put("checkpoint", "version_9", b"\x01" + ckpt_body(MLP_HEADER, 9))
    put("checkpoint", "header_len_0", b"\x01" + ckpt_body(MLP_HEADER, header_len=0))
    put("checkpoint", "header_len_huge", b"\x01" + ckpt_body(MLP_HEADER, header_len=0x7FFFFFFF))
    put("checkpoint", "unsupported_model", b"\x01" + ckpt_body(MLP_HEADER.replace("model=mlp", "model=vgg")))
    put("checkpoint", "bad_dims", b"\x01" + ckpt_body(MLP_HEADER.replace("dims=4,3,2", "dims=4,x,2")))
    put("checkpoint", "bad_in_shape", b"\x01" + ckpt_body(MLP_HEADER.replace("in_shape=1,2,2", "in_shape=1,2,3")))
    put("checkpoint", "bad_resnet", b"\x01" + ckpt_body(rn.replace("width=1", "width=0"), n_params=RN_PARAMS))
    put("checkpoint", "param_count", b"\x01" + ckpt_body(MLP_HEADER, n_params=22))
    put("checkpoint", "param_count_huge", b"\x01" + ckpt_body(MLP_HEADER, n_params=1 << 62, params=b""))
    put("checkpoint", "truncated_params", b"\x00" + body[:len(body) - 100])
    put("checkpoint", "code_size", b"\x01" + ckpt_body(MLP_HEADER, n_codes=7))
    put("checkpoint", "truncated_codes", b"\x00" + body[:len(body) - 20])
    put("checkpoint", "stats_for_mlp", b"\x01" + ckpt_body(MLP_HEADER, n_stats=3))
    put("checkpoint", "checksum_mismatch", b"\x00" + body + b"\0" * 8)
    put("checkpoint", "trailing_bytes", b"\x00" + with_sum(body) + b"x")
    put("checkpoint", "empty", b"")


# --------------------------------------------------------------- weights
# The models of fuzz_weights.c (model byte): 0 MLP 4-3-2; 1 ResNet-18 cifar stem, width 2,
# input 1x8x8, 3 classes; 2 the same with the imagenet stem (torchvision names), input 3x8x8.
def mlp_tensors(dims=(4, 3, 2)):
    out = []
    for i in range(len(dims) - 1):
        out.append(("fc%d.weight" % (i + 1), (dims[i + 1], dims[i])))
        out.append(("fc%d.bias" % (i + 1), (dims[i + 1],)))
    return out


def resnet_tensors(width=2, in_c=1, classes=3, inet=False):
    """PyTorch's state_dict names and shapes, as core/weights.c expects them."""
    out = []

    def unit(conv, bn, cout, cin, k):
        out.append((conv + ".weight", (cout, cin, k, k)))
        for suf in ("weight", "bias", "running_mean", "running_var"):
            out.append((bn + "." + suf, (cout,)))
    unit("conv1", "bn1", width, in_c, 7 if inet else 3)
    cin = width
    for st in range(4):
        cout = width << st
        for k in range(2):
            stride = 2 if st > 0 and k == 0 else 1
            p = "layer%d.%d." % (st + 1, k)
            unit(p + "conv1", p + "bn1", cout, cin, 3)
            unit(p + "conv2", p + "bn2", cout, cout, 3)
            if stride != 1 or cin != cout:
                sc = "downsample" if inet else "shortcut"
                unit(p + sc + ".0", p + sc + ".1", cout, cin, 1)
            cin = cout
    fc = "fc" if inet else "linear"
    out.append((fc + ".weight", (classes, cin)))
    out.append((fc + ".bias", (classes,)))
    return out


def tensor_bytes(name, shape):
    n = 1
    for d in shape:
        n *= d
    if name.endswith("running_var"):
        return b"".join(struct.pack("<f", 1.0 + (i % 5) / 4.0) for i in range(n))
    return floats(n, 0.1)


def container(tensors, blobs=None):
    """tools/export_state_dict.py's write_container: header, "end", the raw bytes."""
    head, data = ["mnemobench-weights 1"], b""
    for i, t in enumerate(tensors):
        name, shape = t[0], t[1]
        dtype = t[2] if len(t) > 2 else "f32"
        blob = blobs[i] if blobs else tensor_bytes(name, shape)
        head.append("%s %s %s %d" % (name, dtype, ",".join(str(d) for d in shape) or "-", len(data)))
        data += blob
    return ("\n".join(head) + "\nend\n").encode() + data


def weights_corpus():
    mlp, rn, tv = mlp_tensors(), resnet_tensors(), resnet_tensors(in_c=3, inet=True)
    put("weights", "mlp", b"\x00" + container(mlp))
    put("weights", "resnet_cifar_stem", b"\x01" + container(rn))
    put("weights", "resnet_torchvision", b"\x02" + container(tv))
    # PyTorch's BN step counters (i64, scalar) are skipped
    nbt = [t for t in rn]
    nbt.insert(5, ("bn1.num_batches_tracked", (), "i64"))
    blobs = [tensor_bytes(t[0], t[1]) if len(t) == 2 else b"\x07" + b"\0" * 7 for t in nbt]
    put("weights", "resnet_num_batches_tracked", b"\x01" + container(nbt, blobs))
    # the error cases of tests/finetune/finetune.sh
    put("weights", "missing", b"\x01" + container([t for t in rn if t[0] != "layer3.1.bn1.running_var"]))
    put("weights", "extra", b"\x01" + container(rn + [("layer5.0.conv1.weight", (1,))]))
    put("weights", "shape", b"\x01" + container([(n, (16, 1, 3, 3) if n == "layer1.0.conv1.weight" else s)
                                                 for n, s in rn]))
    put("weights", "twice", b"\x01" + container(rn + [rn[0]]))
    put("weights", "truncated", b"\x01" + container(rn)[:-4])
    put("weights", "wrong_width", b"\x01" + container(resnet_tensors(width=1)))
    put("weights", "cifar_for_torchvision", b"\x02" + container(rn))
    put("weights", "mlp_for_resnet", b"\x01" + container(mlp))
    put("weights", "not_a_container", b"\x00" + with_sum(ckpt_body(MLP_HEADER)))
    # the reader's and the import's other refusals
    put("weights", "nan_weight", b"\x00" + container(mlp, [struct.pack("<f", float("nan")) + floats(11, 0.1)] +
                                                       [tensor_bytes(n, s) for n, s in mlp[1:]]))
    put("weights", "negative_variance", b"\x01" + container(rn, [struct.pack("<f", -1.0) if n == "bn1.running_var"
                                                                  else tensor_bytes(n, s) for n, s in rn]))
    put("weights", "dtype_f16", b"\x00" + container([(n, s, "f16" if n == "fc2.bias" else "f32") for n, s in mlp]))
    put("weights", "no_end_line", b"\x00" + container(mlp).replace(b"\nend\n", b"\nen\n"))
    put("weights", "bad_magic", b"\x00" + container(mlp).replace(b"weights 1", b"weights 2", 1))
    put("weights", "bad_shape_text", b"\x00" + container(mlp).replace(b"fc1.weight f32 3,4", b"fc1.weight f32 3,,4"))
    put("weights", "non_printable", b"\x00" + container(mlp).replace(b"fc1.bias", b"fc1.b\x01as"))
    put("weights", "offset_past_data", b"\x00" + container(mlp).replace(b"fc2.bias f32 2 ", b"fc2.bias f32 2 9999"))
    put("weights", "empty", b"\x00")


# ------------------------------------------------------------------ spec
SPEC_ERRORS = [   # tests/report/test_report.c, errors_name_the_line
    "[bench]\nname = x\n[experiment a]\nmethods = mnemonic, nosuch\n",
    "[bench]\nepochs = three\n[experiment a]\n",
    "[bench]\n\n[experiment a]\nfoo = 1\n",
    "[bench]\n[experiment a]\nparam.mnemonic.lambda3 = 1\n",
    "[bench]\n[experiment a]\nbackends = cpu, metal\n",
    "[bench]\n[experiment a]\n[experiment a]\n",
    "[bench]\n[experiment a]\nkind = main\n[bench]\n",
    "[bench]\nname = x\n",
    "[bench\n",
    "[bench]\njust words\n",
    "[bench]\n[experiment a]\nt_mix = 0.1, 1.5\n",
    "[bench]\n[experiment a]\nmodel = resnet19\n",
    "[bench]\nmodel = resnet18\n[experiment a]\nkind = fim\n",
    "[bench]\n[experiment a]\nwidth = 0\n",
]
SPEC_VALID = [
    "# c\n[bench]\nseeds = 1 2, 3  # three\n[experiment m]\nkind = lambda\n",
    "[bench]\nname = resume\ndata = synthetic\ntrain_per_class = 30\nmodel = 784-8-10\nepochs = 1\n"
    "[experiment lam]\nkind = lambda\nbackends = ref\nparam.mnemonic.lambda1 = 1e-4, 1e-3\n",
    "[bench]\nname = perf\ndata = synthetic\nseeds = 0\nbackends = ref\nrepeats = 1\nwarmup = 0\n"
    "[experiment point]\nkind = scale\nclasses = 20\nsize = 32\nssd_images = 16\nssd_forget = 4\n"
    "[experiment rate]\nkind = throughput\nmodel = 784-16-10\n"
    "[experiment f]\nkind = fim\nsamples = 1, 10\n[experiment t]\nkind = tmix\nt_mix = 0, 0.5, 1\n",
]


def spec_corpus():
    d = os.path.join(ROOT, "reports", "specs")
    for name in sorted(os.listdir(d)):
        if name.endswith(".spec"):
            put("spec", name, open(os.path.join(d, name), "rb").read())
    for i, t in enumerate(SPEC_VALID):
        put("spec", "valid_%d" % i, t.encode())
    for i, t in enumerate(SPEC_ERRORS):
        put("spec", "error_%02d" % i, t.encode())
    put("spec", "nul_byte", b"[bench]\nname = a\0b\n[experiment a]\n")


# ------------------------------------------------------- results, report
def rows_by_kind(path):
    """The lines of a results file grouped by their "kind" (small seeds)."""
    groups = {}
    for line in open(path, "rb").read().splitlines(keepends=True):
        m = re.search(rb'"kind": *"([a-z_]+)"', line)
        groups.setdefault(m.group(1).decode() if m else "other", []).append(line)
    return groups


JSON_CASES = [
    b'{"a": 1, "b": [true, false, null], "c": {"d": "e\\u00e9\\ud83d\\ude00\\n"}, "f": -1.5e-3}\n',
    b'{"torn": 1}\n{"status": "ok", "time_s": [0.1, 0.2\n',
    b'[1, 2]\n"just a string"\n\n   \n{"x": 1}\r\n',
    b'{"a": 1,}\n{"a": 01}\n{"a": "\\x"}\n{"a": "\\ud800"}\n{"a" 1}\n{"a": tru}\n',
    b'{"a": 1}\0{"b": 2}\n',
    b'{"deep": ' + b'[' * 200 + b']' * 200 + b'}\n',
    b'{"dup": 1, "dup": "two"}\n{"": ""}\n{"n": 1e999, "m": -1e999, "k": 1e-999}\n',
]


CHUNK = 6   # rows per seed: the report renders every table per run, so small seeds fuzz faster


def results_corpus():
    for src in ("fixture.jsonl", "bench_rows.jsonl"):
        path = os.path.join(ROOT, "tests", "report", src)
        stem = src.split(".")[0]
        for kind, lines in sorted(rows_by_kind(path).items()):
            for k in range(0, len(lines), CHUNK):
                name = "%s_%s" % (stem, kind) + ("_%d" % (k // CHUNK) if len(lines) > CHUNK else "")
                put("results", name, b"".join(lines[k:k + CHUNK]))
                put("report", name, b"".join(lines[k:k + CHUNK]))
    for i, t in enumerate(JSON_CASES):
        put("results", "json_%d" % i, t)
    # an interrupted run's file: the last line unterminated (mb_results_open ends it before appending)
    put("results", "torn_last_row", b'{"kind": "main", "status": "ok"}\n{"kind": "main", "status": "ok"}')
    put("results", "torn_mid_row", b'{"kind": "main", "status": "ok"}\n{"kind": "main", "sta')
    put("results", "torn_cr", b'{"kind": "main"}\r')
    put("report", "corrupt_lines", JSON_CASES[1] + JSON_CASES[3])
    fx = rows_by_kind(os.path.join(ROOT, "tests", "report", "fixture.jsonl"))
    ok = [r for r in fx.get("main", []) if b'"status": "ok"' in r][:CHUNK]
    main = b"".join(ok)
    # the same cells three times slower and 5 points lower in A_R: regressions for --compare
    worse = re.sub(rb'"(forget_s[a-z_]*)": ([0-9.e-]+)',
                   lambda m: b'"%s": %r' % (m.group(1), float(m.group(2)) * 3), main)
    worse = re.sub(rb'"A_R": ([0-9.e-]+)', lambda m: b'"A_R": %r' % (float(m.group(1)) - 5), worse)
    put("report", "compare_main", main + b"\0" + worse)


def main():
    global RN_PARAMS, RN_STATS
    if len(sys.argv) == 3:
        RN_PARAMS, RN_STATS = int(sys.argv[1]), int(sys.argv[2])
    idx_corpus()
    idx_dir_corpus()
    cifar_corpus()
    ckpt_corpus()
    weights_corpus()
    spec_corpus()
    results_corpus()


if __name__ == "__main__":
    main()
