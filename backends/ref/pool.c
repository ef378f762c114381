/* Pooling oracle (NCHW planes): max with first-NaN / first-maximum selection, average
 * in double; the backward passes gather each input element's windows in (oy, ox)
 * order and round once. */
#include "ref_backend.h"

#include <math.h>

/* Divisor of window (oy, ox) for AVG. */
static int avg_div(const mb_pool_args *a, int oy, int ox)
{
  const mb_conv_geom *g = &a->g;
  if (a->count_pad) return g->kh * g->kw;
  const int y0 = oy * g->stride - g->pad, x0 = ox * g->stride - g->pad;
  const int y1 = y0 + g->kh < g->h ? y0 + g->kh : g->h, x1 = x0 + g->kw < g->w ? x0 + g->kw : g->w;
  return ((y1) - (y0 > 0 ? y0 : 0)) * ((x1) - (x0 > 0 ? x0 : 0));
}

void ref_pool(mb_backend *be, const mb_pool_args *a)
{
  if (be->status != MB_OK) return;
  const mb_conv_geom *g = &a->g;
  const size_t plane = (size_t)g->h * g->w, opl = (size_t)g->oh * g->ow;
  const int want_idx = a->kind == MB_POOL_MAX && !ref_is_none(a->idx);
  for (size_t pc = 0; pc < (size_t)g->n * g->c; pc++) {
    const float *x = host_f32(a->x) + pc * plane;
    float *y = host_f32(a->y) + pc * opl;
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++) {
        double sum = 0.0;
        float best = 0.0f;
        int at = -1;
        for (int ki = 0; ki < g->kh; ki++)
          for (int kj = 0; kj < g->kw; kj++) {
            const int iy = oy * g->stride - g->pad + ki, ix = ox * g->stride - g->pad + kj;
            if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
            const float v = x[(size_t)iy * g->w + ix];
            sum += (double)v;
            if (at < 0 || (!isnan(best) && (isnan(v) || v > best))) {
              best = v;
              at = iy * g->w + ix;
            }
          }
        const size_t o = (size_t)oy * g->ow + ox;
        if (a->kind == MB_POOL_MAX) {
          y[o] = best;
          if (want_idx) host_i32(a->idx)[pc * opl + o] = at;
        } else {
          y[o] = (float)(sum / (double)avg_div(a, oy, ox));
        }
      }
  }
}

void ref_pool_bwd(mb_backend *be, const mb_pool_args *a)
{
  if (be->status != MB_OK) return;
  const mb_conv_geom *g = &a->g;
  const size_t plane = (size_t)g->h * g->w, opl = (size_t)g->oh * g->ow;
  const int s = g->stride;
  for (size_t pc = 0; pc < (size_t)g->n * g->c; pc++) {
    const float *dy = host_f32(a->dy) + pc * opl;
    const int32_t *idx = a->kind == MB_POOL_MAX ? host_i32(a->idx) + pc * opl : NULL;
    float *dx = host_f32(a->dx) + pc * plane;
    for (int iy = 0; iy < g->h; iy++)
      for (int ix = 0; ix < g->w; ix++) {
        double acc = 0.0;
        /* windows with oy·s − pad <= iy < oy·s − pad + kh, in increasing (oy, ox) */
        const int ty = iy + g->pad, tx = ix + g->pad;
        const int oy0 = ty - g->kh + 1 > 0 ? (ty - g->kh + s) / s : 0;
        const int ox0 = tx - g->kw + 1 > 0 ? (tx - g->kw + s) / s : 0;
        const int oy1 = ty / s < g->oh - 1 ? ty / s : g->oh - 1;
        const int ox1 = tx / s < g->ow - 1 ? tx / s : g->ow - 1;
        for (int oy = oy0; oy <= oy1; oy++)
          for (int ox = ox0; ox <= ox1; ox++) {
            const size_t o = (size_t)oy * g->ow + ox;
            if (idx) {
              if (idx[o] == iy * g->w + ix) acc += (double)dy[o];
            } else {
              acc += (double)dy[o] / (double)avg_div(a, oy, ox);
            }
          }
        dx[(size_t)iy * g->w + ix] = (float)acc;
      }
  }
}
