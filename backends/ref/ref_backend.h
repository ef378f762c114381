/* Private declarations shared by the files of the ref backend (the oracle). */
#ifndef MB_REF_BACKEND_H
#define MB_REF_BACKEND_H

#include "host_backend.h"

#include <stdint.h>

typedef struct {
  mb_backend base;
} ref_backend;

static inline int ref_is_none(mb_view v) { return v.buf == NULL; }

extern const mb_backend_ops mb_ref_ops;

void ref_gemm(mb_backend *be, const mb_gemm_args *a);
void ref_unary(mb_backend *be, mb_unary_op op, mb_view x, mb_view y, size_t n, float a, float b);
void ref_binary(mb_backend *be, mb_binary_op op, mb_view x1, mb_view x2, mb_view y, size_t n,
                float a, float b);
void ref_where(mb_backend *be, mb_view cond, mb_view x1, mb_view x2, mb_view y, size_t n);
void ref_bcast(mb_backend *be, mb_bcast_op op, mb_view x, mb_view v, mb_view y, size_t outer,
               size_t mid, size_t inner);
void ref_reduce(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y, size_t outer, size_t mid,
                size_t inner);
void ref_seg_reduce(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y, const size_t *offs,
                    int nseg);
void ref_seg_bcast(mb_backend *be, mb_segbcast_op op, mb_view x, mb_view v, mb_view y,
                   const size_t *offs, int nseg);
void ref_softmax_xent(mb_backend *be, const mb_xent_args *a);
void ref_gather_rows(mb_backend *be, const mb_gather_args *a);
void ref_optim(mb_backend *be, const mb_optim_args *a);
void ref_rng(mb_backend *be, mb_rng_dist d, uint64_t seed, uint64_t stream, mb_view y, size_t n,
             float p0, float p1);
void ref_im2col(mb_backend *be, const mb_conv_geom *g, mb_view x, mb_view cols);
void ref_col2im(mb_backend *be, const mb_conv_geom *g, mb_view cols, mb_view dx);
void ref_permute(mb_backend *be, mb_view x, mb_view y, size_t outer, size_t mid, size_t inner);
void ref_batchnorm(mb_backend *be, const mb_bn_args *a);
void ref_batchnorm_bwd(mb_backend *be, const mb_bn_bwd_args *a);
void ref_pool(mb_backend *be, const mb_pool_args *a);
void ref_pool_bwd(mb_backend *be, const mb_pool_args *a);

#endif
