/* FIM approximation error (docs/specification.md §7.4, paper Fig. 5): the diagonal
 * Fisher information from the K mnemonic codes, or from n real training
 * samples per class, against the "oracle" FIM from every training sample, on
 * the same model.  err = ‖f̂ − f_oracle‖₂ / P, for f_F (the default) and f_R. */
#ifndef MB_FIM_H
#define MB_FIM_H

#include "core/devdata.h"
#include "core/mlp.h"

#include <stdint.h>

/* f_F and f_R from training samples: f_c = mean over the chosen samples of
 * class c of the per-sample squared CE gradient (batched, eval mode), then
 * f_F = (1e-16 + Σ_{c∈C_F} f_c)/|C_F| and f_R likewise, the convention of
 * forget_mnemonic.c.  per_class = 0 takes every sample (the oracle); otherwise
 * min(per_class, class size) samples drawn uniformly without replacement with
 * a generator keyed by seed.  Writes P elements into f_forget and f_remain.
 * Returns 0, or -1 with the backend's sticky error set. */
int mb_fim_from_data(mb_mlp *m, const mb_devdata *train, int n_classes, const int *forget,
                     int n_forget, int per_class, uint64_t seed, mb_view f_forget, mb_view f_remain);

typedef struct {
  double err_F, err_R;        /* ‖f̂ − f‖₂ / P */
  double rel_F, rel_R;        /* ‖f̂ − f‖₂ / ‖f‖₂ */
} mb_fim_error;

/* Both errors from device vectors (downloaded; norms in double on the host). */
int mb_fim_compare(mb_backend *be, size_t P, mb_view approx_F, mb_view approx_R, mb_view oracle_F,
                   mb_view oracle_R, mb_fim_error *e);

#endif
