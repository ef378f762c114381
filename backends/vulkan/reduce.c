/* Reductions (shaders/reduce.comp).  reduce() picks one invocation per output
 * (short axes, or enough outputs to fill the device), one work-group per output
 * (few outputs over a long axis), or for a few very long rows the two-pass
 * segmented path.  Segment tables go to the device through the frame's
 * host-visible scratch memory. */
#include "vk_internal.h"

#include <stdlib.h>

#define WG_COL 64
#define WG_SEG 256
#define SEG_CHUNK 8192   /* elements per work-group in the first of two passes */
#define BC_CHUNK 4096    /* elements per work-group of seg_bcast */

/* offs[0..nseg] as u32 in scratch memory; returns the binding and its element offset. */
static int seg_table(vk_be *be, const size_t *offs, int nseg, vk_bind *bind, uint32_t *o_off)
{
  VkBuffer buf;
  VkDeviceSize off;
  uint32_t *t = vk_scratch(be, (VkDeviceSize)(nseg + 1) * 4, &buf, &off);
  if (!t) return 0;
  for (int s = 0; s <= nseg; s++) t[s] = (uint32_t)offs[s];
  *bind = (vk_bind){.buf = buf, .view = VK_NULL_HANDLE, .owner = NULL};
  *o_off = (uint32_t)(off / 4);
  return 1;
}

static void seg_pass(vk_be *be, mb_reduce_op op, vk_bind x, uint32_t x_off, vk_bind y,
                     uint32_t y_off, const size_t *offs, int nseg)
{
  vk_bind bind[3] = {x, y};
  uint32_t o_off;
  if (!seg_table(be, offs, nseg, &bind[2], &o_off)) return;
  struct { uint32_t x_off, y_off, o_off, nseg; } pc = {x_off, y_off, o_off, (uint32_t)nseg};
  uint32_t spec[] = {WG_SEG, (uint32_t)op};
  vk_dispatch(be, VKS_SEG_REDUCE, spec, 2, bind, 3, &pc, sizeof pc, (uint32_t)nseg, 1, 1);
}

/* Device scratch of at least n elements, kept between calls. */
vk_buf *vk_temp(vk_be *be, size_t n)
{
  if (be->tmp && be->tmp->base.bytes >= n * 4) return be->tmp;
  if (be->tmp) vk_buf_release(be, be->tmp);   /* waits for its users (deferred) */
  be->tmp = vk_buf_create(be, n * 4 > 4096 ? n * 4 : 4096);
  return be->tmp;
}

/* Segments longer than SEG_CHUNK are reduced in two passes: one work-group per chunk
 * into partials, then one per segment over its partials, so a long segment does not
 * run on a single work-group (one core on lavapipe, one SM on a GPU). */
static void seg_reduce(vk_be *be, mb_reduce_op op, mb_view x, mb_view y, const size_t *offs, int nseg)
{
  size_t nchunks = 0;
  for (int s = 0; s < nseg; s++) nchunks += (offs[s + 1] - offs[s] + SEG_CHUNK - 1) / SEG_CHUNK;
  if (nchunks == (size_t)nseg) {
    seg_pass(be, op, vk_bind_view(x), (uint32_t)x.off, vk_bind_view(y), (uint32_t)y.off, offs, nseg);
    return;
  }
  size_t *chunk = malloc((nchunks + 1) * sizeof *chunk), *part = malloc(((size_t)nseg + 1) * sizeof *part);
  vk_buf *t = chunk && part ? vk_temp(be, nchunks) : NULL;
  if (!chunk || !part) vk_fail(be, MB_OOM, "seg_reduce: out of host memory");
  if (t) {
    size_t c = 0;
    for (int s = 0; s < nseg; s++) {
      part[s] = c;
      for (size_t e = offs[s]; e < offs[s + 1]; e += SEG_CHUNK) chunk[c++] = e;
    }
    chunk[c] = offs[nseg];
    part[nseg] = c;
    vk_bind tb = {.buf = t->buf, .view = VK_NULL_HANDLE, .owner = t};
    seg_pass(be, op, vk_bind_view(x), (uint32_t)x.off, tb, 0, chunk, (int)nchunks);
    /* partial sums of squares are summed; maxima combine as maxima */
    seg_pass(be, op == MB_RED_SUMSQ ? MB_RED_SUM : op, tb, 0, vk_bind_view(y), (uint32_t)y.off,
             part, nseg);
  }
  free(chunk);
  free(part);
}

