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
 *  TEXEL  the CPU-device (lavapipe) design of vulkan-gemm-on-lavapipe.md: no
 *         shared memory and no barriers; A and B are read-only storage texel
 *         buffers read with imageLoad (llvmpipe vectorises those loads, unlike
 *         storage-buffer loads); 16×8 outputs per invocation, FMAs grouped in 4×8
 *         register blocks.  C is an rgba32f image as well.  rgba32f views need the
 *         leading dimensions, offsets and batch strides of A, B and C to be
 *         multiples of 4 (the host checks); with -DSCALAR A and B are r32f views
 *         and C a storage buffer: any alignment, at four times the loads.
 *         M, N, K are free: rows/columns past the edge are clamped on load and
 *         never stored, and a K remainder is zeroed by selects after the loop.
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

#if defined(TEXEL) && !defined(SCALAR)
/* C as an rgba32f image too: llvmpipe's vector stores beat storage-buffer stores,
 * which it splits into one bounds-checked store per lane (about 15% at K = 128). */
layout(binding = 2, rgba32f) uniform imageBuffer Ct;
#else
layout(std430, binding = 2) buffer Cb { float c[]; };

void store_c(uint ci, float v)
{
  precise float r = p.alpha * v;
  if (p.beta != 0.0) r = r + p.beta * c[ci];
  c[ci] = r;
}
#endif

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
/* Every access to the register tiles below uses a constant index, written out with
 * macros rather than loops: Mesa 22.3 does not unroll the larger nests, and one
 * dynamic index sends a whole array to scratch memory (measured 10-20x slower). */
#define TM 16
#define TN 8

#define R4(M, b) M(b) M((b) + 1) M((b) + 2) M((b) + 3)
#define R8(M) R4(M, 0) R4(M, 4)
#define R16(M) R4(M, 0) R4(M, 4) R4(M, 8) R4(M, 12)

/* acc[r][h] += A(r, k+kk) · B(k+kk, 4h..4h+3), rows in groups of 4 for all 4 kk */
#define FMA_RK(r, kk) acc[r][0] += ra[r][kk] * rb[kk][0]; acc[r][1] += ra[r][kk] * rb[kk][1];
#define FMA_4R(r, kk) FMA_RK(r, kk) FMA_RK((r) + 1, kk) FMA_RK((r) + 2, kk) FMA_RK((r) + 3, kk)
#define FMA_GROUP(r) FMA_4R(r, 0) FMA_4R(r, 1) FMA_4R(r, 2) FMA_4R(r, 3)
#define FMA_ALL FMA_GROUP(0) FMA_GROUP(4) FMA_GROUP(8) FMA_GROUP(12)

#if !defined(SCALAR)
/* rgba32f views: one load brings 4 consecutive elements.  ia/ib hold texel indices. */
layout(binding = 0, rgba32f) uniform readonly imageBuffer At;
layout(binding = 1, rgba32f) uniform readonly imageBuffer Bt;

/* A: ra[r] = A(r, k..k+3).  Aᵀ: per kk, 4 texels of rows 4q..4q+3 (ia[4q]). */
#define LOAD_A(r) ra[r] = imageLoad(At, ia[r] + kq);
#define LOAD_AT_Q(q, kk) { vec4 t = imageLoad(At, ia[4 * (q)] + kc##kk * lda4); \
  ra[4 * (q)][kk] = t.x; ra[4 * (q) + 1][kk] = t.y; ra[4 * (q) + 2][kk] = t.z; ra[4 * (q) + 3][kk] = t.w; }
