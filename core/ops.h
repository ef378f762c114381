/* What the core calls: checked wrappers around the backend op table.
 *
 * Every wrapper validates its views against their buffers (a bad view becomes a
 * sticky MB_BAD_ARG error naming the op, never an out-of-bounds access on the
 * device) and does nothing once the backend holds an error.  Sizes are in
 * 4-byte elements.  Check mb_ok()/mb_error() after a phase.
 */
#ifndef MB_OPS_H
#define MB_OPS_H

#include "mb/backend.h"
#include <stdbool.h>

static inline mb_view mb_at(mb_view v, size_t off) { v.off += off; return v; }
static inline mb_view mb_none(void) { mb_view v = {0, 0}; return v; }
static inline bool mb_is_none(mb_view v) { return v.buf == 0; }

bool mb_ok(const mb_backend *be);
const char *mb_error(const mb_backend *be);
/* Records a sticky error (the first one wins).  printf-style. */
void mb_fail(mb_backend *be, mb_status st, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* Allocation of n elements; returns a view at offset 0, or a none view with a
 * sticky MB_OOM error. */
mb_view mb_new(mb_backend *be, size_t n);
void mb_release(mb_backend *be, mb_view v);   /* frees v.buf (whole buffer) */
size_t mb_view_len(mb_view v);                /* elements from v.off to the buffer end */

void mb_upload(mb_backend *be, mb_view dst, const void *src, size_t n);
void mb_download(mb_backend *be, void *dst, mb_view src, size_t n);
void mb_copy(mb_backend *be, mb_view dst, mb_view src, size_t n);
void mb_fill(mb_backend *be, mb_view dst, size_t n, float value);
void mb_fill_u32(mb_backend *be, mb_view dst, size_t n, uint32_t bits);

void mb_gemm(mb_backend *be, const mb_gemm_args *a);
/* Convenience: C[M×N] = alpha·op(A)·op(B) + beta·C with packed leading dimensions. */
void mb_matmul(mb_backend *be, int ta, int tb, int m, int n, int k, float alpha,
               mb_view a, mb_view b, float beta, mb_view c);
void mb_unary(mb_backend *be, mb_unary_op op, mb_view x, mb_view y, size_t n, float a, float b);
void mb_binary(mb_backend *be, mb_binary_op op, mb_view x1, mb_view x2, mb_view y, size_t n,
               float a, float b);
void mb_where(mb_backend *be, mb_view cond, mb_view x1, mb_view x2, mb_view y, size_t n);
void mb_bcast(mb_backend *be, mb_bcast_op op, mb_view x, mb_view v, mb_view y,
              size_t outer, size_t mid, size_t inner);
void mb_reduce(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y,
               size_t outer, size_t mid, size_t inner);
void mb_seg_reduce(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y,
                   const size_t *offs, int nseg);
void mb_seg_bcast(mb_backend *be, mb_segbcast_op op, mb_view x, mb_view v, mb_view y,
                  const size_t *offs, int nseg);
void mb_softmax_xent(mb_backend *be, const mb_xent_args *a);
void mb_gather_rows(mb_backend *be, const mb_gather_args *a);
void mb_optim(mb_backend *be, const mb_optim_args *a);
void mb_rng(mb_backend *be, mb_rng_dist d, uint64_t seed, uint64_t stream, mb_view y, size_t n,
            float p0, float p1);
void mb_im2col(mb_backend *be, const mb_conv_geom *g, mb_view x, mb_view cols);
void mb_col2im(mb_backend *be, const mb_conv_geom *g, mb_view cols, mb_view dx);
/* y[m][o][i] = x[o][m][i] over (outer, mid, inner); y must not overlap x (see backend.h). */
void mb_permute(mb_backend *be, mb_view x, mb_view y, size_t outer, size_t mid, size_t inner);
/* Batch norm and pooling (see backend.h); MB_UNSUPPORTED where a backend lacks the op. */
void mb_batchnorm(mb_backend *be, const mb_bn_args *a);
void mb_batchnorm_bwd(mb_backend *be, const mb_bn_bwd_args *a);
void mb_pool(mb_backend *be, const mb_pool_args *a);
void mb_pool_bwd(mb_backend *be, const mb_pool_args *a);
void mb_layernorm(mb_backend *be, const mb_ln_args *a);
void mb_layernorm_bwd(mb_backend *be, const mb_ln_bwd_args *a);
void mb_softmax(mb_backend *be, const mb_softmax_args *a);
void mb_softmax_bwd(mb_backend *be, const mb_softmax_args *a);
/* The output size of a window: (in + 2·pad − k)/stride + 1. */
static inline int mb_conv_out(int in, int k, int stride, int pad) { return (in + 2 * pad - k) / stride + 1; }

/* ---- the op list and optional ops ----
 * mb/ops.def lists the ops.  An optional op (conv2d_*, forget_update, gemm_sq_acc) runs where the
 * backend provides it, unless the generic path is forced: MB_ENGINE=generic in the
 * environment, mb_engine_force_generic(1) (the harness's --engine generic), or
 * be->engine_generic on one instance (the agreement oracle).  Otherwise the core
 * composes the same result from required ops (core/conv.c, core/forget_mnemonic.c,
 * core/gemm_sq.c). */
const char *mb_op_name(mb_op_id id);                 /* "gemm", ...; "?" out of range */
int mb_op_is_optional(mb_op_id id);
/* The first required op an op table leaves NULL (tables built by hand), else NULL. */
const char *mb_ops_missing(const mb_backend_ops *ops);
void mb_engine_force_generic(int on);               /* process-wide, beside MB_ENGINE */
/* 1 when the generic path is forced for be (any of the three switches above). */
int mb_engine_generic(const mb_backend *be);
/* 1 when the core will call optional op id on be (provided and not forced off). */
int mb_has_opt(const mb_backend *be, mb_op_id id);
/* "generic" where the generic path is forced or the backend provides no optional op,
 * else the table's engine name (e.g. "ref-direct").  Result rows carry it as `engine`. */
const char *mb_engine_name(const mb_backend *be);
/* Checked calls of the optional ops (views validated as for every op; MB_UNSUPPORTED
 * where the backend lacks the op).  Callers choose them with mb_has_opt(). */
void mb_conv2d_opt(mb_backend *be, mb_op_id id, const mb_conv_args *a);
void mb_forget_update(mb_backend *be, const mb_forget_args *a);
void mb_gemm_sq_acc(mb_backend *be, const mb_gemm_sq_args *a);
/* The checks of mb_gemm_sq_acc (A and B of a->g, groups dividing the batch, the extent of
 * acc; C is not used), shared with its composition (core/gemm_sq.c). */
bool mb_gemm_sq_args_ok(mb_backend *be, const mb_gemm_sq_args *a);

void mb_sync(mb_backend *be);
mb_timer *mb_timer_begin(mb_backend *be);
void mb_timer_end(mb_backend *be, mb_timer *t);
double mb_timer_ms(mb_backend *be, mb_timer *t);   /* after mb_sync; < 0 if unreadable */
void mb_timer_free(mb_backend *be, mb_timer *t);

#endif
