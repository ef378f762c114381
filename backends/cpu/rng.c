/* Philox4x32-10 streams (kernels/common/philox.h), one Philox block per iteration.
 * U32 and UNIFORM are bit-exact with the host functions (no contraction: the
 * library is built with -ffp-contract=off); NORMAL uses f32 Box–Muller. */
#include "cpu_backend.h"
#include "philox.h"

#include <math.h>

void cpu_rng(mb_backend *be, mb_rng_dist d, uint64_t seed, uint64_t stream, mb_view yv, size_t n,
             float p0, float p1)
{
  if (be->status != MB_OK) return;
  if (d == MB_RNG_U32 || d == MB_RNG_UNIFORM) {
    const size_t nb = (n + 3) / 4;
    const int uni = d == MB_RNG_UNIFORM;
    const float span = p1 - p0;
    uint32_t *yu = host_u32(yv);
    float *yf = host_f32(yv);
    CPU_OMP(omp parallel for if (n >= CPU_PAR_MIN / 4) schedule(static))
    for (size_t b = 0; b < nb; b++) {
      uint32_t w[4];
      mb_philox_block(seed, stream, b, w);
      const size_t i0 = b * 4, cnt = n - i0 < 4 ? n - i0 : 4;
      for (size_t j = 0; j < cnt; j++) {
        if (uni) yf[i0 + j] = p0 + span * mb_u32_to_unit(w[j]);
        else yu[i0 + j] = w[j];
      }
    }
  } else if (d == MB_RNG_NORMAL) {
    const size_t nb = (n + 1) / 2;
    float *y = host_f32(yv);
    const float two_pi = 6.28318530717958647692f;
    CPU_OMP(omp parallel for if (n >= CPU_PAR_MIN / 4) schedule(static))
    for (size_t b = 0; b < nb; b++) {
      uint32_t w[4];
      mb_philox_block(seed, stream, b, w);
      const size_t i0 = b * 2, cnt = n - i0 < 2 ? n - i0 : 2;
      for (size_t p = 0; p < cnt; p++) {
        const float u1 = (float)((w[2 * p] >> 8) + 1) * (1.0f / 16777216.0f);
        const float u2 = (float)(w[2 * p + 1] >> 8) * (1.0f / 16777216.0f);
        const float z = sqrtf(-2.0f * logf(u1)) * cosf(two_pi * u2);
        y[i0 + p] = p0 + p1 * z;
      }
    }
  } else {
    host_fail(be, MB_BAD_ARG, "rng: unknown distribution %d", (int)d);
  }
}
