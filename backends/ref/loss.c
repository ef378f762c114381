/* Softmax cross-entropy oracle, row by row in double: max subtraction for stability,
 * loss = logsumexp − logit[label], dlogits = scale·(softmax − onehot). */
#include "ref_backend.h"

#include <math.h>

void ref_softmax_xent(mb_backend *be, const mb_xent_args *a)
{
  if (be->status != MB_OK) return;
  const int R = a->rows, Cn = a->cols;
  const int32_t *lab = host_i32(a->labels);
  for (int r = 0; r < R; r++) {
    const float *x = host_f32(a->logits) + (size_t)r * Cn;
    double mx = -INFINITY;
    for (int j = 0; j < Cn; j++)
      if (!(x[j] <= mx)) mx = x[j];   /* a NaN logit makes the row NaN */
    double sum = 0.0;
    for (int j = 0; j < Cn; j++) sum += exp((double)x[j] - mx);
    const double lse = mx + log(sum);
    const int label = lab[r];
    const int valid = label >= 0 && label < Cn;
    /* read everything from the row before dlogits (which may alias it) is written */
    if (!ref_is_none(a->loss))
      host_f32(a->loss)[r] = valid ? (float)(lse - (double)x[label]) : NAN;
    float *pr = ref_is_none(a->probs) ? NULL : host_f32(a->probs) + (size_t)r * Cn;
    float *dl = ref_is_none(a->dlogits) ? NULL : host_f32(a->dlogits) + (size_t)r * Cn;
    for (int j = 0; j < Cn; j++) {
      const double p = exp((double)x[j] - lse);
      if (pr) pr[j] = (float)p;
      if (dl) dl[j] = (float)((double)a->scale * (p - (j == label ? 1.0 : 0.0)));
    }
  }
}

/* Row softmax: max, then the sum of exponentials in double. */
void ref_softmax(mb_backend *be, const mb_softmax_args *a)
{
  if (be->status != MB_OK) return;
  const size_t n = (size_t)a->cols;
  for (int r = 0; r < a->rows; r++) {
    const float *x = host_f32(a->x) + (size_t)r * n;
    float *y = host_f32(a->y) + (size_t)r * n;
    double mx = -INFINITY;
    int nan = 0;
    for (size_t j = 0; j < n; j++) {
      if (isnan(x[j])) nan = 1;
      else if ((double)x[j] > mx) mx = (double)x[j];
    }
    if (nan || mx == -INFINITY) {   /* NaN in the row, or no finite maximum */
      for (size_t j = 0; j < n; j++) y[j] = NAN;
      continue;
    }
    double s = 0.0;
    for (size_t j = 0; j < n; j++) s += exp((double)x[j] - mx);
    for (size_t j = 0; j < n; j++) y[j] = (float)(exp((double)x[j] - mx) / s);
  }
}

void ref_softmax_bwd(mb_backend *be, const mb_softmax_args *a)
{
  if (be->status != MB_OK) return;
  const size_t n = (size_t)a->cols;
  for (int r = 0; r < a->rows; r++) {
    const float *y = host_f32(a->y) + (size_t)r * n, *dy = host_f32(a->dy) + (size_t)r * n;
    float *dx = host_f32(a->dx) + (size_t)r * n;
    double s = 0.0;
    for (size_t j = 0; j < n; j++) s += (double)dy[j] * (double)y[j];
    for (size_t j = 0; j < n; j++) dx[j] = (float)((double)y[j] * ((double)dy[j] - s));
  }
}
