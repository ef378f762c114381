/* ResNet-18 double backward for MU-Mis (docs/specification.md §6.3).
 *
 * A network of convs, eval-mode BNs, ReLUs, max/avg-pools and residual adds is
 * locally linear in its input, z = J(w)·x + b(w), so the input gradient of
 * logit k is g_k = J(w)ᵀe_k and ∇_w‖g_k‖² = 2·∇_w[e_kᵀJ(w)u] at u = g_k held
 * fixed.  After the eval-mode forward (pass A: ReLU masks in the post-ReLU
 * activations, max-pool argmax):
 *  B  backward of the one-hot seeds to the input, storing δ_y, the gradient at
 *     every BN output, in that unit's conv-output buffer (free after pass A);
 *  C  the linearised network on ū = ∂φ/∂g: convs, BN as its scale s = γ·invstd
 *     (no shift), the stored masks, a gather at the stored argmax;
 *  D  fused with C, the ordinary weight gradients of (δ, ã): conv weight from
 *     δ_c = s·δ_y and the conv's linearised input, BN γ from Σ δ_y·ã_c·invstd,
 *     the head from the seeds and the pooled linearised features.
 * Both seeds of a sample share its forward: the masks are duplicated into rows
 * [h, 2h) and the passes run over the doubled batch. */
#include "core/conv.h"
#include "core/resnet_sens.h"

#include <stdlib.h>
#include <string.h>

int mb_rn_sens_ws_create(mb_resnet *r, int rows, mb_rn_sens_ws *ws)
{
  mb_backend *be = r->be;
  memset(ws, 0, sizeof *ws);
  if (r->cfg.arch != MB_RN_RESNET18) {
    /* the passes below walk BasicBlocks; the Bottleneck chain is not written (yet) */
    mb_fail(be, MB_UNSUPPORTED, "resnet sensitivity (MU-Mis): ResNet-18 only, not %s",
            mb_rn_arch_name(r->cfg.arch));
    return -1;
  }
  if (mb_sens_common_create(be, rows, r->cfg.classes, &ws->c)) return -1;
  ws->scale = mb_new(be, r->n_stats);
  if (r->cfg.stem == MB_RN_IMAGENET) {
    size_t n = (size_t)rows * r->mpool.c * r->mpool.oh * r->mpool.ow;
    ws->gidx = mb_new(be, n);
    ws->host_idx = malloc(n * sizeof *ws->host_idx);
    if (!ws->host_idx) mb_fail(be, MB_OOM, "resnet sensitivity: out of memory for %zu indices", n);
  }
  return mb_ok(be) ? 0 : -1;
}

void mb_rn_sens_ws_destroy(mb_resnet *r, mb_rn_sens_ws *ws)
{
  mb_sens_common_destroy(r->be, &ws->c);
  mb_release(r->be, ws->scale);
  mb_release(r->be, ws->gidx);
  free(ws->host_idx);
  memset(ws, 0, sizeof *ws);
}

/* y = s ⊙ x per channel of unit u (BN in eval mode without its shift). */
static void bn_scale(mb_resnet *r, const mb_rn_sens_ws *ws, const mb_rn_unit *u, mb_view x,
                     mb_view y, int rows)
{
  mb_bcast(r->be, MB_BC_MUL, x, mb_at(ws->scale, u->soff), y, (size_t)rows, (size_t)u->cout,
           (size_t)u->g.oh * u->g.ow);
}

static int has_relu(const mb_resnet *r, int unit)
{
  if (unit == 0) return 1;
  for (int b = 0; b < r->n_blocks; b++)
    if (r->blk[b].u1 == unit || r->blk[b].u2 == unit) return 1;
  return 0;
}

/* Pass A for rows [h, 2h): the masks and the argmax of rows [0, h). */
static void duplicate_masks(mb_resnet *r, mb_rn_sens_ws *ws, int h)
{
  mb_backend *be = r->be;
  for (int i = 0; i < r->n_units; i++) {
    size_t n = mb_rn_act(&r->u[i], h);
    if (has_relu(r, i)) mb_copy(be, mb_at(r->u[i].y, n), r->u[i].y, n);
  }
  if (r->cfg.stem != MB_RN_IMAGENET) return;
  /* the pool stores in-plane indices; the gather of pass C needs flat ones */
  const mb_conv_geom *g = &r->mpool;
  const size_t plane = (size_t)g->oh * g->ow, per = (size_t)g->c * plane, n = 2 * (size_t)h * per;
  mb_copy(be, mb_at(r->pool_idx, (size_t)h * per), r->pool_idx, (size_t)h * per);
  mb_download(be, ws->host_idx, r->pool_idx, n);
  if (!mb_ok(be)) return;
  for (size_t o = 0; o < n; o++)
    ws->host_idx[o] += (int32_t)((o / plane) * (size_t)g->h * g->w);
  mb_upload(be, ws->gidx, ws->host_idx, n);
}

/* Pass B: the one-hot seeds in r->dlogits back to the input (r->dx); δ_y of every
 * unit is left in delta[unit]. */
