/* Helpers every method shares (the methods themselves and their list live in
 * the methods layer: methods/, baselines/). */
#include "core/method.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
