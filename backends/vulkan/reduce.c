/* Reductions (shaders/reduce.comp).  reduce() picks one invocation per output
 * (short axes, or enough outputs to fill the device) or one work-group per output
 * (few outputs over a long axis).  Segment tables go to the device through the
 * frame's host-visible scratch memory. */
#include "vk_internal.h"

#define WG_COL 64
#define WG_SEG 256

void vk_reduce(mb_backend *mbe, mb_reduce_op op, mb_view x, mb_view y, size_t outer, size_t mid,
               size_t inner)
{
  vk_be *be = VKB(mbe);
  size_t nout = outer * inner;
  if (mbe->status != MB_OK || nout == 0 || mid == 0) return;
  struct { uint32_t x_off, y_off, nout, mid, inner; } pc = {
    (uint32_t)x.off, (uint32_t)y.off, (uint32_t)nout, (uint32_t)mid, (uint32_t)inner};
  vk_bind bind[] = {vk_bind_view(x), vk_bind_view(y)};
  if (mid <= 64 || nout >= 4096) {
    uint32_t spec[] = {WG_COL, (uint32_t)op};
    vk_dispatch(be, VKS_REDUCE_COL, spec, 2, bind, 2, &pc, sizeof pc, vk_groups(nout, WG_COL), 1, 1);
  } else {
    uint32_t spec[] = {mid >= 4096 ? 256u : 64u, (uint32_t)op};
    vk_dispatch(be, VKS_REDUCE_WG, spec, 2, bind, 2, &pc, sizeof pc, (uint32_t)nout, 1, 1);
  }
}

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

void vk_seg_reduce(mb_backend *mbe, mb_reduce_op op, mb_view x, mb_view y, const size_t *offs,
                   int nseg)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || nseg < 1) return;
  vk_bind bind[3] = {vk_bind_view(x), vk_bind_view(y)};
  uint32_t o_off;
  if (!seg_table(be, offs, nseg, &bind[2], &o_off)) return;
  struct { uint32_t x_off, y_off, o_off, nseg; } pc = {
    (uint32_t)x.off, (uint32_t)y.off, o_off, (uint32_t)nseg};
  uint32_t spec[] = {WG_SEG, (uint32_t)op};
  vk_dispatch(be, VKS_SEG_REDUCE, spec, 2, bind, 3, &pc, sizeof pc, (uint32_t)nseg, 1, 1);
}

void vk_seg_bcast(mb_backend *mbe, mb_segbcast_op op, mb_view x, mb_view v, mb_view y,
                  const size_t *offs, int nseg)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || nseg < 1 || offs[nseg] <= offs[0]) return;
  vk_bind bind[4] = {vk_bind_view(x), vk_bind_view(v), vk_bind_view(y)};
  uint32_t o_off;
  if (!seg_table(be, offs, nseg, &bind[3], &o_off)) return;
  struct { uint32_t x_off, v_off, y_off, o_off, nseg; } pc = {
    (uint32_t)x.off, (uint32_t)v.off, (uint32_t)y.off, o_off, (uint32_t)nseg};
  uint32_t spec[] = {WG_SEG, (uint32_t)op};
  vk_dispatch(be, VKS_SEG_BCAST, spec, 2, bind, 4, &pc, sizeof pc,
              vk_groups(offs[nseg] - offs[0], WG_SEG), 1, 1);
}
