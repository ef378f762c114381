/* What the mnemonic update (docs/specification.md §2.2) does to each tensor of a
 * model: a diagnostic, computed outside any timed region. */
#ifndef MB_FORGET_EXPLAIN_H
#define MB_FORGET_EXPLAIN_H

#include "core/model.h"

typedef struct {
  char name[32];
  size_t n;              /* elements */
  double max_eta;        /* max f_F / f_R over the tensor (floors included) */
  double alpha;          /* α_l = min(λ1, λ2 / max η) */
  int capped;            /* 1: α_l is λ2 / max η, so max δ = λ2 */
  double max_delta;      /* the largest element of δ, as the op chain computes it */
  double max_abs_w;      /* the largest |w| of the tensor */
  size_t n_over;         /* elements whose δ exceeds their own |w| */
} mb_tensor_update;

/* Fills out[0 .. md->nseg - 1] for forgetting `forget` with λ1, λ2 from the codes'
 * FIM.  The model's weights are left as they were.  0, or -1 with the backend's
 * error set (or on host out-of-memory). */
int mb_forget_explain(mb_model *md, mb_view codes, int n_classes, const int *forget, int n_forget,
                      float lambda1, float lambda2, mb_tensor_update *out);

#endif
