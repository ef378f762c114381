/* Multi-layer perceptrons on the op table: the paper's MNIST model
 * (784 → 1000, sigmoid, → 10) and configurable variants.
 *
 * Parameters live in one flat device buffer with a per-tensor table, in the
 * order of PyTorch's named_parameters(): fc1.weight, fc1.bias, fc2.weight, ...
 * Weights are [out × in] row-major, so a layer is y = x·Wᵀ + b.
 */
#ifndef MB_MLP_H
#define MB_MLP_H

#include "core/ops.h"

#define MB_MAX_LAYERS 8
#define MB_MAX_TENSORS (2 * MB_MAX_LAYERS)

typedef enum { MB_ACT_SIGMOID, MB_ACT_RELU } mb_act;

typedef struct {
  int n_layers;                  /* number of Linear layers */
  int dims[MB_MAX_LAYERS + 1];   /* dims[0] = input size, dims[n_layers] = classes */
  mb_act act;                    /* between Linear layers */
  int in_c, in_h, in_w;          /* input image shape (dims[0] = c·h·w) */
} mb_mlp_config;

typedef struct {
  char name[24];    /* "fc1.weight" */
  size_t off, n;    /* in the flat buffer */
  int rows, cols;   /* [out × in] for weights, [out × 1] for biases */
} mb_tensor;

typedef struct {
  int n;
  mb_tensor t[MB_MAX_TENSORS];
  size_t offs[MB_MAX_TENSORS + 1];   /* segment table for seg_reduce / seg_bcast */
  size_t total;
} mb_param_table;

/* Counted per sample: one sample pushed through a forward (backward) pass
 * counts 1.  Table 1's complexity column is read from these. */
typedef struct {
  long long forward, backward;
} mb_pass_count;

typedef struct {
  mb_backend *be;
  mb_mlp_config cfg;
  mb_param_table pt;
  mb_view w, g;                        /* parameters and gradients (flat) */
  int max_batch;
  mb_view act[MB_MAX_LAYERS + 1];      /* act[0] input, act[l] output of layer l (post-activation; last = logits) */
  mb_view delta[MB_MAX_LAYERS + 1];    /* delta[l] = dLoss/d(pre-activation of layer l), l ≥ 1 */
  mb_view sq_a, sq_d;                  /* scratch for squared activations / deltas */
  mb_pass_count passes;
} mb_mlp;

/* "784-1000-10" style or the paper's model by name ("mlp"). */
int mb_mlp_config_parse(const char *spec, const char *act, mb_mlp_config *cfg, char *err, size_t len);
void mb_mlp_config_paper(mb_mlp_config *cfg);
void mb_mlp_describe(const mb_mlp_config *cfg, char *out, size_t len);  /* "784-1000-10 sigmoid" */
void mb_param_table_build(const mb_mlp_config *cfg, mb_param_table *pt);

/* Allocates parameters, gradients and workspace for batches up to max_batch. */
int mb_mlp_create(mb_backend *be, const mb_mlp_config *cfg, int max_batch, mb_mlp *m);
void mb_mlp_destroy(mb_mlp *m);

/* PyTorch's default Linear init, U(−1/√fan_in, 1/√fan_in) for weights and
 * biases, drawn on the device from the counter-based RNG (same on every backend). */
void mb_mlp_init(mb_mlp *m, uint64_t seed);

/* Forward of `batch` rows of x (or of act[0] when x is none) with parameters w
 * (m->w when none).  Returns the logits view [batch × classes]. */
mb_view mb_mlp_forward(mb_mlp *m, mb_view w, mb_view x, int batch);

/* Backward from dlogits already in delta[L] (written by softmax_xent); fills the
 * deltas and, when want_grads, the gradient buffer m->g (overwritten). */
void mb_mlp_backward(mb_mlp *m, int batch, int want_grads);

/* acc += Σ over rows [r0, r1) of the per-sample squared gradient of every
 * parameter, from the activations and deltas of the last forward/backward.
 * For a Linear layer that is (δ²)ᵀ·(x²) for W and Σ δ² for b: one GEMM per layer. */
void mb_mlp_accumulate_sq_grads(mb_mlp *m, int r0, int r1, mb_view acc);

/* Cross-entropy loss and its gradient for `batch` rows with labels (i32 view);
 * scale multiplies dlogits (1/batch for the mean loss, 1 for per-sample). */
void mb_mlp_xent(mb_mlp *m, mb_view labels, int batch, float scale, mb_view loss);

#endif
