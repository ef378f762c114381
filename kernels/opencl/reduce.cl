/* Reductions: reduce (over the middle axis of an (outer, mid, inner) shape),
 * seg_reduce and seg_bcast over segments of a flat buffer.  No atomics: every
 * result comes from a fixed split and a fixed tree, so reruns are bit-identical.
 * Sums accumulate in double where the device has it (the ref oracle does). */

#pragma OPENCL FP_CONTRACT OFF

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double acc_t;
#else
typedef float acc_t;
#endif

#define GRID_LOOP(i, n) for (ulong i = get_global_id(0); i < (n); i += get_global_size(0))

/* mb_reduce_op values (RED_SUM, ...), generated from include/mb/op_codes.def */
#include "op_codes.h"

/* A partial result: value, and for ARGMAX the index of its first occurrence
 * (-1 until a non-NaN element is taken: NaN is never greater, so an all-NaN row
 * gives 0, and the first non-NaN element counts even when it is -inf). */
static acc_t red_init(int op)
{
  return op == RED_SUM || op == RED_SUMSQ ? (acc_t)0 : (acc_t)-INFINITY;
}

/* Fold element v (at index m) into (acc, idx).  Elements come in increasing m. */
static void red_take(int op, acc_t *acc, long *idx, float v, long m)
{
  switch (op) {
  case RED_SUM: *acc += (acc_t)v; break;
  case RED_SUMSQ: *acc += (acc_t)v * (acc_t)v; break;
  case RED_MAX: if (!isnan(*acc) && (isnan(v) || v > *acc)) *acc = v; break;  /* NaN wins */
  case RED_MAX_FINITE: if (isfinite(v) && v > *acc) *acc = v; break;
  default: if (!isnan(v) && (*idx < 0 || v > *acc)) { *acc = v; *idx = m; } break;
  }
}

/* Merge partial b into a.  For sums a holds the lower part, so the order is fixed;
 * ARGMAX breaks ties by the smaller index, and an empty partial (-1) never wins. */
static void red_merge(int op, acc_t *a, long *ai, acc_t b, long bi)
{
  switch (op) {
  case RED_SUM: case RED_SUMSQ: *a += b; break;
  case RED_MAX: if (!isnan(*a) && (isnan(b) || b > *a)) *a = b; break;
  case RED_MAX_FINITE: if (b > *a) *a = b; break;
  default:
    if (bi >= 0 && (*ai < 0 || b > *a || (b == *a && bi < *ai))) { *a = b; *ai = bi; }
    break;
  }
}

static void red_store(int op, __global float *y, ulong r, acc_t v, long idx)
{
  if (op == RED_ARGMAX) ((__global int *)y)[r] = idx < 0 ? 0 : (int)idx;
  else y[r] = (float)v;
}

