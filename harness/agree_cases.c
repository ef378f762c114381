/* The agreement case table: one case per op, shape and edge condition; the families
 * that run them are in agree_fam_ops.c and agree_fam_conv.c.  Shapes come from the real workloads (MLP
 * 784→1000→10, ResNet-18 convs) plus odd sizes that are no multiple of any
 * workgroup or tile, and launch dimensions above 65535. */
#include "harness/agree_families.h"

#include "core/conv.h"
#include "core/forget_mnemonic.h"
#include "core/ops.h"
#include "philox.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================ the table */

/* Distributions travel through the macros as (kind, a, b) tuples; GEN makes the initializer. */
#define G(kind, a, b) (kind, a, b)
#define GEN_(kind, a, b) {AGREE_GEN_##kind, (a), (b)}
#define GEN(tuple) GEN_ tuple
#define N01 G(NORMAL, 0.0f, 1.0f)
#define NOGEN G(NONE, 0.0f, 0.0f)
#define EXACT AGREE_TOL_EXACT
#define ELT AGREE_TOL_ELT
#define TRANSC AGREE_TOL_TRANSC

#define MEM(name, op_, n_, bits_, shift_) \
  {.id = "mem/" name, .fam = &fam_mem, .op = op_, .tol = EXACT, .shift = shift_, \
   .mem = {.n = n_, .bits = bits_}}

/* alpha/beta, ld padding, batch count and padding between batch items */
#define GEMM(name, ta_, tb_, m_, n_, k_, alpha_, beta_, ldpad, batch_, spad) \
  {.id = "gemm/" name, .fam = &fam_gemm, .gen = GEN(N01), .gen2 = GEN(N01), .tol = AGREE_TOL_GEMM, \
   .gemm = {.ta = ta_, .tb = tb_, .m = m_, .n = n_, .k = k_, .ld_pad = ldpad, .batch = batch_, \
            .stride_pad = spad, .alpha = alpha_, .beta = beta_}}
#define MM(name, ta, tb, m, n, k) GEMM(name, ta, tb, m, n, k, 1.0f, 0.0f, 0, 1, 0)
/* per-sample squared GEMM items: batch items, groups of them per sample */
#define GEMM_SQ(name, ta_, tb_, m_, n_, k_, alpha_, ldpad, batch_, groups_, spad, gen_) \
  {.id = "gemm_sq_acc/" name, .fam = &fam_gemm_sq, .gen = GEN(gen_), .tol = AGREE_TOL_GEMM, \
   .gemm = {.ta = ta_, .tb = tb_, .m = m_, .n = n_, .k = k_, .ld_pad = ldpad, .batch = batch_, \
            .stride_pad = spad, .alpha = alpha_, .groups = groups_}}
#define MM4(shape, m, n, k) \
  MM("nn_" shape, 0, 0, m, n, k), MM("nt_" shape, 0, 1, m, n, k), \
  MM("tn_" shape, 1, 0, m, n, k), MM("tt_" shape, 1, 1, m, n, k)

#define ELTW(fam_, name, op_, n_, a_, b_, gen_, gen2_, tol_, flags_, shift_) \
  {.id = name, .fam = &fam_, .op = op_, .gen = GEN(gen_), .gen2 = GEN(gen2_), .tol = tol_, \
   .flags = flags_, .shift = shift_, .elt = {.n = n_, .a = a_, .b = b_}}
/* Every unary/binary op gets: a main case (odd n), a NaN/inf parity case and an
 * in-place case (y == x) at a misaligned offset. */
#define UN3(name, op, a, b, gen, tol) \
  ELTW(fam_unary, "unary/" name, op, 100003, a, b, gen, NOGEN, tol, 0, 0), \
  ELTW(fam_unary, "unary/" name "_special", op, 4099, a, b, G(SPECIAL, 0, 2), NOGEN, tol, 0, 0), \
  ELTW(fam_unary, "unary/" name "_inplace", op, 1001, a, b, gen, NOGEN, tol, AGREE_ALIAS, 1)
#define BIN3(name, op, a, b, gen, gen2, tol) \
  ELTW(fam_binary, "binary/" name, op, 100003, a, b, gen, gen2, tol, 0, 0), \
  ELTW(fam_binary, "binary/" name "_special", op, 4099, a, b, G(SPECIAL, 0, 2), \
       G(SPECIAL, 0, 2), tol, 0, 0), \
  ELTW(fam_binary, "binary/" name "_inplace", op, 1001, a, b, gen, gen2, tol, AGREE_ALIAS, 3)

#define D3(fam_, name, op_, o, m, i, gen_, gen2_, tol_, flags_) \
  {.id = name, .fam = &fam_, .op = op_, .gen = GEN(gen_), .gen2 = GEN(gen2_), .tol = tol_, \
   .flags = flags_, .d3 = {.outer = o, .mid = m, .inner = i}}
#define BC(name, op, o, m, i, gen2) D3(fam_bcast, "bcast/" name, op, o, m, i, N01, gen2, ELT, 0)
#define BC_SHAPES(name, op, gen2) \
  BC(name "_bias_128x1000", op, 128, 1000, 1, gen2), \
  BC(name "_nchw_2x64x1024", op, 2, 64, 1024, gen2), \
  BC(name "_odd_7x33x5", op, 7, 33, 5, gen2)
#define RED(name, op, o, m, i, gen, tol) \
  D3(fam_reduce, "reduce/" name, op, o, m, i, gen, NOGEN, tol, 0)
/* Row-wise (logits), one long row, a strided middle axis, odd, and 70000 rows. */
#define RED_SHAPES(name, op, gen, tol) \
  RED(name "_rows_128x10", op, 128, 10, 1, gen, tol), \
  RED(name "_long_100000", op, 1, 100000, 1, gen, tol), \
  RED(name "_strided_3x1000x7", op, 3, 1000, 7, gen, tol), \
  RED(name "_odd_5x33x257", op, 5, 33, 257, gen, tol), \
  RED(name "_rows_70000x3", op, 70000, 3, 1, gen, tol)

/* The MLP's flat parameter table (784→1000→10): W1, b1, W2, b2. */
static const size_t k_mlp_offs[] = {0, 784000, 785000, 795000, 795010};
/* Odd small segments, single elements included. */
static const size_t k_odd_offs[] = {0, 1, 4, 11, 44, 45, 301, 1000};

#define SEG(fam_, name, op_, offs_, nseg_, len_, gen_, gen2_, tol_, flags_) \
  {.id = name, .fam = &fam_, .op = op_, .gen = GEN(gen_), .gen2 = GEN(gen2_), .tol = tol_, \
   .flags = flags_, .seg = {.offs = offs_, .nseg = nseg_, .len = len_}}
#define SEG_TABLES(fam_, name, op, gen, gen2, tol) \
  SEG(fam_, name "_mlp", op, k_mlp_offs, 4, 0, gen, gen2, tol, 0), \
  SEG(fam_, name "_odd", op, k_odd_offs, 7, 0, gen, gen2, tol, 0)
#define SRED(name, op, gen, tol) SEG_TABLES(fam_seg_reduce, "seg_reduce/" name, op, gen, NOGEN, tol)
#define SBC(name, op, gen, gen2, tol) \
  SEG_TABLES(fam_seg_bcast, "seg_bcast/" name, op, gen, gen2, tol), \
  SEG(fam_seg_bcast, "seg_bcast/" name "_odd_inplace", op, k_odd_offs, 7, 0, gen, gen2, tol, \
      AGREE_ALIAS)

#define FORGET(name, offs_, nseg_, gen_, gen2_, l1, l2, flags_) \
  {.id = "forget_update/" name, .fam = &fam_forget, .gen = GEN(gen_), .gen2 = GEN(gen2_), \
   .tol = TRANSC, .flags = flags_, \
   .forget = {.offs = offs_, .nseg = nseg_, .lambda1 = l1, .lambda2 = l2}}

