/* Host emulation of the subset of the CUDA kernel language that kernels/cuda uses, for
 * tools/cuda-emu (no GPU needed): every CUDA thread of a block is a fiber (its own stack,
 * ucontext) on the launching host thread, __syncthreads switches to the next fiber,
 * blocks run one after another (so one static buffer serves as shared memory), launches
 * become emu_launch(kernel, grid, block, shmem, stream, args...).  A block whose threads
 * do not all reach the same __syncthreads (some returned) stops the program: on a GPU
 * that is undefined.  Rounding is the host's (-ffp-contract=off); log and exp are
 * glibc's, not libdevice's, so it checks indexing, merges and op order, not device bits. */
#pragma once
#include <cuda_runtime_api.h>
#include <cstring>
#include <cmath>
#include <functional>
#include <algorithm>
#include <cstdint>
#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __shared__
#undef __align__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__
#define __align__(n) __attribute__((aligned(n)))
struct EmuIdx { unsigned x, y, z; };
extern thread_local EmuIdx threadIdx, blockIdx;
extern EmuIdx blockDim, gridDim;
void emu_syncthreads();
inline void __syncthreads() { emu_syncthreads(); }
using std::max;
using std::min;
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return sqrtf(a); }
inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
extern long emu_launches;
inline unsigned __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
inline float __uint_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
/* Runs body once per thread of every block of grid g (emu_state.cpp). */
void emu_run(dim3 g, dim3 b, size_t shmem, const std::function<void()> &body);
template <class K, class... A>
void emu_launch(K k, dim3 g, dim3 b, size_t sh, cudaStream_t s, A... args)
{
  (void)s;
  emu_launches++;
  emu_run(g, b, sh, [&] { k(args...); });
}
