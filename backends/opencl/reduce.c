/* Reduction launches: reduce, seg_reduce, seg_bcast (kernels/opencl/reduce.cl).
 * No atomics anywhere: the split of the work depends only on the shape and the
 * device's work-group size, so reruns give identical bits. */
#include "cl_backend.h"

#include <stdlib.h>
#include <string.h>

static size_t pow2_ceil(size_t v)
{
  size_t p = 1;
  while (p < v) p *= 2;
  return p;
}

/* ---- segment tables, cached on the device by offs contents ---- */

static void drop_segs(mb_cl_segs *s)
{
  if (s->table) clReleaseMemObject(s->table);   /* deferred until queued users finish */
  free(s->offs);
  memset(s, 0, sizeof *s);
}

void mb_cl_release_segs(mb_cl *cl)
{
  for (int i = 0; i < MB_CL_SEG_CACHE; i++) drop_segs(&cl->segs[i]);
}

/* The table for offs (see reduce.cl for its layout), uploaded once per contents. */
const mb_cl_segs *mb_cl_seg_table(mb_cl *cl, const size_t *offs, int nseg, const char *op)
{
  size_t bytes = (size_t)(nseg + 1) * sizeof *offs;
  mb_cl_segs *victim = &cl->segs[0];
  for (int i = 0; i < MB_CL_SEG_CACHE; i++) {
    mb_cl_segs *s = &cl->segs[i];
    if (s->offs && s->nseg == nseg && memcmp(s->offs, offs, bytes) == 0) {
      s->last_use = ++cl->seg_clock;
      return s;
    }
    if (!s->offs || (victim->offs && s->last_use < victim->last_use)) victim = s;
  }

  size_t nchunks = 0;
  for (int s = 0; s < nseg; s++)
    nchunks += (offs[s + 1] - offs[s] + MB_CL_SEG_CHUNK - 1) / MB_CL_SEG_CHUNK;
  size_t n = 2 * (size_t)(nseg + 1) + 2 * nchunks;
  cl_ulong *tab = malloc(n * sizeof *tab);
  size_t *copy = malloc(bytes);
  if (!tab || !copy) {
    free(tab);
    free(copy);
    mb_cl_fail(cl, MB_OOM, "%s: out of host memory for %d segments", op, nseg);
    return NULL;
  }
  memcpy(copy, offs, bytes);
  cl_ulong *first = tab + nseg + 1, *chunks = tab + 2 * (nseg + 1);
  size_t c = 0;
  for (int s = 0; s <= nseg; s++) tab[s] = offs[s];
  for (int s = 0; s < nseg; s++) {
    first[s] = c;
    for (size_t b = offs[s]; b < offs[s + 1]; b += MB_CL_SEG_CHUNK, c++) {
      chunks[2 * c] = b;
      chunks[2 * c + 1] = offs[s + 1] - b > MB_CL_SEG_CHUNK ? b + MB_CL_SEG_CHUNK : offs[s + 1];
    }
  }
  first[nseg] = c;

  /* COPY_HOST_PTR copies now, outside the queue: no wait on queued work. */
  cl_int err;
  cl_mem m = clCreateBuffer(cl->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, n * sizeof *tab, tab,
                            &err);
  free(tab);
  if (!mb_cl_check(cl, err, op, "clCreateBuffer (segment table)")) {
    free(copy);
    return NULL;
  }
  drop_segs(victim);
  victim->offs = copy;
  victim->nseg = nseg;
  victim->nchunks = nchunks;
  victim->table = m;
  victim->last_use = ++cl->seg_clock;
  return victim;
}

/* Scratch for partials; the in-order queue makes reuse across calls safe. */
cl_mem mb_cl_scratch(mb_cl *cl, size_t bytes, const char *op)
{
  if (cl->scratch_bytes >= bytes) return cl->scratch;
  size_t want = bytes > 2 * cl->scratch_bytes ? bytes : 2 * cl->scratch_bytes;
  cl_int err;
  cl_mem m = clCreateBuffer(cl->ctx, CL_MEM_READ_WRITE, want, NULL, &err);
  if (!mb_cl_check(cl, err, op, "clCreateBuffer (scratch)")) return NULL;
  if (cl->scratch) clReleaseMemObject(cl->scratch);
  cl->scratch = m;
  cl->scratch_bytes = want;
  return m;
}

