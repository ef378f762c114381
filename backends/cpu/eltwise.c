/* Elementwise ops: unary, binary, where, bcast.  One plain loop per op (the switch is
 * outside the loop) so each vectorises; `omp simd` also covers exact aliasing y == x,
 * which the contract allows.  f32 math as the formulas in backend.h are written. */
#include "cpu_backend.h"

#include <math.h>

/* A unary or binary code of mb/op_codes.def without its case here fails the build. */
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wswitch-enum"

/* One elementwise loop over i in [0, n); the body assigns y[i]. */
#define EACH(...)                                                                 \
  do {                                                                            \
    CPU_OMP(omp parallel for simd if (n >= CPU_PAR_MIN) schedule(static))         \
    for (size_t i = 0; i < n; i++) { __VA_ARGS__; }                               \
  } while (0)

/* The same for bodies that call expf/logf: worth a team from fewer elements. */
#define EACH_MATH(...)                                                            \
  do {                                                                            \
    CPU_OMP(omp parallel for simd if (n >= CPU_PAR_MIN_MATH) schedule(static))    \
    for (size_t i = 0; i < n; i++) { __VA_ARGS__; }                               \
  } while (0)

void cpu_unary(mb_backend *be, mb_unary_op op, mb_view xv, mb_view yv, size_t n, float a, float b)
{
  if (be->status != MB_OK) return;
  const float *x = host_f32(xv);
  float *y = host_f32(yv);
  /* MIN/MAX: the scalar wins only if it compares smaller/greater, so NaN in x stays. */
  switch (op) {
  case MB_UN_AFFINE: EACH(y[i] = a * x[i] + b); break;
  case MB_UN_SQR: EACH(y[i] = x[i] * x[i]); break;
  case MB_UN_SQRT: EACH(y[i] = sqrtf(x[i])); break;
  case MB_UN_EXP: EACH_MATH(y[i] = expf(x[i])); break;
  case MB_UN_LOG: EACH_MATH(y[i] = logf(x[i])); break;
  case MB_UN_RECIP: EACH(y[i] = 1.0f / x[i]); break;
  case MB_UN_SIGMOID: EACH_MATH(y[i] = 1.0f / (1.0f + expf(-x[i]))); break;
  case MB_UN_RELU: EACH(y[i] = x[i] > 0.0f ? x[i] : 0.0f); break;
  case MB_UN_ABS: EACH(y[i] = fabsf(x[i])); break;
  case MB_UN_CLAMP:
    EACH(const float t = a > x[i] ? a : x[i]; y[i] = b < t ? b : t);
    break;
  case MB_UN_MIN_S: EACH(y[i] = a < x[i] ? a : x[i]); break;
  case MB_UN_MAX_S: EACH(y[i] = a > x[i] ? a : x[i]); break;
  case MB_UN_NAN_TO: EACH(y[i] = isnan(x[i]) ? a : x[i]); break;
  case MB_UN_GT_S: EACH(y[i] = x[i] > a ? 1.0f : 0.0f); break;
  /* GELU in double, rounded once: Φ(x) = erfc(−x/√2)/2 has no cancellation for x < 0,
   * and an f32 argument x/√2 would carry its rounding, amplified by ~x² in the tail, into
   * the result.  glibc's erfc costs about what erfcf does here (~20 ns an element). */
  case MB_UN_GELU:
    EACH_MATH(y[i] = (float)(0.5 * (double)x[i] * erfc(-(double)x[i] * M_SQRT1_2)));
    break;
  case MB_UN__COUNT:
  default: host_fail(be, MB_BAD_ARG, "unary: unknown op %d", (int)op); break;
  }
}

