/* ours-w-data: the paper's ablation (§4.3, docs/specification.md §7.4).  The model is
 * trained without codes; f_F and f_R come from n real training samples per
 * class (uniform without replacement, seeded) instead of one code per class,
 * then Eqs. 5–7 and the ± rule apply exactly as for the mnemonic method, the
 * ± choice scored by the per-class accuracy of those same samples.
 *   f_c = (1/n_c)·Σ_{x of class c} (∇_w CE(x, c))²   (per sample, eval mode)
 *   f_F = (1e-16 + Σ_{c∈C_F} f_c)/|C_F|,  f_R likewise over the other classes. */
#include "baselines/plan.h"
#include "baselines/streams.h"
#include "baselines/subsets.h"
#include "core/eval.h"
#include "core/forget_mnemonic.h"
#include "core/method.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const mb_method_param k_owd_params[] = {
  {"n", 10, "training samples per class for the FIM and the ± choice (0: all)"},
  {"lambda1", 1e-3, "scale of δ when max η is small (as mnemonic)"},
  {"lambda2", 10.0, "cap on the largest δ of each tensor (as mnemonic)"},
};

typedef struct {
  int n;            /* rows: forget classes' samples first */
  int n_forget_rows;
  int32_t *idx, *cls;
  float *wrow;      /* 1/√n_c: scales each sample's squared gradient to a class mean */
} owd_rows;

static int build_rows(const mb_forget_request *rq, int per_class, owd_rows *r)
{
  const mb_devdata *dd = rq->train;
  mb_backend *be = rq->model ? rq->model->be : rq->m->be;
  int K = rq->n_classes;
  memset(r, 0, sizeof *r);
  r->idx = malloc(sizeof(int32_t) * (size_t)(dd->n ? dd->n : 1));
  r->cls = malloc(sizeof(int32_t) * (size_t)(dd->n ? dd->n : 1));
  r->wrow = malloc(sizeof(float) * (size_t)(dd->n ? dd->n : 1));
  if (!r->idx || !r->cls || !r->wrow) { mb_fail(be, MB_OOM, "ours-w-data: out of memory"); return -1; }
  for (int pass = 0; pass < 2; pass++) {
    for (int c = 0; c < K; c++) {
      if (mb_class_in(rq->forget, rq->n_forget, c) != (pass == 0)) continue;
      int32_t *s = NULL;
      int k = bl_sample_class(be, dd, c, per_class, rq->seed, BL_STREAM_OWD_SAMPLE + (uint64_t)c, &s);
      for (int i = 0; i < k; i++) {
        r->idx[r->n] = s[i];
        r->cls[r->n] = c;
        r->wrow[r->n++] = 1.0f / sqrtf((float)k);
      }
      free(s);
      if (k < 0) return -1;
    }
    if (pass == 0) r->n_forget_rows = r->n;
  }
  return 0;
}

static void free_rows(owd_rows *r)
{
  free(r->idx); free(r->cls); free(r->wrow);
  memset(r, 0, sizeof *r);
}

/* (1 − mean forget-class accuracy) + mean remaining-class accuracy of candidate w. */
static double score(mb_model *md, const mb_forget_request *rq, const owd_rows *r, const bl_plan *p,
                    mb_view w, mb_view dpred, int32_t *pred)
{
  int K = rq->n_classes, B = md->max_batch;
  long *ok = calloc((size_t)K * 2, sizeof(long)), *tot = ok ? ok + K : NULL;
  if (!ok) { mb_fail(md->be, MB_OOM, "ours-w-data: out of memory"); return 0; }
  for (int r0 = 0; r0 < r->n && mb_ok(md->be); r0 += B) {
    int rows = r->n - r0 < B ? r->n - r0 : B;
    bl_plan_gather_md(md, rq->train, p, r0, rows);
    mb_model_predict_loaded(md, w, rows, dpred, pred);   /* eval mode */
    for (int i = 0; i < rows; i++) {
      int c = r->cls[r0 + i];
      tot[c]++;
      ok[c] += pred[i] == c;
    }
  }
  double acc_f = 0, acc_r = 0;
  int nf = 0, nr = 0;
  for (int c = 0; c < K; c++) {
    if (!tot[c]) continue;
    double a = (double)ok[c] / (double)tot[c];
    if (mb_class_in(rq->forget, rq->n_forget, c)) { acc_f += a; nf++; }
    else { acc_r += a; nr++; }
  }
  free(ok);
  return (1.0 - (nf ? acc_f / nf : 0.0)) + (nr ? acc_r / nr : 0.0);
}

