/* SGEMM (shaders/gemm.comp, gemm_subgroup.comp, gemm_coopmat.comp).  Four designs;
 * vk_device.c picks one per device at open() from its type and features, and
 * MB_VK_GEMM forces one (docs/architecture.md, "Vulkan GEMM designs"):
 *  - TEXEL, CPU devices (lavapipe): A and B read as storage texel buffers, 16×8
 *    outputs per invocation, no shared memory (vulkan-gemm-on-lavapipe.md; about
 *    10× faster than TILED there).  rgba32f views of A, B and C when their leading
 *    dimensions, offsets and batch strides are multiples of 4; otherwise r32f views
 *    of A and B, and C as a storage buffer.  A matrix beyond maxTexelBufferElements
 *    takes TILED, which accepts any shape.
 *  - COOPMAT, GPUs with VK_NV_cooperative_matrix f32 fragments (or forced, with
 *    split f16 inputs): 4 subgroups of 2×2 fragments per work-group.
 *  - SUBGROUP, GPUs with subgroupShuffle: A passed between lanes, no shared memory.
 *  - TILED, other GPUs: shared-memory tiles of 128×128 (8×8 outputs per invocation)
 *    or 64×64 (4×4) for small matrices. */
#include "vk_internal.h"

typedef struct {
  int32_t m, n, k, lda, ldb, ldc;
  uint32_t a_off, b_off, c_off, sa, sb, sc;
  float alpha, beta;
} gemm_push;

/* Elements of a stored matrix: (rows−1)·ld + cols. */
static size_t span(int rows, int cols, int ld) { return (size_t)(rows - 1) * (size_t)ld + (size_t)cols; }

/* A view of b from element `off` on (rounded down to the view alignment), of
 * rgba32f (vec4) or r32f texels; *first is the view's first element.  NULL if
 * maxTexelBufferElements cannot cover `need` elements from `off`. */
static VkBufferView texel_view(vk_be *be, vk_buf *b, size_t off, size_t need, int vec4,
                               size_t *first)
{
  VkDeviceSize texel = vec4 ? 16 : 4;
  VkDeviceSize start = (VkDeviceSize)off * 4 / be->texel_align * be->texel_align;
  VkDeviceSize range = b->size - start;   /* both multiples of 16 */
  VkDeviceSize max = (VkDeviceSize)be->props.limits.maxTexelBufferElements * texel;
  if (range > max) range = max;
  if ((VkDeviceSize)off * 4 - start + (VkDeviceSize)need * 4 > range) return VK_NULL_HANDLE;
  VkBufferViewCreateInfo vi = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
    .buffer = b->buf,
    .format = vec4 ? VK_FORMAT_R32G32B32A32_SFLOAT : VK_FORMAT_R32_SFLOAT,
    .offset = start,
    .range = range,
  };
  VkBufferView v = VK_NULL_HANDLE;
  if (!vk_check(be, vkCreateBufferView(be->dev, &vi, NULL, &v), "gemm: vkCreateBufferView"))
    return VK_NULL_HANDLE;
  *first = (size_t)(start / 4);
  return v;
}

/* rgba32f views need every row of A, B and C to start on a 4-element boundary */
static int vec4_fits(const mb_gemm_args *a)
{
  int ok = a->lda % 4 == 0 && a->ldb % 4 == 0 && a->ldc % 4 == 0 && a->a.off % 4 == 0 &&
           a->b.off % 4 == 0 && a->c.off % 4 == 0;
  if (a->batch > 1) ok = ok && a->stride_a % 4 == 0 && a->stride_b % 4 == 0 && a->stride_c % 4 == 0;
  return ok;
}

/* 1 if done with the texel design; 0 to fall back (nothing recorded). */
static int gemm_texel(vk_be *be, const mb_gemm_args *a, gemm_push *pc)
{
  int vec4 = vec4_fits(a);
  size_t last = (size_t)(a->batch - 1);
  size_t need_a = last * (size_t)a->stride_a +
                  (a->trans_a ? span(a->k, a->m, a->lda) : span(a->m, a->k, a->lda));
  size_t need_b = last * (size_t)a->stride_b +
                  (a->trans_b ? span(a->n, a->k, a->ldb) : span(a->k, a->n, a->ldb));
  size_t need_c = last * (size_t)a->stride_c + span(a->m, a->n, a->ldc);
  size_t fa = 0, fb = 0, fc = 0;
  VkBufferView va = texel_view(be, VKBUF(a->a.buf), a->a.off, need_a, vec4, &fa);
  VkBufferView vb = va ? texel_view(be, VKBUF(a->b.buf), a->b.off, need_b, vec4, &fb) : VK_NULL_HANDLE;
  VkBufferView vc = vb && vec4 ? texel_view(be, VKBUF(a->c.buf), a->c.off, need_c, 1, &fc)
                               : VK_NULL_HANDLE;
  if (!va || !vb || (vec4 && !vc)) {
    if (va) vkDestroyBufferView(be->dev, va, NULL);
    if (vb) vkDestroyBufferView(be->dev, vb, NULL);
    return be->base.status != MB_OK;
  }
  pc->a_off = (uint32_t)(a->a.off - fa);
  pc->b_off = (uint32_t)(a->b.off - fb);
  vk_bind bind[] = {
    {.view = va, .owner = VKBUF(a->a.buf)},
    {.view = vb, .owner = VKBUF(a->b.buf)},
    vk_bind_view(a->c),
  };
  if (vec4) {
    pc->c_off = (uint32_t)(a->c.off - fc);
    bind[2].view = vc;
  }
  /* 8 invocations across (8 columns each), 8 down (16 rows each) */
  uint32_t spec[] = {8, 8, a->trans_a ? 1u : 0u, a->trans_b ? 1u : 0u};
  vk_dispatch(be, vec4 ? VKS_GEMM_TEXEL : VKS_GEMM_TEXEL1, spec, 4, bind, 3, pc, sizeof *pc,
              vk_groups((size_t)a->n, 64), vk_groups((size_t)a->m, 128), (uint32_t)a->batch);
  /* the frame that recorded the dispatch (or a later one) destroys them */
  vk_defer_view(be, va);
  vk_defer_view(be, vb);
  if (vc) vk_defer_view(be, vc);
  return 1;
}

