/* SSD's two steps (baselines/ssd.c), exposed for the unit tests. */
#ifndef BL_SSD_H
#define BL_SSD_H

#include "baselines/plan.h"

/* imp = (1/B)·Σ over the plan's B batches of (∇_w mean CE)², batches in plan order
 * (eval mode: BN uses its running statistics); the mlp form wraps the model one. */
void bl_ssd_importance_md(mb_model *md, const mb_devdata *dd, const bl_plan *p, int batch,
                          mb_view imp);
void bl_ssd_importance(mb_mlp *m, const mb_devdata *dd, const bl_plan *p, int batch, mb_view imp);

/* Where I_f > α·I_D: w ← min(λ·I_D/I_f, 1)·w.  Returns the selected count.
 * I_f and I_D are consumed (scratch); cond needs P elements. */
double bl_ssd_dampen(mb_backend *be, mb_view w, mb_view i_f, mb_view i_d, mb_view cond, size_t P,
                     float alpha, float lambda);

#endif
