/* Pooling over NCHW planes, the planes spread over the threads.  MAX takes the first
 * NaN of a window, else its first maximum; AVG sums in f32 in window order.  The
 * backward passes gather each input element's windows in (oy, ox) order: no two
 * threads write the same element and the order is fixed. */
#include "cpu_backend.h"

#include <math.h>

static int avg_div(const mb_pool_args *a, int oy, int ox)
{
  const mb_conv_geom *g = &a->g;
  if (a->count_pad) return g->kh * g->kw;
  const int y0 = oy * g->stride - g->pad, x0 = ox * g->stride - g->pad;
  const int y1 = y0 + g->kh < g->h ? y0 + g->kh : g->h, x1 = x0 + g->kw < g->w ? x0 + g->kw : g->w;
  return (y1 - (y0 > 0 ? y0 : 0)) * (x1 - (x0 > 0 ? x0 : 0));
}

void cpu_pool(mb_backend *be, const mb_pool_args *a)
{
  if (be->status != MB_OK) return;
  const mb_conv_geom *g = &a->g;
  const size_t plane = (size_t)g->h * g->w, opl = (size_t)g->oh * g->ow;
  const size_t planes = (size_t)g->n * g->c;
  const int max = a->kind == MB_POOL_MAX;
  int32_t *idx = max && !cpu_is_none(a->idx) ? host_i32(a->idx) : NULL;
  const float *xa = host_f32(a->x);
  float *ya = host_f32(a->y);
  CPU_OMP(omp parallel for if (planes * opl * g->kh * g->kw >= CPU_PAR_MIN) schedule(static))
  for (size_t pc = 0; pc < planes; pc++) {
    const float *x = xa + pc * plane;
    float *y = ya + pc * opl;
    for (int oy = 0; oy < g->oh; oy++) {
      const int y0 = oy * g->stride - g->pad;
      const int ya0 = y0 > 0 ? y0 : 0, ya1 = y0 + g->kh < g->h ? y0 + g->kh : g->h;
      for (int ox = 0; ox < g->ow; ox++) {
        const int x0 = ox * g->stride - g->pad;
        const int xa0 = x0 > 0 ? x0 : 0, xa1 = x0 + g->kw < g->w ? x0 + g->kw : g->w;
        const size_t o = (size_t)oy * g->ow + ox;
        if (max) {
          float best = x[(size_t)ya0 * g->w + xa0];
          int at = ya0 * g->w + xa0;
          for (int iy = ya0; iy < ya1 && !isnan(best); iy++)
            for (int ix = xa0; ix < xa1; ix++) {
              const float v = x[(size_t)iy * g->w + ix];
              if (isnan(v) || v > best) {
                best = v;
                at = iy * g->w + ix;
                if (isnan(v)) break;
              }
            }
          y[o] = best;
          if (idx) idx[pc * opl + o] = at;
        } else {
          float s = 0.0f;
          for (int iy = ya0; iy < ya1; iy++)
            for (int ix = xa0; ix < xa1; ix++) s += x[(size_t)iy * g->w + ix];
          y[o] = s / (float)avg_div(a, oy, ox);
        }
      }
    }
  }
}

void cpu_pool_bwd(mb_backend *be, const mb_pool_args *a)
{
  if (be->status != MB_OK) return;
  const mb_conv_geom *g = &a->g;
  const size_t plane = (size_t)g->h * g->w, opl = (size_t)g->oh * g->ow;
  const size_t planes = (size_t)g->n * g->c;
  const int s = g->stride, max = a->kind == MB_POOL_MAX;
  const float *dya = host_f32(a->dy);
  const int32_t *idxa = max ? host_i32(a->idx) : NULL;
  float *dxa = host_f32(a->dx);
  CPU_OMP(omp parallel for if (planes * plane >= CPU_PAR_MIN) schedule(static))
  for (size_t pc = 0; pc < planes; pc++) {
    const float *dy = dya + pc * opl;
    const int32_t *idx = max ? idxa + pc * opl : NULL;
    float *dx = dxa + pc * plane;
    for (int iy = 0; iy < g->h; iy++) {
      const int ty = iy + g->pad;
      const int oy0 = ty - g->kh + 1 > 0 ? (ty - g->kh + s) / s : 0;
      const int oy1 = ty / s < g->oh - 1 ? ty / s : g->oh - 1;
      for (int ix = 0; ix < g->w; ix++) {
        const int tx = ix + g->pad;
        const int ox0 = tx - g->kw + 1 > 0 ? (tx - g->kw + s) / s : 0;
        const int ox1 = tx / s < g->ow - 1 ? tx / s : g->ow - 1;
        const int self = iy * g->w + ix;
        float acc = 0.0f;
        for (int oy = oy0; oy <= oy1; oy++)
          for (int ox = ox0; ox <= ox1; ox++) {
            const size_t o = (size_t)oy * g->ow + ox;
            if (max) {
              if (idx[o] == self) acc += dy[o];
            } else {
              acc += dy[o] / (float)avg_div(a, oy, ox);
            }
          }
        dx[(size_t)self] = acc;
      }
    }
  }
}
