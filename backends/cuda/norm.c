/* Batch norm and layer norm: wrappers over kernels/cuda/norm.cu (null views are passed
 * as NULL; the per-chunk partials live in the backend's scratch, reused in stream
 * order). */
#include "cuda_internal.h"

void cu_batchnorm(mb_backend *be, const mb_bn_args *a)
{
  if (!cu_begin(be, "batchnorm")) return;
  void *scratch = cu_scratch(be, "batchnorm", mb_cu_batchnorm_scratch(a));
  if (!scratch) return;
  int train = a->mode == MB_BN_TRAIN;
  mb_cu_batchnorm(cu_of(be)->stream, a, cu_ptr(a->x), cu_ptr(a->y), cu_ptr(a->gamma),
                  cu_ptr(a->beta), cu_ptr(a->run_mean), cu_ptr(a->run_var),
                  train ? cu_ptr(a->save_mean) : NULL, train ? cu_ptr(a->save_invstd) : NULL,
                  scratch);
  cu_launched(be, "batchnorm");
}

void cu_batchnorm_bwd(mb_backend *be, const mb_bn_bwd_args *a)
{
  if (!cu_begin(be, "batchnorm_bwd")) return;
  void *scratch = cu_scratch(be, "batchnorm_bwd", mb_cu_batchnorm_bwd_scratch(a));
  if (!scratch) return;
  mb_cu_batchnorm_bwd(cu_of(be)->stream, a, cu_ptr(a->x), cu_ptr(a->dy), cu_ptr(a->gamma),
                      cu_ptr(a->mean), cu_ptr(a->invstd), cu_ptr(a->dx), cu_ptr(a->dgamma),
                      cu_ptr(a->dbeta), scratch);
  cu_launched(be, "batchnorm_bwd");
}

void cu_layernorm(mb_backend *be, const mb_ln_args *a)
{
  if (!cu_begin(be, "layernorm")) return;
  mb_cu_layernorm(cu_of(be)->stream, a, cu_ptr(a->x), cu_ptr(a->y), cu_ptr(a->gamma),
                  cu_ptr(a->beta), cu_ptr(a->save_mean), cu_ptr(a->save_rstd));
  cu_launched(be, "layernorm");
}

void cu_layernorm_bwd(mb_backend *be, const mb_ln_bwd_args *a)
{
  if (!cu_begin(be, "layernorm_bwd")) return;
  void *scratch = NULL;
  if (a->dgamma.buf || a->dbeta.buf) {
    scratch = cu_scratch(be, "layernorm_bwd", mb_cu_layernorm_bwd_scratch(a));
    if (!scratch) return;
  }
  mb_cu_layernorm_bwd(cu_of(be)->stream, a, cu_ptr(a->x), cu_ptr(a->dy), cu_ptr(a->gamma),
                      cu_ptr(a->mean), cu_ptr(a->rstd), cu_ptr(a->dx), cu_ptr(a->dgamma),
                      cu_ptr(a->dbeta), scratch);
  cu_launched(be, "layernorm_bwd");
}
