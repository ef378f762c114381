/* The method registry and the mnemonic-code method's entry. */
#include "core/method.h"
#include "core/forget_mnemonic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const mb_method_param k_mnemonic_params[] = {
  {"lambda1", 1e-3, "scale of δ when max η is small (paper MNIST value; CIFAR uses 1e-5)"},
  {"lambda2", 10.0, "cap on the largest δ of each tensor (paper MNIST value; CIFAR uses 1e4)"},
};

static int mnemonic_forget(const mb_forget_request *rq, mb_forget_outcome *out)
{
  mb_sign_choice c = {0, 0, 0};
  mb_model wrapped, *md = mb_method_model(rq, &wrapped);
  int rc = mb_model_forget_mnemonic(md, rq->codes, rq->n_classes, rq->forget, rq->n_forget,
                                    (float)rq->params[0], (float)rq->params[1], &c);
  out->sign = c.sign;
  snprintf(out->note, sizeof out->note, "score+ %.3f, score- %.3f", c.score_plus, c.score_minus);
  return rc;
}

int mb_method_require_mlp(const mb_forget_request *rq, const char *name)
{
  if (rq->m) return 0;
  if (rq->model)
    mb_fail(rq->model->be, MB_BAD_ARG, "method %s does not support %s yet", name,
            mb_model_kind_name(rq->model->kind));
  return -1;
}

mb_model *mb_method_model(const mb_forget_request *rq, mb_model *scratch)
{
  if (rq->model) return rq->model;
  mb_model_from_mlp(rq->m, scratch);
  return scratch;
}

const mb_method mb_method_mnemonic = {
  .name = "mnemonic", .alias = NULL, .target = "mnemonic codes (K per model)",
  .needs = MB_NEEDS_NOTHING, .params = k_mnemonic_params, .n_params = 2,
  .uses_codes_model = 1, .lambda_params = {"lambda1", "lambda2"},
  .forget = mnemonic_forget,
};

/* Baselines register here (each defined in baselines/<name>.c). */
extern const mb_method mb_method_ours_w_data, mb_method_ssd, mb_method_fastmu, mb_method_sfdn,
  mb_method_mumis, mb_method_retrain;

static const mb_method *const k_methods[] = {
  &mb_method_mnemonic,
  &mb_method_ours_w_data,
  &mb_method_ssd,
  &mb_method_fastmu,
  &mb_method_sfdn,
  &mb_method_mumis,
  &mb_method_retrain,
};

int mb_method_list(const mb_method *const **out)
{
  *out = k_methods;
  return (int)(sizeof k_methods / sizeof k_methods[0]);
}

const mb_method *mb_method_find(const char *name)
{
  const mb_method *const *all;
  int n = mb_method_list(&all);
  for (int i = 0; i < n; i++)
    if (strcmp(all[i]->name, name) == 0 || (all[i]->alias && strcmp(all[i]->alias, name) == 0))
      return all[i];
  return NULL;
}

void mb_method_defaults(const mb_method *me, double *values)
{
  for (int i = 0; i < me->n_params; i++) values[i] = me->params[i].value;
}

int mb_method_set_param(const mb_method *me, double *values, const char *kv, char *err, size_t len)
{
  const char *eq = strchr(kv, '=');
  if (!eq) { snprintf(err, len, "--param '%s': expected key=value", kv); return -1; }
  for (int i = 0; i < me->n_params; i++) {
    const char *k = me->params[i].name;
    if (strlen(k) == (size_t)(eq - kv) && strncmp(kv, k, (size_t)(eq - kv)) == 0) {
      char *end;
      double v = strtod(eq + 1, &end);
      if (end == eq + 1 || *end) { snprintf(err, len, "--param %s: '%s' is not a number", k, eq + 1); return -1; }
      values[i] = v;
      return 0;
    }
  }
  snprintf(err, len, "method %s has no parameter '%.*s'", me->name, (int)(eq - kv), kv);
  return -1;
}