/* The smallest power of two >= min(n, cap). */
static uint32_t pow2_upto(long n, uint32_t cap)
{
  uint32_t t = 1;
  while (t < cap && (long)t < n) t *= 2;
  return t;
}

/* 64 invocations share TM rows and own TN columns each: TM × 64·TN blocks, both
 * shrunk for small matrices so that few invocations idle past the edge. */
static void gemm_subgroup(vk_be *be, const mb_gemm_args *a, const gemm_push *pc)
{
  const uint32_t wg = 64;
  uint32_t tm = pow2_upto(a->m, 8), tn = pow2_upto((a->n + wg - 1) / wg, 4);
  vk_bind bind[] = {vk_bind_view(a->a), vk_bind_view(a->b), vk_bind_view(a->c)};
  uint32_t spec[] = {wg, 1, a->trans_a ? 1u : 0u, a->trans_b ? 1u : 0u, tm, tn};
  vk_dispatch(be, VKS_GEMM_SUBGROUP, spec, 6, bind, 3, pc, sizeof *pc,
              vk_groups((size_t)a->n, wg * tn), vk_groups((size_t)a->m, tm), (uint32_t)a->batch);
}

/* 4 subgroups of 2×2 fragments: (4·LM) × (4·LN) blocks of C. */
static void gemm_coopmat(vk_be *be, const mb_gemm_args *a, const gemm_push *pc)
{
  const vk_coopmat *cm = &be->coopmat;
  int f32 = cm->f32_m != 0;
  uint32_t lm = f32 ? cm->f32_m : cm->f16_m, ln = f32 ? cm->f32_n : cm->f16_n,
           lk = f32 ? cm->f32_k : cm->f16_k;
  vk_bind bind[] = {vk_bind_view(a->a), vk_bind_view(a->b), vk_bind_view(a->c)};
  uint32_t spec[] = {4 * be->subgroup_size, 1, a->trans_a ? 1u : 0u, a->trans_b ? 1u : 0u,
                     lm, ln, lk};
  vk_dispatch(be, f32 ? VKS_GEMM_COOPMAT32 : VKS_GEMM_COOPMAT16, spec, 7, bind, 3, pc, sizeof *pc,
              vk_groups((size_t)a->n, 4 * ln), vk_groups((size_t)a->m, 4 * lm), (uint32_t)a->batch);
}

void vk_gemm(mb_backend *mbe, const mb_gemm_args *a)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || a->m < 1 || a->n < 1 || a->k < 1 || a->batch < 1) return;
  gemm_push pc = {
    a->m, a->n, a->k, a->lda, a->ldb, a->ldc,
    (uint32_t)a->a.off, (uint32_t)a->b.off, (uint32_t)a->c.off,
    (uint32_t)a->stride_a, (uint32_t)a->stride_b, (uint32_t)a->stride_c,
    a->alpha, a->beta};
  if (be->gemm_why[0]) {
    vk_fail(be, MB_UNSUPPORTED, "gemm: %s", be->gemm_why);
    return;
  }
  switch (be->gemm) {
  case VK_GEMM_TEXEL:
    if (gemm_texel(be, a, &pc)) return;
    break;
  case VK_GEMM_SUBGROUP: gemm_subgroup(be, a, &pc); return;
  case VK_GEMM_COOPMAT: gemm_coopmat(be, a, &pc); return;
  case VK_GEMM_TILED: break;
  }
  /* 16×16 invocations; 8×8 outputs each (128×128 tiles, 16 KiB of shared memory) when
   * the matrix fills such tiles, else 4×4 so that small shapes still spread out */
  uint32_t t = a->m >= 128 && a->n >= 128 ? 8 : 4;
  vk_bind bind[] = {vk_bind_view(a->a), vk_bind_view(a->b), vk_bind_view(a->c)};
  uint32_t spec[] = {16, 16, a->trans_a ? 1u : 0u, a->trans_b ? 1u : 0u, t, t, 16};
  vk_dispatch(be, VKS_GEMM_TILED, spec, 7, bind, 3, &pc, sizeof pc, vk_groups((size_t)a->n, 16 * t),
              vk_groups((size_t)a->m, 16 * t), (uint32_t)a->batch);
}
