/* Optimizer steps over flat buffers with PyTorch semantics.  The moment updates are
 * f32 as PyTorch stores them; Adam's bias correction and step are done in double. */
#include "ref_backend.h"

#include <math.h>

static void sgd(const mb_optim_args *a)
{
  float *w = host_f32(a->w), *m = host_f32(a->m);
  const float *g = host_f32(a->g);
  const float lr = a->lr, wd = a->weight_decay, mom = a->momentum;
  const float keep = 1.0f - a->dampening;
  for (size_t i = 0; i < a->n; i++) {
    const float gi = g[i] + wd * w[i];
    const float mi = a->first_step ? gi : mom * m[i] + keep * gi;
    m[i] = mi;
    w[i] = w[i] - lr * mi;
  }
}

static void adam(const mb_optim_args *a)
{
  float *w = host_f32(a->w), *m = host_f32(a->m), *v = host_f32(a->v);
  const float *g = host_f32(a->g);
  const float wd = a->weight_decay, b1 = a->beta1, b2 = a->beta2;
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  const double bc1 = 1.0 - pow((double)b1, (double)a->t);
  const double bc2 = 1.0 - pow((double)b2, (double)a->t);
  for (size_t i = 0; i < a->n; i++) {
    const float gi = g[i] + wd * w[i];
    const float mi = b1 * m[i] + c1 * gi;
    const float vi = b2 * v[i] + c2 * (gi * gi);
    m[i] = mi;
    v[i] = vi;
    const double mhat = (double)mi / bc1, vhat = (double)vi / bc2;
    w[i] = (float)((double)w[i] - (double)a->lr * mhat / (sqrt(vhat) + (double)a->eps));
  }
}

void ref_optim(mb_backend *be, const mb_optim_args *a)
{
  if (be->status != MB_OK) return;
  switch (a->kind) {
  case MB_OPT_SGD: sgd(a); break;
  case MB_OPT_ADAM: adam(a); break;
  default: host_fail(be, MB_BAD_ARG, "optim: unknown optimizer %d", (int)a->kind); break;
  }
}
