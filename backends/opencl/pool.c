/* Pooling launches (kernels/opencl/pool.cl): one work-item per output (forward) or
 * per input element (backward, gathering: no atomics). */
#include "cl_backend.h"

static void geom_args(mb_cl_args *k, const mb_conv_geom *g)
{
  const int v[] = {g->n, g->c, g->h, g->w, g->kh, g->kw, g->stride, g->pad, g->oh, g->ow};
  for (int i = 0; i < 10; i++) mb_cl_arg_i32(k, v[i]);
}

void mb_opencl_pool(mb_backend *be, const mb_pool_args *a)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl)) return;
  const mb_conv_geom *g = &a->g;
  size_t total = (size_t)g->n * g->c * g->oh * g->ow;
  mb_cl_args k = mb_cl_begin(cl, MB_CL_POOL, "pool_fwd");
  if (!k.ks) return;
  int want_idx = a->kind == MB_POOL_MAX && a->idx.buf;
  mb_cl_arg_view(&k, a->x);
  mb_cl_arg_view(&k, a->y);
  mb_cl_arg_view(&k, want_idx ? a->idx : (mb_view){NULL, 0});
  mb_cl_arg_i32(&k, want_idx);
  mb_cl_arg_i32(&k, a->kind == MB_POOL_MAX ? 0 : 1);
  mb_cl_arg_i32(&k, a->count_pad);
  geom_args(&k, g);
  mb_cl_launch(&k, "pool", mb_cl_groups(cl, total, k.ks->local), 0);
}

void mb_opencl_pool_bwd(mb_backend *be, const mb_pool_args *a)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl)) return;
  const mb_conv_geom *g = &a->g;
  size_t total = (size_t)g->n * g->c * g->h * g->w;
  mb_cl_args k = mb_cl_begin(cl, MB_CL_POOL, "pool_bwd");
  if (!k.ks) return;
  int max = a->kind == MB_POOL_MAX;
  mb_cl_arg_view(&k, a->dy);
  mb_cl_arg_view(&k, max ? a->idx : (mb_view){NULL, 0});
  mb_cl_arg_view(&k, a->dx);
  mb_cl_arg_i32(&k, max ? 0 : 1);
  mb_cl_arg_i32(&k, a->count_pad);
  geom_args(&k, g);
  mb_cl_launch(&k, "pool_bwd", mb_cl_groups(cl, total, k.ks->local), 0);
}
