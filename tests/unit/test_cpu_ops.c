/* The two CPU backends (ref, the oracle, and cpu, OpenBLAS + OpenMP) against naive
 * loops written here, op by op, through the op table directly.  Tolerances: ref is
 * compared with double-precision loops at 1e-6 relative, cpu at 1e-5 for GEMM and
 * 2e-6 for elementwise ops.  Each test opens its backend inside Criterion's forked
 * test process (OpenBLAS and OpenMP thread pools do not survive a fork). */
#include <criterion/criterion.h>

#include "mb_config.h"
#include "mb/backend.h"
#include "mb/registry.h"
#include "philox.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern const mb_backend_ops mb_ref_ops;

/* ---- harness ---- */

#define MAX_BUFS 64
#define VIEW_OFF 3   /* every view starts a few elements into its buffer */

typedef struct {
  const mb_backend_ops *ops;
  mb_backend *be;
  int is_ref;
  mb_buf *bufs[MAX_BUFS];
  int nbufs;
} ctx;

static const mb_backend_ops *backend_ops(const char *name)
{
  if (strcmp(name, "ref") == 0) return &mb_ref_ops;
  const mb_backend_entry *e = mb_backend_lookup(name);   /* loads the cpu module */
  if (!e || !e->ops) cr_skip_test("%s: %s", name, e ? e->unavailable : "unknown backend");
  return e->ops;
}

static ctx start(const char *name)
{
  ctx c;
  memset(&c, 0, sizeof c);
  c.ops = backend_ops(name);
  c.is_ref = c.ops == &mb_ref_ops;
  char why[256] = "";
  cr_assert_eq(c.ops->abi, MB_ABI_VERSION);
  cr_assert_eq(c.ops->device_count(why, sizeof why), 1, "%s: %s", name, why);
  mb_status st = c.ops->open(0, &c.be, why, sizeof why);
  cr_assert_eq(st, MB_OK, "%s: open failed: %s", name, why);
  cr_assert_not_null(c.be);
  return c;
}

static void check_ok(ctx *c)
{
  cr_assert_eq(c->be->status, MB_OK, "%s: %s", c->ops->name, c->be->err);
}

static void finish(ctx *c)
{
  check_ok(c);
  for (int i = 0; i < c->nbufs; i++) c->ops->free(c->be, c->bufs[i]);
  c->ops->close(c->be);
}

/* A view of n elements at VIEW_OFF in a fresh buffer; filled from data if given. */
static mb_view new_view(ctx *c, const void *data, size_t n)
{
  mb_buf *b = NULL;
  cr_assert_eq(c->ops->alloc(c->be, (n + VIEW_OFF + 5) * 4, &b), MB_OK, "%s", c->be->err);
  cr_assert_lt(c->nbufs, MAX_BUFS);
  c->bufs[c->nbufs++] = b;
  mb_view v = {b, VIEW_OFF};
  if (data && n) c->ops->upload(c->be, v, data, n * 4);
  return v;
}

/* Frees the buffers made after the first `keep` (cases that allocate in a loop). */
static void drop(ctx *c, int keep)
{
  while (c->nbufs > keep) c->ops->free(c->be, c->bufs[--c->nbufs]);
}

static void get(ctx *c, void *out, mb_view v, size_t n)
{
  c->ops->download(c->be, out, v, n * 4);
  check_ok(c);
}

static float *falloc(size_t n)
{
  float *p = calloc(n ? n : 1, sizeof *p);
  cr_assert_not_null(p);
  return p;
}

/* Deterministic inputs in [lo, hi) from the Philox host functions. */
static void rand_fill(float *x, size_t n, uint64_t seed, float lo, float hi)
{
  for (size_t i = 0; i < n; i++)
    x[i] = lo + (hi - lo) * mb_u32_to_unit(mb_philox_u32(seed, 77, i));
}

static uint32_t bits_of(float f)
{
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

/* got against a double reference: NaN where want is NaN, the same infinity where
 * want rounds to one, else |got − want| <= tol·mag (mag 0: exact equality). */
static void expect_close(float got, double want, double mag, double tol, const char *what,
                         size_t i)
{
  if (isnan(want)) {
    cr_assert(isnan(got), "%s[%zu]: got %.9g, want NaN", what, i, got);
    return;
  }
  float wf = (float)want;
  if (isinf(wf) || mag == 0.0) {
    cr_assert(got == wf, "%s[%zu]: got %.9g, want %.9g exactly", what, i, got, wf);
    return;
  }
  cr_assert(fabs((double)got - want) <= tol * mag + 1e-37, "%s[%zu]: got %.9g, want %.12g (tol %g·%g)",
            what, i, got, want, tol, mag);
}

/* Both backends for one check function. */
#define BOTH(fn)                          \
  Test(ref, fn) { fn("ref"); }            \
  Test(cpu, fn) { fn("cpu"); }

/* ---- lifecycle, memory, errors, timers ---- */

static void lifecycle(const char *name)
{
  ctx c = start(name);
  const mb_device_info *in = &c.be->info;
  cr_assert_str_eq(in->type, "cpu");
  cr_assert_gt(strlen(in->name), 0);
  cr_assert_eq(in->has_device_timer, 0);
  if (c.is_ref) cr_assert_str_eq(in->name, "reference (plain C, f64 accumulation)");
  else cr_assert(strncmp(in->name, "CPU: ", 5) == 0, "cpu device name: %s", in->name);

  float h[37];
  for (int i = 0; i < 37; i++) h[i] = (float)i - 3.5f;
  mb_view a = new_view(&c, h, 37), b = new_view(&c, NULL, 37);
  c.ops->copy(c.be, b, a, 37);
  float out[37];
  get(&c, out, b, 37);
  cr_assert(memcmp(out, h, sizeof h) == 0);
  mb_view mid = {b.buf, b.off + 5};
  c.ops->fill(c.be, mid, 7, 0xDEADBEEFu);
  uint32_t u[37];
  get(&c, u, b, 37);
  for (int i = 0; i < 37; i++)
    cr_assert_eq(u[i], i >= 5 && i < 12 ? 0xDEADBEEFu : bits_of(h[i]), "fill[%d]", i);
  /* a large copy and fill take the threaded path on cpu */
  size_t n = 100003;
  float *big = falloc(n), *back = falloc(n);
  rand_fill(big, n, 1, -1, 1);
  mb_view bx = new_view(&c, big, n), by = new_view(&c, NULL, n);
  c.ops->copy(c.be, by, bx, n);
  get(&c, back, by, n);
  cr_assert(memcmp(back, big, n * 4) == 0);
  c.ops->fill(c.be, by, n, bits_of(2.5f));
  get(&c, back, by, n);
  for (size_t i = 0; i < n; i++) cr_assert_eq(back[i], 2.5f);

  mb_timer *t = c.ops->timer_begin(c.be);
  cr_assert_not_null(t);
  c.ops->fill(c.be, by, n, 0);
  c.ops->timer_end(c.be, t);
  c.ops->sync(c.be);
  double ms = c.ops->timer_ms(c.be, t);
  cr_assert(ms >= 0.0 && ms < 10000.0, "timer_ms = %g", ms);
  c.ops->timer_free(c.be, t);
  check_ok(&c);
  free(big);
  free(back);

  /* sticky errors: the first failure is kept and later ops do nothing */
  c.ops->unary(c.be, (mb_unary_op)MB_UN__COUNT, a, b, 37, 0, 0);
  cr_assert_eq(c.be->status, MB_BAD_ARG);
  cr_assert_gt(strlen(c.be->err), 0);
  char first[256];
  snprintf(first, sizeof first, "%s", c.be->err);
  c.ops->binary(c.be, (mb_binary_op)MB_BIN__COUNT, a, a, b, 37, 0, 0);
  cr_assert_str_eq(c.be->err, first);
  c.ops->fill(c.be, a, 37, 0);
  c.be->status = MB_OK;   /* look behind the error: a must be unchanged */
  get(&c, out, a, 37);
  cr_assert(memcmp(out, h, sizeof h) == 0, "an op ran after a sticky error");
  finish(&c);
}
BOTH(lifecycle)

/* ---- GEMM ---- */

static void gemm_case(ctx *c, int ta, int tb, int M, int N, int K, float alpha, float beta,
                      int batch, int pad)
{
  const int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
  const int lda = ac + pad, ldb = bc + pad, ldc = N + pad;
  const long sa = (long)ar * lda + 1, sb = (long)br * ldb + 2, sc = (long)M * ldc + 3;
  const size_t na = (size_t)sa * batch, nb = (size_t)sb * batch, nc = (size_t)sc * batch;
  const int mark = c->nbufs;
  float *A = falloc(na), *B = falloc(nb), *C = falloc(nc), *got = falloc(nc);
  rand_fill(A, na, 11 + M, -1, 1);
  rand_fill(B, nb, 13 + N, -1, 1);
  rand_fill(C, nc, 17 + K, -1, 1);
  if (beta == 0.0f)
    for (size_t i = 0; i < nc; i++) C[i] = NAN;   /* must not be read */
  mb_gemm_args g = {
    .trans_a = ta, .trans_b = tb, .m = M, .n = N, .k = K, .alpha = alpha, .beta = beta,
    .a = new_view(c, A, na), .b = new_view(c, B, nb), .c = new_view(c, C, nc),
    .lda = lda, .ldb = ldb, .ldc = ldc, .batch = batch,
    .stride_a = sa, .stride_b = sb, .stride_c = sc,
  };
  c->ops->gemm(c->be, &g);
  get(c, got, g.c, nc);
  const double tol = c->is_ref ? 1e-6 : 1e-5;
  char what[96];
  snprintf(what, sizeof what, "gemm %c%c M=%d N=%d K=%d beta=%g batch=%d", ta ? 'T' : 'N',
           tb ? 'T' : 'N', M, N, K, beta, batch);
  /* big shapes: every 13th row (and the last) keeps the naive loop quick */
  const int step = (double)M * N * K > 1e7 ? 13 : 1;
  for (int bi = 0; bi < batch; bi++) {
    const float *a = A + bi * sa, *b = B + bi * sb, *cc = C + bi * sc, *gc = got + bi * sc;
    for (int i = 0; i < M; i++)
      for (int j = 0; j < ldc; j++) {
        if (i % step && i != M - 1) continue;
        const size_t at = (size_t)i * ldc + j;
        if (j >= N) {   /* the padding between rows stays untouched */
          cr_assert(bits_of(gc[at]) == bits_of(cc[at]), "%s: padding C[%d,%d] written", what, i, j);
          continue;
        }
        double acc = 0.0, mag = 0.0;
        for (int k = 0; k < K; k++) {
          double av = ta ? a[(size_t)k * lda + i] : a[(size_t)i * lda + k];
          double bv = tb ? b[(size_t)j * ldb + k] : b[(size_t)k * ldb + j];
          acc += av * bv;
          mag += fabs(av * bv);
        }
        double want = alpha * acc, wmag = fabs(alpha) * mag;
        if (beta != 0.0f) {
          want += (double)beta * cc[at];
          wmag += fabs((double)beta * cc[at]);
        }
        expect_close(gc[at], want, wmag, tol, what, at);
      }
    /* the gap between batch items is untouched too */
    for (long t = (long)M * ldc; t < sc; t++)
      cr_assert(bits_of(gc[t]) == bits_of(cc[t]), "%s: gap written", what);
  }
  drop(c, mark);
  free(A);
  free(B);
  free(C);
  free(got);
}

static void gemm_shapes(const char *name)
{
  ctx c = start(name);
  static const int shapes[][3] = {
    {1, 1, 1}, {7, 33, 127}, {33, 7, 1}, {127, 1, 33}, {1, 127, 7}, {33, 127, 7}, {64, 48, 96},
  };
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int *sh = shapes[s];
        gemm_case(&c, ta, tb, sh[0], sh[1], sh[2], 1.0f, 0.0f, 1, 0);
        gemm_case(&c, ta, tb, sh[0], sh[1], sh[2], -1.5f, 0.75f, 1, 3);
      }
  finish(&c);
}
BOTH(gemm_shapes)