#define LOAD_AT_K(kk) LOAD_AT_Q(0, kk) LOAD_AT_Q(1, kk) LOAD_AT_Q(2, kk) LOAD_AT_Q(3, kk)
#define LOAD_AT LOAD_AT_K(0) LOAD_AT_K(1) LOAD_AT_K(2) LOAD_AT_K(3)
/* B: rb[kk][h] = B(k+kk, 4h..4h+3) (ib[h]).  Bᵀ: column j, k..k+3 (ib[j]). */
#define LOAD_B_K(kk) rb[kk][0] = imageLoad(Bt, ib[0] + kc##kk * ldb4); \
                     rb[kk][1] = imageLoad(Bt, ib[1] + kc##kk * ldb4);
#define LOAD_B LOAD_B_K(0) LOAD_B_K(1) LOAD_B_K(2) LOAD_B_K(3)
#define LOAD_BT_J(j) { vec4 t = imageLoad(Bt, ib[j] + kq); \
  rb[0][(j) >> 2][(j) & 3] = t.x; rb[1][(j) >> 2][(j) & 3] = t.y; \
  rb[2][(j) >> 2][(j) & 3] = t.z; rb[3][(j) >> 2][(j) & 3] = t.w; }
#define LOAD_BT R8(LOAD_BT_J)
#define IA_ROW(r) ia[r] = TA ? int(a0 >> 2) + min(row0 / 4 + ((r) >> 2), (p.M - 1) / 4) \
                             : int((a0 + uint(min(row0 + (r), p.M - 1)) * uint(p.lda)) >> 2);
#define IB_COL(j) ib[j] = TB ? int((b0 + uint(min(col0 + (j), p.N - 1)) * uint(p.ldb)) >> 2) \
                             : int(b0 >> 2) + min(col0 / 4 + ((j) & 1), (p.N - 1) / 4);
#else
/* r32f views for operands whose rows do not start on a texel: four times the loads,
 * no alignment needed.  ia/ib hold element indices of clamped rows/columns. */
layout(binding = 0, r32f) uniform readonly imageBuffer At;
layout(binding = 1, r32f) uniform readonly imageBuffer Bt;

#define LD(img, e) imageLoad(img, e).x
#define LOAD_A(r) ra[r] = vec4(LD(At, ia[r] + kc0), LD(At, ia[r] + kc1), \
                               LD(At, ia[r] + kc2), LD(At, ia[r] + kc3));
#define LOAD_AT_R(r) ra[r] = vec4(LD(At, ia[r] + kc0 * p.lda), LD(At, ia[r] + kc1 * p.lda), \
                                  LD(At, ia[r] + kc2 * p.lda), LD(At, ia[r] + kc3 * p.lda));
#define LOAD_AT R16(LOAD_AT_R)
#define LOAD_B_J(j) rb[0][(j) >> 2][(j) & 3] = LD(Bt, ib[j] + kc0 * p.ldb); \
                    rb[1][(j) >> 2][(j) & 3] = LD(Bt, ib[j] + kc1 * p.ldb); \
                    rb[2][(j) >> 2][(j) & 3] = LD(Bt, ib[j] + kc2 * p.ldb); \
                    rb[3][(j) >> 2][(j) & 3] = LD(Bt, ib[j] + kc3 * p.ldb);
#define LOAD_B R8(LOAD_B_J)
#define LOAD_BT_J(j) rb[0][(j) >> 2][(j) & 3] = LD(Bt, ib[j] + kc0); \
                     rb[1][(j) >> 2][(j) & 3] = LD(Bt, ib[j] + kc1); \
                     rb[2][(j) >> 2][(j) & 3] = LD(Bt, ib[j] + kc2); \
                     rb[3][(j) >> 2][(j) & 3] = LD(Bt, ib[j] + kc3);
#define LOAD_BT R8(LOAD_BT_J)
#define IA_ROW(r) ia[r] = TA ? int(a0) + min(row0 + (r), p.M - 1) \
                             : int(a0 + uint(min(row0 + (r), p.M - 1)) * uint(p.lda));
#define IB_COL(j) ib[j] = TB ? int(b0 + uint(min(col0 + (j), p.N - 1)) * uint(p.ldb)) \
                             : int(b0) + min(col0 + (j), p.N - 1);
