/* Batch norm (NCHW, per channel over n·hw) and layer norm (over the last axis).
 * Batch norm spreads channels over the threads, layer norm rows.  Every sum runs in
 * double over 8 interleaved lanes (lane k takes the elements j ≡ k mod 8 of each
 * contiguous run, then the lanes add up in a fixed tree): the loops vectorise instead of
 * waiting on one add chain, and the order depends on the shape alone, never on the
 * thread count. */
#include "cpu_backend.h"

#include "norm_runs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double lane_total(const double *acc)
{
  return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

/* The per-run loops of this instance's instruction set (norm_runs.c). */
static const cpu_norm_runs *runs_of(mb_backend *be) { return ((cpu_backend *)be)->norm; }

void cpu_batchnorm(mb_backend *be, const mb_bn_args *a)
{
  if (be->status != MB_OK) return;
  const float *x = host_f32(a->x), *gm = host_f32(a->gamma), *bt = host_f32(a->beta);
  float *y = host_f32(a->y);
  const int N = a->n, C = a->c;
  const size_t HW = (size_t)a->hw, m = (size_t)N * HW;
  const int train = a->mode == MB_BN_TRAIN;
  float *rm = cpu_is_none(a->run_mean) ? NULL : host_f32(a->run_mean);
  float *rv = cpu_is_none(a->run_var) ? NULL : host_f32(a->run_var);
  float *sm = train && !cpu_is_none(a->save_mean) ? host_f32(a->save_mean) : NULL;
  float *si = train && !cpu_is_none(a->save_invstd) ? host_f32(a->save_invstd) : NULL;
  const cpu_norm_runs *R = runs_of(be);
  CPU_OMP(omp parallel for if (m * (size_t)C >= CPU_PAR_MIN) schedule(dynamic, 1))
  for (int ch = 0; ch < C; ch++) {
    double mean, invstd;
    if (!train) {
      mean = (double)rm[ch];
      invstd = 1.0 / sqrt((double)rv[ch] + (double)a->eps);
    } else {
      double s[CPU_NORM_LANES] = {0}, q[CPU_NORM_LANES] = {0};
      for (int b = 0; b < N; b++) R->sum(s, x + ((size_t)b * C + ch) * HW, HW);
      mean = lane_total(s) / (double)m;
      for (int b = 0; b < N; b++) R->sq_dev(q, x + ((size_t)b * C + ch) * HW, HW, mean);
      const double var = lane_total(q) / (double)m;
      invstd = 1.0 / sqrt(var + (double)a->eps);
      if (sm) sm[ch] = (float)mean;
      if (si) si[ch] = (float)invstd;
      const double mo = (double)a->momentum, unb = m > 1 ? var * (double)m / (double)(m - 1) : var;
      if (rm) rm[ch] = (float)((1.0 - mo) * (double)rm[ch] + mo * mean);
      if (rv) rv[ch] = (float)((1.0 - mo) * (double)rv[ch] + mo * unb);
    }
    const float mf = (float)mean, k = (float)(invstd * (double)gm[ch]), b0 = bt[ch];
    for (int b = 0; b < N; b++) {
      const size_t off = ((size_t)b * C + ch) * HW;
      R->apply(y + off, x + off, HW, mf, k, b0);
    }
  }
}

void cpu_batchnorm_bwd(mb_backend *be, const mb_bn_bwd_args *a)
{
  if (be->status != MB_OK) return;
  const float *x = host_f32(a->x), *dy = host_f32(a->dy), *gm = host_f32(a->gamma);
  const float *mu = host_f32(a->mean), *is = host_f32(a->invstd);
  float *dx = cpu_is_none(a->dx) ? NULL : host_f32(a->dx);
  float *dg = cpu_is_none(a->dgamma) ? NULL : host_f32(a->dgamma);
  float *db = cpu_is_none(a->dbeta) ? NULL : host_f32(a->dbeta);
  const int N = a->n, C = a->c;
  const size_t HW = (size_t)a->hw, m = (size_t)N * HW;
  const int train = a->mode == MB_BN_TRAIN;
  const cpu_norm_runs *R = runs_of(be);
  CPU_OMP(omp parallel for if (m * (size_t)C >= CPU_PAR_MIN) schedule(dynamic, 1))
  for (int ch = 0; ch < C; ch++) {
    const double mean = (double)mu[ch], invstd = (double)is[ch];
    double ady[CPU_NORM_LANES] = {0}, adyx[CPU_NORM_LANES] = {0};
    for (int b = 0; b < N; b++) {
      const size_t off = ((size_t)b * C + ch) * HW;
      R->dy(ady, adyx, dy + off, x + off, HW, mean, invstd);
    }
    const double sdy = lane_total(ady), sdyx = lane_total(adyx);
    if (dg) dg[ch] = (float)sdyx;
    if (db) db[ch] = (float)sdy;
    if (!dx) continue;
    const float k = (float)((double)gm[ch] * invstd), mf = (float)mean, isf = (float)invstd;
    const float c1 = (float)(sdy / (double)m), c2 = (float)(sdyx / (double)m);
    for (int b = 0; b < N; b++) {
      const size_t off = ((size_t)b * C + ch) * HW;
      if (train)
        R->dx(dx + off, dy + off, x + off, HW, k, c1, mf, isf, c2);
      else
        for (size_t i = 0; i < HW; i++) dx[off + i] = k * dy[off + i];
    }
  }
}

/* ---- layer norm over the last axis (rows × c) ---- */
static double row_sum(const cpu_norm_runs *R, const float *x, size_t c)
{
  double acc[CPU_NORM_LANES] = {0};
  R->sum(acc, x, c);
  return lane_total(acc);
}

static double row_sq_dev(const cpu_norm_runs *R, const float *x, size_t c, double mean)
{
  double acc[CPU_NORM_LANES] = {0};
  R->sq_dev(acc, x, c, mean);
  return lane_total(acc);
}

void cpu_layernorm(mb_backend *be, const mb_ln_args *a)
{
  if (be->status != MB_OK) return;
  const float *gm = host_f32(a->gamma), *bt = host_f32(a->beta);
  float *sm = cpu_is_none(a->save_mean) ? NULL : host_f32(a->save_mean);
  float *sr = cpu_is_none(a->save_rstd) ? NULL : host_f32(a->save_rstd);
  const size_t c = (size_t)a->c, total = (size_t)a->rows * c;
  const double eps = (double)a->eps;
  const cpu_norm_runs *R = runs_of(be);
  (void)total;   /* only read by the OpenMP if clause */
  CPU_OMP(omp parallel for if (total >= CPU_PAR_MIN) schedule(static))
  for (int r = 0; r < a->rows; r++) {
    const float *x = host_f32(a->x) + (size_t)r * c;
    float *y = host_f32(a->y) + (size_t)r * c;
    const double mean = row_sum(R, x, c) / (double)c;
    const double rstd = 1.0 / sqrt(row_sq_dev(R, x, c, mean) / (double)c + eps);
    if (sm) sm[r] = (float)mean;
    if (sr) sr[r] = (float)rstd;
    /* y may alias x: each element is read before it is written */
    for (size_t j = 0; j < c; j++) {
      const float xh = (float)(((double)x[j] - mean) * rstd);
      y[j] = xh * gm[j] + bt[j];
    }
  }
}

/* Rows per block of the dgamma/dbeta column sums: the blocks are fixed by the shape
 * alone, so their partial sums (double) and the final sum over blocks in block order
 * give the same bits for any thread count. */
#define LN_BLOCK_ROWS 64

void cpu_layernorm_bwd(mb_backend *be, const mb_ln_bwd_args *a)
{
  if (be->status != MB_OK) return;
  const float *gm = host_f32(a->gamma), *mu = host_f32(a->mean), *rs = host_f32(a->rstd);
  float *dxo = cpu_is_none(a->dx) ? NULL : host_f32(a->dx);
  float *dg = cpu_is_none(a->dgamma) ? NULL : host_f32(a->dgamma);
  float *db = cpu_is_none(a->dbeta) ? NULL : host_f32(a->dbeta);
  const size_t c = (size_t)a->c, rows = (size_t)a->rows, total = rows * c;
  const int cols = dg || db;
  const size_t nblk = (rows + LN_BLOCK_ROWS - 1) / LN_BLOCK_ROWS;
  double *part = NULL;   /* [nblk][2][c]: Σ dy·x̂, Σ dy per block */
  if (cols) {
    part = malloc(nblk * 2 * c * sizeof *part);
    if (!part) {
      host_fail(be, MB_OOM, "layernorm_bwd: no host memory for %zu column partials", nblk * 2 * c);
      return;
    }
  }
  (void)total;
  CPU_OMP(omp parallel for if (total >= CPU_PAR_MIN) schedule(static))
  for (size_t b = 0; b < nblk; b++) {
    double *pg = part ? part + b * 2 * c : NULL, *pb = pg ? pg + c : NULL;
    if (pg)
      for (size_t j = 0; j < c; j++) pg[j] = pb[j] = 0.0;
    const size_t r1 = (b + 1) * LN_BLOCK_ROWS < rows ? (b + 1) * LN_BLOCK_ROWS : rows;
    for (size_t r = b * LN_BLOCK_ROWS; r < r1; r++) {
      const float *x = host_f32(a->x) + r * c, *dy = host_f32(a->dy) + r * c;
      const double m = (double)mu[r], s = (double)rs[r];
      /* everything this row reads from dy is read before its dx (which may alias dy) */
      if (pg)
        for (size_t j = 0; j < c; j++) {
          const double d = (double)dy[j];
          pg[j] += d * (((double)x[j] - m) * s);
          pb[j] += d;
        }
      if (!dxo) continue;
      double ag[CPU_NORM_LANES] = {0}, agx[CPU_NORM_LANES] = {0};
      size_t j = 0;
      for (; j + CPU_NORM_LANES <= c; j += CPU_NORM_LANES)
        for (int k = 0; k < CPU_NORM_LANES; k++) {
          const double g = (double)dy[j + k] * (double)gm[j + k];
          ag[k] += g;
          agx[k] += g * (((double)x[j + k] - m) * s);
        }
      for (int k = 0; j < c; j++, k++) {
        const double g = (double)dy[j] * (double)gm[j];
        ag[k] += g;
        agx[k] += g * (((double)x[j] - m) * s);
      }
      const double sg = lane_total(ag) / (double)c, sgx = lane_total(agx) / (double)c;
      float *dx = dxo + r * c;
      for (j = 0; j < c; j++) {
        const double g = (double)dy[j] * (double)gm[j], xh = ((double)x[j] - m) * s;
        dx[j] = (float)(s * (g - sg - xh * sgx));
      }
    }
  }
  if (cols) {
    CPU_OMP(omp parallel for if (nblk * c >= CPU_PAR_MIN) schedule(static))
    for (size_t j = 0; j < c; j++) {
      double sg = 0.0, sb = 0.0;
      for (size_t b = 0; b < nblk; b++) {
        sg += part[b * 2 * c + j];
        sb += part[b * 2 * c + c + j];
      }
      if (dg) dg[j] = (float)sg;
      if (db) db[j] = (float)sb;
    }
  }
  free(part);
}

const cpu_norm_runs *cpu_norm_runs_pick(char *why, size_t why_len)
{
  const char *force = getenv("MB_CPU_ISA");
  int avx2_here = 0;
#ifdef MB_CPU_AVX2
  __builtin_cpu_init();
  avx2_here = __builtin_cpu_supports("avx2");
#endif
  if (force && *force) {
    if (strcmp(force, "baseline") == 0) return &cpu_norm_runs_baseline;
    if (strcmp(force, "avx2") != 0) {
      snprintf(why, why_len, "cpu: MB_CPU_ISA=%.32s is not baseline or avx2", force);
      return NULL;
    }
    if (!avx2_here) {
      snprintf(why, why_len, "cpu: MB_CPU_ISA=avx2, but %s",
#ifdef MB_CPU_AVX2
               "this CPU does not run AVX2"
#else
               "this build has no AVX2 loops (not an x86-64 build)"
#endif
      );
      return NULL;
    }
  }
#ifdef MB_CPU_AVX2
  if (avx2_here) return &cpu_norm_runs_avx2;
#endif
  return &cpu_norm_runs_baseline;
}
