/* Batch norm over NCHW x[n][c][hw], per channel over its n*hw elements.
 * One work-group per channel: strided partial sums per work-item, then a fixed
 * tree over the group (no atomics, identical bits on every run).  Statistics in
 * double where the device has it (the ref oracle does); the mean first, then the
 * sum of squared deviations (no E[x^2] - E[x]^2 cancellation). */

#pragma OPENCL FP_CONTRACT OFF

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double acc_t;
#else
typedef float acc_t;
#endif

#define GRID_LOOP(i, n) for (ulong i = get_global_id(0); i < (n); i += get_global_size(0))

/* which optional views are present (batchnorm_train) */
#define HAS_RUN_MEAN 1
#define HAS_RUN_VAR 2
#define HAS_SAVE_MEAN 4
#define HAS_SAVE_INVSTD 8
/* batchnorm_bwd */
#define HAS_DX 1
#define HAS_DGAMMA 2
#define HAS_DBETA 4

/* Element j (0 <= j < n*hw) of channel ch. */
static ulong at(ulong c, ulong hw, ulong ch, ulong j) { return ((j / hw) * c + ch) * hw + j % hw; }

/* Sum of v over the work-group (a power of two) in a fixed tree; every item gets it. */
static acc_t wg_sum(acc_t v, __local acc_t *sh)
{
  size_t lid = get_local_id(0);
  sh[lid] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (size_t s = get_local_size(0) / 2; s > 0; s >>= 1) {
    if (lid < s) sh[lid] += sh[lid + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  acc_t r = sh[0];
  barrier(CLK_LOCAL_MEM_FENCE);   /* sh is reused by the next sum */
  return r;
}

__kernel void bn_train(__global const float *x, ulong xo, __global float *y, ulong yo,
                       __global const float *gamma, ulong go, __global const float *beta, ulong bo,
                       __global float *rm, ulong rmo, __global float *rv, ulong rvo,
                       __global float *sm, ulong smo, __global float *si, ulong sio,
                       int n, int c, int hw, float eps, float momentum, int has,
                       __local acc_t *sh)
{
  x += xo; y += yo; gamma += go; beta += bo;
  size_t lid = get_local_id(0), lsz = get_local_size(0);
  ulong m = (ulong)n * hw;
  for (ulong ch = get_group_id(0); ch < (ulong)c; ch += get_num_groups(0)) {
    acc_t s = 0;
    for (ulong j = lid; j < m; j += lsz) s += (acc_t)x[at(c, hw, ch, j)];
    acc_t mean = wg_sum(s, sh) / (acc_t)m;
    acc_t q = 0;
    for (ulong j = lid; j < m; j += lsz) {
      acc_t d = (acc_t)x[at(c, hw, ch, j)] - mean;
      q += d * d;
    }
    acc_t var = wg_sum(q, sh) / (acc_t)m;
    acc_t invstd = (acc_t)1 / sqrt(var + (acc_t)eps);
    if (lid == 0) {
      acc_t mo = (acc_t)momentum, unb = m > 1 ? var * (acc_t)m / (acc_t)(m - 1) : var;
      if (has & HAS_SAVE_MEAN) sm[smo + ch] = (float)mean;
      if (has & HAS_SAVE_INVSTD) si[sio + ch] = (float)invstd;
      if (has & HAS_RUN_MEAN) rm[rmo + ch] = (float)(((acc_t)1 - mo) * (acc_t)rm[rmo + ch] + mo * mean);
      if (has & HAS_RUN_VAR) rv[rvo + ch] = (float)(((acc_t)1 - mo) * (acc_t)rv[rvo + ch] + mo * unb);
    }
    float mf = (float)mean, k = (float)(invstd * (acc_t)gamma[ch]), b = beta[ch];
    for (ulong j = lid; j < m; j += lsz) {
      ulong e = at(c, hw, ch, j);
      y[e] = (x[e] - mf) * k + b;
    }
  }
}

/* Eval mode: elementwise with the running statistics. */
__kernel void bn_eval(__global const float *x, ulong xo, __global float *y, ulong yo,
                      __global const float *gamma, ulong go, __global const float *beta, ulong bo,
                      __global const float *rm, ulong rmo, __global const float *rv, ulong rvo,
                      int n, int c, int hw, float eps)
{
  x += xo; y += yo; gamma += go; beta += bo; rm += rmo; rv += rvo;
  GRID_LOOP(e, (ulong)n * c * hw) {
    ulong ch = (e / (ulong)hw) % (ulong)c;
    float invstd = 1.0f / sqrt(rv[ch] + eps);
    y[e] = (x[e] - rm[ch]) * (invstd * gamma[ch]) + beta[ch];
  }
}

/* Backward: dgamma = sum dy*xhat, dbeta = sum dy per channel, then dx. */
__kernel void bn_bwd(__global const float *x, ulong xo, __global const float *dy, ulong dyo,
                     __global const float *gamma, ulong go, __global const float *mean, ulong mo,
                     __global const float *invstd, ulong io, __global float *dx, ulong dxo,
                     __global float *dg, ulong dgo, __global float *db, ulong dbo,
                     int n, int c, int hw, int train, int has, __local acc_t *sh)
{
  x += xo; dy += dyo; gamma += go; mean += mo; invstd += io;
  size_t lid = get_local_id(0), lsz = get_local_size(0);
  ulong m = (ulong)n * hw;
  for (ulong ch = get_group_id(0); ch < (ulong)c; ch += get_num_groups(0)) {
    acc_t mu = (acc_t)mean[ch], is = (acc_t)invstd[ch];
    acc_t s = 0, t = 0;
    for (ulong j = lid; j < m; j += lsz) {
      ulong e = at(c, hw, ch, j);
      s += (acc_t)dy[e];
      t += (acc_t)dy[e] * (((acc_t)x[e] - mu) * is);
    }
    acc_t sdy = wg_sum(s, sh);
    acc_t sdyx = wg_sum(t, sh);
    if (lid == 0) {
      if (has & HAS_DGAMMA) dg[dgo + ch] = (float)sdyx;
      if (has & HAS_DBETA) db[dbo + ch] = (float)sdy;
    }
    if (!(has & HAS_DX)) continue;
    float k = (float)((acc_t)gamma[ch] * is), mf = (float)mu, isf = (float)is;
    float c1 = (float)(sdy / (acc_t)m), c2 = (float)(sdyx / (acc_t)m);
    for (ulong j = lid; j < m; j += lsz) {
      ulong e = at(c, hw, ch, j);
      float g = dy[e];
      dx[dxo + e] = train ? k * (g - c1 - (x[e] - mf) * isf * c2) : k * g;
    }
  }
}

/* ---- layer norm over the last axis of x [rows][c] ----
 * One work-group per row (grid-stride over rows): strided partial sums per item, then
 * the fixed tree of wg_sum; the mean first, then the squared deviations.  y may alias
 * x: a row is read in full before the (global) barrier that precedes its first write,
 * and each item then writes only the elements it reads. */
#define HAS_SAVE_RSTD 8   /* with HAS_SAVE_MEAN */

__kernel void ln_fwd(__global const float *x, ulong xo, __global float *y, ulong yo,
                     __global const float *gamma, ulong go, __global const float *beta, ulong bo,
                     __global float *sm, ulong smo, __global float *sr, ulong sro,
                     ulong rows, ulong c, float eps, int has, __local acc_t *sh)
{
  x += xo; y += yo; gamma += go; beta += bo;
  size_t lid = get_local_id(0), lsz = get_local_size(0);
  for (ulong r = get_group_id(0); r < rows; r += get_num_groups(0)) {
    __global const float *xr = x + r * c;
    __global float *yr = y + r * c;
    /* Sums of the deviations from the row's first element x0 (a non-finite x0 shifts by
     * 0): exact in f64, and with f32 sums x − x0 is exact near x0, so a mean far from 0
     * costs x − mean no precision (Vulkan does the same). */
    float x0 = xr[0];
    x0 = fabs(x0) <= MAXFLOAT ? x0 : 0.0f;
    acc_t s = 0, s1 = 0;
    for (ulong j = lid; j < c; j += lsz) {
      s += (acc_t)xr[j] - (acc_t)x0;
      s1 += (acc_t)xr[j];
    }
    acc_t dm = wg_sum(s, sh) / (acc_t)c;     /* mean − x0 */
    acc_t m1 = wg_sum(s1, sh) / (acc_t)c;    /* the plain mean */
    acc_t q = 0;
    for (ulong j = lid; j < c; j += lsz) {
      acc_t d = ((acc_t)xr[j] - (acc_t)x0) - dm;
      q += d * d;
    }
    acc_t rstd = (acc_t)1 / sqrt(wg_sum(q, sh) / (acc_t)c + (acc_t)eps);
    if (lid == 0) {
      /* saved: x0 + dm unless that sum cancels (|mean| < |x0|/2), else the plain mean */
      acc_t mean = (acc_t)x0 + dm;
      if (!(fabs(mean) >= (acc_t)0.5 * fabs((acc_t)x0))) mean = m1;
      if (has & HAS_SAVE_MEAN) sm[smo + r] = (float)mean;
      if (has & HAS_SAVE_RSTD) sr[sro + r] = (float)rstd;
    }
    /* y may alias x, and every item read x0 = xr[0]: the barriers of wg_sum fence local
     * memory only, so one that fences global memory comes before the first write */
    barrier(CLK_GLOBAL_MEM_FENCE);
    for (ulong j = lid; j < c; j += lsz) {
      float xh = (float)((((acc_t)xr[j] - (acc_t)x0) - dm) * rstd);
      yr[j] = xh * gamma[j] + beta[j];
    }
  }
}

/* dx of each row: g = dy·gamma, dx = rstd·(g − mean(g) − x̂·mean(g·x̂)).  dx may alias
 * dy: the row's sums are complete (barriers) before any item writes. */
__kernel void ln_bwd_dx(__global const float *x, ulong xo, __global const float *dy, ulong dyo,
                        __global const float *gamma, ulong go, __global const float *mean, ulong mo,
                        __global const float *rstd, ulong ro, __global float *dx, ulong dxo,
                        ulong rows, ulong c, __local acc_t *sh)
{
  x += xo; dy += dyo; gamma += go; mean += mo; rstd += ro; dx += dxo;
  size_t lid = get_local_id(0), lsz = get_local_size(0);
  for (ulong r = get_group_id(0); r < rows; r += get_num_groups(0)) {
    __global const float *xr = x + r * c, *dr = dy + r * c;
    acc_t m = (acc_t)mean[r], s = (acc_t)rstd[r];
    acc_t sg = 0, sgx = 0;
    for (ulong j = lid; j < c; j += lsz) {
      acc_t g = (acc_t)dr[j] * (acc_t)gamma[j];
      sg += g;
      sgx += g * (((acc_t)xr[j] - m) * s);
    }
    acc_t mg = wg_sum(sg, sh) / (acc_t)c;
    acc_t mgx = wg_sum(sgx, sh) / (acc_t)c;
    for (ulong j = lid; j < c; j += lsz) {
      acc_t g = (acc_t)dr[j] * (acc_t)gamma[j], xh = ((acc_t)xr[j] - m) * s;
      dx[r * c + j] = (float)(s * (g - mg - xh * mgx));
    }
  }
}

/* dgamma, dbeta, stage 1: item (b, j) sums column j over the rows of block b
 * ([b·block, (b+1)·block)) in row order into part[b][0][j] (Σ dy·x̂), part[b][1][j]
 * (Σ dy).  Stage 2 adds the blocks in order: fixed order, no atomics. */
__kernel void ln_bwd_cols(__global const float *x, ulong xo, __global const float *dy, ulong dyo,
                          __global const float *mean, ulong mo, __global const float *rstd, ulong ro,
                          __global acc_t *part, ulong rows, ulong c, ulong block)
{
  x += xo; dy += dyo; mean += mo; rstd += ro;
  ulong nblk = (rows + block - 1) / block;
  GRID_LOOP(i, nblk * c) {
    ulong b = i / c, j = i % c, r1 = min((b + 1) * block, rows);
    acc_t sg = 0, sb = 0;
    for (ulong r = b * block; r < r1; r++) {
      acc_t d = (acc_t)dy[r * c + j];
      sg += d * (((acc_t)x[r * c + j] - (acc_t)mean[r]) * (acc_t)rstd[r]);
      sb += d;
    }
    part[b * 2 * c + j] = sg;
    part[b * 2 * c + c + j] = sb;
  }
}

__kernel void ln_bwd_cols_final(__global const acc_t *part, __global float *dg, ulong dgo,
                                __global float *db, ulong dbo, ulong nblk, ulong c, int has)
{
  GRID_LOOP(j, c) {
    acc_t sg = 0, sb = 0;
    for (ulong b = 0; b < nblk; b++) {
      sg += part[b * 2 * c + j];
      sb += part[b * 2 * c + c + j];
    }
    if (has & HAS_DGAMMA) dg[dgo + j] = (float)sg;
    if (has & HAS_DBETA) db[dbo + j] = (float)sb;
  }
}
