/* Optimizer steps (shaders/optim.comp) over flat buffers.  Adam's bias corrections
 * 1 − β^t are computed here in double, then rounded to f32 for the shader. */
#include "vk_internal.h"

#include <math.h>

#define WG 256

void vk_optim(mb_backend *mbe, const mb_optim_args *a)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || a->n == 0) return;
  int adam = a->kind == MB_OPT_ADAM;
  if (!adam && a->kind != MB_OPT_SGD) {
    vk_fail(be, MB_BAD_ARG, "optim: unknown optimizer %d", (int)a->kind);
    return;
  }
  double t = adam ? (double)a->t : 1.0;
  struct {
    uint32_t n, w_off, g_off, m_off, v_off;
    float lr, wd, mom, keep;
    uint32_t first;
    float b1, b2, c1, c2, bc1, bc2, eps;
  } pc = {
    (uint32_t)a->n, (uint32_t)a->w.off, (uint32_t)a->g.off, (uint32_t)a->m.off,
    adam ? (uint32_t)a->v.off : 0u,
    a->lr, a->weight_decay, a->momentum, 1.0f - a->dampening,
    a->first_step ? 1u : 0u,
    a->beta1, a->beta2, 1.0f - a->beta1, 1.0f - a->beta2,
    (float)(1.0 - pow((double)a->beta1, t)), (float)(1.0 - pow((double)a->beta2, t)), a->eps};
  vk_bind bind[] = {vk_bind_view(a->w), vk_bind_view(a->g), vk_bind_view(a->m),
                    adam ? vk_bind_view(a->v) : vk_bind_none(be)};
  uint32_t spec[] = {WG, adam ? 1u : 0u};
  vk_dispatch(be, VKS_OPTIM, spec, 2, bind, 4, &pc, sizeof pc, vk_groups(a->n, WG), 1, 1);
}
