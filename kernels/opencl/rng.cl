/* Philox4x32-10 streams (see philox.h for the mapping every backend shares).
 * One work-item per Philox block; it writes the block's 4 (U32, UNIFORM) or
 * 2 (NORMAL) elements.  The host passes philox.h as its own source string. */
#include "philox.h"

/* p0 + (p1-p0)*u must round exactly like the host's C (no fused multiply-add). */
#pragma OPENCL FP_CONTRACT OFF

#define GRID_LOOP(i, n) for (ulong i = get_global_id(0); i < (n); i += get_global_size(0))

__kernel void rng_u32(__global uint *y, ulong yo, ulong n, ulong seed, ulong stream)
{
  y += yo;
  GRID_LOOP(blk, (n + 3) / 4) {
    uint w[4];
    mb_philox_block(seed, stream, blk, w);
    for (int k = 0; k < 4; k++)
      if (blk * 4 + k < n) y[blk * 4 + k] = w[k];
  }
}

__kernel void rng_uniform(__global float *y, ulong yo, ulong n, ulong seed, ulong stream, float p0,
                          float p1)
{
  y += yo;
  GRID_LOOP(blk, (n + 3) / 4) {
    uint w[4];
    mb_philox_block(seed, stream, blk, w);
    for (int k = 0; k < 4; k++)
      if (blk * 4 + k < n) y[blk * 4 + k] = p0 + (p1 - p0) * mb_u32_to_unit(w[k]);
  }
}

/* Box-Muller (cos branch): element 2*blk + p uses words 2p, 2p+1 of block blk. */
__kernel void rng_normal(__global float *y, ulong yo, ulong n, ulong seed, ulong stream, float p0,
                         float p1)
{
  y += yo;
  GRID_LOOP(blk, (n + 1) / 2) {
    uint w[4];
    mb_philox_block(seed, stream, blk, w);
    for (int p = 0; p < 2; p++) {
      if (blk * 2 + p >= n) break;
      float u1 = (float)((w[2 * p] >> 8) + 1u) * (1.0f / 16777216.0f);
      float u2 = (float)(w[2 * p + 1] >> 8) * (1.0f / 16777216.0f);
      float z = sqrt(-2.0f * log(u1)) * cos(6.28318530717958647692f * u2);
      y[blk * 2 + p] = p0 + p1 * z;
    }
  }
}
