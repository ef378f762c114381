/* Batch norm over NCHW x[n][c][hw], per channel over its n·hw elements.
 *
 * The statistics and the backward sums are split over many blocks: each channel is cut
 * into chunks (a run of whole planes, or a piece of one large plane) of about BN_CHUNK
 * elements, one block per chunk, so even 64 channels of millions of elements fill a
 * large GPU.  A block accumulates f64 partials (thread-strided, then a fixed
 * shared-memory tree) and a second small kernel merges each channel's partials in chunk
 * order, the way seg_reduce does: no atomics, identical bits on every run, the result a
 * function of the shape alone.  As in the oracle, the mean comes first and then the sum
 * of squared deviations from it (two passes over x).  The normalisation and the input
 * gradient are grid-stride passes over all elements with per-channel f32 coefficients.
 * Inside a chunk a thread walks (plane, position) pairs, so no element needs a division;
 * the elementwise passes find the channel with 32-bit multiply-shift divisions when the
 * tensor has fewer than 2^32 elements, else with 64-bit ones.  y may alias x and dx may
 * alias dy: every statistic is complete before the elementwise pass, in which each
 * element is read and then written by the same thread. */
#include "launch.h"
#include "block.cuh"

/* Elements per chunk (about; planes are not split below it). */
#define BN_CHUNK 4096u

struct NSum {
  typedef double acc;
  __device__ static acc comb(acc a, acc b) { return a + b; }
};

/* How a channel's n·hw elements are cut: chunk q of channel ch covers planes
 * [pg·pp, pg·pp + pp) ∩ [0, n) and positions [pc·kl, pc·kl + kl) ∩ [0, hw) of each,
 * with pg = q / ks and pc = q % ks.  Either pp = 1 (a plane of more than BN_CHUNK
 * elements is cut into ks pieces) or ks = 1 (pp whole planes). */
struct BnPlan {
  unsigned n, c, hw;
  unsigned pp, kl, ks, cpc;   /* cpc: chunks per channel */
  unsigned twl;               /* log2 of the threads along a plane */
  size_t nchunks;             /* c · cpc */
};

static BnPlan bn_plan(int n, int c, int hw)
{
  BnPlan p;
  p.n = (unsigned)n;
  p.c = (unsigned)c;
  p.hw = (unsigned)hw;
  p.ks = (p.hw + BN_CHUNK - 1) / BN_CHUNK;
  p.kl = (p.hw + p.ks - 1) / p.ks;   /* balanced pieces */
  p.pp = p.ks == 1 ? (BN_CHUNK / p.hw > 1 ? BN_CHUNK / p.hw : 1) : 1;
  p.cpc = (p.n + p.pp - 1) / p.pp * p.ks;
  p.twl = 0;
  while ((1u << p.twl) < MB_CU_THREADS && (1u << p.twl) < p.kl) p.twl++;
  p.nchunks = (size_t)p.c * p.cpc;
  return p;
}

/* Exact unsigned 32-bit division by a constant: q = (umulhi(x, magic) + x) >> shift
 * (the sum taken in 64 bits), for every x < 2^32 and divisor >= 1. */
struct FastDiv {
  unsigned d, magic, shift;
  __host__ __device__ unsigned div(unsigned x) const
  {
#ifdef __CUDA_ARCH__
    unsigned t = __umulhi(x, magic);
#else
    unsigned t = (unsigned)(((unsigned long long)x * magic) >> 32);
#endif
    return (unsigned)(((unsigned long long)t + x) >> shift);
  }
};

static FastDiv fast_div(unsigned d)
{
  FastDiv f;
  f.d = d;
  f.shift = 0;
  while (f.shift < 32 && ((unsigned long long)1 << f.shift) < d) f.shift++;
  f.magic = (unsigned)(((((unsigned long long)1 << f.shift) - d) << 32) / d + 1);
  return f;
}

/* Channel of element e (x[n][c][hw]). */
struct ChanOf32 {
  FastDiv hw, c;
  __host__ __device__ unsigned operator()(unsigned e) const
  {
    unsigned pl = hw.div(e);
    return pl - c.div(pl) * c.d;
  }
};

