/* C entry points of the CUDA kernels (the .cu files here), called by backends/cuda.
 *
 * Pointers are device pointers already advanced to the view's offset.  Every
 * launcher only enqueues work on stream `s` and returns; the host wrapper checks
 * cudaGetLastError() afterwards and records a sticky error.  Kernels use
 * grid-stride loops with capped 1-D grids, so any n (up to 2^31 and beyond) works.
 * Reductions use fixed-order trees (no float atomics): runs are bit-identical. */
#ifndef MB_CUDA_LAUNCH_H
#define MB_CUDA_LAUNCH_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#include "mb/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* eltwise.cu */
void mb_cu_fill(cudaStream_t s, uint32_t *y, size_t n, uint32_t bits);
void mb_cu_unary(cudaStream_t s, mb_unary_op op, const float *x, float *y, size_t n, float a,
                 float b);
void mb_cu_binary(cudaStream_t s, mb_binary_op op, const float *x1, const float *x2, float *y,
                  size_t n, float a, float b);
void mb_cu_where(cudaStream_t s, const float *cond, const float *x1, const float *x2, float *y,
                 size_t n);
void mb_cu_bcast(cudaStream_t s, mb_bcast_op op, const float *x, const float *v, float *y,
                 size_t outer, size_t mid, size_t inner);

/* Segment tables for seg_reduce / seg_bcast: each segment is cut into chunks of at
 * most MB_CU_SEG_CHUNK elements, one thread block per chunk. */
#define MB_CU_SEG_CHUNK 8192

typedef struct {
  unsigned long long begin, end;  /* element range [begin, end) relative to the view */
  int seg;
  int pad_;
} mb_cu_chunk;

typedef struct {
  const mb_cu_chunk *chunks;  /* device: nchunks entries, segment by segment */
  const int *first;           /* device: nseg + 1 entries, first chunk of each segment */
  size_t nchunks;
  int nseg;
} mb_cu_segtab;

/* reduce.cu.  Scratch holds per-chunk partials (8 bytes each) for the two-pass paths;
 * the *_scratch functions give the bytes needed (0: none). */
size_t mb_cu_reduce_scratch(size_t outer, size_t mid, size_t inner);
void mb_cu_reduce(cudaStream_t s, mb_reduce_op op, const float *x, float *y, size_t outer,
                  size_t mid, size_t inner, void *scratch);
size_t mb_cu_seg_reduce_scratch(const mb_cu_segtab *t);
void mb_cu_seg_reduce(cudaStream_t s, mb_reduce_op op, const float *x, float *y,
                      const mb_cu_segtab *t, void *scratch);
void mb_cu_seg_bcast(cudaStream_t s, mb_segbcast_op op, const float *x, const float *v, float *y,
                     const mb_cu_segtab *t);

/* forget.cu: the fused forgetting update over the chunks of t; delta, plus and minus may
 * be NULL; scale_forget, scale_remain as mb_forget_args (0: none); scratch holds
 * mb_cu_forget_scratch(t) bytes. */
size_t mb_cu_forget_scratch(const mb_cu_segtab *t);
void mb_cu_forget(cudaStream_t s, const mb_cu_segtab *t, const float *ff, const float *fr,
                  const float *w, float *delta, float *plus, float *minus, float lambda1,
                  float lambda2, float scale_forget, float scale_remain, void *scratch);

/* loss.cu: loss, dlogits and probs may be NULL (not wanted); dlogits may equal logits. */
void mb_cu_softmax_xent(cudaStream_t s, const float *logits, const int *labels, float *loss,
                        float *dlogits, float *probs, int rows, int cols, float scale);
/* loss.cu: row softmax (y may equal x) and its backward (dx may equal dy). */
void mb_cu_softmax(cudaStream_t s, const float *x, float *y, int rows, int cols);
void mb_cu_softmax_bwd(cudaStream_t s, const float *y, const float *dy, float *dx, int rows,
                       int cols);

/* gather.cu: src4 / src8 as in mb_gather_args (exactly one is used, chosen by src_u8). */
void mb_cu_gather_rows(cudaStream_t s, const void *src, int src_u8, const int *idx, void *dst,
                       int n_rows, int row_len, int n_src_rows, float scale);

/* optim.cu: bc1 = 1 - beta1^t and bc2 = 1 - beta2^t come from the host, in double. */
void mb_cu_sgd(cudaStream_t s, float *w, const float *g, float *m, size_t n, float lr, float wd,
               float momentum, float dampening, int first_step);
void mb_cu_adam(cudaStream_t s, float *w, const float *g, float *m, float *v, size_t n, float lr,
                float wd, float beta1, float beta2, float eps, double bc1, double bc2);

/* rng.cu: element i of stream (seed, stream), see kernels/common/philox.h. */
void mb_cu_rng(cudaStream_t s, mb_rng_dist d, uint64_t seed, uint64_t stream, void *y, size_t n,
               float p0, float p1);

/* im2col.cu (NCHW; cols is [n][c·kh·kw][oh·ow]; col2im accumulates into dx;
 * permute: y[m][o][i] = x[o][m][i], y apart from x). */
void mb_cu_im2col(cudaStream_t s, const mb_conv_geom *g, const float *x, float *cols);
void mb_cu_col2im(cudaStream_t s, const mb_conv_geom *g, const float *cols, float *dx);
void mb_cu_permute(cudaStream_t s, const uint32_t *x, uint32_t *y, size_t outer, size_t mid,
                   size_t inner);

/* norm.cu: shapes and mode from a; optional pointers are NULL when absent.  scratch
 * (device) holds the per-chunk f64 partials and per-channel coefficients: at least the
 * *_scratch bytes. */
size_t mb_cu_batchnorm_scratch(const mb_bn_args *a);
void mb_cu_batchnorm(cudaStream_t s, const mb_bn_args *a, const float *x, float *y,
                     const float *gamma, const float *beta, float *rm, float *rv, float *sm,
                     float *si, void *scratch);
size_t mb_cu_batchnorm_bwd_scratch(const mb_bn_bwd_args *a);
void mb_cu_batchnorm_bwd(cudaStream_t s, const mb_bn_bwd_args *a, const float *x, const float *dy,
                         const float *gamma, const float *mean, const float *invstd, float *dx,
                         float *dg, float *db, void *scratch);
/* norm.cu: layer norm; sm, sr (forward) and dx, dg, db (backward) may be NULL; y may
 * equal x and dx may equal dy; scratch (device) holds mb_cu_layernorm_bwd_scratch(a)
 * bytes of f64 column partials. */
void mb_cu_layernorm(cudaStream_t s, const mb_ln_args *a, const float *x, float *y,
                     const float *gamma, const float *beta, float *sm, float *sr);
size_t mb_cu_layernorm_bwd_scratch(const mb_ln_bwd_args *a);
void mb_cu_layernorm_bwd(cudaStream_t s, const mb_ln_bwd_args *a, const float *x, const float *dy,
                         const float *gamma, const float *mean, const float *rstd, float *dx,
                         float *dg, float *db, void *scratch);

/* pool.cu: kind, geometry and count_pad from a; idx may be NULL in the forward pass. */
void mb_cu_pool(cudaStream_t s, const mb_pool_args *a, const float *x, float *y, int *idx);
void mb_cu_pool_bwd(cudaStream_t s, const mb_pool_args *a, const float *dy, const int *idx,
                    float *dx);

#ifdef __cplusplus
}
#endif

#endif
