/* ResNet-18 / ResNeXt-50 backward and the batched per-sample squared gradients
 * (docs/specification.md §2.1).
 *
 * The squared per-sample gradients are taken during the backward pass, while each
 * layer's output gradient is at hand (the scratch buffers are reused layer by layer):
 *  - conv W: g_n = dY_n · cols(X_n)ᵀ, one batched GEMM over a chunk of samples (and of
 *    groups, for a grouped conv: sample n's group j is batch item n·groups + j, the
 *    strides being uniform), acc += g_n² per sample (core/gemm_sq.c: the backend's
 *    gemm_sq_acc, or the GEMM into a workspace and a SUMSQ reduce over the samples);
 *  - BN γ: g_n[c] = Σ_hw dy·x̂, β: g_n[c] = Σ_hw dy: per-(sample, channel) sums, squared,
 *    summed over the target's rows;
 *  - linear: Σ_n (δ_n x_nᵀ)² = (δ²)ᵀ(x²) and Σ_n δ_n², as in mb_mlp.
 * Per-sample gradients are only separable with fixed normalisation statistics, so this
 * needs an eval-mode forward (which is what §2.1 prescribes). */
#include "core/conv.h"
#include "core/gemm_sq.h"
#include "core/resnet.h"

#include <limits.h>
#include <string.h>

#define MB_RN_PG_CAP ((size_t)1 << 24)   /* per-sample gradient workspace cap (elements) */

static void relu_bwd(mb_backend *be, mb_view d, mb_view y, size_t n)
{
  mb_binary(be, MB_BIN_RELU_BWD, d, y, d, n, 1.0f, 0.0f);
}

/* s [batch × c] per-sample values of a [c] tensor at acc offset off: acc += Σ_rows s². */
static void add_sq_rows(mb_resnet *r, mb_view s, int batch, int c, size_t off,
                        const mb_rn_bwd_opts *o)
{
  mb_backend *be = r->be;
  mb_unary(be, MB_UN_SQR, s, s, (size_t)batch * c, 0, 0);
  for (int t = 0; t < o->n_sq; t++) {
    int r0 = o->sq[t].r0, r1 = o->sq[t].r1;
    if (r1 <= r0) continue;
    mb_view acc = mb_at(o->sq[t].acc, off);
    mb_reduce(be, MB_RED_SUM, mb_at(s, (size_t)r0 * c), r->sq_c, 1, (size_t)(r1 - r0), (size_t)c);
    mb_binary(be, MB_BIN_AXPBY, acc, r->sq_c, acc, (size_t)c, 1.0f, 1.0f);
  }
}

/* BN γ and β of unit u from dy (the BN output gradient); tmp: scratch of dy's size. */
static void sq_bn(mb_resnet *r, const mb_rn_unit *u, mb_view dy, mb_view tmp, int batch,
                  const mb_rn_bwd_opts *o)
{
  mb_backend *be = r->be;
  const size_t hw = (size_t)u->g.oh * u->g.ow, C = (size_t)u->cout, B = (size_t)batch;
  mb_bcast(be, MB_BC_SUB, u->c, mb_at(r->save_mean, u->soff), tmp, B, C, hw);
  mb_bcast(be, MB_BC_MUL, tmp, mb_at(r->save_invstd, u->soff), tmp, B, C, hw);   /* x̂ */
  mb_binary(be, MB_BIN_MUL, tmp, dy, tmp, B * C * hw, 1.0f, 0.0f);
  mb_reduce(be, MB_RED_SUM, tmp, r->sq_s, B * C, hw, 1);
  add_sq_rows(r, r->sq_s, batch, u->cout, r->pt.t[u->tg].off, o);
  mb_reduce(be, MB_RED_SUM, dy, r->sq_s, B * C, hw, 1);
  add_sq_rows(r, r->sq_s, batch, u->cout, r->pt.t[u->tg + 1].off, o);
}

