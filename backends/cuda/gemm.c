/* GEMM through cuBLAS.  cuBLAS is column-major; a row-major M×N matrix C with row
 * stride ldc is the column-major N×M matrix Cᵀ with the same leading dimension, so
 * C = α·op(A)·op(B) + β·C is computed as Cᵀ = α·op(B)ᵀ·op(A)ᵀ + β·Cᵀ: swap A/B and
 * M/N, keep the transpose flags.  β == 0 does not read C (cuBLAS's contract), so NaN
 * in C does not propagate.  The handle runs in CUBLAS_DEFAULT_MATH (no TF32). */
#include "cuda_internal.h"

void cu_gemm(mb_backend *be, const mb_gemm_args *a)
{
  if (!cu_begin(be, "gemm")) return;
  cublasHandle_t h = cu_of(be)->blas;
  cublasOperation_t ta = a->trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t tb = a->trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const float *A = cu_ptr(a->a), *B = cu_ptr(a->b);
  float *C = cu_ptr(a->c);
  cublasStatus_t st;
  if (a->batch == 1)
    st = cublasSgemm(h, tb, ta, a->n, a->m, a->k, &a->alpha, B, a->ldb, A, a->lda, &a->beta, C,
                     a->ldc);
  else
    st = cublasSgemmStridedBatched(h, tb, ta, a->n, a->m, a->k, &a->alpha, B, a->ldb,
                                   (long long)a->stride_b, A, a->lda, (long long)a->stride_a,
                                   &a->beta, C, a->ldc, (long long)a->stride_c, a->batch);
  if (st != CUBLAS_STATUS_SUCCESS) {
    (void)cudaGetLastError();
    cu_fail(be, st == CUBLAS_STATUS_ALLOC_FAILED ? MB_OOM : MB_DEVICE_ERROR, "gemm",
            "%s: %s (%s) M=%d N=%d K=%d batch=%d", a->batch == 1 ? "cublasSgemm"
            : "cublasSgemmStridedBatched", cublasGetStatusName(st), cublasGetStatusString(st),
            a->m, a->n, a->k, a->batch);
  }
}
