#version 450
/* Batch norm over NCHW x[n][c][hw], per channel over its n·hw elements, and layer norm
 * over the last axis of x[rows][c].  Variants (-D):
 *   BN_TRAIN  one work-group per channel: mean, then the sum of squared deviations
 *             (strided f32 partials per invocation, then a fixed pairwise tree), the
 *             saved and running statistics, then y
 *   BN_EVAL   one invocation per element, with the running statistics
 *   BN_BWD    one work-group per channel: Σdy and Σdy·xhat, then dx
 *   LN_FWD    one work-group per row: mean, squared deviations (as BN_TRAIN, about the
 *             row's first element), then y
 *   LN_BWD_DX one work-group per row: Σg and Σg·xhat (g = dy·gamma), then dx
 *   LN_BWD_COLS, LN_BWD_FINAL  dgamma, dbeta in two passes: one invocation per (block of
 *             rows, column) sums its block in row order into partials, then one per
 *             column adds the blocks in order
 * No atomics: the same bits on every run.  y may alias x and dx may alias dy: each
 * element is read and then written by the same invocation, after the group's sums
 * (LN_FWD's x0, read by all, before a buffer-memory barrier). */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;

/* Element j (0 <= j < n·hw) of channel ch. */
uint at(uint c, uint hw, uint ch, uint j) { return ((j / hw) * c + ch) * hw + j % hw; }

#if defined(BN_TRAIN) || defined(BN_BWD) || defined(LN_FWD) || defined(LN_BWD_DX)
shared float s_v[gl_WorkGroupSize.x];

/* Sum over the work-group (a power of two) in a fixed tree; every invocation gets it. */
float wg_sum(float v)
{
  uint t = gl_LocalInvocationID.x;
  s_v[t] = v;
  barrier();
  for (uint h = gl_WorkGroupSize.x / 2; h > 0; h >>= 1) {
    if (t < h) {
      precise float r = s_v[t] + s_v[t + h];
      s_v[t] = r;
    }
    barrier();
  }
  float r = s_v[0];
  barrier();   /* s_v is reused by the next sum */
  return r;
}
#endif

#if defined(BN_TRAIN)
layout(std430, binding = 0) readonly buffer Xb { float x[]; };
layout(std430, binding = 1) writeonly buffer Yb { float y[]; };
layout(std430, binding = 2) readonly buffer Gb { float gamma[]; };
layout(std430, binding = 3) readonly buffer Bb { float beta[]; };
layout(std430, binding = 4) buffer RMb { float rm[]; };
layout(std430, binding = 5) buffer RVb { float rv[]; };
layout(std430, binding = 6) writeonly buffer SMb { float sm[]; };
layout(std430, binding = 7) writeonly buffer SIb { float si[]; };
layout(push_constant) uniform P {
  uint x_off, y_off, g_off, b_off, rm_off, rv_off, sm_off, si_off;
  uint n, c, hw, has;   /* has: 1 run_mean, 2 run_var, 4 save_mean, 8 save_invstd */
  float eps, momentum;
} p;

void main()
{
  uint ch = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
  if (ch >= p.c) return;   /* uniform per work-group */
  uint m = p.n * p.hw;
  precise float s = 0.0;
  for (uint j = t; j < m; j += gl_WorkGroupSize.x) s += x[p.x_off + at(p.c, p.hw, ch, j)];
  precise float mean = wg_sum(s) / float(m);
  precise float q = 0.0;
  for (uint j = t; j < m; j += gl_WorkGroupSize.x) {
    precise float d = x[p.x_off + at(p.c, p.hw, ch, j)] - mean;
    q += d * d;
  }
  precise float var = wg_sum(q) / float(m);
  precise float invstd = 1.0 / sqrt(var + p.eps);
  if (t == 0) {
    precise float unb = m > 1 ? var * float(m) / float(m - 1) : var;
    precise float keep = 1.0 - p.momentum;
    if ((p.has & 4u) != 0) sm[p.sm_off + ch] = mean;
    if ((p.has & 8u) != 0) si[p.si_off + ch] = invstd;
    if ((p.has & 1u) != 0) { precise float r = keep * rm[p.rm_off + ch] + p.momentum * mean; rm[p.rm_off + ch] = r; }
    if ((p.has & 2u) != 0) { precise float r = keep * rv[p.rv_off + ch] + p.momentum * unb; rv[p.rv_off + ch] = r; }
  }
  precise float k = invstd * gamma[p.g_off + ch];
  float b = beta[p.b_off + ch];
  for (uint j = t; j < m; j += gl_WorkGroupSize.x) {
    uint e = at(p.c, p.hw, ch, j);
    precise float r = (x[p.x_off + e] - mean) * k + b;
    y[p.y_off + e] = r;
  }
}

