/* Private declarations shared by the files of the cpu backend (OpenBLAS + OpenMP). */
#ifndef MB_CPU_BACKEND_H
#define MB_CPU_BACKEND_H

#include "host_backend.h"

#include <stdint.h>

#ifdef _OPENMP
#include <omp.h>
/* CPU_OMP(omp parallel for ...) becomes the pragma, or nothing without OpenMP. */
#define CPU_OMP(...) _Pragma(#__VA_ARGS__)
#else
#define CPU_OMP(...)
#endif

/* Below this many elements a loop stays on one thread: an element costs ~0.5 ns, and
 * starting the team costs microseconds (tens when the workers must be woken, e.g.
 * with OMP_WAIT_POLICY=passive or on a busy machine). */
#define CPU_PAR_MIN ((size_t)1 << 16)

typedef struct {
  mb_backend base;
  int threads;
} cpu_backend;

extern const mb_backend_ops mb_cpu_ops;

static inline int cpu_is_none(mb_view v) { return v.buf == NULL; }

void cpu_gemm(mb_backend *be, const mb_gemm_args *a);
void cpu_unary(mb_backend *be, mb_unary_op op, mb_view x, mb_view y, size_t n, float a, float b);
void cpu_binary(mb_backend *be, mb_binary_op op, mb_view x1, mb_view x2, mb_view y, size_t n,
                float a, float b);
void cpu_where(mb_backend *be, mb_view cond, mb_view x1, mb_view x2, mb_view y, size_t n);
void cpu_bcast(mb_backend *be, mb_bcast_op op, mb_view x, mb_view v, mb_view y, size_t outer,
               size_t mid, size_t inner);
void cpu_reduce(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y, size_t outer, size_t mid,
                size_t inner);
void cpu_seg_reduce(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y, const size_t *offs,
                    int nseg);
void cpu_seg_bcast(mb_backend *be, mb_segbcast_op op, mb_view x, mb_view v, mb_view y,
                   const size_t *offs, int nseg);
void cpu_softmax_xent(mb_backend *be, const mb_xent_args *a);
void cpu_gather_rows(mb_backend *be, const mb_gather_args *a);
void cpu_optim(mb_backend *be, const mb_optim_args *a);
void cpu_rng(mb_backend *be, mb_rng_dist d, uint64_t seed, uint64_t stream, mb_view y, size_t n,
             float p0, float p1);
void cpu_im2col(mb_backend *be, const mb_conv_geom *g, mb_view x, mb_view cols);
void cpu_col2im(mb_backend *be, const mb_conv_geom *g, mb_view cols, mb_view dx);
void cpu_permute(mb_backend *be, mb_view x, mb_view y, size_t outer, size_t mid, size_t inner);
void cpu_batchnorm(mb_backend *be, const mb_bn_args *a);
void cpu_batchnorm_bwd(mb_backend *be, const mb_bn_bwd_args *a);
void cpu_pool(mb_backend *be, const mb_pool_args *a);
void cpu_pool_bwd(mb_backend *be, const mb_pool_args *a);

#endif
