/* The backend op table: everything an algorithm may ask of a device.
 *
 * Conventions (every backend honours them; the agreement suite checks them):
 *  - All element types are 4 bytes: f32 data, i32 labels/indices, u32 RNG bits.
 *    A view is a buffer plus an offset counted in 4-byte elements.
 *  - Matrices are row-major.  Ops are asynchronous and run in submission order
 *    on one queue; only download(), sync() and timer_ms() make results visible
 *    to the host.
 *  - Ops never fail loudly: a backend records the first error in be->err with
 *    a one-line message and keeps status != MB_OK ("sticky"); later ops become
 *    no-ops.  Callers check mb_status_of() after a phase (see core/ops.h, which
 *    also validates every view against its buffer before the backend sees it).
 *  - Backends know nothing of models or unlearning: only these primitives.
 */
#ifndef MB_BACKEND_H
#define MB_BACKEND_H

#include <stddef.h>
#include <stdint.h>

/* 2: batchnorm, batchnorm_bwd, pool, pool_bwd; 3: permute; 4: the table made from
 * mb/ops.def, optional ops (conv2d_*, forget_update) and the engine name;
 * 5: mb_forget_args scale_forget, scale_remain; 6: the device info's tuning;
 * 7: layernorm, layernorm_bwd, softmax, softmax_bwd, unary GELU, binary GELU_BWD;
 * 8: optional gemm_sq_acc */
#define MB_ABI_VERSION 8

typedef enum {
  MB_OK = 0,
  MB_UNSUPPORTED,   /* op or argument combination not implemented here */
  MB_NO_DEVICE,     /* no driver / device for this backend */
  MB_OOM,           /* allocation failed */
  MB_BAD_ARG,       /* view out of bounds, bad shape (caught by core/ops.c) */
  MB_DEVICE_ERROR,  /* the API reported an error */
} mb_status;

typedef struct mb_buf {
  size_t bytes;     /* usable size; backends embed this as their first member */
} mb_buf;

typedef struct {
  mb_buf *buf;
  size_t off;       /* in 4-byte elements */
} mb_view;

typedef struct {
  char name[128];     /* stable device name, e.g. "NVIDIA H100 80GB HBM3" */
  char vendor[64];
  char driver[96];    /* driver / runtime version string */
  char api[64];       /* e.g. "CUDA 13.0", "Vulkan 1.3.230", "OpenCL 3.0 PoCL 3.1" */
  char type[16];      /* "gpu", "cpu", "other" */
  uint64_t mem_bytes; /* device memory (0 if unknown) */
  int has_device_timer; /* timer_ms() reads a device clock, not the host clock */
  char tuning[96];    /* library tuning in use, e.g. "clblast tuned: FILE" ("": none) */
} mb_device_info;

typedef struct mb_backend_ops mb_backend_ops;

/* Common head of every backend instance (backends embed it first). */
typedef struct mb_backend {
  const mb_backend_ops *ops;
  mb_device_info info;
  int device_index;
  int engine_generic; /* 1: the core ignores this instance's optional ops (see core/ops.h) */
  mb_status status;   /* sticky first error */
  char err[256];
} mb_backend;

typedef struct mb_timer mb_timer;   /* opaque; one begin/end pair */

/* ---- argument structs (POD, shared with device launchers) ---- */

typedef struct {
  int trans_a, trans_b;   /* op(A) is M×K, op(B) is K×N, C is M×N */
  int m, n, k;
  float alpha, beta;      /* C = alpha·op(A)·op(B) + beta·C  (beta == 0: C is not read) */
  mb_view a, b, c;
  int lda, ldb, ldc;      /* row strides of A, B, C as stored */
  int batch;              /* >= 1 */
  long stride_a, stride_b, stride_c; /* element strides between batch items */
} mb_gemm_args;

/* Sums of squared batched-GEMM items, the per-sample squared gradients of a layer's
 * weights: acc[(b mod groups)·m·n + i·n + j] += C_b[i][j]² for the items b = 0, 1, …
 * in order, where C_b = α·op(A_b)·op(B_b) is item b of g (g.beta, g.c, g.ldc and
 * g.stride_c are not used; g.batch is a multiple of groups: item b is sample b / groups,
 * group b mod groups).  Each square is rounded to f32 and added in f32, as
 * binary ADD_SQR does it. */
typedef struct {
  mb_gemm_args g;
  int groups;             /* >= 1 */
  mb_view acc;            /* [groups][m][n], accumulated */
} mb_gemm_sq_args;

