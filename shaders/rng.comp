#version 450
/* Philox4x32-10 streams, one invocation per counter block (see kernels/common/philox.h):
 * U32/UNIFORM write 4 elements per block, NORMAL writes 2 (Box–Muller, cos branch).
 * UNIFORM is `precise` so p0 + (p1 − p0)·u is never contracted: bit-exact with the host. */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "philox.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int DIST = RNG_U32;

layout(std430, binding = 0) writeonly buffer Yb { uint y[]; };
layout(push_constant) uniform P { uint n, y_off, seed_lo, seed_hi, stream_lo, stream_hi; float p0, p1; } p;

/* ln u for u in (0, 1].  Near 1 a GPU log is only good to an absolute 2^-21 or so,
 * which is most of ln u itself: there the series −(d + d²/2 + … + d⁷/7) of
 * ln(1 − d) is used, with d = 1 − u exact. */
float ln_unit(float u)
{
  float d = 1.0 - u;
  if (d >= 0.0625) return log(u);
  return -d * (1.0 + d * (1.0 / 2.0 + d * (1.0 / 3.0 + d * (1.0 / 4.0 + d * (1.0 / 5.0 +
              d * (1.0 / 6.0 + d * (1.0 / 7.0)))))));
}

/* Box–Muller, cos branch.  cos(2πu2) = −cos(2π(u2 − 1/2)): u2 − 1/2 is exact and the
 * argument stays in [−π, π), where GPU cosines are most accurate. */
void main()
{
  uint blk = gl_GlobalInvocationID.x;
  uint per = DIST == RNG_NORMAL ? 2u : 4u;
  if (blk >= (p.n + per - 1u) / per) return;
  uvec4 w = mb_philox4x32(uvec4(blk, 0u, p.stream_lo, p.stream_hi), uvec2(p.seed_lo, p.seed_hi));
  uint e0 = blk * per;
  if (DIST == RNG_NORMAL) {
    for (uint k = 0u; k < 2u && e0 + k < p.n; k++) {
      uint w0 = k == 0u ? w.x : w.z, w1 = k == 0u ? w.y : w.w;
      float u1 = float((w0 >> 8) + 1u) * (1.0 / 16777216.0);
      float u2 = float(w1 >> 8) * (1.0 / 16777216.0);
      float z = -sqrt(-2.0 * ln_unit(u1)) * cos(6.2831853071795865 * (u2 - 0.5));
      precise float r = p.p0 + p.p1 * z;
      y[p.y_off + e0 + k] = floatBitsToUint(r);
    }
  } else {
    precise float span = p.p1 - p.p0;
    for (uint k = 0u; k < 4u && e0 + k < p.n; k++) {
      uint bits = w[k];
      if (DIST == RNG_UNIFORM) {
        precise float r = p.p0 + span * mb_u32_to_unit(bits);
        bits = floatBitsToUint(r);
      }
      y[p.y_off + e0 + k] = bits;
    }
  }
}
