/* GPU check of two CUDA kernel files against what they must reproduce, run by
 * tools/gpu-check.sh on a machine with an NVIDIA GPU (no harness, no Criterion):
 *
 *  1. kernels/cuda/norm.cu: batch norm forward (train, eval) and backward against an
 *     f64 host oracle with the formulas of backends/ref/norm.c, at the agreement
 *     suite's batch-norm tolerance (max|a−r|/max|r| <= 2e-5), bit-identical on a
 *     second run; then the time of forward + backward at the stem of bench-scale
 *     (512 × 64 × 112 × 112).
 *  2. kernels/cuda/forget.cu: the fused forgetting update against the op chain of
 *     core/forget_mnemonic.c run with the backend's own kernels, bit for bit, with and
 *     without a delta view, with outputs aliasing the inputs, and with the Fisher
 *     inputs divided by class counts inside the op (scale_forget, scale_remain).
 *  3. Swin-T's ops: layer norm forward and backward (norm.cu) and row softmax and its
 *     backward (loss.cu) against f64 at the agreement suite's tolerances, bit-identical on
 *     a second run and in place; GELU and its backward (eltwise.cu) within 4.5 f32 ulp of
 *     erfc in f64 over [-12, 12].
 *
 * Build (from the repository root):
 *   nvcc -O2 --fmad=false -Iinclude -Ikernels/cuda -Ikernels/common -o cuda-kernel-check \
 *     tools/cuda-kernel-check.cu kernels/cuda/norm.cu kernels/cuda/forget.cu \
 *     kernels/cuda/eltwise.cu kernels/cuda/reduce.cu kernels/cuda/rng.cu kernels/cuda/loss.cu
 * Exit status 0 when every check passes. */
#include "launch.h"

#include <cuda_runtime.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vector>

static int g_fail = 0;

#define CK(call)                                                                         \
  do {                                                                                   \
    cudaError_t e_ = (call);                                                             \
    if (e_ != cudaSuccess) {                                                             \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      exit(2);                                                                           \
    }                                                                                    \
  } while (0)

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static double urand(void)
{
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return (double)(g_rng >> 11) / 9007199254740992.0;
}
static float nrand(float mean, float sd)
{
  double u = urand() + 1e-300, v = urand();
  return (float)(mean + sd * sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));
}

static float *dev_copy(const std::vector<float> &h)
{
  float *d;
  CK(cudaMalloc(&d, h.size() * 4 + 4));
  CK(cudaMemcpy(d, h.data(), h.size() * 4, cudaMemcpyHostToDevice));
  return d;
}
static std::vector<float> host_copy(const float *d, size_t n)
{
  std::vector<float> h(n);
  CK(cudaMemcpy(h.data(), d, n * 4, cudaMemcpyDeviceToHost));
  return h;
}

/* max|a−r| / max|r| with NaN parity; 0 when both are all-zero. */
static double rel_err(const std::vector<float> &got, const std::vector<double> &ref, const char *what,
                      const char *shape, double tol, const char *fam = "bn")
{
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); i++) {
    if (isnan(ref[i]) != isnan((double)got[i])) {
      printf("FAIL %s %s %s: NaN parity at %zu\n", fam, shape, what, i);
      g_fail++;
      return INFINITY;
    }
    if (isnan(ref[i])) continue;
    num = fmax(num, fabs((double)got[i] - ref[i]));
    den = fmax(den, fabs(ref[i]));
  }
  double r = den > 0 ? num / den : num;
  if (!(r <= tol)) {
    printf("FAIL %s %s %s: max rel %.3g > %.3g\n", fam, shape, what, r, tol);
    g_fail++;
  }
  return r;
}

