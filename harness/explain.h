/* forget --explain: the §2.2 update per tensor, printed before the forgetting. */
#ifndef MB_EXPLAIN_H
#define MB_EXPLAIN_H

#include "harness/session.h"

/* Prints one line per parameter tensor (max η, α and which λ bounds it, max δ,
 * max |w|, how many elements δ exceeds |w| in) to `out`, for the method's λ1, λ2
 * in params.  A method without the §2.2 λ's gets a one-line note.  0, or -1 with
 * a one-line message printed. */
int mb_explain_update(mb_session *s, const mb_method *me, const double *params,
                      const int *forget, int n_forget, FILE *out);

#endif
