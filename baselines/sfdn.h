/* SFDN, Fisher forgetting (baselines/sfdn.c): its steps, exposed for the unit tests. */
#ifndef BL_SFDN_H
#define BL_SFDN_H

#include "baselines/plan.h"

/* F = (1/n)·Σ_x Σ_y p(y|x)·(∇_w CE(z(x), y))² over the plan's n samples (the
 * true Fisher diagonal), computed `chunk` samples at a time: one forward and
 * K backward passes per sample; per layer Σ_y p_y·δ_y² is summed first, so
 * the squared-gradient GEMM runs once per chunk, not once per class. */
void bl_sfdn_fisher(mb_mlp *m, const mb_devdata *dd, const bl_plan *p, int chunk, mb_view F);

/* F (consumed) → the noise variance of every parameter (§5.2 steps 1–7):
 * var = α·min((F + 1e-8)^power, 1e3), min 1e2 first on the final Linear's
 * weight and bias, weights averaged over their input dimension, forget rows
 * of the final layer set to 1e-4 with their means (in m->w) set to 0, then
 * ×10 on the final layer and on every other bias. */
void bl_sfdn_variance(mb_mlp *m, mb_view F, const int *forget, int n_forget, float alpha,
                      float power);

/* The ResNet forms: F through the model interface (any model; K backward passes
 * per chunk after one forward), and §5.2 with fc.weight/fc.bias as the final
 * layer and conv weights averaged over their input channels only. */
void bl_sfdn_fisher_md(mb_model *md, const mb_devdata *dd, const bl_plan *p, int chunk, mb_view F);
void bl_sfdn_variance_rn(mb_resnet *r, mb_view F, const int *forget, int n_forget, float alpha,
                         float power);

#endif
