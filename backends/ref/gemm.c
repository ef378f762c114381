/* GEMM oracle: every dot product accumulated in double (products of two floats are
 * exact in double), alpha and beta applied in double, one rounding to f32 at the end. */
#include "ref_backend.h"

#include <stdlib.h>

/* beta == 0: C is not read, so NaN or garbage there does not propagate. */
static inline void store(float *c, double acc, double alpha, double beta)
{
  *c = (float)(beta == 0.0 ? alpha * acc : alpha * acc + beta * (double)*c);
}

/* Item bi of a into C (row stride ldc); bt (N·K) and arow (K) are packing space. */
static void gemm_item(const mb_gemm_args *a, int bi, float *C, int ldc, float *bt, float *arow)
{
  const int M = a->m, N = a->n, K = a->k;
  const double alpha = a->alpha, beta = a->beta;
  const float *A = host_f32(a->a) + (size_t)bi * (size_t)a->stride_a;
  const float *B = host_f32(a->b) + (size_t)bi * (size_t)a->stride_b;
  for (int j = 0; j < N; j++)
    for (int k = 0; k < K; k++)
      bt[(size_t)j * K + k] = a->trans_b ? B[(size_t)j * a->ldb + k] : B[(size_t)k * a->ldb + j];
  for (int i = 0; i < M; i++) {
    for (int k = 0; k < K; k++)
      arow[k] = a->trans_a ? A[(size_t)k * a->lda + i] : A[(size_t)i * a->lda + k];
    float *c = C + (size_t)i * ldc;
    int j = 0;
    /* four columns at a time: four independent sums, each still in plain k order,
     * so the result is that of the one-column loop, only faster */
    for (; j + 4 <= N; j += 4) {
      const float *b0 = bt + (size_t)j * K, *b1 = b0 + K, *b2 = b1 + K, *b3 = b2 + K;
      double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
      for (int k = 0; k < K; k++) {
        const double av = arow[k];
        s0 += av * (double)b0[k];
        s1 += av * (double)b1[k];
        s2 += av * (double)b2[k];
        s3 += av * (double)b3[k];
      }
      store(c + j, s0, alpha, beta);
      store(c + j + 1, s1, alpha, beta);
      store(c + j + 2, s2, alpha, beta);
      store(c + j + 3, s3, alpha, beta);
    }
    for (; j < N; j++) {
      const float *b = bt + (size_t)j * K;
      double acc = 0.0;
      for (int k = 0; k < K; k++) acc += (double)arow[k] * (double)b[k];
      store(c + j, acc, alpha, beta);
    }
  }
}

/* n floats of packing or scratch space, or NULL after a one-line error on be. */
static float *space(mb_backend *be, const char *op, size_t n)
{
  float *p = malloc(n * sizeof *p);
  if (!p) host_fail(be, MB_OOM, "%s: cannot allocate %zu bytes of working space", op, n * sizeof *p);
  return p;
}

void ref_gemm(mb_backend *be, const mb_gemm_args *a)
{
  if (be->status != MB_OK) return;
  float *bt = space(be, "gemm", (size_t)a->n * (size_t)a->k);
  float *arow = bt ? space(be, "gemm", (size_t)a->k) : NULL;
  for (int bi = 0; arow && bi < a->batch; bi++)
    gemm_item(a, bi, host_f32(a->c) + (size_t)bi * (size_t)a->stride_c, a->ldc, bt, arow);
  free(bt);
  free(arow);
}

/* Each item as ref_gemm computes it (β = 0); each element's squares summed over the
 * samples in f64 in sample order and rounded once, as ref's reduce SUMSQ does, then added
 * to acc as binary AXPBY(1, 1) does: the generic composition's bits (for one sample the
 * same as its ADD_SQR: the f64 square of an f32 is exact). */
void ref_gemm_sq_acc(mb_backend *be, const mb_gemm_sq_args *s)
{
  if (be->status != MB_OK) return;
  mb_gemm_args g = s->g;
  g.beta = 0.0f;
  const size_t mn = (size_t)g.m * (size_t)g.n, per = mn * (size_t)s->groups;
  float *bt = space(be, "gemm_sq_acc", (size_t)g.n * (size_t)g.k);
  float *arow = bt ? space(be, "gemm_sq_acc", (size_t)g.k) : NULL;
  float *c = arow ? space(be, "gemm_sq_acc", mn) : NULL;
  double *sum = c ? calloc(per, sizeof *sum) : NULL;
  if (c && !sum) host_fail(be, MB_OOM, "gemm_sq_acc: cannot allocate %zu bytes of working space",
                           per * sizeof *sum);
  for (int bi = 0; sum && bi < g.batch; bi++) {
    gemm_item(&g, bi, c, g.n, bt, arow);
    double *y = sum + (size_t)(bi % s->groups) * mn;
    for (size_t i = 0; i < mn; i++) y[i] += (double)c[i] * (double)c[i];
  }
  float *acc = host_f32(s->acc);
  for (size_t i = 0; sum && i < per; i++) acc[i] = 1.0f * acc[i] + 1.0f * (float)sum[i];
  free(bt);
  free(arow);
  free(c);
  free(sum);
}
