/* Timers: a pair of CUDA events recorded on the backend's stream (device clock). */
#include "cuda_internal.h"

#include <stdlib.h>

mb_timer *cu_timer_begin(mb_backend *be)
{
  if (!cu_begin(be, "timer_begin")) return NULL;
  mb_timer *t = calloc(1, sizeof *t);
  if (!t) {
    cu_fail(be, MB_OOM, "timer_begin", "out of host memory");
    return NULL;
  }
  if (!cu_check(be, "timer_begin", "cudaEventCreate", cudaEventCreate(&t->start))) {
    free(t);
    return NULL;
  }
  if (!cu_check(be, "timer_begin", "cudaEventCreate", cudaEventCreate(&t->stop)) ||
      !cu_check(be, "timer_begin", "cudaEventRecord",
                cudaEventRecord(t->start, cu_of(be)->stream))) {
    cu_timer_free(be, t);
    return NULL;
  }
  return t;
}

void cu_timer_end(mb_backend *be, mb_timer *t)
{
  if (!t || !cu_begin(be, "timer_end")) return;
  cu_check(be, "timer_end", "cudaEventRecord", cudaEventRecord(t->stop, cu_of(be)->stream));
}

double cu_timer_ms(mb_backend *be, mb_timer *t)
{
  if (!t || !cu_begin(be, "timer_ms")) return -1.0;
  float ms = 0.0f;
  cudaError_t e = cudaEventElapsedTime(&ms, t->start, t->stop);
  if (e != cudaSuccess) {
    /* Not recorded or not complete: unreadable, but not a backend failure. */
    (void)cudaGetLastError();
    return -1.0;
  }
  return (double)ms;
}

void cu_timer_free(mb_backend *be, mb_timer *t)
{
  if (!t) return;
  (void)cudaSetDevice(be->device_index);
  if (t->start) (void)cudaEventDestroy(t->start);
  if (t->stop) (void)cudaEventDestroy(t->stop);
  (void)cudaGetLastError();
  free(t);
}
