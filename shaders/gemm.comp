#version 450
/* SGEMM, row-major: C = alpha·op(A)·op(B) + beta·C, batched over gl_WorkGroupID.z.
 * beta == 0 never reads C.  Transposes are specialization constants.
 *
 * Variants (-D):
 *  TILED  the GPU design: a (WY·TM)×(WX·TN) block of C per work-group, A and B
 *         staged through shared memory in BK-deep slices, TM×TN outputs per
 *         invocation (strided by the work-group size, so shared-memory reads are
 *         conflict-free and C stores coalesce).  Reads storage buffers with bounds
 *         checks, so it takes every shape, offset and leading dimension.
 *  TEXEL  the CPU-device (lavapipe) design of shaders/../vulkan-gemm-on-lavapipe.md:
 *         no shared memory and no barriers; A and B are rgba32f storage texel
 *         buffers read with imageLoad (llvmpipe vectorises those loads, unlike
 *         storage-buffer loads); 16×8 outputs per invocation, FMAs grouped in 4×8
 *         register blocks.  Needs every vec4 to start on a 4-element boundary:
 *         lda, ldb, offsets and batch strides multiples of 4 (the host checks).
 *         M, N, K are free: rows/columns past the edge are clamped on load and
 *         never stored, and a K remainder is zeroed by selects in the last step.
 */
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 2) const bool TA = false;
layout(constant_id = 3) const bool TB = false;

layout(push_constant) uniform P {
  int M, N, K, lda, ldb, ldc;
  uint a_off, b_off, c_off;   /* elements (TEXEL: counted from the first texel of the view) */
  uint sa, sb, sc;            /* batch strides in elements */
  float alpha, beta;
} p;

layout(std430, binding = 2) buffer Cb { float c[]; };

void store_c(uint ci, float v)
{
  precise float r = p.alpha * v;
  if (p.beta != 0.0) r = r + p.beta * c[ci];
  c[ci] = r;
}

#if defined(TILED)
layout(constant_id = 4) const int TM = 4;
layout(constant_id = 5) const int TN = 4;
layout(constant_id = 6) const int BK = 16;
const int WX = int(gl_WorkGroupSize.x), WY = int(gl_WorkGroupSize.y);
const int BM = WY * TM, BN = WX * TN;

layout(std430, binding = 0) readonly buffer Ab { float a[]; };
layout(std430, binding = 1) readonly buffer Bb { float b[]; };

shared float As[BK * BM];   /* [k][m] */
shared float Bs[BK * BN];   /* [k][n] */

void main()
{
  uint z = gl_WorkGroupID.z;
  int m0 = int(gl_WorkGroupID.y) * BM, n0 = int(gl_WorkGroupID.x) * BN;
  int tx = int(gl_LocalInvocationID.x), ty = int(gl_LocalInvocationID.y);
  int tid = ty * WX + tx, NT = WX * WY;
  uint a0 = p.a_off + z * p.sa, b0 = p.b_off + z * p.sb;

  float acc[TM][TN];
  for (int i = 0; i < TM; i++)
    for (int j = 0; j < TN; j++) acc[i][j] = 0.0;

  for (int k0 = 0; k0 < p.K; k0 += BK) {
    /* the fast-moving index follows the storage order, so loads coalesce */
    for (int e = tid; e < BM * BK; e += NT) {
      int mm = TA ? e % BM : e / BK, kk = TA ? e / BM : e % BK;
      int gm = m0 + mm, gk = k0 + kk;
      float v = 0.0;
      if (gm < p.M && gk < p.K)
        v = a[a0 + (TA ? uint(gk) * uint(p.lda) + uint(gm) : uint(gm) * uint(p.lda) + uint(gk))];
      As[kk * BM + mm] = v;
    }
    for (int e = tid; e < BN * BK; e += NT) {
      int nn = TB ? e / BK : e % BN, kk = TB ? e % BK : e / BN;
      int gn = n0 + nn, gk = k0 + kk;
      float v = 0.0;
      if (gn < p.N && gk < p.K)
        v = b[b0 + (TB ? uint(gn) * uint(p.ldb) + uint(gk) : uint(gk) * uint(p.ldb) + uint(gn))];
      Bs[kk * BN + nn] = v;
    }
    barrier();
    for (int kk = 0; kk < BK; kk++) {
      float ar[TM], br[TN];
      for (int i = 0; i < TM; i++) ar[i] = As[kk * BM + ty + i * WY];
      for (int j = 0; j < TN; j++) br[j] = Bs[kk * BN + tx + j * WX];
      for (int i = 0; i < TM; i++)
        for (int j = 0; j < TN; j++) acc[i][j] += ar[i] * br[j];
    }
    barrier();
  }

  uint c0 = p.c_off + z * p.sc;
  for (int i = 0; i < TM; i++) {
    int row = m0 + ty + i * WY;
    if (row >= p.M) break;
    for (int j = 0; j < TN; j++) {
      int col = n0 + tx + j * WX;
      if (col < p.N) store_c(c0 + uint(row) * uint(p.ldc) + uint(col), acc[i][j]);
    }
  }
}

