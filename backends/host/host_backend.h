/* What the two host backends (ref and cpu) share: sticky errors, 64-byte aligned
 * host buffers, transfers by memcpy, host-clock timers and the machine's memory
 * size.  Both run every op synchronously, so none of this needs a queue. */
#ifndef MB_HOST_BACKEND_H
#define MB_HOST_BACKEND_H

#include "mb/backend.h"

#include <stdint.h>

typedef struct {
  mb_buf base;
  void *data;
} host_buf;

/* Elements of a view (f32, i32 and u32 share the 4-byte element). */
static inline float *host_f32(mb_view v) { return (float *)((host_buf *)v.buf)->data + v.off; }
static inline int32_t *host_i32(mb_view v) { return (int32_t *)((host_buf *)v.buf)->data + v.off; }
static inline uint32_t *host_u32(mb_view v) { return (uint32_t *)((host_buf *)v.buf)->data + v.off; }

/* Records the first error (sticky); printf-style. */
void host_fail(mb_backend *be, mb_status st, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

mb_status host_alloc(mb_backend *be, size_t bytes, mb_buf **out);
void host_free(mb_backend *be, mb_buf *buf);
void host_upload(mb_backend *be, mb_view dst, const void *src, size_t bytes);
void host_download(mb_backend *be, void *dst, mb_view src, size_t bytes);
void host_sync(mb_backend *be);

mb_timer *host_timer_begin(mb_backend *be);
void host_timer_end(mb_backend *be, mb_timer *tm);
double host_timer_ms(mb_backend *be, mb_timer *tm);
void host_timer_free(mb_backend *be, mb_timer *tm);

/* Physical memory of the machine, 0 if unknown. */
uint64_t host_mem_bytes(void);

#endif
