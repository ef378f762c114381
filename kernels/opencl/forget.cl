/* The fused forgetting update (mb_forget_args, docs/specification.md §2.2) over the
 * chunks of a segment table (reduce.c's layout): three passes over the data instead of
 * the op chain's dozen, with a small per-segment merge after each of the first two.
 *
 *   pass 1   r = NAN_TO(log f_forget − log f_remain)     per-chunk max of the finite r
 *            (each input first AFFINE(scale, 0) when its scale is not 0)
 *   merge    m_s = max of segment s's partials
 *   pass 2   η = exp(INF_TO(r, m_s))                      per-chunk max of η
 *   merge    α_s = MIN_S(λ2 · RECIP(max η) + 0, λ1)
 *   pass 3   δ = η·α_s;  plus = 1·w + 1·δ;  minus = 1·w + (−1)·δ
 *
 * Each step is the expression of the kernel it replaces (eltwise.cl's unary_log,
 * unary_exp, unary_affine, unary_nan_to, unary_recip, unary_min_s, binary_axpby;
 * reduce.cl's seg_bcast_inf_to and seg_bcast_mul), with the same build options and no
 * contraction, and the AXPBY and AFFINE constants arrive as kernel arguments as they
 * do there, so the results are the chain's bits.  A maximum does not depend on the
 * order (r is never NaN or −0 after NAN_TO, η is never NaN), so the chunking changes
 * nothing.  Passes 1 and 2 leave r and then η in a buffer t that pass 3 reads: delta where
 * the caller wants it, else one of the outputs, else scratch (backends/opencl/forget.c).
 * Recomputing r in each pass instead costs as much memory traffic and three times the
 * logarithms, which a CPU device pays in full.  Every element's inputs are read before
 * its outputs are written by the same work-item, so the outputs may alias the inputs
 * element for element. */

#pragma OPENCL FP_CONTRACT OFF

/* which outputs are present (flags argument) */
#define FG_DELTA 1
#define FG_PLUS 2
#define FG_MINUS 4

/* The AXPBY / AFFINE constants 1, −1, 0 and the inputs' scales (0: none). */
typedef struct {
  float one, mone, zero, sf, sr;
} fg_const;

/* An input after the optional unary AFFINE(s, 0). */
static float fg_scaled(float x, float s, fg_const k) { return s != 0.0f ? s * x + k.zero : x; }

/* r of element i: the optional AFFINEs, unary LOG twice, binary AXPBY(1, −1), unary NAN_TO(0). */
static float fg_r(__global const float *ff, __global const float *fr, ulong i, fg_const k)
{
  float lf = log(fg_scaled(ff[i], k.sf, k));
  float lr = log(fg_scaled(fr[i], k.sr, k));
  float r = k.one * lf + k.mone * lr;
  return isnan(r) ? k.zero : r;
}

/* η from r: seg_bcast INF_TO(m), unary EXP. */
static float fg_eta_of(float r, float m) { return exp(isinf(r) ? m : r); }

/* The segment of chunk c: the last s with first[s] <= c (empty segments own no chunk). */
static ulong fg_seg(__global const ulong *first, ulong nseg, ulong c)
{
  ulong l = 0, h = nseg - 1;
  while (l < h) {
    ulong md = (l + h + 1) / 2;
    if (first[md] <= c) l = md; else h = md - 1;
  }
  return l;
}

