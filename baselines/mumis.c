/* MU-Mis: machine unlearning by minimising input sensitivity (Cheng et al.,
 * arXiv 2402.15109), docs/specification.md §6.  No public code exists; this follows
 * the paper's Algorithm 1 with the suite's documented choices (§6.2):
 *   ℓ(w, x) = φ(∂z_c/∂x) − φ(∂z_c′/∂x), φ = ‖·‖² (default) or ‖·‖ (norm=1),
 *   c′ ≠ c uniform, drawn afresh per sample and iteration (counter-based RNG);
 *   each iteration t: L̃_t = Σ_{D_f} ℓ and Δw = Σ_{D_f} ∇ℓ at w_t, then
 *   w_{t+1} = w_t − (lr/|D_f|)·Δw, then stop once (L̃_0 − L̃_t)/|D_f| ≥ δ;
 *   at most T_MU = `iters` = 50 iterations.
 * Default δ = L̃_0/|D_f|, i.e. stop once the mean target-versus-irrelevant gap
 * measured before a step is ≤ 0 (what the method argues unseen data look like).
 * When L̃_0 ≤ 0 already, the forget data look unseen by that criterion and the
 * rule stops after the first step.  On the paper's sigmoid MLP this happens:
 * the target logit is the less input-sensitive one (Fashion-MNIST, class 0:
 * L̃_0/|D_f| ≈ −2.9 on the plain model, −3.1 with codes), so MU-Mis with its
 * defaults changes little there.  That is the method as specified, not a
 * failure; stop=2 runs T_MU iterations regardless, stop=1 takes δ from `delta`.
 * lr: every step of the grid gives the same A_R + E_F within 0.1 there (one
 * step), 1e-3 the highest, so it is the default.
 * L̃_0 is the loss of iteration 0 (the same pass, one c′ draw), not a separate
 * pass with other c′ draws.  No retain data, no regulariser.
 * The weight gradient is the model's double backward (mb_model_sens_grad):
 * §6.4's closed form for the sigmoid MLP, §6.3's passes A–D for ReLU MLPs and
 * ResNet-18 (core/mlp_extra.c, core/resnet_sens.c).  Model mode: eval (§6.2). */
#include "baselines/mumis.h"
#include "baselines/plan.h"
#include "baselines/streams.h"
#include "baselines/subsets.h"
#include "core/method.h"
#include "core/model.h"
#include "philox.h"

#include <stdio.h>
#include <stdlib.h>

enum { P_LR, P_ITERS, P_STOP, P_DELTA, P_NORM, P_BATCH, P__COUNT };

static const mb_method_param k_mumis_params[] = {
  {"lr", 1e-3, "step on the mean gradient (η·|D_f|), grid 1e-7..1e-3 chosen by A_R + E_F (§6.2)"},
  {"iters", 50, "iteration cap T_MU"},
  {"stop", 0, "0: δ = L̃_0/|D_f| (gap rolled back to <= 0), 1: δ = delta, 2: no threshold"},
  {"delta", 0, "threshold δ on (L̃_0 − L̃_t)/|D_f| when stop = 1"},
  {"norm", 0, "0: squared norms (default), 1: plain L2 norms"},
  {"batch", 256, "forget samples per double-backward batch (2× rows; does not change the result)"},
};

int bl_mumis_stop(int rule, double L0, double Lt, int n, double delta)
{
  if (rule == BL_MUMIS_STOP_NONE) return 0;
  if (rule == BL_MUMIS_STOP_GAP) delta = L0 / n;
  return (L0 - Lt) / n >= delta;
}

/* Irrelevant class of sample i at iteration t: uniform over the K − 1 others. */
static int32_t irrelevant(uint64_t seed, int t, int i, int c, int K)
{
  uint32_t r = mb_philox_u32(seed, BL_STREAM_MUMIS_CLASS + (uint64_t)t, (uint64_t)i);
  int k = (int)((uint64_t)r * (uint64_t)(K - 1) >> 32);
  return k >= c ? k + 1 : k;
}

