/* FastMU / UNSIR (baselines/fastmu.c): the error-maximising noise step, exposed
 * for the unit tests. */
#ifndef BL_FASTMU_H
#define BL_FASTMU_H

#include "core/mlp.h"
#include "core/model.h"

/* One Adam step (lr, β = (0.9, 0.999), ε = 1e-8, step t ≥ 1) on the noise N
 * [B × D] against  loss = −mean CE(model(N), labels) + reg·mean_b Σ N²:
 *   ∂loss/∂N = −∂(mean CE)/∂x + (2·reg/B)·N.
 * labels: i32 [B]; mom, var, grad: B·D scratch (Adam state kept by the caller).
 * loss: none, or B per-row CE values of this step (before the update). */
void bl_unsir_noise_step(mb_mlp *m, mb_view noise, mb_view labels, int B, float reg, float lr,
                         mb_view mom, mb_view var, mb_view grad, int t, mb_view loss);
/* The same step for any model (noise [B × in_dim]); train: BN in train mode
 * (batch statistics, running ones updated), else eval mode. */
void bl_unsir_noise_step_md(mb_model *md, mb_view noise, mb_view labels, int B, float reg,
                            float lr, mb_view mom, mb_view var, mb_view grad, int t, mb_view loss,
                            int train);

#endif
