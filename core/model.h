/* A small model interface so training, evaluation and the mnemonic-code method
 * are written once for every architecture (the MLP of mlp.h, the ResNet-18 of
 * resnet.h).  An mb_model is a non-owning view of a concrete model: its flat
 * parameter and gradient buffers, the segment table of its tensors, its input
 * buffer, its pass counters and an op table.  Wrapping costs nothing, so the
 * mb_mlp entry points (mb_train, mb_evaluate, ...) wrap on every call. */
#ifndef MB_MODEL_H
#define MB_MODEL_H

#include "core/mlp.h"
#include "core/mlp_extra.h"
#include "core/resnet.h"
#include "core/resnet_sens.h"
#include "core/swin.h"

typedef enum { MB_MODEL_MLP, MB_MODEL_RESNET18, MB_MODEL_SWIN_T } mb_model_kind;

/* acc += Σ over rows [r0, r1) of the per-sample squared gradients (flat, total). */

typedef struct {
  int want_grads;              /* write the batch gradient to g (overwritten) */
  int n_sq;                    /* per-sample squared gradients (after an eval-mode forward) */
  const mb_sq_target *sq;
  mb_view dx;                  /* when not none: dLoss/dinput [batch × in_dim] written here */
} mb_bwd_opts;

typedef struct mb_model mb_model;
typedef struct mb_checkpoint mb_checkpoint;   /* core/checkpoint.h */

/* Workspace of the input-sensitivity double backward (MU-Mis); one member is used. */
typedef struct {
  mb_sens_ws mlp;
  mb_rn_sens_ws rn;
} mb_model_sens;

typedef struct {
  /* Logits [batch × classes] of x (the input buffer when none) with parameters w
   * (the model's when none); train: batch statistics for BN (ignored by the MLP). */
  mb_view (*forward)(mb_model *md, mb_view w, mb_view x, int batch, int train);
  /* Softmax-CE of the last logits; dlogits = scale·(softmax − onehot). */
  void (*xent)(mb_model *md, mb_view labels, int batch, float scale, mb_view loss);
  /* Backward of the last forward from the dlogits written by xent. */
  void (*backward)(mb_model *md, int batch, const mb_bwd_opts *o);
  void (*init)(mb_model *md, uint64_t seed);
  /* MU-Mis (docs/specification.md §6.3–6.4): after an eval-mode forward of h samples,
   * grad += ∇_w Σ φ(∂z_c/∂x) − φ(∂z_c′/∂x) and loss += the sum; seeds i32 [2h]
   * (c of each sample, then c′); 2h rows must fit the model and the workspace. */
  int (*sens_create)(mb_model *md, int rows, mb_model_sens *ws);
  void (*sens_grad)(mb_model *md, mb_model_sens *ws, mb_view seeds, int h, int l2, mb_view grad,
                    mb_view loss);
  void (*sens_destroy)(mb_model *md, mb_model_sens *ws);
  /* Frees the concrete model made by mb_model_create. */
  void (*destroy)(mb_model *md);
  /* "784-1000-10 sigmoid", "resnet18-fmnist", "resnet18-cifar-w8" (a narrow one). */
  void (*describe)(const mb_model *md, char *name, size_t len);
  /* Architecture, weights and state (BN running statistics) into a checkpoint;
   * 0, or -1 when out of host memory. */
  int (*save)(mb_model *md, mb_checkpoint *c);
  /* Weights and state from a checkpoint of this architecture onto the device;
   * 0, or -1 with a one-line reason. */
  int (*load)(mb_model *md, const mb_checkpoint *c, char *err, size_t len);
  /* Trains with the crop+flip and cosine-lr recipe on normalised (CIFAR-style)
   * data (docs/specification.md §0.1). */
  int augments_normalised_data;
} mb_model_ops;

struct mb_model {
  mb_model_kind kind;
  const mb_model_ops *ops;
  mb_backend *be;
  mb_mlp *mlp;                 /* the wrapped model (one of the three) */
  mb_resnet *rn;
  mb_swin *sw;                 /* kind == MB_MODEL_SWIN_T */
  int sw_owned;                /* sw was allocated by mb_model_create (destroy frees it) */
  mb_view w, g;                /* flat parameters and gradients */
  const size_t *offs;          /* segment table: nseg + 1 offsets */
  int nseg;
  size_t total;
  mb_view in;                  /* input buffer [max_batch × in_dim] */
  mb_view dlogits;             /* what xent writes and backward reads [max_batch × classes] */
  int in_dim, classes, max_batch;
  mb_pass_count *passes;
};

