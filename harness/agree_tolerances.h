/* Tolerances of the agreement suite: f32 results against the f64 oracle.
 *
 * Calibrated from two measurements (seed 20231, 2026-11-22): the cpu backend
 * (OpenBLAS f32) against ref, and the worst *legitimate* order a device may use
 * (a plain sequential f32 accumulator, simulated on the host; API precision
 * limits).  Each limit is about 10× the larger of the two, capped by ggml's
 * blanket 1e-7.  Never loosen a class to hide a backend bug: add a per-backend
 * override below, with its cause, only for a documented precision limit of
 * that API.
 */
#ifndef MB_AGREE_TOLERANCES_H
#define MB_AGREE_TOLERANCES_H

#include "harness/agree.h"

/* Indexed by agree_tol_class: {NMSE, max|a-r|/max|r|}. */
static const agree_tol k_agree_tol[AGREE_TOL__COUNT] = {
  /* No rounding happens in a selection or a copy: any difference is a bug. */
  [AGREE_TOL_EXACT] = {0.0, 0.0},
  /* cpu: 0 (bit-identical).  Legitimate: FMA contraction, division and sqrt at
   * 2.5–3 ulp on OpenCL/Vulkan, i.e. <= 3.6e-7 relative, NMSE <= 1.3e-13. */
  [AGREE_TOL_ELT] = {1e-12, 2e-6},
  /* cpu: NMSE <= 2.3e-14, max 3.0e-7 (rng normal, softmax).  Legitimate:
   * OpenCL exp/log/cos <= 4 ulp; Vulkan exp 3 + 2|x| ulp, ~9e-6 relative at
   * the |x| <= 35 the cases reach. */
  [AGREE_TOL_TRANSC] = {1e-10, 2e-5},
  /* cpu: NMSE <= 8.5e-14, max 6.6e-7 (K = 1000).  A sequential f32 K loop:
   * 3.1e-13 / 1.1e-6 at K = 1000, 1.7e-12 / 2.9e-6 at K = 4608.  TF32 or f16
   * accumulation (NMSE ~1e-7) fails, as it should. */
  [AGREE_TOL_GEMM] = {2e-11, 3e-5},
  /* cpu: 0 (f64 accumulation).  256 strided f32 partials over 784000 normals:
   * NMSE 1.8e-12.  One sequential f32 accumulator over the MLP's 784000
   * weights (sum 2.5e-10, sum of squares 1.3e-7) is not a sane order and fails. */
  [AGREE_TOL_REDUCE] = {1e-10, 1e-5},
  /* Batch norm (forward, backward): per-channel sums over n·hw (up to 25088
   * elements), then sqrt and division; an error in a channel's mean or invstd
   * reaches all of its elements.  cpu/opencl (f64 sums): NMSE <= 6.7e-15, max
   * 1.8e-7, except a mean of 100 (std 1): the f32 mean itself is off by up to
   * 3.8e-6, so NMSE 4.2e-12, max 9.1e-7.  Legitimate: plain f32 partials and a
   * pairwise tree (Vulkan, measured): NMSE 3.0e-11, max 2.7e-6 on that case. */
  [AGREE_TOL_NORM] = {1e-10, 2e-5},
};

/* Per-backend exceptions; each needs the cause. */
typedef struct {
  const char *backend;
  agree_tol_class cls;
  agree_tol tol;
  const char *cause;
} agree_tol_override;

static const agree_tol_override k_agree_tol_overrides[] = {
  {NULL, AGREE_TOL_EXACT, {0.0, 0.0}, NULL},   /* none needed so far */
};

#endif
