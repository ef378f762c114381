#version 450
/* SGEMM on cooperative matrices (VK_NV_cooperative_matrix), row-major:
 * C = alpha·op(A)·op(B) + beta·C, batched over gl_WorkGroupID.z; beta == 0 never
 * reads C.  Same push constants as gemm.comp.  Compiled here, run only on devices
 * that list the extension (docs/architecture.md, "Vulkan GEMM designs").
 *
 * A work-group is 4 subgroups (2 × 2); each subgroup owns FM × FN fragments of
 * LM × LN (the device's fragment shape, a specialization), so a work-group computes
 * a BM × BN = (2·FM·LM) × (2·FN·LN) block of C.  Each BK = LK slice of A and B is
 * staged in shared memory with bounds checks (any shape, offset, leading dimension
 * and transpose), loaded into fragments, multiplied with f32 accumulators; the
 * block goes back through shared memory so that alpha, beta and the edges are
 * applied per element.
 *
 * Inputs (-D):
 *  (none)  f32 fragments, for devices that list f32 × f32 → f32: the f32 GEMM.
 *  CM_F16  f16 fragments (what NVIDIA lists).  Each input x is split as
 *          hi = f16(x), lo = f16(x − hi) and the block is Alo·Bhi + Ahi·Blo +
 *          Ahi·Bhi with f32 accumulation: about 22 bits of every input take part,
 *          near the f32 GEMM.  f16's range limits it: |x| ≥ 65520 becomes inf (and
 *          inf inputs NaN), |x| below 2^-14 keeps fewer bits.  Off unless forced. */
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_control_flow_attributes : require
#if defined(CM_F16)
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#define ELT float16_t
#define EBITS 16
#else
#define ELT float
#define EBITS 32
#endif

layout(local_size_x_id = 0, local_size_y_id = 1) in;   /* x: 4 subgroups, y: 1 */
layout(constant_id = 2) const bool TA = false;
layout(constant_id = 3) const bool TB = false;
layout(constant_id = 4) const int LM = 16;
layout(constant_id = 5) const int LN = 16;
layout(constant_id = 6) const int LK = 16;
const int FM = 2, FN = 2;
const int BM = 2 * FM * LM, BN = 2 * FN * LN, BK = LK;

layout(push_constant) uniform P {
  int M, N, K, lda, ldb, ldc;
  uint a_off, b_off, c_off;   /* elements */
  uint sa, sb, sc;            /* batch strides in elements */
  float alpha, beta;
} p;

layout(std430, binding = 0) readonly buffer Ab { float a[]; };
layout(std430, binding = 1) readonly buffer Bb { float b[]; };
layout(std430, binding = 2) buffer Cb { float c[]; };

shared ELT Ah[BM * BK];   /* [m][k] */
shared ELT Bh[BK * BN];   /* [k][n] */
#if defined(CM_F16)
shared ELT Al[BM * BK];
shared ELT Bl[BK * BN];
#endif
shared float Cs[BM * BN];

#define FRAG_A fcoopmatNV<EBITS, gl_ScopeSubgroup, LM, LK>
#define FRAG_B fcoopmatNV<EBITS, gl_ScopeSubgroup, LK, LN>
#define FRAG_C fcoopmatNV<32, gl_ScopeSubgroup, LM, LN>

