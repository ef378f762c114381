/* Mnemonic-code forgetting, written once against the op table. */
#include "core/forget_mnemonic.h"
#include "core/eval.h"

#include <stdlib.h>

/* Code rows ordered forget classes first; returns the class order in order[]. */
static int order_classes(int n_classes, const int *forget, int n_forget, int32_t *order)
{
  int k = 0;
  for (int i = 0; i < n_forget; i++) order[k++] = forget[i];
  for (int c = 0; c < n_classes; c++)
    if (!mb_class_in(forget, n_forget, c)) order[k++] = c;
  return k;
}

/* The Fisher sums over the codes (floor included), not yet divided by the counts. */
static void fisher_sums(mb_model *md, mb_view codes, int n_classes, const int *forget, int n_forget,
                        mb_view f_forget, mb_view f_remain)
{
  mb_backend *be = md->be;
  int32_t *order = malloc(sizeof(int32_t) * (size_t)n_classes);
  if (!order) { mb_fail(be, MB_OOM, "out of memory"); return; }
  order_classes(n_classes, forget, n_forget, order);
  mb_view dorder = mb_new(be, (size_t)n_classes);
  mb_upload(be, dorder, order, (size_t)n_classes);
  mb_gather_args g = {
    .src = codes, .idx = dorder, .dst = md->in, .n_rows = n_classes, .row_len = md->in_dim,
    .n_src_rows = n_classes,
  };
  mb_gather_rows(be, &g);
  /* per-sample CE of code c with label c: the labels are the class order itself;
   * eval mode, so BN uses its running statistics (§2.1 step 1) */
  mb_model_forward(md, mb_none(), mb_none(), n_classes, 0);
  mb_model_xent(md, dorder, n_classes, 1.0f, mb_none());
  size_t P = md->total;
  mb_fill(be, f_forget, P, 1e-16f);
  mb_fill(be, f_remain, P, 1e-16f);
  const mb_sq_target sq[2] = {{0, n_forget, f_forget}, {n_forget, n_classes, f_remain}};
  const mb_bwd_opts bo = {.want_grads = 0, .n_sq = 2, .sq = sq};
  mb_model_backward(md, n_classes, &bo);
  mb_release(be, dorder);
  free(order);
}

void mb_model_fisher_from_codes(mb_model *md, mb_view codes, int n_classes, const int *forget,
                                int n_forget, mb_view f_forget, mb_view f_remain)
{
  mb_backend *be = md->be;
  const size_t P = md->total;
  fisher_sums(md, codes, n_classes, forget, n_forget, f_forget, f_remain);
  /* the floor is divided by the class count too (§2.1 step 4) */
  mb_unary(be, MB_UN_AFFINE, f_forget, f_forget, P, 1.0f / (float)n_forget, 0.0f);
  mb_unary(be, MB_UN_AFFINE, f_remain, f_remain, P, 1.0f / (float)(n_classes - n_forget), 0.0f);
}

void mb_fisher_from_codes(mb_mlp *m, mb_view codes, int n_classes, const int *forget, int n_forget,
                          mb_view f_forget, mb_view f_remain)
{
  mb_model md;
  mb_model_from_mlp(m, &md);
  mb_model_fisher_from_codes(&md, codes, n_classes, forget, n_forget, f_forget, f_remain);
}