static void gemm_batched(const char *name)
{
  ctx c = start(name);
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) {
      gemm_case(&c, ta, tb, 7, 33, 5, 1.0f, 0.0f, 3, 1);
      gemm_case(&c, ta, tb, 5, 6, 33, 0.5f, -2.0f, 4, 0);
    }
  /* the MLP's shapes: x·Wᵀ, dy·W, dyᵀ·x */
  gemm_case(&c, 0, 1, 128, 1000, 784, 1.0f, 0.0f, 1, 0);
  gemm_case(&c, 0, 0, 128, 784, 1000, 1.0f, 0.0f, 1, 0);
  gemm_case(&c, 1, 0, 1000, 784, 128, 1.0f, 1.0f, 1, 0);
  /* a launch dimension above 65535 */
  gemm_case(&c, 0, 0, 1, 70001, 3, 1.0f, 0.0f, 1, 0);
  gemm_case(&c, 1, 1, 70001, 2, 2, 1.0f, 0.5f, 1, 0);
  finish(&c);
}
BOTH(gemm_batched)

/* ---- unary / binary / where / bcast ---- */

static const float k_special[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1.0f, -1.0f, 0.5f,
                                  -2.5f, 3.0f, 1e-3f, 80.0f, -80.0f, 100.0f, -100.0f};
#define N_SPECIAL (sizeof k_special / sizeof k_special[0])

static float lit_min(float x, float s) { return s < x ? s : x; }
static float lit_max(float x, float s) { return s > x ? s : x; }

/* Expected y and its error scale (0: exact). */
static double unary_want(mb_unary_op op, float x, float a, float b, double *mag)
{
  double w;
  *mag = 0.0;
  switch (op) {
  case MB_UN_AFFINE: w = (double)a * x + b; *mag = fabs((double)a * x) + fabs(b); return w;
  case MB_UN_SQR: w = (double)x * x; break;
  case MB_UN_SQRT: w = sqrt((double)x); break;
  case MB_UN_EXP: w = exp((double)x); break;
  case MB_UN_LOG: w = log((double)x); break;
  case MB_UN_RECIP: w = 1.0 / (double)x; break;
  case MB_UN_SIGMOID: w = 1.0 / (1.0 + exp(-(double)x)); break;
  case MB_UN_RELU: return x > 0.0f ? x : 0.0f;
  case MB_UN_ABS: return fabsf(x);
  case MB_UN_CLAMP: return lit_min(lit_max(x, a), b);
  case MB_UN_MIN_S: return lit_min(x, a);
  case MB_UN_MAX_S: return lit_max(x, a);
  case MB_UN_NAN_TO: return isnan(x) ? a : x;
  case MB_UN_GT_S: return x > a ? 1.0 : 0.0;
  case MB_UN_GELU: w = 0.5 * (double)x * erfc(-(double)x * M_SQRT1_2); break;
  default: cr_assert_fail("bad unary op"); return 0;
  }
  *mag = fabs(w);
  return w;
}

static void unary_ops_n(ctx *c, size_t nrand)
{
  const size_t n = N_SPECIAL + nrand;
  float *x = falloc(n), *y = falloc(n);
  memcpy(x, k_special, sizeof k_special);
  rand_fill(x + N_SPECIAL, nrand, 5, -6, 6);
  mb_view xv = new_view(c, x, n), yv = new_view(c, NULL, n);
  const double tol = c->is_ref ? 1e-6 : 2e-6;
  const float a = 0.75f, b = 1.5f;
  for (int op = 0; op < MB_UN__COUNT; op++) {
    c->ops->unary(c->be, (mb_unary_op)op, xv, yv, n, a, b);
    get(c, y, yv, n);
    char what[32];
    snprintf(what, sizeof what, "unary op %d", op);
    for (size_t i = 0; i < n; i++) {
      double mag, w = unary_want((mb_unary_op)op, x[i], a, b, &mag);
      expect_close(y[i], w, mag, tol, what, i);
    }
  }
  free(x);
  free(y);
}

