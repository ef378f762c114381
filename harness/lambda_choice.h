/* Where λ1 and λ2 of a forgetting run come from (docs/specification.md §2.4):
 * the user (--lambda1, --lambda2, --param), the data set's row in
 * core/hparams.c, or, for a data set and model without a row, the codes
 * (core/lambda_codes.h, the suite's own rule).  Result rows say which
 * (`lambda_source`). */
#ifndef MB_LAMBDA_CHOICE_H
#define MB_LAMBDA_CHOICE_H

#include "core/lambda_codes.h"
#include "harness/session.h"

/* "user", "table" or "codes" for a method with the §2.2 λ1, λ2 (the mnemonic
 * method); "" for any other.  dataset: the model's training set; model: its name in
 * the table (mb_hparams_model); width: a ResNet's width (core/hparams.h).  NULL, with a
 * one-line message, for --lambda-from table on a model the table has no row for at all
 * (ResNeXt-50, Swin-T). */
const char *mb_lambda_source(const mb_opts *o, const mb_method *me, const char *dataset,
                             const char *model, int width);
/* Source "codes": chooses λ1, λ2 on the session's model and writes them into the
 * method's params; untimed, and the weights are left as they were.  0 or -1
 * (a one-line message printed). */
int mb_lambda_choose(mb_session *s, const mb_method *me, const int *forget, int n_forget,
                     double *params, mb_lambda_choice *ch);

/* One line on stdout: the choice and how it was reached. */
void mb_lambda_print(const mb_lambda_choice *ch);

#endif