/* The op codes come from mb/op_codes.def (one line each, with its formula). */
typedef enum {
#define MB_UN(NAME, name) MB_UN_##NAME,
#include "mb/op_codes.def"
  MB_UN__COUNT
} mb_unary_op;

typedef enum {
#define MB_BIN(NAME, name) MB_BIN_##NAME,
#include "mb/op_codes.def"
  MB_BIN__COUNT
} mb_binary_op;

/* y[o,m,i] = x[o,m,i] (op) v[m]   over a shape (outer, mid, inner).
 * Bias add on [B×O]: outer=B, mid=O, inner=1.  NCHW channel op: outer=N, mid=C, inner=H·W. */
typedef enum {
#define MB_BC(NAME, name) MB_BC_##NAME,
#include "mb/op_codes.def"
} mb_bcast_op;

/* y[o,i] = reduce over m of x[o,m,i]   (shape outer, mid, inner; y has outer·inner elements).
 * ARGMAX writes i32 indices (first maximum on ties).  Accumulation is at least f32
 * (ref: f64).  MAX_FINITE ignores NaN and ±inf; it yields -inf if none is finite. */
typedef enum {
#define MB_RED(NAME, name) MB_RED_##NAME,
#include "mb/op_codes.def"
} mb_reduce_op;

/* Segmented over a flat buffer: segment s covers [offs[s], offs[s+1]).
 * offs is a host array of nseg+1 entries (backends copy it as needed). */
typedef enum {
#define MB_SEGBC(NAME, name) MB_SEGBC_##NAME,
#include "mb/op_codes.def"
} mb_segbcast_op;

/* How many codes the families without a __COUNT enumerator have (kept out of
 * their enums so that switches over them stay exhaustive). */
enum {
  MB_BC__COUNT = 0
#define MB_BC(NAME, name) + 1
#include "mb/op_codes.def"
};
enum {
  MB_RED__COUNT = 0
#define MB_RED(NAME, name) + 1
#include "mb/op_codes.def"
};
enum {
  MB_SEGBC__COUNT = 0
#define MB_SEGBC(NAME, name) + 1
#include "mb/op_codes.def"
};

typedef struct {
  int rows, cols;       /* logits [rows×cols] */
  mb_view logits;
  mb_view labels;       /* i32 [rows], each in [0, cols) */
  mb_view loss;         /* per-row CE loss [rows], may be {NULL,0} */
  mb_view dlogits;      /* scale·(softmax − onehot) [rows×cols], may be {NULL,0}; may alias logits */
  mb_view probs;        /* softmax [rows×cols], may be {NULL,0} */
  float scale;          /* e.g. 1/batch for a mean loss */
} mb_xent_args;

typedef struct {
  mb_view src;       /* rows of length row_len */
  mb_view idx;       /* i32 [n_rows]: y row r = src row idx[r] */
  mb_view dst;
  int n_rows, row_len;
  int n_src_rows;    /* idx outside [0, n_src_rows) gives a row of zeros */
  int src_u8;        /* 0: 4-byte copy (f32 or i32, bit-exact).  1: src holds bytes, row r
                        starting at byte 4·src.off + idx[r]·row_len; dst = (float)byte · scale
                        (datasets stay on the device as u8: 4× less memory) */
  float scale;
} mb_gather_args;

/* MB_OPT_SGD: PyTorch SGD: g += wd·w; buf = first ? g : mom·buf + (1−damp)·g; w −= lr·buf
 * MB_OPT_ADAM: PyTorch Adam (L2 wd added to g), bias-corrected with step t ≥ 1 */
typedef enum {
#define MB_OPT(NAME, name) MB_OPT_##NAME,
#include "mb/op_codes.def"
} mb_optim_kind;

typedef struct {
  mb_optim_kind kind;
  mb_view w, g, m, v;   /* m = momentum buffer (SGD) / first moment (Adam); v = second moment (Adam) */
  size_t n;
  float lr, weight_decay;
  float momentum, dampening; int first_step;  /* SGD */
  float beta1, beta2, eps; int t;             /* Adam */
} mb_optim_args;

/* Counter-based RNG: Philox4x32-10 (kernels/common/philox.h), identical bits on
 * every backend.  A call (seed, stream, n) writes elements 0..n−1 of that stream;
 * element i uses block i/4 (U32, UNIFORM) or i/2 (NORMAL): see philox.h.
 *  MB_RNG_U32:     raw 32-bit words (write to an i32/u32 view)
 *  MB_RNG_UNIFORM: p0 + (p1−p0)·u, u = (bits >> 8)·2^−24 ∈ [0,1)
 *  MB_RNG_NORMAL:  p0 + p1·z, Box–Muller (cos branch) */
