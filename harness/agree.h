/* Cross-backend op agreement (docs/architecture.md §7.4, our "test-backend-ops").
 *
 * Every case runs on the ref oracle and on a target backend with the same
 * Philox-generated inputs.  Each buffer sits between two canary zones; the
 * target's outputs must then match the oracle's (canaries, NaN/inf positions,
 * NMSE, max relative error, exact integer bits) and a second run on the target
 * must repeat them bit for bit.
 *
 * A case is data (agree_case); what a family of cases allocates and calls is an
 * agree_family (agree_cases.c); the engine (agree.c) knows neither op.
 */
#ifndef MB_AGREE_H
#define MB_AGREE_H

#include "mb/backend.h"

#include <stddef.h>
#include <stdint.h>

#define AGREE_GUARD 256                /* canary elements before and after every buffer */
#define AGREE_CANARY 0x7fbadbadu       /* canary bits: a signalling NaN no op writes */
#define AGREE_UNWRITTEN 0x7fc0ffeeu    /* pure outputs start as this quiet NaN */
#define AGREE_MAX_ARGS 8
#define AGREE_DEFAULT_SEED 20231u

typedef enum { AGREE_PASS, AGREE_FAIL, AGREE_SKIP } agree_status;

/* Tolerance classes; values and per-backend overrides in agree_tolerances.h. */
typedef enum {
  AGREE_TOL_EXACT,   /* selections and copies: equal values (NaN matches NaN) */
  AGREE_TOL_ELT,     /* f32 arithmetic of a few roundings */
  AGREE_TOL_TRANSC,  /* exp/log/sigmoid, softmax, normal RNG */
  AGREE_TOL_GEMM,    /* dot products, K <= 4608 */
  AGREE_TOL_REDUCE,  /* long sums */
  AGREE_TOL_NORM,    /* batch norm: channel statistics, sqrt, division */
  AGREE_TOL__COUNT
} agree_tol_class;

typedef struct {
  double nmse;      /* sum((a-r)^2) / sum(r^2) over finite positions */
  double max_rel;   /* max|a-r| / max|r| */
} agree_tol;

/* How input elements are drawn (from Philox, stream = argument index). */
typedef enum {
  AGREE_GEN_NONE,     /* pure output: starts as AGREE_UNWRITTEN */
  AGREE_GEN_NORMAL,   /* a + b·z */
  AGREE_GEN_UNIFORM,  /* [a, b) */
  AGREE_GEN_MIXED,    /* mostly b·z, some ±0 and values of magnitude 1e3..1e5 */
  AGREE_GEN_SPECIAL,  /* MIXED plus NaN, +inf, -inf */
  AGREE_GEN_INF,      /* MIXED plus +inf, -inf, no NaN */
  AGREE_GEN_NONFINITE, /* 90% NaN/+inf/-inf, else b·z: whole rows without a finite value */
  AGREE_GEN_TIES,     /* integers in [a, b] as floats: many ties */
  AGREE_GEN_AWAY,     /* random sign, magnitude in [a, b) (divisors) */
  AGREE_GEN_COND,     /* 0 about half the time, else one of 1, -2.5, 0.5, 7 */
  AGREE_GEN_INDEX,    /* i32 in [a, b) */
  AGREE_GEN_BITS,     /* raw 32-bit words (any float bit pattern, NaNs included) */
} agree_gen_kind;

typedef struct {
  agree_gen_kind kind;
  float a, b;
} agree_gen;

/* One buffer argument of a case. */
typedef struct {
  const char *name;   /* for messages: "y", "dlogits" */
  size_t n;           /* elements the op sees */
  agree_gen gen;      /* initial content; AGREE_GEN_NONE = output only */
  int out;            /* compared after the op */
  int bits;           /* compared bit for bit (i32/u32 data, copies) */
  int alias_of;       /* -1, or the argument whose view this one shares (y == x) */
  int none;           /* passed as the null view {NULL, 0} */
} agree_arg;

typedef struct {
  int nargs;
  agree_arg arg[AGREE_MAX_ARGS];
} agree_plan;

/* ---- per-family shapes (the union in agree_case) ---- */
typedef struct { size_t n; uint32_t bits; } agree_mem_shape;
typedef struct {
  int ta, tb, m, n, k;
  int ld_pad;          /* lda/ldb/ldc = stored columns + ld_pad */
  int batch;
  long stride_pad;     /* batch strides = stored matrix span + stride_pad */
  float alpha, beta;   /* beta == 0: C starts as NaN, which must not leak */
  int groups;          /* gemm_sq_acc: items per sample (0: 1) */
} agree_gemm_shape;
typedef struct { size_t n; float a, b; } agree_elt_shape;
typedef struct { size_t outer, mid, inner; } agree_3d_shape;
typedef struct {
  const size_t *offs;  /* nseg + 1 offsets, or NULL: nseg segments of len elements */
  int nseg;
  size_t len;
} agree_seg_shape;
enum { AGREE_XENT_LOSS = 1, AGREE_XENT_DLOGITS = 2, AGREE_XENT_PROBS = 4 };
typedef struct { int rows, cols; float scale; unsigned outputs; } agree_xent_shape;
/* Row ops (layernorm, softmax and their backwards): rows × cols; outputs picks the
 * optional outputs that are passed (the others are none). */
