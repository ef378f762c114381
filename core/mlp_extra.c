/* Input gradient and the input-sensitivity double backward of the MLP.
 *
 * Notation (rows are samples): a_0 = x, h_l = a_{l−1}·W_lᵀ + b_l, a_l = σ(h_l)
 * for l < L, z = h_L.  The input gradient of logit k is the backward of the
 * one-hot seed e_k:  d_L = e_k,  u_{l−1} = d_l·W_l,  d_{l−1} = u_{l−1} ⊙ σ′(h_{l−1}),
 * g = u_0.  Reverse-mode through that backward with ū_0 = ∂φ/∂g gives
 *   ∂φ/∂W_l += d_lᵀ·ū_{l−1}                       (direct path, every layer)
 *   d̄_l = ū_{l−1}·W_lᵀ,  ū_l = d̄_l ⊙ σ′(h_l),  h̄_l = d̄_l ⊙ u_l ⊙ σ″(h_l)
 * and h̄ then flows back through the ordinary forward graph:
 *   r_{L−1} = h̄_{L−1},  r_l = h̄_l + (r_{l+1}·W_{l+1}) ⊙ σ′(h_l),
 *   ∂φ/∂W_l += r_lᵀ·a_{l−1},  ∂φ/∂b_l += Σ_rows r_l.
 * For one hidden layer this is the closed form of docs/specification.md §6.4; for ReLU
 * (σ″ = 0) only the direct path remains, which is §6.3's masked passes B–D. */
#include "core/mlp_extra.h"

#include <string.h>

void mb_mlp_input_grad(mb_mlp *m, int batch, mb_view dx)
{
  const mb_tensor *w1 = &m->pt.t[0];
  mb_matmul(m->be, 0, 0, batch, m->cfg.dims[0], m->cfg.dims[1], 1.0f, m->delta[1],
            mb_at(m->w, w1->off), 0.0f, dx);
}

int mb_sens_ws_create(mb_mlp *m, int rows, mb_sens_ws *ws)
{
  mb_backend *be = m->be;
  const mb_mlp_config *c = &m->cfg;
  int L = c->n_layers, widest = 0;
  memset(ws, 0, sizeof *ws);
  ws->rows = rows;
  for (int l = 0; l <= L; l++) {
    if (c->dims[l] > widest) widest = c->dims[l];
    if (l >= 1) ws->d[l] = mb_new(be, (size_t)rows * c->dims[l]);
    if (l < L) ws->u[l] = mb_new(be, (size_t)rows * c->dims[l]);
  }
  ws->tmp = mb_new(be, (size_t)rows * widest);
  if (mb_sens_common_create(be, rows, c->dims[L], &ws->c)) return -1;
  return mb_ok(be) ? 0 : -1;
}

void mb_sens_ws_destroy(mb_mlp *m, mb_sens_ws *ws)
{
  for (int l = 0; l <= MB_MAX_LAYERS; l++) mb_release(m->be, ws->d[l]);
  for (int l = 0; l < MB_MAX_LAYERS; l++) mb_release(m->be, ws->u[l]);
  mb_release(m->be, ws->tmp);
  mb_sens_common_destroy(m->be, &ws->c);
  memset(ws, 0, sizeof *ws);
}

/* y = x ⊙ σ′(h) with a = σ(h) the stored post-activation. */
static void act_bwd(mb_mlp *m, mb_view x, mb_view a, mb_view y, size_t n)
{
  mb_binary(m->be, m->cfg.act == MB_ACT_SIGMOID ? MB_BIN_SIGMOID_BWD : MB_BIN_RELU_BWD, x, a, y, n,
            1.0f, 0.0f);
}

