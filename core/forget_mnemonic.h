/* One-shot forgetting with mnemonic codes (docs/specification.md §2). */
#ifndef MB_FORGET_MNEMONIC_H
#define MB_FORGET_MNEMONIC_H

#include "core/mlp.h"
#include "core/model.h"

typedef struct {
  int sign;                  /* +1: w + δ chosen, −1: w − δ */
  double score_plus, score_minus;
  /* of each candidate, the fraction of remaining classes whose code is still
   * right: a candidate that predicts one class everywhere scores 1 + 1/(K − 1),
   * above an unchanged model's 1, so the score alone can hide a broken network */
  double remain_plus, remain_minus;
} mb_sign_choice;

/* The chosen candidate's fraction of remaining codes still right. */
static inline double mb_sign_choice_kept(const mb_sign_choice *c)
{
  return c->sign > 0 ? c->remain_plus : c->remain_minus;
}

/* Each step exists for any model (mb_model_*) and, unchanged, for an MLP. */

/* FIM diagonals from the K codes in one batched pass (eval mode): rows are ordered
 * forget classes first, so f_F and f_R are two per-sample squared-gradient
 * accumulations (§2.1; for a Linear layer two GEMMs). */
void mb_model_fisher_from_codes(mb_model *md, mb_view codes, int n_classes, const int *forget,
                                int n_forget, mb_view f_forget, mb_view f_remain);
void mb_fisher_from_codes(mb_mlp *m, mb_view codes, int n_classes, const int *forget, int n_forget,
                          mb_view f_forget, mb_view f_remain);

/* f_F, f_R (floors added, divided by the class counts) → δ in f_forget (§2.2):
 * r = log f_F − log f_R, NaN → 0, ±inf → the tensor's finite max, η = exp r,
 * α_l = min(λ1, λ2 / max η_l), δ = α_l·η.  f_remain is left unchanged. */
void mb_model_delta_from_fisher(mb_model *md, mb_view f_forget, mb_view f_remain, float lambda1,
                                float lambda2);
void mb_delta_from_fisher(mb_mlp *m, mb_view f_forget, mb_view f_remain, float lambda1,
                          float lambda2);

/* The forgetting update of mb_forget_args (backend.h): the backend's optional
 * forget_update where mb_has_opt(), else the op chain above, which needs a->delta
 * and P elements of scratch (minus may be the scratch; delta may be f_forget and
 * plus f_remain).  The two paths agree bit for bit on ref. */
void mb_forget_update_auto(mb_backend *be, const mb_forget_args *a, mb_view scratch);

/* The two candidates plus = w + δ, minus = w − δ (§2.3), δ as above.  plus and minus
 * may be f_remain and md->g, and minus may be md->w itself.  One call of the backend's
 * optional forget_update where it has one (mb_has_opt; f_forget is then left as it
 * is), else the op chain (δ left in f_forget). */
void mb_model_forget_candidates(mb_model *md, mb_view f_forget, mb_view f_remain, float lambda1,
                                float lambda2, mb_view plus, mb_view minus);

/* The same from the Fisher sums over the codes (floor included): the update divides
 * them by n_forget and n_remain first (§2.1 step 4), with no pass of its own where the
 * backend has the fused op. */
void mb_model_forget_candidates_sums(mb_model *md, mb_view f_forget, mb_view f_remain,
                                     int n_forget, int n_remain, float lambda1, float lambda2,
                                     mb_view plus, mb_view minus);

/* Puts the chosen candidate into md->w (nothing to do when it is w already). */
void mb_keep_candidate(mb_model *md, mb_view chosen);

/* The global ± choice (§2.3), scored (eval mode) on `rows` inputs already in the
 * input buffer with host labels: score = (1 − acc over forget rows) + acc over
 * remaining rows; ties go to minus.  Writes the chosen weights into w.  scratch
 * needs 2·P elements (plus / minus candidates). */
mb_sign_choice mb_model_choose_sign(mb_model *md, mb_view delta, mb_view scratch_plus,
                                    mb_view scratch_minus, int rows, const int32_t *labels,
                                    const int *forget, int n_forget);
mb_sign_choice mb_choose_sign(mb_mlp *m, mb_view delta, mb_view scratch_plus,
                              mb_view scratch_minus, int rows, const int32_t *labels,
                              const int *forget, int n_forget);

/* The whole method: FIM from codes, δ, ± choice; the weights are replaced. */
int mb_model_forget_mnemonic(mb_model *md, mb_view codes, int n_classes, const int *forget,
                             int n_forget, float lambda1, float lambda2, mb_sign_choice *choice);
int mb_forget_mnemonic(mb_mlp *m, mb_view codes, int n_classes, const int *forget, int n_forget,
                       float lambda1, float lambda2, mb_sign_choice *choice);

#endif
