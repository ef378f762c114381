/* Adam fine-tuning epoch over a device plan. */
#include "baselines/finetune.h"

int bl_adam_epoch_md(mb_model *md, const mb_devdata *dd, const bl_plan *p, mb_view extra,
                     int n_extra, mb_view tmp, int batch, float lr)
{
  mb_backend *be = md->be;
  if (bl_need_rows_md(md, batch, "adam epoch") != 0) return -1;
  size_t P = md->total;
  /* a new optimiser per phase, as the reference constructs one per phase */
  mb_view mom = mb_new(be, P), var = mb_new(be, P);
  mb_fill(be, mom, P, 0.0f);
  mb_fill(be, var, P, 0.0f);
  mb_bwd_opts grads = {.want_grads = 1};
  int t = 0;
  for (int r0 = 0; r0 < p->n && mb_ok(be); r0 += batch) {
    int rows = p->n - r0 < batch ? p->n - r0 : batch;
    bl_plan_gather_extra_md(md, dd, p, extra, n_extra, tmp, r0, rows);
    mb_model_forward(md, mb_none(), mb_none(), rows, 1);
    mb_model_xent(md, bl_plan_labels(p, r0), rows, 1.0f / (float)rows, mb_none());
    mb_model_backward(md, rows, &grads);
    mb_optim_args a = {
      .kind = MB_OPT_ADAM, .w = md->w, .g = md->g, .m = mom, .v = var, .n = P, .lr = lr,
      .weight_decay = 0.0f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .t = ++t,
    };
    mb_optim(be, &a);
  }
  mb_release(be, mom);
  mb_release(be, var);
  return mb_ok(be) ? 0 : -1;
}

int bl_adam_epoch(mb_mlp *m, const mb_devdata *dd, const bl_plan *p, mb_view extra, int n_extra,
                  int batch, float lr)
{
  mb_model md;
  mb_model_from_mlp(m, &md);
  return bl_adam_epoch_md(&md, dd, p, extra, n_extra, m->sq_a, batch, lr);
}
