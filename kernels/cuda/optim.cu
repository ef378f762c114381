/* Optimizer steps with PyTorch semantics, evaluated in the order the contract spells
 * out: moments in f32 as PyTorch stores them, Adam's bias correction and step in
 * double (like the oracle).  Every input of an element is read before its outputs are written, so exact
 * aliasing between the views is harmless. */
#include "launch.h"
#include "block.cuh"

__global__ void sgd_k(float *w, const float *g, float *m, size_t n, float lr, float wd,
                      float momentum, float dampening, int first_step)
{
  MB_CU_FOR(size_t, i, n) {
    float wi = w[i];
    float gp = g[i] + wd * wi;
    float buf = first_step ? gp : momentum * m[i] + (1.0f - dampening) * gp;
    m[i] = buf;
    w[i] = wi - lr * buf;
  }
}

__global__ void adam_k(float *w, const float *g, float *m, float *v, size_t n, float lr, float wd,
                       float beta1, float beta2, float eps, double bc1, double bc2)
{
  MB_CU_FOR(size_t, i, n) {
    float wi = w[i];
    float gp = g[i] + wd * wi;
    float mi = beta1 * m[i] + (1.0f - beta1) * gp;
    float vi = beta2 * v[i] + (1.0f - beta2) * (gp * gp);
    m[i] = mi;
    v[i] = vi;
    double mhat = (double)mi / bc1, vhat = (double)vi / bc2;
    w[i] = (float)((double)wi - (double)lr * mhat / (sqrt(vhat) + (double)eps));
  }
}

extern "C" void mb_cu_sgd(cudaStream_t s, float *w, const float *g, float *m, size_t n, float lr,
                          float wd, float momentum, float dampening, int first_step)
{
  sgd_k<<<mb_cu_blocks(n, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(w, g, m, n, lr, wd, momentum,
                                                                 dampening, first_step);
}

extern "C" void mb_cu_adam(cudaStream_t s, float *w, const float *g, float *m, float *v, size_t n,
                           float lr, float wd, float beta1, float beta2, float eps, double bc1,
                           double bc2)
{
  adam_k<<<mb_cu_blocks(n, MB_CU_THREADS), MB_CU_THREADS, 0, s>>>(w, g, m, v, n, lr, wd, beta1,
                                                                  beta2, eps, bc1, bc2);
}
