/* Input-side derivatives of the MLP (core/mlp.h) that some forgetting methods
 * need: the loss gradient with respect to the input (UNSIR's noise search) and
 * the weight gradient of the input-sensitivity norm ‖∂z_k/∂x‖ (MU-Mis,
 * docs/specification.md §6.3–6.4), both batched on the op table. */
#ifndef MB_MLP_EXTRA_H
#define MB_MLP_EXTRA_H

#include "core/mlp.h"
#include "core/sensitivity.h"

/* dLoss/dx = δ_1·W_1 for the rows of the last mb_mlp_backward: dx [batch × dims[0]]. */
void mb_mlp_input_grad(mb_mlp *m, int batch, mb_view dx);

/* Workspace of mb_mlp_sens_grad for up to `rows` rows (twice the samples). */
typedef struct {
  int rows;
  mb_view d[MB_MAX_LAYERS + 1];   /* d_l (l = 1..L): signal at layer l's output; d_L = one-hot seeds */
  mb_view u[MB_MAX_LAYERS];       /* u_l (l = 0..L−1): signal at layer l+1's input; u_0 = ∂z_k/∂x */
  mb_view tmp;                    /* rows × widest layer */
  mb_sens_common c;               /* one-hot seeds, norms, the objective */
} mb_sens_ws;

int mb_sens_ws_create(mb_mlp *m, int rows, mb_sens_ws *ws);
void mb_sens_ws_destroy(mb_mlp *m, mb_sens_ws *ws);

/* For h samples whose forward has just run (act rows [0, h)), with seeds
 * (i32 [2h]: rows [0, h) the target class c of each sample, rows [h, 2h) its
 * irrelevant class c′):
 *   grad     += ∇_w Σ_n ( φ(g_{c,n}) − φ(g_{c′,n}) ),   g_k = ∂z_k/∂x,
 *   loss_acc += Σ_n ( φ(g_{c,n}) − φ(g_{c′,n}) )        (one element),
 * with φ = ‖·‖² (l2 = 0) or ‖·‖ (l2 = 1).  The activations are duplicated into
 * rows [h, 2h), so 2h must fit m->max_batch and ws->rows.
 * Passes (counted on m->passes, per row of the doubled batch): the input
 * backward (backward), the linearised forward on u = g that yields the
 * weight gradients of the direct path (forward), and for the sigmoid the
 * backward of the curvature term through σ″ (backward).  For ReLU σ″ = 0
 * almost everywhere and that pass is skipped (§6.3). */
void mb_mlp_sens_grad(mb_mlp *m, mb_sens_ws *ws, mb_view seeds, int h, int l2, mb_view grad,
                      mb_view loss_acc);

#endif
