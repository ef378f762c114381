/* Row gather (shaders/gather.comp): one invocation per destination element; 4-byte
 * rows as raw bits, or u8 rows widened and scaled. */
#include "vk_internal.h"

#define WG 256

void vk_gather_rows(mb_backend *mbe, const mb_gather_args *a)
{
  vk_be *be = VKB(mbe);
  size_t n = (size_t)a->n_rows * (size_t)a->row_len;
  if (mbe->status != MB_OK || n == 0) return;
  struct { uint32_t n, row_len, n_src, src_off, idx_off, dst_off; float scale; } pc = {
    (uint32_t)n, (uint32_t)a->row_len, (uint32_t)(a->n_src_rows > 0 ? a->n_src_rows : 0),
    (uint32_t)a->src.off, (uint32_t)a->idx.off, (uint32_t)a->dst.off, a->scale};
  vk_bind bind[] = {vk_bind_view(a->src), vk_bind_view(a->idx), vk_bind_view(a->dst)};
  uint32_t spec[] = {WG, a->src_u8 ? 1u : 0u};
  vk_dispatch(be, VKS_GATHER, spec, 2, bind, 3, &pc, sizeof pc, vk_groups(n, WG), 1, 1);
}