void mb_forget_update_auto(mb_backend *be, const mb_forget_args *a, mb_view scratch)
{
  if (mb_has_opt(be, MB_OPID_forget_update)) {
    mb_forget_update(be, a);
    return;
  }
  if (mb_is_none(a->delta)) {
    mb_fail(be, MB_BAD_ARG, "forget_update: the op chain needs a delta view");
    return;
  }
  const size_t *offs = a->offs;
  const int nseg = a->nseg;
  const size_t P = offs[nseg];
  mb_view r = a->delta, seg = mb_new(be, (size_t)nseg);
  mb_view log_r = scratch;
  if (a->scale_forget != 0.0f) {   /* f/n first (§2.1 step 4), into the outputs */
    mb_unary(be, MB_UN_AFFINE, a->f_forget, r, P, a->scale_forget, 0.0f);
    mb_unary(be, MB_UN_LOG, r, r, P, 0, 0);
  } else {
    mb_unary(be, MB_UN_LOG, a->f_forget, r, P, 0, 0);
  }
  if (a->scale_remain != 0.0f) {
    mb_unary(be, MB_UN_AFFINE, a->f_remain, log_r, P, a->scale_remain, 0.0f);
    mb_unary(be, MB_UN_LOG, log_r, log_r, P, 0, 0);
  } else {
    mb_unary(be, MB_UN_LOG, a->f_remain, log_r, P, 0, 0);
  }
  mb_binary(be, MB_BIN_AXPBY, r, log_r, r, P, 1.0f, -1.0f);
  mb_unary(be, MB_UN_NAN_TO, r, r, P, 0.0f, 0);
  mb_seg_reduce(be, MB_RED_MAX_FINITE, r, seg, offs, nseg);
  mb_seg_bcast(be, MB_SEGBC_INF_TO, r, seg, r, offs, nseg);   /* both ±inf become the max */
  mb_unary(be, MB_UN_EXP, r, r, P, 0, 0);                     /* η */
  mb_seg_reduce(be, MB_RED_MAX, r, seg, offs, nseg);
  mb_unary(be, MB_UN_RECIP, seg, seg, (size_t)nseg, 0, 0);
  mb_unary(be, MB_UN_AFFINE, seg, seg, (size_t)nseg, a->lambda2, 0.0f);
  mb_unary(be, MB_UN_MIN_S, seg, seg, (size_t)nseg, a->lambda1, 0);  /* α_l */
  mb_seg_bcast(be, MB_SEGBC_MUL, r, seg, r, offs, nseg);              /* δ = α_l·η */
  mb_release(be, seg);
  /* the candidates of §2.3 (scratch is free again, so minus may be it; minus may be w,
   * so plus is written first) */
  if (!mb_is_none(a->plus)) mb_binary(be, MB_BIN_AXPBY, a->w, r, a->plus, P, 1.0f, 1.0f);
  if (!mb_is_none(a->minus)) mb_binary(be, MB_BIN_AXPBY, a->w, r, a->minus, P, 1.0f, -1.0f);
}

void mb_model_delta_from_fisher(mb_model *md, mb_view f_forget, mb_view f_remain, float lambda1,
                                float lambda2)
{
  const mb_forget_args fa = {
    .f_forget = f_forget, .f_remain = f_remain, .w = md->w, .delta = f_forget,
    .plus = mb_none(), .minus = mb_none(), .offs = md->offs, .nseg = md->nseg,
    .lambda1 = lambda1, .lambda2 = lambda2,
  };
  mb_forget_update_auto(md->be, &fa, md->g);   /* gradients are free during forgetting */
}

static void candidates(mb_model *md, mb_view f_forget, mb_view f_remain, float scale_forget,
                       float scale_remain, float lambda1, float lambda2, mb_view plus, mb_view minus)
{
  /* δ itself is wanted only as the op chain's working array */
  const int fused = mb_has_opt(md->be, MB_OPID_forget_update);
  const mb_forget_args fa = {
    .f_forget = f_forget, .f_remain = f_remain, .w = md->w, .delta = fused ? mb_none() : f_forget,
    .plus = plus, .minus = minus, .offs = md->offs, .nseg = md->nseg,
    .lambda1 = lambda1, .lambda2 = lambda2,
    .scale_forget = scale_forget, .scale_remain = scale_remain,
  };
  mb_forget_update_auto(md->be, &fa, md->g);
}

void mb_model_forget_candidates(mb_model *md, mb_view f_forget, mb_view f_remain, float lambda1,
                                float lambda2, mb_view plus, mb_view minus)
{
  candidates(md, f_forget, f_remain, 0.0f, 0.0f, lambda1, lambda2, plus, minus);
}

void mb_model_forget_candidates_sums(mb_model *md, mb_view f_forget, mb_view f_remain,
                                     int n_forget, int n_remain, float lambda1, float lambda2,
                                     mb_view plus, mb_view minus)
{
  /* the means of §2.1 step 4, the floor divided too: the AFFINE the update starts with */
  candidates(md, f_forget, f_remain, 1.0f / (float)n_forget, 1.0f / (float)n_remain, lambda1,
             lambda2, plus, minus);
}

void mb_delta_from_fisher(mb_mlp *m, mb_view f_forget, mb_view f_remain, float lambda1,
                          float lambda2)
{
  mb_model md;
  mb_model_from_mlp(m, &md);
  mb_model_delta_from_fisher(&md, f_forget, f_remain, lambda1, lambda2);
}

/* score = (1 − acc over forget rows) + acc over remaining rows; *acc_r gets the latter */
static double score_of(const int32_t *pred, const int32_t *labels, int rows, const int *forget,
                       int n_forget, double *acc_r)
{
  long ok_f = 0, n_f = 0, ok_r = 0, n_r = 0;
  for (int i = 0; i < rows; i++) {
    if (mb_class_in(forget, n_forget, labels[i])) { n_f++; ok_f += pred[i] == labels[i]; }
    else { n_r++; ok_r += pred[i] == labels[i]; }
  }
  double acc_f = n_f ? (double)ok_f / (double)n_f : 0.0;
  *acc_r = n_r ? (double)ok_r / (double)n_r : 0.0;
  return (1.0 - acc_f) + *acc_r;
}