typedef enum {
#define MB_RNG(NAME, name) MB_RNG_##NAME,
#include "mb/op_codes.def"
} mb_rng_dist;

/* Convolution geometry (NCHW), used by im2col/col2im. */
typedef struct {
  int n, c, h, w;          /* input */
  int kh, kw, stride, pad;
  int oh, ow;              /* output spatial size (computed by the caller) */
} mb_conv_geom;

/* Batch normalisation over NCHW x[n][c][hw], per channel (PyTorch BatchNorm2d).
 *  TRAIN: mean and biased variance of the channel's n·hw elements (two passes: the
 *         mean, then the sum of squared deviations), invstd = 1/sqrt(var + eps),
 *         y = (x − mean)·invstd·gamma + beta.  save_mean/save_invstd receive mean and
 *         invstd; run_mean/run_var are updated in place as
 *         r = (1 − momentum)·r + momentum·s with the unbiased variance var·M/(M − 1),
 *         M = n·hw (var itself when M = 1).  Every one of those four may be none.
 *  EVAL:  y = (x − run_mean)·invstd·gamma + beta with invstd = 1/sqrt(run_var + eps);
 *         run_mean/run_var are read only, save_* unused.
 * y may alias x.  Accumulation is at least f32 (ref: f64); results are deterministic. */
typedef enum { MB_BN_TRAIN, MB_BN_EVAL } mb_bn_mode;

typedef struct {
  mb_bn_mode mode;
  int n, c, hw;                   /* x, y: n·c·hw elements */
  float eps, momentum;
  mb_view x, y;
  mb_view gamma, beta;            /* [c] */
  mb_view run_mean, run_var;      /* [c] */
  mb_view save_mean, save_invstd; /* [c] */
} mb_bn_args;

/* Backward of batchnorm, xhat = (x − mean)·invstd with mean/invstd as given: the
 * saved batch statistics (TRAIN) or run_mean and 1/sqrt(run_var + eps) (EVAL).
 *  dgamma[ch] = Σ dy·xhat,  dbeta[ch] = Σ dy   (over the channel's M = n·hw elements)
 *  TRAIN: dx = gamma·invstd·(dy − dbeta/M − xhat·dgamma/M)   (through the batch statistics)
 *  EVAL:  dx = gamma·invstd·dy                                 (statistics are constants)
 * dx, dgamma, dbeta are written (not accumulated); each may be none; dx may alias dy. */
typedef struct {
  mb_bn_mode mode;
  int n, c, hw;
  mb_view x, dy, gamma;           /* x, dy: n·c·hw; gamma [c] */
  mb_view mean, invstd;           /* [c] */
  mb_view dx;                     /* n·c·hw */
  mb_view dgamma, dbeta;          /* [c] */
} mb_bn_bwd_args;

/* Layer norm over the last axis of x [rows × c] (PyTorch LayerNorm(c), Swin-T's token
 * norms): per row the mean and the biased variance (two passes: the mean, then the sum
 * of squared deviations), rstd = 1/sqrt(var + eps), y = (x − mean)·rstd·gamma + beta.
 * save_mean and save_rstd [rows] receive mean and rstd (each may be none).  y may alias
 * x.  Accumulation is at least f32 (ref: f64); results are deterministic. */
typedef struct {
  int rows, c;
  float eps;
  mb_view x, y;                   /* rows·c */
  mb_view gamma, beta;            /* [c] */
  mb_view save_mean, save_rstd;   /* [rows] */
} mb_ln_args;

/* Backward of layernorm with the saved statistics: x̂ = (x − mean)·rstd, g = dy·gamma,
 *  dx[r]    = rstd·(g − mean_c(g) − x̂·mean_c(g·x̂))      (through the row statistics)
 *  dgamma[j] = Σ_rows dy·x̂,  dbeta[j] = Σ_rows dy
 * dx, dgamma, dbeta are written (not accumulated); each may be none; dx may alias dy.
 * The column sums run over the rows in a fixed order (no atomics): deterministic. */
typedef struct {
  int rows, c;
  mb_view x, dy, gamma;           /* x, dy: rows·c; gamma [c] */
  mb_view mean, rstd;             /* [rows] */
  mb_view dx;                     /* rows·c */
  mb_view dgamma, dbeta;          /* [c] */
} mb_ln_bwd_args;