struct ChanOf64 {
  size_t hw, c;
  __device__ size_t operator()(size_t e) const { return (e / hw) % c; }
};

/* Chunk g: its channel, planes [p0, p1) and positions [k0, k1) within each plane. */
struct BnChunk {
  unsigned ch, p0, p1, k0, k1;
};

__host__ __device__ inline BnChunk bn_chunk(const BnPlan &p, size_t g)
{
  BnChunk r;
  r.ch = (unsigned)(g / p.cpc);
  unsigned q = (unsigned)(g - (size_t)r.ch * p.cpc);
  unsigned pg = q / p.ks, pc = q - pg * p.ks;
  r.p0 = pg * p.pp;
  r.p1 = p.n - r.p0 < p.pp ? p.n : r.p0 + p.pp;
  r.k0 = pc * p.kl;
  r.k1 = p.hw - r.k0 < p.kl ? p.hw : r.k0 + p.kl;
  return r;
}

/* Calls f(e) for this thread's share of the elements e of chunk g (the caller reduces
 * over the block), in a fixed order: the block is rows × tw threads, a row per plane and
 * tw threads along it. */
template <typename I, class F>
__device__ void bn_chunk_for(const BnPlan &p, size_t g, F &f)
{
  BnChunk k = bn_chunk(p, g);
  unsigned tw = 1u << p.twl, lane = threadIdx.x & (tw - 1);
  unsigned row = threadIdx.x >> p.twl, rows = blockDim.x >> p.twl;
  for (unsigned pl = k.p0 + row; pl < k.p1; pl += rows) {
    I base = ((I)pl * p.c + k.ch) * p.hw;
    for (unsigned j = k.k0 + lane; j < k.k1; j += tw) f(base + j);
  }
}

template <typename I>
struct SumX {
  const float *x;
  double s;
  __device__ void operator()(I e) { s += (double)x[e]; }
};

template <typename I>
struct SqDev {
  const float *x;
  double mean, q;
  __device__ void operator()(I e)
  {
    double d = (double)x[e] - mean;
    q += d * d;
  }
};

template <typename I>
struct BwdSums {
  const float *x, *dy;
  double mu, is, s, t;
  __device__ void operator()(I e)
  {
    double g = (double)dy[e];
    s += g;
    t += g * (((double)x[e] - mu) * is);
  }
};

/* ---- training statistics ---- */

template <typename I>
__global__ void bn_sum_k(const float *x, BnPlan p, double *part)
{
  for (size_t g = blockIdx.x; g < p.nchunks; g += gridDim.x) {
    SumX<I> f = {x, 0.0};
    bn_chunk_for<I>(p, g, f);
    double s = mb_cu_block_reduce<NSum>(f.s);
    if (threadIdx.x == 0) part[g] = s;
  }
}

/* Squared deviations from the channel mean sum[ch] / m. */
template <typename I>
__global__ void bn_sqdev_k(const float *x, BnPlan p, const double *sum, double *part)
{
  double m = (double)((size_t)p.n * p.hw);
  for (size_t g = blockIdx.x; g < p.nchunks; g += gridDim.x) {
    SqDev<I> f = {x, sum[g / p.cpc] / m, 0.0};
    bn_chunk_for<I>(p, g, f);
    double q = mb_cu_block_reduce<NSum>(f.q);
    if (threadIdx.x == 0) part[g] = q;
  }
}

/* Sum of channel ch's partials part[ch·cpc .. ch·cpc + cpc) in a fixed order (every
 * thread of the block gets it). */
__device__ double bn_merge(const double *part, unsigned cpc, unsigned ch)
{
  double a = 0.0;
  for (unsigned j = threadIdx.x; j < cpc; j += blockDim.x) a += part[(size_t)ch * cpc + j];
  return mb_cu_block_reduce<NSum>(a);
}

/* One block per channel: the channel sums. */
__global__ void bn_merge_k(const double *part, BnPlan p, double *sum)
{
  for (unsigned ch = blockIdx.x; ch < p.c; ch += gridDim.x) {
    double s = bn_merge(part, p.cpc, ch);
    if (threadIdx.x == 0) sum[ch] = s;
  }
}

