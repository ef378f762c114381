/* Elementwise ops: unary, binary, where, bcast.  One kernel per op (the host
 * picks it by name), each a grid-stride loop so any n and any launch size work.
 * Views arrive as (buffer, element offset).  y may alias x exactly: every
 * element is read before it is written by the same work-item. */

#include "op_codes.h"

/* Count checks: a code added to include/mb/op_codes.def needs its kernel here
 * (the host names kernels after the codes). */
#if UN_COUNT != 15 || BIN_COUNT != 10 || BC_COUNT != 4
#error "eltwise.cl: a unary, binary or bcast code of include/mb/op_codes.def has no kernel"
#endif

/* Round every operation as written, like the ref oracle (no fused a*x+b). */
#pragma OPENCL FP_CONTRACT OFF

/* GELU and its derivative: f32 erf from kernels/common/erf_f32.h (the Vulkan shaders'
 * too; <= 3.1 ulp, docs/architecture.md §4.1), not the device's erfc, which OpenCL allows
 * 16 ulp (and which pocl evaluates slowly in double) */
#include "erf_f32.h"

#define GRID_LOOP(i, n) for (ulong i = get_global_id(0); i < (n); i += get_global_size(0))

/* The contract's literal MIN/MAX: a NaN in the first operand survives. */
#define MB_MIN(p, q) ((q) < (p) ? (q) : (p))
#define MB_MAX(p, q) ((q) > (p) ? (q) : (p))

#define UNARY(name, expr)                                                                  \
  __kernel void unary_##name(__global const float *x, ulong xo, __global float *y, ulong yo, \
                             ulong n, float a, float b)                                   \
  {                                                                                        \
    x += xo; y += yo;                                                                      \
    GRID_LOOP(i, n) { float v = x[i]; y[i] = (expr); }                                     \
  }

UNARY(affine,  a * v + b)
UNARY(sqr,     v * v)
UNARY(sqrt,    sqrt(v))
UNARY(exp,     exp(v))
UNARY(log,     log(v))
UNARY(recip,   1.0f / v)
UNARY(sigmoid, 1.0f / (1.0f + exp(-v)))
UNARY(relu,    v > 0.0f ? v : 0.0f)
UNARY(abs,     fabs(v))
UNARY(clamp,   MB_MIN(MB_MAX(v, a), b))
UNARY(min_s,   MB_MIN(v, a))
UNARY(max_s,   MB_MAX(v, a))
UNARY(nan_to,  isnan(v) ? a : v)
UNARY(gt_s,    v > a ? 1.0f : 0.0f)
UNARY(gelu,    mb_gelu(v))

#define BINARY(name, expr)                                                                  \
  __kernel void binary_##name(__global const float *x1, ulong x1o, __global const float *x2, \
                              ulong x2o, __global float *y, ulong yo, ulong n, float a,     \
                              float b)                                                      \
  {                                                                                         \
    x1 += x1o; x2 += x2o; y += yo;                                                          \
    GRID_LOOP(i, n) { float p = x1[i], q = x2[i]; y[i] = (expr); }                          \
  }

BINARY(axpby,       a * p + b * q)
BINARY(mul,         a * p * q)
BINARY(div,         p / q)
BINARY(min,         MB_MIN(p, q))
BINARY(max,         MB_MAX(p, q))
BINARY(add_sqr,     p + a * (q * q))
BINARY(sigmoid_bwd, p * q * (1.0f - q))
BINARY(relu_bwd,    q > 0.0f ? p : 0.0f)
BINARY(gt,          p > a * q ? 1.0f : 0.0f)
BINARY(gelu_bwd,    p * mb_gelu_grad(q))

/* y = cond != 0 ? x1 : x2.  Values move as raw bits (f32 or i32 alike); the
 * test on cond's bits equals the f32 test cond != 0 (-0 is zero, NaN is not)
 * and also holds for i32 masks, with no denormal flushing in the way. */
__kernel void where_select(__global const uint *cond, ulong co, __global const uint *x1, ulong x1o,
                           __global const uint *x2, ulong x2o, __global uint *y, ulong yo, ulong n)
{
  cond += co; x1 += x1o; x2 += x2o; y += yo;
  GRID_LOOP(i, n) y[i] = (cond[i] & 0x7fffffffu) != 0u ? x1[i] : x2[i];
}

/* y[o,m,i] = x[o,m,i] (op) v[m] over the flat index of an (outer, mid, inner) shape. */
#define BCAST(name, expr)                                                                 \
  __kernel void bcast_##name(__global const float *x, ulong xo, __global const float *v, \
                             ulong vo, __global float *y, ulong yo, ulong n, ulong mid,  \
                             ulong inner)                                                 \
  {                                                                                       \
    x += xo; v += vo; y += yo;                                                            \
    GRID_LOOP(i, n) { float p = x[i], q = v[(i / inner) % mid]; y[i] = (expr); }          \
  }

BCAST(add, p + q)
BCAST(mul, p * q)
BCAST(sub, p - q)
BCAST(div, p / q)
