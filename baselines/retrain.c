/* Retrain from scratch on the retain data: the oracle (docs/specification.md §7.3).
 * Every layer is reinitialised (PyTorch's default init from the seed; a ResNet's
 * BN running statistics are reset too) and trained with the compared model's
 * own recipe (epochs, batch, lr, t_mix from its checkpoint, each overridable;
 * for a CIFAR ResNet also the §0.1 crop+flip and the cosine schedule) with the
 * forget classes left out; the head keeps all K outputs.  Its cost is the
 * retrain time. */
#include "core/method.h"
#include "core/train.h"

#include <stdio.h>

enum { P_EPOCHS, P_BATCH, P_LR, P_MOMENTUM, P_WD, P_TMIX, P_SEED, P__COUNT };

static const mb_method_param k_retrain_params[] = {
  {"epochs", -1, "epochs (-1: the compared model's)"},
  {"batch", -1, "mini-batch size (-1: the compared model's)"},
  {"lr", -1, "constant SGD learning rate, the MNIST recipe (-1: the compared model's)"},
  {"momentum", 0.9, "SGD momentum"},
  {"weight_decay", 5e-4, "weight decay"},
  {"t_mix", -1, "code replacement probability (-1: the compared model's; 0 for plain models)"},
  {"seed", -1, "init and data-order seed (-1: the model's seed)"},
};

static int retrain_forget(const mb_forget_request *rq, mb_forget_outcome *out)
{
  mb_model wrapped, *md = mb_method_model(rq, &wrapped);
  const double *p = rq->params;
  mb_train_opts o;
  mb_train_defaults(&o);
  o.epochs = 30;   /* recipe unknown: the train command's defaults, plain model */
  o.t_mix = 0.0f;
  if (rq->train_epochs > 0) {
    o.epochs = rq->train_epochs;
    o.batch = rq->train_batch > 0 ? rq->train_batch : o.batch;
    o.lr = rq->train_lr > 0 ? rq->train_lr : o.lr;
    o.t_mix = rq->train_t_mix;
    o.augment = rq->train_augment;
    o.cosine_tmax = rq->train_cosine_tmax;
  }
  if (p[P_EPOCHS] >= 0) o.epochs = (int)p[P_EPOCHS];
  if (p[P_BATCH] >= 0) o.batch = (int)p[P_BATCH];
  if (p[P_LR] >= 0) o.lr = (float)p[P_LR];
  if (p[P_TMIX] >= 0) o.t_mix = (float)p[P_TMIX];
  o.momentum = (float)p[P_MOMENTUM];
  o.weight_decay = (float)p[P_WD];
  o.seed = p[P_SEED] < 0 ? rq->seed : (uint64_t)p[P_SEED];
  o.exclude = rq->forget;
  o.n_exclude = rq->n_forget;
  if (o.epochs < 1 || o.batch < 1 || o.batch > md->max_batch) {
    mb_fail(md->be, MB_BAD_ARG, "retrain: need epochs >= 1 and 1 <= batch <= %d", md->max_batch);
    return -1;
  }
  if (o.t_mix > 0 && mb_is_none(rq->codes)) {
    mb_fail(md->be, MB_BAD_ARG, "retrain: t_mix > 0 needs the model's mnemonic codes");
    return -1;
  }
  mb_model_init(md, o.seed);   /* every tensor (and BN statistics) afresh */
  mb_train_stats st;
  int rc = mb_model_train(md, rq->train, rq->codes, &o, &st);
  out->sign = 0;
  snprintf(out->note, sizeof out->note,
           "%d epochs (batch %d, lr %g, t_mix %g%s%s) on %lld retain samples, last epoch loss %.4f",
           o.epochs, o.batch, o.lr, o.t_mix, o.augment ? ", crop+flip" : "", o.cosine_tmax ? ", cosine" : "", st.samples / (o.epochs ? o.epochs : 1), st.last_epoch_loss);
  return rc;
}

const mb_method mb_method_retrain = {
  .name = "retrain", .alias = NULL,
  .target = "retrain from scratch on D_r (oracle)",
  .needs = MB_NEEDS_RETAIN, .params = k_retrain_params, .n_params = P__COUNT,
  .wants_train_recipe = 1,
  .forget = retrain_forget,
};
