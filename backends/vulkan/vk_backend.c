/* The Vulkan backend's op table: open/close, error reporting and small helpers.
 * The ops themselves live in one file per family (gemm.c, eltwise.c, reduce.c,
 * loss.c, gather.c, optim.c, rng.c, im2col.c), memory in vk_memory.c, recording and
 * timers in vk_cmd.c. */
#include "vk_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vk_result_name(VkResult r)
{
  switch (r) {
#define R(x) case x: return #x;
  R(VK_SUCCESS) R(VK_NOT_READY) R(VK_TIMEOUT) R(VK_INCOMPLETE)
  R(VK_ERROR_OUT_OF_HOST_MEMORY) R(VK_ERROR_OUT_OF_DEVICE_MEMORY)
  R(VK_ERROR_INITIALIZATION_FAILED) R(VK_ERROR_DEVICE_LOST) R(VK_ERROR_MEMORY_MAP_FAILED)
  R(VK_ERROR_LAYER_NOT_PRESENT) R(VK_ERROR_EXTENSION_NOT_PRESENT)
  R(VK_ERROR_FEATURE_NOT_PRESENT) R(VK_ERROR_INCOMPATIBLE_DRIVER)
  R(VK_ERROR_TOO_MANY_OBJECTS) R(VK_ERROR_FORMAT_NOT_SUPPORTED) R(VK_ERROR_FRAGMENTED_POOL)
  R(VK_ERROR_UNKNOWN) R(VK_ERROR_OUT_OF_POOL_MEMORY) R(VK_ERROR_INVALID_EXTERNAL_HANDLE)
  R(VK_ERROR_FRAGMENTATION) R(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
  R(VK_PIPELINE_COMPILE_REQUIRED)
#undef R
  default: return "VkResult";
  }
}

void vk_fail(vk_be *be, mb_status st, const char *fmt, ...)
{
  if (be->base.status != MB_OK) return;
  be->base.status = st;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(be->base.err, sizeof be->base.err, fmt, ap);
  va_end(ap);
}

int vk_check(vk_be *be, VkResult r, const char *what)
{
  if (r == VK_SUCCESS) return 1;
  mb_status st = r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY
                   ? MB_OOM : MB_DEVICE_ERROR;
  /* the errors a run meets on a full or failing device say so in words */
  const char *hint = r == VK_ERROR_OUT_OF_DEVICE_MEMORY ? ": out of device memory"
                     : r == VK_ERROR_OUT_OF_HOST_MEMORY ? ": out of host memory"
                     : r == VK_ERROR_DEVICE_LOST
                         ? ": the device was lost (driver reset or fault; the run stops here)"
                         : "";
  vk_fail(be, st, "%s: %s (%d)%s", what, vk_result_name(r), (int)r, hint);
  return 0;
}

vk_bind vk_bind_view(mb_view v)
{
  vk_buf *b = VKBUF(v.buf);
  return (vk_bind){.buf = b->buf, .view = VK_NULL_HANDLE, .owner = b};
}

vk_bind vk_bind_none(vk_be *be)
{
  return (vk_bind){.buf = be->dummy->buf, .view = VK_NULL_HANDLE, .owner = be->dummy};
}

uint32_t vk_groups(size_t n, uint32_t per) { return (uint32_t)((n + per - 1) / per); }

static void vk_close(mb_backend *mbe)
{
  vk_be *be = VKB(mbe);
  if (!be) return;
  if (be->dev) {
    vk_frame *f = vk_cur_frame(be);
    if (f->open) {   /* recorded but never asked for: dropped */
      vkEndCommandBuffer(f->cb);
      f->open = 0;
    }
    vkDeviceWaitIdle(be->dev);
    vk_frames_destroy(be);
    while (be->live) {   /* buffers the caller did not free */
      vk_buf *b = be->live;
      be->live = b->next;
      vk_buf_destroy(be, b);
    }
    if (be->dummy) vk_buf_destroy(be, be->dummy);
    if (be->tmp) vk_buf_destroy(be, be->tmp);
    vk_pipelines_destroy(be);
  }
  vk_device_close(be);
  free(be);
}

static mb_status vk_open(int device, mb_backend **out, char *why, size_t why_len)
{
  *out = NULL;
  if (why && why_len) why[0] = '\0';
  vk_be *be = calloc(1, sizeof *be);
  if (!be) {
    if (why && why_len) snprintf(why, why_len, "vulkan: out of host memory");
    return MB_OOM;
  }
  be->base.ops = &mb_vulkan_ops;
  be->base.status = MB_OK;
  mb_status st = vk_device_open(be, device, why, why_len);
  if (st == MB_OK && !vk_memory_init(be)) {
    if (why && why_len) snprintf(why, why_len, "%s: no usable memory type for storage buffers",
                                 be->props.deviceName);
    st = MB_DEVICE_ERROR;
  }
  if (st == MB_OK && vk_frames_init(be)) be->dummy = vk_buf_create(be, 16);
  if (st == MB_OK && be->base.status != MB_OK) {   /* includes validation messages */
    st = be->base.status;
    if (why && why_len) snprintf(why, why_len, "%s", be->base.err);
  }
  if (st != MB_OK) {
    vk_close(&be->base);
    return st;
  }
  *out = &be->base;
  return MB_OK;
}

static int vk_count(char *why, size_t why_len) { return vk_device_count(why, why_len); }

const mb_backend_ops mb_vulkan_ops = {
  .name = "vulkan",
  .abi = MB_ABI_VERSION,
  .device_count = vk_count,
  .open = vk_open,
  .close = vk_close,
  .alloc = vk_alloc,
  .free = vk_free,
  .upload = vk_upload,
  .download = vk_download,
  .copy = vk_copy,
  .fill = vk_fill,
#include "mb/ops_table.inc"
  .forget_update = vk_forget_update,
  .engine = "vulkan-fused",
  .sync = vk_sync,
  .timer_begin = vk_timer_begin,
  .timer_end = vk_timer_end,
  .timer_ms = vk_timer_ms,
  .timer_free = vk_timer_free,
};