/* The same on Fisher sums that the update first divides by the code counts. */
#define FORGET_SUMS(name, offs_, nseg_, gen_, gen2_, l1, l2, sf, sr, flags_) \
  {.id = "forget_update/" name, .fam = &fam_forget, .gen = GEN(gen_), .gen2 = GEN(gen2_), \
   .tol = TRANSC, .flags = flags_, \
   .forget = {.offs = offs_, .nseg = nseg_, .lambda1 = l1, .lambda2 = l2, .scale_forget = sf, \
              .scale_remain = sr}}

#define XALL (AGREE_XENT_LOSS | AGREE_XENT_DLOGITS | AGREE_XENT_PROBS)
#define XENT(name, r, c_, scale_, outs, gen_, flags_) \
  {.id = "softmax_xent/" name, .fam = &fam_xent, .gen = GEN(gen_), .tol = TRANSC, .flags = flags_, \
   .xent = {.rows = r, .cols = c_, .scale = scale_, .outputs = outs}}

#define GATHER(name, rows, len, src_rows, u8, scale_, shift_) \
  {.id = "gather_rows/" name, .fam = &fam_gather, .tol = u8 ? ELT : EXACT, .shift = shift_, \
   .gather = {.n_rows = rows, .row_len = len, .n_src_rows = src_rows, .src_u8 = u8, \
              .scale = scale_}}

#define SGD(name, n_, lr_, wd_, mom, damp, first) \
  {.id = "optim/" name, .fam = &fam_optim, .op = MB_OPT_SGD, .gen = GEN(N01), .tol = ELT, \
   .optim = {.n = n_, .lr = lr_, .wd = wd_, .momentum = mom, .dampening = damp, \
             .first_step = first}}
#define ADAM(name, n_, lr_, wd_, b1, b2, eps_, t_) \
  {.id = "optim/" name, .fam = &fam_optim, .op = MB_OPT_ADAM, .gen = GEN(N01), .tol = ELT, \
   .optim = {.n = n_, .lr = lr_, .wd = wd_, .beta1 = b1, .beta2 = b2, .eps = eps_, .t = t_}}

#define RNG(name, dist, n_, stream_, p0_, p1_, shift_) \
  {.id = "rng/" name, .fam = &fam_rng, .op = dist, .shift = shift_, \
   .tol = dist == MB_RNG_NORMAL ? TRANSC : EXACT, \
   .rng = {.n = n_, .stream = stream_, .p0 = p0_, .p1 = p1_}}

#define GEOM(n_, c_, h_, w_, k, s, p) \
  {.n = n_, .c = c_, .h = h_, .w = w_, .kh = k, .kw = k, .stride = s, .pad = p, \
   .oh = ((h_) + 2 * (p) - (k)) / (s) + 1, .ow = ((w_) + 2 * (p) - (k)) / (s) + 1}
#define CONVC(fam_, name, tol_, geom, cout_) \
  {.id = name, .fam = &fam_, .gen = GEN(N01), .gen2 = GEN(N01), .tol = tol_, \
   .conv = {.g = geom, .cout = cout_}}
/* ResNet-18 geometries (CIFAR 32 px stages, 1×1/2 shortcuts, the ImageNet stem),
 * all with batch > 1, plus odd ones (pad wider than the kernel reach, k=2/s=2
 * dropping the last row). */
#define CONV_GEOMS(fam_, prefix, tol) \
  CONVC(fam_, prefix "/c3_32x32_k3s1p1_b2", tol, GEOM(2, 3, 32, 32, 3, 1, 1), 0), \
  CONVC(fam_, prefix "/c64_32x32_k1s2p0_b2", tol, GEOM(2, 64, 32, 32, 1, 2, 0), 0), \
  CONVC(fam_, prefix "/c64_16x16_k3s2p1_b2", tol, GEOM(2, 64, 16, 16, 3, 2, 1), 0), \
  CONVC(fam_, prefix "/c32_4x4_k3s1p1_b3", tol, GEOM(3, 32, 4, 4, 3, 1, 1), 0), \
  CONVC(fam_, prefix "/stem_c3_224x224_k7s2p3_b2", tol, GEOM(2, 3, 224, 224, 7, 2, 3), 0), \
  CONVC(fam_, prefix "/odd_c3_7x5_k3s2p2_b3", tol, GEOM(3, 3, 7, 5, 3, 2, 2), 0), \
  CONVC(fam_, prefix "/odd_c2_9x7_k2s2p0_b2", tol, GEOM(2, 2, 9, 7, 2, 2, 0), 0)

/* permute over (outer, mid, inner); shift_ misaligns both views. */
#define PERM(name, o, m, i, shift_) \
  {.id = "permute/" name, .fam = &fam_permute, .gen = GEN(G(BITS, 0, 0)), .tol = EXACT, \
   .shift = shift_, .d3 = {.outer = o, .mid = m, .inner = i}}

/* Geometry with the window of a pooling op or a convolution given in full. */
#define WIN(n_, c_, h_, w_, kh_, kw_, s, p) \
  {.n = n_, .c = c_, .h = h_, .w = w_, .kh = kh_, .kw = kw_, .stride = s, .pad = p, \
   .oh = ((h_) + 2 * (p) - (kh_)) / (s) + 1, .ow = ((w_) + 2 * (p) - (kw_)) / (s) + 1}
/* conv2d through the core: forward, input gradient and weight gradient of one layer. */
#define CONV2D(name, geom, cout_) \
  {.id = "conv2d/fwd_" name, .fam = &fam_conv2d, .op = CONV2D_FWD, .gen = GEN(N01), \
   .gen2 = GEN(N01), .tol = AGREE_TOL_GEMM, .conv = {.g = geom, .cout = cout_}}, \
  {.id = "conv2d/dx_" name, .fam = &fam_conv2d, .op = CONV2D_DX, .gen = GEN(N01), \
   .gen2 = GEN(N01), .tol = AGREE_TOL_GEMM, .conv = {.g = geom, .cout = cout_}}, \
  {.id = "conv2d/dw_" name, .fam = &fam_conv2d, .op = CONV2D_DW, .gen = GEN(N01), \
   .gen2 = GEN(N01), .tol = AGREE_TOL_GEMM, .conv = {.g = geom, .cout = cout_}}
/* A grouped conv2d (ResNeXt's 3×3 layers): the same three passes with `groups_` groups. */
#define CONV2DG(name, geom, cout_, groups_) \
  {.id = "conv2d/fwd_" name, .fam = &fam_conv2d, .op = CONV2D_FWD, .gen = GEN(N01), \
   .gen2 = GEN(N01), .tol = AGREE_TOL_GEMM, .conv = {.g = geom, .cout = cout_, .groups = groups_}}, \
  {.id = "conv2d/dx_" name, .fam = &fam_conv2d, .op = CONV2D_DX, .gen = GEN(N01), \
   .gen2 = GEN(N01), .tol = AGREE_TOL_GEMM, .conv = {.g = geom, .cout = cout_, .groups = groups_}}, \
  {.id = "conv2d/dw_" name, .fam = &fam_conv2d, .op = CONV2D_DW, .gen = GEN(N01), \
   .gen2 = GEN(N01), .tol = AGREE_TOL_GEMM, .conv = {.g = geom, .cout = cout_, .groups = groups_}}
/* Batch norm over (n, c, h, w); tolerances: statistics are long sums, then a sqrt
 * and a division (AGREE_TOL_NORM). */
#define BNC(fam_, name, mode, n_, c_, h_, w_, gen_, flags_) \
  {.id = name, .fam = &fam_, .op = mode, .gen = GEN(gen_), .tol = AGREE_TOL_NORM, \
   .flags = flags_, .conv = {.g = {.n = n_, .c = c_, .h = h_, .w = w_}}}
