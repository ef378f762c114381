/* The quality metrics of docs/specification.md §7.7: MIA, distance to the
 * retrained model, relearn time. */
#include "core/quality.h"
#include "core/eval.h"
#include "core/streams.h"
#include "philox.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void mb_quality_init(mb_quality *q)
{
  memset(q, 0, sizeof *q);
  q->mia = q->mia_w0 = q->mia_w1 = NAN;
  q->act_forget = q->act_retain = q->js_forget = q->js_retain = NAN;
  q->relearn_target = q->relearn_acc = q->seconds = NAN;
  q->relearn_steps = -1;
}

void mb_quality_prob_rows(mb_backend *be, mb_view P, mb_view Q, int rows, int k, mb_view scratch,
                          mb_view l2, mb_view js)
{
  size_t n = (size_t)rows * (size_t)k;
  mb_view s0 = scratch, s1 = mb_at(scratch, n), s2 = mb_at(scratch, 2 * n);
  /* L2 */
  mb_binary(be, MB_BIN_AXPBY, P, Q, s0, n, 1.0f, -1.0f);
  mb_reduce(be, MB_RED_SUMSQ, s0, l2, (size_t)rows, (size_t)k, 1);
  mb_unary(be, MB_UN_SQRT, l2, l2, (size_t)rows, 0.0f, 0.0f);
  /* JS: log M once; P = Q gives M = P bit for bit (halving and adding are exact), so 0.
   * Clamping at FLT_MIN keeps log finite; the unclamped P multiplies it, so 0·log 0 = 0. */
  mb_binary(be, MB_BIN_AXPBY, P, Q, s0, n, 0.5f, 0.5f);
  mb_unary(be, MB_UN_MAX_S, s0, s0, n, FLT_MIN, 0.0f);
  mb_unary(be, MB_UN_LOG, s0, s0, n, 0.0f, 0.0f);
  mb_unary(be, MB_UN_MAX_S, P, s1, n, FLT_MIN, 0.0f);
  mb_unary(be, MB_UN_LOG, s1, s1, n, 0.0f, 0.0f);
  mb_binary(be, MB_BIN_AXPBY, s1, s0, s1, n, 1.0f, -1.0f);
  mb_binary(be, MB_BIN_MUL, P, s1, s1, n, 0.5f, 0.0f);
  mb_unary(be, MB_UN_MAX_S, Q, s2, n, FLT_MIN, 0.0f);
  mb_unary(be, MB_UN_LOG, s2, s2, n, 0.0f, 0.0f);
  mb_binary(be, MB_BIN_AXPBY, s2, s0, s2, n, 1.0f, -1.0f);
  mb_binary(be, MB_BIN_MUL, Q, s2, s2, n, 0.5f, 0.0f);
  mb_binary(be, MB_BIN_AXPBY, s1, s2, s1, n, 1.0f, 1.0f);
  mb_reduce(be, MB_RED_SUM, s1, js, (size_t)rows, (size_t)k, 1);
  /* JS >= 0; a negative row sum is f32 rounding of near-equal rows (seen: -4e-10) */
  mb_unary(be, MB_UN_MAX_S, js, js, (size_t)rows, 0.0f, 0.0f);
}

/* ------------------------------------------------------------ the attack */

static double sigm(double z) { return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z)); }

/* log(1 + e^z) without overflow */
static double softplus(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }

/* Mean log-loss of labels 1 (x_in) and 0 (x_out) plus the ridge term. */
static double objective(const double *x_in, int n_in, const double *x_out, int n_out, double w0,
                        double w1)
{
  double s = 0;
  for (int i = 0; i < n_in; i++) s += softplus(-(w0 + w1 * x_in[i]));
  for (int i = 0; i < n_out; i++) s += softplus(w0 + w1 * x_out[i]);
  return s / (double)(n_in + n_out) + 0.5 * MB_MIA_RIDGE * w1 * w1;
}