static void unary_ops(const char *name)
{
  ctx c = start(name);
  unary_ops_n(&c, 127);
  unary_ops_n(&c, 70000);   /* above the cpu backend's threading threshold (65536) */
  /* NaN and edge cases spelled out */
  const float in[] = {NAN, -1.0f, 0.0f, -0.0f, INFINITY};
  mb_view xv = new_view(&c, in, 5), yv = new_view(&c, NULL, 5);
  float y[5];
  c.ops->unary(c.be, MB_UN_LOG, xv, yv, 5, 0, 0);
  get(&c, y, yv, 5);
  cr_assert(isnan(y[0]) && isnan(y[1]) && y[2] == -INFINITY && y[3] == -INFINITY &&
            y[4] == INFINITY);
  c.ops->unary(c.be, MB_UN_RECIP, xv, yv, 5, 0, 0);
  get(&c, y, yv, 5);
  cr_assert(isnan(y[0]) && y[1] == -1.0f && y[2] == INFINITY && y[3] == -INFINITY && y[4] == 0.0f);
  c.ops->unary(c.be, MB_UN_CLAMP, xv, yv, 5, -0.5f, 0.5f);
  get(&c, y, yv, 5);
  cr_assert(isnan(y[0]) && y[1] == -0.5f && y[2] == 0.0f && y[4] == 0.5f);
  c.ops->unary(c.be, MB_UN_RELU, xv, yv, 5, 0, 0);
  get(&c, y, yv, 5);
  cr_assert(y[0] == 0.0f && y[1] == 0.0f && y[4] == INFINITY);   /* x > 0 ? x : 0 */
  c.ops->unary(c.be, MB_UN_GT_S, xv, yv, 5, -2.0f, 0);
  get(&c, y, yv, 5);
  cr_assert(y[0] == 0.0f && y[1] == 1.0f && y[2] == 1.0f && y[4] == 1.0f);
  c.ops->unary(c.be, MB_UN_NAN_TO, xv, yv, 5, 7.0f, 0);
  get(&c, y, yv, 5);
  cr_assert(y[0] == 7.0f && y[1] == -1.0f && y[4] == INFINITY);
  /* GELU's far negative tail, still normal f32 (x·Phi(x) down to -8e-38 at -13): an f64
   * 1 + erf(x/sqrt2) would give 0 below -8.3 */
  const float tail[] = {-6.5f, -9.0f, -10.0f, -12.0f, -13.0f};
  mb_view tv = new_view(&c, tail, 5);
  c.ops->unary(c.be, MB_UN_GELU, tv, yv, 5, 0, 0);
  get(&c, y, yv, 5);
  for (int i = 0; i < 5; i++) {
    const double w = 0.5 * (double)tail[i] * erfc(-(double)tail[i] * M_SQRT1_2);
    cr_assert(fabs((double)y[i] - w) <= 1e-6 * fabs(w), "gelu(%g) = %.9g, want %.12g", tail[i], y[i],
              w);
  }
  /* in place (y == x) gives the out-of-place result */
  size_t n = 70001;
  float *h = falloc(n), *ref = falloc(n), *inpl = falloc(n);
  rand_fill(h, n, 9, -4, 4);
  mb_view p = new_view(&c, h, n), q = new_view(&c, NULL, n);
  c.ops->unary(c.be, MB_UN_SIGMOID, p, q, n, 0, 0);
  c.ops->unary(c.be, MB_UN_SIGMOID, p, p, n, 0, 0);
  get(&c, ref, q, n);
  get(&c, inpl, p, n);
  cr_assert(memcmp(ref, inpl, n * 4) == 0, "in-place unary differs");
  free(h);
  free(ref);
  free(inpl);
  finish(&c);
}
BOTH(unary_ops)

static double binary_want(mb_binary_op op, float x1, float x2, float a, float b, double *mag)
{
  double w;
  *mag = 0.0;
  switch (op) {
  case MB_BIN_AXPBY:
    *mag = fabs((double)a * x1) + fabs((double)b * x2);
    return (double)a * x1 + (double)b * x2;
  case MB_BIN_MUL: w = (double)a * x1 * x2; break;
  case MB_BIN_DIV: w = (double)x1 / x2; break;
  case MB_BIN_MIN: return lit_min(x1, x2);
  case MB_BIN_MAX: return lit_max(x1, x2);
  case MB_BIN_ADD_SQR:
    *mag = fabs(x1) + fabs((double)a * x2 * x2);
    return x1 + (double)a * x2 * x2;
  case MB_BIN_SIGMOID_BWD:
    *mag = fabs((double)x1 * x2) * (1.0 + fabs(x2));
    return (double)x1 * x2 * (1.0 - x2);
  case MB_BIN_RELU_BWD: return x2 > 0.0f ? x1 : 0.0f;
  case MB_BIN_GT: return x1 > a * x2 ? 1.0 : 0.0;   /* the product in f32, as specified */
  case MB_BIN_GELU_BWD: {   /* x1·(Φ + x2·φ): the error scale is that of the two terms */
    const double z = x2, cdf = 0.5 * erfc(-z * M_SQRT1_2), zpdf = z * exp(-0.5 * z * z) / sqrt(2.0 * M_PI);
    *mag = fabs((double)x1) * (cdf + fabs(zpdf));
    return (double)x1 * (cdf + zpdf);
  }
  default: cr_assert_fail("bad binary op"); return 0;
  }
  *mag = fabs(w);
  return w;
}

static void binary_ops_n(ctx *c, size_t nrand)
{
  /* every pair of specials, then random pairs */
  const size_t ns = N_SPECIAL * N_SPECIAL, n = ns + nrand;
  float *x1 = falloc(n), *x2 = falloc(n), *y = falloc(n);
  for (size_t i = 0; i < N_SPECIAL; i++)
    for (size_t j = 0; j < N_SPECIAL; j++) {
      x1[i * N_SPECIAL + j] = k_special[i];
      x2[i * N_SPECIAL + j] = k_special[j];
    }
  rand_fill(x1 + ns, nrand, 21, -3, 3);
  rand_fill(x2 + ns, nrand, 22, -3, 3);
  mb_view v1 = new_view(c, x1, n), v2 = new_view(c, x2, n), yv = new_view(c, NULL, n);
  const double tol = c->is_ref ? 1e-6 : 2e-6;
  const float a = -1.25f, b = 0.5f;
  for (int op = 0; op < MB_BIN__COUNT; op++) {
    c->ops->binary(c->be, (mb_binary_op)op, v1, v2, yv, n, a, b);
    get(c, y, yv, n);
    char what[32];
    snprintf(what, sizeof what, "binary op %d", op);
    for (size_t i = 0; i < n; i++) {
      double mag, w = binary_want((mb_binary_op)op, x1[i], x2[i], a, b, &mag);
      expect_close(y[i], w, mag, tol, what, i);
    }
  }
  free(x1);
  free(x2);
  free(y);
}

static void binary_ops(const char *name)
{
  ctx c = start(name);
  binary_ops_n(&c, 33);
  binary_ops_n(&c, 70000);
  /* MIN/MAX: NaN in x1 propagates, NaN in x2 does not */
  const float p[] = {NAN, 1.0f, NAN}, q[] = {1.0f, NAN, NAN};
  mb_view pv = new_view(&c, p, 3), qv = new_view(&c, q, 3), yv = new_view(&c, NULL, 3);
  float y[3];
  c.ops->binary(c.be, MB_BIN_MIN, pv, qv, yv, 3, 0, 0);
  get(&c, y, yv, 3);
  cr_assert(isnan(y[0]) && y[1] == 1.0f && isnan(y[2]));
  c.ops->binary(c.be, MB_BIN_MAX, pv, qv, yv, 3, 0, 0);
  get(&c, y, yv, 3);
  cr_assert(isnan(y[0]) && y[1] == 1.0f && isnan(y[2]));
  c.ops->binary(c.be, MB_BIN_AXPBY, pv, qv, yv, 3, 1, 1);
  get(&c, y, yv, 3);
  cr_assert(isnan(y[0]) && isnan(y[1]) && isnan(y[2]));
  /* y == x1 (ADD_SQR is the Fisher accumulation, done in place) */
  size_t n = 70001;
  float *h1 = falloc(n), *h2 = falloc(n), *ref = falloc(n), *inpl = falloc(n);
  rand_fill(h1, n, 31, -2, 2);
  rand_fill(h2, n, 32, -2, 2);
  mb_view a1 = new_view(&c, h1, n), a2 = new_view(&c, h2, n), out = new_view(&c, NULL, n);
  c.ops->binary(c.be, MB_BIN_ADD_SQR, a1, a2, out, n, 0.25f, 0);
  c.ops->binary(c.be, MB_BIN_ADD_SQR, a1, a2, a1, n, 0.25f, 0);
  get(&c, ref, out, n);
  get(&c, inpl, a1, n);
  cr_assert(memcmp(ref, inpl, n * 4) == 0, "in-place binary differs");
  free(h1);
  free(h2);
  free(ref);
  free(inpl);
  finish(&c);
}
BOTH(binary_ops)

