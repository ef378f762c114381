/* The forgetting-method interface shared by the mnemonic-code method and every
 * baseline (baselines/NAME.c).  A method sees the model, the codes and, when it
 * declares it needs them, the training data on the device; it calls only the
 * core and the op table. */
#ifndef MB_METHOD_H
#define MB_METHOD_H

#include "core/devdata.h"
#include "core/mlp.h"
#include "core/model.h"

#define MB_METHOD_MAX_PARAMS 16

typedef enum {
  MB_NEEDS_NOTHING = 0,       /* codes only (ours) */
  MB_NEEDS_FORGET = 1 << 0,   /* forget-class training samples */
  MB_NEEDS_RETAIN = 1 << 1,   /* remaining-class training samples */
} mb_data_needs;

typedef struct {
  const char *name;       /* "lambda1" */
  double value;           /* default */
  const char *help;
} mb_method_param;

typedef struct {
  mb_mlp *m;                    /* weights are replaced in place; NULL for a non-MLP model */
  mb_model *model;              /* the same model through the model interface (NULL: wrap m) */
  mb_view codes;                /* K·D on the device (may be none for plain models) */
  int n_classes;
  const int *forget; int n_forget;
  const mb_devdata *train;      /* device-resident training set (NULL if the method needs none) */
  uint64_t seed;
  /* The compared model's training recipe where known (retrain repeats it,
   * docs/specification.md §7.3); epochs 0 = unknown. */
  int train_epochs, train_batch;
  float train_lr, train_t_mix;
  int train_augment, train_cosine_tmax;   /* §0.1 crop+flip, cosine T_max (0: constant lr) */
  const double *params;         /* values in the order of the method's param table */
} mb_forget_request;

typedef struct {
  int sign;                     /* ± choice where the method has one, else 0 */
  char note[128];               /* e.g. "selected 1234 of 795010 parameters" */
} mb_forget_outcome;

typedef struct {
  const char *name;             /* "mnemonic", "ssd", ... */
  const char *alias;            /* or NULL */
  const char *target;           /* Table 1 "target": what the method perturbs/uses */
  unsigned needs;               /* mb_data_needs */
  const mb_method_param *params;
  int n_params;
  /* What the harness needs to know of the method, so that it names none: */
  int uses_codes_model;          /* runs on the model trained with codes, whatever model the baselines use */
  int wants_train_recipe;        /* its epochs, batch, lr, t_mix params default to the compared model's recipe */
  const char *lambda_params[2];  /* the params the common --lambda1 / --lambda2 options set (NULL: none) */
  /* Returns 0, or -1 with the backend's sticky error set. */
  int (*forget)(const mb_forget_request *rq, mb_forget_outcome *out);
} mb_method;

/* For methods that run on the MLP only (so far): 0 when rq->m is set, else -1
 * with "method NAME does not support MODEL yet" as the backend's error. */
int mb_method_require_mlp(const mb_forget_request *rq, const char *name);
/* The request's model: rq->model, or rq->m wrapped into *scratch. */
mb_model *mb_method_model(const mb_forget_request *rq, mb_model *scratch);
/* "k=v" → sets values[i] for the param named k; -1 with a message if unknown. */
int mb_method_set_param(const mb_method *me, double *values, const char *kv, char *err, size_t len);
void mb_method_defaults(const mb_method *me, double *values);

#endif
