/* Softmax cross-entropy and row softmax (shaders/loss.comp): one work-group per row.  Absent
 * outputs are bound to a dummy buffer and masked off by a flag. */
#include "vk_internal.h"

#include <stddef.h>

void vk_softmax_xent(mb_backend *mbe, const mb_xent_args *a)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || a->rows < 1 || a->cols < 1) return;
  int has_loss = a->loss.buf != NULL, has_dl = a->dlogits.buf != NULL, has_pr = a->probs.buf != NULL;
  if (!has_loss && !has_dl && !has_pr) return;
  struct { uint32_t rows, cols, lg_off, lb_off, loss_off, dl_off, pr_off, want; float scale; } pc = {
    (uint32_t)a->rows, (uint32_t)a->cols, (uint32_t)a->logits.off, (uint32_t)a->labels.off,
    (uint32_t)a->loss.off, (uint32_t)a->dlogits.off, (uint32_t)a->probs.off,
    (uint32_t)(has_loss | has_dl << 1 | has_pr << 2), a->scale};
  vk_bind bind[] = {
    vk_bind_view(a->logits), vk_bind_view(a->labels),
    has_loss ? vk_bind_view(a->loss) : vk_bind_none(be),
    has_dl ? vk_bind_view(a->dlogits) : vk_bind_none(be),
    has_pr ? vk_bind_view(a->probs) : vk_bind_none(be),
  };
  /* wide rows get more invocations per row; the tree needs a power of two */
  uint32_t wg = a->cols >= 1024 ? 256 : a->cols >= 128 ? 64 : 32;
  uint32_t spec[] = {wg};
  vk_dispatch(be, VKS_XENT, spec, 1, bind, 5, &pc, sizeof pc, (uint32_t)a->rows, 1, 1);
}

/* Row softmax and its backward (loss.comp SOFTMAX, SOFTMAX_BWD): one work-group per row,
 * sized to the row as softmax_xent's. */
static uint32_t row_wg(int cols) { return cols >= 1024 ? 256 : cols >= 128 ? 64 : 32; }

void vk_softmax(mb_backend *mbe, const mb_softmax_args *a)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK) return;
  struct { uint32_t rows, cols, x_off, y_off; } pc = {
    (uint32_t)a->rows, (uint32_t)a->cols, (uint32_t)a->x.off, (uint32_t)a->y.off};
  vk_bind bind[] = {vk_bind_view(a->x), vk_bind_view(a->y)};
  uint32_t spec[] = {row_wg(a->cols)};
  vk_dispatch(be, VKS_SOFTMAX, spec, 1, bind, 2, &pc, sizeof pc, (uint32_t)a->rows, 1, 1);
}

void vk_softmax_bwd(mb_backend *mbe, const mb_softmax_args *a)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK) return;
  struct { uint32_t rows, cols, y_off, dy_off, dx_off; } pc = {
    (uint32_t)a->rows, (uint32_t)a->cols, (uint32_t)a->y.off, (uint32_t)a->dy.off,
    (uint32_t)a->dx.off};
  vk_bind bind[] = {vk_bind_view(a->y), vk_bind_view(a->dy), vk_bind_view(a->dx)};
  uint32_t spec[] = {row_wg(a->cols)};
  vk_dispatch(be, VKS_SOFTMAX_BWD, spec, 1, bind, 3, &pc, sizeof pc, (uint32_t)a->rows, 1, 1);
}
