/* Elementwise kernels: fill, unary, binary, where, bcast.
 * Formulas are exactly those of include/mb/backend.h, evaluated in f32 as written
 * (built with --fmad=false, like the oracle's -ffp-contract=off); exp, log and
 * sigmoid (and GELU through erfc) go through double and round once, as the oracle does.
 * y may equal x. */
#include "launch.h"
#include "block.cuh"

__global__ void fill_k(uint32_t *y, size_t n, uint32_t bits)
{
  MB_CU_FOR(size_t, i, n) y[i] = bits;
}

template <int OP>
__device__ __forceinline__ float unary_f(float x, float a, float b)
{
  switch (OP) {
  case MB_UN_AFFINE: return a * x + b;
  case MB_UN_SQR: return x * x;
  case MB_UN_SQRT: return sqrtf(x);
  case MB_UN_EXP: return (float)exp((double)x);
  case MB_UN_LOG: return (float)log((double)x);
  case MB_UN_RECIP: return 1.0f / x;
  case MB_UN_SIGMOID: return (float)(1.0 / (1.0 + exp(-(double)x)));
  case MB_UN_RELU: return x > 0.0f ? x : 0.0f;
  case MB_UN_ABS: return fabsf(x);
  case MB_UN_CLAMP: {
    float t = a > x ? a : x;      /* MAX_S(x, a) */
    return b < t ? b : t;         /* MIN_S(t, b) */
  }
  case MB_UN_MIN_S: return a < x ? a : x;
  case MB_UN_MAX_S: return a > x ? a : x;
  case MB_UN_NAN_TO: return x != x ? a : x;
  case MB_UN_GT_S: return x > a ? 1.0f : 0.0f;
  /* Φ(x) = erfc(−x/√2)/2 in double, as the cpu backend: no cancellation for x < 0 */
  case MB_UN_GELU: return (float)(0.5 * (double)x * erfc(-(double)x * 0.70710678118654752));
  default: return x;
  }
}

template <int OP>
__global__ void unary_k(const float *x, float *y, size_t n, float a, float b)
{
  MB_CU_FOR(size_t, i, n) y[i] = unary_f<OP>(x[i], a, b);
}

template <int OP>
__device__ __forceinline__ float binary_f(float x1, float x2, float a, float b)
{
  switch (OP) {
  case MB_BIN_AXPBY: return a * x1 + b * x2;
  case MB_BIN_MUL: return a * x1 * x2;
  case MB_BIN_DIV: return x1 / x2;
  case MB_BIN_MIN: return x2 < x1 ? x2 : x1;
  case MB_BIN_MAX: return x2 > x1 ? x2 : x1;
  case MB_BIN_ADD_SQR: return x1 + a * (x2 * x2);
  case MB_BIN_SIGMOID_BWD: return x1 * x2 * (1.0f - x2);
  case MB_BIN_RELU_BWD: return x2 > 0.0f ? x1 : 0.0f;
  case MB_BIN_GT: return x1 > a * x2 ? 1.0f : 0.0f;
  case MB_BIN_GELU_BWD: {   /* x1·(Φ(x2) + x2·φ(x2)) in double */
    const double z = (double)x2;
    return (float)((double)x1 * (0.5 * erfc(-z * 0.70710678118654752) +
                                 z * (exp(-0.5 * z * z) * 0.3989422804014327)));
  }
  default: return x1;
  }
}

template <int OP>
__global__ void binary_k(const float *x1, const float *x2, float *y, size_t n, float a, float b)
{
  MB_CU_FOR(size_t, i, n) y[i] = binary_f<OP>(x1[i], x2[i], a, b);
}

__global__ void where_k(const float *cond, const float *x1, const float *x2, float *y, size_t n)
{
  MB_CU_FOR(size_t, i, n) y[i] = cond[i] != 0.0f ? x1[i] : x2[i];
}

template <int OP, typename I>
__global__ void bcast_k(const float *x, const float *v, float *y, I n, I mid, I inner)
{
  MB_CU_FOR(I, i, n) {
    float b = v[(i / inner) % mid];
    float a = x[i];
    float r;
    switch (OP) {
    case MB_BC_ADD: r = a + b; break;
    case MB_BC_MUL: r = a * b; break;
    case MB_BC_SUB: r = a - b; break;
    default: r = a / b; break;
    }
    y[i] = r;
  }
}

typedef void (*unary_fn)(const float *, float *, size_t, float, float);
/* One instantiation per code of include/mb/op_codes.def, in enum order (the values
 * count from 0 in the order listed), so a new code needs only its case above. */
static const unary_fn k_unary[MB_UN__COUNT] = {
#define MB_UN(NAME, name) unary_k<MB_UN_##NAME>,
#include "mb/op_codes.def"
};

typedef void (*binary_fn)(const float *, const float *, float *, size_t, float, float);
static const binary_fn k_binary[MB_BIN__COUNT] = {
#define MB_BIN(NAME, name) binary_k<MB_BIN_##NAME>,
#include "mb/op_codes.def"
};

template <typename I>
static void bcast_launch(cudaStream_t s, mb_bcast_op op, const float *x, const float *v, float *y,
                         I n, I mid, I inner, unsigned g)
{
  switch (op) {
  case MB_BC_ADD: bcast_k<MB_BC_ADD, I><<<g, MB_CU_THREADS, 0, s>>>(x, v, y, n, mid, inner); break;
  case MB_BC_MUL: bcast_k<MB_BC_MUL, I><<<g, MB_CU_THREADS, 0, s>>>(x, v, y, n, mid, inner); break;
  case MB_BC_SUB: bcast_k<MB_BC_SUB, I><<<g, MB_CU_THREADS, 0, s>>>(x, v, y, n, mid, inner); break;
  case MB_BC_DIV: bcast_k<MB_BC_DIV, I><<<g, MB_CU_THREADS, 0, s>>>(x, v, y, n, mid, inner); break;
  }
}

extern "C" void mb_cu_fill(cudaStream_t s, uint32_t *y, size_t n, uint32_t bits)
{
  fill_k<<<mb_cu_blocks(n, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(y, n, bits);
}

extern "C" void mb_cu_unary(cudaStream_t s, mb_unary_op op, const float *x, float *y, size_t n,
                            float a, float b)
{
  k_unary[op]<<<mb_cu_blocks(n, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(x, y, n, a, b);
}

extern "C" void mb_cu_binary(cudaStream_t s, mb_binary_op op, const float *x1, const float *x2,
                             float *y, size_t n, float a, float b)
{
  k_binary[op]<<<mb_cu_blocks(n, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(x1, x2, y, n, a, b);
}

extern "C" void mb_cu_where(cudaStream_t s, const float *cond, const float *x1, const float *x2,
                            float *y, size_t n)
{
  where_k<<<mb_cu_blocks(n, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(cond, x1, x2, y, n);
}

extern "C" void mb_cu_bcast(cudaStream_t s, mb_bcast_op op, const float *x, const float *v,
                            float *y, size_t outer, size_t mid, size_t inner)
{
  size_t n = outer * mid * inner;
  unsigned g = mb_cu_blocks(n, MB_CU_THREADS);
  if (mb_cu_fits32(n, g, MB_CU_THREADS))
    bcast_launch<uint32_t>(s, op, x, v, y, (uint32_t)n, (uint32_t)mid, (uint32_t)inner, g);
  else
    bcast_launch<size_t>(s, op, x, v, y, n, mid, inner, g);
}
