/* SFDN: Fisher forgetting from "Eternal Sunshine of the Spotless Net"
 * (Golatkar et al., CVPR 2020), docs/specification.md §5, following the authors'
 * notebook: w = μ + √var ⊙ ε with var from the clamped inverse true-Fisher
 * diagonal on the retain set, and the forget classes' rows of the final layer
 * reset to zero mean.  The final layer is the last Linear (weight and bias),
 * identified by position rather than by the notebook's "size(0) == K" test. */
#include "baselines/sfdn.h"
#include "baselines/streams.h"
#include "baselines/subsets.h"
#include "core/method.h"

#include <stdio.h>
#include <stdlib.h>

static const mb_method_param k_sfdn_params[] = {
  {"alpha", 1e-6, "variance scale α (the notebook's forgetting cell)"},
  {"power", -1.0, "variance ∝ (F + 1e-8)^power: -1 as the code (the paper's text may mean -0.5)"},
  {"chunk", 500, "retain samples per Fisher batch (does not change the result)"},
};

void bl_sfdn_fisher(mb_mlp *m, const mb_devdata *dd, const bl_plan *p, int chunk, mb_view F)
{
  mb_backend *be = m->be;
  int L = m->cfg.n_layers, K = m->cfg.dims[L];
  size_t P = m->pt.total;
  mb_view S[MB_MAX_LAYERS + 1] = {{0, 0}};
  for (int l = 1; l <= L; l++) S[l] = mb_new(be, (size_t)chunk * m->cfg.dims[l]);
  mb_view probs = mb_new(be, (size_t)chunk * K), labels = mb_new(be, (size_t)chunk);
  mb_view pcol = mb_new(be, (size_t)chunk), rowk = mb_new(be, (size_t)chunk);
  int32_t *rk = malloc(sizeof(int32_t) * (size_t)chunk);
  if (!rk) { mb_fail(be, MB_OOM, "sfdn: out of memory"); goto done; }
  for (int r = 0; r < chunk; r++) rk[r] = r * K;   /* element (r, y) of probs is row r·K of probs + y */
  mb_upload(be, rowk, rk, (size_t)chunk);
  mb_fill(be, F, P, 0.0f);
  for (int r0 = 0; r0 < p->n && mb_ok(be); r0 += chunk) {
    int rows = p->n - r0 < chunk ? p->n - r0 : chunk;
    bl_plan_gather(m, dd, p, mb_none(), 0, r0, rows);
    mb_mlp_forward(m, mb_none(), mb_none(), rows);
    for (int l = 1; l <= L; l++) mb_fill(be, S[l], (size_t)rows * m->cfg.dims[l], 0.0f);
    for (int y = 0; y < K; y++) {
      mb_fill_u32(be, labels, (size_t)rows, (uint32_t)y);
      mb_xent_args xa = {
        .rows = rows, .cols = K, .logits = m->act[L], .labels = labels, .loss = mb_none(),
        .dlogits = m->delta[L], .probs = y == 0 ? probs : mb_none(), .scale = 1.0f,
      };
      mb_softmax_xent(be, &xa);
      /* weight sample r's squared gradient by p_y(r): scale its logit delta by √p_y */
      mb_gather_args ga = {
        .src = mb_at(probs, (size_t)y), .idx = rowk, .dst = pcol, .n_rows = rows, .row_len = 1,
        .n_src_rows = (rows - 1) * K + 1,
      };
      mb_gather_rows(be, &ga);
      mb_unary(be, MB_UN_SQRT, pcol, pcol, (size_t)rows, 0, 0);
      mb_bcast(be, MB_BC_MUL, m->delta[L], pcol, m->delta[L], 1, (size_t)rows, (size_t)K);
      mb_mlp_backward(m, rows, 0);
      for (int l = 1; l <= L; l++) {
        size_t n = (size_t)rows * m->cfg.dims[l];
        mb_binary(be, MB_BIN_ADD_SQR, S[l], m->delta[l], S[l], n, 1.0f, 0.0f);
      }
    }
    /* a layer's input does not depend on y, so Σ_y (δ_y xᵀ)² = (Σ_y δ_y²)(x²)ᵀ:
     * hand √(Σ_y p_y δ_y²) to the squared-gradient pass */
    for (int l = 1; l <= L; l++)
      mb_unary(be, MB_UN_SQRT, S[l], m->delta[l], (size_t)rows * m->cfg.dims[l], 0, 0);
    mb_mlp_accumulate_sq_grads(m, 0, rows, F);
  }
  if (p->n > 0) mb_unary(be, MB_UN_AFFINE, F, F, P, 1.0f / (float)p->n, 0.0f);
done:
  for (int l = 1; l <= L; l++) mb_release(be, S[l]);
  mb_release(be, probs); mb_release(be, labels); mb_release(be, pcol); mb_release(be, rowk);
  free(rk);
}

