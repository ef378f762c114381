/* The scalability point (paper Table 4 / Fig. 3, ImageNet row): forgetting one class of
 * a K-class ImageNet model (ResNet-18, ResNeXt-50 32×4d; S×S input) with mnemonic codes,
 * and SSD's importance passes over a synthetic data set, timed on one backend.  Weights
 * and codes are seeded, not trained: the work done does not depend on their values.
 * The models come from one table (mb_scale_models): an entry opens the network and
 * wraps it as an mb_model, and the rest only sees the mb_model. */
#ifndef MB_BENCH_SCALE_H
#define MB_BENCH_SCALE_H

#include "core/forget_batched.h"
#include "core/resnet.h"
#include "harness/row.h"

typedef struct mb_scale mb_scale;

typedef struct {
  int model;                  /* index into mb_scale_models() (0: resnet18) */
  int classes, size, width;   /* 1000, 224, 64: the ImageNet models (ResNet-18: 11,689,512
                                 parameters, ResNeXt-50: 25,028,904); width: ResNets only */
  int batch;                  /* code rows per pass; 0: from the device's memory */
  int ssd_batch;              /* SSD's importance batch (64); also sizes the workspace */
  uint64_t seed;
  float lambda1, lambda2;
} mb_scale_cfg;

/* One model of the point. */
typedef struct {
  const char *name;     /* --model NAME, the spec's scale_model */
  /* The network for c's classes at size×size, batches up to max_batch, wrapped as s->md
   * (s->net: the model's own object, which close frees).  0, or −1 with the error on be. */
  int (*open)(mb_backend *be, const mb_scale_cfg *c, int max_batch, mb_scale *s);
  void (*close)(mb_scale *s);
  /* Parameters of c's network from its plan (no device memory); −1 with err when c is bad. */
  long long (*params)(const mb_scale_cfg *c, char *err, size_t len);
  /* Device bytes one batch row costs (activations, their gradients, scratch), for
   * mb_scale_auto_batch; ≤ 0 when unknown (then the batch is 32). */
  double (*row_bytes)(mb_backend *be, const mb_scale_cfg *c);
  /* The rows' model name ("resnet18-imagenet", "resnext50_32x4d-imagenet-w32"). */
  void (*row_name)(const mb_scale_cfg *c, char *out, size_t len);
  /* One line for text output. */
  void (*describe)(const mb_scale_cfg *c, char *out, size_t len);
} mb_scale_model;

/* The models built in, in table order; their count. */
int mb_scale_models(const mb_scale_model **out);
/* The index of `name` ("resnet18", "resnext50", "swin_t"), or −1 with why: one line
 * naming the models there are. */
int mb_scale_model_find(const char *name, char *why, size_t len);

struct mb_scale {
  mb_backend *be;
  mb_scale_cfg cfg;
  const mb_scale_model *model;
  void *net;                  /* the model's own object (mb_resnet, …) */
  mb_model md;
  mb_view codes;              /* [classes × 3·size·size], resident */
  float *w0;                  /* the seeded weights, restored before each repeat */
  int batch;                  /* the code batch in use */
};

typedef struct {
  double seconds, device_ms;  /* device_ms < 0: no device timer */
  long long n_forward, n_backward;
  mb_sign_choice choice;
} mb_scale_forget_run;

typedef struct {
  double seconds, if_s, id_s, device_ms;   /* total (I_f + I_D + dampening), the two passes */
  long long n_forward, n_backward;
  double dampened;
} mb_scale_ssd_run;

void mb_scale_defaults(mb_scale_cfg *c);
/* The ResNet of the point (c->model resnet18 or resnext50): ImageNet stem, cfg's classes,
 * size and width. */
void mb_scale_resnet_config(const mb_scale_cfg *c, mb_resnet_config *rc);
/* Code batch that fits the device: from info.mem_bytes and the model's row_bytes (at
 * most 32 on a CPU device, 512 on others; 32 when either is unknown), never above the
 * class count. */
int mb_scale_auto_batch(const mb_backend *be, const mb_scale_cfg *c);
/* Model (seeded init), codes (seeded, U[0,1)), weights saved on the host. */
int mb_scale_open(mb_backend *be, const mb_scale_cfg *c, mb_scale *s);
void mb_scale_close(mb_scale *s);
/* One timed forgetting of class 0 over the first n_classes codes (≤ cfg.classes; the
 * full run uses all); the seeded weights are restored first, outside the clock. */
int mb_scale_forget(mb_scale *s, int n_classes, mb_scale_forget_run *out,
                    mb_forget_progress progress, void *ctx);
/* SSD importance passes (I_f over n_f forget-class images, I_D over all n images,
 * retain first, batch cfg.ssd_batch, eval mode, §3) and the dampening, on a synthetic
 * set whose images cycle through `pool` distinct resident ones. */
int mb_scale_ssd(mb_scale *s, long n_f, long n, int pool, mb_scale_ssd_run *out,
                 mb_forget_progress progress, void *ctx);

/* What `bench-scale` (and a bench spec's `kind = scale` experiment) runs. */
typedef struct {
  int device, repeats, warmups;   /* repeats 0 / warmups -1: by device type (5/1 GPU, 1/0 CPU) */
  int json, no_ssd;
  mb_scale_cfg cfg;
  long ssd_n, ssd_f;              /* SSD: images in D, forget-class images */
  int ssd_pool;                   /* distinct resident images (0: min(ssd_n, 1024)) */
} mb_scale_opts;

void mb_scale_opts_defaults(mb_scale_opts *o);
/* --quick: K 1000 at S 32 (same parameter count, tiny activations), SSD 64 / 128. */
void mb_scale_opts_quick(mb_scale_opts *o);
/* Runs the point (the model o->cfg.model) on backend `name` and writes one row per
 * method (mnemonic, ssd)
 * to sink (NULL: stdout), or text when sink is NULL and !o->json; an unavailable
 * backend gives one skipped row, a failure a failed row naming why.  Returns 0, or -1
 * if it failed or the sink did. */
int mb_scale_backend(const mb_scale_opts *o, const char *name, const mb_row_sink *sink);

#endif