/* Two passes: chunks of at most MB_CL_SEG_CHUNK elements, then per segment. */
static void seg_reduce_run(mb_cl *cl, mb_reduce_op op, mb_view x, mb_view y, const size_t *offs,
                           int nseg, const char *name)
{
  const mb_cl_segs *t = mb_cl_seg_table(cl, offs, nseg, name);
  if (!t) return;
  cl_mem part = mb_cl_scratch(cl, (t->nchunks ? t->nchunks : 1) * sizeof(cl_double), name);
  if (!part) return;

  mb_cl_args k = mb_cl_begin(cl, MB_CL_REDUCE, "seg_partial");
  if (!k.ks) return;
  size_t local = k.ks->local;
  mb_cl_arg_view(&k, x);
  mb_cl_arg_mem(&k, t->table);
  mb_cl_arg_u64(&k, (uint64_t)nseg);
  mb_cl_arg_u64(&k, t->nchunks);
  mb_cl_arg_i32(&k, (int)op);
  mb_cl_arg_mem(&k, part);
  mb_cl_arg_local(&k, local * sizeof(cl_double));
  mb_cl_arg_local(&k, local * sizeof(cl_long));
  if (t->nchunks)
    mb_cl_launch(&k, name, t->nchunks < cl->max_groups ? t->nchunks : cl->max_groups, local);

  k = mb_cl_begin(cl, MB_CL_REDUCE, "seg_final");
  if (!k.ks) return;
  local = k.ks->local;
  mb_cl_arg_mem(&k, part);
  mb_cl_arg_mem(&k, t->table);
  mb_cl_arg_u64(&k, (uint64_t)nseg);
  mb_cl_arg_i32(&k, (int)op);
  mb_cl_arg_view(&k, y);
  mb_cl_arg_local(&k, local * sizeof(cl_double));
  mb_cl_arg_local(&k, local * sizeof(cl_long));
  mb_cl_launch(&k, name, (size_t)nseg < cl->max_groups ? (size_t)nseg : cl->max_groups, local);
}

void mb_opencl_seg_reduce(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y, const size_t *offs,
                          int nseg)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl) || nseg < 1) return;
  if (op == MB_RED_ARGMAX || (unsigned)op >= MB_RED__COUNT) {
    mb_cl_fail(cl, MB_BAD_ARG, "seg_reduce: op %d is not segmented", (int)op);
    return;
  }
  seg_reduce_run(cl, op, x, y, offs, nseg, "seg_reduce");
}

void mb_opencl_reduce(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y, size_t outer,
                      size_t mid, size_t inner)
{
  mb_cl *cl = mb_cl_of(be);
  size_t nout = outer * inner;
  if (!mb_cl_ok(cl) || !nout || !mid) return;
  if ((unsigned)op >= MB_RED__COUNT) {
    mb_cl_fail(cl, MB_BAD_ARG, "reduce: bad op %d", (int)op);
    return;
  }

  /* A few very long rows: split each row over many work-groups, as segments. */
  if (op != MB_RED_ARGMAX && inner == 1 && outer <= 64 && mid >= 4 * (size_t)MB_CL_SEG_CHUNK) {
    size_t offs[65];
    for (size_t r = 0; r <= outer; r++) offs[r] = r * mid;
    seg_reduce_run(cl, op, x, y, offs, (int)outer, "reduce");
    return;
  }

  /* Rows long enough for a work-group each (or few outputs): tree per output.
   * Otherwise one work-item per output walks its row in order. */
  int rows = inner == 1 ? mid >= 32 : (nout < 256 && mid >= 1024);
  mb_cl_args k = mb_cl_begin(cl, MB_CL_REDUCE, rows ? "reduce_rows" : "reduce_cols");
  if (!k.ks) return;
  mb_cl_arg_view(&k, x);
  mb_cl_arg_view(&k, y);
  mb_cl_arg_u64(&k, outer);
  mb_cl_arg_u64(&k, mid);
  mb_cl_arg_u64(&k, inner);
  mb_cl_arg_i32(&k, (int)op);
  if (rows) {
    size_t local = pow2_ceil(mid) < k.ks->local ? pow2_ceil(mid) : k.ks->local;
    mb_cl_arg_local(&k, local * sizeof(cl_double));
    mb_cl_arg_local(&k, local * sizeof(cl_long));
    mb_cl_launch(&k, "reduce", nout < cl->max_groups ? nout : cl->max_groups, local);
  } else {
    mb_cl_launch(&k, "reduce", mb_cl_groups(cl, nout, k.ks->local), 0);
  }
}

static const char *const k_segbc[] = {
  [MB_SEGBC_MUL] = "seg_bcast_mul", [MB_SEGBC_ADD] = "seg_bcast_add",
  [MB_SEGBC_INF_TO] = "seg_bcast_inf_to",
};

void mb_opencl_seg_bcast(mb_backend *be, mb_segbcast_op op, mb_view x, mb_view v, mb_view y,
                         const size_t *offs, int nseg)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl) || nseg < 1) return;
  if ((unsigned)op >= MB_SEGBC__COUNT) {
    mb_cl_fail(cl, MB_BAD_ARG, "seg_bcast: bad op %d", (int)op);
    return;
  }
  const mb_cl_segs *t = mb_cl_seg_table(cl, offs, nseg, "seg_bcast");
  if (!t) return;
  size_t n = offs[nseg] - offs[0];
  if (!n) return;
  mb_cl_args k = mb_cl_begin(cl, MB_CL_REDUCE, k_segbc[op]);
  if (!k.ks) return;
  mb_cl_arg_view(&k, x);
  mb_cl_arg_view(&k, v);
  mb_cl_arg_view(&k, y);
  mb_cl_arg_mem(&k, t->table);
  mb_cl_arg_u64(&k, (uint64_t)nseg);
  mb_cl_launch(&k, "seg_bcast", mb_cl_groups(cl, n, k.ks->local), 0);
}