static void input_backward(mb_resnet *r, mb_rn_sens_ws *ws, int R, mb_view *delta)
{
  mb_backend *be = r->be;
  const mb_view w = r->last_w;
  const mb_rn_tensor *fw = &r->pt.t[r->pt.n - 2];
  mb_matmul(be, 0, 0, R, fw->cols, fw->rows, 1.0f, r->dlogits, mb_at(w, fw->off), 0.0f, r->dfeat);
  mb_view dout = r->d[0], t1 = r->d[1], t2 = r->d[2], t3 = r->d[3], tmp;
  mb_pool_args p = {.kind = MB_POOL_AVG, .g = r->gpool, .count_pad = 1, .dy = r->dfeat, .dx = dout};
  p.g.n = R;
  mb_pool_bwd(be, &p);
  for (int b = r->n_blocks - 1; b >= 0 && mb_ok(be); b--) {
    const mb_rn_block *bl = &r->blk[b];
    const mb_rn_unit *u1 = &r->u[bl->u1], *u2 = &r->u[bl->u2];
    mb_conv_geom g1 = u1->g, g2 = u2->g;
    g1.n = g2.n = R;
    /* the gradient at the pre-ReLU sum reaches u2 and the shortcut alike */
    delta[bl->u2] = u2->c;
    mb_binary(be, MB_BIN_RELU_BWD, dout, u2->y, delta[bl->u2], mb_rn_act(u2, R), 1.0f, 0.0f);
    bn_scale(r, ws, u2, delta[bl->u2], t1, R);
    mb_conv2d_bwd_data(be, &g2, u2->cout, t1, mb_at(w, r->pt.t[u2->tw].off), t2, 0, r->ws, r->ws_n);
    delta[bl->u1] = u1->c;
    mb_binary(be, MB_BIN_RELU_BWD, t2, u1->y, delta[bl->u1], mb_rn_act(u1, R), 1.0f, 0.0f);
    bn_scale(r, ws, u1, delta[bl->u1], t1, R);
    mb_conv2d_bwd_data(be, &g1, u1->cout, t1, mb_at(w, r->pt.t[u1->tw].off), t3, 0, r->ws, r->ws_n);
    if (bl->sc >= 0) {
      const mb_rn_unit *us = &r->u[bl->sc];
      mb_conv_geom gs = us->g;
      gs.n = R;
      delta[bl->sc] = delta[bl->u2];
      bn_scale(r, ws, us, delta[bl->sc], t1, R);
      mb_conv2d_bwd_data(be, &gs, us->cout, t1, mb_at(w, r->pt.t[us->tw].off), t3, 1, r->ws,
                         r->ws_n);
    } else {
      mb_binary(be, MB_BIN_AXPBY, t3, delta[bl->u2], t3, mb_rn_act(u2, R), 1.0f, 1.0f);
    }
    tmp = dout; dout = t3; t3 = tmp;
  }
  const mb_rn_unit *s = &r->u[0];
  if (r->cfg.stem == MB_RN_IMAGENET) {
    mb_pool_args m = {.kind = MB_POOL_MAX, .g = r->mpool, .idx = r->pool_idx, .dy = dout, .dx = t1};
    m.g.n = R;
    mb_pool_bwd(be, &m);
    tmp = dout; dout = t1; t1 = tmp;
  }
  delta[0] = s->c;
  mb_binary(be, MB_BIN_RELU_BWD, dout, s->y, delta[0], mb_rn_act(s, R), 1.0f, 0.0f);
  bn_scale(r, ws, s, delta[0], t1, R);
  mb_conv_geom g0 = s->g;
  g0.n = R;
  mb_conv2d_bwd_data(be, &g0, s->cout, t1, mb_at(w, r->pt.t[s->tw].off), r->dx, 0, r->ws, r->ws_n);
}

/* Passes C and D through one unit: x is its linearised input, y (may be x) receives
 * its linearised BN output; d[1] and d[3] are scratch. */
static void unit_linear(mb_resnet *r, mb_rn_sens_ws *ws, const mb_rn_unit *u, mb_view delta,
                        mb_view x, mb_view y, int R, mb_view grad)
{
  mb_backend *be = r->be;
  mb_conv_geom g = u->g;
  g.n = R;
  const size_t C = (size_t)u->cout, hw = (size_t)g.oh * g.ow, n = mb_rn_act(u, R);
  const size_t tw = r->pt.t[u->tw].off, tg = r->pt.t[u->tg].off;
  mb_view ac = r->d[1], tmp = r->d[3];
  mb_conv2d_fwd(be, &g, u->cout, x, mb_at(r->last_w, tw), ac, r->ws, r->ws_n);
  bn_scale(r, ws, u, delta, tmp, R);   /* δ_c */
  mb_conv2d_bwd_filter(be, &g, u->cout, x, tmp, mb_at(grad, tw), 1.0f, r->ws, r->ws_n);
  /* γ: Σ_{n,hw} δ_y·ã_c, times invstd */
  mb_binary(be, MB_BIN_MUL, ac, delta, tmp, n, 1.0f, 0.0f);
  mb_reduce(be, MB_RED_SUM, tmp, r->sq_s, (size_t)R * C, hw, 1);
  mb_reduce(be, MB_RED_SUM, r->sq_s, r->sq_c, 1, (size_t)R, C);
  mb_binary(be, MB_BIN_MUL, r->sq_c, mb_at(r->save_invstd, u->soff), r->sq_c, C, 1.0f, 0.0f);
  mb_binary(be, MB_BIN_AXPBY, mb_at(grad, tg), r->sq_c, mb_at(grad, tg), C, 1.0f, 1.0f);
  bn_scale(r, ws, u, ac, y, R);
}

