/* rng: wrapper over kernels/cuda/rng.cu (Philox4x32-10, bit-identical to the host). */
#include "cuda_internal.h"

void cu_rng(mb_backend *be, mb_rng_dist d, uint64_t seed, uint64_t stream, mb_view y, size_t n,
            float p0, float p1)
{
  if (!n || !cu_begin(be, "rng")) return;
  if (d != MB_RNG_U32 && d != MB_RNG_UNIFORM && d != MB_RNG_NORMAL) {
    cu_fail(be, MB_UNSUPPORTED, "rng", "unknown distribution %d", (int)d);
    return;
  }
  mb_cu_rng(cu_of(be)->stream, d, seed, stream, cu_ptr(y), n, p0, p1);
  cu_launched(be, "rng");
}
