/* Optimizer steps over flat parameter buffers (PyTorch semantics).
 * Each element's inputs are read before any output is written, so views that
 * alias exactly stay correct.  Operations round in the order written. */

#pragma OPENCL FP_CONTRACT OFF

#define GRID_LOOP(i, n) for (ulong i = get_global_id(0); i < (n); i += get_global_size(0))

/* g' = g + wd*w; m = first ? g' : mom*m + (1-damp)*g'; w -= lr*m */
__kernel void optim_sgd(__global float *w, ulong wo, __global const float *g, ulong go,
                        __global float *m, ulong mo, ulong n, float lr, float wd, float mom,
                        float damp, int first)
{
  w += wo; g += go; m += mo;
  GRID_LOOP(i, n) {
    float wi = w[i], gi = g[i] + wd * w[i];
    float mi = first ? gi : mom * m[i] + (1.0f - damp) * gi;
    m[i] = mi;
    w[i] = wi - lr * mi;
  }
}

/* Adam with L2 decay; bc1 = 1 - b1^t, bc2 = 1 - b2^t (computed by the host in double). */
__kernel void optim_adam(__global float *w, ulong wo, __global const float *g, ulong go,
                         __global float *m, ulong mo, __global float *v, ulong vo, ulong n,
                         float lr, float wd, float b1, float b2, float eps, float bc1, float bc2)
{
  w += wo; g += go; m += mo; v += vo;
  GRID_LOOP(i, n) {
    float wi = w[i], gi = g[i] + wd * w[i];
    float mi = b1 * m[i] + (1.0f - b1) * gi;
    float vi = b2 * v[i] + (1.0f - b2) * (gi * gi);
    float mhat = mi / bc1, vhat = vi / bc2;
    m[i] = mi;
    v[i] = vi;
    w[i] = wi - lr * mhat / (sqrt(vhat) + eps);
  }
}
