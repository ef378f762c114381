#version 450
/* Row losses and softmax, one work-group per row.  Variants (-D):
 *   (none)       softmax cross-entropy: row max (NaN propagates), sum of exp(x − max),
 *                then per element p = exp(x − lse) with lse = max + log(sum).
 *                loss = lse − x[label] (NaN for a label outside [0, cols)); dlogits =
 *                scale·(p − onehot).  Every read of the row happens before the barriers
 *                of the two trees, so dlogits may alias logits.
 *   SOFTMAX      y = exp(x − max)/Σ exp(x − max); a row with NaN or +inf, or of −inf
 *                only, is NaN (tested explicitly: Vulkan need not propagate NaN)
 *   SOFTMAX_BWD  dx = y·(dy − Σ dy·y)
 * Sums: strided f32 partials, then a fixed tree.  y may alias x, dx may alias dy (each
 * element is read, then written, by one invocation after the row's trees). */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;

shared float s_v[gl_WorkGroupSize.x];

float max_nan(float a, float b) { return isnan(a) ? a : (isnan(b) || b > a ? b : a); }

/* Sum over the work-group (a power of two) in a fixed tree; every invocation gets it. */
float wg_sum(float v)
{
  uint t = gl_LocalInvocationID.x;
  s_v[t] = v;
  barrier();
  for (uint h = gl_WorkGroupSize.x / 2; h > 0; h >>= 1) {
    if (t < h) {
      precise float r = s_v[t] + s_v[t + h];
      s_v[t] = r;
    }
    barrier();
  }
  float r = s_v[0];
  barrier();
  return r;
}

#if defined(SOFTMAX)
layout(std430, binding = 0) readonly buffer Xb { float x[]; };
layout(std430, binding = 1) writeonly buffer Yb { float y[]; };
layout(push_constant) uniform P { uint rows, cols, x_off, y_off; } p;

void main()
{
  uint r = gl_WorkGroupID.x;
  if (r >= p.rows) return;   /* uniform per work-group */
  uint t = gl_LocalInvocationID.x, W = gl_WorkGroupSize.x;
  uint xr = p.x_off + r * p.cols, yr = p.y_off + r * p.cols;
  float mx = MB_NEG_INF;
  for (uint j = t; j < p.cols; j += W) mx = max_nan(mx, x[xr + j]);
  s_v[t] = mx;
  for (uint h = W / 2; h > 0; h >>= 1) {
    barrier();
    if (t < h) s_v[t] = max_nan(s_v[t], s_v[t + h]);
  }
  barrier();
  mx = s_v[0];
  barrier();
  if (isnan(mx) || isinf(mx)) {   /* NaN, +inf, or no finite value: the row is NaN */
    for (uint j = t; j < p.cols; j += W) y[yr + j] = uintBitsToFloat(0x7fc00000u);
    return;
  }
  precise float s = 0.0;
  for (uint j = t; j < p.cols; j += W) s += exp(x[xr + j] - mx);
  precise float inv = 1.0 / wg_sum(s);
  for (uint j = t; j < p.cols; j += W) {
    precise float v = exp(x[xr + j] - mx) * inv;
    y[yr + j] = v;
  }
}

#elif defined(SOFTMAX_BWD)
layout(std430, binding = 0) readonly buffer Yb { float y[]; };
layout(std430, binding = 1) readonly buffer DYb { float dy[]; };
layout(std430, binding = 2) writeonly buffer DXb { float dx[]; };
layout(push_constant) uniform P { uint rows, cols, y_off, dy_off, dx_off; } p;

void main()
{
  uint r = gl_WorkGroupID.x;
  if (r >= p.rows) return;   /* uniform per work-group */
  uint t = gl_LocalInvocationID.x, W = gl_WorkGroupSize.x;
  uint yr = p.y_off + r * p.cols, dr = p.dy_off + r * p.cols;
  precise float s = 0.0;
  for (uint j = t; j < p.cols; j += W) s += dy[dr + j] * y[yr + j];
  s = wg_sum(s);
  for (uint j = t; j < p.cols; j += W) {
    precise float v = y[yr + j] * (dy[dr + j] - s);
    dx[p.dx_off + r * p.cols + j] = v;
  }
}

#else
layout(std430, binding = 0) readonly buffer Lg { float logits[]; };
layout(std430, binding = 1) readonly buffer Lb { int labels[]; };
layout(std430, binding = 2) writeonly buffer Ls { float loss[]; };
layout(std430, binding = 3) writeonly buffer Dl { float dl[]; };
layout(std430, binding = 4) writeonly buffer Pr { float probs[]; };
layout(push_constant) uniform P {
  uint rows, cols, lg_off, lb_off, loss_off, dl_off, pr_off;
  uint want;     /* bit 0: loss, bit 1: dlogits, bit 2: probs */
  float scale;
} p;

void main()
{
  uint r = gl_WorkGroupID.x;
  if (r >= p.rows) return;   /* uniform per work-group */
  uint t = gl_LocalInvocationID.x, W = gl_WorkGroupSize.x;
  uint row = p.lg_off + r * p.cols;
  int label = labels[p.lb_off + r];
  bool valid = label >= 0 && uint(label) < p.cols;
  float xl = logits[row + (valid ? uint(label) : 0u)];

  float mx = MB_NEG_INF;
  for (uint j = t; j < p.cols; j += W) mx = max_nan(mx, logits[row + j]);
  s_v[t] = mx;
  for (uint h = W / 2; h > 0; h >>= 1) {
    barrier();
    if (t < h) s_v[t] = max_nan(s_v[t], s_v[t + h]);
  }
  barrier();
  mx = s_v[0];
  barrier();

  precise float sum = 0.0;
  for (uint j = t; j < p.cols; j += W) sum += exp(logits[row + j] - mx);
  s_v[t] = sum;
  for (uint h = W / 2; h > 0; h >>= 1) {
    barrier();
    if (t < h) { precise float s2 = s_v[t] + s_v[t + h]; s_v[t] = s2; }
  }
  /* dl may alias logits: every invocation's reads of the row (xl included) are done
   * before anyone writes, for buffer memory too (barrier() alone orders shared memory) */
  memoryBarrierBuffer();
  barrier();
  precise float lse = mx + log(s_v[0]);

  if (t == 0 && (p.want & 1u) != 0u) {
    precise float l = lse - xl;
    loss[p.loss_off + r] = valid ? l : uintBitsToFloat(0x7fc00000u);
  }
  for (uint j = t; j < p.cols; j += W) {
    float pj = exp(logits[row + j] - lse);
    if ((p.want & 4u) != 0u) probs[p.pr_off + r * p.cols + j] = pj;
    if ((p.want & 2u) != 0u) {
      precise float d = p.scale * (pj - (valid && j == uint(label) ? 1.0 : 0.0));
      dl[p.dl_off + r * p.cols + j] = d;
    }
  }
}
#endif
