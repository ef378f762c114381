/* Memory, transfers, ordering and timers of the host backends (ref, cpu). */
#include "host_backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void host_fail(mb_backend *be, mb_status st, const char *fmt, ...)
{
  if (be->status != MB_OK) return;
  be->status = st;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(be->err, sizeof be->err, fmt, ap);
  va_end(ap);
}

mb_status host_alloc(mb_backend *be, size_t bytes, mb_buf **out)
{
  *out = NULL;
  if (be->status != MB_OK) return be->status;
  host_buf *b = malloc(sizeof *b);
  /* aligned_alloc wants a multiple of the alignment */
  size_t padded = ((bytes ? bytes : 1) + 63) / 64 * 64;
  void *data = padded >= bytes ? aligned_alloc(64, padded) : NULL;
  if (!b || !data) {
    free(b);
    free(data);
    host_fail(be, MB_OOM, "alloc: cannot allocate %zu bytes of host memory", bytes);
    return MB_OOM;
  }
  b->base.bytes = bytes;
  b->data = data;
  *out = &b->base;
  return MB_OK;
}

/* Freeing works even after an error, so callers can always clean up. */
void host_free(mb_backend *be, mb_buf *buf)
{
  (void)be;
  if (!buf) return;
  host_buf *b = (host_buf *)buf;
  free(b->data);
  free(b);
}

void host_upload(mb_backend *be, mb_view dst, const void *src, size_t bytes)
{
  if (be->status != MB_OK || !bytes) return;
  memcpy(host_f32(dst), src, bytes);
}

void host_download(mb_backend *be, void *dst, mb_view src, size_t bytes)
{
  if (be->status != MB_OK || !bytes) return;
  memcpy(dst, host_f32(src), bytes);
}

/* Ops run synchronously, so there is nothing to wait for. */
void host_sync(mb_backend *be)
{
  (void)be;
}

/* Host monotonic clock: exact here because every op has finished when it returns. */
typedef struct {
  struct timespec t0, t1;
  int ended;
} host_timer;

mb_timer *host_timer_begin(mb_backend *be)
{
  if (be->status != MB_OK) return NULL;
  host_timer *t = calloc(1, sizeof *t);
  if (!t) {
    host_fail(be, MB_OOM, "timer_begin: out of host memory");
    return NULL;
  }
  clock_gettime(CLOCK_MONOTONIC, &t->t0);
  return (mb_timer *)t;
}

void host_timer_end(mb_backend *be, mb_timer *tm)
{
  if (be->status != MB_OK || !tm) return;
  host_timer *t = (host_timer *)tm;
  clock_gettime(CLOCK_MONOTONIC, &t->t1);
  t->ended = 1;
}

double host_timer_ms(mb_backend *be, mb_timer *tm)
{
  host_timer *t = (host_timer *)tm;
  if (be->status != MB_OK || !t || !t->ended) return -1.0;
  return (double)(t->t1.tv_sec - t->t0.tv_sec) * 1e3 + (double)(t->t1.tv_nsec - t->t0.tv_nsec) * 1e-6;
}

void host_timer_free(mb_backend *be, mb_timer *tm)
{
  (void)be;
  free(tm);
}

uint64_t host_mem_bytes(void)
{
  long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
  return pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : 0;
}
