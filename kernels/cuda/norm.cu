/* Batch norm over NCHW x[n][c][hw], per channel over its n·hw elements.  One block
 * per channel for the statistics and the backward sums: thread-strided f64 partials
 * and a fixed shared-memory tree (no atomics, identical bits on every run), the mean
 * first and then the sum of squared deviations, like the oracle.  Eval mode is one
 * thread per element.  y may alias x and dx may alias dy: each element is read and
 * then written by the same thread. */
#include "launch.h"
#include "block.cuh"

struct NSum {
  typedef double acc;
  __device__ static acc comb(acc a, acc b) { return a + b; }
};

__device__ __forceinline__ size_t bn_at(size_t c, size_t hw, size_t ch, size_t j)
{
  return ((j / hw) * c + ch) * hw + j % hw;
}

__global__ void bn_train_k(const float *x, float *y, const float *gamma, const float *beta,
                           float *rm, float *rv, float *sm, float *si, int n, int c, int hw,
                           float eps, float momentum)
{
  size_t m = (size_t)n * (size_t)hw;
  for (int ch = blockIdx.x; ch < c; ch += gridDim.x) {
    double s = 0.0;
    for (size_t j = threadIdx.x; j < m; j += blockDim.x) s += (double)x[bn_at(c, hw, ch, j)];
    double mean = mb_cu_block_reduce<NSum>(s) / (double)m;
    double q = 0.0;
    for (size_t j = threadIdx.x; j < m; j += blockDim.x) {
      double d = (double)x[bn_at(c, hw, ch, j)] - mean;
      q += d * d;
    }
    double var = mb_cu_block_reduce<NSum>(q) / (double)m;
    double invstd = 1.0 / sqrt(var + (double)eps);
    if (threadIdx.x == 0) {
      double mo = (double)momentum, unb = m > 1 ? var * (double)m / (double)(m - 1) : var;
      if (sm) sm[ch] = (float)mean;
      if (si) si[ch] = (float)invstd;
      if (rm) rm[ch] = (float)((1.0 - mo) * (double)rm[ch] + mo * mean);
      if (rv) rv[ch] = (float)((1.0 - mo) * (double)rv[ch] + mo * unb);
    }
    float mf = (float)mean, k = (float)(invstd * (double)gamma[ch]), b = beta[ch];
    for (size_t j = threadIdx.x; j < m; j += blockDim.x) {
      size_t e = bn_at(c, hw, ch, j);
      y[e] = __fadd_rn(__fmul_rn(__fsub_rn(x[e], mf), k), b);
    }
  }
}

__global__ void bn_eval_k(const float *x, float *y, const float *gamma, const float *beta,
                          const float *rm, const float *rv, int c, int hw, float eps, size_t total)
{
  MB_CU_FOR(size_t, e, total) {
    size_t ch = (e / (size_t)hw) % (size_t)c;
    float invstd = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(rv[ch], eps)));
    y[e] = __fadd_rn(__fmul_rn(__fsub_rn(x[e], rm[ch]), __fmul_rn(invstd, gamma[ch])), beta[ch]);
  }
}

__global__ void bn_bwd_k(const float *x, const float *dy, const float *gamma, const float *mean,
                         const float *invstd, float *dx, float *dg, float *db, int n, int c,
                         int hw, int train)
{
  size_t m = (size_t)n * (size_t)hw;
  for (int ch = blockIdx.x; ch < c; ch += gridDim.x) {
    double mu = (double)mean[ch], is = (double)invstd[ch];
    double s = 0.0, t = 0.0;
    for (size_t j = threadIdx.x; j < m; j += blockDim.x) {
      size_t e = bn_at(c, hw, ch, j);
      s += (double)dy[e];
      t += (double)dy[e] * (((double)x[e] - mu) * is);
    }
    double sdy = mb_cu_block_reduce<NSum>(s);
    double sdyx = mb_cu_block_reduce<NSum>(t);
    if (threadIdx.x == 0) {
      if (dg) dg[ch] = (float)sdyx;
      if (db) db[ch] = (float)sdy;
    }
    if (!dx) continue;
    float k = (float)((double)gamma[ch] * is), mf = (float)mu, isf = (float)is;
    float c1 = (float)(sdy / (double)m), c2 = (float)(sdyx / (double)m);
    for (size_t j = threadIdx.x; j < m; j += blockDim.x) {
      size_t e = bn_at(c, hw, ch, j);
      float g = dy[e];
      dx[e] = train ? k * (g - c1 - (x[e] - mf) * isf * c2) : k * g;
    }
  }
}

extern "C" void mb_cu_batchnorm(cudaStream_t s, const mb_bn_args *a, const float *x, float *y,
                                const float *gamma, const float *beta, float *rm, float *rv,
                                float *sm, float *si)
{
  if (a->mode == MB_BN_EVAL) {
    size_t total = (size_t)a->n * a->c * (size_t)a->hw;
    bn_eval_k<<<mb_cu_blocks(total, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(
        x, y, gamma, beta, rm, rv, a->c, a->hw, a->eps, total);
    return;
  }
  unsigned t = mb_cu_row_threads((size_t)a->n * (size_t)a->hw);
  bn_train_k<<<mb_cu_blocks((size_t)a->c, 1), t, t * sizeof(double), s>>>(
      x, y, gamma, beta, rm, rv, sm, si, a->n, a->c, a->hw, a->eps, a->momentum);
}

extern "C" void mb_cu_batchnorm_bwd(cudaStream_t s, const mb_bn_bwd_args *a, const float *x,
                                    const float *dy, const float *gamma, const float *mean,
                                    const float *invstd, float *dx, float *dg, float *db)
{
  unsigned t = mb_cu_row_threads((size_t)a->n * (size_t)a->hw);
  bn_bwd_k<<<mb_cu_blocks((size_t)a->c, 1), t, t * sizeof(double), s>>>(
      x, dy, gamma, mean, invstd, dx, dg, db, a->n, a->c, a->hw, a->mode == MB_BN_TRAIN);
}