/* Each shape list is expanded once per family, so a family's cases stay together. */
#define BN_FWD(name, n_, c_, h_, w_, gen_, flags_) \
  BNC(fam_bn, "batchnorm/train_" name, MB_BN_TRAIN, n_, c_, h_, w_, gen_, flags_), \
  BNC(fam_bn, "batchnorm/eval_" name, MB_BN_EVAL, n_, c_, h_, w_, gen_, flags_),
#define BN_BWD(name, n_, c_, h_, w_, gen_, flags_) \
  BNC(fam_bn_bwd, "batchnorm_bwd/train_" name, MB_BN_TRAIN, n_, c_, h_, w_, gen_, flags_), \
  BNC(fam_bn_bwd, "batchnorm_bwd/eval_" name, MB_BN_EVAL, n_, c_, h_, w_, gen_, flags_),
/* Pooling forward and backward; cp = count_pad (AVG). */
#define POOLC(fam_, name, kind, cp, gen_, tol_, ...) \
  {.id = name, .fam = &fam_, .op = kind, .gen = GEN(gen_), .gen2 = GEN(N01), .tol = tol_, \
   .conv = {.g = __VA_ARGS__, .cout = cp}}
/* The geometry comes last (a braced WIN(...) holds commas). */
#define MAX_FWD(name, gen_, ...) \
  POOLC(fam_pool, "pool/max_" name, MB_POOL_MAX, 0, gen_, EXACT, __VA_ARGS__),
#define MAX_BWD(name, gen_, ...) \
  POOLC(fam_pool_bwd, "pool_bwd/max_" name, MB_POOL_MAX, 0, gen_, ELT, __VA_ARGS__),
#define AVG_FWD(name, cp, gen_, ...) \
  POOLC(fam_pool, "pool/avg_" name, MB_POOL_AVG, cp, gen_, AGREE_TOL_REDUCE, __VA_ARGS__),
#define AVG_BWD(name, cp, gen_, ...) \
  POOLC(fam_pool_bwd, "pool_bwd/avg_" name, MB_POOL_AVG, cp, gen_, ELT, __VA_ARGS__),

/* ResNet-18 BN layers (CIFAR stages, the ImageNet stem at 112 px, the 1×1 head), a
 * large mean (E[x²] − E[x]² in f32 would lose the variance), odd and single-element
 * channels, in place, and NaN/inf parity with 6 elements per channel (some stay finite). */
#define BN_SHAPES(X) \
  X("c64_32x32_b4", 4, 64, 32, 32, G(NORMAL, 0.5f, 2.0f), 0) \
  X("c128_16x16_b4", 4, 128, 16, 16, G(NORMAL, 0.5f, 2.0f), 0) \
  X("c256_8x8_b4", 4, 256, 8, 8, G(NORMAL, 0.5f, 2.0f), 0) \
  X("c512_4x4_b8", 8, 512, 4, 4, G(NORMAL, 0.5f, 2.0f), 0) \
  X("imagenet_stem_c64_112x112_b2", 2, 64, 112, 112, N01, 0) \
  X("offset100_c16_33x7_b3", 3, 16, 33, 7, G(NORMAL, 100.0f, 1.0f), 0) \
  X("odd_c3_7x5_b3", 3, 3, 7, 5, N01, 0) \
  X("one_c5_1x1_b1", 1, 5, 1, 1, N01, 0) \
  X("head_c512_1x1_b7", 7, 512, 1, 1, N01, 0) \
  X("inplace_c32_8x8_b2", 2, 32, 8, 8, G(NORMAL, 0.5f, 2.0f), AGREE_ALIAS) \
  X("special_c16_1x3_b2", 2, 16, 1, 3, G(SPECIAL, 0, 2), 0)

/* Layer norm (eps 1e-5, PyTorch's default) and softmax over rows; tolerances: a row's
 * statistics, then sqrt and division (AGREE_TOL_NORM); softmax's exponentials
 * (TRANSC); softmax_bwd's row dot product (GEMM). */
#define LN_EPS 1e-5f
#define ROWC(fam_, name, tol_, r_, c_, outs, gen_, gen2_, flags_) \
  {.id = name, .fam = &fam_, .gen = GEN(gen_), .gen2 = GEN(gen2_), .tol = tol_, \
   .flags = flags_, .rows = {.rows = r_, .cols = c_, .eps = LN_EPS, .outputs = outs}}
#define LN_ALL_FWD (AGREE_LN_MEAN | AGREE_LN_RSTD)
#define LN_ALL_BWD (AGREE_LN_DX | AGREE_LN_DGAMMA | AGREE_LN_DBETA)
/* with the optional outputs outs (AGREE_LN_*) only */
#define LNF_OUT(name, r_, c_, outs, gen_, flags_) \
  ROWC(fam_ln, "layernorm/" name, AGREE_TOL_NORM, r_, c_, outs, gen_, NOGEN, flags_)
#define LNB_OUT(name, r_, c_, outs, gen_, flags_) \
  ROWC(fam_ln_bwd, "layernorm_bwd/" name, AGREE_TOL_NORM, r_, c_, outs, gen_, NOGEN, flags_)
#define LN_FWD(name, r_, c_, gen_, flags_) LNF_OUT(name, r_, c_, LN_ALL_FWD, gen_, flags_),
#define LN_BWD(name, r_, c_, gen_, flags_) LNB_OUT(name, r_, c_, LN_ALL_BWD, gen_, flags_),
#define SM_FWD(name, r_, c_, gen_, flags_) \
  ROWC(fam_softmax, "softmax/" name, TRANSC, r_, c_, 0, gen_, NOGEN, flags_),
/* backward: y drawn in [0, 1) as probabilities are, dy from the case's distribution */
#define SM_BWD(name, r_, c_, gen_, flags_) \
  ROWC(fam_softmax_bwd, "softmax_bwd/" name, AGREE_TOL_GEMM, r_, c_, 0, G(UNIFORM, 0, 1), gen_, \
       flags_),

/* Swin-T's token norms at batch 2 (stages of 3136, 784, 196, 49 tokens at c = 96, 192,
 * 384, 768; patch merging's 4c norms at the next stage's tokens), a large mean, odd
 * widths (c = 1: the variance is 0 and y = beta), a single row, in place, and NaN/inf
 * parity with 3 elements per row (most rows stay finite). */
#define LN_SHAPES(X) \
  X("swin_s1_2x3136_c96", 2 * 3136, 96, G(NORMAL, 0.5f, 2.0f), 0) \
  X("swin_s2_2x784_c192", 2 * 784, 192, G(NORMAL, 0.5f, 2.0f), 0) \
  X("swin_s3_2x196_c384", 2 * 196, 384, G(NORMAL, 0.5f, 2.0f), 0) \
  X("swin_s4_2x49_c768", 2 * 49, 768, G(NORMAL, 0.5f, 2.0f), 0) \
  X("swin_merge1_2x784_c384", 2 * 784, 384, N01, 0) \
  X("swin_merge2_2x196_c768", 2 * 196, 768, N01, 0) \
  X("swin_merge3_2x49_c1536", 2 * 49, 1536, N01, 0) \
  X("offset100_33_c96", 33, 96, G(NORMAL, 100.0f, 1.0f), 0) \
  X("odd_7_c1", 7, 1, N01, 0) \
  X("odd_5_c3", 5, 3, N01, 0) \
  X("one_1_c1000", 1, 1000, N01, 0) \
  X("odd_67_c1000", 67, 1000, G(NORMAL, 0.5f, 2.0f), 0) \
  X("inplace_64_c96", 64, 96, G(NORMAL, 0.5f, 2.0f), AGREE_ALIAS) \
  X("special_64_c3", 64, 3, G(SPECIAL, 0, 2), 0) \
  X("inf_64_c5", 64, 5, G(INF, 0, 2), 0)

/* Swin-T's window attention at batch 2 (7×7 windows: 49 columns; rows = 2 · windows ·
 * heads · 49 for the four stages), long and odd rows, a single column, a shift of 100
 * (exp overflows without the max), in place, masked entries (-inf), and rows without a
 * finite value. */
