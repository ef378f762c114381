/* ResNet-18 and ResNeXt-50 (32×4d) on the op table (docs/specification.md §0.2).
 *
 * ResNet-18: the CIFAR variant (3×3/1 stem, no max-pool; in_c = 1 and 28×28 for
 * Fashion-MNIST) and the ImageNet variant (7×7/2 stem + 3×3/2 max-pool) for timing.
 * BasicBlocks (2,2,2,2) at width·{1,2,4,8} channels; the head is a global average pool
 * (kuangliu's avg_pool(4) on the 4×4 output of a 32×32 or 28×28 input, torchvision's
 * adaptive pool on 224×224) and a Linear layer.
 *
 * ResNeXt-50 32×4d (arch MB_RN_RESNEXT50, torchvision's resnext50_32x4d, the scalability
 * experiment's second model): Bottleneck blocks (3,4,6,3) of three conv+BN units, 1×1 to
 * int(planes·base_width/64)·groups channels, a grouped 3×3 (groups 32, the stride here:
 * torchvision v1.5), 1×1 to 4·planes; planes = width·{1,2,4,8}; a 1×1 conv + BN
 * downsample on the first block of each stage; fc 2048 → classes (25,028,904 parameters
 * at 1000 classes).  Always torchvision's names (downsample, fc), whatever the stem.
 *
 * Parameters live in one flat buffer with a per-tensor table in PyTorch's
 * named_parameters() order (62 tensors for ResNet-18, 161 for ResNeXt-50; conv weights
 * [cout][(cin/groups)·kh·kw], linear [out][in]), so per-tensor segmented ops work as for
 * mb_mlp.  BN running statistics are separate buffers (never part of w, so forgetting
 * never perturbs them).
 */
#ifndef MB_RESNET_H
#define MB_RESNET_H

#include "core/mlp.h"   /* mb_pass_count */
#include "core/ops.h"
#include "core/sq_target.h"

#define MB_RN_MAX_TENSORS 161   /* ResNeXt-50: 53 units × 3 + fc weight and bias */
#define MB_RN_UNITS 53     /* conv+BN units: ResNeXt-50's stem, 16 blocks × 3, 4 downsamples */
#define MB_RN_BLOCKS 16

typedef enum { MB_RN_CIFAR, MB_RN_IMAGENET } mb_rn_stem;

/* 0 (the zero of a config) is ResNet-18, so older configurations keep their meaning. */
typedef enum { MB_RN_RESNET18 = 0, MB_RN_RESNEXT50 = 1 } mb_rn_arch;

typedef struct {
  int in_c, in_h, in_w;   /* input image */
  int width;              /* stem and stage-1 planes: 64 for the real models */
  int classes;
  mb_rn_stem stem;
  mb_rn_arch arch;
  int groups, base_width; /* ResNeXt only (0: 32 and 4, the 32×4d model); ResNet-18: unused */
} mb_resnet_config;

typedef enum {
  MB_PT_CONV, MB_PT_BN_WEIGHT, MB_PT_BN_BIAS, MB_PT_FC_WEIGHT, MB_PT_FC_BIAS
} mb_pt_kind;

/* Field names as mb_tensor / mb_param_table (mlp.h), with room for 161 tensors and
 * "layer4.0.downsample.1.weight". */
typedef struct {
  char name[32];
  size_t off, n;        /* in the flat buffer */
  int rows, cols;       /* conv [cout × (cin/groups)·kh·kw], linear [out × in], BN γ/β, bias [c × 1] */
  int k;                /* conv: the kernel's side (1, 3 or 7); 0 for the others */
  mb_pt_kind kind;
} mb_rn_tensor;

typedef struct {
  int n;
  mb_rn_tensor t[MB_RN_MAX_TENSORS];
  size_t offs[MB_RN_MAX_TENSORS + 1];   /* segment table for seg_reduce / seg_bcast */
  size_t total;
} mb_rn_table;

/* conv (no bias) → BN: the unit every layer of the network is made of. */
typedef struct {
  mb_conv_geom g;        /* per image (g.n is set per call) */
  int cout;
  int groups;            /* of the convolution (1 but ResNeXt's 3×3 layers) */
  int tw, tg;            /* tensors: conv weight; BN γ (β is tg + 1) */
  size_t soff;           /* first channel in the BN statistic buffers */
  mb_view c, y;          /* conv output (= BN input), BN output (ReLU / residual in place) */
} mb_rn_unit;

/* Elements of a unit's output for `batch` images. */
static inline size_t mb_rn_act(const mb_rn_unit *u, int batch)
{
  return (size_t)batch * (size_t)u->cout * (size_t)u->g.oh * (size_t)u->g.ow;
}

/* A residual block: the chain u1 → u2 (→ u3 for a Bottleneck; u3 < 0 for a BasicBlock),
 * ReLU after each unit but the last, whose output gets the shortcut added, then ReLU. */
typedef struct {
  int u1, u2, u3, sc;    /* unit indices; sc < 0: identity shortcut */
  mb_view in;            /* block input (a previous unit's y, or the max-pool output) */
} mb_rn_block;

