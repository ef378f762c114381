/* λ from the codes: the smallest grid pair whose ± choice separates the forget
 * codes from the remaining ones (docs/specification.md §2.4). */
#include "core/lambda_codes.h"
#include "core/eval.h"
#include "core/forget_mnemonic.h"

#include <stdlib.h>

const double mb_lambda1_grid[MB_LAMBDA_GRID_N] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};
const double mb_lambda2_grid[MB_LAMBDA_GRID_N] = {0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5};

int mb_lambda_from_codes(mb_model *md, mb_view codes, int n_classes, const int *forget,
                         int n_forget, mb_lambda_choice *out)
{
  mb_backend *be = md->be;
  size_t P = md->total;
  *out = (mb_lambda_choice){mb_lambda1_grid[0], mb_lambda2_grid[0], -1.0, 0};
  if (n_forget < 1 || n_forget >= n_classes || n_classes > md->max_batch) {
    mb_fail(be, MB_BAD_ARG, "lambda from codes: need 1 to %d forget classes and at most %d codes",
            n_classes - 1, md->max_batch);
    return -1;
  }
  /* the labels of the code rows as the FIM orders them: forget classes first */
  int32_t *labels = malloc(sizeof(int32_t) * (size_t)n_classes);
  if (!labels) { mb_fail(be, MB_OOM, "out of memory"); return -1; }
  int k = 0;
  for (int i = 0; i < n_forget; i++) labels[k++] = forget[i];
  for (int c = 0; c < n_classes; c++)
    if (!mb_class_in(forget, n_forget, c)) labels[k++] = c;
  mb_view f_forget = mb_new(be, P), f_remain = mb_new(be, P), delta = mb_new(be, P);
  mb_view plus = mb_new(be, P), minus = mb_new(be, P), saved = mb_new(be, P);
  mb_copy(be, saved, md->w, P);
  /* leaves the codes in the input buffer, in label order, for every scoring below */
  mb_model_fisher_from_codes(md, codes, n_classes, forget, n_forget, f_forget, f_remain);
  for (int i = 0; i < MB_LAMBDA_GRID_N && mb_ok(be) && out->score < 2.0; i++)
    for (int j = 0; j < MB_LAMBDA_GRID_N && mb_ok(be) && out->score < 2.0; j++) {
      double l1 = mb_lambda1_grid[i], l2 = mb_lambda2_grid[j];
      mb_copy(be, delta, f_forget, P);   /* δ is computed in place */
      mb_model_delta_from_fisher(md, delta, f_remain, (float)l1, (float)l2);
      mb_sign_choice c = mb_model_choose_sign(md, delta, plus, minus, n_classes, labels, forget,
                                              n_forget);
      mb_copy(be, md->w, saved, P);      /* the choice wrote its candidate into w */
      double best = c.score_plus > c.score_minus ? c.score_plus : c.score_minus;
      out->tried++;
      if (best > out->score) *out = (mb_lambda_choice){l1, l2, best, out->tried};
    }
  mb_release(be, f_forget);
  mb_release(be, f_remain);
  mb_release(be, delta);
  mb_release(be, plus);
  mb_release(be, minus);
  mb_release(be, saved);
  free(labels);
  return mb_ok(be) ? 0 : -1;
}