int mb_mia_logistic(const double *x_in, int n_in, const double *x_out, int n_out,
                    const double *target, int n_target, double *w0, double *w1, double *pct)
{
  if (n_in < 1 || n_out < 1) return -1;
  double a = 0, b = 0, N = (double)(n_in + n_out);
  double f = objective(x_in, n_in, x_out, n_out, a, b);
  for (int it = 0; it < MB_MIA_NEWTON_ITERS; it++) {
    /* gradient and Hessian of the objective in (a, b) */
    double g0 = 0, g1 = 0, h00 = 0, h01 = 0, h11 = 0;
    for (int s = 0; s < 2; s++) {
      const double *x = s ? x_out : x_in;
      int n = s ? n_out : n_in;
      double y = s ? 0.0 : 1.0;
      for (int i = 0; i < n; i++) {
        double p = sigm(a + b * x[i]), r = p - y, wt = p * (1 - p);
        g0 += r; g1 += r * x[i];
        h00 += wt; h01 += wt * x[i]; h11 += wt * x[i] * x[i];
      }
    }
    g0 /= N; g1 = g1 / N + MB_MIA_RIDGE * b;
    h00 /= N; h01 /= N; h11 = h11 / N + MB_MIA_RIDGE;
    double det = h00 * h11 - h01 * h01;
    if (!(det > 0)) break;
    double d0 = (h11 * g0 - h01 * g1) / det, d1 = (h00 * g1 - h01 * g0) / det;
    /* step halving until the objective does not increase */
    double t = 1.0, na = a, nb = b, nf = f;
    for (int h = 0; h < 40; h++, t *= 0.5) {
      na = a - t * d0; nb = b - t * d1;
      nf = objective(x_in, n_in, x_out, n_out, na, nb);
      if (nf <= f) break;
    }
    if (!(nf <= f)) break;
    double moved = fabs(na - a) + fabs(nb - b);
    a = na; b = nb; f = nf;
    if (moved < 1e-12 * (1.0 + fabs(a) + fabs(b))) break;
  }
  long members = 0;
  for (int i = 0; i < n_target; i++) members += a + b * target[i] > 0;
  *w0 = a; *w1 = b;
  *pct = n_target ? 100.0 * (double)members / (double)n_target : NAN;
  return 0;
}

int mb_quality_confidence(mb_model *md, mb_view w, const mb_devdata *dd, const int32_t *idx, int n,
                          double *conf)
{
  mb_backend *be = md->be;
  int B = md->max_batch;
  mb_view didx = mb_new(be, (size_t)B), dlab = mb_new(be, (size_t)B), dloss = mb_new(be, (size_t)B);
  float *loss = malloc(sizeof(float) * (size_t)B);
  long long fwd = md->passes->forward;   /* measurement passes are not a method's */
  if (!loss) mb_fail(be, MB_OOM, "out of memory for the confidences");
  for (int r0 = 0; r0 < n && mb_ok(be); r0 += B) {
    int rows = n - r0 < B ? n - r0 : B;
    mb_upload(be, didx, idx + r0, (size_t)rows);
    mb_devdata_gather(be, dd, mb_none(), 0, didx, mb_none(), didx, rows, md->in, dlab, mb_none());
    mb_view logits = mb_model_forward(md, w, mb_none(), rows, 0);
    mb_xent_args xa = {.rows = rows, .cols = md->classes, .logits = logits, .labels = dlab,
                       .loss = dloss, .dlogits = mb_none(), .probs = mb_none(), .scale = 1.0f};
    mb_softmax_xent(be, &xa);
    mb_download(be, loss, dloss, (size_t)rows);
    if (!mb_ok(be)) break;
    for (int i = 0; i < rows; i++) conf[r0 + i] = exp(-(double)loss[i]);
  }
  md->passes->forward = fwd;
  free(loss);
  mb_release(be, didx); mb_release(be, dlab); mb_release(be, dloss);
  return mb_ok(be) ? 0 : -1;
}

