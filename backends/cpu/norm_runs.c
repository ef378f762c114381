/* Batch norm's loops over one contiguous run (an image's plane of one channel), built
 * once per instruction set: meson compiles this file for the baseline ISA and, on
 * x86-64, again with -mavx2 (CPU_RUNS_ISA names the table).  cpu_norm_runs_pick chooses
 * at open.
 *
 * A sum goes into 8 lanes (lane k takes the elements j ≡ k mod 8 of each run; the caller
 * adds the lanes up in a fixed tree), held as two vectors of four doubles, so the loops
 * run several lanes an instruction, each lane adding in the order a scalar loop would;
 * the tail of a run goes to lanes 0, 1, … one element at a time.  Every operation is an
 * IEEE double or float add, subtract or multiply (-ffp-contract=off: no FMA), so both
 * builds give the same bits, which the cpu_ops test checks. */
#include "norm_runs.h"

#include <string.h>

#ifndef CPU_RUNS_ISA
#define CPU_RUNS_ISA baseline
#endif
#define RUNS_CAT(a, b) a##b
#define RUNS_TABLE(isa) RUNS_CAT(cpu_norm_runs_, isa)
#define RUNS_STR(isa) RUNS_STR2(isa)
#define RUNS_STR2(isa) #isa

typedef double v4d __attribute__((vector_size(32)));
typedef float v4f_u __attribute__((vector_size(16), aligned(4), may_alias));

/* four floats widened (a macro: a function returning a 32-byte vector has an ABI that
 * depends on the ISA, which the two builds differ in) */
#define LOAD4(p) __builtin_convertvector(*(const v4f_u *)(const void *)(p), v4d)

/* acc[j mod 8] += x[j] */
static void run_sum(double *acc, const float *x, size_t c)
{
  v4d s0, s1;
  memcpy(&s0, acc, sizeof s0);
  memcpy(&s1, acc + 4, sizeof s1);
  size_t j = 0;
  for (; j + CPU_NORM_LANES <= c; j += CPU_NORM_LANES) {
    s0 += LOAD4(x + j);
    s1 += LOAD4(x + j + 4);
  }
  memcpy(acc, &s0, sizeof s0);
  memcpy(acc + 4, &s1, sizeof s1);
  for (int k = 0; j < c; j++, k++) acc[k] += (double)x[j];
}

/* acc[j mod 8] += (x[j] − mean)² */
static void run_sq_dev(double *acc, const float *x, size_t c, double mean)
{
  v4d q0, q1;
  memcpy(&q0, acc, sizeof q0);
  memcpy(&q1, acc + 4, sizeof q1);
  const v4d m = {mean, mean, mean, mean};
  size_t j = 0;
  for (; j + CPU_NORM_LANES <= c; j += CPU_NORM_LANES) {
    const v4d d0 = LOAD4(x + j) - m, d1 = LOAD4(x + j + 4) - m;
    q0 += d0 * d0;
    q1 += d1 * d1;
  }
  memcpy(acc, &q0, sizeof q0);
  memcpy(acc + 4, &q1, sizeof q1);
  for (int k = 0; j < c; j++, k++) {
    const double d = (double)x[j] - mean;
    acc[k] += d * d;
  }
}

/* sdy[j mod 8] += dy[j], sdyx[j mod 8] += dy[j]·(x[j] − mean)·invstd */
static void run_dy(double *sdy, double *sdyx, const float *dy, const float *x, size_t c,
                   double mean, double invstd)
{
  v4d a0, a1, b0, b1;
  memcpy(&a0, sdy, sizeof a0);
  memcpy(&a1, sdy + 4, sizeof a1);
  memcpy(&b0, sdyx, sizeof b0);
  memcpy(&b1, sdyx + 4, sizeof b1);
  const v4d m = {mean, mean, mean, mean}, is = {invstd, invstd, invstd, invstd};
  size_t j = 0;
  for (; j + CPU_NORM_LANES <= c; j += CPU_NORM_LANES) {
    const v4d d0 = LOAD4(dy + j), d1 = LOAD4(dy + j + 4);
    a0 += d0;
    a1 += d1;
    b0 += d0 * ((LOAD4(x + j) - m) * is);
    b1 += d1 * ((LOAD4(x + j + 4) - m) * is);
  }
  memcpy(sdy, &a0, sizeof a0);
  memcpy(sdy + 4, &a1, sizeof a1);
  memcpy(sdyx, &b0, sizeof b0);
  memcpy(sdyx + 4, &b1, sizeof b1);
  for (int k = 0; j < c; j++, k++) {
    const double d = (double)dy[j];
    sdy[k] += d;
    sdyx[k] += d * (((double)x[j] - mean) * invstd);
  }
}

/* y = (x − mean)·k + b */
static void run_apply(float *y, const float *x, size_t c, float mean, float k, float b)
{
  for (size_t i = 0; i < c; i++) y[i] = (x[i] - mean) * k + b;
}

/* dx = k·(dy − c1 − (x − mean)·invstd·c2) */
static void run_dx(float *dx, const float *dy, const float *x, size_t c, float k, float c1,
                   float mean, float invstd, float c2)
{
  for (size_t i = 0; i < c; i++) dx[i] = k * (dy[i] - c1 - (x[i] - mean) * invstd * c2);
}

const cpu_norm_runs RUNS_TABLE(CPU_RUNS_ISA) = {
  .isa = RUNS_STR(CPU_RUNS_ISA),
  .sum = run_sum,
  .sq_dev = run_sq_dev,
  .dy = run_dy,
  .apply = run_apply,
  .dx = run_dx,
};
