/* MU-Mis: machine unlearning by minimising input sensitivity (Cheng et al.,
 * arXiv 2402.15109), algorithms.md §6.  No public code exists; this follows
 * the paper's Algorithm 1 with the suite's documented choices:
 *   ℓ(w, x) = φ(∂z_c/∂x) − φ(∂z_c′/∂x), φ = ‖·‖² (default) or ‖·‖ (norm=1),
 *   c′ ≠ c uniform, drawn afresh per sample and iteration (counter-based RNG);
 *   each iteration: L̃_t = Σ_{D_f} ℓ and Δw = Σ_{D_f} ∇ℓ at w_t, then
 *   w_{t+1} = w_t − (lr/|D_f|)·Δw; stop after the step once (L̃_0 − L̃_t)/|D_f| ≥ δ
 *   or after `iters` iterations.  Default δ = L̃_0/|D_f|: stop when the mean gap
 *   is rolled back to zero.  When L̃_0 ≤ 0 (the target class is already the
 *   less sensitive one, as on the paper's sigmoid MLP trained on Fashion-MNIST)
 *   that rule would stop after one step and forget nothing, so the default then
 *   runs to the cap.  L̃_0 is the loss of iteration 0 (the same pass), not a
 *   separate pass with other c′ draws.  No retain data, no regulariser.
 * The weight gradient is core/mlp_extra.c's double backward: §6.4's closed
 * form for the sigmoid MLP, §6.3's masked passes for ReLU. */
#include "baselines/plan.h"
#include "baselines/streams.h"
#include "baselines/subsets.h"
#include "core/method.h"
#include "core/mlp_extra.h"
#include "philox.h"

#include <stdio.h>
#include <stdlib.h>

enum { P_LR, P_ITERS, P_DELTA, P_NORM, P_BATCH, P__COUNT };

static const mb_method_param k_mumis_params[] = {
  {"lr", 0.1, "step on the mean gradient (η·|D_f|); chosen by A_R + E_F on Fashion-MNIST"},
  {"iters", 10, "iteration cap T_MU (10: at lr 0.1, 50 iterations over-forget on Fashion-MNIST)"},
  {"delta", -1, "stop once the mean loss fell by δ (-1: L̃_0/|D_f| if L̃_0 > 0, else no threshold)"},
  {"norm", 0, "0: squared norms (default), 1: plain L2 norms"},
  {"batch", 256, "forget samples per double-backward batch (2× rows; does not change the result)"},
};

/* Irrelevant class of sample i at iteration t: uniform over the K − 1 others. */
static int32_t irrelevant(uint64_t seed, int t, int i, int c, int K)
{
  uint32_t r = mb_philox_u32(seed, BL_STREAM_MUMIS_CLASS + (uint64_t)t, (uint64_t)i);
  int k = (int)((uint64_t)r * (uint64_t)(K - 1) >> 32);
  return k >= c ? k + 1 : k;
}

static int mumis_forget(const mb_forget_request *rq, mb_forget_outcome *out)
{
  mb_mlp *m = rq->m;
  mb_backend *be = m->be;
  const mb_devdata *dd = rq->train;
  const double *p = rq->params;
  int K = m->cfg.dims[m->cfg.n_layers], iters = (int)p[P_ITERS], B = (int)p[P_BATCH];
  int l2 = p[P_NORM] != 0;
  if (B < 1 || iters < 1 || K < 2) {
    mb_fail(be, MB_BAD_ARG, "mumis: need batch >= 1, iters >= 1 and at least 2 classes");
    return -1;
  }
  if (2 * B > m->max_batch) B = m->max_batch / 2;
  if (B < 1) return bl_need_rows(m, 2, "mumis");
  size_t P = m->pt.total;
  int32_t *f_idx = NULL, *seeds = NULL;
  int nf = bl_select(be, dd, rq->forget, rq->n_forget, 1, &f_idx);
  if (nf <= 0) {
    if (nf == 0) mb_fail(be, MB_BAD_ARG, "mumis: no training samples of the forget classes");
    free(f_idx);
    return -1;
  }
  seeds = malloc(sizeof(int32_t) * 2 * (size_t)nf);
  bl_plan pf = {0};
  mb_sens_ws ws;
  mb_sens_ws_create(m, 2 * B, &ws);
  bl_plan_upload(be, dd, f_idx, NULL, NULL, nf, &pf);
  mb_view dseeds = mb_new(be, 2 * (size_t)nf), loss = mb_new(be, 1);
  double L0 = 0, Lt = 0, delta = p[P_DELTA];
  float step = (float)(p[P_LR] / nf);
  int t = 0, stopped = 0, use_rule = 1;
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
    mb_fill(be, m->g, P, 0.0f);
    mb_fill(be, loss, 1, 0.0f);
    for (int r0 = 0; r0 < nf && mb_ok(be); r0 += B) {
      int h = nf - r0 < B ? nf - r0 : B;
      bl_plan_gather(m, dd, &pf, mb_none(), 0, r0, h);
      mb_mlp_forward(m, mb_none(), mb_none(), h);
      mb_mlp_sens_grad(m, &ws, mb_at(dseeds, 2 * (size_t)r0), h, l2, m->g, loss);
    }
    mb_binary(be, MB_BIN_AXPBY, m->w, m->g, m->w, P, 1.0f, -step);
    float lf = 0;
    mb_download(be, &lf, loss, 1);   /* one scalar per iteration for the stopping rule */
    Lt = lf;
    if (t == 0) {
      L0 = Lt;
      if (delta < 0) {
        delta = L0 / nf;
        use_rule = L0 > 0;
      }
    }
    if (use_rule && (L0 - Lt) / nf >= delta) { stopped = 1; t++; break; }
  }
  out->sign = 0;
  snprintf(out->note, sizeof out->note, "%d iterations (%s) on %d samples, mean loss %.4g -> %.4g",
           t, stopped ? "threshold reached" : use_rule ? "cap" : "cap; L0 <= 0, no threshold", nf,
           L0 / nf, Lt / nf);
  mb_sens_ws_destroy(m, &ws);
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