/* Indices of dd's samples whose class is (in_forget) or is not (!in_forget) a forget class. */
static int32_t *select_class(const mb_devdata *dd, const int *forget, int nf, int in_forget, int *n)
{
  int32_t *v = malloc(sizeof(int32_t) * (size_t)(dd->n ? dd->n : 1));
  *n = 0;
  if (!v) return NULL;
  for (int i = 0; i < dd->n; i++)
    if (mb_class_in(forget, nf, dd->host->y[i]) == in_forget) v[(*n)++] = i;
  return v;
}

/* The first k of a seeded partial Fisher–Yates shuffle of v[n] (stream, index i). */
static void seeded_pick(int32_t *v, int n, int k, uint64_t seed, uint64_t stream)
{
  for (int i = 0; i < k && i < n - 1; i++) {
    uint32_t r = mb_philox_u32(seed, stream, (uint64_t)i);
    int j = i + (int)((uint64_t)r * (uint64_t)(n - i) >> 32);
    int32_t t = v[i]; v[i] = v[j]; v[j] = t;
  }
}

int mb_quality_mia(mb_model *md, const mb_devdata *train, const mb_devdata *test, const int *forget,
                   int n_forget, uint64_t seed, mb_quality *q)
{
  mb_backend *be = md->be;
  int nr, nt, nf;
  int32_t *ri = select_class(train, forget, n_forget, 0, &nr);
  int32_t *ti = select_class(test, forget, n_forget, 0, &nt);
  int32_t *fi = select_class(train, forget, n_forget, 1, &nf);
  int n = nr < nt ? nr : nt;
  if (n > MB_MIA_MAX_SHADOW) n = MB_MIA_MAX_SHADOW;
  double *c_in = malloc(sizeof(double) * (size_t)(n + 1)), *c_out = malloc(sizeof(double) * (size_t)(n + 1)),
         *c_t = malloc(sizeof(double) * (size_t)(nf + 1));
  int rc = -1;
  if (!ri || !ti || !fi || !c_in || !c_out || !c_t) { mb_fail(be, MB_OOM, "out of memory for the MIA"); goto out; }
  if (n < 1 || nf < 1) {
    mb_fail(be, MB_BAD_ARG, "MIA: needs retain-class training and test samples and forget-class training samples (have %d, %d, %d)", nr, nt, nf);
    goto out;
  }
  seeded_pick(ri, nr, n, seed, MB_STREAM_QUALITY + 0);
  seeded_pick(ti, nt, n, seed, MB_STREAM_QUALITY + 1);
  if (mb_quality_confidence(md, mb_none(), train, ri, n, c_in) != 0 ||
      mb_quality_confidence(md, mb_none(), test, ti, n, c_out) != 0 ||
      mb_quality_confidence(md, mb_none(), train, fi, nf, c_t) != 0)
    goto out;
  mb_mia_logistic(c_in, n, c_out, n, c_t, nf, &q->mia_w0, &q->mia_w1, &q->mia);
  q->mia_n_shadow = n;
  q->mia_n_target = nf;
  rc = 0;
out:
  free(ri); free(ti); free(fi); free(c_in); free(c_out); free(c_t);
  return rc;
}

/* --------------------------------------------------------- the distance */

/* Softmax of md's logits for `rows` samples already gathered into md->in, into probs. */
static void softmax_of(mb_model *md, int rows, mb_view labels, mb_view probs)
{
  mb_view logits = mb_model_forward(md, mb_none(), mb_none(), rows, 0);
  mb_xent_args xa = {.rows = rows, .cols = md->classes, .logits = logits, .labels = labels,
                     .loss = mb_none(), .dlogits = mb_none(), .probs = probs, .scale = 1.0f};
  mb_softmax_xent(md->be, &xa);
}

