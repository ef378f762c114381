/* Training with mnemonic codes (docs/specification.md §0.3, §1.2): mini-batch SGD with
 * momentum and weight decay; each sample is replaced by its class's code with
 * probability t_mix, decided afresh every epoch from the seeded stream. */
#ifndef MB_TRAIN_H
#define MB_TRAIN_H

#include "core/devdata.h"
#include "core/mlp.h"
#include "core/model.h"

typedef struct {
  int epochs, batch;
  float lr, momentum, weight_decay;
  float t_mix;              /* 0: plain training */
  uint64_t seed;
  int max_steps;            /* > 0: stop each epoch after this many steps (benchmarks) */
  int steps;                /* > 0: run exactly this many SGD steps in all, as many epochs as
                             * that takes (epochs is then ignored): fine-tuning (§1.3) */
  const int *exclude;       /* classes whose samples are left out (retrain oracle), or NULL */
  int n_exclude;
  int augment;              /* §0.1 CIFAR crop + flip of data rows (core/augment.h) */
  int cosine_tmax;          /* > 0: lr_e = lr·(1 + cos(π·e/T))/2 in epoch e (§0.3); 0: constant */
  void (*progress)(void *ctx, int epoch, int epochs, int step, int steps, double loss);
  void *progress_ctx;
} mb_train_opts;

typedef struct {
  double seconds;           /* wall time of the whole training, synchronised */
  double last_epoch_loss;   /* mean training loss of the last epoch */
  long long samples;        /* samples processed */
  long long replaced;       /* of which replaced by codes */
} mb_train_stats;

void mb_train_defaults(mb_train_opts *o);   /* the paper's MNIST recipe */

/* Trains the model in place (BN in train mode).  codes: K·D floats on the device
 * (none when t_mix == 0).  Returns 0, or -1 with the backend's sticky error set. */
int mb_model_train(mb_model *md, const mb_devdata *train, mb_view codes, const mb_train_opts *o,
                   mb_train_stats *st);
/* The same for an MLP (wraps it). */
int mb_train(mb_mlp *m, const mb_devdata *train, mb_view codes, const mb_train_opts *o,
             mb_train_stats *st);
/* The learning rate of epoch e under o's schedule. */
float mb_train_lr_at(const mb_train_opts *o, int epoch);

#endif
