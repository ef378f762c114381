/* Buffers and transfers.
 *
 * Buffers live in device-local memory.  Where that memory is also host-visible and
 * coherent (lavapipe, integrated GPUs) it is mapped once and uploads/downloads are
 * plain memcpy whenever no recorded or running command uses the buffer; otherwise
 * the data goes through host-visible staging memory of the recording frame and a
 * recorded copy, so transfers keep their place in the queue order. */
#include "vk_internal.h"

#include <stdlib.h>
#include <string.h>

#define BUF_USAGE (VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT | \
                   VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT)
#define STAGE_USAGE (VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | \
                     VK_BUFFER_USAGE_TRANSFER_DST_BIT)

/* First memory type in `bits` that has all of `want` and none of `avoid`. */
static int find_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t bits,
                     VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid)
{
  for (uint32_t i = 0; i < mp->memoryTypeCount; i++) {
    VkMemoryPropertyFlags f = mp->memoryTypes[i].propertyFlags;
    if ((bits & (1u << i)) && (f & want) == want && !(f & avoid)) return (int)i;
  }
  return -1;
}

static uint32_t type_bits(vk_be *be, VkBufferUsageFlags usage)
{
  VkBufferCreateInfo bci = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
    .size = 256,
    .usage = usage,
    .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  VkBuffer b;
  if (vkCreateBuffer(be->dev, &bci, NULL, &b) != VK_SUCCESS) return 0;
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(be->dev, b, &req);
  vkDestroyBuffer(be->dev, b, NULL);
  return req.memoryTypeBits;
}

int vk_memory_init(vk_be *be)
{
  const VkPhysicalDeviceMemoryProperties *mp = &be->memprops;
  const VkMemoryPropertyFlags DL = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                              HV = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                              HC = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                              CA = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
  uint32_t bits = type_bits(be, BUF_USAGE);
  int t = -1;
  VkPhysicalDeviceType dt = be->props.deviceType;
  if (dt == VK_PHYSICAL_DEVICE_TYPE_CPU || dt == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU) {
    /* one memory: map it and skip the staging copies */
    t = find_type(mp, bits, DL | HV | HC, 0);
    if (t < 0) t = find_type(mp, bits, HV | HC, 0);
  } else {
    /* a discrete GPU's host-visible device memory is the small BAR window: keep it free */
    t = find_type(mp, bits, DL, HV);
  }
  if (t < 0) t = find_type(mp, bits, DL, 0);
  if (t < 0) t = find_type(mp, bits, 0, 0);
  if (t < 0) return 0;
  be->mem_device = (uint32_t)t;
  VkMemoryPropertyFlags f = mp->memoryTypes[t].propertyFlags;
  be->device_mapped = (f & (HV | HC)) == (HV | HC);

  bits = type_bits(be, STAGE_USAGE);
  int s = find_type(mp, bits, HV | HC | CA, 0);
  if (s < 0) s = find_type(mp, bits, HV | HC, 0);
  if (s < 0) return 0;
  be->mem_staging = (uint32_t)s;
  return 1;
}

/* Buffer + memory of `size` bytes from memory type `type`; maps it when asked. */
static VkResult make_buffer(vk_be *be, VkDeviceSize size, VkBufferUsageFlags usage, uint32_t type,
                            int map, VkBuffer *buf, VkDeviceMemory *mem, void **ptr)
{
  *buf = VK_NULL_HANDLE;
  *mem = VK_NULL_HANDLE;
  *ptr = NULL;
  VkBufferCreateInfo bci = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
    .size = size,
    .usage = usage,
    .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  VkResult r = vkCreateBuffer(be->dev, &bci, NULL, buf);
  if (r != VK_SUCCESS) return r;
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(be->dev, *buf, &req);
  if (!(req.memoryTypeBits & (1u << type))) {
    vkDestroyBuffer(be->dev, *buf, NULL);
    *buf = VK_NULL_HANDLE;
    return VK_ERROR_FEATURE_NOT_PRESENT;
  }
  VkMemoryAllocateInfo mai = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
    .allocationSize = req.size,
    .memoryTypeIndex = type,
  };
  r = vkAllocateMemory(be->dev, &mai, NULL, mem);
  if (r == VK_SUCCESS) r = vkBindBufferMemory(be->dev, *buf, *mem, 0);
  if (r == VK_SUCCESS && map) r = vkMapMemory(be->dev, *mem, 0, VK_WHOLE_SIZE, 0, ptr);
  if (r != VK_SUCCESS) {
    vkDestroyBuffer(be->dev, *buf, NULL);
    if (*mem) vkFreeMemory(be->dev, *mem, NULL);
    *buf = VK_NULL_HANDLE;
    *mem = VK_NULL_HANDLE;
    *ptr = NULL;
  }
  return r;
}

