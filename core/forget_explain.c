/* Per-tensor statistics of the §2.2 update: the Fisher and δ come from the core's
 * own op chain; only the maxima and counts are taken on the host. */
#include "core/forget_explain.h"
#include "core/forget_mnemonic.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int mb_forget_explain(mb_model *md, mb_view codes, int n_classes, const int *forget, int n_forget,
                      float lambda1, float lambda2, mb_tensor_update *out)
{
  mb_backend *be = md->be;
  const size_t P = md->total;
  mb_view ff = mb_new(be, P), fr = mb_new(be, P);
  float *h = malloc(sizeof(float) * 3 * P);
  int rc = -1;
  if (!h) { mb_fail(be, MB_OOM, "explain: out of host memory"); goto out; }
  float *hf = h, *hr = h + P, *hw = h + 2 * P;
  mb_model_fisher_from_codes(md, codes, n_classes, forget, n_forget, ff, fr);
  mb_download(be, hf, ff, P);
  mb_download(be, hr, fr, P);
  mb_download(be, hw, md->w, P);
  mb_model_delta_from_fisher(md, ff, fr, lambda1, lambda2);   /* δ into ff */
  mb_sync(be);
  if (!mb_ok(be)) goto out;
  for (int s = 0; s < md->nseg; s++) {
    mb_tensor_update *u = &out[s];
    const size_t a = md->offs[s], b = md->offs[s + 1];
    snprintf(u->name, sizeof u->name, "%s", mb_model_tensor_name(md, s));
    u->n = b - a;
    u->max_eta = 0.0;
    u->max_abs_w = 0.0;
    for (size_t i = a; i < b; i++) {
      double eta = (double)hf[i] / (double)hr[i];
      if (eta > u->max_eta) u->max_eta = eta;
      if (fabs(hw[i]) > u->max_abs_w) u->max_abs_w = fabs(hw[i]);
    }
    u->alpha = fmin((double)lambda1, (double)lambda2 / u->max_eta);
    u->capped = (double)lambda2 / u->max_eta < (double)lambda1;
  }
  mb_download(be, hf, ff, P);   /* now δ */
  mb_sync(be);
  if (!mb_ok(be)) goto out;
  for (int s = 0; s < md->nseg; s++) {
    mb_tensor_update *u = &out[s];
    u->max_delta = 0.0;
    u->n_over = 0;
    for (size_t i = md->offs[s]; i < md->offs[s + 1]; i++) {
      if (hf[i] > u->max_delta) u->max_delta = hf[i];
      u->n_over += fabsf(hf[i]) > fabsf(hw[i]);
    }
  }
  rc = 0;
out:
  free(h);
  mb_release(be, ff);
  mb_release(be, fr);
  return rc;
}
