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

/* ---- row softmax and its backward ----
 * Rows are spread over the threads; a row's sums run in double over 8 interleaved
 * lanes added in a fixed tree (vectorisable, independent of the thread count). */
#define SM_LANES 8

static double lanes8(const double *acc)
{
  return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

void cpu_softmax(mb_backend *be, const mb_softmax_args *a)
{
  if (be->status != MB_OK) return;
  const size_t n = (size_t)a->cols, total = (size_t)a->rows * n;
  (void)total;   /* only read by the OpenMP if clause */
  CPU_OMP(omp parallel for if (total >= CPU_PAR_MIN_MATH) schedule(static))
  for (int r = 0; r < a->rows; r++) {
    const float *x = host_f32(a->x) + (size_t)r * n;
    float *y = host_f32(a->y) + (size_t)r * n;
    float mx = -INFINITY;
    int nan = 0;
    for (size_t j = 0; j < n; j++) {
      nan |= isnan(x[j]);
      mx = x[j] > mx ? x[j] : mx;
    }
    if (nan || mx == -INFINITY) {   /* NaN in the row, or no finite maximum: NaN (as ref) */
      for (size_t j = 0; j < n; j++) y[j] = NAN;
      continue;
    }
    /* y may alias x: x[j] is read once, then y[j] holds the exponential */
    for (size_t j = 0; j < n; j++) y[j] = expf(x[j] - mx);
    double acc[SM_LANES] = {0};
    size_t j = 0;
    for (; j + SM_LANES <= n; j += SM_LANES)
      for (int k = 0; k < SM_LANES; k++) acc[k] += (double)y[j + k];
    for (int k = 0; j < n; j++, k++) acc[k] += (double)y[j];
    const double inv = 1.0 / lanes8(acc);
    for (j = 0; j < n; j++) y[j] = (float)((double)y[j] * inv);
  }
}

void cpu_softmax_bwd(mb_backend *be, const mb_softmax_args *a)
{
  if (be->status != MB_OK) return;
  const size_t n = (size_t)a->cols, total = (size_t)a->rows * n;
  (void)total;
  CPU_OMP(omp parallel for if (total >= CPU_PAR_MIN) schedule(static))
  for (int r = 0; r < a->rows; r++) {
    const float *y = host_f32(a->y) + (size_t)r * n, *dy = host_f32(a->dy) + (size_t)r * n;
    float *dx = host_f32(a->dx) + (size_t)r * n;
    double acc[SM_LANES] = {0};
    size_t j = 0;
    for (; j + SM_LANES <= n; j += SM_LANES)
      for (int k = 0; k < SM_LANES; k++) acc[k] += (double)dy[j + k] * (double)y[j + k];
    for (int k = 0; j < n; j++, k++) acc[k] += (double)dy[j] * (double)y[j];
    const double s = lanes8(acc);
    for (j = 0; j < n; j++)   /* dx may alias dy */
      dx[j] = (float)((double)y[j] * ((double)dy[j] - s));
  }
}
