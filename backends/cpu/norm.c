/* Batch norm (NCHW, per channel over n·hw).  Channels are spread over the threads;
 * each channel's sums run in double in a fixed order (image by image, contiguous
 * hw runs), so results do not depend on the thread count. */
#include "cpu_backend.h"

#include <math.h>

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
  CPU_OMP(omp parallel for if (m * (size_t)C >= CPU_PAR_MIN) schedule(dynamic, 1))
  for (int ch = 0; ch < C; ch++) {
    double mean, invstd;
    if (!train) {
      mean = (double)rm[ch];
      invstd = 1.0 / sqrt((double)rv[ch] + (double)a->eps);
    } else {
      double s = 0.0, q = 0.0;
      for (int b = 0; b < N; b++) {
        const float *xc = x + ((size_t)b * C + ch) * HW;
        for (size_t i = 0; i < HW; i++) s += (double)xc[i];
      }
      mean = s / (double)m;
      for (int b = 0; b < N; b++) {
        const float *xc = x + ((size_t)b * C + ch) * HW;
        for (size_t i = 0; i < HW; i++) {
          const double d = (double)xc[i] - mean;
          q += d * d;
        }
      }
      const double var = q / (double)m;
      invstd = 1.0 / sqrt(var + (double)a->eps);
      if (sm) sm[ch] = (float)mean;
      if (si) si[ch] = (float)invstd;
      const double mo = (double)a->momentum, unb = m > 1 ? var * (double)m / (double)(m - 1) : var;
      if (rm) rm[ch] = (float)((1.0 - mo) * (double)rm[ch] + mo * mean);
      if (rv) rv[ch] = (float)((1.0 - mo) * (double)rv[ch] + mo * unb);
    }
    const float mf = (float)mean, k = (float)(invstd * (double)gm[ch]), b0 = bt[ch];
    for (int b = 0; b < N; b++) {
      const float *xc = x + ((size_t)b * C + ch) * HW;
      float *yc = y + ((size_t)b * C + ch) * HW;
      for (size_t i = 0; i < HW; i++) yc[i] = (xc[i] - mf) * k + b0;
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
  CPU_OMP(omp parallel for if (m * (size_t)C >= CPU_PAR_MIN) schedule(dynamic, 1))
  for (int ch = 0; ch < C; ch++) {
    const double mean = (double)mu[ch], invstd = (double)is[ch];
    double sdy = 0.0, sdyx = 0.0;
    for (int b = 0; b < N; b++) {
      const float *xc = x + ((size_t)b * C + ch) * HW, *dc = dy + ((size_t)b * C + ch) * HW;
      for (size_t i = 0; i < HW; i++) {
        sdy += (double)dc[i];
        sdyx += (double)dc[i] * (((double)xc[i] - mean) * invstd);
      }
    }
    if (dg) dg[ch] = (float)sdyx;
    if (db) db[ch] = (float)sdy;
    if (!dx) continue;
    const float k = (float)((double)gm[ch] * invstd), mf = (float)mean, isf = (float)invstd;
    const float c1 = (float)(sdy / (double)m), c2 = (float)(sdyx / (double)m);
    for (int b = 0; b < N; b++) {
      const float *xc = x + ((size_t)b * C + ch) * HW, *dc = dy + ((size_t)b * C + ch) * HW;
      float *o = dx + ((size_t)b * C + ch) * HW;
      if (train)
        for (size_t i = 0; i < HW; i++) o[i] = k * (dc[i] - c1 - (xc[i] - mf) * isf * c2);
      else
        for (size_t i = 0; i < HW; i++) o[i] = k * dc[i];
    }
  }
}
