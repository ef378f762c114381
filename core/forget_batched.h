/* Mnemonic-code forgetting (docs/specification.md §2) with the code passes in batches, for
 * models whose K codes do not fit one batch workspace (the 1000-class 224×224
 * ResNet-18 of the scalability point).  Same arithmetic as mb_model_forget_mnemonic:
 * codes ordered forget classes first, per-sample squared gradients accumulated over
 * the batches (eval mode), δ per tensor, both candidates scored on the K codes. */
#ifndef MB_FORGET_BATCHED_H
#define MB_FORGET_BATCHED_H

#include "core/forget_mnemonic.h"

/* Called after each batch is submitted: phase "fim" or "choose", rows done of total. */
typedef void (*mb_forget_progress)(void *ctx, const char *phase, int done, int total);

/* As mb_model_forget_mnemonic, the code passes `batch` rows at a time (batch ≤
 * md->max_batch).  codes [K × in_dim] stay resident; K forward+backward passes for
 * the FIM and 2K forward passes for the ± choice.  The weights are replaced. */
int mb_model_forget_mnemonic_batched(mb_model *md, mb_view codes, int n_classes, const int *forget,
                                     int n_forget, int batch, float lambda1, float lambda2,
                                     mb_sign_choice *choice, mb_forget_progress progress,
                                     void *ctx);

#endif
