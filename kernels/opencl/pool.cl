/* 2-D max / average pooling over NCHW planes.  Forward: one work-item per output;
 * MAX takes the first NaN of the window, else its first maximum (strict >).
 * Backward: one work-item per input element, gathering the windows that take it
 * in (oy, ox) order: no atomics, the same bits on every run. */

#pragma OPENCL FP_CONTRACT OFF

#define GRID_LOOP(i, n) for (ulong i = get_global_id(0); i < (n); i += get_global_size(0))

#define POOL_MAX 0

static int avg_div(int count_pad, int h, int w, int kh, int kw, int y0, int x0)
{
  if (count_pad) return kh * kw;
  int y1 = min(y0 + kh, h), x1 = min(x0 + kw, w);
  return (y1 - max(y0, 0)) * (x1 - max(x0, 0));
}

__kernel void pool_fwd(__global const float *x, ulong xo, __global float *y, ulong yo,
                       __global int *idx, ulong io, int want_idx, int kind, int count_pad,
                       int n, int c, int h, int w, int kh, int kw, int stride, int pad,
                       int oh, int ow)
{
  x += xo; y += yo;
  GRID_LOOP(o, (ulong)n * c * oh * ow) {
    int ox = (int)(o % (ulong)ow), oy = (int)((o / (ulong)ow) % (ulong)oh);
    ulong pc = o / ((ulong)ow * oh);
    __global const float *xp = x + pc * (ulong)h * w;
    int y0 = oy * stride - pad, x0 = ox * stride - pad;
    int ya = max(y0, 0), yb = min(y0 + kh, h), xa = max(x0, 0), xb = min(x0 + kw, w);
    if (kind == POOL_MAX) {
      float best = xp[ya * w + xa];
      int at = ya * w + xa;
      for (int iy = ya; iy < yb && !isnan(best); iy++)
        for (int ix = xa; ix < xb; ix++) {
          float v = xp[iy * w + ix];
          if (isnan(v) || v > best) {
            best = v;
            at = iy * w + ix;
            if (isnan(v)) break;
          }
        }
      y[o] = best;
      if (want_idx) idx[io + o] = at;
    } else {
      float s = 0.0f;
      for (int iy = ya; iy < yb; iy++)
        for (int ix = xa; ix < xb; ix++) s += xp[iy * w + ix];
      y[o] = s / (float)avg_div(count_pad, h, w, kh, kw, y0, x0);
    }
  }
}

__kernel void pool_bwd(__global const float *dy, ulong dyo, __global const int *idx, ulong io,
                       __global float *dx, ulong dxo, int kind, int count_pad,
                       int n, int c, int h, int w, int kh, int kw, int stride, int pad,
                       int oh, int ow)
{
  dy += dyo; dx += dxo;
  GRID_LOOP(e, (ulong)n * c * h * w) {
    int ix = (int)(e % (ulong)w), iy = (int)((e / (ulong)w) % (ulong)h);
    ulong pc = e / ((ulong)w * h);
    __global const float *d = dy + pc * (ulong)oh * ow;
    int ty = iy + pad, tx = ix + pad, self = iy * w + ix;
    int oy0 = ty - kh + 1 > 0 ? (ty - kh + stride) / stride : 0;
    int ox0 = tx - kw + 1 > 0 ? (tx - kw + stride) / stride : 0;
    int oy1 = min(ty / stride, oh - 1), ox1 = min(tx / stride, ow - 1);
    float acc = 0.0f;
    for (int oy = oy0; oy <= oy1; oy++)
      for (int ox = ox0; ox <= ox1; ox++) {
        int o = oy * ow + ox;
        if (kind == POOL_MAX) {
          if (idx[io + pc * (ulong)oh * ow + o] == self) acc += d[o];
        } else {
          acc += d[o] / (float)avg_div(count_pad, h, w, kh, kw, oy * stride - pad, ox * stride - pad);
        }
      }
    dx[e] = acc;
  }
}
