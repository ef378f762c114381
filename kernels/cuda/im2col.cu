/* im2col / col2im for NCHW, and the permute that regroups columns.  cols is
 * [n][c·kh·kw][oh·ow]: row (ci·kh + ki)·kw + kj, column oy·ow + ox.  col2im gathers per
 * input pixel instead of scattering, so it needs no atomics; it adds the (ki, kj)
 * contributions to dx in ascending order in double and rounds once, like the oracle. */
#include "launch.h"
#include "block.cuh"

__global__ void im2col_k(const float *x, float *cols, mb_conv_geom g, size_t total)
{
  MB_CU_FOR(size_t, e, total) {
    size_t t = e;
    long ox = (long)(t % (size_t)g.ow); t /= (size_t)g.ow;
    long oy = (long)(t % (size_t)g.oh); t /= (size_t)g.oh;
    long kj = (long)(t % (size_t)g.kw); t /= (size_t)g.kw;
    long ki = (long)(t % (size_t)g.kh); t /= (size_t)g.kh;
    size_t bc = t;   /* b·c + ci */
    long iy = oy * g.stride - g.pad + ki;
    long ix = ox * g.stride - g.pad + kj;
    float v = 0.0f;
    if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w)
      v = x[(bc * (size_t)g.h + (size_t)iy) * (size_t)g.w + (size_t)ix];
    cols[e] = v;
  }
}

__global__ void col2im_k(const float *cols, float *dx, mb_conv_geom g, size_t total)
{
  size_t ohw = (size_t)g.oh * (size_t)g.ow;
  MB_CU_FOR(size_t, e, total) {
    size_t t = e;
    long ix = (long)(t % (size_t)g.w); t /= (size_t)g.w;
    long iy = (long)(t % (size_t)g.h); t /= (size_t)g.h;
    size_t bc = t;   /* b·c + ci: its kh·kw rows of cols start at row bc·kh·kw */
    const float *rows = cols + bc * (size_t)g.kh * (size_t)g.kw * ohw;
    double acc = (double)dx[e];
    for (long ki = 0; ki < g.kh; ki++) {
      long ty = iy + g.pad - ki;
      if (ty < 0 || ty % g.stride) continue;
      long oy = ty / g.stride;
      if (oy >= g.oh) continue;
      for (long kj = 0; kj < g.kw; kj++) {
        long tx = ix + g.pad - kj;
        if (tx < 0 || tx % g.stride) continue;
        long ox = tx / g.stride;
        if (ox >= g.ow) continue;
        acc += (double)rows[(size_t)(ki * g.kw + kj) * ohw + (size_t)oy * g.ow + (size_t)ox];
      }
    }
    dx[e] = (float)acc;
  }
}

extern "C" void mb_cu_im2col(cudaStream_t s, const mb_conv_geom *g, const float *x, float *cols)
{
  size_t total = (size_t)g->n * g->c * g->kh * g->kw * (size_t)g->oh * g->ow;
  if (!total) return;
  im2col_k<<<mb_cu_blocks(total, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(x, cols, *g, total);
}

extern "C" void mb_cu_col2im(cudaStream_t s, const mb_conv_geom *g, const float *cols, float *dx)
{
  size_t total = (size_t)g->n * g->c * (size_t)g->h * g->w;
  if (!total) return;
  col2im_k<<<mb_cu_blocks(total, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(cols, dx, *g, total);
}

/* y[m][o][i] = x[o][m][i], one thread per y element (consecutive threads write
 * consecutive elements); raw bits, so any payload survives. */
template <typename I>
__global__ void permute_k(const uint32_t *x, uint32_t *y, I outer, I mid, I inner, I total)
{
  MB_CU_FOR(I, e, total) {
    I r = e / inner, i = e - r * inner;   /* r = m·outer + o */
    I m = r / outer, o = r - m * outer;
    y[e] = x[(o * mid + m) * inner + i];
  }
}

extern "C" void mb_cu_permute(cudaStream_t s, const uint32_t *x, uint32_t *y, size_t outer,
                              size_t mid, size_t inner)
{
  size_t total = outer * mid * inner;
  if (!total) return;
  unsigned g = mb_cu_blocks(total, MB_CU_THREADS);
  if (mb_cu_fits32(total, g, MB_CU_THREADS))
    permute_k<uint32_t><<<g, MB_CU_THREADS, 0, s>>>(x, y, (uint32_t)outer, (uint32_t)mid,
                                                    (uint32_t)inner, (uint32_t)total);
  else
    permute_k<size_t><<<g, MB_CU_THREADS, 0, s>>>(x, y, outer, mid, inner, total);
}
