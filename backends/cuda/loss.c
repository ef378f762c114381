/* softmax_xent and row softmax: wrappers over kernels/cuda/loss.cu (null views are passed
 * as NULL). */
#include "cuda_internal.h"

void cu_softmax_xent(mb_backend *be, const mb_xent_args *a)
{
  if (a->rows < 1 || a->cols < 1 || !cu_begin(be, "softmax_xent")) return;
  mb_cu_softmax_xent(cu_of(be)->stream, cu_ptr(a->logits), cu_ptr(a->labels), cu_ptr(a->loss),
                     cu_ptr(a->dlogits), cu_ptr(a->probs), a->rows, a->cols, a->scale);
  cu_launched(be, "softmax_xent");
}

void cu_softmax(mb_backend *be, const mb_softmax_args *a)
{
  if (!cu_begin(be, "softmax")) return;
  mb_cu_softmax(cu_of(be)->stream, cu_ptr(a->x), cu_ptr(a->y), a->rows, a->cols);
  cu_launched(be, "softmax");
}

void cu_softmax_bwd(mb_backend *be, const mb_softmax_args *a)
{
  if (!cu_begin(be, "softmax_bwd")) return;
  mb_cu_softmax_bwd(cu_of(be)->stream, cu_ptr(a->y), cu_ptr(a->dy), cu_ptr(a->dx), a->rows,
                    a->cols);
  cu_launched(be, "softmax_bwd");
}
