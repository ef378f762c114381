/* Command-line options shared by the mnemobench commands (getopt_long). */
#ifndef MB_OPTIONS_H
#define MB_OPTIONS_H

#include "core/codes.h"
#include "core/method.h"
#include "core/model.h"

#include <stdint.h>

enum { MB_SYNTHETIC_MODEL = 2 };   /* mb_opts.synthetic: set from the model's checkpoint */

typedef struct {
  const char *backend;
  int device;
  const char *data;
  int synthetic;   /* 1: --synthetic; MB_SYNTHETIC_MODEL: the checkpoint says so */
  uint64_t seed;
  int epochs, batch;
  double lr, t_mix, lambda1, lambda2;
  const char *model_spec, *act;
  mb_code_dist code_dist;
  const char *in, *out;          /* --model FILE (input checkpoint), --out FILE */
  const char *classes;
  const char *method;
  int json;
  int explain;
  const char *lambda_from;       /* "codes" or "table": overrides the §2.4 default source */                   /* forget: per-tensor table of the §2.2 update */
  int repeats;
  int repeats_given;             /* --repeats was given (forget, quickstart: 1 otherwise) */
  int warmups;                   /* untimed runs before the timed one (forget) */
  const char *backends[8]; int n_backends;   /* repeated --backend for bench */
  int set_epochs, set_t_mix, set_lambda1, set_lambda2, set_width;
  mb_model_kind model_kind;      /* --model mlp|resnet18 (a new model's architecture) */
  int width;                     /* --width N: ResNet stem width (64 = the real model) */
  int train_limit, test_limit;   /* > 0: first N samples of each class */
  int steps;                     /* --steps N: timed training steps (bench-train; 0: its default);
                                  * finetune: the step budget */
  double weight_decay;           /* --weight-decay X (finetune; 5e-4) */
  const char *weights;           /* --weights FILE: a weights container (import, export) */
  const char *in_shape, *stem;   /* --in-shape C,H,W, --stem cifar|imagenet (import) */
  const char *params[16]; int n_params;     /* --param k=v */
  const char *metrics;           /* --metrics LIST (forget): quality metrics, harness/quality_run.h */
  const char *retrained;         /* --retrained FILE: the reference of the distance metrics */
} mb_opts;

/* Parses argv (argv[0] = command name).  `usage` is printed for --help (exit
 * code 0 via *done = 1) or after a bad option (returns -1). */
/* Default parameters of a method, then --lambda1/--lambda2 (into the params its descriptor
 * names for them, lambda_params) and --param k=v. */
int mb_opts_method_params(const mb_opts *o, const mb_method *me, double *values);
int mb_parse_opts(int argc, char **argv, const char *usage, mb_opts *o, int *done);
/* The model's name in the λ table (core/hparams.c, docs/specification.md §2.4): "mlp",
 * "resnet18", "resnext50_32x4d" (kind MB_MODEL_RESNET18 with arch MB_RN_RESNEXT50) or
 * "swin_t".  The last two have no row: their λ come from the codes. */
const char *mb_hparams_model(mb_model_kind kind, mb_rn_arch arch);
/* t_mix, λ1 and λ2 the user did not set, from the data set and model (`model` as
 * mb_hparams_model names it; core/hparams.c).  A model with no row at all takes t_mix 0.1
 * (the authors' value for their fine-tuned ImageNet models) and keeps λ1, λ2 (chosen from
 * the codes, harness/lambda_choice.h). */
void mb_opts_model_defaults(mb_opts *o, const char *model, const char *dataset);
void mb_opts_defaults(mb_opts *o);

#endif
