/* The fused forgetting update (mb_forget_args, docs/specification.md §2.2) over the
 * chunks of a segment table, as seg_reduce cuts them: three passes over the data instead
 * of the op chain's dozen, with two small per-segment merges between them.
 *
 *   pass 1   r = NAN_TO(log f_forget − log f_remain)     per-chunk max of the finite r
 *            (each input first AFFINE(scale, 0) when its scale is not 0)
 *   merge    m_s = max of segment s's partials
 *   pass 2   η = exp(INF_TO(r, m_s))                      per-chunk max of η
 *   merge    α_s = MIN_S(λ2 · RECIP(max η) + 0, λ1)
 *   pass 3   δ = η·α_s;  plus = 1·w + 1·δ;  minus = 1·w + (−1)·δ
 *
 * Every step is the float expression of the CUDA op it replaces (kernels/cuda/eltwise.cu,
 * reduce.cu: log and exp through double, IEEE division, --fmad=false), and the constants
 * of AXPBY and AFFINE arrive as kernel arguments as they do there, so no product by 1 is
 * folded away: the results are the op chain's bits.  A maximum does not depend on the
 * order (r is never NaN or −0 after NAN_TO, η is never NaN), so the chunking changes
 * nothing.  With a delta view, passes 1 and 2 leave r and then η in it, as the chain
 * does, and later passes read it back; without one, each pass recomputes r from the
 * inputs.  Either way every element's inputs are read before its outputs are written by
 * the same thread, so the outputs may alias f_forget or f_remain element for element. */
#include "launch.h"
#include "block.cuh"

struct FMax {
  typedef float acc;
  __device__ static acc comb(acc a, acc b) { return b > a ? b : a; }
};

/* The AXPBY / AFFINE constants (1, −1, 0) and the inputs' scales (0: none), passed in
 * so that they stay multiplications. */
struct FgConst {
  float one, mone, zero, sf, sr;
};

/* An input after the optional unary AFFINE(s, 0). */
__device__ __forceinline__ float fg_scaled(float x, float s, FgConst k)
{
  return s != 0.0f ? s * x + k.zero : x;
}

/* r of element i: the optional AFFINEs, unary LOG twice, binary AXPBY(1, −1), unary NAN_TO(0). */
__device__ __forceinline__ float fg_ratio(const float *ff, const float *fr, size_t i, FgConst k)
{
  float lf = (float)log((double)fg_scaled(ff[i], k.sf, k));
  float lr = (float)log((double)fg_scaled(fr[i], k.sr, k));
  float r = k.one * lf + k.mone * lr;
  return r != r ? k.zero : r;
}

/* η from r: seg_bcast INF_TO(m), unary EXP. */
__device__ __forceinline__ float fg_eta(float r, float m)
{
  return (float)exp((double)(mb_cu_isinf(r) ? m : r));
}

/* Pass 1: per-chunk max of the finite r (MAX_FINITE); r stored in delta when given. */
__global__ void fg_ratio_k(const float *ff, const float *fr, float *delta, const mb_cu_chunk *ch,
                           size_t nchunks, FgConst k, float *part)
{
  for (size_t c = blockIdx.x; c < nchunks; c += gridDim.x) {
    size_t b = (size_t)ch[c].begin, e = (size_t)ch[c].end;
    float a = mb_cu_ninf();
    for (size_t j = b + threadIdx.x; j < e; j += blockDim.x) {
      float r = fg_ratio(ff, fr, j, k);
      if (delta) delta[j] = r;
      a = FMax::comb(a, mb_cu_isfinite(r) ? r : mb_cu_ninf());
    }
    a = mb_cu_block_reduce<FMax>(a);
    if (threadIdx.x == 0) part[c] = a;
  }
}

/* Pass 2: per-chunk max of η (MAX); η stored in delta when given. */
__global__ void fg_eta_k(const float *ff, const float *fr, float *delta, const mb_cu_chunk *ch,
                         size_t nchunks, FgConst k, const float *m, float *part)
{
  for (size_t c = blockIdx.x; c < nchunks; c += gridDim.x) {
    size_t b = (size_t)ch[c].begin, e = (size_t)ch[c].end;
    float ms = m[ch[c].seg];
    float a = mb_cu_ninf();
    for (size_t j = b + threadIdx.x; j < e; j += blockDim.x) {
      float eta = fg_eta(delta ? delta[j] : fg_ratio(ff, fr, j, k), ms);
      if (delta) delta[j] = eta;
      a = FMax::comb(a, eta);
    }
    a = mb_cu_block_reduce<FMax>(a);
    if (threadIdx.x == 0) part[c] = a;
  }
}

