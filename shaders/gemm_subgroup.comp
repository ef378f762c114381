#version 450
/* SGEMM for GPUs with subgroup shuffles, row-major: C = alpha·op(A)·op(B) + beta·C,
 * batched over gl_WorkGroupID.z; beta == 0 never reads C.  Same push constants as
 * gemm.comp.  No shared memory and no barriers: A travels between the lanes of a
 * subgroup instead (docs/architecture.md, "Vulkan GEMM designs").
 *
 * A work-group of WG invocations computes a TM × (WG·TN) block of C: every
 * invocation owns the same TM rows and the TN columns lid, lid + WG, ... (so B loads
 * and C stores coalesce).  For each slice of S = gl_SubgroupSize values of k, lane l
 * loads A(row, k0 + l) for its TM rows; then for each k of the slice every lane reads
 * the TM values of lane k - k0 with subgroupShuffle and its own TN values of B.  The
 * block shape does not depend on the subgroup size, so the host needs no guess of it
 * (devices with several sizes may pick any).
 *
 * Every lane takes part in every shuffle: rows and columns past the edge are clamped
 * on load and never stored; k past K is zeroed by a select (the loaded value may be
 * inf or NaN).  Only subgroupShuffle is needed (SUBGROUP_FEATURE_SHUFFLE_BIT). */
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0, local_size_y_id = 1) in;   /* y is 1 */
layout(constant_id = 2) const bool TA = false;
layout(constant_id = 3) const bool TB = false;
layout(constant_id = 4) const int TM = 8;
layout(constant_id = 5) const int TN = 4;

layout(push_constant) uniform P {
  int M, N, K, lda, ldb, ldc;
  uint a_off, b_off, c_off;   /* elements */
  uint sa, sb, sc;            /* batch strides in elements */
  float alpha, beta;
} p;

layout(std430, binding = 0) readonly buffer Ab { float a[]; };
layout(std430, binding = 1) readonly buffer Bb { float b[]; };
layout(std430, binding = 2) buffer Cb { float c[]; };

void main()
{
  const int WG = int(gl_WorkGroupSize.x);
  int lid = int(gl_LocalInvocationID.x);
  uint z = gl_WorkGroupID.z;
  int m0 = int(gl_WorkGroupID.y) * TM, n0 = int(gl_WorkGroupID.x) * (WG * TN);
  uint a0 = p.a_off + z * p.sa, b0 = p.b_off + z * p.sb;
  /* a subgroup wider than the work-group has lanes that never run */
  int S = min(int(gl_SubgroupSize), WG);
  int lane = int(gl_SubgroupInvocationID);

  int rowc[TM], colc[TN];
  [[unroll]] for (int i = 0; i < TM; i++) rowc[i] = min(m0 + i, p.M - 1);
  [[unroll]] for (int j = 0; j < TN; j++) colc[j] = min(n0 + lid + j * WG, p.N - 1);
  float acc[TM][TN];
  [[unroll]] for (int i = 0; i < TM; i++)
    [[unroll]] for (int j = 0; j < TN; j++) acc[i][j] = 0.0;

  for (int k0 = 0; k0 < p.K; k0 += S) {
    /* this lane's k of the slice: A(row, kl) for the TM rows */
    int kl = min(k0 + lane, p.K - 1);
    bool kin = k0 + lane < p.K;
    float ra[TM];
    [[unroll]] for (int i = 0; i < TM; i++) {
      float v = a[a0 + (TA ? uint(kl) * uint(p.lda) + uint(rowc[i])
                           : uint(rowc[i]) * uint(p.lda) + uint(kl))];
      ra[i] = kin ? v : 0.0;
    }
    int kn = min(S, p.K - k0);   /* uniform: every lane runs every shuffle */
    for (int kk = 0; kk < kn; kk++) {
      uint k = uint(k0 + kk);
      float br[TN];
      [[unroll]] for (int j = 0; j < TN; j++)
        br[j] = b[b0 + (TB ? uint(colc[j]) * uint(p.ldb) + k : k * uint(p.ldb) + uint(colc[j]))];
      [[unroll]] for (int i = 0; i < TM; i++) {
        float av = subgroupShuffle(ra[i], uint(kk));
        [[unroll]] for (int j = 0; j < TN; j++) acc[i][j] += av * br[j];
      }
    }
  }

  uint c0 = p.c_off + z * p.sc;
  [[unroll]] for (int i = 0; i < TM; i++) {
    int row = m0 + i;
    [[unroll]] for (int j = 0; j < TN; j++) {
      int col = n0 + lid + j * WG;
      if (row < p.M && col < p.N) {
        uint ci = c0 + uint(row) * uint(p.ldc) + uint(col);
        precise float r = p.alpha * acc[i][j];
        if (p.beta != 0.0) r = r + p.beta * c[ci];
        c[ci] = r;
      }
    }
  }
}