void main()
{
  uint z = gl_WorkGroupID.z;
  int m0 = int(gl_WorkGroupID.y) * BM, n0 = int(gl_WorkGroupID.x) * BN;
  int tid = int(gl_LocalInvocationID.x), NT = int(gl_WorkGroupSize.x);
  /* the host sizes the work-group as 4 subgroups of the reported size: devices with
   * this extension (NVIDIA) run compute shaders in subgroups of that one size */
  int sg = int(gl_SubgroupID), wm = sg / 2, wn = sg % 2;
  uint a0 = p.a_off + z * p.sa, b0 = p.b_off + z * p.sb;

  FRAG_C acc[FM][FN];
  [[unroll]] for (int i = 0; i < FM; i++)
    [[unroll]] for (int j = 0; j < FN; j++) acc[i][j] = FRAG_C(0.0);

  for (int k0 = 0; k0 < p.K; k0 += BK) {
    /* the fast-moving index follows the storage order, so loads coalesce */
    for (int e = tid; e < BM * BK; e += NT) {
      int mm = TA ? e % BM : e / BK, kk = TA ? e / BM : e % BK;
      int gm = m0 + mm, gk = k0 + kk;
      float v = 0.0;
      if (gm < p.M && gk < p.K)
        v = a[a0 + (TA ? uint(gk) * uint(p.lda) + uint(gm) : uint(gm) * uint(p.lda) + uint(gk))];
#if defined(CM_F16)
      float16_t h = float16_t(v);
      Ah[mm * BK + kk] = h;
      Al[mm * BK + kk] = float16_t(v - float(h));
#else
      Ah[mm * BK + kk] = v;
#endif
    }
    for (int e = tid; e < BN * BK; e += NT) {
      int nn = TB ? e / BK : e % BN, kk = TB ? e % BK : e / BN;
      int gn = n0 + nn, gk = k0 + kk;
      float v = 0.0;
      if (gn < p.N && gk < p.K)
        v = b[b0 + (TB ? uint(gn) * uint(p.ldb) + uint(gk) : uint(gk) * uint(p.ldb) + uint(gn))];
#if defined(CM_F16)
      float16_t h = float16_t(v);
      Bh[kk * BN + nn] = h;
      Bl[kk * BN + nn] = float16_t(v - float(h));
#else
      Bh[kk * BN + nn] = v;
#endif
    }
    barrier();
    FRAG_A ah[FM];
    FRAG_B bh[FN];
    [[unroll]] for (int i = 0; i < FM; i++)
      coopMatLoadNV(ah[i], Ah, uint((wm * FM + i) * LM * BK), uint(BK), false);
    [[unroll]] for (int j = 0; j < FN; j++)
      coopMatLoadNV(bh[j], Bh, uint((wn * FN + j) * LN), uint(BN), false);
#if defined(CM_F16)
    /* the small terms first */
    FRAG_A al[FM];
    FRAG_B bl[FN];
    [[unroll]] for (int i = 0; i < FM; i++)
      coopMatLoadNV(al[i], Al, uint((wm * FM + i) * LM * BK), uint(BK), false);
    [[unroll]] for (int j = 0; j < FN; j++)
      coopMatLoadNV(bl[j], Bl, uint((wn * FN + j) * LN), uint(BN), false);
    [[unroll]] for (int i = 0; i < FM; i++)
      [[unroll]] for (int j = 0; j < FN; j++) {
        acc[i][j] = coopMatMulAddNV(al[i], bh[j], acc[i][j]);
        acc[i][j] = coopMatMulAddNV(ah[i], bl[j], acc[i][j]);
      }
#endif
    [[unroll]] for (int i = 0; i < FM; i++)
      [[unroll]] for (int j = 0; j < FN; j++) acc[i][j] = coopMatMulAddNV(ah[i], bh[j], acc[i][j]);
    barrier();
  }

  [[unroll]] for (int i = 0; i < FM; i++)
    [[unroll]] for (int j = 0; j < FN; j++)
      coopMatStoreNV(acc[i][j], Cs, uint((wm * FM + i) * LM * BN + (wn * FN + j) * LN), uint(BN),
                     false);
  barrier();
  uint c0 = p.c_off + z * p.sc;
  for (int e = tid; e < BM * BN; e += NT) {
    int row = m0 + e / BN, col = n0 + e % BN;
    if (row < p.M && col < p.N) {
      uint ci = c0 + uint(row) * uint(p.ldc) + uint(col);
      precise float r = p.alpha * Cs[e];
      if (p.beta != 0.0) r = r + p.beta * c[ci];
      c[ci] = r;
    }
  }
}
