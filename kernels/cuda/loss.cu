/* softmax_xent: one block per row, in f64 like the oracle: the row max is subtracted
 * before exp, lse = max + log(sum), p = exp(x - lse).  dlogits may be the logits buffer:
 * each thread reads its own columns before the (barrier-separated) write pass, and
 * the label's logit is read at the start. */
#include "launch.h"
#include "block.cuh"

struct XMax {   /* plain max: a NaN logit makes the whole row NaN through exp anyway */
  typedef float acc;
  __device__ static acc comb(acc a, acc b) { return b > a ? b : a; }
};

struct XSum {
  typedef double acc;
  __device__ static acc comb(acc a, acc b) { return a + b; }
};

__global__ void xent_k(const float *logits, const int *labels, float *loss, float *dlogits,
                       float *probs, int rows, int cols, float scale)
{
  for (long r = blockIdx.x; r < rows; r += gridDim.x) {
    size_t row = (size_t)r * (size_t)cols;
    const float *x = logits + row;
    int lab = labels[r];
    bool has_lab = lab >= 0 && lab < cols;
    float xl = has_lab ? x[lab] : __int_as_float(0x7fc00000);

    float m = mb_cu_ninf();
    for (long j = threadIdx.x; j < cols; j += blockDim.x) m = XMax::comb(m, x[j]);
    m = mb_cu_block_reduce<XMax>(m);

    double sum = 0.0;
    for (long j = threadIdx.x; j < cols; j += blockDim.x) sum += exp((double)x[j] - (double)m);
    sum = mb_cu_block_reduce<XSum>(sum);

    double lse = (double)m + log(sum);
    if (loss && threadIdx.x == 0) loss[r] = (float)(lse - (double)xl);
    if (dlogits || probs) {
      for (long j = threadIdx.x; j < cols; j += blockDim.x) {
        double p = exp((double)x[j] - lse);
        if (probs) probs[row + j] = (float)p;
        if (dlogits) dlogits[row + j] = (float)((double)scale * (p - (j == lab ? 1.0 : 0.0)));
      }
    }
  }
}

extern "C" void mb_cu_softmax_xent(cudaStream_t s, const float *logits, const int *labels,
                                   float *loss, float *dlogits, float *probs, int rows, int cols,
                                   float scale)
{
  unsigned t = mb_cu_row_threads((size_t)cols);
  xent_k<<<mb_cu_blocks((size_t)rows, 1), t, t * sizeof(double), s>>>(logits, labels, loss, dlogits,
                                                                        probs, rows, cols, scale);
}

/* Row softmax and its backward: one block per row, f64 sums as the oracle.  A NaN, +inf,
 * or a row of -inf only makes the sum NaN, hence the whole row (the contract).  y may
 * alias x and dx may alias dy: each thread reads its own columns before the barriers of
 * the reductions, then writes them. */
__global__ void softmax_k(const float *x, float *y, int rows, int cols)
{
  for (long r = blockIdx.x; r < rows; r += gridDim.x) {
    const size_t row = (size_t)r * (size_t)cols;
    float m = mb_cu_ninf();
    for (long j = threadIdx.x; j < cols; j += blockDim.x) m = XMax::comb(m, x[row + j]);
    m = mb_cu_block_reduce<XMax>(m);
    double sum = 0.0;
    for (long j = threadIdx.x; j < cols; j += blockDim.x)
      sum += exp((double)x[row + j] - (double)m);
    const double inv = 1.0 / mb_cu_block_reduce<XSum>(sum);
    for (long j = threadIdx.x; j < cols; j += blockDim.x)
      y[row + j] = (float)(exp((double)x[row + j] - (double)m) * inv);
  }
}

__global__ void softmax_bwd_k(const float *y, const float *dy, float *dx, int rows, int cols)
{
  for (long r = blockIdx.x; r < rows; r += gridDim.x) {
    const size_t row = (size_t)r * (size_t)cols;
    double s = 0.0;
    for (long j = threadIdx.x; j < cols; j += blockDim.x)
      s += (double)dy[row + j] * (double)y[row + j];
    s = mb_cu_block_reduce<XSum>(s);
    for (long j = threadIdx.x; j < cols; j += blockDim.x)
      dx[row + j] = (float)((double)y[row + j] * ((double)dy[row + j] - s));
  }
}

extern "C" void mb_cu_softmax(cudaStream_t s, const float *x, float *y, int rows, int cols)
{
  unsigned t = mb_cu_row_threads((size_t)cols);
  softmax_k<<<mb_cu_blocks((size_t)rows, 1), t, t * sizeof(double), s>>>(x, y, rows, cols);
}

extern "C" void mb_cu_softmax_bwd(cudaStream_t s, const float *y, const float *dy, float *dx,
                                  int rows, int cols)
{
  unsigned t = mb_cu_row_threads((size_t)cols);
  softmax_bwd_k<<<mb_cu_blocks((size_t)rows, 1), t, t * sizeof(double), s>>>(y, dy, dx, rows, cols);
}