static int owd_forget(const mb_forget_request *rq, mb_forget_outcome *out)
{
  mb_model wrapped, *md = mb_method_model(rq, &wrapped);
  mb_backend *be = md->be;
  const mb_devdata *dd = rq->train;
  int per_class = (int)rq->params[0], B = md->max_batch, K = rq->n_classes;
  int nfc = rq->n_forget;
  size_t P = md->total;
  if (nfc < 1 || nfc >= K) {
    mb_fail(be, MB_BAD_ARG, "ours-w-data: need between 1 and %d forget classes", K - 1);
    return -1;
  }
  owd_rows r;
  bl_plan p = {0};
  mb_view fF = mb_new(be, P), fR = mb_new(be, P), wrow = mb_new(be, (size_t)(dd->n ? dd->n : 1));
  mb_view dpred = mb_new(be, (size_t)B);
  int32_t *pred = malloc(sizeof(int32_t) * (size_t)B);
  mb_sign_choice ch = {0};
  if (build_rows(rq, per_class, &r) == 0 && pred) {
    bl_plan_upload(be, dd, r.idx, NULL, NULL, r.n, &p);
    mb_upload(be, wrow, r.wrow, (size_t)r.n);
    mb_fill(be, fF, P, 0.0f);
    mb_fill(be, fR, P, 0.0f);
    for (int r0 = 0; r0 < r.n && mb_ok(be); r0 += B) {
      int rows = r.n - r0 < B ? r.n - r0 : B;
      int split = r.n_forget_rows - r0;
      split = split < 0 ? 0 : split > rows ? rows : split;
      bl_plan_gather_md(md, dd, &p, r0, rows);
      mb_model_forward(md, mb_none(), mb_none(), rows, 0);   /* eval mode */
      mb_model_xent(md, bl_plan_labels(&p, r0), rows, 1.0f, mb_none());   /* per-sample CE */
      mb_bcast(be, MB_BC_MUL, md->dlogits, mb_at(wrow, (size_t)r0), md->dlogits, 1, (size_t)rows,
               (size_t)K);
      /* one backward, two per-sample squared-gradient targets (as the code FIM) */
      const mb_sq_target sq[2] = {{0, split, fF}, {split, rows, fR}};
      const mb_bwd_opts bo = {.want_grads = 0, .n_sq = 2, .sq = sq};
      mb_model_backward(md, rows, &bo);
    }
    /* the 1e-16 floor is added before dividing by the class counts (§2.1) */
    mb_unary(be, MB_UN_AFFINE, fF, fF, P, 1.0f / (float)nfc, 1e-16f / (float)nfc);
    mb_unary(be, MB_UN_AFFINE, fR, fR, P, 1.0f / (float)(K - nfc), 1e-16f / (float)(K - nfc));
    mb_model_delta_from_fisher(md, fF, fR, (float)rq->params[1], (float)rq->params[2]);
    /* candidates w ± δ (global sign), scored on the same samples; ties go to minus */
    mb_view plus = fR, minus = md->g;
    mb_binary(be, MB_BIN_AXPBY, md->w, fF, plus, P, 1.0f, 1.0f);
    mb_binary(be, MB_BIN_AXPBY, md->w, fF, minus, P, 1.0f, -1.0f);
    ch.score_plus = score(md, rq, &r, &p, plus, dpred, pred);
    ch.score_minus = score(md, rq, &r, &p, minus, dpred, pred);
    ch.sign = ch.score_plus > ch.score_minus ? 1 : -1;
    mb_copy(be, md->w, ch.sign > 0 ? plus : minus, P);
  }
  out->sign = ch.sign;
  snprintf(out->note, sizeof out->note, "FIM from %d samples (%d of the forget classes); score+ %.3f, score- %.3f",
           r.n, r.n_forget_rows, ch.score_plus, ch.score_minus);
  free_rows(&r);
  free(pred);
  bl_plan_free(be, &p);
  mb_release(be, fF); mb_release(be, fR); mb_release(be, wrow); mb_release(be, dpred);
  return mb_ok(be) ? 0 : -1;
}

const mb_method mb_method_ours_w_data = {
  .name = "ours-w-data", .alias = NULL,
  .target = "FIM from n training samples per class (no codes)",
  .needs = MB_NEEDS_FORGET | MB_NEEDS_RETAIN, .params = k_owd_params, .n_params = 3,
  .forget = owd_forget,
};