static void where_op(const char *name)
{
  ctx c = start(name);
  const size_t n = 70007;
  float *cond = falloc(n), *x1 = falloc(n), *x2 = falloc(n), *y = falloc(n);
  rand_fill(x1, n, 41, -1, 1);
  rand_fill(x2, n, 42, -1, 1);
  rand_fill(cond, n, 43, 0, 1);
  for (size_t i = 0; i < n; i++) cond[i] = cond[i] < 0.5f ? 0.0f : 1.0f;
  cond[0] = -0.0f;   /* compares equal to 0 */
  cond[1] = NAN;     /* != 0 */
  cond[2] = -3.0f;
  mb_view cv = new_view(&c, cond, n), v1 = new_view(&c, x1, n), v2 = new_view(&c, x2, n);
  mb_view yv = new_view(&c, NULL, n);
  c.ops->where(c.be, cv, v1, v2, yv, n);
  get(&c, y, yv, n);
  for (size_t i = 0; i < n; i++)
    cr_assert(bits_of(y[i]) == bits_of(cond[i] != 0.0f ? x1[i] : x2[i]), "where[%zu]", i);
  cr_assert(y[0] == x2[0] && y[1] == x1[1] && y[2] == x1[2]);
  c.ops->where(c.be, cv, v1, v2, v2, n);   /* y == x2 */
  get(&c, y, v2, n);
  for (size_t i = 0; i < n; i++)
    cr_assert(bits_of(y[i]) == bits_of(cond[i] != 0.0f ? x1[i] : x2[i]), "where in place[%zu]", i);
  free(cond);
  free(x1);
  free(x2);
  free(y);
  finish(&c);
}
BOTH(where_op)

static void bcast_ops(const char *name)
{
  ctx c = start(name);
  static const size_t shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {7, 10, 1}, {2, 33, 1}, {128, 1000, 1},
                                     {2, 3, 16384}, {1, 127, 1}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    const size_t O = shapes[s][0], M = shapes[s][1], I = shapes[s][2], n = O * M * I;
    float *x = falloc(n), *v = falloc(M), *y = falloc(n);
    rand_fill(x, n, 51, -2, 2);
    rand_fill(v, M, 52, 0.5f, 2);
    v[0] = 0.0f;   /* DIV by zero gives ±inf */
    mb_view xv = new_view(&c, x, n), vv = new_view(&c, v, M), yv = new_view(&c, NULL, n);
    for (int op = MB_BC_ADD; op <= MB_BC_DIV; op++) {
      c.ops->bcast(c.be, (mb_bcast_op)op, xv, vv, yv, O, M, I);
      get(&c, y, yv, n);
      for (size_t o = 0; o < O; o++)
        for (size_t m = 0; m < M; m++)
          for (size_t i = 0; i < I; i++) {
            const size_t at = (o * M + m) * I + i;
            const float xe = x[at], ve = v[m];
            const float w = op == MB_BC_ADD ? xe + ve : op == MB_BC_MUL ? xe * ve
                          : op == MB_BC_SUB ? xe - ve : xe / ve;
            cr_assert(bits_of(y[at]) == bits_of(w), "bcast op %d shape %zu [%zu]: %g vs %g", op,
                      s, at, y[at], w);
          }
    }
    c.ops->bcast(c.be, MB_BC_MUL, xv, vv, xv, O, M, I);   /* y == x */
    get(&c, y, xv, n);
    for (size_t at = 0; at < n; at++) cr_assert(y[at] == x[at] * v[(at / I) % M]);
    free(x);
    free(v);
    free(y);
  }
  finish(&c);
}
BOTH(bcast_ops)

/* ---- reductions ---- */

/* Naive reduction of a strided run (ARGMAX in *idx). */
static double reduce_want(mb_reduce_op op, const float *x, size_t n, size_t stride, double *mag,
                          int *idx)
{
  double acc = 0.0, best = -INFINITY;
  int any_nan = 0, at = -1;
  *mag = 0.0;
  for (size_t m = 0; m < n; m++) {
    const double v = x[m * stride];
    switch (op) {
    case MB_RED_SUM: acc += v; *mag += fabs(v); break;
    case MB_RED_SUMSQ: acc += v * v; *mag += v * v; break;
    case MB_RED_MAX:
      if (isnan(v)) any_nan = 1;
      else if (v > best) best = v;
      break;
    case MB_RED_MAX_FINITE:
      if (isfinite(v) && v > best) best = v;
      break;
    case MB_RED_ARGMAX:
      if (!isnan(v) && (at < 0 || v > best)) best = v, at = (int)m;
      break;
    }
  }
  if (idx) *idx = at < 0 ? 0 : at;
  if (op == MB_RED_SUM || op == MB_RED_SUMSQ) return acc;
  return op == MB_RED_MAX && any_nan ? NAN : best;
}

static void reduce_shape(ctx *c, size_t O, size_t M, size_t I, int specials)
{
  const size_t n = O * M * I;
  float *x = falloc(n), *y = falloc(O * I);
  rand_fill(x, n, 61 + M, -3, 3);
  if (specials && n > 8) {
    x[0] = NAN;
    x[1] = INFINITY;
    x[n - 1] = -INFINITY;
    x[n / 2] = NAN;
  }
  mb_view xv = new_view(c, x, n), yv = new_view(c, NULL, O * I);
  const double tol = 1e-6;
  for (int op = MB_RED_SUM; op <= MB_RED_ARGMAX; op++) {
    c->ops->reduce(c->be, (mb_reduce_op)op, xv, yv, O, M, I);
    get(c, y, yv, O * I);
    char what[64];
    snprintf(what, sizeof what, "reduce op %d (%zu,%zu,%zu)", op, O, M, I);
    for (size_t o = 0; o < O; o++)
      for (size_t i = 0; i < I; i++) {
        double mag;
        int idx;
        const double w = reduce_want((mb_reduce_op)op, x + o * M * I + i, M, I, &mag, &idx);
        const size_t at = o * I + i;
        if (op == MB_RED_ARGMAX) {
          int32_t got;
          memcpy(&got, &y[at], 4);
          cr_assert_eq(got, idx, "%s[%zu]: %d vs %d", what, at, got, idx);
        } else {
          expect_close(y[at], w, mag, tol, what, at);
        }
      }
  }
  free(x);
  free(y);
}

static void reduce_ops(const char *name)
{
  ctx c = start(name);
  static const size_t shapes[][3] = {{1, 1, 1}, {1, 127, 1}, {7, 33, 1}, {128, 10, 1}, {3, 7, 5},
                                     {2, 1, 3}, {2, 5, 300}, {1, 100003, 1}, {3, 70000, 1},
                                     {64, 1000, 1}, {2, 33, 700}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    reduce_shape(&c, shapes[s][0], shapes[s][1], shapes[s][2], 0);
    reduce_shape(&c, shapes[s][0], shapes[s][1], shapes[s][2], 1);
  }
  finish(&c);
}
BOTH(reduce_ops)

static void reduce_edges(const char *name)
{
  ctx c = start(name);
  /* ARGMAX ties take the first maximum; NaN is never the maximum */
  const float rows[6][4] = {
    {1, 3, 3, 2}, {NAN, 2, 2, 1}, {NAN, NAN, NAN, NAN}, {-INFINITY, -INFINITY, -INFINITY, -INFINITY},
    {5, 5, 5, 5}, {0, INFINITY, NAN, INFINITY},
  };
  const int32_t want_idx[6] = {1, 1, 0, 0, 0, 1};
  mb_view xv = new_view(&c, rows, 24), yv = new_view(&c, NULL, 6);
  int32_t idx[6];
  c.ops->reduce(c.be, MB_RED_ARGMAX, xv, yv, 6, 4, 1);
  get(&c, idx, yv, 6);
  for (int r = 0; r < 6; r++) cr_assert_eq(idx[r], want_idx[r], "argmax row %d: %d", r, idx[r]);
  /* the same rows as columns: shape (1, 4, 6) after a transpose */
  float cols[24];
  for (int r = 0; r < 6; r++)
    for (int m = 0; m < 4; m++) cols[m * 6 + r] = rows[r][m];
  mb_view cv = new_view(&c, cols, 24);
  c.ops->reduce(c.be, MB_RED_ARGMAX, cv, yv, 1, 4, 6);
  get(&c, idx, yv, 6);
  for (int r = 0; r < 6; r++) cr_assert_eq(idx[r], want_idx[r], "argmax column %d: %d", r, idx[r]);
  float y[6];
  c.ops->reduce(c.be, MB_RED_MAX, xv, yv, 6, 4, 1);
  get(&c, y, yv, 6);
  cr_assert(y[0] == 3 && isnan(y[1]) && isnan(y[2]) && y[3] == -INFINITY && y[4] == 5 && isnan(y[5]));
  c.ops->reduce(c.be, MB_RED_MAX_FINITE, xv, yv, 6, 4, 1);
  get(&c, y, yv, 6);
  cr_assert(y[0] == 3 && y[1] == 2 && y[2] == -INFINITY && y[3] == -INFINITY && y[4] == 5 &&
            y[5] == 0);
  c.ops->reduce(c.be, MB_RED_MAX, cv, yv, 1, 4, 6);
  get(&c, y, yv, 6);
  cr_assert(y[0] == 3 && isnan(y[1]) && isnan(y[2]) && y[3] == -INFINITY && y[4] == 5 && isnan(y[5]));
  c.ops->reduce(c.be, MB_RED_MAX_FINITE, cv, yv, 1, 4, 6);
  get(&c, y, yv, 6);
  cr_assert(y[0] == 3 && y[1] == 2 && y[2] == -INFINITY && y[3] == -INFINITY && y[4] == 5 &&
            y[5] == 0);
  /* a long NaN-bearing run takes the threaded path on cpu */
  const size_t n = 100000;
  float *x = falloc(n);
  rand_fill(x, n, 71, -1, 1);
  x[77777] = NAN;
  x[123] = INFINITY;
  mb_view lv = new_view(&c, x, n);
  c.ops->reduce(c.be, MB_RED_MAX, lv, yv, 1, n, 1);
  c.ops->reduce(c.be, MB_RED_MAX_FINITE, lv, (mb_view){yv.buf, yv.off + 1}, 1, n, 1);
  get(&c, y, yv, 2);
  double mag;
  cr_assert(isnan(y[0]));
  cr_assert_eq(y[1], (float)reduce_want(MB_RED_MAX_FINITE, x, n, 1, &mag, NULL));
  free(x);
  finish(&c);
}
BOTH(reduce_edges)