#define SM_SHAPES(X) \
  X("swin_s1_2x64x3x49", 2 * 64 * 3 * 49, 49, G(NORMAL, 0, 3), 0) \
  X("swin_s2_2x16x6x49", 2 * 16 * 6 * 49, 49, G(NORMAL, 0, 3), 0) \
  X("swin_s3_2x4x12x49", 2 * 4 * 12 * 49, 49, G(NORMAL, 0, 3), 0) \
  X("swin_s4_2x1x24x49", 2 * 1 * 24 * 49, 49, G(NORMAL, 0, 3), 0) \
  X("rows7_c1000", 7, 1000, G(NORMAL, 0, 3), 0) \
  X("one_1_c4099", 1, 4099, G(NORMAL, 0, 3), 0) \
  X("odd_33_c3", 33, 3, G(NORMAL, 0, 3), 0) \
  X("cols1_5", 5, 1, G(NORMAL, 0, 3), 0) \
  X("shift100_128_c49", 128, 49, G(NORMAL, 100, 4), 0) \
  X("inplace_2x3x49_c49", 2 * 3 * 49, 49, G(NORMAL, 0, 3), AGREE_ALIAS) \
  X("special_128_c5", 128, 5, G(SPECIAL, 0, 2), 0) \
  X("inf_128_c5", 128, 5, G(INF, 0, 2), 0) \
  X("nonfinite_64_c2", 64, 2, G(NONFINITE, 0, 2), 0)

/* The ImageNet stem max-pool 3×3/2 pad 1, ties (an input chosen by several overlapping
 * windows), odd windows, NaN/inf parity. */
#define MAX_SHAPES(X) \
  X("imagenet_c64_112x112_k3s2p1_b2", N01, WIN(2, 64, 112, 112, 3, 3, 2, 1)) \
  X("ties_c8_17x13_k3s2p1_b3", G(TIES, -2, 2), WIN(3, 8, 17, 13, 3, 3, 2, 1)) \
  X("ties_c4_9x9_k3s1p1_b2", G(TIES, -1, 1), WIN(2, 4, 9, 9, 3, 3, 1, 1)) \
  X("c16_32x32_k2s2p0_b2", N01, WIN(2, 16, 32, 32, 2, 2, 2, 0)) \
  X("odd_c3_7x5_k3x2s2p1_b3", N01, WIN(3, 3, 7, 5, 3, 2, 2, 1)) \
  X("special_c8_12x12_k3s2p1_b2", G(SPECIAL, 0, 2), WIN(2, 8, 12, 12, 3, 3, 2, 1)) \
  X("inf_c8_12x12_k3s2p1_b2", G(INF, 0, 2), WIN(2, 8, 12, 12, 3, 3, 2, 1))

/* The CIFAR head (avg-pool 4×4 of layer4, i.e. global) and the ImageNet 7×7 head,
 * padded windows with and without count_pad, NaN parity. */
#define AVG_SHAPES(X) \
  X("cifar_head_c512_4x4_k4s4_b8", 1, N01, WIN(8, 512, 4, 4, 4, 4, 4, 0)) \
  X("imagenet_head_c512_7x7_k7s1_b2", 1, N01, WIN(2, 512, 7, 7, 7, 7, 1, 0)) \
  X("c16_32x32_k2s2p0_b2", 1, N01, WIN(2, 16, 32, 32, 2, 2, 2, 0)) \
  X("pad_c8_17x13_k3s2p1_b3_countpad", 1, N01, WIN(3, 8, 17, 13, 3, 3, 2, 1)) \
  X("pad_c8_17x13_k3s2p1_b3_nocountpad", 0, N01, WIN(3, 8, 17, 13, 3, 3, 2, 1)) \
  X("special_c8_12x12_k3s2p1_b2", 1, G(SPECIAL, 0, 2), WIN(2, 8, 12, 12, 3, 3, 2, 1))