/* Max over the work-group (size a power of two); every item gets the result. */
static float fg_group_max(float a, __local float *sv)
{
  size_t lid = get_local_id(0);
  sv[lid] = a;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (size_t s = get_local_size(0) / 2; s > 0; s >>= 1) {
    if (lid < s && sv[lid + s] > sv[lid]) sv[lid] = sv[lid + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  a = sv[0];
  barrier(CLK_LOCAL_MEM_FENCE);   /* sv is reused by the next chunk */
  return a;
}

/* Every pass starts with (t, to, tab, nseg, nchunks): r and then η in t + to, the table.
 * Pass 1: part[c] = max of chunk c's finite r; r into t. */
__kernel void forget_ratio(__global float *t, ulong to, __global const ulong *tab, ulong nseg,
                           ulong nchunks, __global const float *ff, ulong ffo,
                           __global const float *fr, ulong fro, float sf, float sr, float one,
                           float mone, float zero, __global float *part, __local float *sv)
{
  ff += ffo; fr += fro;
  const fg_const k = {one, mone, zero, sf, sr};
  __global const ulong *chunks = tab + 2 * nseg + 2;
  for (ulong c = get_group_id(0); c < nchunks; c += get_num_groups(0)) {
    float a = -INFINITY;
    for (ulong i = chunks[2 * c] + get_local_id(0); i < chunks[2 * c + 1]; i += get_local_size(0)) {
      float r = fg_r(ff, fr, i, k);
      t[to + i] = r;
      if (isfinite(r) && r > a) a = r;
    }
    a = fg_group_max(a, sv);
    if (get_local_id(0) == 0) part[c] = a;
  }
}

/* Pass 2: η in place of r in t; part[c] = max of chunk c's η, given m (= part + mo, one per
 * segment). */
__kernel void forget_eta(__global float *t, ulong to, __global const ulong *tab, ulong nseg,
                         ulong nchunks, __global float *part, ulong mo, __local float *sv)
{
  __global const ulong *first = tab + nseg + 1, *chunks = tab + 2 * nseg + 2;
  for (ulong c = get_group_id(0); c < nchunks; c += get_num_groups(0)) {
    float ms = part[mo + fg_seg(first, nseg, c)], a = -INFINITY;
    for (ulong i = chunks[2 * c] + get_local_id(0); i < chunks[2 * c + 1]; i += get_local_size(0)) {
      float eta = fg_eta_of(t[to + i], ms);
      t[to + i] = eta;
      if (eta > a) a = eta;
    }
    a = fg_group_max(a, sv);
    if (get_local_id(0) == 0) part[c] = a;
  }
}

/* One work-group per segment: out[s] = max of its chunks' partials; with alpha, α_s from
 * the max η (unary RECIP, AFFINE(λ2, 0), MIN_S(λ1)). */
__kernel void forget_merge(__global float *part, ulong oo, __global const ulong *tab, ulong nseg,
                           int alpha, float l1, float l2, float zero, __local float *sv)
{
  __global const ulong *first = tab + nseg + 1;
  for (ulong s = get_group_id(0); s < nseg; s += get_num_groups(0)) {
    float a = -INFINITY;
    for (ulong c = first[s] + get_local_id(0); c < first[s + 1]; c += get_local_size(0))
      if (part[c] > a) a = part[c];
    a = fg_group_max(a, sv);
    if (get_local_id(0) == 0) {
      if (alpha) {
        float inv = 1.0f / a;
        float scaled = l2 * inv + zero;
        a = l1 < scaled ? l1 : scaled;   /* MIN_S(λ1): unary_min_s's literal min */
      }
      part[oo + s] = a;
    }
  }
}

/* Pass 3: δ = η·α (seg_bcast MUL), plus and minus (binary AXPBY); η read from t. */
__kernel void forget_write(__global float *t, ulong to, __global const ulong *tab, ulong nseg,
                           ulong nchunks, int flags, float one, float mone,
                           __global const float *w, ulong wo, __global float *delta, ulong deltao,
                           __global float *plus, ulong pluso, __global float *minus, ulong minuso,
                           __global const float *part, ulong ao)
{
  __global const ulong *first = tab + nseg + 1, *chunks = tab + 2 * nseg + 2;
  w += wo;
  for (ulong c = get_group_id(0); c < nchunks; c += get_num_groups(0)) {
    float al = part[ao + fg_seg(first, nseg, c)];
    for (ulong i = chunks[2 * c] + get_local_id(0); i < chunks[2 * c + 1]; i += get_local_size(0)) {
      float d = t[to + i] * al;
      float wi = w[i];
      if (flags & FG_DELTA) delta[deltao + i] = d;
      if (flags & FG_PLUS) plus[pluso + i] = one * wi + one * d;
      if (flags & FG_MINUS) minus[minuso + i] = one * wi + mone * d;
    }
  }
}