static void seg_ops(const char *name)
{
  ctx c = start(name);
  const size_t offs[] = {2, 7, 8, 70008, 70135, 70136};   /* starts past 0; a 70000 run */
  const int nseg = 5;
  const size_t n = offs[nseg] + 3;
  float *x = falloc(n), *v = falloc(nseg), *y = falloc(n);
  rand_fill(x, n, 81, -2, 2);
  x[4] = INFINITY;
  x[9] = -INFINITY;
  x[20000] = NAN;
  x[70135] = -INFINITY;   /* segment 4 is this one element */
  rand_fill(v, nseg, 82, 1, 3);
  mb_view xv = new_view(&c, x, n), vv = new_view(&c, v, nseg), yv = new_view(&c, NULL, n);
  for (int op = MB_RED_SUM; op <= MB_RED_MAX_FINITE; op++) {
    c.ops->seg_reduce(c.be, (mb_reduce_op)op, xv, yv, offs, nseg);
    get(&c, y, yv, nseg);
    for (int s = 0; s < nseg; s++) {
      double mag;
      const double w = reduce_want((mb_reduce_op)op, x + offs[s], offs[s + 1] - offs[s], 1, &mag, NULL);
      expect_close(y[s], w, mag, 1e-6, "seg_reduce", (size_t)(op * 10 + s));
    }
  }
  for (int op = MB_SEGBC_MUL; op <= MB_SEGBC_INF_TO; op++) {
    float *before = falloc(n);
    c.ops->fill(c.be, yv, n, bits_of(-7.0f));
    c.ops->seg_bcast(c.be, (mb_segbcast_op)op, xv, vv, yv, offs, nseg);
    get(&c, y, yv, n);
    for (size_t i = 0; i < n; i++) {
      int s = -1;
      for (int k = 0; k < nseg; k++)
        if (i >= offs[k] && i < offs[k + 1]) s = k;
      float w = -7.0f;   /* outside every segment: untouched */
      if (s >= 0)
        w = op == MB_SEGBC_MUL ? x[i] * v[s] : op == MB_SEGBC_ADD ? x[i] + v[s]
          : isinf(x[i]) ? v[s] : x[i];
      cr_assert(bits_of(y[i]) == bits_of(w) || (isnan(w) && isnan(y[i])), "seg_bcast %d [%zu]",
                op, i);
    }
    free(before);
  }
  c.ops->seg_bcast(c.be, MB_SEGBC_INF_TO, xv, vv, xv, offs, nseg);   /* y == x */
  get(&c, y, xv, n);
  cr_assert(y[4] == v[0] && y[9] == v[2] && y[70135] == v[4] && isnan(y[20000]));
  free(x);
  free(v);
  free(y);
  finish(&c);
}
BOTH(seg_ops)

/* ---- softmax cross-entropy ---- */

static void xent_hand(const char *name)
{
  ctx c = start(name);
  const float logits[6] = {1, 2, 3, 1000, 1001, 999};   /* the second row needs the max shift */
  const int32_t labels[2] = {2, 0};
  mb_view lv = new_view(&c, logits, 6), lab = new_view(&c, labels, 2);
  mb_view loss = new_view(&c, NULL, 2), dl = new_view(&c, NULL, 6), pr = new_view(&c, NULL, 6);
  mb_xent_args a = {.rows = 2, .cols = 3, .logits = lv, .labels = lab, .loss = loss,
                    .dlogits = dl, .probs = pr, .scale = 0.5f};
  c.ops->softmax_xent(c.be, &a);
  float l[2], d[6], p[6];
  get(&c, l, loss, 2);
  get(&c, d, dl, 6);
  get(&c, p, pr, 6);
  /* softmax(1,2,3) = (0.0900306, 0.2447285, 0.6652410); loss = log Σe^x − 3 */
  const double p0[3] = {0.09003057317038043, 0.24472847105479759, 0.6652409557748217};
  const double tol = 2e-6;
  expect_close(l[0], 0.4076059644443806, 0.41, tol, "loss", 0);
  expect_close(l[1], 1.4076059644443806, 1.41, tol, "loss", 1);   /* label 0 is the 1000 */
  for (int j = 0; j < 3; j++) {
    expect_close(p[j], p0[j], 1, tol, "probs", j);
    expect_close(d[j], 0.5 * (p0[j] - (j == 2)), 0.5, tol, "dlogits", j);
    const int k = (j + 1) % 3;   /* row 2 is row 1 permuted: 1000,1001,999 ~ 2,3,1 */
    expect_close(p[3 + j], p0[k], 1, tol, "probs", 3 + j);
    expect_close(d[3 + j], 0.5 * (p0[k] - (j == 0)), 0.5, tol, "dlogits", 3 + j);
  }
  finish(&c);
}
BOTH(xent_hand)

static void xent_random(const char *name)
{
  ctx c = start(name);
  static const int shapes[][2] = {{1, 1}, {7, 33}, {128, 10}, {3, 127}, {4000, 10}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    const int R = shapes[s][0], C = shapes[s][1];
    const size_t rc = (size_t)R * C;
    float *x = falloc(rc), *loss = falloc(R), *dl = falloc(rc), *pr = falloc(rc), *dl2 = falloc(rc);
    int32_t *lab = calloc(R, sizeof *lab);
    rand_fill(x, rc, 91 + C, -8, 8);
    for (int r = 0; r < R; r++) lab[r] = (int32_t)(mb_philox_u32(92, 0, r) % (uint32_t)C);
    mb_view xv = new_view(&c, x, rc), lv = new_view(&c, lab, R);
    mb_view lossv = new_view(&c, NULL, R), dlv = new_view(&c, NULL, rc), prv = new_view(&c, NULL, rc);
    mb_xent_args a = {.rows = R, .cols = C, .logits = xv, .labels = lv, .loss = lossv,
                      .dlogits = dlv, .probs = prv, .scale = 1.0f / R};
    c.ops->softmax_xent(c.be, &a);
    get(&c, loss, lossv, R);
    get(&c, dl, dlv, rc);
    get(&c, pr, prv, rc);
    const double tol = c.is_ref ? 1e-6 : 4e-6;
    for (int r = 0; r < R; r++) {
      const float *xr = x + (size_t)r * C;
      double mx = -INFINITY, sum = 0.0;
      for (int j = 0; j < C; j++) mx = xr[j] > mx ? xr[j] : mx;
      for (int j = 0; j < C; j++) sum += exp(xr[j] - mx);
      const double lse = mx + log(sum);
      expect_close(loss[r], lse - xr[lab[r]], fabs(lse) + fabs(xr[lab[r]]), tol, "xent loss", r);
      for (int j = 0; j < C; j++) {
        const double pj = exp(xr[j] - lse);
        expect_close(pr[(size_t)r * C + j], pj, pj + 1e-30, tol * 4, "xent probs", (size_t)r * C + j);
        const double dj = (pj - (j == lab[r])) / R;
        expect_close(dl[(size_t)r * C + j], dj, fabs(dj) + 1e-7 / R, tol * 4, "xent dlogits",
                     (size_t)r * C + j);
      }
    }
    /* only dlogits, written over the logits */
    mb_xent_args b = {.rows = R, .cols = C, .logits = xv, .labels = lv, .dlogits = xv,
                      .scale = 1.0f / R};
    c.ops->softmax_xent(c.be, &b);
    get(&c, dl2, xv, rc);
    cr_assert(memcmp(dl, dl2, rc * 4) == 0, "in-place dlogits differ");
    free(x);
    free(loss);
    free(dl);
    free(pr);
    free(dl2);
    free(lab);
  }
  finish(&c);
}
BOTH(xent_random)