void mb_mlp_sens_grad(mb_mlp *m, mb_sens_ws *ws, mb_view seeds, int h, int l2, mb_view grad,
                      mb_view loss_acc)
{
  mb_backend *be = m->be;
  const int *dims = m->cfg.dims;
  int L = m->cfg.n_layers, R = 2 * h;
  int curved = m->cfg.act == MB_ACT_SIGMOID;
  if (R > ws->rows || R > m->max_batch) {
    mb_fail(be, MB_BAD_ARG, "sens_grad: %d rows exceed the workspace (%d) or the model batch (%d)",
            R, ws->rows, m->max_batch);
    return;
  }
  if (h <= 0) return;
  /* both seeds of a sample share its forward: duplicate the stored activations */
  for (int l = 0; l < L; l++)
    mb_copy(be, mb_at(m->act[l], (size_t)h * dims[l]), m->act[l], (size_t)h * dims[l]);
  mb_sens_one_hot(be, &ws->c, seeds, R, ws->d[L]);

  /* input backward of the seeds: d_l, u_l; g = u_0 */
  for (int l = L; l >= 1; l--) {
    mb_view W = mb_at(m->w, m->pt.t[2 * (l - 1)].off);
    mb_matmul(be, 0, 0, R, dims[l - 1], dims[l], 1.0f, ws->d[l], W, 0.0f, ws->u[l - 1]);
    if (l - 1 >= 1)
      act_bwd(m, ws->u[l - 1], m->act[l - 1], ws->d[l - 1], (size_t)R * dims[l - 1]);
  }
  m->passes.backward += R;

  /* the loss, and ū_0 = ±∂φ/∂g in place of g */
  mb_sens_objective(be, &ws->c, ws->u[0], h, (size_t)dims[0], l2, loss_acc);

  /* linearised forward of ū with the direct-path weight gradients; h̄_l into d_l */
  for (int l = 1; l <= L; l++) {
    const mb_tensor *tw = &m->pt.t[2 * (l - 1)];
    mb_view W = mb_at(m->w, tw->off);
    size_t n = (size_t)R * dims[l];
    mb_matmul(be, 1, 0, dims[l], dims[l - 1], R, 1.0f, ws->d[l], ws->u[l - 1], 1.0f,
              mb_at(grad, tw->off));
    if (l == L) break;
    mb_matmul(be, 0, 1, R, dims[l], dims[l - 1], 1.0f, ws->u[l - 1], W, 0.0f, ws->tmp);  /* d̄_l */
    act_bwd(m, ws->tmp, m->act[l], ws->tmp, n);                                         /* ū_l */
    if (curved) {
      /* h̄_l = ū_l ⊙ u_l ⊙ (1 − 2a_l), since σ″ = σ′·(1 − 2σ) */
      mb_unary(be, MB_UN_AFFINE, m->act[l], ws->d[l], n, -2.0f, 1.0f);
      mb_binary(be, MB_BIN_MUL, ws->d[l], ws->tmp, ws->d[l], n, 1.0f, 0.0f);
      mb_binary(be, MB_BIN_MUL, ws->d[l], ws->u[l], ws->d[l], n, 1.0f, 0.0f);
    }
    mb_copy(be, ws->u[l], ws->tmp, n);
  }
  m->passes.forward += R;
  if (!curved) return;

  /* the curvature term back through the forward graph: r_l in d_l */
  for (int l = L - 1; l >= 1; l--) {
    size_t n = (size_t)R * dims[l];
    if (l < L - 1) {
      mb_view W = mb_at(m->w, m->pt.t[2 * l].off);   /* W_{l+1} */
      mb_matmul(be, 0, 0, R, dims[l], dims[l + 1], 1.0f, ws->d[l + 1], W, 0.0f, ws->tmp);
      act_bwd(m, ws->tmp, m->act[l], ws->tmp, n);
      mb_binary(be, MB_BIN_AXPBY, ws->d[l], ws->tmp, ws->d[l], n, 1.0f, 1.0f);
    }
    const mb_tensor *tw = &m->pt.t[2 * (l - 1)], *tb = &m->pt.t[2 * (l - 1) + 1];
    mb_matmul(be, 1, 0, dims[l], dims[l - 1], R, 1.0f, ws->d[l], m->act[l - 1], 1.0f,
              mb_at(grad, tw->off));
    mb_reduce(be, MB_RED_SUM, ws->d[l], ws->tmp, 1, (size_t)R, (size_t)dims[l]);
    mb_binary(be, MB_BIN_AXPBY, mb_at(grad, tb->off), ws->tmp, mb_at(grad, tb->off),
              (size_t)dims[l], 1.0f, 1.0f);
  }
  m->passes.backward += R;
}
