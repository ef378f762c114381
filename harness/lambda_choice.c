/* λ1, λ2: the user's, the table's or the codes' (see lambda_choice.h). */
#include "harness/lambda_choice.h"
#include "core/hparams.h"
#include "harness/common.h"

#include <stdio.h>
#include <string.h>

/* the method's index of its λ param k (0: λ1, 1: λ2), or -1 */
static int lambda_index(const mb_method *me, int k)
{
  for (int i = 0; me->lambda_params[k] && i < me->n_params; i++)
    if (strcmp(me->params[i].name, me->lambda_params[k]) == 0) return i;
  return -1;
}

/* --param NAME=… for one of the method's λ params */
static int param_sets_lambda(const mb_opts *o, const mb_method *me)
{
  for (int i = 0; i < o->n_params; i++)
    for (int k = 0; k < 2; k++) {
      const char *n = me->lambda_params[k];
      size_t l = n ? strlen(n) : 0;
      if (n && strncmp(o->params[i], n, l) == 0 && o->params[i][l] == '=') return 1;
    }
  return 0;
}

const char *mb_lambda_source(const mb_opts *o, const mb_method *me, const char *dataset,
                             const char *model, int width)
{
  /* the §2.2 rule's λ's: a method that perturbs the codes-trained model by them */
  if (lambda_index(me, 0) < 0 || lambda_index(me, 1) < 0 || !me->uses_codes_model) return "";
  if (o->set_lambda1 || o->set_lambda2 || param_sets_lambda(o, me)) return "user";
  if (o->lambda_from && strcmp(o->lambda_from, "codes") == 0) return "codes";
  /* --lambda-from table without a row: the model kind's fallback row (core/hparams.c),
   * which a model the paper never ran (ResNeXt-50, Swin-T) does not have */
  if (o->lambda_from) {
    if (strcmp(mb_hparams_for(dataset, model)->model, model) != 0) {
      mb_die_msg("--lambda-from table: the lambda table (specification §2.4) has no row for %s; "
                 "use --lambda-from codes or --lambda1/--lambda2", model);
      return NULL;
    }
    return "table";
  }
  return mb_hparams_row(dataset, model, width) ? "table" : "codes";
}

int mb_lambda_choose(mb_session *s, const mb_method *me, const int *forget, int n_forget,
                     double *params, mb_lambda_choice *ch)
{
  if (mb_lambda_from_codes(&s->md, s->codes, s->n_classes, forget, n_forget, ch) != 0) {
    mb_die_msg("choosing lambda from the codes on %s failed: %s", s->backend_name,
               mb_error(s->be));
    return -1;
  }
  params[lambda_index(me, 0)] = ch->lambda1;
  params[lambda_index(me, 1)] = ch->lambda2;
  return 0;
}

void mb_lambda_print(const mb_lambda_choice *ch)
{
  if (ch->score >= 2.0)
    printf("lambda1 %g, lambda2 %g chosen from the codes (code score 2 from lambda1 %g, lambda2 %g "
           "on; %d grid pairs scored)\n", ch->lambda1, ch->lambda2, ch->first_lambda1,
           ch->first_lambda2, ch->tried);
  else
    printf("lambda1 %g, lambda2 %g chosen from the codes: no grid pair separates them (best code "
           "score %.3f; %d pairs scored)\n", ch->lambda1, ch->lambda2, ch->score, ch->tried);
}