/* Tree over the work-group (size a power of two); the result lands in sv[0], si[0]. */
static void red_tree(int op, __local acc_t *sv, __local long *si)
{
  size_t lid = get_local_id(0);
  for (size_t s = get_local_size(0) / 2; s > 0; s >>= 1) {
    if (lid < s) {
      acc_t a = sv[lid]; long ai = si[lid];
      red_merge(op, &a, &ai, sv[lid + s], si[lid + s]);
      sv[lid] = a; si[lid] = ai;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
}

/* One work-group per output: long rows, or few outputs. */
__kernel void reduce_rows(__global const float *x, ulong xo, __global float *y, ulong yo,
                          ulong outer, ulong mid, ulong inner, int op,
                          __local acc_t *sv, __local long *si)
{
  x += xo; y += yo;
  size_t lid = get_local_id(0), lsz = get_local_size(0);
  for (ulong r = get_group_id(0); r < outer * inner; r += get_num_groups(0)) {
    __global const float *xr = x + (r / inner) * mid * inner + r % inner;
    acc_t acc = red_init(op); long idx = -1;
    for (ulong m = lid; m < mid; m += lsz) red_take(op, &acc, &idx, xr[m * inner], (long)m);
    sv[lid] = acc; si[lid] = idx;
    barrier(CLK_LOCAL_MEM_FENCE);
    red_tree(op, sv, si);
    if (lid == 0) red_store(op, y, r, sv[0], si[0]);
    barrier(CLK_LOCAL_MEM_FENCE);   /* sv is reused by the next row */
  }
}

/* One work-item per output, sequential over mid: many outputs (reads coalesce over inner). */
__kernel void reduce_cols(__global const float *x, ulong xo, __global float *y, ulong yo,
                          ulong outer, ulong mid, ulong inner, int op)
{
  x += xo; y += yo;
  GRID_LOOP(r, outer * inner) {
    __global const float *xr = x + (r / inner) * mid * inner + r % inner;
    acc_t acc = red_init(op); long idx = -1;
    for (ulong m = 0; m < mid; m++) red_take(op, &acc, &idx, xr[m * inner], (long)m);
    red_store(op, y, r, acc, idx);
  }
}

/* Segmented reduces read a table built by the host (u64 entries):
 *   tab[0 .. nseg]                       segment offsets (relative to x)
 *   tab[nseg+1 .. 2*nseg+1]              first chunk of each segment (and the end)
 *   tab[2*nseg+2 + 2c], [.. + 2c + 1]    element range [begin, end) of chunk c
 * Pass 1: one work-group per chunk writes a partial result. */
__kernel void seg_partial(__global const float *x, ulong xo, __global const ulong *tab, ulong nseg,
                          ulong nchunks, int op, __global acc_t *part,
                          __local acc_t *sv, __local long *si)
{
  x += xo;
  __global const ulong *chunks = tab + 2 * nseg + 2;
  size_t lid = get_local_id(0), lsz = get_local_size(0);
  for (ulong c = get_group_id(0); c < nchunks; c += get_num_groups(0)) {
    ulong b = chunks[2 * c], e = chunks[2 * c + 1];
    acc_t acc = red_init(op); long idx = -1;
    for (ulong i = b + lid; i < e; i += lsz) red_take(op, &acc, &idx, x[i], (long)i);
    sv[lid] = acc; si[lid] = idx;
    barrier(CLK_LOCAL_MEM_FENCE);
    red_tree(op, sv, si);
    if (lid == 0) part[c] = sv[0];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
}

/* Pass 2: one work-group per segment merges its chunks' partials in a fixed tree. */
__kernel void seg_final(__global const acc_t *part, __global const ulong *tab, ulong nseg, int op,
                        __global float *y, ulong yo, __local acc_t *sv, __local long *si)
{
  y += yo;
  __global const ulong *first = tab + nseg + 1;
  size_t lid = get_local_id(0), lsz = get_local_size(0);
  for (ulong s = get_group_id(0); s < nseg; s += get_num_groups(0)) {
    acc_t acc = red_init(op); long idx = -1;
    for (ulong c = first[s] + lid; c < first[s + 1]; c += lsz)
      red_merge(op, &acc, &idx, part[c], -1);
    sv[lid] = acc; si[lid] = idx;
    barrier(CLK_LOCAL_MEM_FENCE);
    red_tree(op, sv, si);
    if (lid == 0) y[s] = (float)sv[0];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
}

/* seg_bcast: y[i] = x[i] (op) v[seg(i)] for i in [offs[0], offs[nseg]), offs being
 * the table above.  seg(i) by binary search: segments differ wildly in size, so
 * a flat grid over the elements balances best. */
#define SEG_BCAST(name, expr)                                                                  \
  __kernel void seg_bcast_##name(__global const float *x, ulong xo, __global const float *v,  \
                                 ulong vo, __global float *y, ulong yo,                       \
                                 __global const ulong *offs, ulong nseg)                      \
  {                                                                                            \
    x += xo; v += vo; y += yo;                                                                 \
    ulong lo = offs[0];                                                                        \
    GRID_LOOP(k, offs[nseg] - lo) {                                                            \
      ulong i = lo + k, l = 0, h = nseg - 1;                                                   \
      while (l < h) {                                                                          \
        ulong md = (l + h + 1) / 2;                                                            \
        if (offs[md] <= i) l = md; else h = md - 1;                                            \
      }                                                                                        \
      float p = x[i], q = v[l];                                                                \
      y[i] = (expr);                                                                           \
    }                                                                                          \
  }

SEG_BCAST(mul, p * q)
SEG_BCAST(add, p + q)
SEG_BCAST(inf_to, isinf(p) ? q : p)