int mb_quality_distance(mb_model *md, mb_model *ref, const mb_devdata *test, const int *forget,
                        int n_forget, mb_quality *q)
{
  mb_backend *be = md->be;
  if (ref->be != be || ref->classes != md->classes || ref->in_dim != md->in_dim) {
    mb_fail(be, MB_BAD_ARG, "distance: the reference model differs in backend, input or classes");
    return -1;
  }
  int B = md->max_batch < ref->max_batch ? md->max_batch : ref->max_batch, K = md->classes;
  size_t bk = (size_t)B * (size_t)K;
  mb_view didx = mb_new(be, (size_t)B), dlab = mb_new(be, (size_t)B);
  mb_view P = mb_new(be, bk), Q = mb_new(be, bk), scratch = mb_new(be, 3 * bk);
  mb_view dl2 = mb_new(be, (size_t)B), djs = mb_new(be, (size_t)B);
  int32_t *idx = malloc(sizeof(int32_t) * (size_t)B);
  float *l2 = malloc(sizeof(float) * (size_t)B), *js = malloc(sizeof(float) * (size_t)B);
  double sl_f = 0, sl_r = 0, sj_f = 0, sj_r = 0;
  long n_f = 0, n_r = 0;
  long long f1 = md->passes->forward, f2 = ref->passes->forward;
  if (!idx || !l2 || !js) mb_fail(be, MB_OOM, "out of memory for the distance");
  for (int r0 = 0; r0 < test->n && mb_ok(be); r0 += B) {
    int rows = test->n - r0 < B ? test->n - r0 : B;
    for (int i = 0; i < rows; i++) idx[i] = r0 + i;
    mb_upload(be, didx, idx, (size_t)rows);
    mb_devdata_gather(be, test, mb_none(), 0, didx, mb_none(), didx, rows, md->in, dlab, mb_none());
    softmax_of(md, rows, dlab, P);
    mb_devdata_gather(be, test, mb_none(), 0, didx, mb_none(), didx, rows, ref->in, dlab, mb_none());
    softmax_of(ref, rows, dlab, Q);
    mb_quality_prob_rows(be, P, Q, rows, K, scratch, dl2, djs);
    mb_download(be, l2, dl2, (size_t)rows);
    mb_download(be, js, djs, (size_t)rows);
    if (!mb_ok(be)) break;
    for (int i = 0; i < rows; i++) {
      if (mb_class_in(forget, n_forget, test->host->y[r0 + i])) { sl_f += l2[i]; sj_f += js[i]; n_f++; }
      else { sl_r += l2[i]; sj_r += js[i]; n_r++; }
    }
  }
  md->passes->forward = f1;
  ref->passes->forward = f2;
  free(idx); free(l2); free(js);
  mb_release(be, didx); mb_release(be, dlab); mb_release(be, P); mb_release(be, Q);
  mb_release(be, scratch); mb_release(be, dl2); mb_release(be, djs);
  if (!mb_ok(be)) return -1;
  q->n_dist_forget = n_f;
  q->n_dist_retain = n_r;
  q->act_forget = n_f ? sl_f / (double)n_f : NAN;
  q->js_forget = n_f ? sj_f / (double)n_f : NAN;
  q->act_retain = n_r ? sl_r / (double)n_r : NAN;
  q->js_retain = n_r ? sj_r / (double)n_r : NAN;
  return 0;
}

/* ----------------------------------------------------------- relearning */

/* Accuracy (%) of md on the samples idx[n] of dd (eval mode). */
static double accuracy_on(mb_model *md, const mb_devdata *dd, const int32_t *idx, int n,
                          mb_view didx, mb_view dpred, int32_t *pred)
{
  long ok = 0;
  int B = md->max_batch;
  for (int r0 = 0; r0 < n && mb_ok(md->be); r0 += B) {
    int rows = n - r0 < B ? n - r0 : B;
    mb_upload(md->be, didx, idx + r0, (size_t)rows);
    mb_devdata_gather(md->be, dd, mb_none(), 0, didx, mb_none(), mb_none(), rows, md->in, mb_none(),
                      mb_none());
    mb_model_predict_loaded(md, mb_none(), rows, dpred, pred);
    for (int i = 0; i < rows; i++) ok += pred[i] == dd->host->y[idx[r0 + i]];
  }
  return 100.0 * (double)ok / (double)n;
}

