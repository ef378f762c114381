/* im2col / col2im for NCHW and the permute that regroups columns (shaders/im2col.comp):
 * one invocation per element of cols (im2col), of dx (col2im, which gathers instead of
 * scattering: no atomics) or of y (permute). */
#include "vk_internal.h"

#define WG 256

static void conv(vk_be *be, vk_shader_id s, const mb_conv_geom *g, mb_view x, mb_view cols,
                 size_t total)
{
  if (be->base.status != MB_OK || total == 0) return;
  struct {
    uint32_t total;
    int32_t n, c, h, w, kh, kw, stride, pad, oh, ow;
    uint32_t x_off, cols_off;
  } pc = {(uint32_t)total, g->n, g->c, g->h, g->w, g->kh, g->kw, g->stride, g->pad, g->oh, g->ow,
          (uint32_t)x.off, (uint32_t)cols.off};
  vk_bind bind[2];
  if (s == VKS_IM2COL) {
    bind[0] = vk_bind_view(x);
    bind[1] = vk_bind_view(cols);
  } else {
    bind[0] = vk_bind_view(cols);
    bind[1] = vk_bind_view(x);
  }
  uint32_t spec[] = {WG};
  vk_dispatch(be, s, spec, 1, bind, 2, &pc, sizeof pc, vk_groups(total, WG), 1, 1);
}

void vk_im2col(mb_backend *mbe, const mb_conv_geom *g, mb_view x, mb_view cols)
{
  size_t total = (size_t)g->n * g->c * g->kh * g->kw * g->oh * g->ow;
  conv(VKB(mbe), VKS_IM2COL, g, x, cols, total);
}

void vk_col2im(mb_backend *mbe, const mb_conv_geom *g, mb_view cols, mb_view dx)
{
  size_t total = (size_t)g->n * g->c * g->h * g->w;
  conv(VKB(mbe), VKS_COL2IM, g, dx, cols, total);
}

void vk_permute(mb_backend *mbe, mb_view x, mb_view y, size_t outer, size_t mid, size_t inner)
{
  vk_be *be = VKB(mbe);
  size_t total = outer * mid * inner;
  if (mbe->status != MB_OK || total == 0) return;
  struct { uint32_t total, outer, mid, inner, x_off, y_off; } pc = {
    (uint32_t)total, (uint32_t)outer, (uint32_t)mid, (uint32_t)inner, (uint32_t)x.off,
    (uint32_t)y.off};
  vk_bind bind[] = {vk_bind_view(x), vk_bind_view(y)};
  uint32_t spec[] = {WG};
  vk_dispatch(be, VKS_PERMUTE, spec, 1, bind, 2, &pc, sizeof pc, vk_groups(total, WG), 1, 1);
}