/* ---- gather ---- */

static void gather_op(const char *name)
{
  ctx c = start(name);
  const int nsrc = 9, rl = 7, nr = 6;
  uint32_t src[9 * 7];
  for (int i = 0; i < nsrc * rl; i++) src[i] = 0x7FC00000u + (uint32_t)i * 2654435761u;   /* NaN payloads */
  const int32_t idx[6] = {3, -1, 8, 9, 0, 3};
  mb_view sv = new_view(&c, src, nsrc * rl), iv = new_view(&c, idx, nr), dv = new_view(&c, NULL, nr * rl);
  mb_gather_args a = {.src = sv, .idx = iv, .dst = dv, .n_rows = nr, .row_len = rl,
                      .n_src_rows = nsrc};
  c.ops->fill(c.be, dv, nr * rl, 0xFFFFFFFFu);
  c.ops->gather_rows(c.be, &a);
  uint32_t d[6 * 7];
  get(&c, d, dv, nr * rl);
  for (int r = 0; r < nr; r++)
    for (int j = 0; j < rl; j++) {
      const uint32_t w = idx[r] >= 0 && idx[r] < nsrc ? src[idx[r] * rl + j] : 0u;
      cr_assert_eq(d[r * rl + j], w, "gather [%d,%d]", r, j);
    }
  /* u8 rows (odd length, so rows start mid-word), widened and scaled */
  uint8_t bytes[9 * 7 + 1];
  for (int i = 0; i < nsrc * rl; i++) bytes[i] = (uint8_t)(i * 37 + 5);
  mb_view bv = new_view(&c, NULL, (nsrc * rl + 3) / 4);
  c.ops->upload(c.be, bv, bytes, (size_t)((nsrc * rl + 3) / 4) * 4);
  mb_gather_args b = a;
  b.src = bv;
  b.src_u8 = 1;
  b.scale = 1.0f / 255.0f;
  c.ops->gather_rows(c.be, &b);
  float f[6 * 7];
  get(&c, f, dv, nr * rl);
  for (int r = 0; r < nr; r++)
    for (int j = 0; j < rl; j++) {
      const float w = idx[r] >= 0 && idx[r] < nsrc ? (float)bytes[idx[r] * rl + j] * (1.0f / 255.0f) : 0.0f;
      cr_assert(bits_of(f[r * rl + j]) == bits_of(w), "gather u8 [%d,%d]: %g vs %g", r, j,
                f[r * rl + j], w);
    }
  /* a batch-sized gather (threaded on cpu) */
  const int big_src = 1000, big_rows = 128, big_len = 784;
  float *bs = falloc((size_t)big_src * big_len), *bd = falloc((size_t)big_rows * big_len);
  int32_t *bi = calloc(big_rows, sizeof *bi);
  rand_fill(bs, (size_t)big_src * big_len, 101, -1, 1);
  for (int r = 0; r < big_rows; r++) bi[r] = (int32_t)(mb_philox_u32(102, 0, r) % big_src);
  mb_gather_args g = {.src = new_view(&c, bs, (size_t)big_src * big_len),
                      .idx = new_view(&c, bi, big_rows),
                      .dst = new_view(&c, NULL, (size_t)big_rows * big_len),
                      .n_rows = big_rows, .row_len = big_len, .n_src_rows = big_src};
  c.ops->gather_rows(c.be, &g);
  get(&c, bd, g.dst, (size_t)big_rows * big_len);
  for (int r = 0; r < big_rows; r++)
    cr_assert(memcmp(bd + (size_t)r * big_len, bs + (size_t)bi[r] * big_len, big_len * 4) == 0);
  free(bs);
  free(bd);
  free(bi);
  finish(&c);
}
BOTH(gather_op)

/* ---- optimizers ---- */

static void optim_hand(const char *name)
{
  ctx c = start(name);
  /* SGD: w=1, g=0.5, wd=0.1, lr=0.1, momentum 0.9, dampening 0.25.
   * step 1: g' = 0.6, buf = 0.6, w = 0.94;
   * step 2: g' = 0.5 + 0.094 = 0.594, buf = 0.54 + 0.4455 = 0.9855, w = 0.84145 */
  const float w0 = 1.0f, g0 = 0.5f, zero = 0.0f;
  mb_view w = new_view(&c, &w0, 1), g = new_view(&c, &g0, 1), m = new_view(&c, &zero, 1);
  mb_optim_args s = {.kind = MB_OPT_SGD, .w = w, .g = g, .m = m, .n = 1, .lr = 0.1f,
                     .weight_decay = 0.1f, .momentum = 0.9f, .dampening = 0.25f, .first_step = 1};
  float wv, mv, gv;
  c.ops->optim(c.be, &s);
  get(&c, &wv, w, 1);
  get(&c, &mv, m, 1);
  expect_close(wv, 0.94, 1, 1e-6, "sgd w1", 0);
  expect_close(mv, 0.6, 1, 1e-6, "sgd buf1", 0);
  s.first_step = 0;
  c.ops->optim(c.be, &s);
  get(&c, &wv, w, 1);
  get(&c, &mv, m, 1);
  get(&c, &gv, g, 1);
  expect_close(wv, 0.84145, 1, 1e-6, "sgd w2", 0);
  expect_close(mv, 0.9855, 1, 1e-6, "sgd buf2", 0);
  cr_assert_eq(gv, 0.5f, "optim modified g");

  /* Adam at t=3 from m=0.1, v=0.01: w=2, g=0.2, wd=0.01, lr=0.01, betas (0.9, 0.999).
   * g' = 0.22, m = 0.112, v = 0.0100384, m̂ = 0.112/0.271 = 0.41328413,
   * v̂ = 0.0100384/0.002997001 = 3.3494817, w = 2 − 0.01·m̂/(√v̂ + 1e-8) = 1.99774181 */
  const float aw = 2.0f, ag = 0.2f, am = 0.1f, av = 0.01f;
  mb_view wa = new_view(&c, &aw, 1), ga = new_view(&c, &ag, 1), ma = new_view(&c, &am, 1);
  mb_view va = new_view(&c, &av, 1);
  mb_optim_args ad = {.kind = MB_OPT_ADAM, .w = wa, .g = ga, .m = ma, .v = va, .n = 1,
                      .lr = 0.01f, .weight_decay = 0.01f, .beta1 = 0.9f, .beta2 = 0.999f,
                      .eps = 1e-8f, .t = 3};
  c.ops->optim(c.be, &ad);
  float r[3];
  get(&c, &r[0], wa, 1);
  get(&c, &r[1], ma, 1);
  get(&c, &r[2], va, 1);
  expect_close(r[0], 1.997741812885987, 2, 1e-7, "adam w", 0);
  expect_close(r[1], 0.112, 0.112, 1e-6, "adam m", 0);
  expect_close(r[2], 0.0100384, 0.0100384, 1e-6, "adam v", 0);
  finish(&c);
}
BOTH(optim_hand)

