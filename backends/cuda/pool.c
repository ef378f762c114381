/* Pooling: wrappers over kernels/cuda/pool.cu (geometry checked by the core). */
#include "cuda_internal.h"

void cu_pool(mb_backend *be, const mb_pool_args *a)
{
  if (!cu_begin(be, "pool")) return;
  mb_cu_pool(cu_of(be)->stream, a, cu_ptr(a->x), cu_ptr(a->y), cu_ptr(a->idx));
  cu_launched(be, "pool");
}

void cu_pool_bwd(mb_backend *be, const mb_pool_args *a)
{
  if (!cu_begin(be, "pool_bwd")) return;
  mb_cu_pool_bwd(cu_of(be)->stream, a, cu_ptr(a->dy), cu_ptr(a->idx), cu_ptr(a->dx));
  cu_launched(be, "pool_bwd");
}