static int same_bits(const std::vector<float> &a, const std::vector<float> &b)
{
  return a.size() == b.size() && memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

/* ------------------------------------------------------------------ batch norm */

static void bn_case(int n, int c, int hw, float mean, float sd)
{
  char shape[64];
  snprintf(shape, sizeof shape, "%dx%dx%d", n, c, hw);
  size_t m = (size_t)n * hw, total = m * c;
  std::vector<float> x(total), dy(total), gm(c), bt(c), rm(c), rv(c);
  for (auto &v : x) v = nrand(mean, sd);
  for (auto &v : dy) v = nrand(0, 1);
  for (int i = 0; i < c; i++) {
    gm[i] = nrand(1, 0.2f);
    bt[i] = nrand(0, 0.2f);
    rm[i] = nrand(0, 0.5f);
    rv[i] = 0.5f + (float)urand();
  }
  /* the oracle (backends/ref/norm.c) */
  std::vector<double> ry(total), rsm(c), rsi(c), rrm(c), rrv(c), rey(total), rdx(total), rdg(c), rdb(c);
  const double eps = 1e-5, mo = 0.1;
  for (int ch = 0; ch < c; ch++) {
    double s = 0, q = 0;
    for (int i = 0; i < n; i++)
      for (int k = 0; k < hw; k++) s += x[((size_t)i * c + ch) * hw + k];
    double mu = s / (double)m;
    for (int i = 0; i < n; i++)
      for (int k = 0; k < hw; k++) {
        double d = x[((size_t)i * c + ch) * hw + k] - mu;
        q += d * d;
      }
    double var = q / (double)m, is = 1.0 / sqrt(var + (double)(float)eps);
    double unb = m > 1 ? var * (double)m / (double)(m - 1) : var;
    rsm[ch] = (float)mu;
    rsi[ch] = (float)is;
    rrm[ch] = (float)((1.0 - (double)(float)mo) * rm[ch] + (double)(float)mo * mu);
    rrv[ch] = (float)((1.0 - (double)(float)mo) * rv[ch] + (double)(float)mo * unb);
    double eis = 1.0 / sqrt((double)rv[ch] + (double)(float)eps);
    double mf = (float)mu, isf = (float)is, sdy = 0, sdyx = 0;
    for (int i = 0; i < n; i++)
      for (int k = 0; k < hw; k++) {
        size_t e = ((size_t)i * c + ch) * hw + k;
        ry[e] = (float)((x[e] - mu) * is * gm[ch] + bt[ch]);
        rey[e] = (float)((x[e] - (double)rm[ch]) * eis * gm[ch] + bt[ch]);
        sdy += dy[e];
        sdyx += dy[e] * ((x[e] - mf) * isf);
      }
    rdg[ch] = (float)sdyx;
    rdb[ch] = (float)sdy;
    for (int i = 0; i < n; i++)
      for (int k = 0; k < hw; k++) {
        size_t e = ((size_t)i * c + ch) * hw + k;
        double xh = (x[e] - mf) * isf;
        rdx[e] = (float)(gm[ch] * isf * (dy[e] - sdy / (double)m - xh * sdyx / (double)m));
      }
  }

  float *dx_ = dev_copy(x), *ddy = dev_copy(dy), *dg_ = dev_copy(gm), *db_ = dev_copy(bt);
  float *drm = dev_copy(rm), *drv = dev_copy(rv), *dy_out, *dsm, *dsi, *ddx, *dgg, *dbb;
  CK(cudaMalloc(&dy_out, total * 4));
  CK(cudaMalloc(&ddx, total * 4));
  CK(cudaMalloc(&dsm, c * 4));
  CK(cudaMalloc(&dsi, c * 4));
  CK(cudaMalloc(&dgg, c * 4));
  CK(cudaMalloc(&dbb, c * 4));
  mb_bn_args a;
  memset(&a, 0, sizeof a);
  a.mode = MB_BN_TRAIN;
  a.n = n;
  a.c = c;
  a.hw = hw;
  a.eps = (float)eps;
  a.momentum = (float)mo;
  mb_bn_bwd_args b;
  memset(&b, 0, sizeof b);
  b.mode = MB_BN_TRAIN;
  b.n = n;
  b.c = c;
  b.hw = hw;
  size_t sbytes = mb_cu_batchnorm_scratch(&a);
  if (mb_cu_batchnorm_bwd_scratch(&b) > sbytes) sbytes = mb_cu_batchnorm_bwd_scratch(&b);
  void *scr;
  CK(cudaMalloc(&scr, sbytes));

  std::vector<float> y1, sm1, si1, dx1, dg1, db1;
  for (int rep = 0; rep < 2; rep++) {
    CK(cudaMemcpy(drm, rm.data(), c * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(drv, rv.data(), c * 4, cudaMemcpyHostToDevice));
    mb_cu_batchnorm(0, &a, dx_, dy_out, dg_, db_, drm, drv, dsm, dsi, scr);
    mb_cu_batchnorm_bwd(0, &b, dx_, ddy, dg_, dsm, dsi, ddx, dgg, dbb, scr);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    std::vector<float> y = host_copy(dy_out, total), sm = host_copy(dsm, c), si = host_copy(dsi, c);
    std::vector<float> dx = host_copy(ddx, total), dg = host_copy(dgg, c), db = host_copy(dbb, c);
    if (rep == 0) {
      double e = 0;
      e = fmax(e, rel_err(y, ry, "train y", shape, 2e-5));
      e = fmax(e, rel_err(sm, rsm, "save_mean", shape, 2e-5));
      e = fmax(e, rel_err(si, rsi, "save_invstd", shape, 2e-5));
      e = fmax(e, rel_err(host_copy(drm, c), rrm, "run_mean", shape, 2e-5));
      e = fmax(e, rel_err(host_copy(drv, c), rrv, "run_var", shape, 2e-5));
      e = fmax(e, rel_err(dx, rdx, "dx", shape, 2e-5));
      e = fmax(e, rel_err(dg, rdg, "dgamma", shape, 2e-5));
      e = fmax(e, rel_err(db, rdb, "dbeta", shape, 2e-5));
      printf("bn %-14s train fwd+bwd max rel %.3g\n", shape, e);
      y1 = y; sm1 = sm; si1 = si; dx1 = dx; dg1 = dg; db1 = db;
    } else if (!same_bits(y, y1) || !same_bits(sm, sm1) || !same_bits(si, si1) ||
               !same_bits(dx, dx1) || !same_bits(dg, dg1) || !same_bits(db, db1)) {
      printf("FAIL bn %s: second run differs\n", shape);
      g_fail++;
    }
  }
  /* eval mode, in place (y = x) */
  CK(cudaMemcpy(drm, rm.data(), c * 4, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(drv, rv.data(), c * 4, cudaMemcpyHostToDevice));
  a.mode = MB_BN_EVAL;
  mb_cu_batchnorm(0, &a, dx_, dx_, dg_, db_, drm, drv, NULL, NULL, scr);
  CK(cudaGetLastError());
  CK(cudaDeviceSynchronize());
  printf("bn %-14s eval (in place) max rel %.3g\n", shape,
         rel_err(host_copy(dx_, total), rey, "eval y", shape, 2e-5));
  float *ptrs[] = {dx_, ddy, dg_, db_, drm, drv, dy_out, ddx, dsm, dsi, dgg, dbb};
  for (float *p : ptrs) CK(cudaFree(p));
  CK(cudaFree(scr));
}

static void bn_bench(int n, int c, int hw)
{
  size_t total = (size_t)n * c * hw;
  float *x, *y, *dy, *dx, *g, *b, *rm, *rv, *sm, *si, *dg, *db;
  CK(cudaMalloc(&x, total * 4));
  CK(cudaMalloc(&y, total * 4));
  CK(cudaMalloc(&dy, total * 4));
  CK(cudaMalloc(&dx, total * 4));
  float **small[] = {&g, &b, &rm, &rv, &sm, &si, &dg, &db};
  for (float **p : small) {
    CK(cudaMalloc(p, c * 4));
    CK(cudaMemset(*p, 0, c * 4));
  }
  mb_cu_rng(0, MB_RNG_NORMAL, 1, 0, x, total, 0.0f, 1.0f);
  mb_cu_rng(0, MB_RNG_NORMAL, 1, 1, dy, total, 0.0f, 1.0f);
  mb_bn_args a;
  memset(&a, 0, sizeof a);
  a.mode = MB_BN_TRAIN;
  a.n = n;
  a.c = c;
  a.hw = hw;
  a.eps = 1e-5f;
  a.momentum = 0.1f;
  mb_bn_bwd_args bb;
  memset(&bb, 0, sizeof bb);
  bb.mode = MB_BN_TRAIN;
  bb.n = n;
  bb.c = c;
  bb.hw = hw;
  size_t sbytes = mb_cu_batchnorm_scratch(&a);
  if (mb_cu_batchnorm_bwd_scratch(&bb) > sbytes) sbytes = mb_cu_batchnorm_bwd_scratch(&bb);
  void *scr;
  CK(cudaMalloc(&scr, sbytes));
  cudaEvent_t e0, e1, e2;
  CK(cudaEventCreate(&e0));
  CK(cudaEventCreate(&e1));
  CK(cudaEventCreate(&e2));
  float best_f = 1e30f, best_b = 1e30f;
  std::vector<float> dg_first;
  for (int rep = 0; rep < 6; rep++) {
    CK(cudaEventRecord(e0));
    mb_cu_batchnorm(0, &a, x, y, g, b, rm, rv, sm, si, scr);
    CK(cudaEventRecord(e1));
    mb_cu_batchnorm_bwd(0, &bb, x, dy, g, sm, si, dx, dg, db, scr);
    CK(cudaEventRecord(e2));
    CK(cudaGetLastError());
    CK(cudaEventSynchronize(e2));
    float tf, tb;
    CK(cudaEventElapsedTime(&tf, e0, e1));
    CK(cudaEventElapsedTime(&tb, e1, e2));
    if (rep > 0 && tf < best_f) best_f = tf;
    if (rep > 0 && tb < best_b) best_b = tb;
    std::vector<float> d = host_copy(dg, c);
    if (rep == 0) dg_first = d;
    else if (!same_bits(d, dg_first)) {
      printf("FAIL bn bench %dx%dx%d: dgamma differs on run %d\n", n, c, hw, rep);
      g_fail++;
    }
  }
  double gb = (double)total * 4 / 1e9;
  /* forward: x read twice for the statistics, once more with y written; backward: x and
   * dy read for the sums, again with dx written */
  printf("bn bench %dx%dx%d (%.2f GB per tensor): forward %.3f ms (%.0f GB/s), backward %.3f ms "
         "(%.0f GB/s)\n",
         n, c, hw, gb, best_f, 4 * gb / (best_f * 1e-3), best_b, 5 * gb / (best_b * 1e-3));
  float *big[] = {x, y, dy, dx, g, b, rm, rv, sm, si, dg, db};
  for (float *p : big) CK(cudaFree(p));
  CK(cudaFree(scr));
}

/* ------------------------------------------------------------- forgetting update */

struct DevSegtab {
  mb_cu_segtab tab;
  void *dev;
};

/* As backends/cuda/reduce.c builds it: chunks of MB_CU_SEG_CHUNK, then first[]. */
static DevSegtab make_segtab(const std::vector<size_t> &offs)
{
  int nseg = (int)offs.size() - 1;
  std::vector<mb_cu_chunk> ch;
  std::vector<int> first;
  for (int s = 0; s < nseg; s++) {
    first.push_back((int)ch.size());
    for (size_t b = offs[s]; b < offs[s + 1]; b += MB_CU_SEG_CHUNK) {
      mb_cu_chunk k;
      k.begin = b;
      k.end = offs[s + 1] - b < MB_CU_SEG_CHUNK ? offs[s + 1] : b + MB_CU_SEG_CHUNK;
      k.seg = s;
      k.pad_ = 0;
      ch.push_back(k);
    }
  }
  first.push_back((int)ch.size());
  size_t cb = ch.size() * sizeof(mb_cu_chunk), bytes = cb + first.size() * sizeof(int);
  DevSegtab t;
  CK(cudaMalloc(&t.dev, bytes));
  if (cb) CK(cudaMemcpy(t.dev, ch.data(), cb, cudaMemcpyHostToDevice));
  CK(cudaMemcpy((char *)t.dev + cb, first.data(), first.size() * sizeof(int), cudaMemcpyHostToDevice));
  t.tab.chunks = (const mb_cu_chunk *)t.dev;
  t.tab.first = (const int *)((char *)t.dev + cb);
  t.tab.nchunks = ch.size();
  t.tab.nseg = nseg;
  return t;
}

static float special(void)
{
  static const float v[] = {0.0f, -0.0f, 1.0f, -1.0f, INFINITY, -INFINITY, NAN, 1e-45f, 3e38f, 1e-30f};
  return v[(int)(urand() * 10) % 10];
}

/* sf, sr: mb_forget_args' scale_forget and scale_remain (0: the Fisher inputs as they are) */
static void forget_case(const char *name, const std::vector<size_t> &offs, int kind, float l1, float l2,
                        float sf = 0.0f, float sr = 0.0f)
{
  size_t n = offs.back();
  int nseg = (int)offs.size() - 1;
  std::vector<float> ff(n), fr(n), w(n);
  for (size_t i = 0; i < n; i++) {
    if (kind == 0) {
      ff[i] = (float)(1e-16 + urand() * 1e-2);
      fr[i] = (float)(1e-16 + urand() * 1e-2);
    } else {
      ff[i] = urand() < 0.2 ? special() : (float)urand();
      fr[i] = urand() < 0.2 ? special() : (float)urand();
    }
    w[i] = nrand(0, 0.1f);
  }
  DevSegtab t = make_segtab(offs);
  float *dff = dev_copy(ff), *dfr = dev_copy(fr), *dw = dev_copy(w), *r, *lr, *seg, *plus, *minus;
  CK(cudaMalloc(&r, n * 4 + 4));
  CK(cudaMalloc(&lr, n * 4 + 4));
  CK(cudaMalloc(&seg, nseg * 4));
  CK(cudaMalloc(&plus, n * 4 + 4));
  CK(cudaMalloc(&minus, n * 4 + 4));
  size_t sb = mb_cu_seg_reduce_scratch(&t.tab);
  if (mb_cu_forget_scratch(&t.tab) > sb) sb = mb_cu_forget_scratch(&t.tab);
  void *scr;
  CK(cudaMalloc(&scr, sb + 8));

  /* the op chain of core/forget_mnemonic.c, with the backend's kernels */
  if (sf != 0.0f) {
    mb_cu_unary(0, MB_UN_AFFINE, dff, r, n, sf, 0.0f);
    mb_cu_unary(0, MB_UN_LOG, r, r, n, 0, 0);
  } else {
    mb_cu_unary(0, MB_UN_LOG, dff, r, n, 0, 0);
  }
  if (sr != 0.0f) {
    mb_cu_unary(0, MB_UN_AFFINE, dfr, lr, n, sr, 0.0f);
    mb_cu_unary(0, MB_UN_LOG, lr, lr, n, 0, 0);
  } else {
    mb_cu_unary(0, MB_UN_LOG, dfr, lr, n, 0, 0);
  }
  mb_cu_binary(0, MB_BIN_AXPBY, r, lr, r, n, 1.0f, -1.0f);
  mb_cu_unary(0, MB_UN_NAN_TO, r, r, n, 0.0f, 0);
  mb_cu_seg_reduce(0, MB_RED_MAX_FINITE, r, seg, &t.tab, scr);
  mb_cu_seg_bcast(0, MB_SEGBC_INF_TO, r, seg, r, &t.tab);
  mb_cu_unary(0, MB_UN_EXP, r, r, n, 0, 0);
  mb_cu_seg_reduce(0, MB_RED_MAX, r, seg, &t.tab, scr);
  mb_cu_unary(0, MB_UN_RECIP, seg, seg, (size_t)nseg, 0, 0);
  mb_cu_unary(0, MB_UN_AFFINE, seg, seg, (size_t)nseg, l2, 0.0f);
  mb_cu_unary(0, MB_UN_MIN_S, seg, seg, (size_t)nseg, l1, 0);
  mb_cu_seg_bcast(0, MB_SEGBC_MUL, r, seg, r, &t.tab);
  mb_cu_binary(0, MB_BIN_AXPBY, dw, r, plus, n, 1.0f, 1.0f);
  mb_cu_binary(0, MB_BIN_AXPBY, dw, r, minus, n, 1.0f, -1.0f);
  CK(cudaGetLastError());
  CK(cudaDeviceSynchronize());
  std::vector<float> cd = host_copy(r, n), cp = host_copy(plus, n), cm = host_copy(minus, n);

  /* fused: with delta; without delta; delta over f_forget and plus over f_remain */
  for (int v = 0; v < 3; v++) {
    CK(cudaMemset(r, 0xff, n * 4));
    CK(cudaMemset(plus, 0xff, n * 4));
    CK(cudaMemset(minus, 0xff, n * 4));
    const char *vn[] = {"delta", "no delta", "aliased"};
    if (v == 0) mb_cu_forget(0, &t.tab, dff, dfr, dw, r, plus, minus, l1, l2, sf, sr, scr);
    if (v == 1) mb_cu_forget(0, &t.tab, dff, dfr, dw, NULL, plus, minus, l1, l2, sf, sr, scr);
    if (v == 2) {
      float *aff = dev_copy(ff), *afr = dev_copy(fr);
      mb_cu_forget(0, &t.tab, aff, afr, dw, aff, afr, minus, l1, l2, sf, sr, scr);
      CK(cudaMemcpy(r, aff, n * 4, cudaMemcpyDeviceToDevice));
      CK(cudaMemcpy(plus, afr, n * 4, cudaMemcpyDeviceToDevice));
      CK(cudaFree(aff));
      CK(cudaFree(afr));
    }
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    int ok = same_bits(host_copy(plus, n), cp) && same_bits(host_copy(minus, n), cm) &&
             (v == 1 || same_bits(host_copy(r, n), cd));
    printf("%s forget %-20s %-9s: %s\n", ok ? "ok  " : "FAIL", name, vn[v],
           ok ? "bit-identical to the op chain" : "differs from the op chain");
    if (!ok) g_fail++;
  }
  float *fp[] = {dff, dfr, dw, r, lr, seg, plus, minus};
  for (float *p : fp) CK(cudaFree(p));
  CK(cudaFree(scr));
  CK(cudaFree(t.dev));
}

/* ------------------------------------------------ layer norm, softmax, GELU (Swin-T's ops) */

/* Layer norm over rows of c (eps 1e-5) forward and backward against the f64 formulas of
 * backends/ref/norm.c, at the agreement suite's norm tolerance, and a second run bit for
 * bit.  The backward takes the oracle's own f32 statistics, as the op is given saved ones. */
static void ln_case(int rows, int c, float mean, float sd)
{
  char shape[64];
  snprintf(shape, sizeof shape, "%dx%d", rows, c);
  const size_t total = (size_t)rows * c;
  const double eps = (double)1e-5f;
  std::vector<float> x(total), dy(total), gm(c), bt(c), fm(rows), fr(rows);
  for (auto &v : x) v = nrand(mean, sd);
  for (auto &v : dy) v = nrand(0, 1);
  for (int j = 0; j < c; j++) {
    gm[j] = nrand(1, 0.2f);
    bt[j] = nrand(0, 0.2f);
  }
  std::vector<double> ry(total), rm(rows), rr(rows), rdx(total), rdg(c, 0.0), rdb(c, 0.0);
  for (int r = 0; r < rows; r++) {
    const float *xr = &x[(size_t)r * c];
    double s = 0, q = 0;
    for (int j = 0; j < c; j++) s += xr[j];
    const double mu = s / c;
    for (int j = 0; j < c; j++) q += (xr[j] - mu) * (xr[j] - mu);
    const double rs = 1.0 / sqrt(q / c + eps);
    rm[r] = (float)mu;
    rr[r] = (float)rs;
    fm[r] = (float)mu;
    fr[r] = (float)rs;
    for (int j = 0; j < c; j++) ry[(size_t)r * c + j] = (float)((xr[j] - mu) * rs * gm[j] + bt[j]);
    /* backward with the f32 statistics */
    const double m = fm[r], sr = fr[r];
    double sg = 0, sgx = 0;
    for (int j = 0; j < c; j++) {
      const size_t e = (size_t)r * c + j;
      const double g = (double)dy[e] * gm[j], xh = (x[e] - m) * sr;
      sg += g;
      sgx += g * xh;
      rdg[j] += (double)dy[e] * xh;
      rdb[j] += dy[e];
    }
    sg /= c;
    sgx /= c;
    for (int j = 0; j < c; j++) {
      const size_t e = (size_t)r * c + j;
      const double g = (double)dy[e] * gm[j], xh = (x[e] - m) * sr;
      rdx[e] = (float)(sr * (g - sg - xh * sgx));
    }
  }
  for (int j = 0; j < c; j++) {
    rdg[j] = (float)rdg[j];
    rdb[j] = (float)rdb[j];
  }
  float *dx_ = dev_copy(x), *ddy = dev_copy(dy), *dg_ = dev_copy(gm), *db_ = dev_copy(bt);
  float *dfm = dev_copy(fm), *dfr = dev_copy(fr), *dy_out, *dsm, *dsr, *ddx, *dgg, *dbb;
  CK(cudaMalloc(&dy_out, total * 4));
  CK(cudaMalloc(&ddx, total * 4));
  CK(cudaMalloc(&dsm, rows * 4));
  CK(cudaMalloc(&dsr, rows * 4));
  CK(cudaMalloc(&dgg, c * 4));
  CK(cudaMalloc(&dbb, c * 4));
  mb_ln_args a;
  memset(&a, 0, sizeof a);
  a.rows = rows;
  a.c = c;
  a.eps = 1e-5f;
  mb_ln_bwd_args b;
  memset(&b, 0, sizeof b);
  b.rows = rows;
  b.c = c;
  void *scr;
  CK(cudaMalloc(&scr, mb_cu_layernorm_bwd_scratch(&b) + 8));
  std::vector<float> keep[6];
  for (int rep = 0; rep < 2; rep++) {
    mb_cu_layernorm(0, &a, dx_, dy_out, dg_, db_, dsm, dsr);
    mb_cu_layernorm_bwd(0, &b, dx_, ddy, dg_, dfm, dfr, ddx, dgg, dbb, scr);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    std::vector<float> got[6] = {host_copy(dy_out, total), host_copy(dsm, rows), host_copy(dsr, rows),
                                 host_copy(ddx, total), host_copy(dgg, c), host_copy(dbb, c)};
    if (rep == 0) {
      double e = 0;
      e = fmax(e, rel_err(got[0], ry, "y", shape, 2e-5, "ln"));
      e = fmax(e, rel_err(got[1], rm, "save_mean", shape, 2e-5, "ln"));
      e = fmax(e, rel_err(got[2], rr, "save_rstd", shape, 2e-5, "ln"));
      e = fmax(e, rel_err(got[3], rdx, "dx", shape, 2e-5, "ln"));
      e = fmax(e, rel_err(got[4], rdg, "dgamma", shape, 2e-5, "ln"));
      e = fmax(e, rel_err(got[5], rdb, "dbeta", shape, 2e-5, "ln"));
      printf("ln %-14s fwd+bwd max rel %.3g\n", shape, e);
      for (int i = 0; i < 6; i++) keep[i] = got[i];
    } else {
      for (int i = 0; i < 6; i++)
        if (!same_bits(got[i], keep[i])) {
          printf("FAIL ln %s: second run differs (output %d)\n", shape, i);
          g_fail++;
          break;
        }
    }
  }
  /* in place, each optional output left out: dx = dy, then y = x */
  mb_cu_layernorm_bwd(0, &b, dx_, ddy, dg_, dfm, dfr, ddy, NULL, NULL, scr);
  mb_cu_layernorm(0, &a, dx_, dx_, dg_, db_, NULL, NULL);
  CK(cudaGetLastError());
  CK(cudaDeviceSynchronize());
  rel_err(host_copy(ddy, total), rdx, "dx in place", shape, 2e-5, "ln");
  rel_err(host_copy(dx_, total), ry, "y in place", shape, 2e-5, "ln");
  float *ptrs[] = {dx_, ddy, dg_, db_, dfm, dfr, dy_out, ddx, dsm, dsr, dgg, dbb};
  for (float *p : ptrs) CK(cudaFree(p));
  CK(cudaFree(scr));
}

/* Row softmax and its backward (y drawn as probabilities) against f64, at the agreement
 * suite's tolerances (exponentials 2e-5, the backward's row dot product 3e-5). */
static void softmax_case(int rows, int cols, float sd)
{
  char shape[64];
  snprintf(shape, sizeof shape, "%dx%d", rows, cols);
  const size_t total = (size_t)rows * cols;
  std::vector<float> x(total), p(total), dy(total);
  for (auto &v : x) v = nrand(0, sd);
  for (auto &v : p) v = (float)urand();
  for (auto &v : dy) v = nrand(0, 1);
  std::vector<double> ry(total), rdx(total);
  for (int r = 0; r < rows; r++) {
    const size_t o = (size_t)r * cols;
    double m = -INFINITY, s = 0, t = 0;
    for (int j = 0; j < cols; j++) m = fmax(m, x[o + j]);
    for (int j = 0; j < cols; j++) s += exp((double)x[o + j] - m);
    for (int j = 0; j < cols; j++) ry[o + j] = (float)(exp((double)x[o + j] - m) / s);
    for (int j = 0; j < cols; j++) t += (double)dy[o + j] * p[o + j];
    for (int j = 0; j < cols; j++) rdx[o + j] = (float)((double)p[o + j] * ((double)dy[o + j] - t));
  }
  float *dx_ = dev_copy(x), *dp = dev_copy(p), *ddy = dev_copy(dy), *dout, *ddx;
  CK(cudaMalloc(&dout, total * 4));
  CK(cudaMalloc(&ddx, total * 4));
  std::vector<float> y1, dx1;
  for (int rep = 0; rep < 2; rep++) {
    mb_cu_softmax(0, dx_, dout, rows, cols);
    mb_cu_softmax_bwd(0, dp, ddy, ddx, rows, cols);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    std::vector<float> y = host_copy(dout, total), dx = host_copy(ddx, total);
    if (rep == 0) {
      double e = fmax(rel_err(y, ry, "y", shape, 2e-5, "softmax"),
                      rel_err(dx, rdx, "dx", shape, 3e-5, "softmax"));
      printf("softmax %-14s fwd+bwd max rel %.3g\n", shape, e);
      y1 = y;
      dx1 = dx;
    } else if (!same_bits(y, y1) || !same_bits(dx, dx1)) {
      printf("FAIL softmax %s: second run differs\n", shape);
      g_fail++;
    }
  }
  mb_cu_softmax(0, dx_, dx_, rows, cols);   /* in place */
  CK(cudaGetLastError());
  CK(cudaDeviceSynchronize());
  rel_err(host_copy(dx_, total), ry, "y in place", shape, 2e-5, "softmax");
  float *ptrs[] = {dx_, dp, ddy, dout, ddx};
  for (float *q : ptrs) CK(cudaFree(q));
}

/* GELU (unary) and its backward (binary: dy·(Φ(z) + z·φ(z))) against erfc in f64 over
 * n points from -12 to 12 plus ±0, each within 4.5 f32 ulp of the value (the shared f32
 * erf's measured bound for GELU is 4.29 ulp) or 1e-30 absolute in the far tail. */
static void gelu_case(size_t n)
{
  std::vector<float> z(n), dy(n);
  for (size_t i = 0; i < n; i++) {
    z[i] = (float)(-12.0 + 24.0 * (double)i / (double)(n - 1));
    dy[i] = nrand(0, 1);
  }
  z[0] = -0.0f;
  z[1] = 0.0f;
  float *dz = dev_copy(z), *ddy = dev_copy(dy), *dy_out, *dg;
  CK(cudaMalloc(&dy_out, n * 4));
  CK(cudaMalloc(&dg, n * 4));
  mb_cu_unary(0, MB_UN_GELU, dz, dy_out, n, 0.0f, 0.0f);
  mb_cu_binary(0, MB_BIN_GELU_BWD, ddy, dz, dg, n, 1.0f, 0.0f);
  CK(cudaGetLastError());
  CK(cudaDeviceSynchronize());
  std::vector<float> y = host_copy(dy_out, n), g = host_copy(dg, n);
  double worst_y = 0, worst_g = 0;
  for (size_t i = 0; i < n; i++) {
    const double zd = z[i];
    const double ry = 0.5 * zd * erfc(-zd * 0.7071067811865476);
    const double d = 0.5 * erfc(-zd * 0.7071067811865476) + zd * exp(-0.5 * zd * zd) * 0.3989422804014327;
    const double rg = (double)dy[i] * d;
    const double cand[2][2] = {{(double)y[i], ry}, {(double)g[i], rg}};
    for (int k = 0; k < 2; k++) {
      const double got = cand[k][0], want = cand[k][1];
      const double ulp = fmax(fabs(want), 1e-38) * 1.1920928955078125e-07;
      const double err = fabs(got - want);
      const double u = err / ulp;
      if (err > 1e-30 && u > 4.5) {
        printf("FAIL gelu %s at z = %.9g: got %.9g, want %.12g (%.2f ulp)\n", k ? "bwd" : "fwd",
               z[i], got, want, u);
        g_fail++;
        break;
      }
      if (err > 1e-30) (k ? worst_g : worst_y) = fmax(k ? worst_g : worst_y, u);
    }
  }
  printf("gelu %zu points: fwd worst %.2f ulp, bwd worst %.2f ulp\n", n, worst_y, worst_g);
  float *ptrs[] = {dz, ddy, dy_out, dg};
  for (float *q : ptrs) CK(cudaFree(q));
}

int main(void)
{
  int dev = 0;
  cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, dev));
  printf("device: %s, %d SMs\n", prop.name, prop.multiProcessorCount);

  bn_case(4, 64, 1024, 0.5f, 2.0f);
  bn_case(8, 512, 16, 0.5f, 2.0f);
  bn_case(2, 64, 12544, 0.0f, 1.0f);
  bn_case(3, 16, 231, 100.0f, 1.0f);
  bn_case(7, 512, 1, 0.0f, 1.0f);
  bn_case(32, 64, 784, 0.0f, 1.0f);
  bn_case(5, 2, 8193, 0.0f, 1.0f);
  bn_case(9000, 3, 1, 0.0f, 1.0f);
  bn_bench(512, 64, 12544);

  std::vector<size_t> mlp = {0, 784 * 1000, 784 * 1000 + 1000, 784 * 1000 + 1000 + 1000 * 10,
                             784 * 1000 + 1000 + 1000 * 10 + 10};
  std::vector<size_t> odd = {0, 1, 8193, 8193, 9000, 30001, 30002, 100000};
  forget_case("mlp", mlp, 0, 1e-3f, 10.0f);
  forget_case("odd_special", odd, 1, 1e-3f, 10.0f);
  forget_case("odd_alpha_lambda1", odd, 0, 1e-3f, 1e6f);
  forget_case("mlp_class_counts", mlp, 0, 1e-3f, 10.0f, 1.0f / 6000.0f, 1.0f / 54000.0f);
  forget_case("odd_special_counts", odd, 1, 1e-3f, 10.0f, 1.0f / 7.0f, 1.0f / 3.0f);

  /* Swin-T's token norms (batch 2), merge norms, attention rows of 49, odd widths */
  ln_case(6272, 96, 0.0f, 1.0f);
  ln_case(392, 768, 0.0f, 1.0f);
  ln_case(98, 1536, 0.5f, 2.0f);
  ln_case(37, 1, 0.0f, 1.0f);
  ln_case(5, 1000, 100.0f, 1.0f);
  ln_case(300, 33, 0.0f, 1.0f);
  softmax_case(2 * 3 * 64 * 49, 49, 3.0f);
  softmax_case(7, 1000, 10.0f);
  softmax_case(5, 1, 1.0f);
  softmax_case(3, 4097, 1.0f);
  gelu_case(200001);

  printf("%s: %d failure(s)\n", g_fail ? "FAIL" : "PASS", g_fail);
  return g_fail ? 1 : 0;
}