typedef struct {
  mb_backend *be;
  mb_resnet_config cfg;
  mb_rn_table pt;
  mb_view w, g;                    /* parameters and gradients (flat, pt.total) */
  mb_view run_mean, run_var;       /* BN running statistics [n_stats] */
  size_t n_stats;                  /* Σ BN channels */
  float bn_eps, bn_momentum;       /* 1e-5, 0.1 */
  int update_stats;                /* train-mode forward updates run_* (1; 0 freezes them) */
  int max_batch;
  int n_units, n_blocks;
  int feat_c;                      /* channels into the head: 8·width, or 32·width (ResNeXt) */
  mb_rn_unit u[MB_RN_UNITS];
  mb_rn_block blk[MB_RN_BLOCKS];
  mb_conv_geom mpool, gpool;       /* ImageNet max-pool window; global average pool */
  mb_view in;                      /* input [max_batch × in_c·in_h·in_w] */
  mb_view pooled, pool_idx;        /* ImageNet: max-pool output and argmax */
  mb_view feat, dfeat;             /* pooled features [max_batch × feat_c] and their gradient */
  mb_view logits, dlogits;         /* [max_batch × classes]; xent writes dlogits */
  mb_view dx;                      /* input gradient (backward with want_input) */
  mb_view d[4];                    /* backward scratch, each max_batch × largest activation */
  mb_view save_mean, save_invstd;  /* statistics the last forward normalised with [n_stats] */
  mb_view ws;  size_t ws_n;        /* im2col workspace */
  mb_view pg;  size_t pg_n;        /* per-sample weight gradients (allocated on first use) */
  mb_view sq_s, sq_c;              /* per-sample scratch [max_batch × widest], [widest] */
  size_t act_max;                  /* largest activation per image */
  mb_view last_w;                  /* parameters of the last forward (backward uses them) */
  int last_train, last_batch;
  mb_pass_count passes;
} mb_resnet;

/* Squared per-sample gradients of rows [r0, r1) are added onto acc (a flat
 * pt.total buffer): acc += Σ_{n∈[r0,r1)} g_n ⊙ g_n (docs/specification.md §2.1). */
typedef mb_sq_target mb_rn_sq_target;

typedef struct {
  int want_grads;              /* write the batch gradient to r->g (overwritten) */
  int want_input;              /* write dLoss/dinput to r->dx */
  int n_sq;                    /* per-sample squared gradients (eval-mode forward only) */
  const mb_rn_sq_target *sq;
} mb_rn_bwd_opts;

/* Configurations: CIFAR-10 (3×32×32, width 64, 10 classes), the Fashion-MNIST variant
 * (1×28×28) and the ImageNet timing model (3×224×224, 1000 classes). */
void mb_resnet_config_cifar(mb_resnet_config *cfg);
void mb_resnet_config_fmnist(mb_resnet_config *cfg);
void mb_resnet_config_imagenet(mb_resnet_config *cfg);
/* ResNeXt-50 32×4d at 3×224×224, 1000 classes (torchvision's resnext50_32x4d). */
void mb_resnext50_config_imagenet(mb_resnet_config *cfg);
/* The architecture's name: "resnet18" or "resnext50_32x4d" (NULL for an unknown one). */
const char *mb_rn_arch_name(mb_rn_arch arch);
void mb_resnet_describe(const mb_resnet_config *cfg, char *out, size_t len);
/* The parameter table alone (no device memory); 0, or −1 with a reason for a bad
 * configuration (any input of at least 1×1 works: every stride-2 layer rounds up). */
int mb_resnet_table_build(const mb_resnet_config *cfg, mb_rn_table *pt, char *err, size_t len);

/* Parameters, gradients, statistics and activations for batches up to max_batch. */
int mb_resnet_create(mb_backend *be, const mb_resnet_config *cfg, int max_batch, mb_resnet *r);
void mb_resnet_destroy(mb_resnet *r);

/* PyTorch defaults: conv and linear weights and linear biases U(±1/√fan_in) from Philox
 * stream 1000 + tensor index (as mb_mlp), BN γ = 1, β = 0, running mean 0, var 1. */
void mb_resnet_init(mb_resnet *r, uint64_t seed);
void mb_resnet_reset_stats(mb_resnet *r);

/* Forward of `batch` images x (r->in when none) with parameters w (r->w when none), in
 * train mode (batch statistics; running statistics updated unless update_stats is 0)
 * or eval mode (running statistics).  Returns the logits [batch × classes]. */
mb_view mb_resnet_forward(mb_resnet *r, mb_view w, mb_view x, int batch, int train);

/* Softmax-CE of the last logits; dlogits = scale·(softmax − onehot) (1/batch: mean loss). */
void mb_resnet_xent(mb_resnet *r, mb_view labels, int batch, float scale, mb_view loss);

/* Backward of the last forward (same batch, same parameters) from r->dlogits, written
 * by mb_resnet_xent or by the caller (e.g. a one-hot seed).  opts NULL: gradients only. */
void mb_resnet_backward(mb_resnet *r, int batch, const mb_rn_bwd_opts *o);

/* The FIM pass of §2.1 in one batched pass: eval-mode forward of x [batch rows], per-sample
 * CE against labels, backward, and for each target the sum of the squared per-sample
 * gradients of every parameter added onto its accumulator. */
void mb_resnet_sq_grads(mb_resnet *r, mb_view w, mb_view x, mb_view labels, int batch,
                        const mb_rn_sq_target *sq, int n_sq);

#endif
