/* The mnemonic-code method's descriptor: one-shot forgetting from the codes
 * alone (core/forget_mnemonic.c). */
#include "core/forget_mnemonic.h"
#include "core/method.h"

#include <stdio.h>

static const mb_method_param k_mnemonic_params[] = {
  {"lambda1", 1e-3, "scale of δ when max η is small (paper MNIST value; CIFAR uses 1e-5)"},
  {"lambda2", 10.0, "cap on the largest δ of each tensor (paper MNIST value; CIFAR uses 1e4)"},
};

static int mnemonic_forget(const mb_forget_request *rq, mb_forget_outcome *out)
{
  mb_sign_choice c = {0};
  mb_model wrapped, *md = mb_method_model(rq, &wrapped);
  int rc = mb_model_forget_mnemonic(md, rq->codes, rq->n_classes, rq->forget, rq->n_forget,
                                    (float)rq->params[0], (float)rq->params[1], &c);
  out->sign = c.sign;
  int n = snprintf(out->note, sizeof out->note, "score+ %.3f, score- %.3f", c.score_plus,
                   c.score_minus);
  /* §2.3 may keep a candidate that lost remaining codes (docs/specification.md §9) */
  if (rc == 0 && mb_sign_choice_kept(&c) < 1.0 && n > 0 && (size_t)n < sizeof out->note)
    snprintf(out->note + n, sizeof out->note - (size_t)n,
             "; the chosen weights misclassify %.0f%% of the remaining codes",
             100.0 * (1.0 - mb_sign_choice_kept(&c)));
  return rc;
}

const mb_method mb_method_mnemonic = {
  .name = "mnemonic", .alias = NULL, .target = "mnemonic codes (K per model)",
  .needs = MB_NEEDS_NOTHING, .params = k_mnemonic_params, .n_params = 2,
  .uses_codes_model = 1, .lambda_params = {"lambda1", "lambda2"},
  .forget = mnemonic_forget,
};
