/* The optional fused forgetting update: shaders/forget.comp, five dispatches (three passes
 * over the data, two per-segment merges) instead of the op chain's fourteen.  The chunk
 * table goes to the device through the frame's host-visible scratch; partials, the
 * segments' largest log-ratios and their α live in the device scratch be->tmp:
 * [nchunks partials][nseg m][nseg α], then r and η when no output can carry them. */
#include "vk_internal.h"

#define WG_FORGET 256
#define FG_CHUNK 4096       /* elements per work-group and pass */
#define MAX_GROUPS 65535u   /* the dispatch size every device allows; shaders loop over the rest */

enum { FG_DELTA = 1, FG_PLUS = 2, FG_MINUS = 4 };   /* as forget.comp */

void vk_forget_update(mb_backend *mbe, const mb_forget_args *a)
{
  vk_be *be = VKB(mbe);
  const int nseg = a->nseg;
  if (mbe->status != MB_OK || nseg < 1) return;
  size_t nchunks = 0;
  for (int s = 0; s < nseg; s++) nchunks += (a->offs[s + 1] - a->offs[s] + FG_CHUNK - 1) / FG_CHUNK;
  if (!nchunks) return;   /* no elements: nothing is written */

  /* r and η between the passes: in delta, else plus, else minus unless it is w (which
   * pass 3 reads), else in the scratch after the per-segment values */
  const mb_view tv = a->delta.buf ? a->delta : a->plus.buf ? a->plus : a->minus;
  const int in_scratch = !tv.buf || (tv.buf == a->w.buf && tv.off == a->w.off);
  /* per chunk {first element, end, segment}, then each segment's first chunk */
  VkBuffer tbuf;
  VkDeviceSize toff;
  uint32_t *t = vk_scratch(be, (VkDeviceSize)(3 * nchunks + (size_t)nseg + 1) * 4, &tbuf, &toff);
  vk_buf *part = vk_temp(be, nchunks + 2 * (size_t)nseg + (in_scratch ? a->offs[nseg] : 0));
  if (!t || !part) return;
  uint32_t *first = t + 3 * nchunks;
  size_t c = 0;
  for (int s = 0; s < nseg; s++) {
    first[s] = (uint32_t)c;
    for (size_t e = a->offs[s]; e < a->offs[s + 1]; e += FG_CHUNK, c++) {
      t[3 * c] = (uint32_t)e;
      t[3 * c + 1] = (uint32_t)(a->offs[s + 1] - e < FG_CHUNK ? a->offs[s + 1] : e + FG_CHUNK);
      t[3 * c + 2] = (uint32_t)s;
    }
  }
  first[nseg] = (uint32_t)c;

  const uint32_t c_off = (uint32_t)(toff / 4), mo = (uint32_t)nchunks, ao = mo + (uint32_t)nseg;
  const vk_bind tb = {.buf = tbuf, .view = VK_NULL_HANDLE, .owner = NULL};
  const vk_bind pb = {.buf = part->buf, .view = VK_NULL_HANDLE, .owner = part};
  /* absent outputs are bound to the dummy buffer and flagged off */
  const vk_bind plus = a->plus.buf ? vk_bind_view(a->plus) : vk_bind_none(be);
  const vk_bind minus = a->minus.buf ? vk_bind_view(a->minus) : vk_bind_none(be);
  const uint32_t flags = (a->delta.buf ? FG_DELTA : 0) | (a->plus.buf ? FG_PLUS : 0) |
                         (a->minus.buf ? FG_MINUS : 0);
  const vk_bind pass_bind[8] = {tb, pb, vk_bind_view(a->f_forget), vk_bind_view(a->f_remain),
                                vk_bind_view(a->w), in_scratch ? pb : vk_bind_view(tv), plus, minus};
  struct {
    uint32_t ff_off, fr_off, w_off, t_off, p_off, m_off, c_off, nchunks, flags, mo, ao;
    float sf, sr, one, mone, zero;
  } pc = {(uint32_t)a->f_forget.off, (uint32_t)a->f_remain.off, (uint32_t)a->w.off,
          in_scratch ? ao + (uint32_t)nseg : (uint32_t)tv.off, (uint32_t)a->plus.off,
          (uint32_t)a->minus.off, c_off, (uint32_t)nchunks, flags, mo, ao, a->scale_forget,
          a->scale_remain, 1.0f, -1.0f, 0.0f};
  struct {
    uint32_t f_off, nseg, out_off, alpha;
    float l1, l2, zero;
  } mpc = {c_off + 3 * (uint32_t)nchunks, (uint32_t)nseg, mo, 0, a->lambda1, a->lambda2, 0.0f};
  const vk_bind merge_bind[2] = {tb, pb};
  const uint32_t groups = nchunks < MAX_GROUPS ? (uint32_t)nchunks : MAX_GROUPS;
  const uint32_t mgroups = (uint32_t)nseg < MAX_GROUPS ? (uint32_t)nseg : MAX_GROUPS;
  /* a few invocations cover a segment's partials (about nchunks / nseg of them) */
  uint32_t mwg = 1;
  while (mwg < 256 && mwg < (nchunks + (size_t)nseg - 1) / (size_t)nseg) mwg *= 2;

  for (uint32_t pass = 1; pass <= 3; pass++) {
    const uint32_t spec[] = {WG_FORGET, pass};
    vk_dispatch(be, VKS_FG_PASS, spec, 2, pass_bind, 8, &pc, sizeof pc, groups, 1, 1);
    if (pass == 3) break;
    const uint32_t mspec[] = {mwg};
    mpc.out_off = pass == 1 ? mo : ao;
    mpc.alpha = pass == 2;
    vk_dispatch(be, VKS_FG_MERGE, mspec, 1, merge_bind, 2, &mpc, sizeof mpc, mgroups, 1, 1);
  }
}
