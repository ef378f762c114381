#version 450
/* Optimizer steps over flat buffers (PyTorch semantics), one invocation per
 * parameter.  SGD: g' = g + wd·w; m = first ? g' : mom·m + (1−damp)·g'; w −= lr·m.
 * Adam: g' = g + wd·w; m = b1·m + (1−b1)·g'; v = b2·v + (1−b2)·g'²;
 * w −= lr·(m/bc1) / (sqrt(v/bc2) + eps), with bc = 1 − b^t from the host.
 * The moments are f32 as PyTorch keeps them; the Adam step is f32 here, where the
 * oracle uses double (f64 is optional in Vulkan). */
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool ADAM = false;

layout(std430, binding = 0) buffer Wb { float w[]; };
layout(std430, binding = 1) readonly buffer Gb { float g[]; };
layout(std430, binding = 2) buffer Mb { float m[]; };
layout(std430, binding = 3) buffer Vb { float v[]; };
layout(push_constant) uniform P {
  uint n, w_off, g_off, m_off, v_off;
  float lr, wd;
  float mom, keep;       /* SGD: momentum and 1 − dampening */
  uint first;
  float b1, b2, c1, c2;  /* Adam: beta1, beta2, 1 − beta1, 1 − beta2 */
  float bc1, bc2, eps;   /* Adam: bias corrections 1 − beta^t */
} p;

void main()
{
  uint i = gl_GlobalInvocationID.x;
  if (i >= p.n) return;
  float wi = w[p.w_off + i];
  precise float gi = g[p.g_off + i] + p.wd * wi;
  if (!ADAM) {
    precise float mi = p.first != 0u ? gi : p.mom * m[p.m_off + i] + p.keep * gi;
    m[p.m_off + i] = mi;
    precise float wn = wi - p.lr * mi;
    w[p.w_off + i] = wn;
  } else {
    precise float mi = p.b1 * m[p.m_off + i] + p.c1 * gi;
    precise float vi = p.b2 * v[p.v_off + i] + p.c2 * (gi * gi);
    m[p.m_off + i] = mi;
    v[p.v_off + i] = vi;
    precise float mhat = mi / p.bc1, vhat = vi / p.bc2;
    precise float wn = wi - p.lr * mhat / (sqrt(vhat) + p.eps);
    w[p.w_off + i] = wn;
  }
}
