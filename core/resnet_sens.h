/* The MU-Mis double backward of ResNet-18 (docs/specification.md §6.3): the weight
 * gradient of the input-sensitivity loss through conv, BN (eval), ReLU,
 * max/avg-pool and the residual adds, as the four passes A–D on the op table. */
#ifndef MB_RESNET_SENS_H
#define MB_RESNET_SENS_H

#include "core/resnet.h"
#include "core/sensitivity.h"

typedef struct {
  mb_sens_common c;
  mb_view scale;      /* BN eval scale s = γ·invstd of every channel [n_stats] */
  mb_view gidx;       /* ImageNet stem: flat max-pool argmax of every output [rows × pooled] */
  int32_t *host_idx;  /* staging for gidx */
} mb_rn_sens_ws;

int mb_rn_sens_ws_create(mb_resnet *r, int rows, mb_rn_sens_ws *ws);
void mb_rn_sens_ws_destroy(mb_resnet *r, mb_rn_sens_ws *ws);

/* As mb_mlp_sens_grad (mlp_extra.h) for a ResNet whose eval-mode forward of h
 * samples has just run (rows [0, h)); seeds i32 [2h]: rows [0, h) the target
 * class of each sample, [h, 2h) its irrelevant class.  2h must fit r->max_batch
 * and ws->c.rows.  grad += ∇_w Σ_n φ(g_{c,n}) − φ(g_{c′,n}), loss_acc += the sum.
 * Biases, BN β and the running statistics get no gradient (J does not depend
 * on them almost everywhere).  Overwrites the stored activations and the
 * backward scratch: run a forward before the next backward. */
void mb_resnet_sens_grad(mb_resnet *r, mb_rn_sens_ws *ws, mb_view seeds, int h, int l2,
                         mb_view grad, mb_view loss_acc);

#endif