static const agree_case k_cases[] = {
  /* ---- memory ---- */
  MEM("fill_1", MEM_FILL, 1, 0x3f800000u, 0),
  MEM("fill_nan_100003", MEM_FILL, 100003, 0x7fc12345u, 1),
  MEM("copy_1", MEM_COPY, 1, 0, 0),
  MEM("copy_257", MEM_COPY, 257, 0, 3),
  MEM("copy_100003", MEM_COPY, 100003, 0, 0),
  MEM("roundtrip_1", MEM_ROUNDTRIP, 1, 0, 0),
  MEM("roundtrip_33", MEM_ROUNDTRIP, 33, 0, 1),
  MEM("roundtrip_100003", MEM_ROUNDTRIP, 100003, 0, 0),
  {.id = "timer/fill_1000003", .fam = &fam_timer, .op = MEM_FILL, .tol = EXACT,
   .mem = {.n = 1000003, .bits = 0x40490fdbu}},

  /* ---- gemm ---- */
  MM4("1x1x1", 1, 1, 1),
  MM4("7x33x127", 7, 33, 127),
  MM4("127x7x33", 127, 7, 33),
  MM4("33x257x7", 33, 257, 7),
  MM4("257x127x257", 257, 127, 257),
  /* The MLP 784→1000→10 at batch 128: forward x·Wᵀ, weight grads dYᵀ·X, input grads dY·W. */
  MM("nt_128x1000x784_mlp_fwd1", 0, 1, 128, 1000, 784),
  MM("nt_128x10x1000_mlp_fwd2", 0, 1, 128, 10, 1000),
  MM("tn_1000x784x128_mlp_dw1", 1, 0, 1000, 784, 128),
  MM("tn_10x1000x128_mlp_dw2", 1, 0, 10, 1000, 128),
  MM("nn_128x784x1000_mlp_dx1", 0, 0, 128, 784, 1000),
  MM("nn_128x1000x10_mlp_dx2", 0, 0, 128, 1000, 10),
  MM("nt_4x4x4608_longk", 0, 1, 4, 4, 4608),
  /* The 10 codes through the MLP's first layer (cpu: its own small-M kernel), and that
   * kernel's odd shapes: k % 8, n % 4, odd m, padded rows, batches, α. */
  MM("nt_10x1000x784_codes_fwd", 0, 1, 10, 1000, 784),
  GEMM("nt_11x259x37_alpha_ldpad_batch2", 0, 1, 11, 259, 37, -2.0f, 0.0f, 3, 2, 1),
  GEMM("tn_10x1000x128_accumulate", 1, 0, 10, 1000, 128, 1.0f, 1.0f, 0, 1, 0),
  GEMM("nt_65x33x17_alpha", 0, 1, 65, 33, 17, -2.0f, 0.0f, 0, 1, 0),
  GEMM("nn_33x65x17_beta", 0, 0, 33, 65, 17, 0.5f, 1.0f, 0, 1, 0),
  GEMM("tt_64x64x64_beta", 1, 1, 64, 64, 64, 2.0f, -0.5f, 0, 1, 0),
  GEMM("nn_33x17x9_ldpad", 0, 0, 33, 17, 9, 1.0f, 0.0f, 3, 1, 0),
  GEMM("nt_17x33x9_ldpad", 0, 1, 17, 33, 9, 1.0f, 0.0f, 5, 1, 0),
  GEMM("tn_9x17x33_ldpad", 1, 0, 9, 17, 33, 1.0f, 0.0f, 1, 1, 0),
  GEMM("tt_31x9x17_ldpad_beta", 1, 1, 31, 9, 17, -1.0f, 0.25f, 2, 1, 0),
  GEMM("nn_16x16x16_batch3", 0, 0, 16, 16, 16, 1.0f, 0.0f, 0, 3, 7),
  GEMM("nt_7x33x5_batch5_ldpad", 0, 1, 7, 33, 5, 1.0f, 0.0f, 2, 5, 1),
  GEMM("tn_33x7x65_batch2_beta", 1, 0, 33, 7, 65, 0.75f, 1.0f, 0, 2, 0),
  GEMM("tt_5x9x7_batch4_beta", 1, 1, 5, 9, 7, 1.0f, 0.5f, 1, 4, 3),
  /* The blocks of Vulkan's GPU designs (MB_VK_GEMM): 64×64 cooperative-matrix blocks
   * with 16-deep slices, 8×256 subgroup blocks with k slices of the subgroup size
   * (8..64): partial last blocks and slices, then whole ones, batched with beta. */
  MM4("67x300x100", 67, 300, 100),
  GEMM("nn_128x256x48_blocks_batch2_beta", 0, 0, 128, 256, 48, 1.0f, -1.0f, 0, 2, 5),
  /* Launch dimensions above 65535 in each grid axis. */
  MM("nn_70000x3x5", 0, 0, 70000, 3, 5),
  MM("nt_3x70000x5", 0, 1, 3, 70000, 5),
  GEMM("nn_2x2x2_batch70000", 0, 0, 2, 2, 2, 1.0f, 0.0f, 0, 70000, 0),

  /* ---- per-sample squared gradients (gemm_sq_acc) ----
   * a Swin linear (dyᵀx over a sample's tokens), its patch embedding, ResNeXt's grouped
   * conv (item n·G + j), a late conv at one output pixel (K = 1), a long-K early conv,
   * the cpu backend's small-kernel shape (≤ 16 rows, wide), odd layouts, non-finite input */
  GEMM_SQ("swin_linear_tn_96x32_k49_b3", 1, 0, 96, 32, 49, 1.0f, 0, 3, 1, 0, N01),
  GEMM_SQ("swin_patch_tt_96x48_k64_b2", 1, 1, 96, 48, 64, 1.0f, 0, 2, 1, 0, N01),
  GEMM_SQ("resnext_nt_4x36_k16_g8_b2", 0, 1, 4, 36, 16, 1.0f, 0, 16, 8, 0, N01),
  GEMM_SQ("late_conv_nt_64x576_k1_b4", 0, 1, 64, 576, 1, 1.0f, 0, 4, 1, 0, N01),
  GEMM_SQ("early_conv_nt_64x72_k784_b3", 0, 1, 64, 72, 784, 1.0f, 0, 3, 1, 0, N01),
  GEMM_SQ("small_nt_10x300x33_b3", 0, 1, 10, 300, 33, 1.0f, 0, 3, 1, 0, N01),
  GEMM_SQ("small_nt_10x300x9_b4", 0, 1, 10, 300, 9, 1.0f, 0, 4, 1, 0, N01),
  GEMM_SQ("tails_nt_37x50_k3_b5", 0, 1, 37, 50, 3, 1.0f, 0, 5, 1, 0, N01),
  GEMM_SQ("odd_nn_13x17x5_alpha_ldpad_b5", 0, 0, 13, 17, 5, -2.0f, 3, 5, 1, 7, N01),
  GEMM_SQ("odd_tt_9x11x7_g3_b6", 1, 1, 9, 11, 7, 0.5f, 1, 6, 3, 2, N01),
  GEMM_SQ("one_sample_nt_1x1x1", 0, 1, 1, 1, 1, 1.0f, 0, 1, 1, 0, N01),
  GEMM_SQ("special_nt_12x40_k6_b3", 0, 1, 12, 40, 6, 1.0f, 0, 3, 1, 0, G(SPECIAL, 0, 2)),

  /* ---- unary ---- */
  UN3("affine", MB_UN_AFFINE, 1.5f, -0.25f, G(MIXED, 0, 2), ELT),
  UN3("sqr", MB_UN_SQR, 0, 0, G(MIXED, 0, 2), ELT),
  UN3("sqrt", MB_UN_SQRT, 0, 0, G(UNIFORM, 0, 1000), ELT),
  UN3("exp", MB_UN_EXP, 0, 0, G(MIXED, 0, 8), TRANSC),
  UN3("log", MB_UN_LOG, 0, 0, G(UNIFORM, 1e-4f, 1e4f), TRANSC),
  UN3("recip", MB_UN_RECIP, 0, 0, G(AWAY, 1e-3f, 1e3f), ELT),
  UN3("sigmoid", MB_UN_SIGMOID, 0, 0, G(MIXED, 0, 8), TRANSC),
  UN3("relu", MB_UN_RELU, 0, 0, G(MIXED, 0, 2), EXACT),
  UN3("abs", MB_UN_ABS, 0, 0, G(MIXED, 0, 2), EXACT),
  UN3("clamp", MB_UN_CLAMP, -1.0f, 2.0f, G(MIXED, 0, 2), EXACT),
  UN3("min_s", MB_UN_MIN_S, 0.5f, 0, G(MIXED, 0, 2), EXACT),
  UN3("max_s", MB_UN_MAX_S, -0.5f, 0, G(MIXED, 0, 2), EXACT),
  UN3("nan_to", MB_UN_NAN_TO, 0.0f, 0, G(SPECIAL, 0, 2), EXACT),
  UN3("gt_s", MB_UN_GT_S, 0.1f, 0, G(MIXED, 0, 2), EXACT),
  UN3("gelu", MB_UN_GELU, 0, 0, G(NORMAL, 0, 3), TRANSC),
  /* the negative tail, where 1 + erf(x/√2) in f32 cancels (x·Φ(x) down to ~1e-22): a
   * plain f32 0.5·x·(1 + erff(x/√2)) fails it (NMSE 1.5e-9, max error 2.0e-5, seen) */
  ELTW(fam_unary, "unary/gelu_tail", MB_UN_GELU, 4099, 0, 0, G(UNIFORM, -10, -3), NOGEN, TRANSC,
       0, 0),
  /* Swin-T's MLP activation at batch 2: 2·3136 tokens × 384 hidden units */
  ELTW(fam_unary, "unary/gelu_swin_2x3136x384", MB_UN_GELU, 2 * 3136 * 384, 0, 0, N01, NOGEN,
       TRANSC, 0, 0),
  /* > 65535·256 elements: 1-D launches need a second grid dimension (uniform: cheap to draw) */
  ELTW(fam_unary, "unary/relu_16776967", MB_UN_RELU, 16776967, 0, 0, G(UNIFORM, -1, 1), NOGEN,
       EXACT, 0, 0),

  /* ---- binary ---- */
  BIN3("axpby", MB_BIN_AXPBY, 0.75f, -1.25f, G(MIXED, 0, 2), NOGEN, ELT),
  BIN3("mul", MB_BIN_MUL, -1.5f, 0, G(MIXED, 0, 2), NOGEN, ELT),
  BIN3("div", MB_BIN_DIV, 0, 0, G(MIXED, 0, 2), G(AWAY, 1e-2f, 1e2f), ELT),
  BIN3("min", MB_BIN_MIN, 0, 0, G(TIES, -3, 3), NOGEN, EXACT),
  BIN3("max", MB_BIN_MAX, 0, 0, G(TIES, -3, 3), NOGEN, EXACT),
  BIN3("add_sqr", MB_BIN_ADD_SQR, 0.3f, 0, G(MIXED, 0, 2), NOGEN, ELT),
  BIN3("sigmoid_bwd", MB_BIN_SIGMOID_BWD, 0, 0, G(NORMAL, 0, 2), G(UNIFORM, 0, 1), ELT),
  BIN3("relu_bwd", MB_BIN_RELU_BWD, 0, 0, G(MIXED, 0, 2), NOGEN, EXACT),
  BIN3("gt", MB_BIN_GT, 0.5f, 0, G(MIXED, 0, 2), NOGEN, EXACT),
  BIN3("gelu_bwd", MB_BIN_GELU_BWD, 0, 0, N01, G(NORMAL, 0, 3), TRANSC),
  ELTW(fam_binary, "binary/gelu_bwd_tail", MB_BIN_GELU_BWD, 4099, 0, 0, N01, G(UNIFORM, -10, -3),
       TRANSC, 0, 0),
  ELTW(fam_binary, "binary/gelu_bwd_swin_2x3136x384", MB_BIN_GELU_BWD, 2 * 3136 * 384, 0, 0, N01,
       N01, TRANSC, 0, 0),

  /* ---- where ---- */
  ELTW(fam_where, "where/100003", 0, 100003, 0, 0, N01, N01, EXACT, 0, 0),
  ELTW(fam_where, "where/special", 0, 4099, 0, 0, G(SPECIAL, 0, 2), G(SPECIAL, 0, 2), EXACT, 0, 0),
  ELTW(fam_where, "where/inplace", 0, 1001, 0, 0, N01, N01, EXACT, AGREE_ALIAS, 1),

  /* ---- bcast ---- */
  BC_SHAPES("add", MB_BC_ADD, N01),
  BC_SHAPES("mul", MB_BC_MUL, N01),
  BC_SHAPES("sub", MB_BC_SUB, N01),
  BC_SHAPES("div", MB_BC_DIV, G(AWAY, 0.5f, 2.0f)),
  D3(fam_bcast, "bcast/add_bias_inplace", MB_BC_ADD, 128, 1000, 1, N01, N01, ELT, AGREE_ALIAS),
  D3(fam_bcast, "bcast/mul_nchw_inplace", MB_BC_MUL, 2, 64, 1024, N01, N01, ELT, AGREE_ALIAS),
  D3(fam_bcast, "bcast/div_special", MB_BC_DIV, 3, 17, 33, G(SPECIAL, 0, 2), G(SPECIAL, 0, 2),
     ELT, 0),

  /* ---- reduce ---- */
  /* Positive means keep the long sums well conditioned, so NMSE measures the order. */
  RED_SHAPES("sum", MB_RED_SUM, G(NORMAL, 0.5f, 1.0f), AGREE_TOL_REDUCE),
  RED_SHAPES("sumsq", MB_RED_SUMSQ, N01, AGREE_TOL_REDUCE),
  RED_SHAPES("max", MB_RED_MAX, N01, EXACT),
  RED_SHAPES("max_finite", MB_RED_MAX_FINITE, G(SPECIAL, 0, 1), EXACT),
  RED_SHAPES("argmax", MB_RED_ARGMAX, G(TIES, -2, 2), EXACT),
  RED("max_special_rows_128x10", MB_RED_MAX, 128, 10, 1, G(SPECIAL, 0, 1), EXACT),
  /* max_finite with whole rows of NaN/inf gives -inf */
  RED("max_finite_nonfinite_64x2", MB_RED_MAX_FINITE, 64, 2, 1, G(NONFINITE, 0, 1), EXACT),
  RED("argmax_inf_rows_128x10", MB_RED_ARGMAX, 128, 10, 1, G(INF, 0, 1), EXACT),
  /* NaN is never greater: a leading NaN is skipped, an all-NaN row gives 0 */
  RED("argmax_nan_rows_128x3", MB_RED_ARGMAX, 128, 3, 1, G(NONFINITE, 0, 1), EXACT),
  RED("sum_special_rows_128x10", MB_RED_SUM, 128, 10, 1, G(SPECIAL, 0, 1), AGREE_TOL_REDUCE),

  /* ---- seg_reduce / seg_bcast ---- */
  SRED("sum", MB_RED_SUM, N01, AGREE_TOL_REDUCE),
  SRED("sumsq", MB_RED_SUMSQ, N01, AGREE_TOL_REDUCE),
  SRED("max", MB_RED_MAX, N01, EXACT),
  SRED("max_finite", MB_RED_MAX_FINITE, G(SPECIAL, 0, 1), EXACT),
  SEG(fam_seg_reduce, "seg_reduce/max_special_odd", MB_RED_MAX, k_odd_offs, 7, 0,
      G(SPECIAL, 0, 1), NOGEN, EXACT, 0),
  /* more segments than a grid axis holds (one workgroup per segment is common) */
  SEG(fam_seg_reduce, "seg_reduce/sum_70000x3", MB_RED_SUM, NULL, 70000, 3, N01, NOGEN,
      AGREE_TOL_REDUCE, 0),
  SEG(fam_seg_reduce, "seg_reduce/max_finite_70000x3", MB_RED_MAX_FINITE, NULL, 70000, 3,
      G(SPECIAL, 0, 1), NOGEN, EXACT, 0),
  SBC("mul", MB_SEGBC_MUL, N01, N01, ELT),
  SBC("add", MB_SEGBC_ADD, N01, N01, ELT),
  SBC("inf_to", MB_SEGBC_INF_TO, G(SPECIAL, 0, 1), N01, EXACT),
  SEG(fam_seg_bcast, "seg_bcast/mul_70000x3", MB_SEGBC_MUL, NULL, 70000, 3, N01, N01, ELT, 0),

  /* ---- softmax_xent ---- */
  XENT("1x10", 1, 10, 1.0f, XALL, G(NORMAL, 0, 3), 0),
  XENT("7x10", 7, 10, 1.0f / 7, XALL, G(NORMAL, 0, 3), 0),
  XENT("128x10", 128, 10, 1.0f / 128, XALL, G(NORMAL, 0, 3), 0),
  XENT("257x10", 257, 10, 0.37f, XALL, G(NORMAL, 0, 3), 0),
  XENT("1x1000", 1, 1000, 1.0f, XALL, G(NORMAL, 0, 3), 0),
  XENT("7x1000", 7, 1000, 2.5f, XALL, G(NORMAL, 0, 3), 0),
  XENT("128x1000", 128, 1000, 1.0f / 128, XALL, G(NORMAL, 0, 3), 0),
  XENT("257x1000", 257, 1000, 1.0f / 257, XALL, G(NORMAL, 0, 3), 0),
  /* exp(100) overflows f32: only a max-subtracting kernel passes. */
  XENT("128x10_shift100", 128, 10, 1.0f / 128, XALL, G(NORMAL, 100, 4), 0),
  XENT("257x1000_shift100", 257, 1000, 1.0f, XALL, G(NORMAL, 100, 4), 0),
  XENT("128x10_loss_only", 128, 10, 1.0f, AGREE_XENT_LOSS, G(NORMAL, 0, 3), 0),
  XENT("128x10_dlogits_only", 128, 10, 0.5f, AGREE_XENT_DLOGITS, G(NORMAL, 0, 3), 0),
  XENT("128x10_probs_only", 128, 10, 1.0f, AGREE_XENT_PROBS, G(NORMAL, 0, 3), 0),
  XENT("128x10_inplace", 128, 10, 1.0f / 128, AGREE_XENT_LOSS | AGREE_XENT_DLOGITS,
       G(NORMAL, 0, 3), AGREE_ALIAS),
  XENT("257x1000_inplace_all", 257, 1000, 0.37f, XALL, G(NORMAL, 0, 3), AGREE_ALIAS),

  /* ---- gather_rows ---- */
  GATHER("f32_128x784", 128, 784, 1000, 0, 0.0f, 0),
  GATHER("i32_labels_128", 128, 1, 60000, 0, 0.0f, 1),
  GATHER("odd_33x7", 33, 7, 50, 0, 0.0f, 3),
  GATHER("rows_70000x3", 70000, 3, 100, 0, 0.0f, 0),
  GATHER("u8_128x784", 128, 784, 1000, 1, 1.0f / 255, 0),
  GATHER("u8_odd_17x33", 17, 33, 40, 1, 0.5f, 1),     /* rows start at unaligned bytes */
  GATHER("u8_1x1", 1, 1, 3, 1, 1.0f, 0),

  /* ---- optim ---- */
  SGD("sgd_first_100003", 100003, 0.01f, 5e-4f, 0.9f, 0.0f, 1),
  SGD("sgd_later_100003", 100003, 0.01f, 5e-4f, 0.9f, 0.0f, 0),
  SGD("sgd_dampening_1001", 1001, 0.1f, 0.0f, 0.9f, 0.1f, 0),
  SGD("sgd_first_dampening_1001", 1001, 0.1f, 1e-2f, 0.5f, 0.3f, 1),
  SGD("sgd_later_mlp", 795010, 0.01f, 0.0f, 0.9f, 0.0f, 0),
  ADAM("adam_t1_100003", 100003, 1e-3f, 1e-4f, 0.9f, 0.999f, 1e-8f, 1),
  ADAM("adam_t5_100003", 100003, 1e-3f, 1e-4f, 0.9f, 0.999f, 1e-8f, 5),
  ADAM("adam_t5_nowd_1001", 1001, 1e-2f, 0.0f, 0.8f, 0.99f, 1e-6f, 5),
  ADAM("adam_t1000_mlp", 795010, 1e-3f, 5e-4f, 0.9f, 0.999f, 1e-8f, 1000),

  /* ---- rng ---- */
  RNG("u32_1", MB_RNG_U32, 1, 0, 0, 0, 0),
  RNG("u32_1001", MB_RNG_U32, 1001, 7, 0, 0, 1),
  RNG("u32_16776963", MB_RNG_U32, 16776963, 0x100000005ull, 0, 0, 0),
  RNG("uniform_1003", MB_RNG_UNIFORM, 1003, 3, -1.0f, 3.0f, 0),
  /* p1 - p0 = 0.6 rounds: a contracted (FMA) p0 + (p1-p0)·u is not bit-identical. */
  RNG("uniform_0.1_0.7_4099", MB_RNG_UNIFORM, 4099, 5, 0.1f, 0.7f, 0),
  RNG("uniform_1000003", MB_RNG_UNIFORM, 1000003, 0xffffffff00000001ull, 0.0f, 1.0f, 2),
  RNG("normal_1", MB_RNG_NORMAL, 1, 0, 0.0f, 1.0f, 0),
  RNG("normal_1001", MB_RNG_NORMAL, 1001, 11, 0.5f, 2.0f, 1),
  RNG("normal_1000003", MB_RNG_NORMAL, 1000003, 0x200000000ull, 0.0f, 0.01f, 0),

  /* ---- convolution ---- */
  CONV_GEOMS(fam_im2col, "im2col", EXACT),
  CONV_GEOMS(fam_col2im, "col2im", ELT),
  CONVC(fam_conv, "conv/c3_32x32_k3s1p1_b2_cout16", AGREE_TOL_GEMM,
        GEOM(2, 3, 32, 32, 3, 1, 1), 16),
  CONVC(fam_conv, "conv/c64_32x32_k1s2p0_b2_cout32", AGREE_TOL_GEMM,
        GEOM(2, 64, 32, 32, 1, 2, 0), 32),
  CONVC(fam_conv, "conv/stem_c3_224x224_k7s2p3_b2_cout8", AGREE_TOL_GEMM,
        GEOM(2, 3, 224, 224, 7, 2, 3), 8),
  /* ---- permute: the regroupings of core/conv.c at ResNet-18's layers (columns
   * [n][c·k·k][oh·ow] -> [c·k·k][n][oh·ow], dy [n][cout][oh·ow] -> [cout][n][oh·ow] and
   * back from [cout][n][oh·ow]), a plain transpose (inner 1), short odd rows at a
   * misaligned offset, unit axes, and more elements than one grid axis holds ---- */
  PERM("cols_cifar_stem_b4_27x1024", 4, 27, 1024, 0),
  PERM("cols_layer1_b4_576x1024", 4, 576, 1024, 0),
  PERM("cols_layer2_b4_1152x256", 4, 1152, 256, 0),
  PERM("cols_layer3_b8_2304x64", 8, 2304, 64, 0),
  PERM("cols_layer4_b16_4608x16", 16, 4608, 16, 0),
  PERM("cols_fmnist_layer3_b8_2304x49", 8, 2304, 49, 0),
  PERM("cols_imagenet_layer4_b4_4608x49", 4, 4608, 49, 0),
  PERM("cols_shortcut_layer4_b16_256x16", 16, 256, 16, 0),
  PERM("dy_layer4_b16_512x16", 16, 512, 16, 0),
  PERM("y_layer4_512x16x16", 512, 16, 16, 0),
  PERM("transpose_33x257x1", 33, 257, 1, 0),
  PERM("odd_7x33x3", 7, 33, 3, 1),
  PERM("odd_5x3x17", 5, 3, 17, 3),
  PERM("outer1_1x5x7", 1, 5, 7, 0),
  PERM("mid1_6x1x5", 6, 1, 5, 0),
  PERM("big_2x4099x2047", 2, 4099, 2047, 0),

  /* ---- conv2d (core/conv.c over im2col/permute/col2im/gemm), ResNet-18 layers, batch > 1 ---- */
  CONV2D("cifar_stem_c3_32x32_k3s1p1_b3_cout64", GEOM(3, 3, 32, 32, 3, 1, 1), 64),
  CONV2D("c64_32x32_k3s1p1_b2_cout64", GEOM(2, 64, 32, 32, 3, 1, 1), 64),
  CONV2D("c64_32x32_k3s2p1_b2_cout128", GEOM(2, 64, 32, 32, 3, 2, 1), 128),
  CONV2D("short_c64_32x32_k1s2p0_b2_cout128", GEOM(2, 64, 32, 32, 1, 2, 0), 128),
  CONV2D("c128_16x16_k3s2p1_b2_cout256", GEOM(2, 128, 16, 16, 3, 2, 1), 256),
  CONV2D("c256_8x8_k3s1p1_b2_cout256", GEOM(2, 256, 8, 8, 3, 1, 1), 256),
  CONV2D("short_c256_8x8_k1s2p0_b3_cout512", GEOM(3, 256, 8, 8, 1, 2, 0), 512),
  CONV2D("c512_4x4_k3s1p1_b2_cout512", GEOM(2, 512, 4, 4, 3, 1, 1), 512),
  /* chunks of 2, 2 and a single image; the Fashion-MNIST stem has more outputs than rows */
  CONV2D("c512_4x4_k3s1p1_b5_cout512", GEOM(5, 512, 4, 4, 3, 1, 1), 512),
  CONV2D("fmnist_stem_c1_28x28_k3s1p1_b3_cout64", GEOM(3, 1, 28, 28, 3, 1, 1), 64),
  CONV2D("stem_c3_64x64_k7s2p3_b2_cout16", GEOM(2, 3, 64, 64, 7, 2, 3), 16),
  CONV2D("pointwise_c5_9x11_k1s1p0_b3_cout7", WIN(3, 5, 9, 11, 1, 1, 1, 0), 7),
  CONV2D("odd_c3_7x5_k3s2p2_b5_cout5", GEOM(5, 3, 7, 5, 3, 2, 2), 5),
  /* the input gradient added to dx, the weight gradient with beta (dw read) */
  {.id = "conv2d/dx_acc_c64_32x32_k3s2p1_b3_cout128", .fam = &fam_conv2d, .op = CONV2D_DX_ACC,
   .gen = GEN(N01), .tol = AGREE_TOL_GEMM, .conv = {.g = GEOM(3, 64, 32, 32, 3, 2, 1), .cout = 128}},
  {.id = "conv2d/dw_beta_c64_32x32_k3s2p1_b3_cout128", .fam = &fam_conv2d, .op = CONV2D_DW_BETA,
   .gen = GEN(N01), .tol = AGREE_TOL_GEMM, .conv = {.g = GEOM(3, 64, 32, 32, 3, 2, 1), .cout = 128}},
  {.id = "conv2d/dx_acc_pointwise_c5_9x11_k1s1p0_b3_cout7", .fam = &fam_conv2d,
   .op = CONV2D_DX_ACC, .gen = GEN(N01), .tol = AGREE_TOL_GEMM,
   .conv = {.g = WIN(3, 5, 9, 11, 1, 1, 1, 0), .cout = 7}},
  {.id = "conv2d/dw_beta_pointwise_c5_9x11_k1s1p0_b3_cout7", .fam = &fam_conv2d,
   .op = CONV2D_DW_BETA, .gen = GEN(N01), .tol = AGREE_TOL_GEMM,
   .conv = {.g = WIN(3, 5, 9, 11, 1, 1, 1, 0), .cout = 7}},
  /* ---- grouped conv2d: ResNeXt-50 32×4d's grouped 3×3 layers at 224 px (layer1, the
   * stride-2 first blocks of layers 2 and 4, layer4 at 7×7), then small odd ones: a
   * 1×1 grouped layer (the direct path), a partial last chunk, the accumulating passes ---- */
  CONV2DG("g32_c128_56x56_k3s1p1_b2_cout128", GEOM(2, 128, 56, 56, 3, 1, 1), 128, 32),
  CONV2DG("g32_c256_56x56_k3s2p1_b2_cout256", GEOM(2, 256, 56, 56, 3, 2, 1), 256, 32),
  CONV2DG("g32_c1024_14x14_k3s2p1_b2_cout1024", GEOM(2, 1024, 14, 14, 3, 2, 1), 1024, 32),
  CONV2DG("g32_c1024_7x7_k3s1p1_b3_cout1024", GEOM(3, 1024, 7, 7, 3, 1, 1), 1024, 32),
  CONV2DG("g3_c6_9x7_k3s2p1_b5_cout9", GEOM(5, 6, 9, 7, 3, 2, 1), 9, 3),
  CONV2DG("g2_c4_5x6_k3s1p2_b3_cout6", GEOM(3, 4, 5, 6, 3, 1, 2), 6, 2),
  CONV2DG("g4_pointwise_c8_7x5_k1s1p0_b3_cout12", WIN(3, 8, 7, 5, 1, 1, 1, 0), 12, 4),
  CONV2DG("g5_c5_6x6_k3s1p1_b2_cout5", GEOM(2, 5, 6, 6, 3, 1, 1), 5, 5),
  {.id = "conv2d/dx_acc_g32_c256_28x28_k3s2p1_b3_cout256", .fam = &fam_conv2d,
   .op = CONV2D_DX_ACC, .gen = GEN(N01), .tol = AGREE_TOL_GEMM,
   .conv = {.g = GEOM(3, 256, 28, 28, 3, 2, 1), .cout = 256, .groups = 32}},
  {.id = "conv2d/dw_beta_g32_c256_28x28_k3s2p1_b3_cout256", .fam = &fam_conv2d,
   .op = CONV2D_DW_BETA, .gen = GEN(N01), .tol = AGREE_TOL_GEMM,
   .conv = {.g = GEOM(3, 256, 28, 28, 3, 2, 1), .cout = 256, .groups = 32}},
  {.id = "conv2d/dw_beta_g4_pointwise_c8_7x5_k1s1p0_b3_cout12", .fam = &fam_conv2d,
   .op = CONV2D_DW_BETA, .gen = GEN(N01), .tol = AGREE_TOL_GEMM,
   .conv = {.g = WIN(3, 8, 7, 5, 1, 1, 1, 0), .cout = 12, .groups = 4}},

  /* ---- batchnorm / batchnorm_bwd: train (batch statistics) and eval ---- */
#define X BN_FWD
  BN_SHAPES(X)
#undef X
#define X BN_BWD
  BN_SHAPES(X)
#undef X

  /* ---- layernorm / layernorm_bwd: Swin-T's token norms, odd shapes, optional outputs ---- */
#define X LN_FWD
  LN_SHAPES(X)
#undef X
  LNF_OUT("no_stats_64_c96", 64, 96, 0, G(NORMAL, 0.5f, 2.0f), 0),
  LNF_OUT("mean_only_33_c7", 33, 7, AGREE_LN_MEAN, N01, 0),
  LNF_OUT("rstd_only_inplace_33_c7", 33, 7, AGREE_LN_RSTD, N01, AGREE_ALIAS),
#define X LN_BWD
  LN_SHAPES(X)
#undef X
  LNB_OUT("dx_only_64_c96", 64, 96, AGREE_LN_DX, N01, 0),
  LNB_OUT("dx_only_inplace_64_c96", 64, 96, AGREE_LN_DX, N01, AGREE_ALIAS),
  LNB_OUT("params_only_2x3136_c96", 2 * 3136, 96, AGREE_LN_DGAMMA | AGREE_LN_DBETA, N01, 0),
  LNB_OUT("dgamma_only_67_c1000", 67, 1000, AGREE_LN_DGAMMA, N01, 0),
  LNB_OUT("dbeta_only_odd_5_c3", 5, 3, AGREE_LN_DBETA, N01, 0),

  /* ---- softmax / softmax_bwd: Swin-T's attention rows, odd shapes ---- */
#define X SM_FWD
  SM_SHAPES(X)
#undef X
#define X SM_BWD
  SM_SHAPES(X)
#undef X

  /* ---- pool / pool_bwd ---- */
#define X MAX_FWD
  MAX_SHAPES(X)
#undef X
#define X AVG_FWD
  AVG_SHAPES(X)
#undef X
#define X MAX_BWD
  MAX_SHAPES(X)
#undef X
#define X AVG_BWD
  AVG_SHAPES(X)
#undef X

  /* ---- ReLU backward and the residual add at a ResNet activation (2×64×32×32) ---- */
  ELTW(fam_binary, "binary/relu_bwd_nchw_2x64x32x32", MB_BIN_RELU_BWD, 131072, 0, 0,
       G(MIXED, 0, 2), NOGEN, EXACT, 0, 0),
  ELTW(fam_binary, "binary/residual_add_nchw_2x64x32x32", MB_BIN_AXPBY, 131072, 1.0f, 1.0f,
       N01, N01, ELT, AGREE_ALIAS, 0),

  /* ---- the forgetting update (optional op, or the op chain), MLP table and odd segments:
   * Fisher values as the method makes them (positive, floored), then zeros, negatives and
   * non-finite values for the NaN and ±inf paths ---- */
  FORGET("mlp", k_mlp_offs, 4, G(UNIFORM, 1e-16f, 1e-2f), G(UNIFORM, 1e-16f, 1e-2f), 1e-3f, 10.0f, 0),
  FORGET("mlp_inplace", k_mlp_offs, 4, G(UNIFORM, 1e-16f, 1e-2f), G(UNIFORM, 1e-16f, 1e-2f),
         1e-3f, 10.0f, AGREE_ALIAS),
  FORGET("odd_alpha_lambda1", k_odd_offs, 7, G(UNIFORM, 1e-6f, 1.0f), G(UNIFORM, 1e-6f, 1.0f),
         1e-3f, 1e6f, 0),
  FORGET("odd_special", k_odd_offs, 7, G(SPECIAL, 0, 2), G(SPECIAL, 0, 2), 1e-3f, 10.0f, 0),
  FORGET("odd_nonfinite", k_odd_offs, 7, G(NONFINITE, 0, 2), G(MIXED, 0, 2), 1e-3f, 10.0f,
         AGREE_ALIAS),
  FORGET_SUMS("mlp_sums_inplace", k_mlp_offs, 4, G(UNIFORM, 1e-16f, 3e-2f),
              G(UNIFORM, 1e-16f, 9e-2f), 1e-3f, 10.0f, 1.0f / 3.0f, 1.0f / 9.0f, AGREE_ALIAS),
  FORGET_SUMS("odd_special_sums", k_odd_offs, 7, G(SPECIAL, 0, 2), G(SPECIAL, 0, 2), 1e-3f, 10.0f,
              0.5f, 1.0f / 7.0f, 0),
};

int agree_cases(const agree_case **out)
{
  *out = k_cases;
  return (int)(sizeof k_cases / sizeof k_cases[0]);
}

const agree_case *agree_case_find(const char *id)
{
  for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++)
    if (strcmp(k_cases[i].id, id) == 0) return &k_cases[i];
  return NULL;
}