vk_buf *vk_buf_create(vk_be *be, size_t bytes)
{
  /* whole 16-byte texels, so a vec4 load that starts inside the data stays inside */
  VkDeviceSize size = ((VkDeviceSize)(bytes ? bytes : 4) + 15) & ~(VkDeviceSize)15;
  VkDeviceSize range = be->props.limits.maxStorageBufferRange;
  if (size > range) {
    vk_fail(be, MB_OOM,
            "alloc: %zu bytes exceed this device's maxStorageBufferRange (%llu bytes), the most "
            "one shader binding can address", bytes, (unsigned long long)range);
    return NULL;
  }
  vk_buf *b = calloc(1, sizeof *b);
  if (!b) {
    vk_fail(be, MB_OOM, "alloc: out of host memory");
    return NULL;
  }
  VkResult r = make_buffer(be, size, BUF_USAGE, be->mem_device, be->device_mapped, &b->buf, &b->mem,
                           &b->map);
  if (r != VK_SUCCESS) {
    free(b);
    vk_fail(be, r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY
                  ? MB_OOM : MB_DEVICE_ERROR,
            "alloc: %zu bytes: %s (%d)", bytes, vk_result_name(r), (int)r);
    return NULL;
  }
  b->base.bytes = bytes;
  b->size = size;
  return b;
}

void vk_buf_destroy(vk_be *be, vk_buf *b)
{
  vkDestroyBuffer(be->dev, b->buf, NULL);
  vkFreeMemory(be->dev, b->mem, NULL);
  free(b);
}

mb_status vk_alloc(mb_backend *mbe, size_t bytes, mb_buf **out)
{
  vk_be *be = VKB(mbe);
  *out = NULL;
  if (mbe->status != MB_OK) return mbe->status;
  vk_buf *b = vk_buf_create(be, bytes);
  if (!b) return mbe->status;
  b->next = be->live;
  if (be->live) be->live->prev = b;
  be->live = b;
  *out = &b->base;
  return MB_OK;
}

void vk_buf_release(vk_be *be, vk_buf *b)
{
  if (b->prev) b->prev->next = b->next;
  else if (be->live == b) be->live = b->next;
  if (b->next) b->next->prev = b->prev;
  if (vk_buf_busy(be, b)) {
    vk_defer_buffer(be, b->buf, b->mem);
    free(b);
  } else {
    vk_buf_destroy(be, b);
  }
}

void vk_free(mb_backend *mbe, mb_buf *buf)
{
  if (buf) vk_buf_release(VKB(mbe), VKBUF(buf));
}

void vk_chunk_destroy(vk_be *be, vk_chunk *c)
{
  if (c->buf) vkDestroyBuffer(be->dev, c->buf, NULL);
  if (c->mem) vkFreeMemory(be->dev, c->mem, NULL);
  memset(c, 0, sizeof *c);
}

void *vk_scratch(vk_be *be, VkDeviceSize bytes, VkBuffer *buf, VkDeviceSize *off)
{
  if (!vk_cmd(be)) return NULL;
  vk_frame *f = vk_cur_frame(be);
  bytes = (bytes + 63) & ~(VkDeviceSize)63;
  for (int i = 0; i < f->nchunks; i++) {
    vk_chunk *c = &f->chunks[i];
    if (c->size - c->used >= bytes) {
      *buf = c->buf;
      *off = c->used;
      c->used += bytes;
      return (char *)c->map + *off;
    }
  }
  if (f->nchunks == f->cchunks) {
    int nc = f->cchunks ? 2 * f->cchunks : 4;
    vk_chunk *p = realloc(f->chunks, (size_t)nc * sizeof *p);
    if (!p) {
      vk_fail(be, MB_OOM, "staging: out of host memory");
      return NULL;
    }
    f->chunks = p;
    f->cchunks = nc;
  }
  vk_chunk *c = &f->chunks[f->nchunks];
  memset(c, 0, sizeof *c);
  c->size = bytes > MBVK_CHUNK_BYTES ? bytes : MBVK_CHUNK_BYTES;
  VkResult r = make_buffer(be, c->size, STAGE_USAGE, be->mem_staging, 1, &c->buf, &c->mem, &c->map);
  if (r != VK_SUCCESS) {
    vk_fail(be, r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY
                  ? MB_OOM : MB_DEVICE_ERROR,
            "staging: %llu bytes: %s (%d)", (unsigned long long)c->size, vk_result_name(r), (int)r);
    return NULL;
  }
  f->nchunks++;
  *buf = c->buf;
  *off = 0;
  c->used = bytes;
  return c->map;
}