#elif defined(BN_EVAL)
layout(std430, binding = 0) readonly buffer Xb { float x[]; };
layout(std430, binding = 1) writeonly buffer Yb { float y[]; };
layout(std430, binding = 2) readonly buffer Gb { float gamma[]; };
layout(std430, binding = 3) readonly buffer Bb { float beta[]; };
layout(std430, binding = 4) readonly buffer RMb { float rm[]; };
layout(std430, binding = 5) readonly buffer RVb { float rv[]; };
layout(push_constant) uniform P {
  uint x_off, y_off, g_off, b_off, rm_off, rv_off;
  uint total, c, hw;
  float eps;
} p;

void main()
{
  uint e = gl_GlobalInvocationID.x;
  if (e >= p.total) return;
  uint ch = (e / p.hw) % p.c;
  precise float invstd = 1.0 / sqrt(rv[p.rv_off + ch] + p.eps);
  precise float k = invstd * gamma[p.g_off + ch];
  precise float r = (x[p.x_off + e] - rm[p.rm_off + ch]) * k + beta[p.b_off + ch];
  y[p.y_off + e] = r;
}

#elif defined(BN_BWD)
layout(std430, binding = 0) readonly buffer Xb { float x[]; };
layout(std430, binding = 1) readonly buffer DYb { float dy[]; };
layout(std430, binding = 2) readonly buffer Gb { float gamma[]; };
layout(std430, binding = 3) readonly buffer Mb { float mean[]; };
layout(std430, binding = 4) readonly buffer Ib { float invstd[]; };
layout(std430, binding = 5) writeonly buffer DXb { float dx[]; };
layout(std430, binding = 6) writeonly buffer DGb { float dg[]; };
layout(std430, binding = 7) writeonly buffer DBb { float db[]; };
layout(push_constant) uniform P {
  uint x_off, dy_off, g_off, m_off, i_off, dx_off, dg_off, db_off;
  uint n, c, hw, train, has;   /* has: 1 dx, 2 dgamma, 4 dbeta */
} p;

void main()
{
  uint ch = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
  if (ch >= p.c) return;   /* uniform per work-group */
  uint m = p.n * p.hw;
  float mu = mean[p.m_off + ch], is = invstd[p.i_off + ch];
  precise float s = 0.0, u = 0.0;
  for (uint j = t; j < m; j += gl_WorkGroupSize.x) {
    uint e = at(p.c, p.hw, ch, j);
    float g = dy[p.dy_off + e];
    precise float xh = (x[p.x_off + e] - mu) * is;
    s += g;
    u += g * xh;
  }
  float sdy = wg_sum(s);
  float sdyx = wg_sum(u);
  if (t == 0) {
    if ((p.has & 2u) != 0) dg[p.dg_off + ch] = sdyx;
    if ((p.has & 4u) != 0) db[p.db_off + ch] = sdy;
  }
  if ((p.has & 1u) == 0) return;
  precise float k = gamma[p.g_off + ch] * is;
  precise float c1 = sdy / float(m), c2 = sdyx / float(m);
  for (uint j = t; j < m; j += gl_WorkGroupSize.x) {
    uint e = at(p.c, p.hw, ch, j);
    float g = dy[p.dy_off + e];
    precise float r;
    if (p.train != 0) r = k * (g - c1 - (x[p.x_off + e] - mu) * is * c2);
    else r = k * g;
    dx[p.dx_off + e] = r;
  }
}
#elif defined(LN_FWD)
layout(std430, binding = 0) readonly buffer Xb { float x[]; };
layout(std430, binding = 1) writeonly buffer Yb { float y[]; };
layout(std430, binding = 2) readonly buffer Gb { float gamma[]; };
layout(std430, binding = 3) readonly buffer Bb { float beta[]; };
layout(std430, binding = 4) writeonly buffer SMb { float sm[]; };
layout(std430, binding = 5) writeonly buffer SRb { float sr[]; };
layout(push_constant) uniform P {
  uint x_off, y_off, g_off, b_off, sm_off, sr_off;
  uint rows, c, has;   /* has: 1 save_mean, 2 save_rstd */
  float eps;
} p;

void main()
{
  uint r = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
  if (r >= p.rows) return;   /* uniform per work-group */
  uint xr = p.x_off + r * p.c, yr = p.y_off + r * p.c;
  /* f32 sums of the deviations from the row's first element: x − x0 is exact near x0
   * (Sterbenz), so a mean far from 0 (e.g. 100 with std 1) costs no precision in
   * x − mean, which f32 mean would (ulp(100)/2 = 3.8e-6 of the std).  A non-finite x0
   * shifts by 0, so that ±inf and NaN reach the statistics as in an unshifted sum. */
  float x0 = x[xr];
  x0 = abs(x0) <= 3.40282347e38 ? x0 : 0.0;
  precise float s = 0.0, s1 = 0.0;
  for (uint j = t; j < p.c; j += gl_WorkGroupSize.x) {
    float v = x[xr + j];
    s += v - x0;
    s1 += v;
  }
  precise float dm = wg_sum(s) / float(p.c);   /* mean − x0 */
  precise float m1 = wg_sum(s1) / float(p.c);  /* the plain mean */
  precise float q = 0.0;
  for (uint j = t; j < p.c; j += gl_WorkGroupSize.x) {
    precise float d = (x[xr + j] - x0) - dm;
    q += d * d;
  }
  precise float rstd = 1.0 / sqrt(wg_sum(q) / float(p.c) + p.eps);
  if (t == 0) {
    /* saved: x0 + dm where that sum does not cancel (|mean| >= |x0|/2), else the plain
     * mean, whose error is relative to the row's spread, not to a small |mean| */
    precise float mean = x0 + dm;
    if (!(abs(mean) >= 0.5 * abs(x0))) mean = m1;
    if ((p.has & 1u) != 0) sm[p.sm_off + r] = mean;
    if ((p.has & 2u) != 0) sr[p.sr_off + r] = rstd;
  }
  /* y may alias x, and every invocation read x0: its reads are done before invocation 0
   * writes y[0] (barrier() alone orders shared memory only) */
  memoryBarrierBuffer();
  barrier();
  for (uint j = t; j < p.c; j += gl_WorkGroupSize.x) {
    precise float xh = ((x[xr + j] - x0) - dm) * rstd;
    precise float v = xh * gamma[p.g_off + j] + beta[p.b_off + j];
    y[yr + j] = v;
  }
}

