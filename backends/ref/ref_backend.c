/* The ref backend: plain single-threaded C on host memory, the oracle every other
 * backend is compared with.  Lifecycle, memory, ordering, timers and the op table. */
#include "ref_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ref_device_count(char *why, size_t why_len)
{
  if (why && why_len) why[0] = '\0';
  return 1;
}

static mb_status ref_open(int device, mb_backend **out, char *why, size_t why_len)
{
  *out = NULL;
  if (device != 0) {
    if (why && why_len) snprintf(why, why_len, "ref has one device (asked for %d)", device);
    return MB_NO_DEVICE;
  }
  ref_backend *rb = calloc(1, sizeof *rb);
  if (!rb) {
    if (why && why_len) snprintf(why, why_len, "ref: out of host memory");
    return MB_OOM;
  }
  mb_backend *be = &rb->base;
  be->ops = &mb_ref_ops;
  be->device_index = 0;
  be->status = MB_OK;
  mb_device_info *in = &be->info;
  snprintf(in->name, sizeof in->name, "reference (plain C, f64 accumulation)");
  snprintf(in->vendor, sizeof in->vendor, "host");
#ifdef __VERSION__
  snprintf(in->driver, sizeof in->driver, "C compiler %s", __VERSION__);
#else
  snprintf(in->driver, sizeof in->driver, "C compiler");
#endif
  snprintf(in->api, sizeof in->api, "C11");
  snprintf(in->type, sizeof in->type, "cpu");
  in->mem_bytes = host_mem_bytes();
  in->has_device_timer = 0;
  /* The oracle computes through the required ops by default, so its results are
   * those of the generic composition; its direct optional ops run where a caller
   * clears this (the agreement suite checks them against the composition). */
  be->engine_generic = 1;
  *out = be;
  if (why && why_len) why[0] = '\0';
  return MB_OK;
}

static void ref_close(mb_backend *be)
{
  free(be);
}

static void ref_copy(mb_backend *be, mb_view dst, mb_view src, size_t n)
{
  if (be->status != MB_OK || !n) return;
  memmove(host_f32(dst), host_f32(src), n * 4);
}

static void ref_fill(mb_backend *be, mb_view dst, size_t n, uint32_t bits)
{
  if (be->status != MB_OK) return;
  uint32_t *y = host_u32(dst);
  for (size_t i = 0; i < n; i++) y[i] = bits;
}

const mb_backend_ops mb_ref_ops = {
  .name = "ref",
  .abi = MB_ABI_VERSION,
  .device_count = ref_device_count,
  .open = ref_open,
  .close = ref_close,
  .alloc = host_alloc,
  .free = host_free,
  .upload = host_upload,
  .download = host_download,
  .copy = ref_copy,
  .fill = ref_fill,
#include "mb/ops_table.inc"
  .conv2d_fwd = ref_conv2d_fwd,
  .conv2d_bwd_data = ref_conv2d_bwd_data,
  .conv2d_bwd_filter = ref_conv2d_bwd_filter,
  .forget_update = ref_forget_update,
  .gemm_sq_acc = ref_gemm_sq_acc,
  .engine = "ref-direct",
  .sync = host_sync,
  .timer_begin = host_timer_begin,
  .timer_end = host_timer_end,
  .timer_ms = host_timer_ms,
  .timer_free = host_timer_free,
};