/* Steps 1–2: var = min((F + 1e-8)^power, 1e3), in place. */
static void base_variance(mb_backend *be, mb_view var, size_t P, float power)
{
  mb_unary(be, MB_UN_AFFINE, var, var, P, 1.0f, 1e-8f);
  if (power == -1.0f) {
    mb_unary(be, MB_UN_RECIP, var, var, P, 0, 0);
  } else {
    mb_unary(be, MB_UN_LOG, var, var, P, 0, 0);
    mb_unary(be, MB_UN_AFFINE, var, var, P, power, 0.0f);
    mb_unary(be, MB_UN_EXP, var, var, P, 0, 0);
  }
  mb_unary(be, MB_UN_MIN_S, var, var, P, 1e3f, 0);
}

void bl_sfdn_variance(mb_mlp *m, mb_view F, const int *forget, int n_forget, float alpha,
                      float power)
{
  mb_backend *be = m->be;
  size_t P = m->pt.total;
  int L = m->cfg.n_layers, widest = 0;
  for (int l = 1; l <= L; l++) if (m->cfg.dims[l] > widest) widest = m->cfg.dims[l];
  mb_view var = F, rowv = mb_new(be, (size_t)widest);
  base_variance(be, var, P, power);
  for (int i = 0; i < m->pt.n; i++) {
    const mb_tensor *t = &m->pt.t[i];
    mb_view v = mb_at(var, t->off), w = mb_at(m->w, t->off);
    int last = i >= 2 * (L - 1), weight = i % 2 == 0;
    if (last) mb_unary(be, MB_UN_MIN_S, v, v, t->n, 1e2f, 0);
    mb_unary(be, MB_UN_AFFINE, v, v, t->n, alpha, 0.0f);
    if (weight) {
      /* mean over dim 1 (the input features), broadcast back along the row */
      mb_reduce(be, MB_RED_SUM, v, rowv, (size_t)t->rows, (size_t)t->cols, 1);
      mb_unary(be, MB_UN_AFFINE, rowv, rowv, (size_t)t->rows, 1.0f / (float)t->cols, 0.0f);
      mb_fill(be, v, t->n, 0.0f);
      mb_bcast(be, MB_BC_ADD, v, rowv, v, 1, (size_t)t->rows, (size_t)t->cols);
    }
    if (last) {
      /* the whole-class case: the forget rows restart at mean 0 with variance 1e-4 */
      for (int j = 0; j < n_forget; j++) {
        size_t off = (size_t)forget[j] * (size_t)t->cols, len = (size_t)t->cols;
        mb_fill(be, mb_at(w, off), len, 0.0f);
        mb_fill(be, mb_at(v, off), len, 1e-4f);
      }
    }
    if (last || !weight) mb_unary(be, MB_UN_AFFINE, v, v, t->n, 10.0f, 0.0f);
  }
  mb_release(be, rowv);
}

/* The same F for any model, for the ResNet (no layer-wise factorisation of a
 * conv's per-sample gradient): one eval-mode forward per chunk, then for each y
 * the logit deltas scaled by √p_y and one backward whose per-sample squared
 * gradients land in F. */
