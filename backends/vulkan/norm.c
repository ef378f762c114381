/* Batch norm and layer norm (shaders/norm.comp).  Batch norm: one work-group per
 * channel for the statistics and the backward sums, one invocation per element in eval
 * mode.  Layer norm: one work-group per row; dgamma/dbeta in two passes (block partials
 * in the device scratch, then the blocks in order).  Absent optional
 * views are bound to the dummy buffer and flagged off in the push constants. */
#include "vk_internal.h"

#define WG 256

static vk_bind bind_opt(vk_be *be, mb_view v, uint32_t *has, uint32_t bit)
{
  if (!v.buf) return vk_bind_none(be);
  *has |= bit;
  return vk_bind_view(v);
}

void vk_batchnorm(mb_backend *mbe, const mb_bn_args *a)
{
  vk_be *be = VKB(mbe);
  if (be->base.status != MB_OK) return;
  uint32_t spec[] = {WG};
  if (a->mode == MB_BN_EVAL) {
    size_t total = (size_t)a->n * a->c * a->hw;
    struct {
      uint32_t x_off, y_off, g_off, b_off, rm_off, rv_off, total, c, hw;
      float eps;
    } pc = {(uint32_t)a->x.off, (uint32_t)a->y.off, (uint32_t)a->gamma.off, (uint32_t)a->beta.off,
            (uint32_t)a->run_mean.off, (uint32_t)a->run_var.off, (uint32_t)total, (uint32_t)a->c,
            (uint32_t)a->hw, a->eps};
    vk_bind b[6] = {vk_bind_view(a->x), vk_bind_view(a->y), vk_bind_view(a->gamma),
                    vk_bind_view(a->beta), vk_bind_view(a->run_mean), vk_bind_view(a->run_var)};
    vk_dispatch(be, VKS_BN_EVAL, spec, 1, b, 6, &pc, sizeof pc, vk_groups(total, WG), 1, 1);
    return;
  }
  uint32_t has = 0;
  vk_bind b[8] = {vk_bind_view(a->x), vk_bind_view(a->y), vk_bind_view(a->gamma),
                  vk_bind_view(a->beta), bind_opt(be, a->run_mean, &has, 1),
                  bind_opt(be, a->run_var, &has, 2), bind_opt(be, a->save_mean, &has, 4),
                  bind_opt(be, a->save_invstd, &has, 8)};
  struct {
    uint32_t x_off, y_off, g_off, b_off, rm_off, rv_off, sm_off, si_off;
    uint32_t n, c, hw, has;
    float eps, momentum;
  } pc = {(uint32_t)a->x.off, (uint32_t)a->y.off, (uint32_t)a->gamma.off, (uint32_t)a->beta.off,
          (uint32_t)a->run_mean.off, (uint32_t)a->run_var.off, (uint32_t)a->save_mean.off,
          (uint32_t)a->save_invstd.off, (uint32_t)a->n, (uint32_t)a->c, (uint32_t)a->hw, has,
          a->eps, a->momentum};
  vk_dispatch(be, VKS_BN_TRAIN, spec, 1, b, 8, &pc, sizeof pc, (uint32_t)a->c, 1, 1);
}

void vk_batchnorm_bwd(mb_backend *mbe, const mb_bn_bwd_args *a)
{
  vk_be *be = VKB(mbe);
  if (be->base.status != MB_OK) return;
  uint32_t spec[] = {WG}, has = 0;
  vk_bind b[8] = {vk_bind_view(a->x), vk_bind_view(a->dy), vk_bind_view(a->gamma),
                  vk_bind_view(a->mean), vk_bind_view(a->invstd), bind_opt(be, a->dx, &has, 1),
                  bind_opt(be, a->dgamma, &has, 2), bind_opt(be, a->dbeta, &has, 4)};
  struct {
    uint32_t x_off, dy_off, g_off, m_off, i_off, dx_off, dg_off, db_off;
    uint32_t n, c, hw, train, has;
  } pc = {(uint32_t)a->x.off, (uint32_t)a->dy.off, (uint32_t)a->gamma.off, (uint32_t)a->mean.off,
          (uint32_t)a->invstd.off, (uint32_t)a->dx.off, (uint32_t)a->dgamma.off,
          (uint32_t)a->dbeta.off, (uint32_t)a->n, (uint32_t)a->c, (uint32_t)a->hw,
          a->mode == MB_BN_TRAIN, has};
  vk_dispatch(be, VKS_BN_BWD, spec, 1, b, 8, &pc, sizeof pc, (uint32_t)a->c, 1, 1);
}