void vk_reduce(mb_backend *mbe, mb_reduce_op op, mb_view x, mb_view y, size_t outer, size_t mid,
               size_t inner)
{
  vk_be *be = VKB(mbe);
  size_t nout = outer * inner;
  if (mbe->status != MB_OK || nout == 0 || mid == 0) return;
  if ((unsigned)op >= MB_RED__COUNT) { vk_fail(be, MB_BAD_ARG, "reduce: unknown op %d", (int)op); return; }
  struct { uint32_t x_off, y_off, nout, mid, inner; } pc = {
    (uint32_t)x.off, (uint32_t)y.off, (uint32_t)nout, (uint32_t)mid, (uint32_t)inner};
  if (inner == 1 && outer <= 64 && mid >= 2 * SEG_CHUNK && op != MB_RED_ARGMAX) {
    size_t offs[65];
    for (size_t o = 0; o <= outer; o++) offs[o] = o * mid;
    seg_reduce(be, op, x, y, offs, (int)outer);
    return;
  }
  vk_bind bind[] = {vk_bind_view(x), vk_bind_view(y)};
  if (mid <= 64 || nout >= 4096) {
    uint32_t spec[] = {WG_COL, (uint32_t)op};
    vk_dispatch(be, VKS_REDUCE_COL, spec, 2, bind, 2, &pc, sizeof pc, vk_groups(nout, WG_COL), 1, 1);
  } else {
    uint32_t spec[] = {mid >= 4096 ? 256u : 64u, (uint32_t)op};
    vk_dispatch(be, VKS_REDUCE_WG, spec, 2, bind, 2, &pc, sizeof pc, (uint32_t)nout, 1, 1);
  }
}

void vk_seg_reduce(mb_backend *mbe, mb_reduce_op op, mb_view x, mb_view y, const size_t *offs,
                   int nseg)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || nseg < 1) return;
  if (op == MB_RED_ARGMAX || (unsigned)op >= MB_RED__COUNT) {
    vk_fail(be, MB_BAD_ARG, "seg_reduce: op %d is not a segmented reduction", (int)op);
    return;
  }
  seg_reduce(be, op, x, y, offs, nseg);
}

void vk_seg_bcast(mb_backend *mbe, mb_segbcast_op op, mb_view x, mb_view v, mb_view y,
                  const size_t *offs, int nseg)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || nseg < 1 || offs[nseg] <= offs[0]) return;
  if ((unsigned)op >= MB_SEGBC__COUNT) { vk_fail(be, MB_BAD_ARG, "seg_bcast: unknown op %d", (int)op); return; }
  size_t nchunks = 0;
  for (int s = 0; s < nseg; s++) nchunks += (offs[s + 1] - offs[s] + BC_CHUNK - 1) / BC_CHUNK;
  /* per chunk {first element, end, segment} */
  VkBuffer buf;
  VkDeviceSize off;
  uint32_t *t = vk_scratch(be, (VkDeviceSize)nchunks * 12, &buf, &off);
  if (!t) return;
  size_t c = 0;
  for (int s = 0; s < nseg; s++)
    for (size_t e = offs[s]; e < offs[s + 1]; e += BC_CHUNK, c++) {
      t[3 * c] = (uint32_t)e;
      t[3 * c + 1] = (uint32_t)(offs[s + 1] - e < BC_CHUNK ? offs[s + 1] : e + BC_CHUNK);
      t[3 * c + 2] = (uint32_t)s;
    }
  vk_bind bind[4] = {vk_bind_view(x), vk_bind_view(v), vk_bind_view(y),
                     {.buf = buf, .view = VK_NULL_HANDLE, .owner = NULL}};
  struct { uint32_t x_off, v_off, y_off, t_off, nchunks; } pc = {
    (uint32_t)x.off, (uint32_t)v.off, (uint32_t)y.off, (uint32_t)(off / 4), (uint32_t)nchunks};
  uint32_t spec[] = {WG_SEG, (uint32_t)op};
  vk_dispatch(be, VKS_SEG_BCAST, spec, 2, bind, 4, &pc, sizeof pc, (uint32_t)nchunks, 1, 1);
}
