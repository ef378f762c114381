/* Evaluation metrics (algorithms.md §0.4): A_R over test samples of the
 * remaining classes (micro-averaged), E_F = 100 − accuracy on the forget classes. */
#ifndef MB_EVAL_H
#define MB_EVAL_H

#include "core/devdata.h"
#include "core/mlp.h"

typedef struct {
  double acc;        /* overall test accuracy, % */
  double A_R, E_F;   /* % (E_F is NaN when no forget class has test samples) */
  long n_remain, n_forget;
} mb_eval_result;

/* Predicts every test sample with parameters w (m->w when none). */
int mb_evaluate(mb_mlp *m, mb_view w, const mb_devdata *test, const int *forget, int n_forget,
                mb_eval_result *out);

/* Argmax predictions for `rows` rows already in act[0]; preds: host int32[rows]. */
void mb_predict_loaded(mb_mlp *m, mb_view w, int rows, mb_view dpred, int32_t *preds);

int mb_class_in(const int *set, int n, int c);

#endif