void cpu_binary(mb_backend *be, mb_binary_op op, mb_view x1v, mb_view x2v, mb_view yv, size_t n,
                float a, float b)
{
  if (be->status != MB_OK) return;
  const float *x1 = host_f32(x1v), *x2 = host_f32(x2v);
  float *y = host_f32(yv);
  switch (op) {
  case MB_BIN_AXPBY: EACH(y[i] = a * x1[i] + b * x2[i]); break;
  case MB_BIN_MUL: EACH(y[i] = a * x1[i] * x2[i]); break;
  case MB_BIN_DIV: EACH(y[i] = x1[i] / x2[i]); break;
  case MB_BIN_MIN: EACH(y[i] = x2[i] < x1[i] ? x2[i] : x1[i]); break;
  case MB_BIN_MAX: EACH(y[i] = x2[i] > x1[i] ? x2[i] : x1[i]); break;
  case MB_BIN_ADD_SQR: EACH(y[i] = x1[i] + a * (x2[i] * x2[i])); break;
  case MB_BIN_SIGMOID_BWD: EACH(y[i] = x1[i] * x2[i] * (1.0f - x2[i])); break;
  case MB_BIN_RELU_BWD:   /* x1 read unconditionally: a blend, not a branch */
    EACH(const float g = x1[i]; y[i] = x2[i] > 0.0f ? g : 0.0f);
    break;
  case MB_BIN_GT: EACH(y[i] = x1[i] > a * x2[i] ? 1.0f : 0.0f); break;
  case MB_BIN_GELU_BWD:   /* Φ(z) + z·φ(z) in double, as GELU */
    EACH_MATH(const double z = (double)x2[i];
              const double d = 0.5 * erfc(-z * M_SQRT1_2) +
                               z * (exp(-0.5 * z * z) * 0.3989422804014327);
              y[i] = (float)((double)x1[i] * d));
    break;
  case MB_BIN__COUNT:
  default: host_fail(be, MB_BAD_ARG, "binary: unknown op %d", (int)op); break;
  }
}

/* cond is compared as f32 (masks come from the GT ops: exactly 1.0f or 0.0f). */
#pragma GCC diagnostic pop

void cpu_where(mb_backend *be, mb_view cv, mb_view x1v, mb_view x2v, mb_view yv, size_t n)
{
  if (be->status != MB_OK) return;
  const float *c = host_f32(cv), *x1 = host_f32(x1v), *x2 = host_f32(x2v);
  float *y = host_f32(yv);
  EACH(const float p = x1[i], q = x2[i]; y[i] = c[i] != 0.0f ? p : q);
}

/* y[o,m,i] = x[o,m,i] (op) v[m]: parallel over (o,m) rows, inner loop vectorised. */
#define ROWS(...)                                                                 \
  do {                                                                            \
    CPU_OMP(omp parallel for if (total >= CPU_PAR_MIN) schedule(static))          \
    for (size_t r = 0; r < rows; r++) {                                           \
      const float s = v[r % mid];                                                 \
      const float *xr = x + r * inner;                                            \
      float *yr = y + r * inner;                                                  \
      CPU_OMP(omp simd)                                                           \
      for (size_t i = 0; i < inner; i++) { __VA_ARGS__; }                         \
    }                                                                             \
  } while (0)

/* inner == 1 (bias add on [B×O]): rows of length mid against the whole of v. */
#define ROWS1(...)                                                                \
  do {                                                                            \
    CPU_OMP(omp parallel for if (total >= CPU_PAR_MIN) schedule(static))          \
    for (size_t o = 0; o < outer; o++) {                                          \
      const float *xr = x + o * mid;                                              \
      float *yr = y + o * mid;                                                    \
      CPU_OMP(omp simd)                                                           \
      for (size_t m = 0; m < mid; m++) { __VA_ARGS__; }                           \
    }                                                                             \
  } while (0)

void cpu_bcast(mb_backend *be, mb_bcast_op op, mb_view xv, mb_view vv, mb_view yv, size_t outer,
               size_t mid, size_t inner)
{
  if (be->status != MB_OK) return;
  const float *x = host_f32(xv), *v = host_f32(vv);
  float *y = host_f32(yv);
  const size_t rows = outer * mid, total = rows * inner;
  (void)total;   /* only read by the OpenMP if clauses */
  if (inner == 1) {
    switch (op) {
    case MB_BC_ADD: ROWS1(yr[m] = xr[m] + v[m]); break;
    case MB_BC_MUL: ROWS1(yr[m] = xr[m] * v[m]); break;
    case MB_BC_SUB: ROWS1(yr[m] = xr[m] - v[m]); break;
    case MB_BC_DIV: ROWS1(yr[m] = xr[m] / v[m]); break;
    default: host_fail(be, MB_BAD_ARG, "bcast: unknown op %d", (int)op); break;
    }
    return;
  }
  switch (op) {
  case MB_BC_ADD: ROWS(yr[i] = xr[i] + s); break;
  case MB_BC_MUL: ROWS(yr[i] = xr[i] * s); break;
  case MB_BC_SUB: ROWS(yr[i] = xr[i] - s); break;
  case MB_BC_DIV: ROWS(yr[i] = xr[i] / s); break;
  default: host_fail(be, MB_BAD_ARG, "bcast: unknown op %d", (int)op); break;
  }
}
