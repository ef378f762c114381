/* Mnemonic codes, generated on the host with the same Philox mapping the
 * backends' rng op uses, and uploaded as identical bytes everywhere. */
#include "core/codes.h"
#include "core/streams.h"
#include "philox.h"

#include <math.h>
#include <string.h>

void mb_codes_generate(uint64_t seed, int n_classes, int dim, mb_code_dist dist, float *out)
{
  size_t n = (size_t)n_classes * dim;
  for (size_t i = 0; i < n; i++) {
    if (dist == MB_CODES_UNIFORM01) {
      out[i] = mb_u32_to_unit(mb_philox_u32(seed, MB_STREAM_CODES, i));
    } else {
      uint32_t w[4];
      mb_philox_block(seed, MB_STREAM_CODES, i >> 1, w);
      int p = (int)(i & 1);
      double u1 = ((double)(w[2 * p] >> 8) + 1.0) * (1.0 / 16777216.0);
      double u2 = (double)(w[2 * p + 1] >> 8) * (1.0 / 16777216.0);
      out[i] = (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
    }
  }
}

const char *mb_code_dist_name(mb_code_dist d)
{
  return d == MB_CODES_UNIFORM01 ? "uniform01" : "normal01";
}

int mb_code_dist_parse(const char *s, mb_code_dist *d)
{
  if (strcmp(s, "uniform01") == 0) { *d = MB_CODES_UNIFORM01; return 0; }
  if (strcmp(s, "normal01") == 0) { *d = MB_CODES_NORMAL01; return 0; }
  return -1;
}