/* Passes C and D from ū in r->dx to the head. */
static void linear_forward(mb_resnet *r, mb_rn_sens_ws *ws, int R, const mb_view *delta,
                           mb_view grad)
{
  mb_backend *be = r->be;
  mb_view a = r->d[0], b = r->d[2], tmp;
  const mb_rn_unit *s = &r->u[0];
  unit_linear(r, ws, s, delta[0], r->dx, b, R, grad);
  mb_binary(be, MB_BIN_RELU_BWD, b, s->y, b, mb_rn_act(s, R), 1.0f, 0.0f);
  if (r->cfg.stem == MB_RN_IMAGENET) {
    const mb_conv_geom *g = &r->mpool;
    mb_gather_args ga = {
      .src = b, .idx = ws->gidx, .dst = a, .row_len = 1,
      .n_rows = R * g->c * g->oh * g->ow, .n_src_rows = R * g->c * g->h * g->w,
    };
    mb_gather_rows(be, &ga);
  } else {
    tmp = a; a = b; b = tmp;
  }
  for (int k = 0; k < r->n_blocks && mb_ok(be); k++) {
    const mb_rn_block *bl = &r->blk[k];
    const mb_rn_unit *u1 = &r->u[bl->u1], *u2 = &r->u[bl->u2];
    size_t n = mb_rn_act(u2, R);
    unit_linear(r, ws, u1, delta[bl->u1], a, b, R, grad);
    mb_binary(be, MB_BIN_RELU_BWD, b, u1->y, b, mb_rn_act(u1, R), 1.0f, 0.0f);
    unit_linear(r, ws, u2, delta[bl->u2], b, b, R, grad);
    if (bl->sc >= 0) {
      unit_linear(r, ws, &r->u[bl->sc], delta[bl->sc], a, r->d[1], R, grad);
      mb_binary(be, MB_BIN_AXPBY, b, r->d[1], b, n, 1.0f, 1.0f);
    } else {
      mb_binary(be, MB_BIN_AXPBY, b, a, b, n, 1.0f, 1.0f);
    }
    mb_binary(be, MB_BIN_RELU_BWD, b, u2->y, b, n, 1.0f, 0.0f);
    tmp = a; a = b; b = tmp;
  }
  mb_pool_args p = {.kind = MB_POOL_AVG, .g = r->gpool, .count_pad = 1, .x = a, .y = r->feat};
  p.g.n = R;
  mb_pool(be, &p);
  const mb_rn_tensor *fw = &r->pt.t[r->pt.n - 2];
  mb_matmul(be, 1, 0, fw->rows, fw->cols, R, 1.0f, r->dlogits, r->feat, 1.0f, mb_at(grad, fw->off));
}

void mb_resnet_sens_grad(mb_resnet *r, mb_rn_sens_ws *ws, mb_view seeds, int h, int l2,
                         mb_view grad, mb_view loss_acc)
{
  mb_backend *be = r->be;
  const int R = 2 * h;
  if (!mb_ok(be) || h <= 0) return;
  if (R > ws->c.rows || R > r->max_batch || r->last_train || r->last_batch != h) {
    mb_fail(be, MB_BAD_ARG,
            "resnet sens_grad: needs the eval-mode forward of the %d samples (last: %s, %d) and "
            "%d rows (workspace %d, model batch %d)", h, r->last_train ? "train" : "eval",
            r->last_batch, R, ws->c.rows, r->max_batch);
    return;
  }
  mb_view delta[MB_RN_UNITS];
  for (int i = 0; i < r->n_units; i++) {
    const mb_rn_unit *u = &r->u[i];
    mb_binary(be, MB_BIN_MUL, mb_at(r->last_w, r->pt.t[u->tg].off), mb_at(r->save_invstd, u->soff),
              mb_at(ws->scale, u->soff), (size_t)u->cout, 1.0f, 0.0f);
  }
  duplicate_masks(r, ws, h);
  mb_sens_one_hot(be, &ws->c, seeds, R, r->dlogits);
  input_backward(r, ws, R, delta);
  r->passes.backward += R;
  mb_sens_objective(be, &ws->c, r->dx, h, (size_t)r->cfg.in_c * r->cfg.in_h * r->cfg.in_w, l2,
                    loss_acc);
  linear_forward(r, ws, R, delta, grad);
  r->passes.forward += R;
}
