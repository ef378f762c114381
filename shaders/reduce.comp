#version 450
/* Reductions.  Variants (-D):
 *   REDUCE_WG   one work-group per output of reduce(): for long reduction axes
 *   REDUCE_COL  one invocation per output of reduce(): for short axes / wide inner
 *   SEG_REDUCE  one work-group per segment of seg_reduce()
 *   SEG_BCAST   one work-group per chunk of a segment of seg_bcast()
 * Sums are Kahan-compensated per invocation and then combined pairwise, so the
 * error stays near one f32 rounding for any length.  MAX propagates NaN,
 * MAX_FINITE skips NaN/±inf, ARGMAX treats NaN as never greater and keeps the
 * first index of the maximum.  Outputs are written as raw bits (u32) so that the
 * i32 indices of ARGMAX pass through unchanged. */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int OP = 0;

#if defined(REDUCE_WG) || defined(REDUCE_COL) || defined(SEG_REDUCE)

struct Acc { float s; float c; uint i; };

Acc acc_init()
{
  Acc a;
  a.s = (OP == RED_SUM || OP == RED_SUMSQ) ? 0.0 : MB_NEG_INF;
  a.c = 0.0;
  a.i = 0xffffffffu;
  return a;
}

void acc_add(inout Acc a, float v, uint idx)
{
  if (OP == RED_SUM || OP == RED_SUMSQ) {
    precise float y = (OP == RED_SUMSQ ? v * v : v) - a.c;
    precise float t = a.s + y;
    /* once the sum is ±inf/NaN the compensation would only turn it into NaN */
    precise float c = (t - a.s) - y;
    a.c = isinf(t) || isnan(t) ? 0.0 : c;
    a.s = t;
  } else if (OP == RED_MAX) {
    if (!isnan(a.s) && (isnan(v) || v > a.s)) a.s = v;
  } else if (OP == RED_MAX_FINITE) {
    if (!isinf(v) && !isnan(v) && v > a.s) a.s = v;
  } else {   /* ARGMAX: elements arrive in increasing index order per invocation */
    if (!isnan(v) && (v > a.s || a.i == 0xffffffffu)) { a.s = v; a.i = idx; }
  }
}

/* folds the Kahan compensation into the value before the pairwise combine */
Acc acc_final(Acc a)
{
  if (OP == RED_SUM || OP == RED_SUMSQ) { precise float s = a.s - a.c; a.s = s; a.c = 0.0; }
  return a;
}

Acc acc_combine(Acc a, Acc b)
{
  if (OP == RED_SUM || OP == RED_SUMSQ) {
    precise float s = a.s + b.s;
    a.s = s;
  } else if (OP == RED_MAX) {
    if (!isnan(a.s) && (isnan(b.s) || b.s > a.s)) a.s = b.s;
  } else if (OP == RED_MAX_FINITE) {
    if (b.s > a.s) a.s = b.s;
  } else if (b.i != 0xffffffffu &&
             (a.i == 0xffffffffu || b.s > a.s || (b.s == a.s && b.i < a.i))) {
    a = b;
  }
  return a;
}

uint acc_bits(Acc a)
{
  if (OP == RED_ARGMAX) return a.i == 0xffffffffu ? 0u : a.i;   /* all NaN: index 0 */
  return floatBitsToUint(a.s);
}

layout(std430, binding = 0) readonly buffer Xb { float x[]; };
layout(std430, binding = 1) writeonly buffer Yb { uint y[]; };

#if defined(REDUCE_WG) || defined(SEG_REDUCE)
shared float s_v[gl_WorkGroupSize.x];
shared uint s_i[gl_WorkGroupSize.x];

