/* Reductions: over the middle axis of (outer, mid, inner), over segments of a flat
 * buffer, and the segmented broadcast.  Sums accumulate in double (cheap next to the
 * memory traffic); MAX is NaN as soon as one element is NaN; ARGMAX takes the first
 * maximum and never a NaN (an all-NaN run gives 0), as in the ref backend. */
#include "cpu_backend.h"

#include <float.h>
#include <math.h>

/* One contiguous run of n elements.  RUN_BODY is instantiated twice: with the thread
 * team (long runs) and without (rows already spread over the team, or short runs),
 * so no nested parallel region is ever opened. */
#define RUN_BODY(PAR)                                                              \
  switch (op) {                                                                    \
  case MB_RED_SUM: {                                                               \
    double acc = 0.0;                                                              \
    CPU_OMP(PAR simd reduction(+:acc))                                             \
    for (size_t i = 0; i < n; i++) acc += (double)x[i];                            \
    return (float)acc;                                                             \
  }                                                                                \
  case MB_RED_SUMSQ: {                                                             \
    double acc = 0.0;                                                              \
    CPU_OMP(PAR simd reduction(+:acc))                                             \
    for (size_t i = 0; i < n; i++) acc += (double)x[i] * (double)x[i];             \
    return (float)acc;                                                             \
  }                                                                                \
  case MB_RED_MAX: {                                                               \
    float m = -INFINITY;                                                           \
    int nan = 0;                                                                   \
    CPU_OMP(PAR simd reduction(max:m) reduction(|:nan))                            \
    for (size_t i = 0; i < n; i++) {                                               \
      const float v = x[i];                                                        \
      m = v > m ? v : m;                                                           \
      nan |= v != v;                                                               \
    }                                                                              \
    return nan ? NAN : m;                                                          \
  }                                                                                \
  case MB_RED_MAX_FINITE: {                                                        \
    float m = -INFINITY;                                                           \
    CPU_OMP(PAR simd reduction(max:m))                                             \
    for (size_t i = 0; i < n; i++) {                                               \
      const float v = x[i];                                                        \
      m = fabsf(v) <= FLT_MAX && v > m ? v : m;   /* false for NaN and ±inf */     \
    }                                                                              \
    return m;                                                                      \
  }                                                                                \
  default: return NAN;                                                             \
  }

static float run_serial(mb_reduce_op op, const float *x, size_t n)
{
  RUN_BODY(omp)
}

static float run_team(mb_reduce_op op, const float *x, size_t n)
{
  if (n < CPU_PAR_MIN) return run_serial(op, x, n);
  RUN_BODY(omp parallel for)
}

/* Index of the first maximum of n elements spaced `stride` apart, NaN never greater. */
static int32_t argmax_run(const float *x, size_t n, size_t stride)
{
  long at = -1;
  float best = -INFINITY;
  for (size_t m = 0; m < n; m++) {
    const float v = x[m * stride];
    if (!isnan(v) && (at < 0 || v > best)) {
      best = v;
      at = (long)m;
    }
  }
  return at < 0 ? 0 : (int32_t)at;
}

#define TILE 256

/* inner > 1: tiles of up to TILE adjacent outputs, each summing `mid` rows; the
 * inner loop runs along contiguous memory. */
static void reduce_tiles(mb_reduce_op op, const float *x, float *y, size_t outer, size_t mid,
                         size_t inner)
{
  const size_t per = (inner + TILE - 1) / TILE, tiles = outer * per;
  CPU_OMP(omp parallel for if (outer * mid * inner >= CPU_PAR_MIN) schedule(static))
  for (size_t t = 0; t < tiles; t++) {
    const size_t o = t / per, i0 = (t % per) * TILE;
    const size_t w = inner - i0 < TILE ? inner - i0 : TILE;
    const float *xo = x + o * mid * inner + i0;
    float *yo = y + o * inner + i0;
    if (op == MB_RED_SUM || op == MB_RED_SUMSQ) {
      double acc[TILE] = {0};
      for (size_t m = 0; m < mid; m++) {
        const float *r = xo + m * inner;
        if (op == MB_RED_SUM)
          for (size_t i = 0; i < w; i++) acc[i] += (double)r[i];
        else
          for (size_t i = 0; i < w; i++) acc[i] += (double)r[i] * (double)r[i];
      }
      for (size_t i = 0; i < w; i++) yo[i] = (float)acc[i];
    } else {
      const int finite_only = op == MB_RED_MAX_FINITE;
      float best[TILE];
      int nan[TILE];
      for (size_t i = 0; i < w; i++) best[i] = -INFINITY, nan[i] = 0;
      for (size_t m = 0; m < mid; m++) {
        const float *r = xo + m * inner;
        for (size_t i = 0; i < w; i++) {
          const float v = r[i];
          if (finite_only ? fabsf(v) <= FLT_MAX && v > best[i] : v > best[i]) best[i] = v;
          nan[i] |= v != v;
        }
      }
      for (size_t i = 0; i < w; i++) yo[i] = !finite_only && nan[i] ? NAN : best[i];
    }
  }
}

