/* Evaluation metrics (docs/specification.md §0.4): A_R over test samples of the
 * remaining classes (micro-averaged), E_F = 100 − accuracy on the forget classes. */
#ifndef MB_EVAL_H
#define MB_EVAL_H

#include "core/devdata.h"
#include "core/mlp.h"
#include "core/model.h"

typedef struct {
  double acc;        /* overall test accuracy, % */
  double A_R, E_F;   /* % (E_F is NaN when no forget class has test samples) */
  long n_remain, n_forget;
} mb_eval_result;

/* Predicts every test sample with parameters w (the model's when none), BN in
 * eval mode; evaluation passes are not counted. */
int mb_model_evaluate(mb_model *md, mb_view w, const mb_devdata *test, const int *forget,
                      int n_forget, mb_eval_result *out);
int mb_evaluate(mb_mlp *m, mb_view w, const mb_devdata *test, const int *forget, int n_forget,
                mb_eval_result *out);

/* Argmax predictions (eval mode) for `rows` rows already in the input buffer;
 * preds: host int32[rows]. */
void mb_model_predict_loaded(mb_model *md, mb_view w, int rows, mb_view dpred, int32_t *preds);
void mb_predict_loaded(mb_mlp *m, mb_view w, int rows, mb_view dpred, int32_t *preds);

int mb_class_in(const int *set, int n, int c);

#endif
