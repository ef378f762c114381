/* Swin Transformer (v1) on the op table, exactly as torchvision's swin_t
 * (docs/specification.md §0.4): patch embedding (Conv2d patch×patch / patch, then
 * LayerNorm over channels), four stages of Swin blocks (LayerNorm → window attention
 * with a relative position bias, shifted by window/2 on odd blocks → residual;
 * LayerNorm → MLP with GELU → residual), PatchMerging between stages, a final
 * LayerNorm, the mean over tokens and a Linear head.  Dropout and stochastic depth
 * are identity (evaluation semantics; training does not apply stochastic depth).
 *
 * Tokens are rows of a [batch·H·W × C] matrix (image-major, then row, then column),
 * torchvision's [B][H][W][C].  The attention works in window layout: rows
 * [batch·windows·window² × C] made by one gather (zero padding of the token grid to
 * multiples of the window, the cyclic shift and the window partition), undone by
 * the inverse gather.  Parameters live in one flat buffer with a per-tensor table in
 * torchvision's named_parameters() order and names (linear weights [out][in], the
 * relative position bias table [(2·window−1)²][heads], the patch conv [C][in_c·p·p]).
 */
#ifndef MB_SWIN_H
#define MB_SWIN_H

#include "core/mlp.h"   /* mb_pass_count */
#include "core/ops.h"
#include "core/sq_target.h"

#define MB_SW_MAX_BLOCKS 32
#define MB_SW_MAX_TENSORS (4 + 13 * MB_SW_MAX_BLOCKS + 9 + 4)

typedef struct {
  int in_c, in_h, in_w;   /* input image */
  int classes;
  int patch;              /* patch size = stride of the embedding conv (4) */
  int window;             /* attention window (7) */
  int embed;              /* stage-1 channels (96) */
  int depths[4];          /* blocks per stage (2, 2, 6, 2) */
  int heads[4];           /* attention heads per stage (3, 6, 12, 24) */
  int mlp_ratio;          /* hidden width of the MLP / channels (4) */
} mb_swin_config;

typedef enum {
  MB_SW_CONV_W, MB_SW_CONV_B, MB_SW_LN_W, MB_SW_LN_B, MB_SW_LIN_W, MB_SW_LIN_B, MB_SW_REL_TABLE
} mb_sw_kind;

typedef struct {
  char name[80];        /* "features.5.10.attn.relative_position_bias_table" */
  size_t off, n;        /* in the flat buffer */
  int rows, cols;       /* linear [out × in], conv [C × in_c·p·p], table [(2w−1)² × heads], vectors [c × 1] */
  mb_sw_kind kind;
} mb_sw_tensor;

typedef struct {
  int n;
  mb_sw_tensor t[MB_SW_MAX_TENSORS];
  size_t offs[MB_SW_MAX_TENSORS + 1];   /* segment table for seg_reduce / seg_bcast */
  size_t total;
} mb_sw_table;

/* The token-grid geometry of one attention variant (a stage, shifted or not). */
typedef struct {
  int h, w;               /* token grid */
  int ph, pw;             /* padded to multiples of the window */
  int sh, sw;             /* cyclic shift actually applied (0 where window ≥ padded size) */
  int nwin;               /* windows per image */
  mb_view part;           /* i32 [max_batch·nwin·N]: window row → token row (−1: padding) */
  mb_view inv;            /* i32 [max_batch·h·w]: token row → window row */
  mb_view hrow;           /* i32 [nwin·heads]: row of the [heads × N²] bias each (window, head) takes */
  mb_view mask;           /* [nwin·heads·N²] constant −100/0 mask (none without a shift) */
} mb_sw_grid;

typedef struct {
  int stage, shifted;     /* grid = stage·2 + shifted */
  int C, heads, hidden;
  int t_n1;               /* tensor index of norm1.weight; the block's 13 tensors follow */
  mb_view in;             /* block input [B·T × C] (the previous block's or stage's output) */
  mb_view x1, out;        /* after the attention residual; block output */
  mb_view xw, qkv, p, ctx;/* window rows [B·nwin·N × C], [× 3C], probabilities, context */
  mb_view ln2, h;         /* LN2 output, MLP hidden pre-activation [B·T × hidden] */
  mb_view m1, r1, m2, r2; /* LayerNorm statistics [B·T] */
} mb_sw_block;

typedef struct {
  int t_red;              /* tensor index of reduction.weight (norm.weight, norm.bias follow) */
  int C;                  /* input channels (output 2C) */
  int h, w, oh, ow;       /* input and output grids */
  mb_view idx, inv;       /* gather: merged slot → token (−1 pad); token → merged slot */
  mb_view cat, ln, out;   /* [B·oT × 4C] gathered, its LN, [B·oT × 2C] output */
  mb_view m, r;
} mb_sw_merge;