enum { AGREE_LN_MEAN = 1, AGREE_LN_RSTD = 2 };                     /* layernorm */
enum { AGREE_LN_DX = 1, AGREE_LN_DGAMMA = 2, AGREE_LN_DBETA = 4 };  /* layernorm_bwd */
typedef struct { int rows, cols; float eps; unsigned outputs; } agree_rows_shape;
typedef struct { int n_rows, row_len, n_src_rows, src_u8; float scale; } agree_gather_shape;
typedef struct {
  size_t n;
  float lr, wd, momentum, dampening; int first_step;   /* SGD */
  float beta1, beta2, eps; int t;                      /* Adam */
} agree_optim_shape;
typedef struct { size_t n; uint64_t stream; float p0, p1; } agree_rng_shape;
/* groups: conv2d cases only (0 or 1: an ungrouped convolution). */
typedef struct { mb_conv_geom g; int cout; int groups; } agree_conv_shape;
typedef struct {
  const size_t *offs;  /* nseg + 1 offsets (a flat parameter table) */
  int nseg;
  float lambda1, lambda2;
  float scale_forget, scale_remain;   /* mb_forget_args: 0, or the Fisher sums' 1/n */
} agree_forget_shape;

enum {
  AGREE_ALIAS = 1,    /* the output shares the first input's view */
  AGREE_NONDET = 2,   /* results may differ between runs (atomics): no repeat check */
};

typedef struct agree_family agree_family;

typedef struct agree_case {
  const char *id;             /* "<family>/<name>", unique; the input seed derives from it */
  const agree_family *fam;
  int op;                     /* the family's op enum value (mb_unary_op, ...) */
  agree_gen gen, gen2;        /* main and second input distributions */
  agree_tol_class tol;
  unsigned flags;
  int shift;                  /* extra view offset in elements (odd: misaligned views) */
  union {
    agree_mem_shape mem;
    agree_gemm_shape gemm;
    agree_elt_shape elt;
    agree_3d_shape d3;
    agree_seg_shape seg;
    agree_xent_shape xent;
    agree_rows_shape rows;
    agree_gather_shape gather;
    agree_optim_shape optim;
    agree_rng_shape rng;
    agree_conv_shape conv;
    agree_forget_shape forget;
  };
} agree_case;

struct agree_family {
  const char *name;   /* the "op" column of reports */
  void (*plan)(const agree_case *c, agree_plan *p);
  /* Issues the op(s); v[i] is argument i's view, seed the case seed. */
  void (*run)(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed);
  /* Optional: why a backend cannot run this case (e.g. im2col left NULL). */
  const char *(*missing)(const mb_backend_ops *ops, const agree_case *c);
  /* Optional: checks the oracle itself (host Philox, direct convolution); 0 = fine.
   * in[i] is argument i's initial content, out[i] the oracle's result. */
  int (*oracle_check)(const agree_case *c, uint64_t seed, const agree_plan *p,
                      uint32_t *const *in, uint32_t *const *out, char *why, size_t len);
};

/* ---- the case table (agree_cases.c) ---- */
int agree_cases(const agree_case **out);
const agree_case *agree_case_find(const char *id);

/* ---- results ---- */
typedef struct {
  const agree_case *c;
  agree_status status;
  double nmse, max_rel;   /* worst over the outputs; NaN when not measured */
  int deterministic;      /* 1 repeat was bit-identical, 0 it differed, -1 not checked */
  uint64_t seed;          /* base seed (MB_SEED); the case's own is hash(id) ^ seed */
  double seconds;         /* wall time of the whole case: inputs, runs, checks */
  char reason[320];
} agree_result;

const char *agree_status_name(agree_status s);   /* "pass", "fail", "skip" */

/* MB_SEED (decimal or 0x hex), else AGREE_DEFAULT_SEED; MB_FUZZ=1 draws a fresh one. */
uint64_t agree_base_seed(void);
uint64_t agree_case_seed(const agree_case *c, uint64_t base);

/* ---- sessions: the oracle plus one target, reopened after sticky errors ---- */
typedef struct agree_session agree_session;

/* Target by registry name (honours MB_BACKENDS/MB_DISABLE_*); NULL + reason if unavailable. */
agree_session *agree_open(const char *backend, int device, char *why, size_t len);
/* Target from an op table directly (tests use a sabotaged copy of ref). */
agree_session *agree_open_ops(const mb_backend_ops *ops, int device, char *why, size_t len);
void agree_close(agree_session *s);
const mb_backend *agree_target(const agree_session *s);   /* NULL if reopening failed */

void agree_run(agree_session *s, const agree_case *c, uint64_t base_seed, agree_result *r);

/* ---- the checks, exposed so tests can prove they bite ---- */
agree_tol agree_tolerance(agree_tol_class cls, const char *backend);

/* img holds pre + n + post elements; 0 if both canary zones are intact. */
int agree_check_guards(const uint32_t *img, size_t pre, size_t n, size_t post, const char *name,
                       char *why, size_t len);

/* Compares n elements of got against ref: bit for bit when bits, else NaN/inf
 * positions then NMSE and max relative error against tol.  Fills *nmse and
 * *max_rel (0 for bit comparisons); 0 if they agree. */
int agree_compare(const char *name, const uint32_t *ref, const uint32_t *got, size_t n, int bits,
                  agree_tol tol, double *nmse, double *max_rel, char *why, size_t len);

#endif
