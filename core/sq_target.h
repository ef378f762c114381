/* Where a backward pass adds per-sample squared gradients (docs/specification.md §2.1):
 * acc (a flat buffer of the model's parameters) += Σ over rows n in [r0, r1) of g_n ⊙ g_n.
 * One type for every model, so the model interface hands targets through unchanged. */
#ifndef MB_SQ_TARGET_H
#define MB_SQ_TARGET_H

#include "core/ops.h"

typedef struct {
  int r0, r1;
  mb_view acc;
} mb_sq_target;

#endif
