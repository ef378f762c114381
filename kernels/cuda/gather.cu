/* gather_rows: dst row r = src row idx[r]; an index outside [0, n_src_rows) gives a
 * zero row.  4-byte rows are copied as bits (f32 and i32 alike); byte rows are
 * converted as (float)byte · scale. */
#include "launch.h"
#include "block.cuh"

template <typename I>
__global__ void gather4_k(const uint32_t *src, const int *idx, uint32_t *dst, I n, I row_len,
                          int n_src)
{
  MB_CU_FOR(I, e, n) {
    I r = e / row_len, c = e - r * row_len;
    int id = idx[r];
    dst[e] = (id >= 0 && id < n_src) ? src[(size_t)id * (size_t)row_len + c] : 0u;
  }
}

template <typename I>
__global__ void gather8_k(const unsigned char *src, const int *idx, float *dst, I n, I row_len,
                          int n_src, float scale)
{
  MB_CU_FOR(I, e, n) {
    I r = e / row_len, c = e - r * row_len;
    int id = idx[r];
    dst[e] = (id >= 0 && id < n_src) ? (float)src[(size_t)id * (size_t)row_len + c] * scale : 0.0f;
  }
}

template <typename I>
static void gather_as(cudaStream_t s, const void *src, int src_u8, const int *idx, void *dst,
                      I n, I row_len, int n_src, float scale, unsigned g)
{
  if (src_u8)
    gather8_k<I><<<g, MB_CU_THREADS, 0, s>>>((const unsigned char *)src, idx, (float *)dst, n,
                                             row_len, n_src, scale);
  else
    gather4_k<I><<<g, MB_CU_THREADS, 0, s>>>((const uint32_t *)src, idx, (uint32_t *)dst, n,
                                             row_len, n_src);
}

extern "C" void mb_cu_gather_rows(cudaStream_t s, const void *src, int src_u8, const int *idx,
                                  void *dst, int n_rows, int row_len, int n_src_rows, float scale)
{
  size_t n = (size_t)n_rows * (size_t)row_len;
  unsigned g = mb_cu_blocks(n, MB_CU_THREADS);
  if (mb_cu_fits32(n, g, MB_CU_THREADS))
    gather_as<uint32_t>(s, src, src_u8, idx, dst, (uint32_t)n, (uint32_t)row_len, n_src_rows,
                        scale, g);
  else
    gather_as<size_t>(s, src, src_u8, idx, dst, n, (size_t)row_len, n_src_rows, scale, g);
}
