/* Shared state of the CUDA backend's host files (not part of the public API). */
#ifndef MB_CUDA_INTERNAL_H
#define MB_CUDA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "mb/backend.h"
#include "launch.h"

#ifdef MB_HAVE_CUDNN
#include <cudnn.h>

#define CU_CONV_CACHE 64   /* (op, geometry) plans kept: ResNet-18 needs about 35 */

typedef struct {
  mb_conv_geom g;        /* key, with cout and kind; xd == NULL: slot empty */
  int cout, kind;
  cudnnTensorDescriptor_t xd, yd;
  cudnnFilterDescriptor_t wd;
  cudnnConvolutionDescriptor_t cd;
  int algo;              /* the cudnnConvolution*Algo_t of kind */
  size_t ws;             /* workspace bytes */
  unsigned long long used;
} cu_conv_plan;
#endif

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
  void *scratch;         /* reduction partials, overlapping copies; reused because the stream is in order */
  size_t scratch_bytes;
  cu_segtab_slot seg[CU_SEG_CACHE];
  unsigned long long seg_clock;
  int counted;           /* counted among the device's open instances (cu_close) */
#ifdef MB_HAVE_CUDNN
  cudnnHandle_t dnn;     /* NULL: cuDNN did not start, the instance composes convolutions */
  cu_conv_plan conv[CU_CONV_CACHE];
  unsigned long long conv_clock;
#endif
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
/* The required ops of mb/ops.def, as cu_<op>. */
#define MB_OPS_PREFIX cu_
#include "mb/ops_impl.h"

/* Optional ops (forget.c; conv.c with cuDNN). */
void cu_forget_update(mb_backend *be, const mb_forget_args *a);
#ifdef MB_HAVE_CUDNN
void cu_conv2d_fwd(mb_backend *be, const mb_conv_args *a);
void cu_conv2d_bwd_data(mb_backend *be, const mb_conv_args *a);
void cu_conv2d_bwd_filter(mb_backend *be, const mb_conv_args *a);
void cu_conv_release(cu_backend *cb);
#endif

mb_timer *cu_timer_begin(mb_backend *be);
void cu_timer_end(mb_backend *be, mb_timer *t);
double cu_timer_ms(mb_backend *be, mb_timer *t);
void cu_timer_free(mb_backend *be, mb_timer *t);

#endif