void mb_model_from_mlp(mb_mlp *m, mb_model *md);
void mb_model_from_resnet(mb_resnet *r, mb_model *md);
/* Swin-T (core/swin.h): no batch statistics, so `train` changes nothing; MU-Mis's
 * input-sensitivity double backward is not written for it (sens_create fails with
 * MB_UNSUPPORTED and a reason). */
void mb_model_from_swin(mb_swin *s, mb_model *md);

/* What a model is made from: its kind and that kind's configuration. */
typedef struct {
  mb_model_kind kind;
  mb_mlp_config mlp;        /* kind == MB_MODEL_MLP */
  mb_resnet_config rn;      /* kind == MB_MODEL_RESNET18 */
  mb_swin_config sw;        /* kind == MB_MODEL_SWIN_T */
} mb_model_config;

/* The configuration of `kind` for inputs of shape c×h×w and n_classes classes
 * (0: the model's own count): the MLP from its spec ("784-1000-10") and
 * activation, or with no spec (NULL or "mlp") the paper's hidden layer between
 * the data's sizes; the ResNet-18 of docs/specification.md §0.2 at `width` (the
 * 1×28×28 variant for Fashion-MNIST-shaped input) with n_classes outputs; Swin-T
 * (torchvision's swin_t geometry on c×h×w input, n_classes or 1000 outputs; width
 * unused).  -1 with a reason. */
int mb_model_config_make(mb_model_kind kind, const char *mlp_spec, const char *act, int width,
                         int c, int h, int w, int n_classes, mb_model_config *cfg, char *err,
                         size_t len);
/* The configuration a checkpoint was made with. */
void mb_model_config_of(const mb_checkpoint *c, mb_model_config *cfg);
/* Elements of one input and number of classes of a configuration. */
int mb_model_config_in_dim(const mb_model_config *cfg);
int mb_model_config_classes(const mb_model_config *cfg);

/* Creates the model on be in the caller's storage of its kind (*mlp or *rn; a Swin-T
 * is allocated here and freed by mb_model_destroy) and
 * wraps it into md, with room for batches of `batch` rows and for what
 * evaluation and the methods' default batches need (a Swin-T: the batch and one
 * row per class only, its activations being large).  0, or -1 with the
 * backend's sticky error set. */
int mb_model_create(mb_backend *be, const mb_model_config *cfg, int batch, mb_mlp *mlp,
                    mb_resnet *rn, mb_model *md);
static inline void mb_model_destroy(mb_model *md) { md->ops->destroy(md); }
static inline void mb_model_describe(const mb_model *md, char *name, size_t len)
{
  md->ops->describe(md, name, len);
}
static inline int mb_model_save(mb_model *md, mb_checkpoint *c) { return md->ops->save(md, c); }
static inline int mb_model_load(mb_model *md, const mb_checkpoint *c, char *err, size_t len)
{
  return md->ops->load(md, c, err, len);
}

static inline mb_view mb_model_forward(mb_model *md, mb_view w, mb_view x, int batch, int train)
{
  return md->ops->forward(md, w, x, batch, train);
}
static inline void mb_model_xent(mb_model *md, mb_view labels, int batch, float scale, mb_view loss)
{
  md->ops->xent(md, labels, batch, scale, loss);
}
static inline void mb_model_backward(mb_model *md, int batch, const mb_bwd_opts *o)
{
  md->ops->backward(md, batch, o);
}
static inline void mb_model_init(mb_model *md, uint64_t seed) { md->ops->init(md, seed); }
static inline int mb_model_sens_create(mb_model *md, int rows, mb_model_sens *ws)
{
  return md->ops->sens_create(md, rows, ws);
}
static inline void mb_model_sens_grad(mb_model *md, mb_model_sens *ws, mb_view seeds, int h, int l2,
                                      mb_view grad, mb_view loss)
{
  md->ops->sens_grad(md, ws, seeds, h, l2, grad, loss);
}
static inline void mb_model_sens_destroy(mb_model *md, mb_model_sens *ws)
{
  md->ops->sens_destroy(md, ws);
}

/* The name of parameter tensor i (segment i), as PyTorch's named_parameters() gives it. */
const char *mb_model_tensor_name(const mb_model *md, int i);

/* "mlp" / "resnet18" / "swin_t" */
const char *mb_model_kind_name(mb_model_kind k);
int mb_model_kind_parse(const char *s, mb_model_kind *k);

/* "resnet18-fmnist", "resnet18-cifar-w16", "resnet18-imagenet": the name rows use. */
void mb_model_name_resnet(int imagenet_stem, int in_c, int in_h, int width, char *out, size_t len);
/* The same for either architecture of cfg: ResNet-18 as above, ResNeXt-50 as
 * "resnext50_32x4d-imagenet" (…-w16 for a narrow width, …_4x32d for other groups). */
void mb_model_name_rn(const mb_resnet_config *cfg, char *out, size_t len);

#endif
