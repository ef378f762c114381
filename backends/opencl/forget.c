/* The optional fused forgetting update: kernels/opencl/forget.cl on the cached segment
 * table, five launches (three passes over the data, two per-segment merges) instead of
 * the op chain's fourteen.  The backend's scratch buffer holds [nchunks partials][nseg m]
 * [nseg α] and, when no output can carry r and η between the passes, those P floats. */
#include "cl_backend.h"

enum { FG_DELTA = 1, FG_PLUS = 2, FG_MINUS = 4 };   /* as forget.cl */

static int same_view(mb_view a, mb_view b) { return a.buf == b.buf && a.off == b.off; }

/* A pass's kernel with its first arguments set: the buffer of r and η, the chunk table. */
static mb_cl_args pass_begin(mb_cl *cl, const char *name, cl_mem tmem, uint64_t to,
                             const mb_cl_segs *t, int nseg)
{
  mb_cl_args k = mb_cl_begin(cl, MB_CL_FORGET, name);
  if (!k.ks) return k;
  mb_cl_arg_mem(&k, tmem);
  mb_cl_arg_u64(&k, to);
  mb_cl_arg_mem(&k, t->table);
  mb_cl_arg_u64(&k, (uint64_t)nseg);
  mb_cl_arg_u64(&k, t->nchunks);
  return k;
}

/* A per-segment merge of the partials into part[out..]: the maxima, or with alpha the α. */
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
  /* r and η between the passes: in delta, else plus, else minus unless it is w (which
   * pass 3 reads), else in scratch after the per-segment values */
  const uint64_t mo = t->nchunks, ao = t->nchunks + (uint64_t)a->nseg, so = ao + (uint64_t)a->nseg;
  mb_view tv = a->delta.buf ? a->delta : a->plus.buf ? a->plus : a->minus;
  const int in_scratch = !tv.buf || same_view(tv, a->w);
  cl_mem part = mb_cl_scratch(cl, (so + (in_scratch ? a->offs[a->nseg] : 0)) * sizeof(float), op);
  if (!part) return;
  cl_mem tmem = in_scratch ? part : mb_cl_mem(tv);
  const uint64_t to = in_scratch ? so : tv.off;
  const size_t groups = t->nchunks < cl->max_groups ? t->nchunks : cl->max_groups;

  mb_cl_args k = pass_begin(cl, "forget_ratio", tmem, to, t, a->nseg);
  if (!k.ks) return;
  mb_cl_arg_view(&k, a->f_forget);
  mb_cl_arg_view(&k, a->f_remain);
  mb_cl_arg_f32(&k, a->scale_forget);
  mb_cl_arg_f32(&k, a->scale_remain);
  mb_cl_arg_f32(&k, 1.0f);
  mb_cl_arg_f32(&k, -1.0f);
  mb_cl_arg_f32(&k, 0.0f);
  mb_cl_arg_mem(&k, part);
  mb_cl_arg_local(&k, k.ks->local * sizeof(float));
  mb_cl_launch(&k, op, groups, k.ks->local);
  merge(cl, part, mo, t, a, 0);

  k = pass_begin(cl, "forget_eta", tmem, to, t, a->nseg);
  if (!k.ks) return;
  mb_cl_arg_mem(&k, part);
  mb_cl_arg_u64(&k, mo);
  mb_cl_arg_local(&k, k.ks->local * sizeof(float));
  mb_cl_launch(&k, op, groups, k.ks->local);
  merge(cl, part, ao, t, a, 1);

  k = pass_begin(cl, "forget_write", tmem, to, t, a->nseg);
  if (!k.ks) return;
  mb_cl_arg_i32(&k, (a->delta.buf ? FG_DELTA : 0) | (a->plus.buf ? FG_PLUS : 0) |
                        (a->minus.buf ? FG_MINUS : 0));
  mb_cl_arg_f32(&k, 1.0f);
  mb_cl_arg_f32(&k, -1.0f);
  mb_cl_arg_view(&k, a->w);
  mb_cl_arg_view(&k, a->delta);
  mb_cl_arg_view(&k, a->plus);
  mb_cl_arg_view(&k, a->minus);
  mb_cl_arg_mem(&k, part);
  mb_cl_arg_u64(&k, ao);
  mb_cl_launch(&k, op, groups, k.ks->local);
}
