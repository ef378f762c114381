/* Adam fine-tuning epoch over a device plan. */
#include "baselines/finetune.h"

int bl_adam_epoch(mb_mlp *m, const mb_devdata *dd, const bl_plan *p, mb_view extra, int n_extra,
                  int batch, float lr)
{
  mb_backend *be = m->be;
  if (bl_need_rows(m, batch, "adam epoch") != 0) return -1;
  size_t P = m->pt.total;
  /* a new optimiser per phase, as the reference constructs one per phase */
  mb_view mom = mb_new(be, P), var = mb_new(be, P);
  mb_fill(be, mom, P, 0.0f);
  mb_fill(be, var, P, 0.0f);
  int t = 0;
  for (int r0 = 0; r0 < p->n && mb_ok(be); r0 += batch) {
    int rows = p->n - r0 < batch ? p->n - r0 : batch;
    bl_plan_gather(m, dd, p, extra, n_extra, r0, rows);
    mb_mlp_forward(m, mb_none(), mb_none(), rows);
    mb_mlp_xent(m, bl_plan_labels(p, r0), rows, 1.0f / (float)rows, mb_none());
    mb_mlp_backward(m, rows, 1);
    mb_optim_args a = {
      .kind = MB_OPT_ADAM, .w = m->w, .g = m->g, .m = mom, .v = var, .n = P, .lr = lr,
      .weight_decay = 0.0f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .t = ++t,
    };
    mb_optim(be, &a);
  }
  mb_release(be, mom);
  mb_release(be, var);
  return mb_ok(be) ? 0 : -1;
}