/* Conv weight of unit u from x (its input) and dyc (its output gradient). */
static void sq_conv(mb_resnet *r, const mb_rn_unit *u, mb_view x, mb_view dyc,
                    const mb_rn_bwd_opts *o)
{
  mb_backend *be = r->be;
  const mb_conv_geom *g = &u->g;
  const size_t chw = (size_t)g->c * g->h * g->w, ohw = (size_t)g->oh * g->ow;
  const int ckk = g->c * g->kh * g->kw, G = u->groups, cog = u->cout / G, gk = ckk / G;
  const size_t P = (size_t)u->cout * gk, per = mb_conv2d_ws_per_image(g);
  /* the optional op needs no gradient workspace, only the columns' */
  size_t chunk = mb_has_opt(be, MB_OPID_gemm_sq_acc) ? (size_t)INT_MAX
                                                       : mb_gemm_sq_samples(r->pg_n, P);
  if (per && r->ws_n / per < chunk) chunk = r->ws_n / per;
  const size_t off = r->pt.t[u->tw].off;
  for (int t = 0; t < o->n_sq && mb_ok(be); t++) {
    const int r1 = o->sq[t].r1;
    const int step = (size_t)(r1 - o->sq[t].r0) < chunk ? r1 - o->sq[t].r0 : (int)chunk;
    for (int b0 = o->sq[t].r0; b0 < r1 && mb_ok(be); b0 += step) {
      mb_conv_geom sub = *g;
      sub.n = r1 - b0 < step ? r1 - b0 : step;
      mb_view cols = mb_at(x, (size_t)b0 * chw);
      if (per) {
        mb_im2col(be, &sub, cols, r->ws);
        cols = r->ws;
      }
      /* item n·G + j: rows j·cog of dY_n, rows j·gk of cols_n, block j of g_n */
      const mb_gemm_sq_args a = {
        .g = {.trans_b = 1, .m = cog, .n = gk, .k = (int)ohw, .alpha = 1.0f,
              .a = mb_at(dyc, (size_t)b0 * u->cout * ohw), .b = cols,
              .lda = (int)ohw, .ldb = (int)ohw, .batch = sub.n * G,
              .stride_a = (long)((size_t)cog * ohw), .stride_b = (long)((size_t)gk * ohw)},
        .groups = G, .acc = mb_at(o->sq[t].acc, off),
      };
      mb_gemm_sq_acc_auto(be, &a, r->pg, r->pg_n);
    }
  }
}

/* Unit u backward: dy (BN output gradient, kept) → dtmp (conv output gradient) →
 * dx (conv input gradient; dx_mode 0: none, 1: written, 2: accumulated). */
static void unit_bwd(mb_resnet *r, const mb_rn_unit *u, mb_view x, mb_view dy, mb_view dtmp,
                     mb_view dx, int dx_mode, int batch, const mb_rn_bwd_opts *o)
{
  mb_backend *be = r->be;
  mb_conv_geom g = u->g;
  g.n = batch;
  const mb_view w = r->last_w;
  const size_t tw = r->pt.t[u->tw].off, tg = r->pt.t[u->tg].off, tb = r->pt.t[u->tg + 1].off;
  if (o->n_sq) sq_bn(r, u, dy, dtmp, batch, o);   /* before dtmp is overwritten */
  mb_bn_bwd_args b = {
    .mode = r->last_train ? MB_BN_TRAIN : MB_BN_EVAL, .n = batch, .c = u->cout,
    .hw = g.oh * g.ow, .x = u->c, .dy = dy, .gamma = mb_at(w, tg),
    .mean = mb_at(r->save_mean, u->soff), .invstd = mb_at(r->save_invstd, u->soff), .dx = dtmp,
    .dgamma = o->want_grads ? mb_at(r->g, tg) : mb_none(),
    .dbeta = o->want_grads ? mb_at(r->g, tb) : mb_none(),
  };
  mb_batchnorm_bwd(be, &b);
  if (o->n_sq) sq_conv(r, u, x, dtmp, o);
  if (o->want_grads)
    mb_conv2d_grouped_bwd_filter(be, &g, u->cout, u->groups, x, dtmp, mb_at(r->g, tw), 0.0f, r->ws,
                                 r->ws_n);
  if (dx_mode)
    mb_conv2d_grouped_bwd_data(be, &g, u->cout, u->groups, dtmp, mb_at(w, tw), dx, dx_mode == 2,
                               r->ws, r->ws_n);
}

