/* Batch norm's per-run loops, one table per instruction set (norm_runs.c). */
#ifndef MB_CPU_NORM_RUNS_H
#define MB_CPU_NORM_RUNS_H

#include <stddef.h>

#define CPU_NORM_LANES 8

typedef struct {
  const char *isa;   /* "baseline" or "avx2" */
  void (*sum)(double *acc, const float *x, size_t c);
  void (*sq_dev)(double *acc, const float *x, size_t c, double mean);
  void (*dy)(double *sdy, double *sdyx, const float *dy, const float *x, size_t c, double mean,
             double invstd);
  void (*apply)(float *y, const float *x, size_t c, float mean, float k, float b);
  void (*dx)(float *dx, const float *dy, const float *x, size_t c, float k, float c1, float mean,
             float invstd, float c2);
} cpu_norm_runs;

extern const cpu_norm_runs cpu_norm_runs_baseline;
#ifdef MB_CPU_AVX2
extern const cpu_norm_runs cpu_norm_runs_avx2;
#endif

/* The table for this CPU: AVX2 where the build has it and the CPU runs it, else the
 * baseline; MB_CPU_ISA=baseline|avx2 forces one.  NULL with a reason in why when the
 * forced set cannot run here or the name is unknown. */
const cpu_norm_runs *cpu_norm_runs_pick(char *why, size_t why_len);

#endif
