/* Batch-norm launches (kernels/opencl/norm.cl): one work-group per channel for the
 * statistics and the backward sums, an elementwise kernel for eval mode. */
#include "cl_backend.h"

static void arg_opt(mb_cl_args *k, mb_view v, int *has, int bit)
{
  mb_cl_arg_view(k, v);
  if (v.buf) *has |= bit;
}

void mb_opencl_batchnorm(mb_backend *be, const mb_bn_args *a)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl)) return;
  if (a->mode == MB_BN_EVAL) {
    size_t total = (size_t)a->n * a->c * a->hw;
    mb_cl_args k = mb_cl_begin(cl, MB_CL_NORM, "bn_eval");
    if (!k.ks) return;
    mb_cl_arg_view(&k, a->x);
    mb_cl_arg_view(&k, a->y);
    mb_cl_arg_view(&k, a->gamma);
    mb_cl_arg_view(&k, a->beta);
    mb_cl_arg_view(&k, a->run_mean);
    mb_cl_arg_view(&k, a->run_var);
    mb_cl_arg_i32(&k, a->n);
    mb_cl_arg_i32(&k, a->c);
    mb_cl_arg_i32(&k, a->hw);
    mb_cl_arg_f32(&k, a->eps);
    mb_cl_launch(&k, "batchnorm", mb_cl_groups(cl, total, k.ks->local), 0);
    return;
  }
  mb_cl_args k = mb_cl_begin(cl, MB_CL_NORM, "bn_train");
  if (!k.ks) return;
  int has = 0;
  mb_cl_arg_view(&k, a->x);
  mb_cl_arg_view(&k, a->y);
  mb_cl_arg_view(&k, a->gamma);
  mb_cl_arg_view(&k, a->beta);
  arg_opt(&k, a->run_mean, &has, 1);
  arg_opt(&k, a->run_var, &has, 2);
  arg_opt(&k, a->save_mean, &has, 4);
  arg_opt(&k, a->save_invstd, &has, 8);
  mb_cl_arg_i32(&k, a->n);
  mb_cl_arg_i32(&k, a->c);
  mb_cl_arg_i32(&k, a->hw);
  mb_cl_arg_f32(&k, a->eps);
  mb_cl_arg_f32(&k, a->momentum);
  mb_cl_arg_i32(&k, has);
  mb_cl_arg_local(&k, k.ks->local * sizeof(cl_double));
  size_t groups = (size_t)a->c < cl->max_groups ? (size_t)a->c : cl->max_groups;
  mb_cl_launch(&k, "batchnorm", groups, 0);
}

void mb_opencl_batchnorm_bwd(mb_backend *be, const mb_bn_bwd_args *a)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl)) return;
  mb_cl_args k = mb_cl_begin(cl, MB_CL_NORM, "bn_bwd");
  if (!k.ks) return;
  int has = 0;
  mb_cl_arg_view(&k, a->x);
  mb_cl_arg_view(&k, a->dy);
  mb_cl_arg_view(&k, a->gamma);
  mb_cl_arg_view(&k, a->mean);
  mb_cl_arg_view(&k, a->invstd);
  arg_opt(&k, a->dx, &has, 1);
  arg_opt(&k, a->dgamma, &has, 2);
  arg_opt(&k, a->dbeta, &has, 4);
  mb_cl_arg_i32(&k, a->n);
  mb_cl_arg_i32(&k, a->c);
  mb_cl_arg_i32(&k, a->hw);
  mb_cl_arg_i32(&k, a->mode == MB_BN_TRAIN);
  mb_cl_arg_i32(&k, has);
  mb_cl_arg_local(&k, k.ks->local * sizeof(cl_double));
  size_t groups = (size_t)a->c < cl->max_groups ? (size_t)a->c : cl->max_groups;
  mb_cl_launch(&k, "batchnorm_bwd", groups, 0);
}