/* One block per channel: variance, invstd, saved and running statistics, and the f32
 * coefficients of y = (x − mf)·k + b (coef: mf[c], k[c], b[c]). */
__global__ void bn_train_fin_k(const double *part, BnPlan p, const double *sum,
                               const float *gamma, const float *beta, float *rm, float *rv,
                               float *sm, float *si, float eps, float momentum, float *coef)
{
  size_t m = (size_t)p.n * p.hw;
  for (unsigned ch = blockIdx.x; ch < p.c; ch += gridDim.x) {
    double q = bn_merge(part, p.cpc, ch);
    if (threadIdx.x != 0) continue;
    double mean = sum[ch] / (double)m;
    double var = q / (double)m;
    double invstd = 1.0 / sqrt(var + (double)eps);
    double mo = (double)momentum, unb = m > 1 ? var * (double)m / (double)(m - 1) : var;
    if (sm) sm[ch] = (float)mean;
    if (si) si[ch] = (float)invstd;
    if (rm) rm[ch] = (float)((1.0 - mo) * (double)rm[ch] + mo * mean);
    if (rv) rv[ch] = (float)((1.0 - mo) * (double)rv[ch] + mo * unb);
    coef[ch] = (float)mean;
    coef[p.c + ch] = (float)(invstd * (double)gamma[ch]);
    coef[2 * (size_t)p.c + ch] = beta[ch];
  }
}

/* Eval mode: the coefficients from the running statistics, in f32. */
__global__ void bn_eval_coef_k(const float *gamma, const float *beta, const float *rm,
                               const float *rv, unsigned c, float eps, float *coef)
{
  MB_CU_FOR(unsigned, ch, c) {
    float invstd = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(rv[ch], eps)));
    coef[ch] = rm[ch];
    coef[c + ch] = __fmul_rn(invstd, gamma[ch]);
    coef[2 * (size_t)c + ch] = beta[ch];
  }
}

template <typename I, class Chan>
__global__ void bn_affine_k(const float *x, float *y, const float *coef, size_t c, Chan chan,
                            I total)
{
  MB_CU_FOR(I, e, total) {
    I ch = chan(e);
    y[e] = __fadd_rn(__fmul_rn(__fsub_rn(x[e], coef[ch]), coef[c + ch]), coef[2 * c + ch]);
  }
}

/* ---- backward ---- */

/* Per chunk: Σdy into part[g], Σdy·xhat into part[nchunks + g]. */
template <typename I>
__global__ void bn_bwd_sum_k(const float *x, const float *dy, const float *mean,
                             const float *invstd, BnPlan p, double *part)
{
  for (size_t g = blockIdx.x; g < p.nchunks; g += gridDim.x) {
    size_t c = g / p.cpc;
    BwdSums<I> f = {x, dy, (double)mean[c], (double)invstd[c], 0.0, 0.0};
    bn_chunk_for<I>(p, g, f);
    double s = mb_cu_block_reduce<NSum>(f.s);
    double t = mb_cu_block_reduce<NSum>(f.t);
    if (threadIdx.x == 0) {
      part[g] = s;
      part[p.nchunks + g] = t;
    }
  }
}

/* One block per channel: dgamma, dbeta and, when coef is set, the f32 coefficients of
 * dx (coef: k, mf, isf, c1, c2, c entries each). */
__global__ void bn_bwd_fin_k(const double *part, BnPlan p, const float *gamma, const float *mean,
                             const float *invstd, float *dg, float *db, float *coef)
{
  size_t m = (size_t)p.n * p.hw, c = p.c;
  for (unsigned ch = blockIdx.x; ch < p.c; ch += gridDim.x) {
    double sdy = bn_merge(part, p.cpc, ch);
    double sdyx = bn_merge(part + p.nchunks, p.cpc, ch);
    if (threadIdx.x != 0) continue;
    if (dg) dg[ch] = (float)sdyx;
    if (db) db[ch] = (float)sdy;
    if (!coef) continue;
    double is = (double)invstd[ch];
    coef[ch] = (float)((double)gamma[ch] * is);
    coef[c + ch] = mean[ch];
    coef[2 * c + ch] = (float)is;
    coef[3 * c + ch] = (float)(sdy / (double)m);
    coef[4 * c + ch] = (float)(sdyx / (double)m);
  }
}

