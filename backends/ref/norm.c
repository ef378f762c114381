/* Batch-norm oracle (NCHW, per channel over n·hw): statistics, normalisation and
 * the backward sums in double, every result rounded to f32 once. */
#include "ref_backend.h"

#include <math.h>

/* Element j (0 <= j < n·hw) of channel ch. */
static inline size_t at(int c, int hw, int ch, size_t j)
{
  return ((j / (size_t)hw) * (size_t)c + (size_t)ch) * (size_t)hw + j % (size_t)hw;
}

void ref_batchnorm(mb_backend *be, const mb_bn_args *a)
{
  if (be->status != MB_OK) return;
  const float *x = host_f32(a->x), *gm = host_f32(a->gamma), *bt = host_f32(a->beta);
  float *y = host_f32(a->y);
  const size_t m = (size_t)a->n * a->hw;
  for (int ch = 0; ch < a->c; ch++) {
    double mean, invstd;
    if (a->mode == MB_BN_EVAL) {
      mean = (double)host_f32(a->run_mean)[ch];
      invstd = 1.0 / sqrt((double)host_f32(a->run_var)[ch] + (double)a->eps);
    } else {
      double s = 0.0, q = 0.0;
      for (size_t j = 0; j < m; j++) s += (double)x[at(a->c, a->hw, ch, j)];
      mean = s / (double)m;
      for (size_t j = 0; j < m; j++) {
        const double d = (double)x[at(a->c, a->hw, ch, j)] - mean;
        q += d * d;
      }
      const double var = q / (double)m;
      invstd = 1.0 / sqrt(var + (double)a->eps);
      if (!ref_is_none(a->save_mean)) host_f32(a->save_mean)[ch] = (float)mean;
      if (!ref_is_none(a->save_invstd)) host_f32(a->save_invstd)[ch] = (float)invstd;
      const double mo = (double)a->momentum, unb = m > 1 ? var * (double)m / (double)(m - 1) : var;
      if (!ref_is_none(a->run_mean)) {
        float *r = host_f32(a->run_mean) + ch;
        *r = (float)((1.0 - mo) * (double)*r + mo * mean);
      }
      if (!ref_is_none(a->run_var)) {
        float *r = host_f32(a->run_var) + ch;
        *r = (float)((1.0 - mo) * (double)*r + mo * unb);
      }
    }
    const double g = (double)gm[ch], b = (double)bt[ch];
    for (size_t j = 0; j < m; j++) {
      const size_t e = at(a->c, a->hw, ch, j);
      y[e] = (float)(((double)x[e] - mean) * invstd * g + b);
    }
  }
}

void ref_batchnorm_bwd(mb_backend *be, const mb_bn_bwd_args *a)
{
  if (be->status != MB_OK) return;
  const float *x = host_f32(a->x), *dy = host_f32(a->dy), *gm = host_f32(a->gamma);
  const float *mu = host_f32(a->mean), *is = host_f32(a->invstd);
  const size_t m = (size_t)a->n * a->hw;
  for (int ch = 0; ch < a->c; ch++) {
    const double mean = (double)mu[ch], invstd = (double)is[ch];
    double sdy = 0.0, sdyx = 0.0;
    for (size_t j = 0; j < m; j++) {
      const size_t e = at(a->c, a->hw, ch, j);
      sdy += (double)dy[e];
      sdyx += (double)dy[e] * (((double)x[e] - mean) * invstd);
    }
    if (!ref_is_none(a->dgamma)) host_f32(a->dgamma)[ch] = (float)sdyx;
    if (!ref_is_none(a->dbeta)) host_f32(a->dbeta)[ch] = (float)sdy;
    if (ref_is_none(a->dx)) continue;
    float *dx = host_f32(a->dx);
    const double k = (double)gm[ch] * invstd;
    for (size_t j = 0; j < m; j++) {
      const size_t e = at(a->c, a->hw, ch, j);
      if (a->mode == MB_BN_EVAL) {
        dx[e] = (float)(k * (double)dy[e]);
      } else {
        const double xh = ((double)x[e] - mean) * invstd;
        dx[e] = (float)(k * ((double)dy[e] - sdy / (double)m - xh * sdyx / (double)m));
      }
    }
  }
}

/* Layer norm over the last axis (rows × c): row statistics in double. */
void ref_layernorm(mb_backend *be, const mb_ln_args *a)
{
  if (be->status != MB_OK) return;
  const float *gm = host_f32(a->gamma), *bt = host_f32(a->beta);
  const size_t c = (size_t)a->c;
  for (int r = 0; r < a->rows; r++) {
    const float *x = host_f32(a->x) + (size_t)r * c;
    float *y = host_f32(a->y) + (size_t)r * c;
    double s = 0.0, q = 0.0;
    for (size_t j = 0; j < c; j++) s += (double)x[j];
    const double mean = s / (double)c;
    for (size_t j = 0; j < c; j++) {
      const double d = (double)x[j] - mean;
      q += d * d;
    }
    const double rstd = 1.0 / sqrt(q / (double)c + (double)a->eps);
    if (!ref_is_none(a->save_mean)) host_f32(a->save_mean)[r] = (float)mean;
    if (!ref_is_none(a->save_rstd)) host_f32(a->save_rstd)[r] = (float)rstd;
    for (size_t j = 0; j < c; j++)   /* y may alias x: each element is read before written */
      y[j] = (float)(((double)x[j] - mean) * rstd * (double)gm[j] + (double)bt[j]);
  }
}

/* Its backward with the saved (f32) statistics, every sum in double. */
void ref_layernorm_bwd(mb_backend *be, const mb_ln_bwd_args *a)
{
  if (be->status != MB_OK) return;
  const float *gm = host_f32(a->gamma), *mu = host_f32(a->mean), *rs = host_f32(a->rstd);
  const size_t c = (size_t)a->c;
  if (!ref_is_none(a->dgamma) || !ref_is_none(a->dbeta))
    for (size_t j = 0; j < c; j++) {
      double sg = 0.0, sb = 0.0;
      for (int r = 0; r < a->rows; r++) {
        const size_t e = (size_t)r * c + j;
        const double dy = (double)host_f32(a->dy)[e];
        sg += dy * ((double)host_f32(a->x)[e] - (double)mu[r]) * (double)rs[r];
        sb += dy;
      }
      if (!ref_is_none(a->dgamma)) host_f32(a->dgamma)[j] = (float)sg;
      if (!ref_is_none(a->dbeta)) host_f32(a->dbeta)[j] = (float)sb;
    }
  if (ref_is_none(a->dx)) return;
  for (int r = 0; r < a->rows; r++) {
    const float *x = host_f32(a->x) + (size_t)r * c, *dy = host_f32(a->dy) + (size_t)r * c;
    float *dx = host_f32(a->dx) + (size_t)r * c;
    const double m = (double)mu[r], s = (double)rs[r];
    double sg = 0.0, sgx = 0.0;
    for (size_t j = 0; j < c; j++) {
      const double g = (double)dy[j] * (double)gm[j];
      sg += g;
      sgx += g * ((double)x[j] - m) * s;
    }
    sg /= (double)c;
    sgx /= (double)c;
    for (size_t j = 0; j < c; j++) {   /* dx may alias dy */
      const double g = (double)dy[j] * (double)gm[j], xh = ((double)x[j] - m) * s;
      dx[j] = (float)(s * (g - sg - xh * sgx));
    }
  }
}