static void record_copy(vk_be *be, VkBuffer src, VkDeviceSize soff, VkBuffer dst, VkDeviceSize doff,
                        VkDeviceSize bytes)
{
  VkCommandBuffer cb = vk_cmd(be);
  if (!cb) return;
  VkBufferCopy region = {.srcOffset = soff, .dstOffset = doff, .size = bytes};
  vkCmdCopyBuffer(cb, src, dst, 1, &region);
  vk_cmd_done(be);
}

void vk_upload(mb_backend *mbe, mb_view dst, const void *src, size_t bytes)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || bytes == 0) return;
  vk_buf *b = VKBUF(dst.buf);
  VkDeviceSize off = (VkDeviceSize)dst.off * 4;
  if (b->map && !vk_buf_busy(be, b)) {
    memcpy((char *)b->map + off, src, bytes);
    return;
  }
  VkBuffer sb;
  VkDeviceSize so;
  void *p = vk_scratch(be, bytes, &sb, &so);
  if (!p) return;
  memcpy(p, src, bytes);
  vk_touch(be, b);
  record_copy(be, sb, so, b->buf, off, bytes);
}

void vk_download(mb_backend *mbe, void *dst, mb_view src, size_t bytes)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || bytes == 0) return;
  vk_buf *b = VKBUF(src.buf);
  VkDeviceSize off = (VkDeviceSize)src.off * 4;
  if (b->map) {
    if (vk_buf_busy(be, b)) vk_wait_serial(be, b->use_serial);
    if (mbe->status == MB_OK) memcpy(dst, (const char *)b->map + off, bytes);
    return;
  }
  VkBuffer sb;
  VkDeviceSize so;
  void *p = vk_scratch(be, bytes, &sb, &so);
  if (!p) return;
  /* the frame that holds the staging memory is not recycled by the wait */
  uint64_t s = vk_cur_frame(be)->serial;
  vk_touch(be, b);
  record_copy(be, b->buf, off, sb, so, bytes);
  vk_wait_serial(be, s);
  if (mbe->status == MB_OK) memcpy(dst, p, bytes);
}

void vk_copy(mb_backend *mbe, mb_view dst, mb_view src, size_t n)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || n == 0) return;
  if (dst.buf == src.buf && dst.off == src.off) return;
  vk_buf *d = VKBUF(dst.buf), *s = VKBUF(src.buf);
  if (!vk_cmd(be)) return;
  vk_touch(be, d);
  vk_touch(be, s);
  VkDeviceSize bytes = (VkDeviceSize)n * 4;
  if (dst.buf == src.buf && dst.off < src.off + n && src.off < dst.off + n) {
    /* overlapping regions of one buffer are undefined for vkCmdCopyBuffer, the
     * contract says memmove (backend.h): through the frame's staging memory (each
     * copy is followed by a barrier, vk_cmd_done) */
    VkBuffer tb;
    VkDeviceSize to;
    if (!vk_scratch(be, bytes, &tb, &to)) return;
    record_copy(be, s->buf, (VkDeviceSize)src.off * 4, tb, to, bytes);
    record_copy(be, tb, to, d->buf, (VkDeviceSize)dst.off * 4, bytes);
    return;
  }
  record_copy(be, s->buf, (VkDeviceSize)src.off * 4, d->buf, (VkDeviceSize)dst.off * 4, bytes);
}

void vk_fill(mb_backend *mbe, mb_view dst, size_t n, uint32_t bits)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || n == 0) return;
  vk_buf *d = VKBUF(dst.buf);
  VkCommandBuffer cb = vk_cmd(be);
  if (!cb) return;
  vk_touch(be, d);
  vkCmdFillBuffer(cb, d->buf, (VkDeviceSize)dst.off * 4, (VkDeviceSize)n * 4, bits);
  vk_cmd_done(be);
}
