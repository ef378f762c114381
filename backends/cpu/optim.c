/* Optimizer steps over flat buffers with PyTorch semantics, f32 per element; Adam's
 * bias corrections are computed once per call in double. */
#include "cpu_backend.h"

#include <math.h>

void cpu_optim(mb_backend *be, const mb_optim_args *a)
{
  if (be->status != MB_OK) return;
  float *w = host_f32(a->w), *m = host_f32(a->m);
  const float *g = host_f32(a->g);
  const size_t n = a->n;
  const float lr = a->lr, wd = a->weight_decay;
  if (a->kind == MB_OPT_SGD) {
    const float mom = a->momentum, keep = 1.0f - a->dampening;
    if (a->first_step) {
      CPU_OMP(omp parallel for simd if (n >= CPU_PAR_MIN) schedule(static))
      for (size_t i = 0; i < n; i++) {
        const float gi = g[i] + wd * w[i];
        m[i] = gi;
        w[i] = w[i] - lr * gi;
      }
    } else {
      CPU_OMP(omp parallel for simd if (n >= CPU_PAR_MIN) schedule(static))
      for (size_t i = 0; i < n; i++) {
        const float gi = g[i] + wd * w[i];
        const float mi = mom * m[i] + keep * gi;
        m[i] = mi;
        w[i] = w[i] - lr * mi;
      }
    }
  } else if (a->kind == MB_OPT_ADAM) {
    float *v = host_f32(a->v);
    const float b1 = a->beta1, b2 = a->beta2, c1 = 1.0f - b1, c2 = 1.0f - b2, eps = a->eps;
    const float bc1 = (float)(1.0 - pow((double)b1, (double)a->t));
    const float bc2 = (float)(1.0 - pow((double)b2, (double)a->t));
    CPU_OMP(omp parallel for simd if (n >= CPU_PAR_MIN) schedule(static))
    for (size_t i = 0; i < n; i++) {
      const float gi = g[i] + wd * w[i];
      const float mi = b1 * m[i] + c1 * gi;
      const float vi = b2 * v[i] + c2 * (gi * gi);
      m[i] = mi;
      v[i] = vi;
      const float mhat = mi / bc1, vhat = vi / bc2;
      w[i] = w[i] - lr * mhat / (sqrtf(vhat) + eps);
    }
  } else {
    host_fail(be, MB_BAD_ARG, "optim: unknown optimizer %d", (int)a->kind);
  }
}
