/* Softmax cross-entropy, one row per iteration: max subtraction for stability, f32
 * exponentials summed in double; loss = logsumexp − logit[label],
 * dlogits = scale·(softmax − onehot). */
#include "cpu_backend.h"

#include <math.h>

void cpu_softmax_xent(mb_backend *be, const mb_xent_args *a)
{
  if (be->status != MB_OK) return;
  const int R = a->rows, Cn = a->cols;
  const float *logits = host_f32(a->logits);
  const int32_t *lab = host_i32(a->labels);
  float *loss = cpu_is_none(a->loss) ? NULL : host_f32(a->loss);
  float *probs = cpu_is_none(a->probs) ? NULL : host_f32(a->probs);
  float *dlog = cpu_is_none(a->dlogits) ? NULL : host_f32(a->dlogits);
  const float scale = a->scale;
  CPU_OMP(omp parallel for if ((size_t)R * (size_t)Cn >= CPU_PAR_MIN / 4) schedule(static))
  for (int r = 0; r < R; r++) {
    const float *x = logits + (size_t)r * Cn;
    float mx = -INFINITY;
    for (int j = 0; j < Cn; j++)
      if (!(x[j] <= mx)) mx = x[j];   /* a NaN logit makes the row NaN */
    double sum = 0.0;
    for (int j = 0; j < Cn; j++) sum += (double)expf(x[j] - mx);
    const float inv = (float)(1.0 / sum);
    const int label = lab[r];
    const int valid = label >= 0 && label < Cn;
    /* read everything from the row before dlogits (which may alias it) is written */
    if (loss) loss[r] = valid ? (float)(log(sum) + (double)(mx - x[label])) : NAN;
    float *pr = probs ? probs + (size_t)r * Cn : NULL;
    float *dl = dlog ? dlog + (size_t)r * Cn : NULL;
    for (int j = 0; j < Cn; j++) {
      const float p = expf(x[j] - mx) * inv;
      if (pr) pr[j] = p;
      if (dl) dl[j] = scale * (p - (j == label ? 1.0f : 0.0f));
    }
  }
}
