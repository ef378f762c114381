/* Per-sample squared gradients of a layer's weights (mb_gemm_sq_args). */
#ifndef MB_GEMM_SQ_H
#define MB_GEMM_SQ_H

#include "core/ops.h"

/* acc += the squares of the items of a->g, through the backend's optional gemm_sq_acc
 * where mb_has_opt(), else the generic composition in scratch (scratch_n floats, at least
 * a->g.batch · m · n): the batched GEMM into it, then, when it has room for one sample
 * more, the squares summed over the samples by one reduce (SUMSQ) and added to acc by one
 * AXPBY, else binary ADD_SQR once per sample. */
void mb_gemm_sq_acc_auto(mb_backend *be, const mb_gemm_sq_args *a, mb_view scratch,
                         size_t scratch_n);

/* How many samples of `per` floats (m · n · groups) one composed call should carry in a
 * scratch of scratch_n floats: as many as fit with room for the sum, or, where that
 * leaves fewer than two, as many as fit. */
size_t mb_gemm_sq_samples(size_t scratch_n, size_t per);

#endif