void bl_sfdn_fisher_md(mb_model *md, const mb_devdata *dd, const bl_plan *p, int chunk, mb_view F)
{
  mb_backend *be = md->be;
  int K = md->classes;
  size_t P = md->total;
  mb_view probs = mb_new(be, (size_t)chunk * K), labels = mb_new(be, (size_t)chunk);
  mb_view pcol = mb_new(be, (size_t)chunk), rowk = mb_new(be, (size_t)chunk);
  int32_t *rk = malloc(sizeof(int32_t) * (size_t)chunk);
  if (!rk) { mb_fail(be, MB_OOM, "sfdn: out of memory"); goto done; }
  for (int r = 0; r < chunk; r++) rk[r] = r * K;
  mb_upload(be, rowk, rk, (size_t)chunk);
  mb_fill(be, F, P, 0.0f);
  const mb_sq_target sq = {0, 0, F};
  for (int r0 = 0; r0 < p->n && mb_ok(be); r0 += chunk) {
    int rows = p->n - r0 < chunk ? p->n - r0 : chunk;
    bl_plan_gather_md(md, dd, p, r0, rows);
    mb_view logits = mb_model_forward(md, mb_none(), mb_none(), rows, 0);   /* eval mode */
    mb_sq_target t = sq;
    t.r1 = rows;
    const mb_bwd_opts bo = {.want_grads = 0, .n_sq = 1, .sq = &t};
    for (int y = 0; y < K; y++) {
      mb_fill_u32(be, labels, (size_t)rows, (uint32_t)y);
      mb_xent_args xa = {
        .rows = rows, .cols = K, .logits = logits, .labels = labels, .loss = mb_none(),
        .dlogits = md->dlogits, .probs = y == 0 ? probs : mb_none(), .scale = 1.0f,
      };
      mb_softmax_xent(be, &xa);
      mb_gather_args ga = {
        .src = mb_at(probs, (size_t)y), .idx = rowk, .dst = pcol, .n_rows = rows, .row_len = 1,
        .n_src_rows = (rows - 1) * K + 1,
      };
      mb_gather_rows(be, &ga);
      mb_unary(be, MB_UN_SQRT, pcol, pcol, (size_t)rows, 0, 0);
      mb_bcast(be, MB_BC_MUL, md->dlogits, pcol, md->dlogits, 1, (size_t)rows, (size_t)K);
      mb_model_backward(md, rows, &bo);   /* reuses the forward, as the notebook */
    }
  }
  if (p->n > 0) mb_unary(be, MB_UN_AFFINE, F, F, P, 1.0f / (float)p->n, 0.0f);
done:
  mb_release(be, probs); mb_release(be, labels); mb_release(be, pcol); mb_release(be, rowk);
  free(rk);
}


/* §5.2 on the ResNet: the final layer is fc.weight/fc.bias; conv weights
 * [O][I][kh·kw] are averaged over I only (dim 1), broadcast back by a row gather. */
void bl_sfdn_variance_rn(mb_resnet *r, mb_view F, const int *forget, int n_forget, float alpha,
                         float power)
{
  mb_backend *be = r->be;
  mb_view var = F;
  base_variance(be, var, r->pt.total, power);
  for (int i = 0; i < r->pt.n && mb_ok(be); i++) {
    const mb_rn_tensor *t = &r->pt.t[i];
    mb_view v = mb_at(var, t->off), w = mb_at(r->w, t->off);
    int last = t->kind == MB_PT_FC_WEIGHT || t->kind == MB_PT_FC_BIAS;
    int weight = t->kind == MB_PT_CONV || t->kind == MB_PT_FC_WEIGHT;
    if (last) mb_unary(be, MB_UN_MIN_S, v, v, t->n, 1e2f, 0);
    mb_unary(be, MB_UN_AFFINE, v, v, t->n, alpha, 0.0f);
    if (weight) {
      int S = 1;   /* kernel positions: kh·kw of the conv using this tensor */
      for (int u = 0; u < r->n_units; u++)
        if (r->u[u].tw == i) S = r->u[u].g.kh * r->u[u].g.kw;
      int O = t->rows, I = t->cols / S;
      mb_view mean = mb_new(be, (size_t)O * S), idx = mb_new(be, (size_t)O * I);
      int32_t *h = malloc(sizeof(int32_t) * (size_t)O * I);
      if (!h) { mb_fail(be, MB_OOM, "sfdn: out of memory"); break; }
      for (int o = 0; o < O; o++)
        for (int c = 0; c < I; c++) h[(size_t)o * I + c] = o;
      mb_upload(be, idx, h, (size_t)O * I);
      mb_reduce(be, MB_RED_SUM, v, mean, (size_t)O, (size_t)I, (size_t)S);
      mb_unary(be, MB_UN_AFFINE, mean, mean, (size_t)O * S, 1.0f / (float)I, 0.0f);
      mb_gather_args ga = {.src = mean, .idx = idx, .dst = v, .n_rows = O * I, .row_len = S,
                           .n_src_rows = O};
      mb_gather_rows(be, &ga);
      free(h);
      mb_release(be, mean);
      mb_release(be, idx);
    }
    if (last) {
      for (int j = 0; j < n_forget; j++) {
        size_t off = (size_t)forget[j] * (size_t)t->cols, len = (size_t)t->cols;
        mb_fill(be, mb_at(w, off), len, 0.0f);
        mb_fill(be, mb_at(v, off), len, 1e-4f);
      }
    }
    if (last || !weight) mb_unary(be, MB_UN_AFFINE, v, v, t->n, 10.0f, 0.0f);
  }
}

