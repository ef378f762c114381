/* im2col / col2im for NCHW, and the permute that regroups columns.  cols is
 * [n][c·kh·kw][oh·ow]: row (ci·kh + ki)·kw + kj, column oy·ow + ox holds
 * x[b][ci][oy·stride − pad + ki][ox·stride − pad + kj], or 0 outside the image.
 * Work is split by (image, channel) plane: in col2im each dx plane only receives
 * from its own kh·kw rows, so threads never write the same element and the f32
 * accumulation order is fixed. */
#include "cpu_backend.h"

#include <string.h>

void cpu_im2col(mb_backend *be, const mb_conv_geom *g, mb_view xv, mb_view cv)
{
  if (be->status != MB_OK) return;
  const float *x = host_f32(xv);
  float *cols = host_f32(cv);
  const int H = g->h, W = g->w, KH = g->kh, KW = g->kw, S = g->stride, P = g->pad;
  const int OH = g->oh, OW = g->ow;
  const size_t plane = (size_t)H * W, opl = (size_t)OH * OW, planes = (size_t)g->n * g->c;
  CPU_OMP(omp parallel for if (planes * KH * KW * opl >= CPU_PAR_MIN) schedule(static))
  for (size_t pc = 0; pc < planes; pc++) {
    const float *xc = x + pc * plane;
    for (int ki = 0; ki < KH; ki++)
      for (int kj = 0; kj < KW; kj++) {
        float *row = cols + (pc * KH * KW + (size_t)ki * KW + kj) * opl;
        for (int oy = 0; oy < OH; oy++) {
          const int iy = oy * S - P + ki;
          float *out = row + (size_t)oy * OW;
          if (iy < 0 || iy >= H) {
            for (int ox = 0; ox < OW; ox++) out[ox] = 0.0f;
            continue;
          }
          const float *xr = xc + (size_t)iy * W;
          for (int ox = 0; ox < OW; ox++) {
            const int ix = ox * S - P + kj;
            out[ox] = ix >= 0 && ix < W ? xr[ix] : 0.0f;
          }
        }
      }
  }
}

void cpu_col2im(mb_backend *be, const mb_conv_geom *g, mb_view cv, mb_view dv)
{
  if (be->status != MB_OK) return;
  const float *cols = host_f32(cv);
  float *dx = host_f32(dv);
  const int H = g->h, W = g->w, KH = g->kh, KW = g->kw, S = g->stride, P = g->pad;
  const int OH = g->oh, OW = g->ow;
  const size_t plane = (size_t)H * W, opl = (size_t)OH * OW, planes = (size_t)g->n * g->c;
  CPU_OMP(omp parallel for if (planes * KH * KW * opl >= CPU_PAR_MIN) schedule(static))
  for (size_t pc = 0; pc < planes; pc++) {
    float *d = dx + pc * plane;
    for (int ki = 0; ki < KH; ki++)
      for (int kj = 0; kj < KW; kj++) {
        const float *row = cols + (pc * KH * KW + (size_t)ki * KW + kj) * opl;
        for (int oy = 0; oy < OH; oy++) {
          const int iy = oy * S - P + ki;
          if (iy < 0 || iy >= H) continue;
          float *dr = d + (size_t)iy * W;
          const float *in = row + (size_t)oy * OW;
          for (int ox = 0; ox < OW; ox++) {
            const int ix = ox * S - P + kj;
            if (ix >= 0 && ix < W) dr[ix] += in[ox];
          }
        }
      }
  }
}

/* Rows shorter than a cache line are moved in tiles of PERMUTE_TILE × PERMUTE_TILE
 * rows, so that reads and writes both stay within a few lines; longer rows go one by
 * one (each already covers whole lines on both sides). */
#define PERMUTE_TILE 16

/* y[m][o][i] = x[o][m][i]: rows of `inner` elements copied bit for bit. */
void cpu_permute(mb_backend *be, mb_view xv, mb_view yv, size_t outer, size_t mid, size_t inner)
{
  if (be->status != MB_OK) return;
  const uint32_t *x = host_u32(xv);
  uint32_t *y = host_u32(yv);
  const size_t tile = inner * 4 >= 64 ? 1 : PERMUTE_TILE;
  const size_t mtiles = (mid + tile - 1) / tile, otiles = (outer + tile - 1) / tile;
  CPU_OMP(omp parallel for collapse(2) if (outer * mid * inner >= CPU_PAR_MIN) schedule(static))
  for (size_t mt = 0; mt < mtiles; mt++)
    for (size_t ot = 0; ot < otiles; ot++) {
      const size_t m1 = (mt + 1) * tile < mid ? (mt + 1) * tile : mid;
      const size_t o1 = (ot + 1) * tile < outer ? (ot + 1) * tile : outer;
      for (size_t m = mt * tile; m < m1; m++)
        for (size_t o = ot * tile; o < o1; o++)
          memcpy(y + (m * outer + o) * inner, x + (o * mid + m) * inner, inner * 4);
    }
}
