/* The optional fused forgetting update: kernels/opencl/forget.cl on the cached segment
 * table, five launches (three passes over the data, two per-segment merges) instead of
 * the op chain's fourteen.  Partials, the segments' largest log-ratios and their α live in
 * the backend's scratch buffer: [nchunks partials][nseg m][nseg α]. */
#include "cl_backend.h"

enum { FG_DELTA = 1, FG_PLUS = 2, FG_MINUS = 4 };   /* as forget.cl */

/* The arguments every pass starts with (forget.cl's FG_ARGS). */
static void common_args(mb_cl_args *k, const mb_forget_args *a, const mb_cl_segs *t, int flags)
{
  mb_cl_arg_view(k, a->f_forget);
  mb_cl_arg_view(k, a->f_remain);
  mb_cl_arg_mem(k, t->table);
  mb_cl_arg_u64(k, (uint64_t)a->nseg);
  mb_cl_arg_u64(k, t->nchunks);
  mb_cl_arg_i32(k, flags);
  mb_cl_arg_f32(k, a->scale_forget);
  mb_cl_arg_f32(k, a->scale_remain);
  mb_cl_arg_f32(k, 1.0f);
  mb_cl_arg_f32(k, -1.0f);
  mb_cl_arg_f32(k, 0.0f);
}

static void merge(mb_cl *cl, cl_mem part, uint64_t out, const mb_cl_segs *t, const mb_forget_args *a,
                  int alpha)
{
  mb_cl_args k = mb_cl_begin(cl, MB_CL_FORGET, "forget_merge");
  if (!k.ks) return;
  /* a few work-items cover a segment's partials (about nchunks / nseg of them) */
  size_t local = mb_cl_row_local(k.ks, (int)((t->nchunks + (size_t)a->nseg - 1) / (size_t)a->nseg));
  mb_cl_arg_mem(&k, part);
  mb_cl_arg_u64(&k, out);
  mb_cl_arg_mem(&k, t->table);
  mb_cl_arg_u64(&k, (uint64_t)a->nseg);
  mb_cl_arg_i32(&k, alpha);
  mb_cl_arg_f32(&k, a->lambda1);
  mb_cl_arg_f32(&k, a->lambda2);
  mb_cl_arg_f32(&k, 0.0f);
  mb_cl_arg_local(&k, local * sizeof(float));
  size_t groups = (size_t)a->nseg < cl->max_groups ? (size_t)a->nseg : cl->max_groups;
  mb_cl_launch(&k, "forget_update", groups, local);
}

void mb_opencl_forget_update(mb_backend *be, const mb_forget_args *a)
{
  mb_cl *cl = mb_cl_of(be);
  const char *op = "forget_update";
  if (!mb_cl_ok(cl) || a->nseg < 1) return;
  const mb_cl_segs *t = mb_cl_seg_table(cl, a->offs, a->nseg, op);
  if (!t || !t->nchunks) return;   /* no elements: nothing is written */
  const uint64_t mo = t->nchunks, ao = t->nchunks + (uint64_t)a->nseg;
  cl_mem part = mb_cl_scratch(cl, (t->nchunks + 2 * (size_t)a->nseg) * sizeof(float), op);
  if (!part) return;
  const int flags = (a->delta.buf ? FG_DELTA : 0) | (a->plus.buf ? FG_PLUS : 0) |
                    (a->minus.buf ? FG_MINUS : 0);
  const size_t groups = t->nchunks < cl->max_groups ? t->nchunks : cl->max_groups;

  mb_cl_args k = mb_cl_begin(cl, MB_CL_FORGET, "forget_ratio");
  if (!k.ks) return;
  common_args(&k, a, t, flags);
  mb_cl_arg_view(&k, a->delta);
  mb_cl_arg_mem(&k, part);
  mb_cl_arg_local(&k, k.ks->local * sizeof(float));
  mb_cl_launch(&k, op, groups, k.ks->local);
  merge(cl, part, mo, t, a, 0);

  k = mb_cl_begin(cl, MB_CL_FORGET, "forget_eta");
  if (!k.ks) return;
  common_args(&k, a, t, flags);
  mb_cl_arg_view(&k, a->delta);
  mb_cl_arg_mem(&k, part);
  mb_cl_arg_u64(&k, mo);
  mb_cl_arg_local(&k, k.ks->local * sizeof(float));
  mb_cl_launch(&k, op, groups, k.ks->local);
  merge(cl, part, ao, t, a, 1);

  k = mb_cl_begin(cl, MB_CL_FORGET, "forget_write");
  if (!k.ks) return;
  common_args(&k, a, t, flags);
  mb_cl_arg_view(&k, a->w);
  mb_cl_arg_view(&k, a->delta);
  mb_cl_arg_view(&k, a->plus);
  mb_cl_arg_view(&k, a->minus);
  mb_cl_arg_mem(&k, part);
  mb_cl_arg_u64(&k, mo);
  mb_cl_arg_u64(&k, ao);
  mb_cl_launch(&k, op, groups, k.ks->local);
}
