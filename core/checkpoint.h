/* Model checkpoints: weights, mnemonic codes and the settings that made them,
 * with a format version and a checksum.  Written to a temporary file and
 * renamed, so a failed write never leaves a partial checkpoint. */
#ifndef MB_CHECKPOINT_H
#define MB_CHECKPOINT_H

#include "core/codes.h"
#include "core/dataset.h"
#include "core/mlp.h"
#include "core/model.h"

/* 2: model kind, ResNet configuration and BN running statistics (version 1
 * files, MLP only, still load).  3: where the training data came from
 * (data_kind, data_path); versions 1 and 2 load with both empty.  4: how a model was
 * fine-tuned with codes (the finetune_* keys, header text only); versions 1 to 3 load
 * with finetune_steps = 0 (not fine-tuned).  5: a ResNeXt-50 (model=resnext50_32x4d with
 * the groups and base_width keys); a file is written with the lowest version that holds
 * it (5 for a ResNeXt, 4 otherwise), and versions 1 to 4 load as before.  model=swin_t
 * (with the keys patch, window, embed, depths, heads, mlp_ratio, in_shape) needs no
 * version of its own: the binary layout is unchanged and an older reader refuses it as
 * "unsupported model 'swin_t'"; it is written as version 4. */
#define MB_CKPT_VERSION 5

struct mb_checkpoint {
  mb_model_kind kind;
  mb_mlp_config cfg;      /* kind == MB_MODEL_MLP */
  mb_resnet_config rcfg;  /* kind == MB_MODEL_RESNET18 (ResNet-18 or, by rcfg.arch, ResNeXt-50) */
  mb_swin_config scfg;    /* kind == MB_MODEL_SWIN_T */
  int n_classes;
  mb_code_dist code_dist;
  int has_codes;
  float t_mix;
  uint64_t seed;
  int epochs, batch;
  float lr;
  char dataset[64];
  uint64_t dataset_checksum;
  char data_kind[16];     /* "idx", "cifar-10", "synthetic"; "" in a version 1/2 file */
  char data_path[4096];   /* absolute folder of an idx / cifar-10 set, else "" */
  char backend[16];
  char device[128];
  char forgotten[64];     /* e.g. "0" or "" */
  /* Fine-tuning with codes (docs/specification.md §1.3); finetune_steps 0: none. */
  int finetune_steps, finetune_batch;
  float finetune_lr, finetune_weight_decay, finetune_t_mix;
  uint64_t finetune_seed;             /* shuffle / replacement streams (and new codes) */
  double finetune_s;                  /* one run, host clock around the synchronised loop */
  char finetune_base[4096];           /* absolute path of the base checkpoint, or "" */
  uint64_t finetune_base_checksum;    /* the base file's checksum (its last 8 bytes) */
  uint64_t checksum;      /* set by mb_checkpoint_read: this file's checksum; not a header key */
  size_t n_params;
  float *params;          /* n_params */
  float *codes;           /* n_classes · input size or NULL */
  size_t n_stats;         /* BN channels (0 for an MLP) */
  float *run_mean, *run_var;   /* n_stats each or NULL */
};

/* Elements of one input (= one code) of the checkpoint's model. */
int mb_checkpoint_in_dim(const mb_checkpoint *c);

/* Records where a training set came from: its kind, and for a folder (dir, or
 * the default Fashion-MNIST folder when dir is NULL) its absolute path.  A path
 * that cannot be resolved or holds a newline is left empty. */
void mb_checkpoint_set_data(mb_checkpoint *c, const mb_dataset *train, const char *dir);

int mb_checkpoint_write(const char *path, const mb_checkpoint *c, char *err, size_t len);
int mb_checkpoint_read(const char *path, mb_checkpoint *c, char *err, size_t len);
void mb_checkpoint_free(mb_checkpoint *c);

#endif