/* Linear head: gradients, squared per-sample gradients, dfeat. */
static void head_bwd(mb_resnet *r, int batch, const mb_rn_bwd_opts *o)
{
  mb_backend *be = r->be;
  const mb_rn_tensor *fw = &r->pt.t[r->pt.n - 2], *fb = &r->pt.t[r->pt.n - 1];
  const int K = fw->rows, C = fw->cols;
  if (o->want_grads) {
    mb_matmul(be, 1, 0, K, C, batch, 1.0f, r->dlogits, r->feat, 0.0f, mb_at(r->g, fw->off));
    mb_reduce(be, MB_RED_SUM, r->dlogits, mb_at(r->g, fb->off), 1, (size_t)batch, (size_t)K);
  }
  for (int t = 0; t < o->n_sq; t++) {
    int r0 = o->sq[t].r0, rows = o->sq[t].r1 - r0;
    if (rows <= 0) continue;
    mb_view acc = o->sq[t].acc, fsq = r->d[1], dsq = r->sq_s;   /* d[] are free here */
    mb_unary(be, MB_UN_SQR, mb_at(r->feat, (size_t)r0 * C), fsq, (size_t)rows * C, 0, 0);
    mb_unary(be, MB_UN_SQR, mb_at(r->dlogits, (size_t)r0 * K), dsq, (size_t)rows * K, 0, 0);
    mb_matmul(be, 1, 0, K, C, rows, 1.0f, dsq, fsq, 1.0f, mb_at(acc, fw->off));
    mb_reduce(be, MB_RED_SUM, dsq, r->sq_c, 1, (size_t)rows, (size_t)K);
    mb_binary(be, MB_BIN_AXPBY, mb_at(acc, fb->off), r->sq_c, mb_at(acc, fb->off), (size_t)K,
              1.0f, 1.0f);
  }
  mb_matmul(be, 0, 0, batch, C, K, 1.0f, r->dlogits, mb_at(r->last_w, fw->off), 0.0f, r->dfeat);
}

/* Checks the options; allocates the per-sample workspace on first use. */
static int bwd_ok(mb_resnet *r, int batch, const mb_rn_bwd_opts *o)
{
  mb_backend *be = r->be;
  if (!mb_ok(be)) return 0;
  if (batch != r->last_batch || batch < 1) {
    mb_fail(be, MB_BAD_ARG, "resnet backward: batch %d, the last forward had %d", batch,
            r->last_batch);
    return 0;
  }
  if (o->n_sq && r->last_train) {
    mb_fail(be, MB_BAD_ARG, "resnet backward: per-sample gradients need an eval-mode forward");
    return 0;
  }
  for (int t = 0; t < o->n_sq; t++)
    if (o->sq[t].r0 < 0 || o->sq[t].r1 > batch || mb_is_none(o->sq[t].acc)) {
      mb_fail(be, MB_BAD_ARG, "resnet backward: bad per-sample target %d (rows %d..%d of %d)", t,
              o->sq[t].r0, o->sq[t].r1, batch);
      return 0;
    }
  if (o->n_sq && mb_is_none(r->pg)) {
    size_t pmax = 0;
    for (int i = 0; i < r->n_units; i++) {
      const mb_rn_unit *u = &r->u[i];
      size_t p = (size_t)u->cout * (u->g.c / u->groups) * u->g.kh * u->g.kw;
      if (p > pmax) pmax = p;
    }
    size_t cap = MB_RN_PG_CAP > pmax ? MB_RN_PG_CAP : pmax, want = (size_t)r->max_batch * pmax;
    r->pg_n = want < cap ? want : cap;
    r->pg = mb_new(be, r->pg_n);
  }
  return mb_ok(be);
}

