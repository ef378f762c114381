/* Philox4x32-10 counter-based RNG, one source for C hosts, CUDA and OpenCL C.
 * (Vulkan has the same algorithm in shaders/include/philox.glsl.)
 *
 * Stream mapping used by every backend's rng op and by the host:
 *   key     = { seed lo32, seed hi32 }
 *   counter = { block lo32, block hi32, stream lo32, stream hi32 }
 *   U32 / UNIFORM: element i takes word (i % 4) of block i / 4.
 *   NORMAL:        element i takes words (2p, 2p+1), p = i % 2, of block i / 2:
 *                  u1 = ((w0 >> 8) + 1)·2^−24 ∈ (0,1], u2 = (w1 >> 8)·2^−24,
 *                  z = sqrt(−2 ln u1)·cos(2π u2).
 *   UNIFORM bits:  u = (w >> 8)·2^−24 ∈ [0,1), exactly representable in f32.
 */
#ifndef MB_PHILOX_H
#define MB_PHILOX_H

#if defined(__OPENCL_VERSION__)
typedef uint mb_u32;
typedef ulong mb_u64;
#define MB_PHILOX_FN static inline
#elif defined(__CUDACC__)
typedef unsigned int mb_u32;
typedef unsigned long long mb_u64;
#define MB_PHILOX_FN static __host__ __device__ __forceinline__
#else
#include <stdint.h>
typedef uint32_t mb_u32;
typedef uint64_t mb_u64;
#define MB_PHILOX_FN static inline
#endif

#define MB_PHILOX_M0 0xD2511F53u
#define MB_PHILOX_M1 0xCD9E8D57u
#define MB_PHILOX_W0 0x9E3779B9u
#define MB_PHILOX_W1 0xBB67AE85u

MB_PHILOX_FN void mb_mulhilo(mb_u32 a, mb_u32 b, mb_u32 *hi, mb_u32 *lo)
{
  mb_u64 p = (mb_u64)a * (mb_u64)b;
  *hi = (mb_u32)(p >> 32);
  *lo = (mb_u32)p;
}

/* out[0..3] = Philox4x32-10(counter c0..c3, key k0,k1) */
MB_PHILOX_FN void mb_philox4x32(mb_u32 c0, mb_u32 c1, mb_u32 c2, mb_u32 c3,
                                mb_u32 k0, mb_u32 k1, mb_u32 *out)
{
  for (int r = 0; r < 10; r++) {
    mb_u32 hi0, lo0, hi1, lo1;
    mb_mulhilo(MB_PHILOX_M0, c0, &hi0, &lo0);
    mb_mulhilo(MB_PHILOX_M1, c2, &hi1, &lo1);
    mb_u32 n0 = hi1 ^ c1 ^ k0;
    mb_u32 n1 = lo1;
    mb_u32 n2 = hi0 ^ c3 ^ k1;
    mb_u32 n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += MB_PHILOX_W0;
    k1 += MB_PHILOX_W1;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* Block `block` of stream `stream` under key `seed`. */
MB_PHILOX_FN void mb_philox_block(mb_u64 seed, mb_u64 stream, mb_u64 block, mb_u32 *out)
{
  mb_philox4x32((mb_u32)block, (mb_u32)(block >> 32), (mb_u32)stream, (mb_u32)(stream >> 32),
                (mb_u32)seed, (mb_u32)(seed >> 32), out);
}

/* Raw word for element i of (seed, stream). */
MB_PHILOX_FN mb_u32 mb_philox_u32(mb_u64 seed, mb_u64 stream, mb_u64 i)
{
  mb_u32 w[4];
  mb_philox_block(seed, stream, i >> 2, w);
  return w[i & 3];
}

/* u = (w >> 8)·2^-24 in [0,1). */
MB_PHILOX_FN float mb_u32_to_unit(mb_u32 w)
{
  return (float)(w >> 8) * (1.0f / 16777216.0f);
}

#endif
