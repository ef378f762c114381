/* Row gather: dst row r = src row idx[r]; an index outside [0, n_src_rows) gives a
 * zero row.  4-byte rows are copied bit for bit; u8 rows are widened and scaled. */
#include "ref_backend.h"

#include <string.h>

void ref_gather_rows(mb_backend *be, const mb_gather_args *a)
{
  if (be->status != MB_OK) return;
  const int32_t *idx = host_i32(a->idx);
  const size_t rl = (size_t)a->row_len;
  for (int r = 0; r < a->n_rows; r++) {
    const int32_t s = idx[r];
    const int valid = s >= 0 && s < a->n_src_rows;
    if (a->src_u8) {
      float *d = host_f32(a->dst) + (size_t)r * rl;
      if (!valid) {
        for (size_t j = 0; j < rl; j++) d[j] = 0.0f;
        continue;
      }
      const uint8_t *src = (const uint8_t *)host_u32(a->src) + (size_t)s * rl;
      for (size_t j = 0; j < rl; j++) d[j] = (float)src[j] * a->scale;
    } else {
      uint32_t *d = host_u32(a->dst) + (size_t)r * rl;
      if (valid) memcpy(d, host_u32(a->src) + (size_t)s * rl, rl * 4);
      else memset(d, 0, rl * 4);
    }
  }
}