/* dx = k·(dy − c1 − (x − mf)·isf·c2) in training mode, k·dy in eval mode. */
template <typename I, class Chan>
__global__ void bn_dx_k(const float *x, const float *dy, float *dx, const float *coef, int train,
                        size_t c, Chan chan, I total)
{
  MB_CU_FOR(I, e, total) {
    I ch = chan(e);
    float k = coef[ch], g = dy[e];
    if (train) {
      float mf = coef[c + ch], isf = coef[2 * c + ch], c1 = coef[3 * c + ch], c2 = coef[4 * c + ch];
      dx[e] = k * (g - c1 - (x[e] - mf) * isf * c2);
    } else {
      dx[e] = k * g;
    }
  }
}

/* ---- launchers ---- */

/* Scratch layout: f64 partials (nparts per chunk), f64 channel sums, then f32 coefs. */
static size_t bn_scratch(const BnPlan &p, unsigned nparts, unsigned ncoef)
{
  return (p.nchunks * nparts + p.c) * sizeof(double) + (size_t)p.c * ncoef * sizeof(float);
}

extern "C" size_t mb_cu_batchnorm_scratch(const mb_bn_args *a)
{
  BnPlan p = bn_plan(a->n, a->c, a->hw);
  return a->mode == MB_BN_EVAL ? bn_scratch(p, 0, 3) : bn_scratch(p, 1, 3);
}

extern "C" size_t mb_cu_batchnorm_bwd_scratch(const mb_bn_bwd_args *a)
{
  return bn_scratch(bn_plan(a->n, a->c, a->hw), 2, 5);
}

/* Elementwise launch over total elements: 32-bit indices and channel divisions when no
 * grid-stride index can wrap, else 64-bit ones. */
#define BN_ELTWISE(kernel, total, p, ...)                                                  \
  do {                                                                                     \
    unsigned g_ = mb_cu_blocks((total), MB_CU_THREADS);                                    \
    if (mb_cu_fits32((total), g_, MB_CU_THREADS)) {                                        \
      ChanOf32 ch_ = {fast_div((p).hw), fast_div((p).c)};                                  \
      kernel<unsigned, ChanOf32><<<g_, MB_CU_THREADS, 0, s>>>(__VA_ARGS__, (size_t)(p).c,  \
                                                              ch_, (unsigned)(total));     \
    } else {                                                                               \
      ChanOf64 ch_ = {(size_t)(p).hw, (size_t)(p).c};                                      \
      kernel<size_t, ChanOf64><<<g_, MB_CU_THREADS, 0, s>>>(__VA_ARGS__, (size_t)(p).c,    \
                                                            ch_, (size_t)(total));         \
    }                                                                                      \
  } while (0)