static int mumis_forget(const mb_forget_request *rq, mb_forget_outcome *out)
{
  mb_model wrapped, *md = mb_method_model(rq, &wrapped);
  mb_backend *be = md->be;
  const mb_devdata *dd = rq->train;
  const double *p = rq->params;
  int K = md->classes, iters = (int)p[P_ITERS], B = (int)p[P_BATCH];
  int l2 = p[P_NORM] != 0, rule = (int)p[P_STOP];
  if (B < 1 || iters < 1 || K < 2 || rule < BL_MUMIS_STOP_GAP || rule > BL_MUMIS_STOP_NONE) {
    mb_fail(be, MB_BAD_ARG, "mumis: need batch >= 1, iters >= 1, stop 0..2 and at least 2 classes");
    return -1;
  }
  if (2 * B > md->max_batch) B = md->max_batch / 2;
  if (B < 1) return bl_need_rows_md(md, 2, "mumis");
  size_t P = md->total;
  int32_t *f_idx = NULL, *seeds = NULL;
  int nf = bl_select(be, dd, rq->forget, rq->n_forget, 1, &f_idx);
  if (nf <= 0) {
    if (nf == 0) mb_fail(be, MB_BAD_ARG, "mumis: no training samples of the forget classes");
    free(f_idx);
    return -1;
  }
  seeds = malloc(sizeof(int32_t) * 2 * (size_t)nf);
  bl_plan pf = {0};
  mb_model_sens ws;
  mb_model_sens_create(md, 2 * B, &ws);
  bl_plan_upload(be, dd, f_idx, NULL, NULL, nf, &pf);
  mb_view dseeds = mb_new(be, 2 * (size_t)nf), loss = mb_new(be, 1);
  double L0 = 0, Lt = 0, delta = p[P_DELTA];
  float step = (float)(p[P_LR] / nf);
  int t = 0, stopped = 0;
  if (!seeds) mb_fail(be, MB_OOM, "mumis: out of memory");
  for (t = 0; t < iters && mb_ok(be); t++) {
    /* seeds chunk by chunk: [c of the chunk's samples | c′ of the same samples] */
    for (int r0 = 0; r0 < nf; r0 += B) {
      int h = nf - r0 < B ? nf - r0 : B;
      for (int i = 0; i < h; i++) {
        int c = dd->host->y[f_idx[r0 + i]];
        seeds[2 * r0 + i] = c;
        seeds[2 * r0 + h + i] = irrelevant(rq->seed, t, r0 + i, c, K);
      }
    }
    mb_upload(be, dseeds, seeds, 2 * (size_t)nf);
    mb_fill(be, md->g, P, 0.0f);
    mb_fill(be, loss, 1, 0.0f);
    for (int r0 = 0; r0 < nf && mb_ok(be); r0 += B) {
      int h = nf - r0 < B ? nf - r0 : B;
      bl_plan_gather_md(md, dd, &pf, r0, h);
      mb_model_forward(md, mb_none(), mb_none(), h, 0);   /* eval mode: BN running statistics */
      mb_model_sens_grad(md, &ws, mb_at(dseeds, 2 * (size_t)r0), h, l2, md->g, loss);
    }
    mb_binary(be, MB_BIN_AXPBY, md->w, md->g, md->w, P, 1.0f, -step);
    float lf = 0;
    mb_download(be, &lf, loss, 1);   /* one scalar per iteration for the stopping rule */
    Lt = lf;
    if (t == 0) L0 = Lt;
    if (bl_mumis_stop(rule, L0, Lt, nf, delta)) { stopped = 1; t++; break; }
  }
  out->sign = 0;
  const char *why = !stopped ? "cap"
                    : rule == BL_MUMIS_STOP_GAP && L0 <= 0 ? "L0 <= 0: already unseen-like"
                    : "threshold reached";
  snprintf(out->note, sizeof out->note, "%d iterations (%s) on %d samples, mean loss %.4g -> %.4g",
           t, why, nf, L0 / nf, Lt / nf);
  mb_model_sens_destroy(md, &ws);
  bl_plan_free(be, &pf);
  mb_release(be, dseeds);
  mb_release(be, loss);
  free(f_idx);
  free(seeds);
  return mb_ok(be) ? 0 : -1;
}

const mb_method mb_method_mumis = {
  .name = "mumis", .alias = NULL,
  .target = "input sensitivity on D_f (double backward, no retain data)",
  .needs = MB_NEEDS_FORGET, .params = k_mumis_params, .n_params = P__COUNT,
  .forget = mumis_forget,
};
