/* GEMM through CLBlast (row-major C API).  Views become CLBlast's element
 * offsets.  beta == 0 leaves C unread: CLBlast's kernels test IsZero(beta)
 * before touching C (checked with NaN-filled C on every path), so no fill first. */
#include "cl_backend.h"

#include <clblast_c.h>
#include <stdlib.h>

static const char *status_name(CLBlastStatusCode s)
{
  switch (s) {
  case CLBlastOpenCLCompilerNotAvailable: return "OpenCL compiler not available";
  case CLBlastTempBufferAllocFailure: return "temporary buffer allocation failed";
  case CLBlastOpenCLOutOfResources: return "out of resources";
  case CLBlastOpenCLOutOfHostMemory: return "out of host memory";
  case CLBlastOpenCLBuildProgramFailure: return "kernel build failed";
  case CLBlastInvalidDimension: return "invalid dimension";
  case CLBlastInvalidLeadDimA: return "invalid lda";
  case CLBlastInvalidLeadDimB: return "invalid ldb";
  case CLBlastInvalidLeadDimC: return "invalid ldc";
  case CLBlastInsufficientMemoryA: return "buffer A too small";
  case CLBlastInsufficientMemoryB: return "buffer B too small";
  case CLBlastInsufficientMemoryC: return "buffer C too small";
  case CLBlastInvalidBatchCount: return "invalid batch count";
  case CLBlastInvalidLocalMemUsage: return "not enough local memory";
  case CLBlastDatabaseError: return "no tuning database entry";
  case CLBlastNotImplemented: return "not implemented";
  default: return s > -1000 ? mb_cl_errstr((cl_int)s) : "CLBlast error";
  }
}

static int check(mb_cl *cl, CLBlastStatusCode s, const char *call)
{
  if (s == CLBlastSuccess) return 1;
  int oom = s == CLBlastTempBufferAllocFailure || s == CLBlastOpenCLOutOfHostMemory;
  mb_status st = oom ? MB_OOM : MB_DEVICE_ERROR;
  mb_cl_fail(cl, st, "gemm: %s: %s (%d)", call, status_name(s), (int)s);
  return 0;
}

/* Batch strides that leave gaps between the stored matrices.  CLBlast 1.5.3's
 * strided-batched GEMM gives wrong sums for them on its indirect path when the
 * sizes need no padding to its tiles (which tile sizes do depends on the tuning:
 * docs/opencl-tuning.md); its batched call with per-item offsets does not. */
static int gapped(const mb_gemm_args *a)
{
  long rows_a = a->trans_a ? a->k : a->m, rows_b = a->trans_b ? a->n : a->k;
  return a->stride_a != rows_a * a->lda || a->stride_b != rows_b * a->ldb ||
         a->stride_c != (long)a->m * a->ldc;
}

static void batched_by_offsets(mb_cl *cl, const mb_gemm_args *a, CLBlastTranspose ta,
                               CLBlastTranspose tb)
{
  size_t n = (size_t)a->batch;
  size_t *offs = malloc(3 * n * sizeof *offs);
  float *scal = malloc(2 * n * sizeof *scal);
  if (!offs || !scal) {
    free(offs);
    free(scal);
    mb_cl_fail(cl, MB_OOM, "gemm: out of host memory for %zu batch offsets", n);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    offs[i] = a->a.off + i * (size_t)a->stride_a;
    offs[n + i] = a->b.off + i * (size_t)a->stride_b;
    offs[2 * n + i] = a->c.off + i * (size_t)a->stride_c;
    scal[i] = a->alpha;
    scal[n + i] = a->beta;
  }
  check(cl, CLBlastSgemmBatched(CLBlastLayoutRowMajor, ta, tb, (size_t)a->m, (size_t)a->n,
                                (size_t)a->k, scal, mb_cl_mem(a->a), offs, (size_t)a->lda,
                                mb_cl_mem(a->b), offs + n, (size_t)a->ldb, scal + n,
                                mb_cl_mem(a->c), offs + 2 * n, (size_t)a->ldc, n, &cl->queue, NULL),
        "CLBlastSgemmBatched");
  free(offs);
  free(scal);
}

void mb_opencl_gemm(mb_backend *be, const mb_gemm_args *a)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl)) return;
  if (a->m < 1 || a->n < 1 || a->k < 1 || a->batch < 1) {
    mb_cl_fail(cl, MB_BAD_ARG, "gemm: bad shape M=%d N=%d K=%d batch=%d", a->m, a->n, a->k,
               a->batch);
    return;
  }
  if (a->batch > 1 && (a->stride_a < 0 || a->stride_b < 0 || a->stride_c < 0)) {
    mb_cl_fail(cl, MB_UNSUPPORTED, "gemm: negative batch strides are not supported");
    return;
  }
  CLBlastTranspose ta = a->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
  CLBlastTranspose tb = a->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
  cl_mem A = mb_cl_mem(a->a), B = mb_cl_mem(a->b), C = mb_cl_mem(a->c);
  size_t m = (size_t)a->m, n = (size_t)a->n, k = (size_t)a->k;
  size_t lda = (size_t)a->lda, ldb = (size_t)a->ldb, ldc = (size_t)a->ldc;
  size_t c_span = (m - 1) * ldc + n;

  if (a->batch == 1) {
    check(cl, CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, m, n, k, a->alpha, A, a->a.off, lda, B,
                           a->b.off, ldb, a->beta, C, a->c.off, ldc, &cl->queue, NULL),
          "CLBlastSgemm");
  } else if ((size_t)a->stride_c >= c_span && !gapped(a)) {
    check(cl, CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, ta, tb, m, n, k, a->alpha, A,
                                         a->a.off, lda, (size_t)a->stride_a, B, a->b.off, ldb,
                                         (size_t)a->stride_b, a->beta, C, a->c.off, ldc,
                                         (size_t)a->stride_c, (size_t)a->batch, &cl->queue, NULL),
          "CLBlastSgemmStridedBatched");
  } else if ((size_t)a->stride_c >= c_span) {
    batched_by_offsets(cl, a, ta, tb);
  } else {
    /* Batch items share C elements (stride_c 0 accumulates): run them one after
     * another, in batch order, as a sequential loop would. */
    for (int i = 0; i < a->batch && mb_cl_ok(cl); i++) {
      size_t ia = (size_t)i;
      check(cl, CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, m, n, k, a->alpha, A,
                             a->a.off + ia * (size_t)a->stride_a, lda, B,
                             a->b.off + ia * (size_t)a->stride_b, ldb, a->beta, C,
                             a->c.off + ia * (size_t)a->stride_c, ldc, &cl->queue, NULL),
            "CLBlastSgemm");
    }
  }
}