int mb_quality_relearn(mb_model *md, const mb_devdata *train, const mb_devdata *test,
                       const int *forget, int n_forget, double target_acc, uint64_t seed,
                       mb_quality *q)
{
  mb_backend *be = md->be;
  int nf, nt, Bt = MB_RELEARN_BATCH < md->max_batch ? MB_RELEARN_BATCH : md->max_batch;
  int32_t *fi = select_class(train, forget, n_forget, 1, &nf);
  int32_t *ti = select_class(test, forget, n_forget, 1, &nt);
  int B = md->max_batch;
  int32_t *bidx = malloc(sizeof(int32_t) * (size_t)B), *pred = malloc(sizeof(int32_t) * (size_t)B);
  mb_view didx = mb_new(be, (size_t)B), dpred = mb_new(be, (size_t)B), dlab = mb_new(be, (size_t)B);
  mb_view loss = mb_new(be, (size_t)B), mom = mb_new(be, md->total);
  mb_pass_count passes = *md->passes;
  int rc = -1;
  if (!fi || !ti || !bidx || !pred) { mb_fail(be, MB_OOM, "out of memory for relearning"); goto out; }
  if (nf < 1 || nt < 1) {
    mb_fail(be, MB_BAD_ARG, "relearn: needs forget-class training and test samples (have %d, %d)", nf, nt);
    goto out;
  }
  /* one seeded order of the forget-class training samples, taken cyclically */
  seeded_pick(fi, nf, nf, seed, MB_STREAM_QUALITY + 2);
  q->relearn_target = target_acc;
  q->relearn_reached = 0;
  long step = 0;
  double acc = accuracy_on(md, test, ti, nt, didx, dpred, pred);
  while (mb_ok(be) && !(acc >= target_acc) && step < MB_RELEARN_CAP) {
    for (int s = 0; s < MB_RELEARN_CHECK && step < MB_RELEARN_CAP && mb_ok(be); s++, step++) {
      for (int i = 0; i < Bt; i++) bidx[i] = fi[((long)step * Bt + i) % nf];
      mb_upload(be, didx, bidx, (size_t)Bt);
      mb_devdata_gather(be, train, mb_none(), 0, didx, mb_none(), didx, Bt, md->in, dlab, mb_none());
      mb_model_forward(md, mb_none(), mb_none(), Bt, 1);
      mb_model_xent(md, dlab, Bt, 1.0f / (float)Bt, loss);
      mb_model_backward(md, Bt, NULL);
      mb_optim_args opt = {
        .kind = MB_OPT_SGD, .w = md->w, .g = md->g, .m = mom, .n = md->total,
        .lr = MB_RELEARN_LR, .weight_decay = 0.0f, .momentum = MB_RELEARN_MOMENTUM,
        .dampening = 0.0f, .first_step = step == 0,
      };
      mb_optim(be, &opt);
    }
    acc = accuracy_on(md, test, ti, nt, didx, dpred, pred);
  }
  if (!mb_ok(be)) goto out;
  q->relearn_steps = step;
  q->relearn_reached = acc >= target_acc;
  q->relearn_acc = acc;
  rc = 0;
out:
  *md->passes = passes;   /* relearning is a measurement, not part of the method */
  free(fi); free(ti); free(bidx); free(pred);
  mb_release(be, didx); mb_release(be, dpred); mb_release(be, dlab); mb_release(be, loss);
  mb_release(be, mom);
  return rc;
}