typedef struct {
  mb_backend *be;
  mb_swin_config cfg;
  mb_sw_table pt;
  mb_view w, g;                    /* parameters and gradients (flat, pt.total) */
  int max_batch;
  int n_blocks;
  int N;                           /* window² */
  int th[4], tw[4], C[4];          /* token grid and channels per stage */
  mb_sw_grid grid[8];              /* stage·2 + shifted */
  mb_sw_block blk[MB_SW_MAX_BLOCKS];
  mb_sw_merge mrg[3];
  mb_view relp;                    /* one-hot [(2w−1)² × N²]: relative index of each (i, j) */
  mb_view in;                      /* input [max_batch × in_c·in_h·in_w] */
  mb_view cols, colsp;             /* patch im2col [B][c·p·p][T0] and regrouped [c·p·p][B·T0] */
  mb_view emb, x0, e_m, e_r;       /* conv output tokens [B·T0 × C0], after LN, statistics */
  mb_view lnf, f_m, f_r;           /* final LN output [B·T3 × C3], statistics */
  mb_view pool_idx;                /* i32 [max_batch·T3]: token row → image (mean's backward) */
  mb_view feat, dfeat;             /* [max_batch × C3] */
  mb_view logits, dlogits;         /* [max_batch × classes] */
  mb_view dx;                      /* input gradient */
  mb_view bias, bmask;             /* [heads·N²] bias of a block; [nwin·heads·N²] bias + mask */
  mb_view s_tok, s_tok2, s_hid, s_hid2;  /* scratch: [B·T·C] max, [B·T·hidden] max */
  mb_view s_win, s_win2, s_win3, s_p;  /* scratch: window rows ×C (two), ×3C, probabilities */
  mb_view s_tab;  size_t s_tab_n;  /* per-sample bias-table scratch (with pg) */
  mb_view d_a, d_b;                /* residual-stream gradients [B·T·C] max */
  mb_view pg;  size_t pg_n;        /* per-sample weight gradients (allocated on first use) */
  mb_view sq_s, sq_c;              /* per-sample scratch [max_batch × widest], [widest] */
  size_t widest;
  size_t dev_elems;                /* elements of the device buffers made by mb_swin_create */
  mb_view last_w;
  int last_batch;
  mb_pass_count passes;
} mb_swin;

/* acc += Σ_{n∈[r0,r1)} g_n ⊙ g_n (docs/specification.md §2.1). */
typedef mb_sq_target mb_sw_sq_target;

typedef struct {
  int want_grads;              /* write the batch gradient to s->g (overwritten) */
  int want_input;              /* write dLoss/dinput to s->dx */
  int n_sq;
  const mb_sw_sq_target *sq;
} mb_sw_bwd_opts;

/* torchvision's swin_t (patch 4, window 7, embed 96, depths 2-2-6-2, heads 3-6-12-24,
 * MLP ratio 4) on 3×size×size input with `classes` outputs (224: the real model;
 * 32: bench-scale --quick). */
void mb_swin_config_imagenet(mb_swin_config *cfg, int classes, int size);
/* "swin_t-imagenet" (224, 1000 classes) or "swin_t-<size>-c<classes>" / "-e<embed>..." */
void mb_swin_describe(const mb_swin_config *cfg, char *out, size_t len);
/* The parameter table alone (no device memory); 0, or −1 with a reason. */
int mb_swin_table_build(const mb_swin_config *cfg, mb_sw_table *pt, char *err, size_t len);

/* Host-side definitions the device tables are built from (also for tests):
 * torchvision's relative_position_index [N²] for a window, and the shift mask labels of
 * a padded grid ph×pw (what `attn_mask` assigns before the difference is taken). */
void mb_swin_rel_index(int window, int32_t *idx);
void mb_swin_mask_labels(int ph, int pw, int window, int sh, int sw, int32_t *labels);

/* Parameters, gradients, activations, scratch and the index tables for batches up to
 * max_batch; 0, or −1 with the backend's sticky error set. */
int mb_swin_create(mb_backend *be, const mb_swin_config *cfg, int max_batch, mb_swin *s);
/* 4-byte elements of every device buffer a model made for `batch` rows holds, the
 * per-sample workspace (allocated on the first per-sample pass) included: what a
 * caller sizing the batch to a device needs (nothing is allocated).  0, or −1 with a
 * reason. */
int mb_swin_device_elems(const mb_swin_config *cfg, int batch, size_t *elems, char *err, size_t len);
/* The per-sample workspaces: weight gradients (capped at 2^24 elements, at least the
 * largest weight) and the bias-table scratch. */
void mb_swin_sq_sizes(const mb_swin *s, size_t *pg_n, size_t *tab_n);
void mb_swin_destroy(mb_swin *s);

/* PyTorch-like init: linear weights and the bias tables N(0, 0.02²) (torchvision's
 * trunc_normal_ with bounds ±2, i.e. 100σ), linear biases 0, LayerNorm 1 / 0, the patch
 * conv weight and bias U(±1/√fan_in); Philox streams 1000 + tensor index. */
void mb_swin_init(mb_swin *s, uint64_t seed);

/* Forward of `batch` images x (s->in when none) with parameters w (s->w when none);
 * logits [batch × classes].  No mode: nothing differs between training and eval. */
mb_view mb_swin_forward(mb_swin *s, mb_view w, mb_view x, int batch);
void mb_swin_xent(mb_swin *s, mb_view labels, int batch, float scale, mb_view loss);
/* Backward of the last forward from s->dlogits.  opts NULL: gradients only. */
void mb_swin_backward(mb_swin *s, int batch, const mb_sw_bwd_opts *o);

#endif
