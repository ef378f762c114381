/* Launch shapes and the block-level tree reduction shared by the CUDA kernels. */
#ifndef MB_CUDA_BLOCK_CUH
#define MB_CUDA_BLOCK_CUH

#include <stddef.h>
#include <stdint.h>

#define MB_CU_THREADS 256u
/* Grid-stride loops cover any n; the cap only bounds the grid (x may go to 2^31-1),
 * so no launch dimension ever depends on n beyond it. */
#define MB_CU_MAX_BLOCKS (1u << 18)

static inline unsigned mb_cu_blocks(size_t work, unsigned per_block)
{
  size_t b = (work + per_block - 1) / per_block;
  if (b < 1) b = 1;
  return b > MB_CU_MAX_BLOCKS ? MB_CU_MAX_BLOCKS : (unsigned)b;
}

/* 32-bit index arithmetic (cheaper divisions) is safe when no grid-stride index can
 * wrap: n plus every launched thread stays below 2^32. */
static inline bool mb_cu_fits32(size_t n, unsigned blocks, unsigned threads)
{
  return n + (size_t)blocks * threads < ((size_t)1 << 32);
}

/* Power of two in [32, 256] covering n items: threads of a one-block-per-row kernel. */
static inline unsigned mb_cu_row_threads(size_t n)
{
  unsigned t = 32;
  while (t < MB_CU_THREADS && t < n) t <<= 1;
  return t;
}

/* Grid-stride loop over [0, n) with index type I. */
#define MB_CU_FOR(I, i, n)                                                          \
  for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < (I)(n);                  \
       i += (I)gridDim.x * blockDim.x)

extern __shared__ __align__(16) unsigned char mb_cu_smem[];

/* Reduces one value per thread of a 1-D block (blockDim.x a power of two) in a fixed
 * tree order, so the result is deterministic for a given block size.  All threads get
 * the result; the shared scratch (blockDim.x accumulators) is free again on return. */
template <class Op>
__device__ typename Op::acc mb_cu_block_reduce(typename Op::acc v)
{
  typedef typename Op::acc acc;
  acc *sh = reinterpret_cast<acc *>(mb_cu_smem);
  unsigned t = threadIdx.x;
  sh[t] = v;
  __syncthreads();
  for (unsigned s = blockDim.x >> 1; s > 0; s >>= 1) {
    if (t < s) sh[t] = Op::comb(sh[t], sh[t + s]);
    __syncthreads();
  }
  acc r = sh[0];
  __syncthreads();
  return r;
}

__device__ __forceinline__ bool mb_cu_isnan(float v) { return v != v; }
__device__ __forceinline__ bool mb_cu_isinf(float v) { return fabsf(v) == __int_as_float(0x7f800000); }
__device__ __forceinline__ bool mb_cu_isfinite(float v) { return fabsf(v) < __int_as_float(0x7f800000); }
__device__ __forceinline__ float mb_cu_ninf(void) { return __int_as_float((int)0xff800000u); }

#endif