#endif

#define LOADS \
  if (TA) { LOAD_AT } else { R16(LOAD_A) } \
  if (TB) { LOAD_BT } else { LOAD_B }

/* past K, both factors are zeroed: the values loaded there may be inf or NaN */
#define ZERO_A_K(r) ra[r][kk] = 0.0;
#define ZERO_K(kk_) if (kk_ >= rem) { const int kk = kk_; R16(ZERO_A_K) rb[kk][0] = vec4(0.0); rb[kk][1] = vec4(0.0); }

#if !defined(SCALAR)
/* columns col..col+3 of a row; past N the texel keeps what C holds there (C may be
 * a block of a wider matrix), so only an edge texel or beta != 0 reads C */
#define STORE4(r, h) if (row0 + (r) < p.M && col0 + 4 * (h) < p.N) { \
  int ci = int((c0 + uint(row0 + (r)) * uint(p.ldc) + uint(col0)) >> 2) + (h); \
  int left = p.N - col0 - 4 * (h); \
  precise vec4 v = p.alpha * acc[r][h]; \
  if (p.beta != 0.0 || left < 4) { \
    vec4 old = imageLoad(Ct, ci); \
    if (p.beta != 0.0) v = v + p.beta * old; \
    if (left < 4) v = vec4(v.x, left > 1 ? v.y : old.y, left > 2 ? v.z : old.z, old.w); \
  } \
  imageStore(Ct, ci, v); }
#define STORE_ROW(r) STORE4(r, 0) STORE4(r, 1)
#else
#define STORE(r, j) if (row0 + (r) < p.M && col0 + (j) < p.N) \
  store_c(c0 + uint(row0 + (r)) * uint(p.ldc) + uint(col0 + (j)), acc[r][(j) >> 2][(j) & 3]);
#define STORE_ROW(r) STORE(r, 0) STORE(r, 1) STORE(r, 2) STORE(r, 3) \
                     STORE(r, 4) STORE(r, 5) STORE(r, 6) STORE(r, 7)
#endif
#define INIT_ROW(r) acc[r][0] = vec4(0.0); acc[r][1] = vec4(0.0);

void main()
{
  uint z = gl_WorkGroupID.z;
  int row0 = int(gl_GlobalInvocationID.y) * TM, col0 = int(gl_GlobalInvocationID.x) * TN;
  if (row0 >= p.M || col0 >= p.N) return;   /* no barriers here: early exit is fine */
  uint a0 = p.a_off + z * p.sa, b0 = p.b_off + z * p.sb;
  int lda4 = p.lda >> 2, ldb4 = p.ldb >> 2;

  /* where each row of A (column of B) starts, see IA_ROW/IB_COL.  Rows and columns
   * past the edge are clamped: loaded, computed, never stored. */
  int ia[TM], ib[TN];
  R16(IA_ROW)
  R8(IB_COL)
  vec4 acc[TM][2], ra[TM], rb[4][2];
  R16(INIT_ROW)

  int kfull = p.K & ~3;
  for (int k = 0; k < kfull; k += 4) {
    int kq = k >> 2, kc0 = k, kc1 = k + 1, kc2 = k + 2, kc3 = k + 3;
    LOADS
    FMA_ALL
  }
  int rem = p.K - kfull;
  if (rem > 0) {
    /* the last k rows, clamped into the matrix, then masked */
    int k = kfull, kq = k >> 2, kc0 = k, kc1 = min(k + 1, p.K - 1), kc2 = min(k + 2, p.K - 1),
        kc3 = min(k + 3, p.K - 1);
    LOADS
    ZERO_K(1) ZERO_K(2) ZERO_K(3)
    FMA_ALL
  }

  uint c0 = p.c_off + z * p.sc;
  R16(STORE_ROW)
}
#else
#error "gemm.comp: define TILED or TEXEL"
#endif
