#version 450
/* The fused forgetting update (mb_forget_args, docs/specification.md §2.2) over chunks of
 * the segments: three passes over the data instead of the op chain's dozen, with a small
 * per-segment merge after each of the first two.  Variants (-D):
 *   FG_PASS   spec constant PASS: 1 per-chunk max of the finite log-ratio r,
 *             2 per-chunk max of η = exp(INF_TO(r, m_s)), 3 δ = η·α_s, plus, minus
 *   FG_MERGE  one work-group per segment over its chunks' partials: m_s, or with
 *             alpha α_s = MIN_S(λ2 · RECIP(max η) + 0, λ1)
 * Each step is the expression of the shader it replaces (eltwise.comp's UN_AFFINE, UN_LOG,
 * BIN_AXPBY, UN_NAN_TO, UN_EXP, UN_RECIP, UN_MIN_S; reduce.comp's SEGBC_INF_TO and
 * SEGBC_MUL), `precise` like them and with the AXPBY and AFFINE constants passed in as
 * they are there, so the results are the chain's bits.  A maximum does not depend on the
 * order (r is never NaN or −0 after NAN_TO, η is never NaN), so the chunking changes
 * nothing.  Passes 1 and 2 leave r and then η in a buffer t that pass 3 reads: delta where
 * the caller wants it (pass 3 then leaves δ there), else one of the outputs, else scratch
 * (backends/vulkan/forget.c).  Every element's inputs are read before its outputs are
 * written by the same invocation, so outputs may alias inputs element for element (the
 * bindings are then the same buffer). */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;

/* Partials and per-segment values: [nchunks partials][nseg m][nseg α] */
layout(std430, binding = 1) buffer Pb { float part[]; };
/* The host's table: per chunk {first element, end, segment}, then the first chunk of
 * each segment (nseg + 1 entries) */
layout(std430, binding = 0) readonly buffer Tb { uint tab[]; };

shared float s_max[gl_WorkGroupSize.x];

/* Max over the work-group (a power of two); every invocation gets the result. */
float group_max(float a)
{
  uint t = gl_LocalInvocationID.x;
  s_max[t] = a;
  for (uint h = gl_WorkGroupSize.x / 2; h > 0; h >>= 1) {
    barrier();
    if (t < h && s_max[t + h] > s_max[t]) s_max[t] = s_max[t + h];
  }
  barrier();
  a = s_max[0];
  barrier();   /* s_max is reused by the next chunk */
  return a;
}

#if defined(FG_PASS)
layout(constant_id = 1) const int PASS = 1;
layout(std430, binding = 2) readonly buffer Fb { float ff[]; };
layout(std430, binding = 3) readonly buffer Rb { float fr[]; };
layout(std430, binding = 4) readonly buffer Wb { float w[]; };
layout(std430, binding = 5) buffer Eb { float t[]; };   /* r, then η; delta when wanted */
layout(std430, binding = 6) writeonly buffer PLb { float plus[]; };
layout(std430, binding = 7) writeonly buffer MIb { float minus[]; };
layout(push_constant) uniform P {
  uint ff_off, fr_off, w_off, t_off, p_off, m_off, c_off, nchunks, flags, mo, ao;
  float sf, sr, one, mone, zero;
} p;

#define FG_DELTA 1u
#define FG_PLUS 2u
#define FG_MINUS 4u

/* An input after the optional unary AFFINE(s, 0). */
float scaled(float x, float s)
{
  precise float v = s * x + p.zero;
  return s != 0.0 ? v : x;
}

/* r of element e: the optional AFFINEs, unary LOG twice, binary AXPBY(1, −1), NAN_TO(0). */
float ratio(uint e)
{
  precise float lf = mb_log(scaled(ff[p.ff_off + e], p.sf));
  precise float lr = mb_log(scaled(fr[p.fr_off + e], p.sr));
  precise float r = p.one * lf + p.mone * lr;
  return isnan(r) ? p.zero : r;
}

void main()
{
  for (uint c = gl_WorkGroupID.x; c < p.nchunks; c += gl_NumWorkGroups.x) {
    uint beg = tab[p.c_off + 3u * c], end = tab[p.c_off + 3u * c + 1u];
    uint s = tab[p.c_off + 3u * c + 2u];
    float a = MB_NEG_INF;
    if (PASS == 1) {
      for (uint e = beg + gl_LocalInvocationID.x; e < end; e += gl_WorkGroupSize.x) {
        float r = ratio(e);
        t[p.t_off + e] = r;
        if (!isinf(r) && r > a) a = r;   /* r is never NaN */
      }
    } else if (PASS == 2) {
      float ms = part[p.mo + s];
      for (uint e = beg + gl_LocalInvocationID.x; e < end; e += gl_WorkGroupSize.x) {
        float r = t[p.t_off + e];
        precise float eta = exp(isinf(r) ? ms : r);   /* seg_bcast INF_TO(m), unary EXP */
        t[p.t_off + e] = eta;
        if (eta > a) a = eta;
      }
    } else {
      float al = part[p.ao + s];
      for (uint e = beg + gl_LocalInvocationID.x; e < end; e += gl_WorkGroupSize.x) {
        precise float d = t[p.t_off + e] * al;
        float wi = w[p.w_off + e];
        precise float pl = p.one * wi + p.one * d;
        precise float mi = p.one * wi + p.mone * d;
        if ((p.flags & FG_DELTA) != 0u) t[p.t_off + e] = d;
        if ((p.flags & FG_PLUS) != 0u) plus[p.p_off + e] = pl;
        if ((p.flags & FG_MINUS) != 0u) minus[p.m_off + e] = mi;
      }
      continue;
    }
    a = group_max(a);
    if (gl_LocalInvocationID.x == 0) part[c] = a;
  }
}

#elif defined(FG_MERGE)
layout(push_constant) uniform P { uint f_off, nseg, out_off, alpha; float l1, l2, zero; } p;

void main()
{
  for (uint s = gl_WorkGroupID.x; s < p.nseg; s += gl_NumWorkGroups.x) {
    float a = MB_NEG_INF;
    for (uint c = tab[p.f_off + s] + gl_LocalInvocationID.x; c < tab[p.f_off + s + 1u];
         c += gl_WorkGroupSize.x)
      if (part[c] > a) a = part[c];
    a = group_max(a);
    if (gl_LocalInvocationID.x == 0) {
      if (p.alpha != 0u) {
        precise float inv = 1.0 / a;
        precise float v = p.l2 * inv + p.zero;
        a = mb_min(v, p.l1);
      }
      part[p.out_off + s] = a;
    }
  }
}
#else
#error "forget.comp: define FG_PASS or FG_MERGE"
#endif