/* Softmax over each row of a [rows × cols] matrix (attention probabilities):
 *  softmax:     y = exp(x − max_row x) / Σ_row exp(x − max_row x); a row holding NaN or +inf
 *               gives NaN (exp(inf − inf)); a row of −inf only gives NaN (as PyTorch); −inf
 *               elements of a row with a finite maximum give 0.  y may alias x.
 *  softmax_bwd: dx = y·(dy − Σ_row dy·y) from y (the forward's output) and dy; dx may
 *               alias dy.
 * Row sums accumulate in at least f32 (ref: f64). */
typedef struct {
  int rows, cols;
  mb_view x, y;                   /* forward: x -> y;  backward reads y */
  mb_view dy, dx;                 /* backward: dy -> dx */
} mb_softmax_args;

/* 2-D pooling over NCHW planes with the window geometry of mb_conv_geom (c = channels,
 * pad <= kh/2 and kw/2, so every window holds an input element; floor mode).
 *  MAX forward: y = the window's maximum, idx = iy·w + ix of the element taken: the
 *      first NaN in window order (ki, kj), else the first maximum; padding never wins.
 *  AVG forward: y = Σ window / divisor, divisor kh·kw when count_pad (PyTorch's
 *      count_include_pad, the default) else the in-image element count.  Global
 *      average pooling is kh = h, kw = w, stride 1, pad 0.
 *  Backward (both): dx[n][c][iy][ix] = Σ over the windows that take (iy, ix) of
 *      dy / divisor (AVG) or dy where idx == iy·w + ix (MAX); dx is written, each
 *      element gathers its windows in a fixed order (no atomics). */
typedef enum { MB_POOL_MAX, MB_POOL_AVG } mb_pool_kind;

typedef struct {
  mb_pool_kind kind;
  mb_conv_geom g;
  int count_pad;                  /* AVG only */
  mb_view x, y;                   /* forward: x [n·c·h·w] -> y [n·c·oh·ow] */
  mb_view idx;                    /* MAX: i32 [n·c·oh·ow]; forward writes it (may be none),
                                     backward reads it */
  mb_view dy, dx;                 /* backward: dy [n·c·oh·ow] -> dx [n·c·h·w] */
} mb_pool_args;

/* A 2-D convolution (NCHW; no bias: every convolution of the models is followed by
 * batch norm; one stride and padding for both axes).  Weights w are [cout][c·kh·kw]
 * (PyTorch's [cout][c][kh][kw]); geometry g as for im2col (oh, ow filled in).
 *  conv2d_fwd:        y[n][cout][oh·ow] = conv(x, w)
 *  conv2d_bwd_data:   dx[n][c][h·w] = (accumulate ? dx : 0) + convᵀ(dy, w)
 *  conv2d_bwd_filter: dw = beta·dw + Σ over images and output positions of dy ⊗ x
 *                     (beta 0: dw is not read)
 * Sums accumulate in at least f32 (ref: f64); the result agrees with the generic
 * composition of core/conv.c within the GEMM tolerance.  No output overlaps an input. */
typedef struct {
  mb_conv_geom g;
  int cout;
  mb_view x, w, y;        /* fwd reads x, w and writes y */
  mb_view dy, dx, dw;     /* bwd_data: dy, w -> dx;  bwd_filter: x, dy -> dw */
  int accumulate;         /* bwd_data */
  float beta;             /* bwd_filter */
} mb_conv_args;

/* The forgetting update of the mnemonic method (docs/specification.md §2.2), over the
 * segments of a flat parameter vector (segment s = [offs[s], offs[s+1]), one tensor):
 *   f = AFFINE(f, scale, 0) for each input whose scale is not 0 (the Fisher sums over
 *       the codes become means: §2.1 step 4), as the chain's unary AFFINE rounds it;
 *   r = log f_forget − log f_remain, NaN -> 0;   m_s = max of the finite r (−inf if none)
 *   r = ±inf -> m_s;   η = exp r;   α_s = min(λ2 · (1 / max_s η), λ1);   δ = η·α_s
 *   plus = w + δ,   minus = w − δ
 * Each step rounds to f32 as the generic op chain does (unary LOG, binary AXPBY,
 * NAN_TO, seg_reduce MAX_FINITE, seg_bcast INF_TO, EXP, seg_reduce MAX, RECIP, AFFINE,
 * MIN_S, seg_bcast MUL, AXPBY), so a backend whose log/exp match its own unary ops
 * gives the chain's bits.  A backend may instead take η as the quotient of the inputs
 * (exp(log a − log b) = a / b for finite positive a, b), keeping every special case of
 * the chain (backends/cpu/forget.c): the same η up to the chain's own rounding of r,
 * checked against the oracle by the agreement suite, not bit for bit.  delta, plus and minus may each be none, and each may alias
 * f_forget or f_remain element for element, minus also w (an element's inputs are read
 * before its outputs are written).  offs is a host array of nseg + 1 entries. */
