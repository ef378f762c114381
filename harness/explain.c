/* forget --explain (see explain.h). */
#include "harness/explain.h"
#include "core/forget_explain.h"
#include "harness/common.h"

#include <stdlib.h>
#include <string.h>

static int param_index(const mb_method *me, const char *name)
{
  for (int i = 0; name && i < me->n_params; i++)
    if (strcmp(me->params[i].name, name) == 0) return i;
  return -1;
}

int mb_explain_update(mb_session *s, const mb_method *me, const double *params,
                      const int *forget, int n_forget, FILE *out)
{
  const int i1 = param_index(me, me->lambda_params[0]), i2 = param_index(me, me->lambda_params[1]);
  if (i1 < 0 || i2 < 0 || !me->uses_codes_model) {
    fprintf(out, "explain: %s has no lambda1/lambda2 update of specification §2.2 to explain\n",
            me->name);
    return 0;
  }
  const float l1 = (float)params[i1], l2 = (float)params[i2];
  mb_tensor_update *u = calloc((size_t)s->md.nseg, sizeof *u);
  if (!u) { mb_die_msg("explain: out of host memory"); return -1; }
  if (mb_forget_explain(&s->md, s->codes, s->n_classes, forget, n_forget, l1, l2, u) != 0) {
    mb_die_msg("explain on %s failed: %s", s->backend_name, mb_error(s->be));
    free(u);
    return -1;
  }
  size_t over = 0;
  fprintf(out, "explain: lambda1 %g, lambda2 %g; per tensor: eta = f_F/f_R, alpha = min(lambda1, "
               "lambda2/max eta), delta = alpha*eta (specification §2.2)\n", l1, l2);
  fprintf(out, "%-28s %9s %10s %10s %-7s %10s %10s %9s\n", "tensor", "elements", "max eta", "alpha",
          "bound", "max delta", "max |w|", "delta>|w|");
  for (int i = 0; i < s->md.nseg; i++) {
    fprintf(out, "%-28s %9zu %10.3e %10.3e %-7s %10.3e %10.3e %9zu\n", u[i].name, u[i].n,
            u[i].max_eta, u[i].alpha, u[i].capped ? "lambda2" : "lambda1", u[i].max_delta,
            u[i].max_abs_w, u[i].n_over);
    over += u[i].n_over;
  }
  fprintf(out, "explain: delta exceeds |w| in %zu of %zu parameters\n", over, s->md.total);
  free(u);
  return 0;
}
