/* A timed region (docs/architecture.md §7.5): the device is synced before the host
 * clock starts, the device timer is marked on the queue beside it, and both are read
 * after a second sync.  One helper, so every command times the same way. */
#ifndef MB_REGION_H
#define MB_REGION_H

#include "core/clock.h"
#include "core/ops.h"

typedef struct {
  mb_backend *be;
  double t0;        /* host clock at the start */
  mb_timer *tm;     /* device timer (host clock on backends without one) */
} mb_region;

static inline void mb_region_begin(mb_region *r, mb_backend *be)
{
  r->be = be;
  mb_sync(be);
  r->t0 = mb_now();
  r->tm = mb_timer_begin(be);
}

/* Ends the region: host seconds; *timer_ms gets the timer's reading (< 0 if
 * unreadable; a host reading on backends whose info says has_device_timer = 0). */
static inline double mb_region_end(mb_region *r, double *timer_ms)
{
  mb_timer_end(r->be, r->tm);
  mb_sync(r->be);
  double sec = mb_now() - r->t0;
  double ms = mb_timer_ms(r->be, r->tm);
  mb_timer_free(r->be, r->tm);
  if (timer_ms) *timer_ms = ms;
  return sec;
}

#endif
