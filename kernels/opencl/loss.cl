/* softmax_xent: per-row softmax cross-entropy, one work-group per row.
 * loss = logsumexp(x) - x[label], dlogits = scale*(softmax - onehot), probs = softmax.
 * Stable: the row max is subtracted before exp; exp, log and the outputs are
 * evaluated in double where the device has it.  A NaN logit makes the row NaN.
 * dlogits may alias logits: each
 * element is read and written by the same work-item, and x[label] is read
 * before the barrier (with a global fence) that precedes any write. */

#pragma OPENCL FP_CONTRACT OFF

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double acc_t;
#else
typedef float acc_t;
#endif

/* want bits: which outputs exist (the others are null buffers) */
#define WANT_LOSS 1
#define WANT_DLOGITS 2
#define WANT_PROBS 4

__kernel void softmax_xent(__global const float *x, ulong xo, __global const int *labels, ulong lo,
                           __global float *loss, ulong losso, __global float *dl, ulong dlo,
                           __global float *probs, ulong po, ulong rows, ulong cols, float scale,
                           int want, __local float *smax, __local acc_t *ssum)
{
  x += xo; labels += lo;
  size_t lid = get_local_id(0), lsz = get_local_size(0);
  for (ulong r = get_group_id(0); r < rows; r += get_num_groups(0)) {
    __global const float *xr = x + r * cols;
    int lab = labels[r];
    int valid = lab >= 0 && (ulong)lab < cols;

    float mx = -INFINITY;
    for (ulong j = lid; j < cols; j += lsz) { float v = xr[j]; if (!(v <= mx)) mx = v; }
    smax[lid] = mx;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t s = lsz / 2; s > 0; s >>= 1) {
      if (lid < s) { float o = smax[lid + s]; if (!(o <= smax[lid])) smax[lid] = o; }
      barrier(CLK_LOCAL_MEM_FENCE);
    }
    mx = smax[0];

    acc_t sum = 0;
    for (ulong j = lid; j < cols; j += lsz) sum += exp((acc_t)xr[j] - (acc_t)mx);
    ssum[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t s = lsz / 2; s > 0; s >>= 1) {
      if (lid < s) ssum[lid] += ssum[lid + s];
      barrier(CLK_LOCAL_MEM_FENCE);
    }
    /* log(sum) kept apart from the max: no cancellation against logsumexp when
     * acc_t is float (x - max is exact or nearly so). */
    acc_t ls = log(ssum[0]);
    /* Work-item 0 reads x[label] here, before anyone writes dlogits. */
    if (lid == 0 && (want & WANT_LOSS))
      loss[losso + r] = valid ? (float)(ls + ((acc_t)mx - (acc_t)xr[lab])) : NAN;
    /* nobody writes an alias of x before this: a global fence too, as x[label] is global */
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);

    if (want & (WANT_DLOGITS | WANT_PROBS)) {
      for (ulong j = lid; j < cols; j += lsz) {
        acc_t p = exp(((acc_t)xr[j] - (acc_t)mx) - ls);
        if (want & WANT_PROBS) probs[po + r * cols + j] = (float)p;
        if (want & WANT_DLOGITS)
          dl[dlo + r * cols + j] = (float)((acc_t)scale * (p - (valid && j == (ulong)lab ? 1 : 0)));
      }
    }
    barrier(CLK_LOCAL_MEM_FENCE);   /* smax/ssum are reused by the next row */
  }
}

/* ---- row softmax and its backward, one work-group per row (grid-stride) ----
 * The max, then Σ exp(x − max) in acc_t through a fixed tree, then each output from its
 * own exp (acc_t), rounded once.  NaN anywhere in a row, +inf, or a row of −inf only
 * make the sum NaN, so the whole row is NaN (the contract).  y may alias x (dx may
 * alias dy): every read of a row precedes the barrier before its first write. */

static acc_t row_sum(acc_t v, __local acc_t *sh)
{
  size_t lid = get_local_id(0);
  sh[lid] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (size_t s = get_local_size(0) / 2; s > 0; s >>= 1) {
    if (lid < s) sh[lid] += sh[lid + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  acc_t r = sh[0];
  barrier(CLK_LOCAL_MEM_FENCE);
  return r;
}

__kernel void softmax_rows(__global const float *x, ulong xo, __global float *y, ulong yo,
                           ulong rows, ulong cols, __local float *smax, __local acc_t *ssum)
{
  x += xo; y += yo;
  size_t lid = get_local_id(0), lsz = get_local_size(0);
  for (ulong r = get_group_id(0); r < rows; r += get_num_groups(0)) {
    __global const float *xr = x + r * cols;
    float mx = -INFINITY;
    for (ulong j = lid; j < cols; j += lsz) mx = fmax(mx, xr[j]);   /* NaN reaches the sum */
    smax[lid] = mx;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t s = lsz / 2; s > 0; s >>= 1) {
      if (lid < s) smax[lid] = fmax(smax[lid], smax[lid + s]);
      barrier(CLK_LOCAL_MEM_FENCE);
    }
    acc_t m = (acc_t)smax[0];
    acc_t sum = 0;
    for (ulong j = lid; j < cols; j += lsz) sum += exp((acc_t)xr[j] - m);
    acc_t inv = (acc_t)1 / row_sum(sum, ssum);   /* its barriers: the row is read */
    for (ulong j = lid; j < cols; j += lsz) y[r * cols + j] = (float)(exp((acc_t)xr[j] - m) * inv);
    barrier(CLK_LOCAL_MEM_FENCE);   /* smax is reused by the next row */
  }
}

__kernel void softmax_rows_bwd(__global const float *y, ulong yo, __global const float *dy, ulong dyo,
                               __global float *dx, ulong dxo, ulong rows, ulong cols,
                               __local acc_t *ssum)
{
  y += yo; dy += dyo; dx += dxo;
  size_t lid = get_local_id(0), lsz = get_local_size(0);
  for (ulong r = get_group_id(0); r < rows; r += get_num_groups(0)) {
    __global const float *yr = y + r * cols, *dr = dy + r * cols;
    acc_t s = 0;
    for (ulong j = lid; j < cols; j += lsz) s += (acc_t)dr[j] * (acc_t)yr[j];
    s = row_sum(s, ssum);
    for (ulong j = lid; j < cols; j += lsz)
      dx[r * cols + j] = (float)((acc_t)yr[j] * ((acc_t)dr[j] - s));
  }
}