void cpu_reduce(mb_backend *be, mb_reduce_op op, mb_view xv, mb_view yv, size_t outer, size_t mid,
                size_t inner)
{
  if (be->status != MB_OK) return;
  if (op != MB_RED_SUM && op != MB_RED_SUMSQ && op != MB_RED_MAX && op != MB_RED_MAX_FINITE &&
      op != MB_RED_ARGMAX) {
    host_fail(be, MB_BAD_ARG, "reduce: unsupported reduction %d", (int)op);
    return;
  }
  const float *x = host_f32(xv);
  const size_t total = outer * mid * inner;
  (void)total;   /* only read by the OpenMP if clauses */
  if (op == MB_RED_ARGMAX) {
    int32_t *y = host_i32(yv);
    const size_t nout = outer * inner;
    CPU_OMP(omp parallel for if (total >= CPU_PAR_MIN) schedule(static))
    for (size_t t = 0; t < nout; t++) {
      const size_t o = t / inner, i = t % inner;
      y[t] = argmax_run(x + o * mid * inner + i, mid, inner);
    }
    return;
  }
  float *y = host_f32(yv);
  if (inner > 1) {
    reduce_tiles(op, x, y, outer, mid, inner);
    return;
  }
  /* rows: few long rows share the team inside each row, many rows split across it */
  const int threads = ((cpu_backend *)be)->threads;
  if (outer < (size_t)threads * 4 && mid >= CPU_PAR_MIN) {
    for (size_t o = 0; o < outer; o++) y[o] = run_team(op, x + o * mid, mid);
    return;
  }
  CPU_OMP(omp parallel for if (total >= CPU_PAR_MIN) schedule(static))
  for (size_t o = 0; o < outer; o++) y[o] = run_serial(op, x + o * mid, mid);
}

void cpu_seg_reduce(mb_backend *be, mb_reduce_op op, mb_view xv, mb_view yv, const size_t *offs,
                    int nseg)
{
  if (be->status != MB_OK) return;
  if (op != MB_RED_SUM && op != MB_RED_SUMSQ && op != MB_RED_MAX && op != MB_RED_MAX_FINITE) {
    host_fail(be, MB_BAD_ARG, "seg_reduce: unsupported reduction %d", (int)op);
    return;
  }
  const float *x = host_f32(xv);
  float *y = host_f32(yv);
  for (int s = 0; s < nseg; s++) y[s] = run_team(op, x + offs[s], offs[s + 1] - offs[s]);
}

void cpu_seg_bcast(mb_backend *be, mb_segbcast_op op, mb_view xv, mb_view vv, mb_view yv,
                   const size_t *offs, int nseg)
{
  if (be->status != MB_OK) return;
  if (op != MB_SEGBC_MUL && op != MB_SEGBC_ADD && op != MB_SEGBC_INF_TO) {
    host_fail(be, MB_BAD_ARG, "seg_bcast: unknown op %d", (int)op);
    return;
  }
  const float *x = host_f32(xv), *v = host_f32(vv);
  float *y = host_f32(yv);
  for (int s = 0; s < nseg; s++) {
    const size_t lo = offs[s], hi = offs[s + 1];
    const float sv = v[s];
    const int team = hi - lo >= CPU_PAR_MIN;
    (void)team;
    switch (op) {
    case MB_SEGBC_MUL:
      CPU_OMP(omp parallel for simd if (team) schedule(static))
      for (size_t i = lo; i < hi; i++) y[i] = x[i] * sv;
      break;
    case MB_SEGBC_ADD:
      CPU_OMP(omp parallel for simd if (team) schedule(static))
      for (size_t i = lo; i < hi; i++) y[i] = x[i] + sv;
      break;
    default:
      CPU_OMP(omp parallel for simd if (team) schedule(static))
      for (size_t i = lo; i < hi; i++) y[i] = isinf(x[i]) ? sv : x[i];
      break;
    }
  }
}
