/* softmax_xent: wrapper over kernels/cuda/loss.cu (null views are passed as NULL). */
#include "cuda_internal.h"

void cu_softmax_xent(mb_backend *be, const mb_xent_args *a)
{
  if (a->rows < 1 || a->cols < 1 || !cu_begin(be, "softmax_xent")) return;
  mb_cu_softmax_xent(cu_of(be)->stream, cu_ptr(a->logits), cu_ptr(a->labels), cu_ptr(a->loss),
                     cu_ptr(a->dlogits), cu_ptr(a->probs), a->rows, a->cols, a->scale);
  cu_launched(be, "softmax_xent");
}
