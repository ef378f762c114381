/* Pooling (shaders/pool.comp): one invocation per output (forward) or per input
 * element (backward, gathering: no atomics). */
#include "vk_internal.h"

#define WG 256

static void pool(vk_be *be, vk_shader_id s, const mb_pool_args *a, mb_view in, mb_view out,
                 size_t total, int with_idx)
{
  if (be->base.status != MB_OK || total == 0) return;
  const mb_conv_geom *g = &a->g;
  struct {
    uint32_t a_off, b_off, idx_off, total, kind, flags;
    int32_t n, c, h, w, kh, kw, stride, pad, oh, ow;
  } pc = {(uint32_t)in.off, (uint32_t)out.off, with_idx ? (uint32_t)a->idx.off : 0u,
          (uint32_t)total, a->kind == MB_POOL_MAX ? 0u : 1u,
          (with_idx ? 1u : 0u) | (a->count_pad ? 2u : 0u),
          g->n, g->c, g->h, g->w, g->kh, g->kw, g->stride, g->pad, g->oh, g->ow};
  vk_bind b[3] = {vk_bind_view(in), vk_bind_view(out),
                  with_idx ? vk_bind_view(a->idx) : vk_bind_none(be)};
  uint32_t spec[] = {WG};
  vk_dispatch(be, s, spec, 1, b, 3, &pc, sizeof pc, vk_groups(total, WG), 1, 1);
}

void vk_pool(mb_backend *mbe, const mb_pool_args *a)
{
  const mb_conv_geom *g = &a->g;
  pool(VKB(mbe), VKS_POOL_FWD, a, a->x, a->y, (size_t)g->n * g->c * g->oh * g->ow,
       a->kind == MB_POOL_MAX && a->idx.buf);
}

void vk_pool_bwd(mb_backend *mbe, const mb_pool_args *a)
{
  const mb_conv_geom *g = &a->g;
  pool(VKB(mbe), VKS_POOL_BWD, a, a->dy, a->dx, (size_t)g->n * g->c * g->h * g->w,
       a->kind == MB_POOL_MAX);
}
