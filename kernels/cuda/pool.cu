/* 2-D max / average pooling over NCHW planes.  Forward: one thread per output; MAX
 * takes the first NaN of the window, else its first maximum (strict >).  Backward:
 * one thread per input element, gathering the windows that take it in (oy, ox)
 * order: no atomics, identical bits on every run. */
#include "launch.h"
#include "block.cuh"

__device__ __forceinline__ int pool_div(const mb_conv_geom &g, int count_pad, int y0, int x0)
{
  if (count_pad) return g.kh * g.kw;
  int y1 = min(y0 + g.kh, g.h), x1 = min(x0 + g.kw, g.w);
  return (y1 - max(y0, 0)) * (x1 - max(x0, 0));
}

__global__ void pool_fwd_k(const float *x, float *y, int *idx, mb_conv_geom g, int is_max,
                           int count_pad, size_t total)
{
  MB_CU_FOR(size_t, o, total) {
    int ox = (int)(o % (size_t)g.ow), oy = (int)((o / (size_t)g.ow) % (size_t)g.oh);
    const float *xp = x + (o / ((size_t)g.ow * g.oh)) * (size_t)g.h * g.w;
    int y0 = oy * g.stride - g.pad, x0 = ox * g.stride - g.pad;
    int ya = max(y0, 0), yb = min(y0 + g.kh, g.h), xa = max(x0, 0), xb = min(x0 + g.kw, g.w);
    if (is_max) {
      float best = xp[ya * g.w + xa];
      int at = ya * g.w + xa;
      for (int iy = ya; iy < yb && !mb_cu_isnan(best); iy++)
        for (int ix = xa; ix < xb; ix++) {
          float v = xp[iy * g.w + ix];
          if (mb_cu_isnan(v) || v > best) {
            best = v;
            at = iy * g.w + ix;
            if (mb_cu_isnan(v)) break;
          }
        }
      y[o] = best;
      if (idx) idx[o] = at;
    } else {
      float s = 0.0f;
      for (int iy = ya; iy < yb; iy++)
        for (int ix = xa; ix < xb; ix++) s = __fadd_rn(s, xp[iy * g.w + ix]);
      y[o] = __fdiv_rn(s, (float)pool_div(g, count_pad, y0, x0));
    }
  }
}

__global__ void pool_bwd_k(const float *dy, const int *idx, float *dx, mb_conv_geom g, int is_max,
                           int count_pad, size_t total)
{
  size_t opl = (size_t)g.oh * g.ow;
  MB_CU_FOR(size_t, e, total) {
    int ix = (int)(e % (size_t)g.w), iy = (int)((e / (size_t)g.w) % (size_t)g.h);
    size_t pc = e / ((size_t)g.w * g.h);
    const float *d = dy + pc * opl;
    int ty = iy + g.pad, tx = ix + g.pad, self = iy * g.w + ix, s = g.stride;
    int oy0 = ty - g.kh + 1 > 0 ? (ty - g.kh + s) / s : 0;
    int ox0 = tx - g.kw + 1 > 0 ? (tx - g.kw + s) / s : 0;
    int oy1 = min(ty / s, g.oh - 1), ox1 = min(tx / s, g.ow - 1);
    float acc = 0.0f;
    for (int oy = oy0; oy <= oy1; oy++)
      for (int ox = ox0; ox <= ox1; ox++) {
        int o = oy * g.ow + ox;
        if (is_max) {
          if (idx[pc * opl + o] == self) acc = __fadd_rn(acc, d[o]);
        } else {
          float q = __fdiv_rn(d[o], (float)pool_div(g, count_pad, oy * s - g.pad, ox * s - g.pad));
          acc = __fadd_rn(acc, q);
        }
      }
    dx[e] = acc;
  }
}

extern "C" void mb_cu_pool(cudaStream_t s, const mb_pool_args *a, const float *x, float *y,
                           int *idx)
{
  const mb_conv_geom *g = &a->g;
  size_t total = (size_t)g->n * g->c * (size_t)g->oh * g->ow;
  if (!total) return;
  int is_max = a->kind == MB_POOL_MAX;
  pool_fwd_k<<<mb_cu_blocks(total, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(
      x, y, is_max ? idx : NULL, *g, is_max, a->count_pad, total);
}

extern "C" void mb_cu_pool_bwd(cudaStream_t s, const mb_pool_args *a, const float *dy,
                               const int *idx, float *dx)
{
  const mb_conv_geom *g = &a->g;
  size_t total = (size_t)g->n * g->c * (size_t)g->h * g->w;
  if (!total) return;
  int is_max = a->kind == MB_POOL_MAX;
  pool_bwd_k<<<mb_cu_blocks(total, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(
      dy, is_max ? idx : NULL, dx, *g, is_max, a->count_pad, total);
}