typedef struct {
  mb_view f_forget, f_remain, w;   /* [offs[nseg]] */
  mb_view delta, plus, minus;      /* [offs[nseg]], each may be none */
  const size_t *offs;
  int nseg;
  float lambda1, lambda2;
  float scale_forget, scale_remain;   /* 0: that input is used as it is */
} mb_forget_args;

/* Code counts of the enums without a __COUNT member (switches over them stay exhaustive). */
enum {
  MB_BC__N = 0
#define MB_BC(NAME, name) + 1
#include "mb/op_codes.def"
  , MB_RED__N = 0
#define MB_RED(NAME, name) + 1
#include "mb/op_codes.def"
  , MB_SEGBC__N = 0
#define MB_SEGBC(NAME, name) + 1
#include "mb/op_codes.def"
  , MB_OPT__N = 0
#define MB_OPT(NAME, name) + 1
#include "mb/op_codes.def"
  , MB_RNG__N = 0
#define MB_RNG(NAME, name) + 1
#include "mb/op_codes.def"
};

/* Op ids, in the order of mb/ops.def (names: mb_op_name() in core/ops.h). */
typedef enum {
#define MB_OP(name, params) MB_OPID_##name,
#define MB_OP_OPT(name, params) MB_OPID_##name,
#include "mb/ops.def"
  MB_OP_COUNT
} mb_op_id;

/* ---- the op table ----
 * The contract on the points every backend must honour the same way (checked by
 * the agreement suite's contract cases on every backend that runs here; see
 * docs/architecture.md §3.8):
 *  - An op code outside its family (mb_unary_op .. MB_UN__COUNT, mb_binary_op,
 *    mb_bcast_op, mb_reduce_op, mb_segbcast_op, mb_optim_kind, mb_rng_dist) is a
 *    sticky MB_BAD_ARG naming the op; nothing is written.  (The checked wrappers of
 *    core/ops.c refuse such codes before a backend sees them; a backend must
 *    still not run an undefined kernel when called directly.)
 *  - copy() behaves as memmove: when dst and src are ranges of one buffer that
 *    overlap, dst ends with src's old contents.  (Device copy engines do not
 *    promise that -- clEnqueueCopyBuffer refuses it, vkCmdCopyBuffer and
 *    cudaMemcpyAsync leave it undefined -- so GPU backends go through a temporary.)
 *  - After a sticky error, close() releases everything and leaves the device so
 *    that a backend opened again on it works (CUDA: a sticky context error is
 *    cleared by resetting the device once its last instance closes). */
struct mb_backend_ops {
  const char *name;    /* "ref", "cpu", "cuda", "vulkan", "opencl" */
  int abi;             /* MB_ABI_VERSION */

  /* discovery: never aborts; 0 devices comes with a reason in why[] */
  int (*device_count)(char *why, size_t why_len);
  mb_status (*open)(int device, mb_backend **out, char *why, size_t why_len);
  void (*close)(mb_backend *be);

  /* memory */
  mb_status (*alloc)(mb_backend *be, size_t bytes, mb_buf **out);
  void (*free)(mb_backend *be, mb_buf *buf);
  void (*upload)(mb_backend *be, mb_view dst, const void *src, size_t bytes);
  void (*download)(mb_backend *be, void *dst, mb_view src, size_t bytes); /* waits for producers */
  void (*copy)(mb_backend *be, mb_view dst, mb_view src, size_t n);
  void (*fill)(mb_backend *be, mb_view dst, size_t n, uint32_t bits); /* 4-byte pattern */

  /* compute: one function pointer per op of mb/ops.def.  Required ops are never
   * NULL in a backend built with mb/ops_impl.h; optional ops may be. */
#define MB_OP(name, params) void(*name) params;
#define MB_OP_OPT(name, params) void(*name) params;
#include "mb/ops.def"

  /* ordering and timing */
  void (*sync)(mb_backend *be);                   /* wait for all submitted work */
  mb_timer *(*timer_begin)(mb_backend *be);       /* records a start mark on the queue */
  void (*timer_end)(mb_backend *be, mb_timer *t); /* records the end mark */
  double (*timer_ms)(mb_backend *be, mb_timer *t);/* after sync; < 0 if unreadable */
  void (*timer_free)(mb_backend *be, mb_timer *t);

  /* The name of the engine behind the optional ops this table sets, e.g.
   * "ref-direct" (NULL: none set; see mb_engine_name() in core/ops.h). */
  const char *engine;
};

#endif