/* Invocations per row of the layer-norm row shaders (a power of two for the tree). */
static uint32_t ln_wg(int c) { return c >= 1024 ? 256 : c >= 128 ? 64 : 32; }

void vk_layernorm(mb_backend *mbe, const mb_ln_args *a)
{
  vk_be *be = VKB(mbe);
  if (be->base.status != MB_OK) return;
  uint32_t spec[] = {ln_wg(a->c)}, has = 0;
  vk_bind b[6] = {vk_bind_view(a->x), vk_bind_view(a->y), vk_bind_view(a->gamma),
                  vk_bind_view(a->beta), bind_opt(be, a->save_mean, &has, 1),
                  bind_opt(be, a->save_rstd, &has, 2)};
  struct {
    uint32_t x_off, y_off, g_off, b_off, sm_off, sr_off, rows, c, has;
    float eps;
  } pc = {(uint32_t)a->x.off, (uint32_t)a->y.off, (uint32_t)a->gamma.off, (uint32_t)a->beta.off,
          (uint32_t)a->save_mean.off, (uint32_t)a->save_rstd.off, (uint32_t)a->rows,
          (uint32_t)a->c, has, a->eps};
  vk_dispatch(be, VKS_LN_FWD, spec, 1, b, 6, &pc, sizeof pc, (uint32_t)a->rows, 1, 1);
}

/* Rows per block of the dgamma/dbeta partials (the first of two passes). */
#define LN_COL_BLOCK 64

void vk_layernorm_bwd(mb_backend *mbe, const mb_ln_bwd_args *a)
{
  vk_be *be = VKB(mbe);
  if (be->base.status != MB_OK) return;
  const uint32_t rows = (uint32_t)a->rows, c = (uint32_t)a->c;
  uint32_t has = (a->dgamma.buf ? 2u : 0u) | (a->dbeta.buf ? 4u : 0u);
  /* the column sums first: dx may alias dy, which they read */
  if (has) {
    const uint32_t nblk = (rows + LN_COL_BLOCK - 1) / LN_COL_BLOCK;
    vk_buf *t = vk_temp(be, (size_t)nblk * 2 * c);
    if (!t) return;
    vk_bind tb = {.buf = t->buf, .view = VK_NULL_HANDLE, .owner = t};
    uint32_t spec[] = {WG};
    vk_bind b[5] = {vk_bind_view(a->x), vk_bind_view(a->dy), vk_bind_view(a->mean),
                    vk_bind_view(a->rstd), tb};
    struct { uint32_t x_off, dy_off, m_off, r_off, rows, c, block, n; } pc = {
      (uint32_t)a->x.off, (uint32_t)a->dy.off, (uint32_t)a->mean.off, (uint32_t)a->rstd.off,
      rows, c, LN_COL_BLOCK, nblk * c};
    vk_dispatch(be, VKS_LN_BWD_COLS, spec, 1, b, 5, &pc, sizeof pc, vk_groups((size_t)nblk * c, WG),
                1, 1);
    vk_bind f[3] = {tb, bind_opt(be, a->dgamma, &has, 0), bind_opt(be, a->dbeta, &has, 0)};
    struct { uint32_t dg_off, db_off, c, nblk, has; } pf = {
      (uint32_t)a->dgamma.off, (uint32_t)a->dbeta.off, c, nblk, has};
    vk_dispatch(be, VKS_LN_BWD_FINAL, spec, 1, f, 3, &pf, sizeof pf, vk_groups(c, WG), 1, 1);
  }
  if (!a->dx.buf) return;
  uint32_t spec[] = {ln_wg(a->c)};
  vk_bind b[6] = {vk_bind_view(a->x), vk_bind_view(a->dy), vk_bind_view(a->gamma),
                  vk_bind_view(a->mean), vk_bind_view(a->rstd), vk_bind_view(a->dx)};
  struct { uint32_t x_off, dy_off, g_off, m_off, r_off, dx_off, rows, c; } pc = {
    (uint32_t)a->x.off, (uint32_t)a->dy.off, (uint32_t)a->gamma.off, (uint32_t)a->mean.off,
    (uint32_t)a->rstd.off, (uint32_t)a->dx.off, rows, c};
  vk_dispatch(be, VKS_LN_BWD_DX, spec, 1, b, 6, &pc, sizeof pc, rows, 1, 1);
}