static void optim_random(const char *name)
{
  ctx c = start(name);
  const size_t n = 795010;   /* the MLP's parameter count */
  float *w = falloc(n), *g = falloc(n), *m = falloc(n), *v = falloc(n);
  float *ow = falloc(n), *om = falloc(n), *ov = falloc(n);
  rand_fill(w, n, 111, -1, 1);
  rand_fill(g, n, 112, -0.1f, 0.1f);
  rand_fill(m, n, 113, -0.05f, 0.05f);
  rand_fill(v, n, 114, 0.0f, 0.01f);
  mb_view wv = new_view(&c, w, n), gv = new_view(&c, g, n), mv = new_view(&c, m, n);
  mb_view vv = new_view(&c, v, n);
  mb_optim_args s = {.kind = MB_OPT_SGD, .w = wv, .g = gv, .m = mv, .n = n, .lr = 0.05f,
                     .weight_decay = 5e-4f, .momentum = 0.9f, .dampening = 0.1f};
  c.ops->optim(c.be, &s);
  get(&c, ow, wv, n);
  get(&c, om, mv, n);
  for (size_t i = 0; i < n; i++) {
    const double gp = g[i] + 5e-4 * w[i], mb = 0.9 * m[i] + 0.9 * gp, wn = w[i] - 0.05 * mb;
    const double mag_m = fabs(0.9 * m[i]) + 0.9 * (fabs(g[i]) + fabs(5e-4 * w[i]));
    expect_close(om[i], mb, mag_m, 1e-6, "sgd m", i);
    expect_close(ow[i], wn, fabs(w[i]) + 0.05 * mag_m, 1e-6, "sgd w", i);
  }
  c.ops->upload(c.be, wv, w, n * 4);
  c.ops->upload(c.be, mv, m, n * 4);
  mb_optim_args ad = {.kind = MB_OPT_ADAM, .w = wv, .g = gv, .m = mv, .v = vv, .n = n,
                      .lr = 1e-3f, .weight_decay = 1e-2f, .beta1 = 0.9f, .beta2 = 0.999f,
                      .eps = 1e-8f, .t = 7};
  c.ops->optim(c.be, &ad);
  get(&c, ow, wv, n);
  get(&c, om, mv, n);
  get(&c, ov, vv, n);
  const double bc1 = 1.0 - pow(0.9f, 7), bc2 = 1.0 - pow(0.999f, 7);
  for (size_t i = 0; i < n; i++) {
    const double gp = g[i] + (double)1e-2f * w[i];
    const double mi = 0.9f * (double)m[i] + (1.0 - 0.9f) * gp;
    const double vi = 0.999f * (double)v[i] + (1.0 - 0.999f) * gp * gp;
    const double step = 1e-3f * (mi / bc1) / (sqrt(vi / bc2) + 1e-8f);
    expect_close(om[i], mi, fabs(0.9 * m[i]) + fabs(0.1 * gp), 1e-6, "adam m", i);
    expect_close(ov[i], vi, vi, 1e-5, "adam v", i);
    /* the step is ~lr, w ~1: compare the update itself to 1e-4 relative */
    expect_close(ow[i], w[i] - step, fabs(w[i]) * 1e-2 + fabs(step), 1e-4, "adam w", i);
  }
  free(w);
  free(g);
  free(m);
  free(v);
  free(ow);
  free(om);
  free(ov);
  finish(&c);
}
BOTH(optim_random)

/* ---- RNG ---- */

static void rng_bits(const char *name)
{
  ctx c = start(name);
  const uint64_t seed = 0x0123456789ABCDEFull, stream = 0xFEDCBA9876543210ull;
  static const size_t sizes[] = {1, 3, 1003, 100001};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    const size_t n = sizes[s];
    uint32_t *u = calloc(n, 4);
    float *f = falloc(n);
    mb_view yv = new_view(&c, NULL, n);
    c.ops->rng(c.be, MB_RNG_U32, seed, stream, yv, n, 0, 0);
    get(&c, u, yv, n);
    for (size_t i = 0; i < n; i++)
      cr_assert_eq(u[i], mb_philox_u32(seed, stream, i), "u32[%zu] of %zu", i, n);
    const float p0 = -2.0f, p1 = 3.0f;
    c.ops->rng(c.be, MB_RNG_UNIFORM, seed, stream + 1, yv, n, p0, p1);
    get(&c, f, yv, n);
    for (size_t i = 0; i < n; i++) {
      const float w = p0 + (p1 - p0) * mb_u32_to_unit(mb_philox_u32(seed, stream + 1, i));
      cr_assert(bits_of(f[i]) == bits_of(w), "uniform[%zu]: %.9g vs %.9g", i, f[i], w);
    }
    free(u);
    free(f);
  }
  finish(&c);
}
BOTH(rng_bits)

static void rng_normal(const char *name)
{
  ctx c = start(name);
  const size_t n = 100001;
  const float mu = 0.5f, sd = 2.0f;
  float *y = falloc(n);
  mb_view yv = new_view(&c, NULL, n);
  c.ops->rng(c.be, MB_RNG_NORMAL, 42, 7, yv, n, mu, sd);
  get(&c, y, yv, n);
  double s1 = 0, s2 = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t w[4];
    mb_philox_block(42, 7, i / 2, w);
    const double u1 = ((w[2 * (i % 2)] >> 8) + 1.0) / 16777216.0;
    const double u2 = (w[2 * (i % 2) + 1] >> 8) / 16777216.0;
    const double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    expect_close(y[i], mu + sd * z, fabs(mu) + sd * (1.0 + fabs(z)), 2e-6, "normal", i);
    s1 += y[i];
    s2 += (double)y[i] * y[i];
  }
  const double mean = s1 / n, std = sqrt(s2 / n - mean * mean);
  cr_assert(fabs(mean - mu) < 4.0 * sd / sqrt((double)n), "normal mean %g", mean);
  cr_assert(fabs(std / sd - 1.0) < 0.01, "normal std %g", std);
  free(y);
  finish(&c);
}
BOTH(rng_normal)

/* ---- im2col / col2im ---- */

static const mb_conv_geom k_geoms[] = {
  /* n  c  h  w  kh kw s  p  oh ow */
  {2, 3, 7, 5, 3, 2, 2, 1, 4, 3},
  {2, 4, 8, 8, 1, 1, 2, 0, 4, 4},   /* 1×1 stride-2 shortcut */
  {1, 2, 5, 6, 3, 3, 1, 1, 5, 6},   /* "same" 3×3 */
  {3, 1, 4, 4, 5, 5, 1, 2, 4, 4},   /* kernel larger than the image */
  {2, 3, 11, 9, 7, 7, 2, 3, 6, 5},  /* a 7×7/2 stem */
  {2, 16, 32, 32, 3, 3, 1, 1, 32, 32},   /* threaded on cpu */
};

static float im2col_at(const mb_conv_geom *g, const float *x, int b, int row, int col)
{
  const int ci = row / (g->kh * g->kw), ki = row / g->kw % g->kh, kj = row % g->kw;
  const int oy = col / g->ow, ox = col % g->ow;
  const int iy = oy * g->stride - g->pad + ki, ix = ox * g->stride - g->pad + kj;
  if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) return 0.0f;
  return x[(((size_t)b * g->c + ci) * g->h + iy) * g->w + ix];
}

static void conv_ops(const char *name)
{
  ctx c = start(name);
  for (size_t k = 0; k < sizeof k_geoms / sizeof k_geoms[0]; k++) {
    const mb_conv_geom *g = &k_geoms[k];
    const int rows = g->c * g->kh * g->kw, ocols = g->oh * g->ow;
    const size_t nx = (size_t)g->n * g->c * g->h * g->w, nc = (size_t)g->n * rows * ocols;
    float *x = falloc(nx), *cols = falloc(nc), *cr = falloc(nc), *dx0 = falloc(nx), *dx = falloc(nx);
    rand_fill(x, nx, 121 + k, -1, 1);
    rand_fill(cr, nc, 122 + k, -1, 1);
    rand_fill(dx0, nx, 123 + k, -1, 1);
    mb_view xv = new_view(&c, x, nx), cv = new_view(&c, NULL, nc);
    c.ops->im2col(c.be, g, xv, cv);
    get(&c, cols, cv, nc);
    for (int b = 0; b < g->n; b++)
      for (int r = 0; r < rows; r++)
        for (int q = 0; q < ocols; q++) {
          const size_t at = ((size_t)b * rows + r) * ocols + q;
          cr_assert(bits_of(cols[at]) == bits_of(im2col_at(g, x, b, r, q)),
                    "im2col geom %zu [b%d r%d c%d]", k, b, r, q);
        }
    /* col2im adds the adjoint: <im2col(x), cr> == <x, col2im(cr)> */
    mb_view crv = new_view(&c, cr, nc), dxv = new_view(&c, dx0, nx);
    c.ops->col2im(c.be, g, crv, dxv);
    get(&c, dx, dxv, nx);
    double lhs = 0, rhs = 0, mag = 0;
    for (size_t i = 0; i < nc; i++) lhs += (double)cols[i] * cr[i], mag += fabs((double)cols[i] * cr[i]);
    for (size_t i = 0; i < nx; i++) rhs += (double)x[i] * ((double)dx[i] - dx0[i]);
    cr_assert(fabs(lhs - rhs) <= 1e-5 * mag, "col2im adjoint geom %zu: %.9g vs %.9g", k, lhs, rhs);
    /* and element by element, against a naive scatter in double */
    double *acc = calloc(nx, sizeof *acc);
    for (size_t i = 0; i < nx; i++) acc[i] = dx0[i];
    for (int b = 0; b < g->n; b++)
      for (int r = 0; r < rows; r++)
        for (int q = 0; q < ocols; q++) {
          const int ci = r / (g->kh * g->kw), ki = r / g->kw % g->kh, kj = r % g->kw;
          const int iy = q / g->ow * g->stride - g->pad + ki, ix = q % g->ow * g->stride - g->pad + kj;
          if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
          acc[(((size_t)b * g->c + ci) * g->h + iy) * g->w + ix] += cr[((size_t)b * rows + r) * ocols + q];
        }
    const double tol = c.is_ref ? 1e-6 : 1e-5;
    for (size_t i = 0; i < nx; i++)
      expect_close(dx[i], acc[i], 1.0 + fabs(acc[i]), tol, "col2im", i);
    free(acc);
    free(x);
    free(cols);
    free(cr);
    free(dx0);
    free(dx);
  }
  finish(&c);
}
BOTH(conv_ops)