/* Pairwise tree over the work-group; the size is a power of two. */
Acc wg_combine(Acc a)
{
  uint t = gl_LocalInvocationID.x;
  s_v[t] = a.s;
  s_i[t] = a.i;
  for (uint h = gl_WorkGroupSize.x / 2; h > 0; h >>= 1) {
    barrier();
    if (t < h) {
      Acc b;
      b.s = s_v[t + h]; b.c = 0.0; b.i = s_i[t + h];
      a = acc_combine(a, b);
      s_v[t] = a.s;
      s_i[t] = a.i;
    }
  }
  return a;
}
#endif

#if defined(REDUCE_WG)
layout(push_constant) uniform P { uint x_off, y_off, nout, mid, inner; } p;

void main()
{
  uint o = gl_WorkGroupID.x;
  if (o >= p.nout) return;   /* uniform per work-group */
  uint ob = o / p.inner, oi = o % p.inner;
  uint base = p.x_off + ob * p.mid * p.inner + oi;
  Acc a = acc_init();
  for (uint m = gl_LocalInvocationID.x; m < p.mid; m += gl_WorkGroupSize.x)
    acc_add(a, x[base + m * p.inner], m);
  a = wg_combine(acc_final(a));
  if (gl_LocalInvocationID.x == 0) y[p.y_off + o] = acc_bits(a);
}

#elif defined(REDUCE_COL)
layout(push_constant) uniform P { uint x_off, y_off, nout, mid, inner; } p;

void main()
{
  uint o = gl_GlobalInvocationID.x;
  if (o >= p.nout) return;
  uint ob = o / p.inner, oi = o % p.inner;
  uint base = p.x_off + ob * p.mid * p.inner + oi;
  Acc a = acc_init();
  for (uint m = 0; m < p.mid; m++) acc_add(a, x[base + m * p.inner], m);
  y[p.y_off + o] = acc_bits(acc_final(a));
}

#else /* SEG_REDUCE */
layout(std430, binding = 2) readonly buffer Ob { uint offs[]; };
layout(push_constant) uniform P { uint x_off, y_off, o_off, nseg; } p;

void main()
{
  uint s = gl_WorkGroupID.x;
  if (s >= p.nseg) return;
  uint beg = offs[p.o_off + s], end = offs[p.o_off + s + 1];
  Acc a = acc_init();
  for (uint e = beg + gl_LocalInvocationID.x; e < end; e += gl_WorkGroupSize.x)
    acc_add(a, x[p.x_off + e], e - beg);
  a = wg_combine(acc_final(a));
  if (gl_LocalInvocationID.x == 0) y[p.y_off + s] = acc_bits(a);
}
#endif

#elif defined(SEG_BCAST)
/* One work-group per chunk of one segment; the host's table holds, per chunk,
 * {first element, end, segment}, so no invocation searches for its segment. */
layout(std430, binding = 0) readonly buffer Xb { float x[]; };
layout(std430, binding = 1) readonly buffer Vb { float vv[]; };
layout(std430, binding = 2) writeonly buffer Yb { float y[]; };
layout(std430, binding = 3) readonly buffer Tb { uint tab[]; };
layout(push_constant) uniform P { uint x_off, v_off, y_off, t_off, nchunks; } p;

void main()
{
  uint c = gl_WorkGroupID.x;
  if (c >= p.nchunks) return;
  uint beg = tab[p.t_off + 3u * c], end = tab[p.t_off + 3u * c + 1u];
  float v = vv[p.v_off + tab[p.t_off + 3u * c + 2u]];
  for (uint e = beg + gl_LocalInvocationID.x; e < end; e += gl_WorkGroupSize.x) {
    float u = x[p.x_off + e];
    precise float r;
    if (OP == SEGBC_MUL) r = u * v;
    else if (OP == SEGBC_ADD) r = u + v;
    else r = isinf(u) ? v : u;   /* SEGBC_INF_TO */
    y[p.y_off + e] = r;
  }
}
#else
#error "reduce.comp: define REDUCE_WG, REDUCE_COL, SEG_REDUCE or SEG_BCAST"
#endif
