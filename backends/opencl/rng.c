/* Philox RNG launches (kernels/opencl/rng.cl): one work-item per Philox block. */
#include "cl_backend.h"

void mb_opencl_rng(mb_backend *be, mb_rng_dist d, uint64_t seed, uint64_t stream, mb_view y,
                   size_t n, float p0, float p1)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl) || !n) return;
  static const char *const names[] = {
    [MB_RNG_U32] = "rng_u32", [MB_RNG_UNIFORM] = "rng_uniform", [MB_RNG_NORMAL] = "rng_normal",
  };
  if ((unsigned)d > MB_RNG_NORMAL) {
    mb_cl_fail(cl, MB_BAD_ARG, "rng: bad distribution %d", (int)d);
    return;
  }
  mb_cl_args k = mb_cl_begin(cl, MB_CL_RNG, names[d]);
  if (!k.ks) return;
  mb_cl_arg_view(&k, y);
  mb_cl_arg_u64(&k, n);
  mb_cl_arg_u64(&k, seed);
  mb_cl_arg_u64(&k, stream);
  if (d != MB_RNG_U32) {
    mb_cl_arg_f32(&k, p0);
    mb_cl_arg_f32(&k, p1);
  }
  size_t blocks = d == MB_RNG_NORMAL ? (n + 1) / 2 : (n + 3) / 4;
  mb_cl_launch(&k, "rng", mb_cl_groups(cl, blocks, k.ks->local), 0);
}
