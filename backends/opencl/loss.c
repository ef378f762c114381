/* softmax_xent and row softmax launches (kernels/opencl/loss.cl): one work-group per row. */
#include "cl_backend.h"

void mb_opencl_softmax_xent(mb_backend *be, const mb_xent_args *a)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl) || a->rows < 1 || a->cols < 1) return;
  int want = (a->loss.buf ? 1 : 0) | (a->dlogits.buf ? 2 : 0) | (a->probs.buf ? 4 : 0);
  if (!want) return;
  mb_cl_args k = mb_cl_begin(cl, MB_CL_LOSS, "softmax_xent");
  if (!k.ks) return;
  size_t local = 1;
  while (local < (size_t)a->cols && local < k.ks->local) local *= 2;
  mb_cl_arg_view(&k, a->logits);
  mb_cl_arg_view(&k, a->labels);
  mb_cl_arg_view(&k, a->loss);
  mb_cl_arg_view(&k, a->dlogits);
  mb_cl_arg_view(&k, a->probs);
  mb_cl_arg_u64(&k, (uint64_t)a->rows);
  mb_cl_arg_u64(&k, (uint64_t)a->cols);
  mb_cl_arg_f32(&k, a->scale);
  mb_cl_arg_i32(&k, want);
  mb_cl_arg_local(&k, local * sizeof(cl_float));
  mb_cl_arg_local(&k, local * sizeof(cl_double));
  size_t rows = (size_t)a->rows;
  mb_cl_launch(&k, "softmax_xent", rows < cl->max_groups ? rows : cl->max_groups, local);
}

/* Row softmax and its backward (loss.cl): one work-group per row. */

void mb_opencl_softmax(mb_backend *be, const mb_softmax_args *a)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl)) return;
  mb_cl_args k = mb_cl_begin(cl, MB_CL_LOSS, "softmax_rows");
  if (!k.ks) return;
  size_t local = mb_cl_row_local(k.ks, a->cols), rows = (size_t)a->rows;
  mb_cl_arg_view(&k, a->x);
  mb_cl_arg_view(&k, a->y);
  mb_cl_arg_u64(&k, rows);
  mb_cl_arg_u64(&k, (uint64_t)a->cols);
  mb_cl_arg_local(&k, local * sizeof(cl_float));
  mb_cl_arg_local(&k, local * sizeof(cl_double));
  mb_cl_launch(&k, "softmax", rows < cl->max_groups ? rows : cl->max_groups, local);
}

void mb_opencl_softmax_bwd(mb_backend *be, const mb_softmax_args *a)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl)) return;
  mb_cl_args k = mb_cl_begin(cl, MB_CL_LOSS, "softmax_rows_bwd");
  if (!k.ks) return;
  size_t local = mb_cl_row_local(k.ks, a->cols), rows = (size_t)a->rows;
  mb_cl_arg_view(&k, a->y);
  mb_cl_arg_view(&k, a->dy);
  mb_cl_arg_view(&k, a->dx);
  mb_cl_arg_u64(&k, rows);
  mb_cl_arg_u64(&k, (uint64_t)a->cols);
  mb_cl_arg_local(&k, local * sizeof(cl_double));
  mb_cl_launch(&k, "softmax_bwd", rows < cl->max_groups ? rows : cl->max_groups, local);
}
