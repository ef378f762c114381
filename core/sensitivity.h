/* The MU-Mis input-sensitivity objective (docs/specification.md §6.1), shared by the
 * double backward of every model (mlp_extra.c, resnet_sens.c): one-hot seed
 * rows, φ(g) per row, the loss Σ φ(g_c) − Σ φ(g_c′), and the seed ū = ∂φ/∂g of
 * the linearised pass.  Rows [0, h) carry the target class c of each sample,
 * rows [h, 2h) its irrelevant class c′. */
#ifndef MB_SENSITIVITY_H
#define MB_SENSITIVITY_H

#include "core/ops.h"

typedef struct {
  int rows, classes;
  mb_view eye;     /* classes × classes identity: seeds become one-hot rows by a gather */
  mb_view nrm;     /* per-row norms [rows] */
  mb_view sums;    /* the two half sums [2] */
} mb_sens_common;

int mb_sens_common_create(mb_backend *be, int rows, int classes, mb_sens_common *c);
void mb_sens_common_destroy(mb_backend *be, mb_sens_common *c);

/* dst [rows × classes] = one-hot rows of seeds (i32 [rows]). */
void mb_sens_one_hot(mb_backend *be, const mb_sens_common *c, mb_view seeds, int rows, mb_view dst);

/* g [2h × dim] holds the input gradients g_k of the seeds.  Adds
 * Σ_{n<h} φ(g_n) − Σ_{n≥h} φ(g_n) to loss_acc (one element) and overwrites g
 * with ū = ±∂φ/∂g (±2g for φ = ‖·‖², ±g/‖g‖ for φ = ‖·‖ when l2), the sign
 * of the row's term, so one linearised pass over all 2h rows sums the
 * gradient of the whole loss. */
void mb_sens_objective(mb_backend *be, const mb_sens_common *c, mb_view g, int h, size_t dim,
                       int l2, mb_view loss_acc);

#endif
