/* Batched mnemonic-code forgetting, written once against the model interface. */
#include "core/forget_batched.h"
#include "core/eval.h"

#include <stdlib.h>

/* Rows [b0, b0+rows) of the class order into the input buffer. */
static void load_codes(mb_model *md, mb_view codes, mb_view dorder, int n_classes, int b0, int rows)
{
  mb_gather_args g = {
    .src = codes, .idx = mb_at(dorder, (size_t)b0), .dst = md->in, .n_rows = rows,
    .row_len = md->in_dim, .n_src_rows = n_classes,
  };
  mb_gather_rows(md->be, &g);
}

static void count_correct(const int32_t *pred, const int32_t *lab, int rows, const int *forget,
                          int n_forget, long ok[2])
{
  for (int i = 0; i < rows; i++)
    if (pred[i] == lab[i]) ok[mb_class_in(forget, n_forget, lab[i]) ? 0 : 1]++;
}

int mb_model_forget_mnemonic_batched(mb_model *md, mb_view codes, int n_classes, const int *forget,
                                     int n_forget, int batch, float lambda1, float lambda2,
                                     mb_sign_choice *choice, mb_forget_progress progress,
                                     void *ctx)
{
  mb_backend *be = md->be;
  const size_t P = md->total;
  *choice = (mb_sign_choice){0};
  if (n_forget < 1 || n_forget >= n_classes) {
    mb_fail(be, MB_BAD_ARG, "forget: need between 1 and %d forget classes", n_classes - 1);
    return -1;
  }
  if (batch < 1 || batch > md->max_batch) {
    mb_fail(be, MB_BAD_ARG, "forget: batch %d outside 1..%d", batch, md->max_batch);
    return -1;
  }
  int32_t *order = malloc(sizeof(int32_t) * (size_t)n_classes);
  int32_t *pred = malloc(sizeof(int32_t) * (size_t)batch);
  if (!order || !pred) {
    free(order); free(pred);
    mb_fail(be, MB_OOM, "out of memory");
    return -1;
  }
  /* forget classes first, so every batch splits into at most two squared-gradient targets */
  int k = 0;
  for (int i = 0; i < n_forget; i++) order[k++] = forget[i];
  for (int c = 0; c < n_classes; c++)
    if (!mb_class_in(forget, n_forget, c)) order[k++] = c;
  mb_view dorder = mb_new(be, (size_t)n_classes), dpred = mb_new(be, (size_t)batch);
  mb_view f_forget = mb_new(be, P), f_remain = mb_new(be, P);
  mb_upload(be, dorder, order, (size_t)n_classes);
  mb_fill(be, f_forget, P, 1e-16f);
  mb_fill(be, f_remain, P, 1e-16f);

  /* §2.1: per-sample CE of code c against label c, eval mode, squares summed per set */
  for (int b0 = 0; b0 < n_classes && mb_ok(be); b0 += batch) {
    int rows = n_classes - b0 < batch ? n_classes - b0 : batch;
    load_codes(md, codes, dorder, n_classes, b0, rows);
    mb_model_forward(md, mb_none(), mb_none(), rows, 0);
    mb_model_xent(md, mb_at(dorder, (size_t)b0), rows, 1.0f, mb_none());
    mb_sq_target sq[2];
    int n_sq = 0, split = n_forget - b0;   /* local row where the remaining classes start */
    if (split > rows) split = rows;
    if (split < 0) split = 0;
    if (split > 0) sq[n_sq++] = (mb_sq_target){0, split, f_forget};
    if (split < rows) sq[n_sq++] = (mb_sq_target){split, rows, f_remain};
    const mb_bwd_opts bo = {.want_grads = 0, .n_sq = n_sq, .sq = sq};
    mb_model_backward(md, rows, &bo);
    if (progress) progress(ctx, "fim", b0 + rows, n_classes);
  }
  /* the candidates in f_remain and, once the FIM is made, in w itself (copied over
   * only when plus wins); the sums become means (the floor divided too, §2.1 step 4)
   * inside the update */
  mb_view plus = f_remain, minus = md->w;
  mb_model_forget_candidates_sums(md, f_forget, f_remain, n_forget, n_classes - n_forget, lambda1,
                                  lambda2, plus, minus);

  /* §2.3: both candidates on every code */
  long ok_p[2] = {0, 0}, ok_m[2] = {0, 0};
  for (int b0 = 0; b0 < n_classes && mb_ok(be); b0 += batch) {
    int rows = n_classes - b0 < batch ? n_classes - b0 : batch;
    load_codes(md, codes, dorder, n_classes, b0, rows);
    mb_model_predict_loaded(md, plus, rows, dpred, pred);
    count_correct(pred, order + b0, rows, forget, n_forget, ok_p);
    mb_model_predict_loaded(md, minus, rows, dpred, pred);
    count_correct(pred, order + b0, rows, forget, n_forget, ok_m);
    if (progress) progress(ctx, "choose", b0 + rows, n_classes);
  }
  const double nf = n_forget, nr = n_classes - n_forget;
  choice->score_plus = (1.0 - ok_p[0] / nf) + ok_p[1] / nr;
  choice->score_minus = (1.0 - ok_m[0] / nf) + ok_m[1] / nr;
  choice->remain_plus = ok_p[1] / nr;
  choice->remain_minus = ok_m[1] / nr;
  choice->sign = choice->score_plus > choice->score_minus ? 1 : -1;   /* ties to minus */
  mb_keep_candidate(md, choice->sign > 0 ? plus : minus);
  mb_release(be, dorder);
  mb_release(be, dpred);
  mb_release(be, f_forget);
  mb_release(be, f_remain);
  free(order);
  free(pred);
  return mb_ok(be) ? 0 : -1;
}
