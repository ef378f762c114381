/* GEMM through OpenBLAS cblas_sgemm (row-major); batches are a loop of calls. */
#include "cpu_backend.h"

#include <cblas.h>

void cpu_gemm(mb_backend *be, const mb_gemm_args *a)
{
  if (be->status != MB_OK) return;
  const enum CBLAS_TRANSPOSE ta = a->trans_a ? CblasTrans : CblasNoTrans;
  const enum CBLAS_TRANSPOSE tb = a->trans_b ? CblasTrans : CblasNoTrans;
  const float *A = host_f32(a->a), *B = host_f32(a->b);
  float *C = host_f32(a->c);
  /* OpenBLAS scales C by beta before accumulating; with beta == 0 it writes zeros
   * without reading C, so NaN there does not propagate (checked by the unit tests). */
  for (int bi = 0; bi < a->batch; bi++)
    cblas_sgemm(CblasRowMajor, ta, tb, a->m, a->n, a->k, a->alpha,
                A + (size_t)bi * (size_t)a->stride_a, a->lda,
                B + (size_t)bi * (size_t)a->stride_b, a->ldb, a->beta,
                C + (size_t)bi * (size_t)a->stride_c, a->ldc);
}
