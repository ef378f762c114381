/* Quality of forgetting beyond A_R and E_F (docs/specification.md §7.7): the
 * confidence-based membership-inference attack (MIA), the distance to the
 * retrained model (activation distance and Jensen–Shannon divergence of the
 * softmax outputs) and the relearn time.  Everything that touches the network
 * runs on the device through the op table; only per-sample numbers (one or two
 * floats a sample) come back to the host, where the attack's logistic fit and
 * the means are taken. */
#ifndef MB_QUALITY_H
#define MB_QUALITY_H

#include "core/devdata.h"
#include "core/model.h"

#include <stdint.h>

/* The fixed settings of the metrics (stated in the specification). */
enum {
  MB_MIA_MAX_SHADOW = 5000,     /* members and non-members each, at most */
  MB_MIA_NEWTON_ITERS = 100,    /* Newton steps of the logistic fit, at most */
  MB_RELEARN_BATCH = 32,
  MB_RELEARN_CHECK = 1,         /* forget-class accuracy measured after every step */
  MB_RELEARN_CAP = 500,         /* steps */
};
#define MB_RELEARN_LR 0.001f
#define MB_RELEARN_MOMENTUM 0.9f
#define MB_MIA_RIDGE 1e-4       /* L2 penalty on the slope (mean log-loss + ridge/2·w1²) */

typedef struct {
  double mia;                   /* % of forget-train samples the attack calls members */
  int mia_n_shadow;             /* members used in the fit (= non-members) */
  int mia_n_target;             /* forget-train samples scored */
  double mia_w0, mia_w1;        /* the fitted logit w0 + w1·confidence */
  double act_forget, act_retain;  /* mean ‖p − q‖₂ over forget-class / retain-class test samples */
  double js_forget, js_retain;    /* mean JS(p, q) in nats over the same samples */
  long n_dist_forget, n_dist_retain;
  long relearn_steps;           /* SGD steps until the target was reached (or the cap) */
  int relearn_reached;          /* 0: the cap was hit first */
  double relearn_target, relearn_acc;  /* target and last measured forget-class accuracy, % */
  double seconds;               /* host time of computing the metrics (set by the harness) */
} mb_quality;

/* Sets every field to NaN / 0 (not measured). */
void mb_quality_init(mb_quality *q);

/* Per row r of the probability matrices P, Q [rows×k] on the device:
 * l2[r] = ‖P_r − Q_r‖₂ and js[r] = ½ Σ_j P log(P/M) + ½ Σ_j Q log(Q/M), M = (P+Q)/2,
 * natural log, 0·log 0 = 0.  scratch: 3·rows·k elements. */
void mb_quality_prob_rows(mb_backend *be, mb_view P, mb_view Q, int rows, int k, mb_view scratch,
                          mb_view l2, mb_view js);

/* The logistic fit of the attack on host numbers: members x_in[n_in] (label 1) and
 * non-members x_out[n_out] (label 0), Newton's method with step halving on the mean
 * log-loss + MB_MIA_RIDGE/2·w1²; then the % of targets with w0 + w1·x > 0.  -1 when a
 * side is empty. */
int mb_mia_logistic(const double *x_in, int n_in, const double *x_out, int n_out,
                    const double *target, int n_target, double *w0, double *w1, double *pct);

/* The true-class confidence p_y = exp(−CE) of samples idx[n] of dd under md with
 * parameters w (none: the model's), eval mode; conf: host [n]. */
int mb_quality_confidence(mb_model *md, mb_view w, const mb_devdata *dd, const int32_t *idx, int n,
                          double *conf);

/* MIA: members = a seeded sample of the retain-class training samples, non-members
 * = as many retain-class test samples, target = every forget-class training sample. */
int mb_quality_mia(mb_model *md, const mb_devdata *train, const mb_devdata *test, const int *forget,
                   int n_forget, uint64_t seed, mb_quality *q);

/* Activation distance and JS between md and the reference model ref (the
 * retrained one, on the same backend and of the same input and class count) over
 * the test set, split into forget-class and retain-class samples. */
int mb_quality_distance(mb_model *md, mb_model *ref, const mb_devdata *test, const int *forget,
                        int n_forget, mb_quality *q);

/* Relearn time: SGD on the forget-class training samples from md's weights until the
 * forget-class test accuracy reaches target_acc (%), checked every MB_RELEARN_CHECK
 * steps, at most MB_RELEARN_CAP steps.  Overwrites md's weights (and a ResNet's BN
 * statistics): callers restore them. */
int mb_quality_relearn(mb_model *md, const mb_devdata *train, const mb_devdata *test,
                       const int *forget, int n_forget, double target_acc, uint64_t seed,
                       mb_quality *q);

#endif
