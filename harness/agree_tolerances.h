/* Tolerances of the agreement suite: f32 results against the f64 oracle.
 *
 * Starting points from architecture.md §7.4, then calibrated: measure cpu
 * (OpenBLAS f32) against ref and allow about 10× that.  ggml's blanket 1e-7 is
 * the upper bound for NMSE.  Never loosen a class to hide a backend bug: add a
 * per-backend override below, with its cause, only for a documented precision
 * limit of that API.
 */
#ifndef MB_AGREE_TOLERANCES_H
#define MB_AGREE_TOLERANCES_H

#include "harness/agree.h"

/* Indexed by agree_tol_class. */
static const agree_tol k_agree_tol[AGREE_TOL__COUNT] = {
  /* No rounding happens in a selection or a copy: any difference is a bug. */
  [AGREE_TOL_EXACT] = {0.0, 0.0},
  /* One to three roundings (a·x+b with or without FMA, division and sqrt at
   * 2.5–3 ulp on OpenCL/Vulkan): errors ~1e-7 relative, NMSE ~1e-14. */
  [AGREE_TOL_ELT] = {1e-12, 2e-6},
  /* exp/log/cos at up to a few ulp (Vulkan exp: 3 + 2|x| ulp), softmax sums. */
  [AGREE_TOL_TRANSC] = {1e-10, 2e-5},
  /* f32 dot products of K <= 4608 against f64: NMSE ~ eps²·K ~ 1e-11 with a
   * blocked order; the max error catches one wrong tile that NMSE averages away. */
  [AGREE_TOL_GEMM] = {1e-9, 2e-5},
  /* Sums of up to 10^6 terms: fine for pairwise/tree orders, while a single
   * sequential f32 accumulator over 784000 normals (NMSE ~3e-9) fails. */
  [AGREE_TOL_REDUCE] = {1e-9, 2e-5},
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
