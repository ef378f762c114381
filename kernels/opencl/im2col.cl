/* im2col / col2im for NCHW convolutions, and the permute that regroups columns.
 * cols is [n][c*kh*kw][oh*ow]: row (ci*kh + ki)*kw + kj, column oy*ow + ox holds
 * x[b][ci][oy*stride - pad + ki][ox*stride - pad + kj] (0 outside the image).
 * col2im gathers instead of scattering (no atomics, deterministic): each dx
 * element adds its columns in (ki, kj) order, in double where the device has
 * it, and is rounded once. */

#pragma OPENCL FP_CONTRACT OFF

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double acc_t;
#else
typedef float acc_t;
#endif

#define GRID_LOOP(i, n) for (ulong i = get_global_id(0); i < (n); i += get_global_size(0))

__kernel void im2col(__global const float *x, ulong xo, __global float *cols, ulong co, int n,
                     int c, int h, int w, int kh, int kw, int stride, int pad, int oh, int ow)
{
  x += xo; cols += co;
  GRID_LOOP(e, (ulong)n * c * kh * kw * oh * ow) {
    ulong t = e;
    long ox = t % ow; t /= ow;
    long oy = t % oh; t /= oh;
    long kj = t % kw; t /= kw;
    long ki = t % kh; t /= kh;     /* t = b*c + ci */
    long iy = oy * stride - pad + ki, ix = ox * stride - pad + kj;
    cols[e] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[(t * h + iy) * w + ix] : 0.0f;
  }
}

__kernel void col2im(__global const float *cols, ulong co, __global float *dx, ulong dxo, int n,
                     int c, int h, int w, int kh, int kw, int stride, int pad, int oh, int ow)
{
  cols += co; dx += dxo;
  GRID_LOOP(e, (ulong)n * c * h * w) {
    long ix = e % w, iy = (e / w) % h, bc = e / ((ulong)w * h);   /* bc = b*c + ci */
    acc_t acc = dx[e];
    for (long ki = 0; ki < kh; ki++) {
      long ty = iy + pad - ki;
      if (ty < 0 || ty % stride) continue;
      long oy = ty / stride;
      if (oy >= oh) continue;
      for (long kj = 0; kj < kw; kj++) {
        long tx = ix + pad - kj;
        if (tx < 0 || tx % stride) continue;
        long ox = tx / stride;
        if (ox >= ow) continue;
        acc += (acc_t)cols[((bc * kh + ki) * kw + kj) * oh * ow + oy * ow + ox];
      }
    }
    dx[e] = (float)acc;
  }
}

/* y[m][o][i] = x[o][m][i] over (outer, mid, inner), one work-item per y element
 * (consecutive items write consecutive elements); raw bits, so any payload survives. */
__kernel void permute(__global const uint *x, ulong xo, __global uint *y, ulong yo, ulong outer,
                      ulong mid, ulong inner)
{
  x += xo; y += yo;
  GRID_LOOP(e, outer * mid * inner) {
    ulong r = e / inner, i = e - r * inner;   /* r = m*outer + o */
    ulong m = r / outer, o = r - m * outer;
    y[e] = x[(o * mid + m) * inner + i];
  }
}
