/* One epoch of mini-batch training with a fresh PyTorch Adam (docs/specification.md
 * §4: UNSIR's impair and repair steps). */
#ifndef BL_FINETUNE_H
#define BL_FINETUNE_H

#include "baselines/plan.h"

/* Trains m->w for one pass over the plan in its order: batches of `batch` rows
 * (the last one partial), mean CE, Adam(lr, β = (0.9, 0.999), ε = 1e-8, no
 * weight decay) with moments started at zero.  0, or -1 with a sticky error. */
int bl_adam_epoch(mb_mlp *m, const mb_devdata *dd, const bl_plan *p, mb_view extra, int n_extra,
                  int batch, float lr);

/* The same for any model, in train mode (BN: batch statistics, running ones
 * updated; model.train() in the reference).  extra: rows the plan's extra
 * indices name (none: data rows only); tmp [batch × in_dim] scratch for them. */
int bl_adam_epoch_md(mb_model *md, const mb_devdata *dd, const bl_plan *p, mb_view extra,
                     int n_extra, mb_view tmp, int batch, float lr);

#endif
