/* Row gather: dst row r = src row idx[r]; an index outside [0, n_src_rows) gives a
 * zero row.  4-byte rows are copied bit for bit; u8 rows are widened and scaled. */
#include "cpu_backend.h"

#include <string.h>

void cpu_gather_rows(mb_backend *be, const mb_gather_args *a)
{
  if (be->status != MB_OK) return;
  const int32_t *idx = host_i32(a->idx);
  const size_t rl = (size_t)a->row_len;
  const int nr = a->n_rows, nsrc = a->n_src_rows, u8 = a->src_u8;
  const float scale = a->scale;
  const uint8_t *src8 = (const uint8_t *)host_u32(a->src);
  const uint32_t *src32 = host_u32(a->src);
  float *dstf = host_f32(a->dst);
  uint32_t *dst32 = host_u32(a->dst);
  CPU_OMP(omp parallel for if ((size_t)nr * rl >= CPU_PAR_MIN) schedule(static))
  for (int r = 0; r < nr; r++) {
    const int32_t s = idx[r];
    const int valid = s >= 0 && s < nsrc;
    if (!valid) {
      memset(dst32 + (size_t)r * rl, 0, rl * 4);
    } else if (u8) {
      const uint8_t *sr = src8 + (size_t)s * rl;
      float *d = dstf + (size_t)r * rl;
      CPU_OMP(omp simd)
      for (size_t j = 0; j < rl; j++) d[j] = (float)sr[j] * scale;
    } else {
      memcpy(dst32 + (size_t)r * rl, src32 + (size_t)s * rl, rl * 4);
    }
  }
}