void mb_resnet_backward(mb_resnet *r, int batch, const mb_rn_bwd_opts *opts)
{
  mb_backend *be = r->be;
  const mb_rn_bwd_opts plain = {.want_grads = 1};
  const mb_rn_bwd_opts *o = opts ? opts : &plain;
  if (!bwd_ok(r, batch, o)) return;
  head_bwd(r, batch, o);
  mb_view dout = r->d[0], t1 = r->d[1], t2 = r->d[2], t3 = r->d[3], tmp;
  mb_pool_args p = {.kind = MB_POOL_AVG, .g = r->gpool, .count_pad = 1, .dy = r->dfeat, .dx = dout};
  p.g.n = batch;
  mb_pool_bwd(be, &p);
  for (int b = r->n_blocks - 1; b >= 0 && mb_ok(be); b--) {
    const mb_rn_block *bl = &r->blk[b];
    const mb_rn_unit *u1 = &r->u[bl->u1], *u2 = &r->u[bl->u2];
    const mb_rn_unit *ul = bl->u3 >= 0 ? &r->u[bl->u3] : u2;
    relu_bwd(be, dout, ul->y, mb_rn_act(ul, batch));
    /* dout now reaches both branches; t3 collects the block input's gradient */
    if (bl->sc >= 0) unit_bwd(r, &r->u[bl->sc], bl->in, dout, t1, t3, 1, batch, o);
    mb_view d2 = dout;   /* the output gradient of u2 */
    if (bl->u3 >= 0) {
      unit_bwd(r, ul, u2->y, dout, t1, t2, 1, batch, o);
      relu_bwd(be, t2, u2->y, mb_rn_act(u2, batch));
      d2 = t2;
    }
    /* u2's input gradient may overwrite its output gradient d2 (= t2 in a Bottleneck):
     * unit_bwd reads dy only before the BN backward that writes t1 */
    unit_bwd(r, u2, u1->y, d2, t1, t2, 1, batch, o);
    relu_bwd(be, t2, u1->y, mb_rn_act(u1, batch));
    unit_bwd(r, u1, bl->in, t2, t1, t3, bl->sc >= 0 ? 2 : 1, batch, o);
    if (bl->sc < 0) mb_binary(be, MB_BIN_AXPBY, t3, dout, t3, mb_rn_act(ul, batch), 1.0f, 1.0f);
    tmp = dout; dout = t3; t3 = tmp;
  }
  const mb_rn_unit *s = &r->u[0];
  if (r->cfg.stem == MB_RN_IMAGENET) {
    mb_pool_args m = {.kind = MB_POOL_MAX, .g = r->mpool, .idx = r->pool_idx, .dy = dout, .dx = t1};
    m.g.n = batch;
    mb_pool_bwd(be, &m);
    tmp = dout; dout = t1; t1 = tmp;
  }
  relu_bwd(be, dout, s->y, mb_rn_act(s, batch));
  unit_bwd(r, s, r->in, dout, t1, r->dx, o->want_input ? 1 : 0, batch, o);
  r->passes.backward += batch;
}

void mb_resnet_sq_grads(mb_resnet *r, mb_view w, mb_view x, mb_view labels, int batch,
                        const mb_rn_sq_target *sq, int n_sq)
{
  mb_resnet_forward(r, w, x, batch, 0);
  mb_resnet_xent(r, labels, batch, 1.0f, mb_none());
  mb_rn_bwd_opts o = {.want_grads = 0, .want_input = 0, .n_sq = n_sq, .sq = sq};
  mb_resnet_backward(r, batch, &o);
}
