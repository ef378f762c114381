/* GEMM oracle: every dot product accumulated in double (products of two floats are
 * exact in double), alpha and beta applied in double, one rounding to f32 at the end. */
#include "ref_backend.h"

#include <stdlib.h>

/* beta == 0: C is not read, so NaN or garbage there does not propagate. */
static inline void store(float *c, double acc, double alpha, double beta)
{
  *c = (float)(beta == 0.0 ? alpha * acc : alpha * acc + beta * (double)*c);
}

void ref_gemm(mb_backend *be, const mb_gemm_args *a)
{
  if (be->status != MB_OK) return;
  const int M = a->m, N = a->n, K = a->k;
  /* op(B) packed transposed (N×K) and one row of op(A), so every dot product reads
   * two contiguous arrays in k order. */
  float *bt = malloc((size_t)N * (size_t)K * sizeof *bt);
  float *arow = malloc((size_t)K * sizeof *arow);
  if (!bt || !arow) {
    free(bt);
    free(arow);
    host_fail(be, MB_OOM, "gemm: cannot allocate %zu bytes of packing space",
             ((size_t)N + 1) * (size_t)K * sizeof(float));
    return;
  }
  const double alpha = a->alpha, beta = a->beta;
  for (int bi = 0; bi < a->batch; bi++) {
    const float *A = host_f32(a->a) + (size_t)bi * (size_t)a->stride_a;
    const float *B = host_f32(a->b) + (size_t)bi * (size_t)a->stride_b;
    float *C = host_f32(a->c) + (size_t)bi * (size_t)a->stride_c;
    for (int j = 0; j < N; j++)
      for (int k = 0; k < K; k++)
        bt[(size_t)j * K + k] = a->trans_b ? B[(size_t)j * a->ldb + k] : B[(size_t)k * a->ldb + j];
    for (int i = 0; i < M; i++) {
      for (int k = 0; k < K; k++)
        arow[k] = a->trans_a ? A[(size_t)k * a->lda + i] : A[(size_t)i * a->lda + k];
      float *c = C + (size_t)i * a->ldc;
      int j = 0;
      /* four columns at a time: four independent sums, each still in plain k order,
       * so the result is that of the one-column loop, only faster */
      for (; j + 4 <= N; j += 4) {
        const float *b0 = bt + (size_t)j * K, *b1 = b0 + K, *b2 = b1 + K, *b3 = b2 + K;
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        for (int k = 0; k < K; k++) {
          const double av = arow[k];
          s0 += av * (double)b0[k];
          s1 += av * (double)b1[k];
          s2 += av * (double)b2[k];
          s3 += av * (double)b3[k];
        }
        store(c + j, s0, alpha, beta);
        store(c + j + 1, s1, alpha, beta);
        store(c + j + 2, s2, alpha, beta);
        store(c + j + 3, s3, alpha, beta);
      }
      for (; j < N; j++) {
        const float *b = bt + (size_t)j * K;
        double acc = 0.0;
        for (int k = 0; k < K; k++) acc += (double)arow[k] * (double)b[k];
        store(c + j, acc, alpha, beta);
      }
    }
  }
  free(bt);
  free(arow);
}
