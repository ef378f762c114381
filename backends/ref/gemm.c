/* GEMM oracle: every dot product accumulated in double (products of two floats are
 * exact in double), alpha and beta applied in double, one rounding to f32 at the end. */
#include "ref_backend.h"

#include <stdlib.h>

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
    ref_fail(be, MB_OOM, "gemm: cannot allocate %zu bytes of packing space",
             ((size_t)N + 1) * (size_t)K * sizeof(float));
    return;
  }
  const double alpha = a->alpha, beta = a->beta;
  for (int bi = 0; bi < a->batch; bi++) {
    const float *A = ref_f32(a->a) + (size_t)bi * (size_t)a->stride_a;
    const float *B = ref_f32(a->b) + (size_t)bi * (size_t)a->stride_b;
    float *C = ref_f32(a->c) + (size_t)bi * (size_t)a->stride_c;
    for (int j = 0; j < N; j++)
      for (int k = 0; k < K; k++)
        bt[(size_t)j * K + k] = a->trans_b ? B[(size_t)j * a->ldb + k] : B[(size_t)k * a->ldb + j];
    for (int i = 0; i < M; i++) {
      for (int k = 0; k < K; k++)
        arow[k] = a->trans_a ? A[(size_t)k * a->lda + i] : A[(size_t)i * a->lda + k];
      float *c = C + (size_t)i * a->ldc;
      for (int j = 0; j < N; j++) {
        const float *b = bt + (size_t)j * K;
        double acc = 0.0;
        for (int k = 0; k < K; k++) acc += (double)arow[k] * (double)b[k];
        /* beta == 0: C is not read, so NaN or garbage there does not propagate */
        c[j] = (float)(beta == 0.0 ? alpha * acc : alpha * acc + beta * (double)c[j]);
      }
    }
  }
  free(bt);
  free(arow);
}
