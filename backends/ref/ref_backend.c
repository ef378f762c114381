/* The ref backend: plain single-threaded C on host memory, the oracle every other
 * backend is compared with.  Lifecycle, memory, ordering, timers and the op table. */
#include "ref_backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void ref_fail(mb_backend *be, mb_status st, const char *fmt, ...)
{
  if (be->status != MB_OK) return;
  be->status = st;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(be->err, sizeof be->err, fmt, ap);
  va_end(ap);
}

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
  long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
  in->mem_bytes = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : 0;
  in->has_device_timer = 0;
  *out = be;
  if (why && why_len) why[0] = '\0';
  return MB_OK;
}

static void ref_close(mb_backend *be)
{
  free(be);
}

static mb_status ref_alloc(mb_backend *be, size_t bytes, mb_buf **out)
{
  *out = NULL;
  if (be->status != MB_OK) return be->status;
  ref_buf *b = malloc(sizeof *b);
  /* aligned_alloc wants a multiple of the alignment */
  size_t padded = ((bytes ? bytes : 1) + 63) / 64 * 64;
  void *data = padded >= bytes ? aligned_alloc(64, padded) : NULL;
  if (!b || !data) {
    free(b);
    free(data);
    ref_fail(be, MB_OOM, "alloc: cannot allocate %zu bytes of host memory", bytes);
    return MB_OOM;
  }
  b->base.bytes = bytes;
  b->data = data;
  *out = &b->base;
  return MB_OK;
}

/* Freeing works even after an error, so callers can always clean up. */
static void ref_free(mb_backend *be, mb_buf *buf)
{
  (void)be;
  if (!buf) return;
  ref_buf *b = (ref_buf *)buf;
  free(b->data);
  free(b);
}

static void ref_upload(mb_backend *be, mb_view dst, const void *src, size_t bytes)
{
  if (be->status != MB_OK || !bytes) return;
  memcpy(ref_f32(dst), src, bytes);
}

static void ref_download(mb_backend *be, void *dst, mb_view src, size_t bytes)
{
  if (be->status != MB_OK || !bytes) return;
  memcpy(dst, ref_f32(src), bytes);
}

static void ref_copy(mb_backend *be, mb_view dst, mb_view src, size_t n)
{
  if (be->status != MB_OK || !n) return;
  memmove(ref_f32(dst), ref_f32(src), n * 4);
}

static void ref_fill(mb_backend *be, mb_view dst, size_t n, uint32_t bits)
{
  if (be->status != MB_OK) return;
  uint32_t *y = ref_u32(dst);
  for (size_t i = 0; i < n; i++) y[i] = bits;
}

/* Ops run synchronously, so there is nothing to wait for. */
static void ref_sync(mb_backend *be)
{
  (void)be;
}

/* Host monotonic clock: exact here because every op has finished when it returns. */
typedef struct {
  struct timespec t0, t1;
  int ended;
} ref_timer;

static mb_timer *ref_timer_begin(mb_backend *be)
{
  if (be->status != MB_OK) return NULL;
  ref_timer *t = calloc(1, sizeof *t);
  if (!t) {
    ref_fail(be, MB_OOM, "timer_begin: out of host memory");
    return NULL;
  }
  clock_gettime(CLOCK_MONOTONIC, &t->t0);
  return (mb_timer *)t;
}

static void ref_timer_end(mb_backend *be, mb_timer *tm)
{
  if (be->status != MB_OK || !tm) return;
  ref_timer *t = (ref_timer *)tm;
  clock_gettime(CLOCK_MONOTONIC, &t->t1);
  t->ended = 1;
}

static double ref_timer_ms(mb_backend *be, mb_timer *tm)
{
  ref_timer *t = (ref_timer *)tm;
  if (be->status != MB_OK || !t || !t->ended) return -1.0;
  return (double)(t->t1.tv_sec - t->t0.tv_sec) * 1e3 + (double)(t->t1.tv_nsec - t->t0.tv_nsec) * 1e-6;
}

static void ref_timer_free(mb_backend *be, mb_timer *tm)
{
  (void)be;
  free(tm);
}

const mb_backend_ops mb_ref_ops = {
  .name = "ref",
  .abi = MB_ABI_VERSION,
  .device_count = ref_device_count,
  .open = ref_open,
  .close = ref_close,
  .alloc = ref_alloc,
  .free = ref_free,
  .upload = ref_upload,
  .download = ref_download,
  .copy = ref_copy,
  .fill = ref_fill,
  .gemm = ref_gemm,
  .unary = ref_unary,
  .binary = ref_binary,
  .where = ref_where,
  .bcast = ref_bcast,
  .reduce = ref_reduce,
  .seg_reduce = ref_seg_reduce,
  .seg_bcast = ref_seg_bcast,
  .softmax_xent = ref_softmax_xent,
  .gather_rows = ref_gather_rows,
  .optim = ref_optim,
  .rng = ref_rng,
  .im2col = ref_im2col,
  .col2im = ref_col2im,
  .batchnorm = ref_batchnorm,
  .batchnorm_bwd = ref_batchnorm_bwd,
  .pool = ref_pool,
  .pool_bwd = ref_pool_bwd,
  .sync = ref_sync,
  .timer_begin = ref_timer_begin,
  .timer_end = ref_timer_end,
  .timer_ms = ref_timer_ms,
  .timer_free = ref_timer_free,
};
