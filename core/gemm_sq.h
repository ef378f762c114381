/* Per-sample squared gradients of a layer's weights (mb_gemm_sq_args). */
#ifndef MB_GEMM_SQ_H
#define MB_GEMM_SQ_H

#include "core/ops.h"

/* acc += the squares of the items of a->g, through the backend's optional
 * gemm_sq_acc where mb_has_opt(), else the generic composition: the batched GEMM
 * into scratch (a->g.batch · m · n floats), then binary ADD_SQR once per sample. */
void mb_gemm_sq_acc_auto(mb_backend *be, const mb_gemm_sq_args *a, mb_view scratch);

#endif