#elif defined(LN_BWD_DX)
layout(std430, binding = 0) readonly buffer Xb { float x[]; };
layout(std430, binding = 1) readonly buffer DYb { float dy[]; };
layout(std430, binding = 2) readonly buffer Gb { float gamma[]; };
layout(std430, binding = 3) readonly buffer Mb { float mean[]; };
layout(std430, binding = 4) readonly buffer Rb { float rstd[]; };
layout(std430, binding = 5) writeonly buffer DXb { float dx[]; };
layout(push_constant) uniform P { uint x_off, dy_off, g_off, m_off, r_off, dx_off, rows, c; } p;

void main()
{
  uint r = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
  if (r >= p.rows) return;   /* uniform per work-group */
  uint xr = p.x_off + r * p.c, dr = p.dy_off + r * p.c;
  float mu = mean[p.m_off + r], is = rstd[p.r_off + r];
  precise float sg = 0.0, sgx = 0.0;
  for (uint j = t; j < p.c; j += gl_WorkGroupSize.x) {
    precise float g = dy[dr + j] * gamma[p.g_off + j];
    precise float xh = (x[xr + j] - mu) * is;
    sg += g;
    sgx += g * xh;
  }
  precise float mg = wg_sum(sg) / float(p.c);
  precise float mgx = wg_sum(sgx) / float(p.c);
  for (uint j = t; j < p.c; j += gl_WorkGroupSize.x) {
    precise float g = dy[dr + j] * gamma[p.g_off + j];
    precise float xh = (x[xr + j] - mu) * is;
    precise float v = is * (g - mg - xh * mgx);
    dx[p.dx_off + r * p.c + j] = v;
  }
}

#elif defined(LN_BWD_COLS)
layout(std430, binding = 0) readonly buffer Xb { float x[]; };
layout(std430, binding = 1) readonly buffer DYb { float dy[]; };
layout(std430, binding = 2) readonly buffer Mb { float mean[]; };
layout(std430, binding = 3) readonly buffer Rb { float rstd[]; };
layout(std430, binding = 4) writeonly buffer Pb { float part[]; };   /* [nblk][2][c] */
layout(push_constant) uniform P { uint x_off, dy_off, m_off, r_off, rows, c, block, n; } p;

void main()
{
  uint i = gl_GlobalInvocationID.x;
  if (i >= p.n) return;
  uint b = i / p.c, j = i % p.c, r1 = min((b + 1) * p.block, p.rows);
  precise float sg = 0.0, sb = 0.0;
  for (uint r = b * p.block; r < r1; r++) {
    float d = dy[p.dy_off + r * p.c + j];
    precise float xh = (x[p.x_off + r * p.c + j] - mean[p.m_off + r]) * rstd[p.r_off + r];
    sg += d * xh;
    sb += d;
  }
  part[b * 2 * p.c + j] = sg;
  part[b * 2 * p.c + p.c + j] = sb;
}

#elif defined(LN_BWD_FINAL)
layout(std430, binding = 0) readonly buffer Pb { float part[]; };
layout(std430, binding = 1) writeonly buffer DGb { float dg[]; };
layout(std430, binding = 2) writeonly buffer DBb { float db[]; };
layout(push_constant) uniform P { uint dg_off, db_off, c, nblk, has; } p;   /* 2 dgamma, 4 dbeta */

void main()
{
  uint j = gl_GlobalInvocationID.x;
  if (j >= p.c) return;
  precise float sg = 0.0, sb = 0.0;
  for (uint b = 0; b < p.nblk; b++) {
    sg += part[b * 2 * p.c + j];
    sb += part[b * 2 * p.c + p.c + j];
  }
  if ((p.has & 2u) != 0) dg[p.dg_off + j] = sg;
  if ((p.has & 4u) != 0) db[p.db_off + j] = sb;
}
#else
#error "norm.comp: define BN_TRAIN, BN_EVAL, BN_BWD, LN_FWD, LN_BWD_DX, LN_BWD_COLS or LN_BWD_FINAL"
#endif
