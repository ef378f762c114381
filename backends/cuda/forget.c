/* The optional fused forgetting update: a wrapper over kernels/cuda/forget.cu on the
 * cached device segment table (null views are passed as NULL). */
#include "cuda_internal.h"

void cu_forget_update(mb_backend *be, const mb_forget_args *a)
{
  if (!cu_begin(be, "forget_update")) return;
  const mb_cu_segtab *t = cu_segtab(be, "forget_update", a->offs, a->nseg);
  if (!t) return;
  void *scratch = cu_scratch(be, "forget_update", mb_cu_forget_scratch(t));
  if (!scratch) return;
  mb_cu_forget(cu_of(be)->stream, t, cu_ptr(a->f_forget), cu_ptr(a->f_remain), cu_ptr(a->w),
               cu_ptr(a->delta), cu_ptr(a->plus), cu_ptr(a->minus), a->lambda1, a->lambda2,
               a->scale_forget, a->scale_remain, scratch);
  cu_launched(be, "forget_update");
}
