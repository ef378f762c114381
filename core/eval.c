/* Test-set evaluation on the device; only predicted class indices come back. */
#include "core/eval.h"

#include <math.h>
#include <stdlib.h>

int mb_class_in(const int *set, int n, int c)
{
  for (int i = 0; i < n; i++)
    if (set[i] == c) return 1;
  return 0;
}

void mb_model_predict_loaded(mb_model *md, mb_view w, int rows, mb_view dpred, int32_t *preds)
{
  mb_view logits = mb_model_forward(md, w, mb_none(), rows, 0);
  mb_reduce(md->be, MB_RED_ARGMAX, logits, dpred, (size_t)rows, (size_t)md->classes, 1);
  mb_download(md->be, preds, dpred, (size_t)rows);
}

void mb_predict_loaded(mb_mlp *m, mb_view w, int rows, mb_view dpred, int32_t *preds)
{
  mb_model md;
  mb_model_from_mlp(m, &md);
  mb_model_predict_loaded(&md, w, rows, dpred, preds);
}

int mb_evaluate(mb_mlp *m, mb_view w, const mb_devdata *test, const int *forget, int n_forget,
                mb_eval_result *out)
{
  mb_model md;
  mb_model_from_mlp(m, &md);
  return mb_model_evaluate(&md, w, test, forget, n_forget, out);
}

int mb_model_evaluate(mb_model *md, mb_view w, const mb_devdata *test, const int *forget,
                      int n_forget, mb_eval_result *out)
{
  mb_backend *be = md->be;
  int B = md->max_batch;
  int32_t *idx = malloc(sizeof(int32_t) * (size_t)B);
  int32_t *pred = malloc(sizeof(int32_t) * (size_t)B);
  mb_view didx = mb_new(be, (size_t)B), dpred = mb_new(be, (size_t)B);
  /* per batch: the max of the logits and of their negatives; NaN or ±inf in any
   * logit shows in one of them (MAX is NaN as soon as one element is: backend.h) */
  int nb = test->n > 0 ? (test->n + B - 1) / B : 1;
  mb_view dext = mb_new(be, 2 * (size_t)nb);
  float *ext = malloc(sizeof(float) * 2 * (size_t)nb);
  long ok_r = 0, n_r = 0, ok_f = 0, n_f = 0;
  long long fwd = md->passes->forward;   /* evaluation is not part of any method's pass count */
  for (int r0 = 0; r0 < test->n && mb_ok(be) && idx && pred && ext; r0 += B) {
    int rows = test->n - r0 < B ? test->n - r0 : B;
    for (int i = 0; i < rows; i++) idx[i] = r0 + i;
    mb_upload(be, didx, idx, (size_t)rows);
    mb_devdata_gather(be, test, mb_none(), 0, didx, mb_none(), mb_none(), rows, md->in,
                      mb_none(), mb_none());
    mb_view logits = mb_model_forward(md, w, mb_none(), rows, 0);
    size_t nl = (size_t)rows * (size_t)md->classes;
    mb_reduce(be, MB_RED_ARGMAX, logits, dpred, (size_t)rows, (size_t)md->classes, 1);
    mb_reduce(be, MB_RED_MAX, logits, mb_at(dext, 2 * (size_t)(r0 / B)), 1, nl, 1);
    mb_unary(be, MB_UN_AFFINE, logits, logits, nl, -1.0f, 0.0f);   /* read: free to overwrite */
    mb_reduce(be, MB_RED_MAX, logits, mb_at(dext, 2 * (size_t)(r0 / B) + 1), 1, nl, 1);
    mb_download(be, pred, dpred, (size_t)rows);
    for (int i = 0; i < rows; i++) {
      int y = test->host->y[r0 + i];
      if (mb_class_in(forget, n_forget, y)) { n_f++; ok_f += pred[i] == y; }
      else { n_r++; ok_r += pred[i] == y; }
    }
  }
  md->passes->forward = fwd;
  if (ext && test->n > 0) mb_download(be, ext, dext, 2 * (size_t)nb);
  int bad = 0;
  for (int i = 0; ext && mb_ok(be) && test->n > 0 && i < 2 * nb; i++) bad += !isfinite(ext[i]);
  if (!ext && mb_ok(be)) mb_fail(be, MB_OOM, "evaluation: out of host memory");
  if (bad)   /* an accuracy from NaN or infinite scores would be a number that means nothing */
    mb_fail(be, MB_BAD_ARG, "evaluation: the model's outputs are not finite (NaN or inf logits "
            "in %d of %d test batches): no accuracy can be given for these weights", (bad + 1) / 2, nb);
  free(idx);
  free(pred);
  free(ext);
  mb_release(be, didx);
  mb_release(be, dpred);
  mb_release(be, dext);
  if (!mb_ok(be)) return -1;
  out->n_remain = n_r;
  out->n_forget = n_f;
  out->acc = 100.0 * (double)(ok_r + ok_f) / (double)(n_r + n_f);
  out->A_R = n_r ? 100.0 * (double)ok_r / (double)n_r : NAN;
  out->E_F = n_f ? 100.0 - 100.0 * (double)ok_f / (double)n_f : NAN;
  return 0;
}
