/* Reduction oracle: reduce over the middle axis, segmented reduce and segmented
 * broadcast.  Sums accumulate in double and round to f32 once. */
#include "ref_backend.h"

#include <math.h>

/* One reduction over n elements spaced `stride` apart.  ARGMAX writes the index of
 * the first maximum to *idx; NaN is never greater, so an all-NaN run gives 0.  MAX is
 * NaN as soon as one element is NaN. */
static float reduce_run(mb_reduce_op op, const float *x, size_t n, size_t stride, int32_t *idx)
{
  double acc = 0.0;
  float best = -INFINITY;
  long at = -1;
  int any_nan = 0;
  for (size_t m = 0; m < n; m++) {
    const float v = x[m * stride];
    switch (op) {
    case MB_RED_SUM: acc += (double)v; break;
    case MB_RED_SUMSQ: acc += (double)v * (double)v; break;
    case MB_RED_MAX:
      if (isnan(v)) any_nan = 1;
      else if (v > best) best = v;
      break;
    case MB_RED_MAX_FINITE:
      if (isfinite(v) && v > best) best = v;
      break;
    case MB_RED_ARGMAX:
      if (!isnan(v) && (at < 0 || v > best)) {
        best = v;
        at = (long)m;
      }
      break;
    }
  }
  switch (op) {
  case MB_RED_SUM:
  case MB_RED_SUMSQ: return (float)acc;
  case MB_RED_MAX: return any_nan ? NAN : best;
  case MB_RED_MAX_FINITE: return best;
  default: *idx = at < 0 ? 0 : (int32_t)at; return 0.0f;
  }
}

static int op_ok(mb_backend *be, const char *name, mb_reduce_op op, int allow_argmax)
{
  if (op == MB_RED_SUM || op == MB_RED_SUMSQ || op == MB_RED_MAX || op == MB_RED_MAX_FINITE ||
      (allow_argmax && op == MB_RED_ARGMAX))
    return 1;
  host_fail(be, MB_BAD_ARG, "%s: unsupported reduction %d", name, (int)op);
  return 0;
}

void ref_reduce(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y, size_t outer, size_t mid,
                size_t inner)
{
  if (be->status != MB_OK || !op_ok(be, "reduce", op, 1)) return;
  const float *xp = host_f32(x);
  for (size_t o = 0; o < outer; o++)
    for (size_t i = 0; i < inner; i++) {
      const float *run = xp + o * mid * inner + i;
      size_t at = o * inner + i;
      if (op == MB_RED_ARGMAX) reduce_run(op, run, mid, inner, host_i32(y) + at);
      else host_f32(y)[at] = reduce_run(op, run, mid, inner, NULL);
    }
}

void ref_seg_reduce(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y, const size_t *offs,
                    int nseg)
{
  if (be->status != MB_OK || !op_ok(be, "seg_reduce", op, 0)) return;
  const float *xp = host_f32(x);
  float *yp = host_f32(y);
  for (int s = 0; s < nseg; s++)
    yp[s] = reduce_run(op, xp + offs[s], offs[s + 1] - offs[s], 1, NULL);
}

void ref_seg_bcast(mb_backend *be, mb_segbcast_op op, mb_view x, mb_view v, mb_view y,
                   const size_t *offs, int nseg)
{
  if (be->status != MB_OK) return;
  if (op != MB_SEGBC_MUL && op != MB_SEGBC_ADD && op != MB_SEGBC_INF_TO) {
    host_fail(be, MB_BAD_ARG, "seg_bcast: unknown op %d", (int)op);
    return;
  }
  const float *xp = host_f32(x), *vp = host_f32(v);
  float *yp = host_f32(y);
  for (int s = 0; s < nseg; s++) {
    const float s_v = vp[s];
    for (size_t i = offs[s]; i < offs[s + 1]; i++) {
      const float xv = xp[i];
      yp[i] = op == MB_SEGBC_MUL ? xv * s_v : op == MB_SEGBC_ADD ? xv + s_v
            : isinf(xv) ? s_v : xv;
    }
  }
}
