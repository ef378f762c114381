/* FIM approximation error, with core functions only (see fim.h). */
#include "harness/fim.h"
#include "core/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: a small seeded generator for the sample draw */
static uint64_t sm64(uint64_t *s)
{
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int mb_fim_from_data(mb_mlp *m, const mb_devdata *train, int n_classes, const int *forget,
                     int n_forget, int per_class, uint64_t seed, mb_view f_forget, mb_view f_remain)
{
  mb_backend *be = m->be;
  const mb_dataset *h = train->host;
  size_t P = m->pt.total;
  int B = m->max_batch;
  if (!h || n_forget < 1 || n_forget >= n_classes) {
    mb_fail(be, MB_BAD_ARG, "fim: need the host training set and 1..%d forget classes", n_classes - 1);
    return -1;
  }
  int32_t *idx = malloc(sizeof(int32_t) * (size_t)(h->n ? h->n : 1));
  mb_view didx = mb_new(be, (size_t)(h->n ? h->n : 1)), labels = mb_new(be, (size_t)B),
          acc = mb_new(be, P);
  if (!idx) mb_fail(be, MB_OOM, "fim: out of memory");
  mb_fill(be, f_forget, P, 0.0f);
  mb_fill(be, f_remain, P, 0.0f);
  for (int c = 0; c < n_classes && mb_ok(be); c++) {
    int n = 0;
    for (int i = 0; i < h->n; i++)
      if (h->y[i] == c) idx[n++] = i;
    if (n == 0) continue;
    if (per_class > 0 && per_class < n) {   /* partial Fisher–Yates: the first per_class */
      uint64_t st = seed * 0x100000001B3ull + (uint64_t)c * 7919u + 0xF1Eu;
      for (int i = 0; i < per_class; i++) {
        int j = i + (int)(sm64(&st) % (uint64_t)(n - i));
        int32_t t = idx[i]; idx[i] = idx[j]; idx[j] = t;
      }
      n = per_class;
    }
    mb_upload(be, didx, idx, (size_t)n);
    mb_fill(be, acc, P, 0.0f);
    for (int r0 = 0; r0 < n && mb_ok(be); r0 += B) {
      int rows = n - r0 < B ? n - r0 : B;
      mb_view at = mb_at(didx, (size_t)r0);
      mb_devdata_gather(be, train, mb_none(), 0, at, mb_none(), at, rows, m->act[0], labels, mb_none());
      mb_mlp_forward(m, mb_none(), mb_none(), rows);
      mb_mlp_xent(m, labels, rows, 1.0f, mb_none());   /* per-sample CE */
      mb_mlp_backward(m, rows, 0);
      mb_mlp_accumulate_sq_grads(m, 0, rows, acc);
    }
    mb_view dst = mb_class_in(forget, n_forget, c) ? f_forget : f_remain;
    mb_binary(be, MB_BIN_AXPBY, dst, acc, dst, P, 1.0f, 1.0f / (float)n);
  }
  /* the 1e-16 floor is added before dividing by the class counts */
  mb_unary(be, MB_UN_AFFINE, f_forget, f_forget, P, 1.0f / (float)n_forget, 1e-16f / (float)n_forget);
  mb_unary(be, MB_UN_AFFINE, f_remain, f_remain, P, 1.0f / (float)(n_classes - n_forget),
           1e-16f / (float)(n_classes - n_forget));
  free(idx);
  mb_release(be, didx);
  mb_release(be, labels);
  mb_release(be, acc);
  return mb_ok(be) ? 0 : -1;
}

static void diff_norms(const float *a, const float *o, size_t P, double *err, double *rel)
{
  double d = 0, n = 0;
  for (size_t i = 0; i < P; i++) {
    double x = (double)a[i] - (double)o[i];
    d += x * x;
    n += (double)o[i] * (double)o[i];
  }
  *err = sqrt(d) / (double)P;
  *rel = n > 0 ? sqrt(d) / sqrt(n) : NAN;
}

int mb_fim_compare(mb_backend *be, size_t P, mb_view approx_F, mb_view approx_R, mb_view oracle_F,
                   mb_view oracle_R, mb_fim_error *e)
{
  float *a = malloc(P * sizeof *a), *o = malloc(P * sizeof *o);
  if (!a || !o) {
    free(a); free(o);
    mb_fail(be, MB_OOM, "fim: out of memory");
    return -1;
  }
  mb_download(be, a, approx_F, P);
  mb_download(be, o, oracle_F, P);
  diff_norms(a, o, P, &e->err_F, &e->rel_F);
  mb_download(be, a, approx_R, P);
  mb_download(be, o, oracle_R, P);
  diff_norms(a, o, P, &e->err_R, &e->rel_R);
  free(a);
  free(o);
  return mb_ok(be) ? 0 : -1;
}
