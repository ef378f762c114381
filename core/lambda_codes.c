/* λ from the codes (docs/specification.md §2.4): the smallest grid pair whose
 * ± choice separates the forget codes from the remaining ones, then λ1 one
 * grid step (a decade) above it. */
#include "core/lambda_codes.h"
#include "core/eval.h"
#include "core/forget_mnemonic.h"

#include <stdlib.h>
#include <string.h>

const double mb_lambda1_grid[MB_LAMBDA_GRID_N] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};
const double mb_lambda2_grid[MB_LAMBDA_GRID_N] = {0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5};

typedef struct {
  mb_model *md;
  mb_view f_forget, f_remain, delta, plus, minus, saved;
  int32_t *labels;
  int n_classes;
  const int *forget;
  int n_forget;
} search;

/* The ± choice's score on the codes with δ of (λ1, λ2); the weights are put back. */
static double score_pair(search *s, double l1, double l2)
{
  mb_model *md = s->md;
  size_t P = md->total;
  mb_copy(md->be, s->delta, s->f_forget, P);   /* δ is computed in place */
  mb_model_delta_from_fisher(md, s->delta, s->f_remain, (float)l1, (float)l2);
  mb_sign_choice c = mb_model_choose_sign(md, s->delta, s->plus, s->minus, s->n_classes,
                                          s->labels, s->forget, s->n_forget);
  mb_copy(md->be, md->w, s->saved, P);         /* the choice wrote its candidate into w */
  return c.score_plus > c.score_minus ? c.score_plus : c.score_minus;
}

int mb_lambda_from_codes(mb_model *md, mb_view codes, int n_classes, const int *forget,
                         int n_forget, mb_lambda_choice *out)
{
  mb_backend *be = md->be;
  size_t P = md->total;
  memset(out, 0, sizeof *out);
  out->score = -1.0;
  if (n_forget < 1 || n_forget >= n_classes || n_classes > md->max_batch) {
    mb_fail(be, MB_BAD_ARG, "lambda from codes: need 1 to %d forget classes and at most %d codes",
            n_classes - 1, md->max_batch);
    return -1;
  }
  search s = {.md = md, .n_classes = n_classes, .forget = forget, .n_forget = n_forget};
  /* the labels of the code rows as the FIM orders them: forget classes first */
  s.labels = malloc(sizeof(int32_t) * (size_t)n_classes);
  if (!s.labels) { mb_fail(be, MB_OOM, "out of memory"); return -1; }
  int k = 0;
  for (int i = 0; i < n_forget; i++) s.labels[k++] = forget[i];
  for (int c = 0; c < n_classes; c++)
    if (!mb_class_in(forget, n_forget, c)) s.labels[k++] = c;
  s.f_forget = mb_new(be, P); s.f_remain = mb_new(be, P); s.delta = mb_new(be, P);
  s.plus = mb_new(be, P); s.minus = mb_new(be, P); s.saved = mb_new(be, P);
  mb_copy(be, s.saved, md->w, P);
  /* leaves the codes in the input buffer, in label order, for every scoring below */
  mb_model_fisher_from_codes(md, codes, n_classes, forget, n_forget, s.f_forget, s.f_remain);
  int fi = -1, fj = -1;
  for (int i = 0; i < MB_LAMBDA_GRID_N && fi < 0 && mb_ok(be); i++)
    for (int j = 0; j < MB_LAMBDA_GRID_N && fi < 0 && mb_ok(be); j++) {
      double sc = score_pair(&s, mb_lambda1_grid[i], mb_lambda2_grid[j]);
      out->tried++;
      if (sc > out->score) {   /* the first best, should no pair separate the codes */
        out->score = sc;
        out->lambda1 = out->first_lambda1 = mb_lambda1_grid[i];
        out->lambda2 = out->first_lambda2 = mb_lambda2_grid[j];
      }
      if (sc >= 2.0) { fi = i; fj = j; }
    }
  /* The codes flip before the class's own images do: a decade of margin in λ1,
   * kept only while the codes stay separated. */
  if (fi >= 0 && fi + 1 < MB_LAMBDA_GRID_N && mb_ok(be)) {
    out->tried++;
    if (score_pair(&s, mb_lambda1_grid[fi + 1], mb_lambda2_grid[fj]) >= 2.0)
      out->lambda1 = mb_lambda1_grid[fi + 1];
  }
  mb_release(be, s.f_forget);
  mb_release(be, s.f_remain);
  mb_release(be, s.delta);
  mb_release(be, s.plus);
  mb_release(be, s.minus);
  mb_release(be, s.saved);
  free(s.labels);
  return mb_ok(be) ? 0 : -1;
}
