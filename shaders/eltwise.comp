#version 450
/* Elementwise ops, one invocation per element.  Variants (-D): UNARY, BINARY, WHERE,
 * BCAST.  The op is a specialization constant so each pipeline holds one formula.
 * Results are `precise` so that a·x + b is never contracted into an fma: the
 * values then match the reference, which rounds every operation as written. */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int OP = 0;

/* Count checks: a code added to include/mb/op_codes.def needs its case here. */
#if UN_COUNT != 15 || BIN_COUNT != 10 || BC_COUNT != 4
#error "eltwise.comp: a unary, binary or bcast code of include/mb/op_codes.def has no case"
#endif

#if defined(UNARY) || defined(BINARY)
#include "erf_f32.h"   /* GELU: GLSL has no erf (kernels/common, shared with OpenCL) */
#endif

#if defined(UNARY)
layout(std430, binding = 0) readonly buffer Xb { float x[]; };
layout(std430, binding = 1) writeonly buffer Yb { float y[]; };
layout(push_constant) uniform P { uint n, x_off, y_off; float a, b; } p;

void main()
{
  uint i = gl_GlobalInvocationID.x;
  if (i >= p.n) return;
  float v = x[p.x_off + i];
  precise float r;
  switch (OP) {
  case UN_AFFINE:  r = p.a * v + p.b; break;
  case UN_SQR:     r = v * v; break;
  case UN_SQRT:    r = sqrt(v); break;
  case UN_EXP:     r = exp(v); break;
  case UN_LOG:     r = mb_log(v); break;
  case UN_RECIP:   r = 1.0 / v; break;
  case UN_SIGMOID: r = 1.0 / (1.0 + exp(-v)); break;
  case UN_RELU:    r = v > 0.0 ? v : 0.0; break;
  case UN_ABS:     r = abs(v); break;
  case UN_CLAMP:   r = mb_min(mb_max(v, p.a), p.b); break;
  case UN_MIN_S:   r = mb_min(v, p.a); break;
  case UN_MAX_S:   r = mb_max(v, p.a); break;
  case UN_NAN_TO:  r = isnan(v) ? p.a : v; break;
  case UN_GELU:    r = mb_gelu(v); break;
  default:         r = v > p.a ? 1.0 : 0.0; break;   /* UN_GT_S */
  }
  y[p.y_off + i] = r;
}

#elif defined(BINARY)
layout(std430, binding = 0) readonly buffer X1b { float x1[]; };
layout(std430, binding = 1) readonly buffer X2b { float x2[]; };
layout(std430, binding = 2) writeonly buffer Yb { float y[]; };
layout(push_constant) uniform P { uint n, x1_off, x2_off, y_off; float a, b; } p;

void main()
{
  uint i = gl_GlobalInvocationID.x;
  if (i >= p.n) return;
  float u = x1[p.x1_off + i], v = x2[p.x2_off + i];
  precise float r;
  switch (OP) {
  case BIN_AXPBY:       r = p.a * u + p.b * v; break;
  case BIN_MUL:         r = p.a * u * v; break;
  case BIN_DIV:         r = u / v; break;
  case BIN_MIN:         r = mb_min(u, v); break;
  case BIN_MAX:         r = mb_max(u, v); break;
  case BIN_ADD_SQR:     r = u + p.a * (v * v); break;
  case BIN_SIGMOID_BWD: r = u * v * (1.0 - v); break;
  case BIN_RELU_BWD:    r = v > 0.0 ? u : 0.0; break;
  case BIN_GELU_BWD:    r = u * mb_gelu_grad(v); break;
  default:              r = u > p.a * v ? 1.0 : 0.0; break;   /* BIN_GT */
  }
  y[p.y_off + i] = r;
}

#elif defined(WHERE)
/* Bits are moved untouched (u32), so any 4-byte payload passes through. */
layout(std430, binding = 0) readonly buffer Cb { float cond[]; };
layout(std430, binding = 1) readonly buffer X1b { uint x1[]; };
layout(std430, binding = 2) readonly buffer X2b { uint x2[]; };
layout(std430, binding = 3) writeonly buffer Yb { uint y[]; };
layout(push_constant) uniform P { uint n, c_off, x1_off, x2_off, y_off; } p;

void main()
{
  uint i = gl_GlobalInvocationID.x;
  if (i >= p.n) return;
  y[p.y_off + i] = cond[p.c_off + i] != 0.0 ? x1[p.x1_off + i] : x2[p.x2_off + i];
}

#elif defined(BCAST)
/* y[o,m,i] = x[o,m,i] (op) v[m] over the shape (outer, mid, inner). */
layout(std430, binding = 0) readonly buffer Xb { float x[]; };
layout(std430, binding = 1) readonly buffer Vb { float vv[]; };
layout(std430, binding = 2) writeonly buffer Yb { float y[]; };
layout(push_constant) uniform P { uint n, x_off, v_off, y_off, mid, inner; } p;

void main()
{
  uint i = gl_GlobalInvocationID.x;
  if (i >= p.n) return;
  float u = x[p.x_off + i], v = vv[p.v_off + (i / p.inner) % p.mid];
  precise float r;
  switch (OP) {
  case BC_ADD: r = u + v; break;
  case BC_MUL: r = u * v; break;
  case BC_SUB: r = u - v; break;
  default:     r = u / v; break;   /* BC_DIV */
  }
  y[p.y_off + i] = r;
}
#else
#error "eltwise.comp: define UNARY, BINARY, WHERE or BCAST"
#endif