static int sfdn_forget(const mb_forget_request *rq, mb_forget_outcome *out)
{
  mb_model wrapped, *md = mb_method_model(rq, &wrapped);
  mb_mlp *m = rq->m;
  mb_backend *be = md->be;
  size_t P = md->total;
  float alpha = (float)rq->params[0], power = (float)rq->params[1];
  int chunk = (int)rq->params[2];
  if (!m && chunk > md->max_batch) chunk = md->max_batch;   /* the result does not depend on it */
  if (chunk < 1) mb_fail(be, MB_BAD_ARG, "sfdn: chunk must be >= 1, got %d", chunk);
  if (!mb_ok(be) || bl_need_rows_md(md, chunk, "sfdn") != 0) return -1;
  if (!m && md->kind != MB_MODEL_RESNET18) return mb_method_require_mlp(rq, "sfdn");
  int32_t *r_idx = NULL;
  int nr = bl_select(be, rq->train, rq->forget, rq->n_forget, 0, &r_idx);
  bl_plan pr = {0};
  mb_view F = mb_new(be, P);
  if (nr > 0) {
    bl_plan_upload(be, rq->train, r_idx, NULL, NULL, nr, &pr);
    if (m) {
      bl_sfdn_fisher(m, rq->train, &pr, chunk, F);
      bl_sfdn_variance(m, F, rq->forget, rq->n_forget, alpha, power);
    } else {
      bl_sfdn_fisher_md(md, rq->train, &pr, chunk, F);
      bl_sfdn_variance_rn(md->rn, F, rq->forget, rq->n_forget, alpha, power);
    }
    /* w = μ + √var ⊙ ε, ε ~ N(0,1) from the counter-based stream */
    mb_view eps = md->g;
    mb_rng(be, MB_RNG_NORMAL, rq->seed, BL_STREAM_SFDN_NOISE, eps, P, 0.0f, 1.0f);
    mb_unary(be, MB_UN_SQRT, F, F, P, 0, 0);
    mb_binary(be, MB_BIN_MUL, F, eps, F, P, 1.0f, 0.0f);
    mb_binary(be, MB_BIN_AXPBY, md->w, F, md->w, P, 1.0f, 1.0f);
  } else if (nr == 0) {
    mb_fail(be, MB_BAD_ARG, "sfdn: the retain set is empty");
  }
  out->sign = 0;
  snprintf(out->note, sizeof out->note, "Fisher over %d retain samples × %d classes, α %g, power %g",
           nr, md->classes, alpha, power);
  bl_plan_free(be, &pr);
  mb_release(be, F);
  free(r_idx);
  return mb_ok(be) ? 0 : -1;
}

const mb_method mb_method_sfdn = {
  .name = "sfdn", .alias = NULL,
  .target = "true Fisher on D_r (N_R forward, K·N_R backward) + Gaussian noise",
  .needs = MB_NEEDS_RETAIN, .params = k_sfdn_params, .n_params = 3,
  .forget = sfdn_forget,
};
