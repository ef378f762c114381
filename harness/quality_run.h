/* The quality metrics of a forgetting run (core/quality.h, docs/specification.md
 * §7.7) for the commands that write rows: which to compute (--metrics), the
 * retrained reference model on the session's backend, and the row fields. */
#ifndef MB_QUALITY_RUN_H
#define MB_QUALITY_RUN_H

#include "core/quality.h"
#include "harness/json.h"
#include "harness/session.h"

enum {
  MB_METRIC_MIA = 1,
  MB_METRIC_DISTANCE = 2,
  MB_METRIC_RELEARN = 4,
  MB_METRIC_ALL = 7,
};

/* "all", "none" or a comma list of mia, distance, relearn into a mask; -1 with a
 * one-line message naming the bad word. */
int mb_metrics_parse(const char *list, unsigned *mask, char *err, size_t len);

/* Computes the metrics of `mask` for the session's model (already forgotten):
 * MIA and the distance to `retrained` (a checkpoint of the same architecture;
 * needed for MB_METRIC_DISTANCE), then the relearn time towards e_f_before's
 * accuracy (100 − E_F before forgetting).  Relearning changes the session's
 * weights: callers restore them before using the model again.  0, or -1 with
 * a reason in why. */
int mb_session_quality(mb_session *s, unsigned mask, const mb_checkpoint *retrained,
                       const int *forget, int n_forget, double e_f_before, mb_quality *q,
                       char *why, size_t len);

/* The row fields of the metrics in mask (docs/architecture.md §8): metrics,
 * mia, mia_n_shadow, mia_n_target, act_dist_forget, act_dist_retain, js_forget,
 * js_retain, relearn_steps, relearn_reached, relearn_target, quality_s (host seconds the
 * metrics took, the reference's load included).  Nothing when mask is 0. */
void mb_row_quality(mb_json *j, unsigned mask, const mb_quality *q);

#endif
