/* rng: Philox4x32-10 with the stream mapping of kernels/common/philox.h.  One thread
 * per Philox block: 4 elements for U32/UNIFORM, 2 for NORMAL.  Box–Muller and
 * p0 + p1·z run in f64 like the host code, rounded once to f32. */
#include "launch.h"
#include "block.cuh"
#include "../common/philox.h"

#define MB_CU_2PI 6.283185307179586476925286766559

template <int DIST>
__global__ void rng4_k(uint32_t *y, size_t n, mb_u64 seed, mb_u64 stream, float p0, float p1)
{
  size_t nb = (n + 3) / 4;
  MB_CU_FOR(size_t, b, nb) {
    mb_u32 w[4];
    mb_philox_block(seed, stream, (mb_u64)b, w);
#pragma unroll
    for (int k = 0; k < 4; k++) {
      size_t i = 4 * b + k;
      if (i >= n) break;
      if (DIST == MB_RNG_U32)
        y[i] = w[k];
      else
        y[i] = __float_as_uint(p0 + (p1 - p0) * mb_u32_to_unit(w[k]));
    }
  }
}

__global__ void rng_normal_k(float *y, size_t n, mb_u64 seed, mb_u64 stream, float p0, float p1)
{
  size_t nb = (n + 1) / 2;
  MB_CU_FOR(size_t, b, nb) {
    mb_u32 w[4];
    mb_philox_block(seed, stream, (mb_u64)b, w);
#pragma unroll
    for (int p = 0; p < 2; p++) {
      size_t i = 2 * b + p;
      if (i >= n) break;
      double u1 = ((double)(w[2 * p] >> 8) + 1.0) * (1.0 / 16777216.0);
      double u2 = (double)(w[2 * p + 1] >> 8) * (1.0 / 16777216.0);
      double z = sqrt(-2.0 * log(u1)) * cos(MB_CU_2PI * u2);
      y[i] = (float)((double)p0 + (double)p1 * z);
    }
  }
}

extern "C" void mb_cu_rng(cudaStream_t s, mb_rng_dist d, uint64_t seed, uint64_t stream, void *y,
                          size_t n, float p0, float p1)
{
  switch (d) {
  case MB_RNG_U32:
    rng4_k<MB_RNG_U32><<<mb_cu_blocks((n + 3) / 4, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(
        (uint32_t *)y, n, seed, stream, p0, p1);
    break;
  case MB_RNG_UNIFORM:
    rng4_k<MB_RNG_UNIFORM><<<mb_cu_blocks((n + 3) / 4, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(
        (uint32_t *)y, n, seed, stream, p0, p1);
    break;
  case MB_RNG_NORMAL:
    rng_normal_k<<<mb_cu_blocks((n + 1) / 2, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(
        (float *)y, n, seed, stream, p0, p1);
    break;
  }
}
