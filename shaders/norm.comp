#version 450
/* Batch norm over NCHW x[n][c][hw], per channel over its n·hw elements.  Variants (-D):
 *   BN_TRAIN  one work-group per channel: mean, then the sum of squared deviations
 *             (strided f32 partials per invocation, then a fixed pairwise tree), the
 *             saved and running statistics, then y
 *   BN_EVAL   one invocation per element, with the running statistics
 *   BN_BWD    one work-group per channel: Σdy and Σdy·xhat, then dx
 * No atomics: the same bits on every run.  y may alias x and dx may alias dy: each
 * element is read and then written by the same invocation, after the group's sums. */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;

/* Element j (0 <= j < n·hw) of channel ch. */
uint at(uint c, uint hw, uint ch, uint j) { return ((j / hw) * c + ch) * hw + j % hw; }

#if defined(BN_TRAIN) || defined(BN_BWD)
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
#else
#error "norm.comp: define BN_TRAIN, BN_EVAL or BN_BWD"
#endif