/* ---- permute ---- */

/* y[m][o][i] = x[o][m][i], bit for bit, and nothing written past y: short rows in tiles
 * with ragged edges, rows of exactly and over a cache line, a transpose (inner 1), unit
 * axes, and ResNet-18's conv regroupings (threaded on cpu). */
static void permute_ops(const char *name)
{
  static const size_t shapes[][3] = {
    {1, 1, 1}, {1, 5, 7}, {6, 1, 5}, {33, 257, 1}, {17, 19, 3}, {7, 33, 15}, {5, 9, 16},
    {3, 40, 1000}, {4, 576, 1024}, {16, 4608, 16}, {512, 16, 16}, {37, 1000, 2},
  };
  const uint32_t guard = 0x7fbadbadu;
  ctx c = start(name);
  const int keep = c.nbufs;
  for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
    const size_t O = shapes[k][0], M = shapes[k][1], I = shapes[k][2], n = O * M * I;
    uint32_t *x = malloc(n * 4), *y = malloc((n + 2) * 4);
    cr_assert(x && y);
    for (size_t e = 0; e < n; e++) x[e] = mb_philox_u32(300 + k, 5, e);   /* NaNs included */
    for (size_t e = 0; e < n + 2; e++) y[e] = guard;
    mb_view xv = new_view(&c, x, n), yv = new_view(&c, y, n + 2);
    c.ops->permute(c.be, xv, yv, O, M, I);
    get(&c, y, yv, n + 2);
    for (size_t o = 0; o < O; o++)
      for (size_t m = 0; m < M; m++)
        for (size_t i = 0; i < I; i++)
          cr_assert_eq(y[(m * O + o) * I + i], x[(o * M + m) * I + i],
                       "permute %zux%zux%zu: y[%zu][%zu][%zu]", O, M, I, m, o, i);
    cr_assert(y[n] == guard && y[n + 1] == guard, "permute %zux%zux%zu wrote past y", O, M, I);
    free(x);
    free(y);
    drop(&c, keep);
  }
  finish(&c);
}
BOTH(permute_ops)

/* ---- the cpu backend's two builds of the norm loops give the same bits ----
 * norm_runs.c is compiled for the baseline ISA and, on x86-64, for AVX2; the backend
 * picks at open and MB_CPU_ISA forces one.  Batch norm forward (train and eval) and
 * backward, and layer norm, on shapes whose runs are shorter than, equal to and not a
 * multiple of the 8 lanes, must agree bit for bit. */

#define ISA_OUTS 7

typedef struct {
  float *out[ISA_OUTS];
  size_t len[ISA_OUTS];
} isa_result;

static void isa_norms(const char *isa, int n, int ch, int hw, isa_result *r)
{
  cr_assert_eq(setenv("MB_CPU_ISA", isa, 1), 0);
  ctx c = start("cpu");
  const size_t total = (size_t)n * ch * hw;
  float *x = falloc(total), *dy = falloc(total), *g = falloc(ch), *b = falloc(ch);
  rand_fill(x, total, 11, -3.0f, 5.0f);
  rand_fill(dy, total, 12, -1.0f, 1.0f);
  rand_fill(g, ch, 13, 0.5f, 1.5f);
  rand_fill(b, ch, 14, -0.5f, 0.5f);
  float *ones = falloc(ch);
  for (int i = 0; i < ch; i++) ones[i] = 1.0f;
  mb_view vx = new_view(&c, x, total), vdy = new_view(&c, dy, total), vg = new_view(&c, g, ch),
          vb = new_view(&c, b, ch), vy = new_view(&c, NULL, total), vdx = new_view(&c, NULL, total),
          rm = new_view(&c, b, ch), rv = new_view(&c, ones, ch), sm = new_view(&c, NULL, ch),
          si = new_view(&c, NULL, ch), dg = new_view(&c, NULL, ch), db = new_view(&c, NULL, ch),
          ye = new_view(&c, NULL, total), yl = new_view(&c, NULL, total),
          lm = new_view(&c, NULL, (size_t)n * ch), lr = new_view(&c, NULL, (size_t)n * ch);
  mb_bn_args fa = {.mode = MB_BN_TRAIN, .n = n, .c = ch, .hw = hw, .eps = 1e-5f, .momentum = 0.1f,
                   .x = vx, .y = vy, .gamma = vg, .beta = vb, .run_mean = rm, .run_var = rv,
                   .save_mean = sm, .save_invstd = si};
  c.ops->batchnorm(c.be, &fa);
  mb_bn_args ea = fa;
  ea.mode = MB_BN_EVAL;
  ea.y = ye;
  c.ops->batchnorm(c.be, &ea);
  mb_bn_bwd_args ba = {.mode = MB_BN_TRAIN, .n = n, .c = ch, .hw = hw, .x = vx, .dy = vdy,
                       .gamma = vg, .mean = sm, .invstd = si, .dx = vdx, .dgamma = dg, .dbeta = db};
  c.ops->batchnorm_bwd(c.be, &ba);
  /* layer norm over rows of hw: the same run loops */
  mb_view lg = new_view(&c, x, (size_t)hw), lb = new_view(&c, dy, (size_t)hw);
  mb_ln_args la = {.rows = n * ch, .c = hw, .eps = 1e-5f, .x = vx, .y = yl, .gamma = lg,
                   .beta = lb, .save_mean = lm, .save_rstd = lr};
  c.ops->layernorm(c.be, &la);
  const mb_view outs[ISA_OUTS] = {vy, ye, vdx, dg, db, yl, lr};
  const size_t lens[ISA_OUTS] = {total, total, total, (size_t)ch, (size_t)ch, total,
                                 (size_t)n * ch};
  for (int i = 0; i < ISA_OUTS; i++) {
    r->len[i] = lens[i];
    r->out[i] = falloc(lens[i]);
    get(&c, r->out[i], outs[i], lens[i]);
  }
  finish(&c);
  free(x);
  free(dy);
  free(g);
  free(b);
  free(ones);
}

Test(cpu_isa, norm_loops_same_bits_on_every_isa)
{
#if !defined(__x86_64__)
  cr_skip_test("only x86-64 builds have a second (AVX2) build of the norm loops");
#else
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2")) cr_skip_test("this CPU does not run AVX2");
  static const int shapes[][3] = {{2, 3, 5}, {3, 2, 8}, {2, 4, 37}, {4, 3, 784}, {32, 2, 16}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    isa_result base, avx2;
    isa_norms("baseline", shapes[s][0], shapes[s][1], shapes[s][2], &base);
    isa_norms("avx2", shapes[s][0], shapes[s][1], shapes[s][2], &avx2);
    for (int i = 0; i < ISA_OUTS; i++) {
      for (size_t j = 0; j < base.len[i]; j++)
        cr_assert_eq(bits_of(base.out[i][j]), bits_of(avx2.out[i][j]),
                     "shape %d×%d×%d, output %d [%zu]: baseline %.9g, avx2 %.9g", shapes[s][0],
                     shapes[s][1], shapes[s][2], i, j, base.out[i][j], avx2.out[i][j]);
      free(base.out[i]);
      free(avx2.out[i]);
    }
  }
#endif
}

Test(cpu_isa, unknown_isa_refused_with_its_name)
{
  cr_assert_eq(setenv("MB_CPU_ISA", "sse9", 1), 0);
  const mb_backend_ops *ops = backend_ops("cpu");
  mb_backend *be = NULL;
  char why[256] = "";
  cr_assert_neq(ops->open(0, &be, why, sizeof why), MB_OK);
  cr_assert_null(be);
  cr_assert(strstr(why, "MB_CPU_ISA=sse9") != NULL, "why: %s", why);
}
