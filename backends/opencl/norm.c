/* Norm launches (kernels/opencl/norm.cl).  Batch norm: one work-group per channel for
 * the statistics and the backward sums, an elementwise kernel for eval mode.  Layer
 * norm: one work-group per row; dgamma/dbeta in two stages (per-block column partials,
 * then the blocks in order). */
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


void mb_opencl_layernorm(mb_backend *be, const mb_ln_args *a)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl)) return;
  mb_cl_args k = mb_cl_begin(cl, MB_CL_NORM, "ln_fwd");
  if (!k.ks) return;
  int has = 0;
  size_t local = mb_cl_row_local(k.ks, a->c), rows = (size_t)a->rows;
  mb_cl_arg_view(&k, a->x);
  mb_cl_arg_view(&k, a->y);
  mb_cl_arg_view(&k, a->gamma);
  mb_cl_arg_view(&k, a->beta);
  arg_opt(&k, a->save_mean, &has, 4);   /* HAS_SAVE_MEAN */
  arg_opt(&k, a->save_rstd, &has, 8);   /* HAS_SAVE_RSTD */
  mb_cl_arg_u64(&k, rows);
  mb_cl_arg_u64(&k, (uint64_t)a->c);
  mb_cl_arg_f32(&k, a->eps);
  mb_cl_arg_i32(&k, has);
  mb_cl_arg_local(&k, local * sizeof(cl_double));
  mb_cl_launch(&k, "layernorm", rows < cl->max_groups ? rows : cl->max_groups, local);
}

/* Rows per block of the dgamma/dbeta partial sums (stage 1 of 2). */
#define LN_COL_BLOCK 64

void mb_opencl_layernorm_bwd(mb_backend *be, const mb_ln_bwd_args *a)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl)) return;
  const size_t rows = (size_t)a->rows, c = (size_t)a->c;
  const int has = (a->dx.buf ? 1 : 0) | (a->dgamma.buf ? 2 : 0) | (a->dbeta.buf ? 4 : 0);
  /* the column sums first: dx may alias dy, which they read (in-order queue) */
  if (has & 6) {
    const size_t nblk = (rows + LN_COL_BLOCK - 1) / LN_COL_BLOCK;
    cl_mem part = mb_cl_scratch(cl, nblk * 2 * c * sizeof(cl_double), "layernorm_bwd");
    if (!part) return;
    mb_cl_args k = mb_cl_begin(cl, MB_CL_NORM, "ln_bwd_cols");
    if (!k.ks) return;
    mb_cl_arg_view(&k, a->x);
    mb_cl_arg_view(&k, a->dy);
    mb_cl_arg_view(&k, a->mean);
    mb_cl_arg_view(&k, a->rstd);
    mb_cl_arg_mem(&k, part);
    mb_cl_arg_u64(&k, rows);
    mb_cl_arg_u64(&k, c);
    mb_cl_arg_u64(&k, LN_COL_BLOCK);
    mb_cl_launch(&k, "layernorm_bwd", mb_cl_groups(cl, nblk * c, k.ks->local), 0);
    k = mb_cl_begin(cl, MB_CL_NORM, "ln_bwd_cols_final");
    if (!k.ks) return;
    mb_cl_arg_mem(&k, part);
    mb_cl_arg_view(&k, a->dgamma);
    mb_cl_arg_view(&k, a->dbeta);
    mb_cl_arg_u64(&k, nblk);
    mb_cl_arg_u64(&k, c);
    mb_cl_arg_i32(&k, has);
    mb_cl_launch(&k, "layernorm_bwd", mb_cl_groups(cl, c, k.ks->local), 0);
  }
  if (!(has & 1)) return;
  mb_cl_args k = mb_cl_begin(cl, MB_CL_NORM, "ln_bwd_dx");
  if (!k.ks) return;
  size_t local = mb_cl_row_local(k.ks, a->c);
  mb_cl_arg_view(&k, a->x);
  mb_cl_arg_view(&k, a->dy);
  mb_cl_arg_view(&k, a->gamma);
  mb_cl_arg_view(&k, a->mean);
  mb_cl_arg_view(&k, a->rstd);
  mb_cl_arg_view(&k, a->dx);
  mb_cl_arg_u64(&k, rows);
  mb_cl_arg_u64(&k, c);
  mb_cl_arg_local(&k, local * sizeof(cl_double));
  mb_cl_launch(&k, "layernorm_bwd", rows < cl->max_groups ? rows : cl->max_groups, local);
}
