/* Philox4x32-10 streams (kernels/common/philox.h).  U32 and UNIFORM are bit-exact
 * with the host functions; NORMAL evaluates Box–Muller in double. */
#include "ref_backend.h"
#include "philox.h"

#include <math.h>

void ref_rng(mb_backend *be, mb_rng_dist d, uint64_t seed, uint64_t stream, mb_view y, size_t n,
             float p0, float p1)
{
  if (be->status != MB_OK) return;
  uint32_t w[4];
  switch (d) {
  case MB_RNG_U32: {
    uint32_t *yp = host_u32(y);
    for (size_t i = 0; i < n; i++) yp[i] = mb_philox_u32(seed, stream, i);
    break;
  }
  case MB_RNG_UNIFORM: {
    float *yp = host_f32(y);
    const float span = p1 - p0;
    for (size_t i = 0; i < n; i++) yp[i] = p0 + span * mb_u32_to_unit(mb_philox_u32(seed, stream, i));
    break;
  }
  case MB_RNG_NORMAL: {
    float *yp = host_f32(y);
    const double two_pi = 6.283185307179586476925286766559;
    for (size_t i = 0; i < n; i++) {
      mb_philox_block(seed, stream, i >> 1, w);
      const uint32_t w0 = w[2 * (i & 1)], w1 = w[2 * (i & 1) + 1];
      const double u1 = ((double)(w0 >> 8) + 1.0) * (1.0 / 16777216.0);
      const double u2 = (double)(w1 >> 8) * (1.0 / 16777216.0);
      const double z = sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
      yp[i] = (float)((double)p0 + (double)p1 * z);
    }
    break;
  }
  default: host_fail(be, MB_BAD_ARG, "rng: unknown distribution %d", (int)d); break;
  }
}
