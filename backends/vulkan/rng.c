/* Philox4x32-10 streams (shaders/rng.comp, shaders/include/philox.glsl): one
 * invocation per counter block, so 4 (U32, UNIFORM) or 2 (NORMAL) elements each. */
#include "vk_internal.h"

#define WG 256

void vk_rng(mb_backend *mbe, mb_rng_dist d, uint64_t seed, uint64_t stream, mb_view y, size_t n,
            float p0, float p1)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || n == 0) return;
  if (d != MB_RNG_U32 && d != MB_RNG_UNIFORM && d != MB_RNG_NORMAL) {
    vk_fail(be, MB_BAD_ARG, "rng: unknown distribution %d", (int)d);
    return;
  }
  struct { uint32_t n, y_off, seed_lo, seed_hi, stream_lo, stream_hi; float p0, p1; } pc = {
    (uint32_t)n, (uint32_t)y.off, (uint32_t)seed, (uint32_t)(seed >> 32), (uint32_t)stream,
    (uint32_t)(stream >> 32), p0, p1};
  size_t blocks = d == MB_RNG_NORMAL ? (n + 1) / 2 : (n + 3) / 4;
  vk_bind bind[] = {vk_bind_view(y)};
  uint32_t spec[] = {WG, (uint32_t)d};
  vk_dispatch(be, VKS_RNG, spec, 2, bind, 1, &pc, sizeof pc, vk_groups(blocks, WG), 1, 1);
}
