/* Elementwise ops (shaders/eltwise.comp): one invocation per element, the op a
 * specialization constant.  Views may alias exactly (y == x): each invocation reads
 * its element before writing it. */
#include "vk_internal.h"

#define WG 256

void vk_unary(mb_backend *mbe, mb_unary_op op, mb_view x, mb_view y, size_t n, float a, float b)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || n == 0) return;
  if ((unsigned)op >= MB_UN__COUNT) { vk_fail(be, MB_BAD_ARG, "unary: unknown op %d", (int)op); return; }
  struct { uint32_t n, x_off, y_off; float a, b; } pc = {
    (uint32_t)n, (uint32_t)x.off, (uint32_t)y.off, a, b};
  vk_bind bind[] = {vk_bind_view(x), vk_bind_view(y)};
  uint32_t spec[] = {WG, (uint32_t)op};
  vk_dispatch(be, VKS_UNARY, spec, 2, bind, 2, &pc, sizeof pc, vk_groups(n, WG), 1, 1);
}

void vk_binary(mb_backend *mbe, mb_binary_op op, mb_view x1, mb_view x2, mb_view y, size_t n,
               float a, float b)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || n == 0) return;
  if ((unsigned)op >= MB_BIN__COUNT) { vk_fail(be, MB_BAD_ARG, "binary: unknown op %d", (int)op); return; }
  struct { uint32_t n, x1_off, x2_off, y_off; float a, b; } pc = {
    (uint32_t)n, (uint32_t)x1.off, (uint32_t)x2.off, (uint32_t)y.off, a, b};
  vk_bind bind[] = {vk_bind_view(x1), vk_bind_view(x2), vk_bind_view(y)};
  uint32_t spec[] = {WG, (uint32_t)op};
  vk_dispatch(be, VKS_BINARY, spec, 2, bind, 3, &pc, sizeof pc, vk_groups(n, WG), 1, 1);
}

void vk_where(mb_backend *mbe, mb_view cond, mb_view x1, mb_view x2, mb_view y, size_t n)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || n == 0) return;
  struct { uint32_t n, c_off, x1_off, x2_off, y_off; } pc = {
    (uint32_t)n, (uint32_t)cond.off, (uint32_t)x1.off, (uint32_t)x2.off, (uint32_t)y.off};
  vk_bind bind[] = {vk_bind_view(cond), vk_bind_view(x1), vk_bind_view(x2), vk_bind_view(y)};
  uint32_t spec[] = {WG};
  vk_dispatch(be, VKS_WHERE, spec, 1, bind, 4, &pc, sizeof pc, vk_groups(n, WG), 1, 1);
}

void vk_bcast(mb_backend *mbe, mb_bcast_op op, mb_view x, mb_view v, mb_view y, size_t outer,
              size_t mid, size_t inner)
{
  vk_be *be = VKB(mbe);
  size_t n = outer * mid * inner;
  if (mbe->status != MB_OK || n == 0) return;
  if ((unsigned)op >= MB_BC__COUNT) { vk_fail(be, MB_BAD_ARG, "bcast: unknown op %d", (int)op); return; }
  struct { uint32_t n, x_off, v_off, y_off, mid, inner; } pc = {
    (uint32_t)n, (uint32_t)x.off, (uint32_t)v.off, (uint32_t)y.off, (uint32_t)mid, (uint32_t)inner};
  vk_bind bind[] = {vk_bind_view(x), vk_bind_view(v), vk_bind_view(y)};
  uint32_t spec[] = {WG, (uint32_t)op};
  vk_dispatch(be, VKS_BCAST, spec, 2, bind, 3, &pc, sizeof pc, vk_groups(n, WG), 1, 1);
}