#elif defined(TEXEL)
#define TM 16
#define TN 8

layout(binding = 0, rgba32f) uniform readonly imageBuffer At;
layout(binding = 1, rgba32f) uniform readonly imageBuffer Bt;

vec4 acc[TM][2];   /* acc[r][h]: row r, columns 4h..4h+3 */
vec4 ra[TM];       /* ra[r][kk]: A(row r, k + kk) */
vec4 rb[4][2];     /* rb[kk][h]: B(k + kk, columns 4h..4h+3) */

void fma_step()
{
  [[unroll]] for (int rg = 0; rg < TM; rg += 4)
    [[unroll]] for (int kk = 0; kk < 4; kk++)
      [[unroll]] for (int r = rg; r < rg + 4; r++) {
        acc[r][0] += ra[r][kk] * rb[kk][0];
        acc[r][1] += ra[r][kk] * rb[kk][1];
      }
}

void main()
{
  uint z = gl_WorkGroupID.z;
  int row0 = int(gl_GlobalInvocationID.y) * TM, col0 = int(gl_GlobalInvocationID.x) * TN;
  if (row0 >= p.M || col0 >= p.N) return;   /* no barriers here: early exit is fine */
  uint a0 = p.a_off + z * p.sa, b0 = p.b_off + z * p.sb;
  int lda4 = p.lda >> 2, ldb4 = p.ldb >> 2;

  /* texel of (row r, k = 0) for A, or of (k = 0, rows 4q..) for Aᵀ; same for B */
  int ia[TM], ib[TN];
  [[unroll]] for (int r = 0; r < TM; r++) {
    if (TA) ia[r] = int(a0 >> 2) + min(row0 / 4 + (r >> 2), (p.M - 1) / 4);
    else    ia[r] = int((a0 + uint(min(row0 + r, p.M - 1)) * uint(p.lda)) >> 2);
  }
  [[unroll]] for (int j = 0; j < TN; j++) {
    if (TB) ib[j] = int((b0 + uint(min(col0 + j, p.N - 1)) * uint(p.ldb)) >> 2);
    else    ib[j] = int(b0 >> 2) + min(col0 / 4 + (j & 1), (p.N - 1) / 4);
  }
  [[unroll]] for (int r = 0; r < TM; r++) { acc[r][0] = vec4(0.0); acc[r][1] = vec4(0.0); }

  int kfull = p.K & ~3;
  for (int k = 0; k <= kfull; k += 4) {
    bool tail = k == kfull;
    if (tail && k == p.K) break;
    int kc[4];   /* k + kk, clamped in the tail so every load stays in the matrix */
    [[unroll]] for (int kk = 0; kk < 4; kk++) kc[kk] = min(k + kk, p.K - 1);

    if (TA) {
      [[unroll]] for (int kk = 0; kk < 4; kk++)
        [[unroll]] for (int q = 0; q < 4; q++) {
          vec4 t = imageLoad(At, ia[4 * q] + kc[kk] * lda4);   /* rows 4q..4q+3 */
          [[unroll]] for (int j = 0; j < 4; j++) ra[4 * q + j][kk] = t[j];
        }
    } else {
      [[unroll]] for (int r = 0; r < TM; r++) ra[r] = imageLoad(At, ia[r] + (k >> 2));
    }
    if (TB) {
      [[unroll]] for (int j = 0; j < TN; j++) {
        vec4 t = imageLoad(Bt, ib[j] + (k >> 2));   /* column j, k..k+3 */
        [[unroll]] for (int kk = 0; kk < 4; kk++) rb[kk][j >> 2][j & 3] = t[kk];
      }
    } else {
      [[unroll]] for (int kk = 0; kk < 4; kk++) {
        rb[kk][0] = imageLoad(Bt, ib[0] + kc[kk] * ldb4);
        rb[kk][1] = imageLoad(Bt, ib[1] + kc[kk] * ldb4);
      }
    }
    if (tail) {
      /* zero both factors past K: garbage there may be inf or NaN */
      int rem = p.K - k;
      [[unroll]] for (int kk = 1; kk < 4; kk++) {
        if (kk >= rem) {
          [[unroll]] for (int r = 0; r < TM; r++) ra[r][kk] = 0.0;
          rb[kk][0] = vec4(0.0);
          rb[kk][1] = vec4(0.0);
        }
      }
    }
    fma_step();
  }

  uint c0 = p.c_off + z * p.sc;
  [[unroll]] for (int r = 0; r < TM; r++) {
    int row = row0 + r;
    if (row >= p.M) break;
    [[unroll]] for (int j = 0; j < TN; j++) {
      int col = col0 + j;
      if (col < p.N) store_c(c0 + uint(row) * uint(p.ldc) + uint(col), acc[r][j >> 2][j & 3]);
    }
  }
}
#else
#error "gemm.comp: define TILED or TEXEL"
#endif
