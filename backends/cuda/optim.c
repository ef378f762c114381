/* optim: SGD (momentum, dampening, weight decay) and Adam with L2 weight decay.
 * Adam's bias corrections 1 − β^t are formed on the host in double, as the oracle does. */
#include "cuda_internal.h"

#include <math.h>

void cu_optim(mb_backend *be, const mb_optim_args *a)
{
  if (!a->n || !cu_begin(be, "optim")) return;
  cudaStream_t s = cu_of(be)->stream;
  if (a->kind == MB_OPT_SGD) {
    mb_cu_sgd(s, cu_ptr(a->w), cu_ptr(a->g), cu_ptr(a->m), a->n, a->lr, a->weight_decay,
              a->momentum, a->dampening, a->first_step);
  } else if (a->kind == MB_OPT_ADAM) {
    double bc1 = 1.0 - pow((double)a->beta1, (double)a->t);
    double bc2 = 1.0 - pow((double)a->beta2, (double)a->t);
    mb_cu_adam(s, cu_ptr(a->w), cu_ptr(a->g), cu_ptr(a->m), cu_ptr(a->v), a->n, a->lr,
               a->weight_decay, a->beta1, a->beta2, a->eps, bc1, bc2);
  } else {
    cu_fail(be, MB_UNSUPPORTED, "optim", "unknown optimizer kind %d", (int)a->kind);
    return;
  }
  cu_launched(be, "optim");
}