void mb_keep_candidate(mb_model *md, mb_view chosen)
{
  if (chosen.buf != md->w.buf || chosen.off != md->w.off) mb_copy(md->be, md->w, chosen, md->total);
}

static mb_sign_choice score_candidates(mb_model *md, mb_view plus, mb_view minus, int rows,
                                       const int32_t *labels, const int *forget, int n_forget);

mb_sign_choice mb_model_choose_sign(mb_model *md, mb_view delta, mb_view plus, mb_view minus,
                                    int rows, const int32_t *labels, const int *forget, int n_forget)
{
  mb_backend *be = md->be;
  mb_binary(be, MB_BIN_AXPBY, md->w, delta, plus, md->total, 1.0f, 1.0f);
  mb_binary(be, MB_BIN_AXPBY, md->w, delta, minus, md->total, 1.0f, -1.0f);
  return score_candidates(md, plus, minus, rows, labels, forget, n_forget);
}

/* Scores the ready candidates plus and minus and keeps the better in w. */
static mb_sign_choice score_candidates(mb_model *md, mb_view plus, mb_view minus, int rows,
                                       const int32_t *labels, const int *forget, int n_forget)
{
  mb_backend *be = md->be;
  mb_sign_choice c = {0};
  int32_t *pred = malloc(sizeof(int32_t) * (size_t)rows);
  mb_view dpred = mb_new(be, (size_t)rows);
  if (!pred) { mb_fail(be, MB_OOM, "out of memory"); return c; }
  mb_model_predict_loaded(md, plus, rows, dpred, pred);
  c.score_plus = score_of(pred, labels, rows, forget, n_forget, &c.remain_plus);
  mb_model_predict_loaded(md, minus, rows, dpred, pred);
  c.score_minus = score_of(pred, labels, rows, forget, n_forget, &c.remain_minus);
  c.sign = c.score_plus > c.score_minus ? 1 : -1;   /* ties to minus */
  mb_keep_candidate(md, c.sign > 0 ? plus : minus);
  mb_release(be, dpred);
  free(pred);
  return c;
}

mb_sign_choice mb_choose_sign(mb_mlp *m, mb_view delta, mb_view plus, mb_view minus, int rows,
                              const int32_t *labels, const int *forget, int n_forget)
{
  mb_model md;
  mb_model_from_mlp(m, &md);
  return mb_model_choose_sign(&md, delta, plus, minus, rows, labels, forget, n_forget);
}

int mb_forget_mnemonic(mb_mlp *m, mb_view codes, int n_classes, const int *forget, int n_forget,
                       float lambda1, float lambda2, mb_sign_choice *choice)
{
  mb_model md;
  mb_model_from_mlp(m, &md);
  return mb_model_forget_mnemonic(&md, codes, n_classes, forget, n_forget, lambda1, lambda2, choice);
}

int mb_model_forget_mnemonic(mb_model *md, mb_view codes, int n_classes, const int *forget,
                             int n_forget, float lambda1, float lambda2, mb_sign_choice *choice)
{
  mb_backend *be = md->be;
  size_t P = md->total;
  if (n_forget < 1 || n_forget >= n_classes) {
    mb_fail(be, MB_BAD_ARG, "forget: need between 1 and %d forget classes", n_classes - 1);
    return -1;
  }
  if (n_classes > md->max_batch) {
    mb_fail(be, MB_BAD_ARG, "forget: %d codes exceed the batch workspace %d", n_classes, md->max_batch);
    return -1;
  }
  mb_view f_forget = mb_new(be, P), f_remain = mb_new(be, P);
  fisher_sums(md, codes, n_classes, forget, n_forget, f_forget, f_remain);
  /* minus straight into w: when it wins (ties too) nothing is copied */
  mb_model_forget_candidates_sums(md, f_forget, f_remain, n_forget, n_classes - n_forget, lambda1,
                                  lambda2, f_remain, md->w);
  /* the input buffer still holds the codes in class order: score the candidates on them */
  int32_t labels[4096];
  int32_t *lab = n_classes <= 4096 ? labels : malloc(sizeof(int32_t) * (size_t)n_classes);
  order_classes(n_classes, forget, n_forget, lab);
  *choice = score_candidates(md, f_remain, md->w, n_classes, lab, forget, n_forget);
  if (lab != labels) free(lab);
  mb_release(be, f_forget);
  mb_release(be, f_remain);
  return mb_ok(be) ? 0 : -1;
}