/* One block per segment: the max of its partials; with ALPHA, α_s from the max η
 * (unary RECIP, AFFINE(λ2, 0), MIN_S(λ1)). */
template <bool ALPHA>
__global__ void fg_merge_k(const float *part, const int *first, int nseg, float l1, float l2,
                           FgConst k, float *out)
{
  for (int s = blockIdx.x; s < nseg; s += gridDim.x) {
    float a = mb_cu_ninf();
    for (int j = first[s] + (int)threadIdx.x; j < first[s + 1]; j += (int)blockDim.x)
      a = FMax::comb(a, part[j]);
    a = mb_cu_block_reduce<FMax>(a);
    if (threadIdx.x != 0) continue;
    if (ALPHA) {
      float inv = 1.0f / a;
      float scaled = l2 * inv + k.zero;
      a = l1 < scaled ? l1 : scaled;
    }
    out[s] = a;
  }
}

/* Pass 3: δ = η·α (seg_bcast MUL), plus and minus (binary AXPBY). */
__global__ void fg_write_k(const float *ff, const float *fr, const float *w, float *delta,
                           float *plus, float *minus, const mb_cu_chunk *ch, size_t nchunks,
                           FgConst k, const float *m, const float *alpha)
{
  for (size_t c = blockIdx.x; c < nchunks; c += gridDim.x) {
    size_t b = (size_t)ch[c].begin, e = (size_t)ch[c].end;
    int s = ch[c].seg;
    float ms = m[s], al = alpha[s];
    for (size_t j = b + threadIdx.x; j < e; j += blockDim.x) {
      float eta = delta ? delta[j] : fg_eta(fg_ratio(ff, fr, j, k), ms);
      float d = eta * al;
      float wi = w[j];
      if (delta) delta[j] = d;
      if (plus) plus[j] = k.one * wi + k.one * d;
      if (minus) minus[j] = k.one * wi + k.mone * d;
    }
  }
}

extern "C" size_t mb_cu_forget_scratch(const mb_cu_segtab *t)
{
  return (t->nchunks + 2 * (size_t)t->nseg) * sizeof(float);
}

extern "C" void mb_cu_forget(cudaStream_t s, const mb_cu_segtab *t, const float *ff,
                             const float *fr, const float *w, float *delta, float *plus,
                             float *minus, float lambda1, float lambda2, float scale_forget,
                             float scale_remain, void *scratch)
{
  float *part = (float *)scratch, *m = part + t->nchunks, *alpha = m + t->nseg;
  FgConst k = {1.0f, -1.0f, 0.0f, scale_forget, scale_remain};
  unsigned g = mb_cu_blocks(t->nchunks, 1), gs = mb_cu_blocks((size_t)t->nseg, 1);
  size_t sh = MB_CU_THREADS * sizeof(float);
  /* Segments have about nchunks / nseg partials each; a few warps cover them. */
  unsigned th = mb_cu_row_threads((t->nchunks + (size_t)t->nseg - 1) / (size_t)t->nseg);
  fg_ratio_k<<<g, MB_CU_THREADS, sh, s>>>(ff, fr, delta, t->chunks, t->nchunks, k, part);
  fg_merge_k<false><<<gs, th, th * sizeof(float), s>>>(part, t->first, t->nseg, lambda1, lambda2,
                                                       k, m);
  fg_eta_k<<<g, MB_CU_THREADS, sh, s>>>(ff, fr, delta, t->chunks, t->nchunks, k, m, part);
  fg_merge_k<true><<<gs, th, th * sizeof(float), s>>>(part, t->first, t->nseg, lambda1, lambda2,
                                                      k, alpha);
  fg_write_k<<<g, MB_CU_THREADS, 0, s>>>(ff, fr, w, delta, plus, minus, t->chunks, t->nchunks, k,
                                         m, alpha);
}
