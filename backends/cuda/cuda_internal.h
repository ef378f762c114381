/* Shared state of the CUDA backend's host files (not part of the public API). */
#ifndef MB_CUDA_INTERNAL_H
#define MB_CUDA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "mb/backend.h"
#include "launch.h"

#define CU_SEG_CACHE 4   /* distinct segment tables kept on the device */

typedef struct {
  size_t *offs;          /* host copy of the key (nseg + 1 entries); NULL: slot empty */
  int nseg;
  void *dev;             /* chunks followed by first[] */
  mb_cu_segtab tab;
  unsigned long long used;
} cu_segtab_slot;

typedef struct {
  mb_backend base;       /* first: the core sees an mb_backend */
  cudaStream_t stream;
  cublasHandle_t blas;
  void *scratch;         /* reduction partials; reused because the stream is in order */
  size_t scratch_bytes;
  cu_segtab_slot seg[CU_SEG_CACHE];
  unsigned long long seg_clock;
} cu_backend;

typedef struct {
  mb_buf base;           /* first: .bytes */
  void *ptr;
} cu_buf;

struct mb_timer {
  cudaEvent_t start, stop;
};

static inline cu_backend *cu_of(mb_backend *be) { return (cu_backend *)be; }

/* Device address of a view; NULL for the null view. */
static inline void *cu_ptr(mb_view v)
{
  return v.buf ? (char *)((cu_buf *)v.buf)->ptr + v.off * 4 : NULL;
}

/* Records the first error (sticky) as "<op>: <message>". */
void cu_fail(mb_backend *be, mb_status st, const char *op, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 1 if e is cudaSuccess; otherwise records "<op>: <call>: error N (name: text)", clears
 * the runtime's last-error state and returns 0. */
int cu_check(mb_backend *be, const char *op, const char *call, cudaError_t e);
/* After kernel launches: picks up launch-configuration errors. */
int cu_launched(mb_backend *be, const char *op);
/* 1 if ops may run: status is OK and this thread targets the backend's device. */
int cu_begin(mb_backend *be, const char *op);

/* Device scratch of at least `bytes`; NULL after recording an error. */
void *cu_scratch(mb_backend *be, const char *op, size_t bytes);
/* Device chunk table for a host segment table; NULL after recording an error. */
const mb_cu_segtab *cu_segtab(mb_backend *be, const char *op, const size_t *offs, int nseg);
void cu_segtab_release(cu_backend *cb);

/* The op table's entries, one family per file. */
mb_status cu_alloc(mb_backend *be, size_t bytes, mb_buf **out);
void cu_free(mb_backend *be, mb_buf *buf);
void cu_upload(mb_backend *be, mb_view dst, const void *src, size_t bytes);
void cu_download(mb_backend *be, void *dst, mb_view src, size_t bytes);
void cu_copy(mb_backend *be, mb_view dst, mb_view src, size_t n);
void cu_fill(mb_backend *be, mb_view dst, size_t n, uint32_t bits);
void cu_gemm(mb_backend *be, const mb_gemm_args *a);
void cu_unary(mb_backend *be, mb_unary_op op, mb_view x, mb_view y, size_t n, float a, float b);
void cu_binary(mb_backend *be, mb_binary_op op, mb_view x1, mb_view x2, mb_view y, size_t n,
               float a, float b);
void cu_where(mb_backend *be, mb_view cond, mb_view x1, mb_view x2, mb_view y, size_t n);
void cu_bcast(mb_backend *be, mb_bcast_op op, mb_view x, mb_view v, mb_view y, size_t outer,
              size_t mid, size_t inner);
void cu_reduce(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y, size_t outer, size_t mid,
               size_t inner);
void cu_seg_reduce(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y, const size_t *offs,
                   int nseg);
void cu_seg_bcast(mb_backend *be, mb_segbcast_op op, mb_view x, mb_view v, mb_view y,
                  const size_t *offs, int nseg);
void cu_softmax_xent(mb_backend *be, const mb_xent_args *a);
void cu_gather_rows(mb_backend *be, const mb_gather_args *a);
void cu_optim(mb_backend *be, const mb_optim_args *a);
void cu_rng(mb_backend *be, mb_rng_dist d, uint64_t seed, uint64_t stream, mb_view y, size_t n,
            float p0, float p1);
void cu_im2col(mb_backend *be, const mb_conv_geom *g, mb_view x, mb_view cols);
void cu_col2im(mb_backend *be, const mb_conv_geom *g, mb_view cols, mb_view dx);
void cu_permute(mb_backend *be, mb_view x, mb_view y, size_t outer, size_t mid, size_t inner);
void cu_batchnorm(mb_backend *be, const mb_bn_args *a);
void cu_batchnorm_bwd(mb_backend *be, const mb_bn_bwd_args *a);
void cu_pool(mb_backend *be, const mb_pool_args *a);
void cu_pool_bwd(mb_backend *be, const mb_pool_args *a);
mb_timer *cu_timer_begin(mb_backend *be);
void cu_timer_end(mb_backend *be, mb_timer *t);
double cu_timer_ms(mb_backend *be, mb_timer *t);
void cu_timer_free(mb_backend *be, mb_timer *t);

#endif
