/* Elementwise oracle: unary, binary, where, bcast.  Arithmetic follows the formulas
 * of backend.h in f32 as written (built with -ffp-contract=off, so no fused
 * multiply-add); transcendentals are evaluated in double and rounded once. */
#include "ref_backend.h"

#include <math.h>

/* MIN/MAX as the contract defines them: the first operand wins unless the second
 * compares smaller/greater, so a NaN first operand propagates. */
/* A code of mb/op_codes.def without its case here fails the build. */
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wswitch-enum"

static inline float min_of(float x, float s) { return s < x ? s : x; }
static inline float max_of(float x, float s) { return s > x ? s : x; }

static float unary1(mb_unary_op op, float x, float a, float b)
{
  switch (op) {
  case MB_UN_AFFINE: return a * x + b;
  case MB_UN_SQR: return x * x;
  case MB_UN_SQRT: return sqrtf(x);
  case MB_UN_EXP: return (float)exp((double)x);
  case MB_UN_LOG: return (float)log((double)x);
  case MB_UN_RECIP: return 1.0f / x;
  case MB_UN_SIGMOID: return (float)(1.0 / (1.0 + exp(-(double)x)));
  case MB_UN_RELU: return x > 0.0f ? x : 0.0f;
  case MB_UN_ABS: return fabsf(x);
  case MB_UN_CLAMP: return min_of(max_of(x, a), b);
  case MB_UN_MIN_S: return min_of(x, a);
  case MB_UN_MAX_S: return max_of(x, a);
  case MB_UN_NAN_TO: return isnan(x) ? a : x;
  case MB_UN_GT_S: return x > a ? 1.0f : 0.0f;
  /* Φ(x) = erfc(−x/√2)/2: 1 + erf(x/√2) would be 0 in f64 below x ≈ −8.3, where x·Φ(x)
   * is still a normal f32 (GELU(−10) = −7.6e-23) */
  case MB_UN_GELU: return (float)(0.5 * (double)x * erfc(-(double)x * M_SQRT1_2));
  case MB_UN__COUNT: default: return NAN;
  }
}

void ref_unary(mb_backend *be, mb_unary_op op, mb_view x, mb_view y, size_t n, float a, float b)
{
  if (be->status != MB_OK) return;
  if ((unsigned)op >= MB_UN__COUNT) {
    host_fail(be, MB_BAD_ARG, "unary: unknown op %d", (int)op);
    return;
  }
  const float *xp = host_f32(x);
  float *yp = host_f32(y);
  for (size_t i = 0; i < n; i++) yp[i] = unary1(op, xp[i], a, b);
}

static float binary1(mb_binary_op op, float x1, float x2, float a, float b)
{
  switch (op) {
  case MB_BIN_AXPBY: return a * x1 + b * x2;
  case MB_BIN_MUL: return a * x1 * x2;
  case MB_BIN_DIV: return x1 / x2;
  case MB_BIN_MIN: return min_of(x1, x2);
  case MB_BIN_MAX: return max_of(x1, x2);
  case MB_BIN_ADD_SQR: return x1 + a * (x2 * x2);
  case MB_BIN_SIGMOID_BWD: return x1 * x2 * (1.0f - x2);
  case MB_BIN_RELU_BWD: return x2 > 0.0f ? x1 : 0.0f;
  case MB_BIN_GT: return x1 > a * x2 ? 1.0f : 0.0f;
  case MB_BIN_GELU_BWD: {
    const double z = (double)x2;
    const double cdf = 0.5 * erfc(-z * M_SQRT1_2), pdf = exp(-0.5 * z * z) * 0.3989422804014327;
    return (float)((double)x1 * (cdf + z * pdf));
  }
  case MB_BIN__COUNT: default: return NAN;
  }
}

#pragma GCC diagnostic pop

void ref_binary(mb_backend *be, mb_binary_op op, mb_view x1, mb_view x2, mb_view y, size_t n,
                float a, float b)
{
  if (be->status != MB_OK) return;
  if ((unsigned)op >= MB_BIN__COUNT) {
    host_fail(be, MB_BAD_ARG, "binary: unknown op %d", (int)op);
    return;
  }
  const float *p1 = host_f32(x1), *p2 = host_f32(x2);
  float *yp = host_f32(y);
  for (size_t i = 0; i < n; i++) yp[i] = binary1(op, p1[i], p2[i], a, b);
}

/* cond is compared as f32 (masks come from the GT ops: exactly 1.0f or 0.0f). */
void ref_where(mb_backend *be, mb_view cond, mb_view x1, mb_view x2, mb_view y, size_t n)
{
  if (be->status != MB_OK) return;
  const float *c = host_f32(cond), *p1 = host_f32(x1), *p2 = host_f32(x2);
  float *yp = host_f32(y);
  for (size_t i = 0; i < n; i++) yp[i] = c[i] != 0.0f ? p1[i] : p2[i];
}

void ref_bcast(mb_backend *be, mb_bcast_op op, mb_view x, mb_view v, mb_view y, size_t outer,
               size_t mid, size_t inner)
{
  if (be->status != MB_OK) return;
  if (op != MB_BC_ADD && op != MB_BC_MUL && op != MB_BC_SUB && op != MB_BC_DIV) {
    host_fail(be, MB_BAD_ARG, "bcast: unknown op %d", (int)op);
    return;
  }
  const float *xp = host_f32(x), *vp = host_f32(v);
  float *yp = host_f32(y);
  for (size_t o = 0; o < outer; o++)
    for (size_t m = 0; m < mid; m++) {
      const float s = vp[m];
      size_t base = (o * mid + m) * inner;
      for (size_t i = 0; i < inner; i++) {
        float xv = xp[base + i], r;
        switch (op) {
        case MB_BC_ADD: r = xv + s; break;
        case MB_BC_MUL: r = xv * s; break;
        case MB_BC_SUB: r = xv - s; break;
        default: r = xv / s; break;
        }
        yp[base + i] = r;
      }
    }
}
