/* im2col / col2im for NCHW, and the permute that regroups columns.  cols is
 * [n][c·kh·kw][oh·ow]: row (ci·kh + ki)·kw + kj, column oy·ow + ox holds
 * x[b][ci][oy·stride − pad + ki][ox·stride − pad + kj], or 0 outside the image.
 * col2im adds the transpose into dx; each dx element gathers its contributions in
 * double and is rounded once. */
#include "ref_backend.h"

void ref_im2col(mb_backend *be, const mb_conv_geom *g, mb_view x, mb_view cols)
{
  if (be->status != MB_OK) return;
  const float *xp = host_f32(x);
  float *cp = host_f32(cols);
  const size_t plane = (size_t)g->h * g->w, opl = (size_t)g->oh * g->ow;
  for (int b = 0; b < g->n; b++)
    for (int ci = 0; ci < g->c; ci++)
      for (int ki = 0; ki < g->kh; ki++)
        for (int kj = 0; kj < g->kw; kj++) {
          const float *xc = xp + ((size_t)b * g->c + ci) * plane;
          float *row = cp + (((size_t)b * g->c + ci) * g->kh * g->kw + (size_t)ki * g->kw + kj) * opl;
          for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
              const int iy = oy * g->stride - g->pad + ki, ix = ox * g->stride - g->pad + kj;
              const int in = iy >= 0 && iy < g->h && ix >= 0 && ix < g->w;
              row[(size_t)oy * g->ow + ox] = in ? xc[(size_t)iy * g->w + ix] : 0.0f;
            }
        }
}

void ref_col2im(mb_backend *be, const mb_conv_geom *g, mb_view cols, mb_view dx)
{
  if (be->status != MB_OK) return;
  const float *cp = host_f32(cols);
  float *dp = host_f32(dx);
  const size_t plane = (size_t)g->h * g->w, opl = (size_t)g->oh * g->ow;
  const int s = g->stride;
  for (int b = 0; b < g->n; b++)
    for (int ci = 0; ci < g->c; ci++) {
      const float *cc = cp + ((size_t)b * g->c + ci) * g->kh * g->kw * opl;
      float *d = dp + ((size_t)b * g->c + ci) * plane;
      for (int iy = 0; iy < g->h; iy++)
        for (int ix = 0; ix < g->w; ix++) {
          double acc = (double)d[(size_t)iy * g->w + ix];
          /* every (ki, kj) whose window position oy·s − pad + ki lands on (iy, ix) */
          for (int ki = 0; ki < g->kh; ki++) {
            const int ty = iy + g->pad - ki;
            if (ty < 0 || ty % s) continue;
            const int oy = ty / s;
            if (oy >= g->oh) continue;
            for (int kj = 0; kj < g->kw; kj++) {
              const int tx = ix + g->pad - kj;
              if (tx < 0 || tx % s) continue;
              const int ox = tx / s;
              if (ox >= g->ow) continue;
              acc += (double)cc[((size_t)ki * g->kw + kj) * opl + (size_t)oy * g->ow + ox];
            }
          }
          d[(size_t)iy * g->w + ix] = (float)acc;
        }
    }
}

/* y[m][o][i] = x[o][m][i]: the two outer axes swapped (conv columns of a chunk of
 * images to [c·kh·kw][n·oh·ow] and back); a pure copy, bit for bit. */
void ref_permute(mb_backend *be, mb_view xv, mb_view yv, size_t outer, size_t mid, size_t inner)
{
  if (be->status != MB_OK) return;
  const uint32_t *x = host_u32(xv);
  uint32_t *y = host_u32(yv);
  for (size_t o = 0; o < outer; o++)
    for (size_t m = 0; m < mid; m++)
      for (size_t i = 0; i < inner; i++)
        y[(m * outer + o) * inner + i] = x[(o * mid + m) * inner + i];
}
