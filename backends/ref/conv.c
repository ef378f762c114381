/* Optional convolution ops of the oracle: direct loops over NCHW with f64 sums,
 * each output element summed in one fixed order and rounded to f32 once.  They are
 * the reference for the optional path; the agreement suite compares them with the
 * generic composition (im2col + permute + GEMM, core/conv.c). */
#include "ref_backend.h"

#include <stdlib.h>

/* Input index (iy, ix) of output (oy, ox) under kernel tap (ki, kj); 0 if in padding. */
static int tap(const mb_conv_geom *g, int oy, int ox, int ki, int kj, int *iy, int *ix)
{
  *iy = oy * g->stride - g->pad + ki;
  *ix = ox * g->stride - g->pad + kj;
  return *iy >= 0 && *iy < g->h && *ix >= 0 && *ix < g->w;
}

void ref_conv2d_fwd(mb_backend *be, const mb_conv_args *a)
{
  if (be->status != MB_OK) return;
  const mb_conv_geom *g = &a->g;
  const float *x = host_f32(a->x), *w = host_f32(a->w);
  float *y = host_f32(a->y);
  for (int b = 0; b < g->n; b++)
    for (int co = 0; co < a->cout; co++)
      for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++) {
          double acc = 0.0;
          for (int ci = 0; ci < g->c; ci++)
            for (int ki = 0; ki < g->kh; ki++)
              for (int kj = 0; kj < g->kw; kj++) {
                int iy, ix;
                if (!tap(g, oy, ox, ki, kj, &iy, &ix)) continue;
                size_t xi = (((size_t)b * g->c + ci) * g->h + iy) * g->w + ix;
                size_t wi = (((size_t)co * g->c + ci) * g->kh + ki) * g->kw + kj;
                acc += (double)x[xi] * (double)w[wi];
              }
          y[(((size_t)b * a->cout + co) * g->oh + oy) * g->ow + ox] = (float)acc;
        }
}

/* dx[b][ci][iy][ix] = Σ over (co, ki, kj) whose window covers it of dy·w. */
void ref_conv2d_bwd_data(mb_backend *be, const mb_conv_args *a)
{
  if (be->status != MB_OK) return;
  const mb_conv_geom *g = &a->g;
  const float *dy = host_f32(a->dy), *w = host_f32(a->w);
  float *dx = host_f32(a->dx);
  for (int b = 0; b < g->n; b++)
    for (int ci = 0; ci < g->c; ci++)
      for (int iy = 0; iy < g->h; iy++)
        for (int ix = 0; ix < g->w; ix++) {
          double acc = 0.0;
          for (int co = 0; co < a->cout; co++)
            for (int ki = 0; ki < g->kh; ki++)
              for (int kj = 0; kj < g->kw; kj++) {
                /* the output position whose window puts tap (ki, kj) on (iy, ix) */
                int ty = iy + g->pad - ki, tx = ix + g->pad - kj;
                if (ty < 0 || tx < 0 || ty % g->stride || tx % g->stride) continue;
                int oy = ty / g->stride, ox = tx / g->stride;
                if (oy >= g->oh || ox >= g->ow) continue;
                size_t yi = (((size_t)b * a->cout + co) * g->oh + oy) * g->ow + ox;
                size_t wi = (((size_t)co * g->c + ci) * g->kh + ki) * g->kw + kj;
                acc += (double)dy[yi] * (double)w[wi];
              }
          size_t xi = (((size_t)b * g->c + ci) * g->h + iy) * g->w + ix;
          dx[xi] = a->accumulate ? (float)((double)dx[xi] + acc) : (float)acc;
        }
}

void ref_conv2d_bwd_filter(mb_backend *be, const mb_conv_args *a)
{
  if (be->status != MB_OK) return;
  const mb_conv_geom *g = &a->g;
  const float *x = host_f32(a->x), *dy = host_f32(a->dy);
  float *dw = host_f32(a->dw);
  for (int co = 0; co < a->cout; co++)
    for (int ci = 0; ci < g->c; ci++)
      for (int ki = 0; ki < g->kh; ki++)
        for (int kj = 0; kj < g->kw; kj++) {
          double acc = 0.0;
          for (int b = 0; b < g->n; b++)
            for (int oy = 0; oy < g->oh; oy++)
              for (int ox = 0; ox < g->ow; ox++) {
                int iy, ix;
                if (!tap(g, oy, ox, ki, kj, &iy, &ix)) continue;
                size_t xi = (((size_t)b * g->c + ci) * g->h + iy) * g->w + ix;
                size_t yi = (((size_t)b * a->cout + co) * g->oh + oy) * g->ow + ox;
                acc += (double)x[xi] * (double)dy[yi];
              }
          size_t wi = (((size_t)co * g->c + ci) * g->kh + ki) * g->kw + kj;
          /* beta 0: dw is not read (it may hold NaN) */
          dw[wi] = a->beta != 0.0f ? (float)((double)a->beta * (double)dw[wi] + acc) : (float)acc;
        }
}