extern "C" void mb_cu_batchnorm(cudaStream_t s, const mb_bn_args *a, const float *x, float *y,
                                const float *gamma, const float *beta, float *rm, float *rv,
                                float *sm, float *si, void *scratch)
{
  BnPlan p = bn_plan(a->n, a->c, a->hw);
  size_t total = (size_t)p.n * p.c * p.hw;
  double *part = (double *)scratch;
  if (a->mode == MB_BN_EVAL) {
    float *coef = (float *)(part + p.c);
    bn_eval_coef_k<<<mb_cu_blocks(p.c, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(
        gamma, beta, rm, rv, p.c, a->eps, coef);
    BN_ELTWISE(bn_affine_k, total, p, x, y, coef);
    return;
  }
  double *sum = part + p.nchunks;
  float *coef = (float *)(sum + p.c);
  unsigned gc = mb_cu_blocks(p.nchunks, 1), gm = mb_cu_blocks(p.c, 1);
  unsigned tm = mb_cu_row_threads(p.cpc);   /* merge: a few warps over cpc partials */
  size_t sh = MB_CU_THREADS * sizeof(double);
  if (total < ((size_t)1 << 32)) {
    bn_sum_k<unsigned><<<gc, MB_CU_THREADS, sh, s>>>(x, p, part);
    bn_merge_k<<<gm, tm, tm * sizeof(double), s>>>(part, p, sum);
    bn_sqdev_k<unsigned><<<gc, MB_CU_THREADS, sh, s>>>(x, p, sum, part);
  } else {
    bn_sum_k<size_t><<<gc, MB_CU_THREADS, sh, s>>>(x, p, part);
    bn_merge_k<<<gm, tm, tm * sizeof(double), s>>>(part, p, sum);
    bn_sqdev_k<size_t><<<gc, MB_CU_THREADS, sh, s>>>(x, p, sum, part);
  }
  bn_train_fin_k<<<gm, tm, tm * sizeof(double), s>>>(part, p, sum, gamma, beta, rm, rv, sm, si,
                                                     a->eps, a->momentum, coef);
  BN_ELTWISE(bn_affine_k, total, p, x, y, coef);
}

extern "C" void mb_cu_batchnorm_bwd(cudaStream_t s, const mb_bn_bwd_args *a, const float *x,
                                    const float *dy, const float *gamma, const float *mean,
                                    const float *invstd, float *dx, float *dg, float *db,
                                    void *scratch)
{
  BnPlan p = bn_plan(a->n, a->c, a->hw);
  size_t total = (size_t)p.n * p.c * p.hw;
  double *part = (double *)scratch;
  float *coef = dx ? (float *)(part + 2 * p.nchunks + p.c) : NULL;
  unsigned gc = mb_cu_blocks(p.nchunks, 1), gm = mb_cu_blocks(p.c, 1);
  unsigned tm = mb_cu_row_threads(p.cpc);
  size_t sh = MB_CU_THREADS * sizeof(double);
  if (total < ((size_t)1 << 32))
    bn_bwd_sum_k<unsigned><<<gc, MB_CU_THREADS, sh, s>>>(x, dy, mean, invstd, p, part);
  else
    bn_bwd_sum_k<size_t><<<gc, MB_CU_THREADS, sh, s>>>(x, dy, mean, invstd, p, part);
  bn_bwd_fin_k<<<gm, tm, tm * sizeof(double), s>>>(part, p, gamma, mean, invstd, dg, db, coef);
  if (!dx) return;
  BN_ELTWISE(bn_dx_k, total, p, x, dy, dx, coef, a->mode == MB_BN_TRAIN);
}

/* ---- layer norm over the last axis of x[rows][c] ----
 * One block per row (grid-stride over rows): f64 thread-strided partials, then the fixed
 * tree of mb_cu_block_reduce; the mean first, then the squared deviations, as the oracle.
 * dgamma/dbeta in two passes: one thread per (block of LN_BLOCK rows, column) sums its
 * rows in order into f64 partials, then one per column adds the blocks in order. */
#define LN_BLOCK 64u

__global__ void ln_fwd_k(const float *x, float *y, const float *gamma, const float *beta,
                         float *sm, float *sr, int rows, int c, float eps)
{
  for (long r = blockIdx.x; r < rows; r += gridDim.x) {
    const float *xr = x + (size_t)r * (size_t)c;
    float *yr = y + (size_t)r * (size_t)c;
    double s = 0.0;
    for (int j = threadIdx.x; j < c; j += blockDim.x) s += (double)xr[j];
    const double mean = mb_cu_block_reduce<NSum>(s) / (double)c;
    double q = 0.0;
    for (int j = threadIdx.x; j < c; j += blockDim.x) {
      const double d = (double)xr[j] - mean;
      q += d * d;
    }
    const double rstd = 1.0 / sqrt(mb_cu_block_reduce<NSum>(q) / (double)c + (double)eps);
    if (threadIdx.x == 0) {
      if (sm) sm[r] = (float)mean;
      if (sr) sr[r] = (float)rstd;
    }
    /* y may alias x: the row was read in full before the reductions' barriers */
    for (int j = threadIdx.x; j < c; j += blockDim.x) {
      const float xh = (float)(((double)xr[j] - mean) * rstd);
      yr[j] = xh * gamma[j] + beta[j];
    }
  }
}

__global__ void ln_bwd_dx_k(const float *x, const float *dy, const float *gamma, const float *mean,
                            const float *rstd, float *dx, int rows, int c)
{
  for (long r = blockIdx.x; r < rows; r += gridDim.x) {
    const size_t row = (size_t)r * (size_t)c;
    const double m = (double)mean[r], s = (double)rstd[r];
    double sg = 0.0, sgx = 0.0;
    for (int j = threadIdx.x; j < c; j += blockDim.x) {
      const double g = (double)dy[row + j] * (double)gamma[j];
      sg += g;
      sgx += g * (((double)x[row + j] - m) * s);
    }
    const double mg = mb_cu_block_reduce<NSum>(sg) / (double)c;
    const double mgx = mb_cu_block_reduce<NSum>(sgx) / (double)c;
    for (int j = threadIdx.x; j < c; j += blockDim.x) {   /* dx may alias dy */
      const double g = (double)dy[row + j] * (double)gamma[j];
      const double xh = ((double)x[row + j] - m) * s;
      dx[row + j] = (float)(s * (g - mg - xh * mgx));
    }
  }
}

__global__ void ln_bwd_cols_k(const float *x, const float *dy, const float *mean, const float *rstd,
                              double *part, size_t rows, size_t c, size_t nblk)
{
  MB_CU_FOR(size_t, i, nblk * c) {
    const size_t b = i / c, j = i - b * c;
    const size_t r1 = (b + 1) * LN_BLOCK < rows ? (b + 1) * LN_BLOCK : rows;
    double sg = 0.0, sb = 0.0;
    for (size_t r = b * LN_BLOCK; r < r1; r++) {
      const double d = (double)dy[r * c + j];
      sg += d * (((double)x[r * c + j] - (double)mean[r]) * (double)rstd[r]);
      sb += d;
    }
    part[b * 2 * c + j] = sg;
    part[b * 2 * c + c + j] = sb;
  }
}

__global__ void ln_bwd_final_k(const double *part, float *dg, float *db, size_t c, size_t nblk)
{
  MB_CU_FOR(size_t, j, c) {
    double sg = 0.0, sb = 0.0;
    for (size_t b = 0; b < nblk; b++) {
      sg += part[b * 2 * c + j];
      sb += part[b * 2 * c + c + j];
    }
    if (dg) dg[j] = (float)sg;
    if (db) db[j] = (float)sb;
  }
}

extern "C" void mb_cu_layernorm(cudaStream_t s, const mb_ln_args *a, const float *x, float *y,
                                const float *gamma, const float *beta, float *sm, float *sr)
{
  unsigned t = mb_cu_row_threads((size_t)a->c);
  ln_fwd_k<<<mb_cu_blocks((size_t)a->rows, 1), t, t * sizeof(double), s>>>(x, y, gamma, beta, sm,
                                                                           sr, a->rows, a->c,
                                                                           a->eps);
}

static size_t ln_nblk(const mb_ln_bwd_args *a)
{
  return ((size_t)a->rows + LN_BLOCK - 1) / LN_BLOCK;
}

extern "C" size_t mb_cu_layernorm_bwd_scratch(const mb_ln_bwd_args *a)
{
  return ln_nblk(a) * 2 * (size_t)a->c * sizeof(double);
}

extern "C" void mb_cu_layernorm_bwd(cudaStream_t s, const mb_ln_bwd_args *a, const float *x,
                                    const float *dy, const float *gamma, const float *mean,
                                    const float *rstd, float *dx, float *dg, float *db,
                                    void *scratch)
{
  const size_t c = (size_t)a->c, nblk = ln_nblk(a);
  /* the column sums first: dx may alias dy, which they read (stream order) */
  if (dg || db) {
    double *part = (double *)scratch;
    ln_bwd_cols_k<<<mb_cu_blocks(nblk * c, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(
      x, dy, mean, rstd, part, (size_t)a->rows, c, nblk);
    ln_bwd_final_k<<<mb_cu_blocks(c, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(part, dg, db, c, nblk);
  }
  if (!dx) return;
  unsigned t = mb_cu_row_threads(c);
  ln_bwd_dx_k<<<mb_cu_blocks((size_t)a->rows, 1), t, t * sizeof(double), s>>>(x, dy, gamma, mean,
                                                                              rstd, dx, a->rows,
                                                                              a->c);
}
