/* Multi-layer perceptron: forward, backward and per-sample squared gradients. */
#include "core/mlp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RNG stream ids: parameter init uses streams 1000 + tensor index. */
#define MB_STREAM_INIT 1000u

void mb_mlp_config_paper(mb_mlp_config *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  cfg->n_layers = 2;
  cfg->dims[0] = 784;
  cfg->dims[1] = 1000;
  cfg->dims[2] = 10;
  cfg->act = MB_ACT_SIGMOID;
  cfg->in_c = 1;
  cfg->in_h = 28;
  cfg->in_w = 28;
}

int mb_mlp_config_parse(const char *spec, const char *act, mb_mlp_config *cfg, char *err, size_t len)
{
  mb_mlp_config_paper(cfg);
  if (act) {
    if (strcmp(act, "sigmoid") == 0) cfg->act = MB_ACT_SIGMOID;
    else if (strcmp(act, "relu") == 0) cfg->act = MB_ACT_RELU;
    else { snprintf(err, len, "unknown activation '%s' (sigmoid, relu)", act); return -1; }
  }
  if (!spec || strcmp(spec, "mlp") == 0) return 0;
  int n = 0;
  const char *p = spec;
  while (*p) {
    char *end;
    long d = strtol(p, &end, 10);
    if (end == p || d < 1 || d > 100000 || n > MB_MAX_LAYERS) {
      snprintf(err, len, "bad MLP spec '%s' (expected sizes like 784-1000-10, at most %d layers)",
               spec, MB_MAX_LAYERS);
      return -1;
    }
    cfg->dims[n++] = (int)d;
    p = *end == '-' ? end + 1 : end;
    if (*end && *end != '-') { snprintf(err, len, "bad MLP spec '%s'", spec); return -1; }
  }
  if (n < 2) { snprintf(err, len, "MLP spec '%s' needs an input and an output size", spec); return -1; }
  cfg->n_layers = n - 1;
  return 0;
}

void mb_mlp_describe(const mb_mlp_config *cfg, char *out, size_t len)
{
  size_t o = 0;
  for (int i = 0; i <= cfg->n_layers && o < len; i++)
    o += (size_t)snprintf(out + o, len - o, i ? "-%d" : "%d", cfg->dims[i]);
  if (o < len) snprintf(out + o, len - o, " %s", cfg->act == MB_ACT_SIGMOID ? "sigmoid" : "relu");
}

void mb_param_table_build(const mb_mlp_config *cfg, mb_param_table *pt)
{
  memset(pt, 0, sizeof *pt);
  size_t off = 0;
  for (int l = 0; l < cfg->n_layers; l++) {
    int in = cfg->dims[l], out = cfg->dims[l + 1];
    mb_tensor *w = &pt->t[pt->n++], *b = &pt->t[pt->n++];
    snprintf(w->name, sizeof w->name, "fc%d.weight", l + 1);
    snprintf(b->name, sizeof b->name, "fc%d.bias", l + 1);
    w->off = off; w->n = (size_t)out * in; w->rows = out; w->cols = in; off += w->n;
    b->off = off; b->n = (size_t)out; b->rows = out; b->cols = 1; off += b->n;
  }
  for (int i = 0; i < pt->n; i++) pt->offs[i] = pt->t[i].off;
  pt->offs[pt->n] = off;
  pt->total = off;
}

int mb_mlp_create(mb_backend *be, const mb_mlp_config *cfg, int max_batch, mb_mlp *m)
{
  memset(m, 0, sizeof *m);
  m->be = be;
  m->cfg = *cfg;
  m->max_batch = max_batch;
  mb_param_table_build(cfg, &m->pt);
  m->w = mb_new(be, m->pt.total);
  m->g = mb_new(be, m->pt.total);
  int widest = 0;
  for (int l = 0; l <= cfg->n_layers; l++) {
    m->act[l] = mb_new(be, (size_t)max_batch * cfg->dims[l]);
    if (l > 0) m->delta[l] = mb_new(be, (size_t)max_batch * cfg->dims[l]);
    if (cfg->dims[l] > widest) widest = cfg->dims[l];
  }
  m->sq_a = mb_new(be, (size_t)max_batch * widest);
  m->sq_d = mb_new(be, (size_t)max_batch * widest);
  return mb_ok(be) ? 0 : -1;
}

void mb_mlp_destroy(mb_mlp *m)
{
  if (!m->be) return;
  mb_release(m->be, m->w);
  mb_release(m->be, m->g);
  for (int l = 0; l <= m->cfg.n_layers; l++) {
    mb_release(m->be, m->act[l]);
    mb_release(m->be, m->delta[l]);
  }
  mb_release(m->be, m->sq_a);
  mb_release(m->be, m->sq_d);
  memset(m, 0, sizeof *m);
}

void mb_mlp_init(mb_mlp *m, uint64_t seed)
{
  for (int i = 0; i < m->pt.n; i++) {
    const mb_tensor *t = &m->pt.t[i];
    int fan_in = m->cfg.dims[i / 2];
    float bound = 1.0f / sqrtf((float)fan_in);
    mb_rng(m->be, MB_RNG_UNIFORM, seed, MB_STREAM_INIT + (uint64_t)i, mb_at(m->w, t->off), t->n,
           -bound, bound);
  }
}

static void activate(mb_mlp *m, mb_view v, size_t n)
{
  mb_unary(m->be, m->cfg.act == MB_ACT_SIGMOID ? MB_UN_SIGMOID : MB_UN_RELU, v, v, n, 0, 0);
}

mb_view mb_mlp_forward(mb_mlp *m, mb_view w, mb_view x, int batch)
{
  mb_backend *be = m->be;
  if (mb_is_none(w)) w = m->w;
  if (batch > m->max_batch) {
    mb_fail(be, MB_BAD_ARG, "mlp forward: batch %d exceeds workspace %d", batch, m->max_batch);
    return m->act[m->cfg.n_layers];
  }
  if (!mb_is_none(x)) mb_copy(be, m->act[0], x, (size_t)batch * m->cfg.dims[0]);
  for (int l = 0; l < m->cfg.n_layers; l++) {
    const mb_tensor *tw = &m->pt.t[2 * l], *tb = &m->pt.t[2 * l + 1];
    int in = m->cfg.dims[l], out = m->cfg.dims[l + 1];
    mb_view y = m->act[l + 1];
    mb_matmul(be, 0, 1, batch, out, in, 1.0f, m->act[l], mb_at(w, tw->off), 0.0f, y);
    mb_bcast(be, MB_BC_ADD, y, mb_at(w, tb->off), y, (size_t)batch, (size_t)out, 1);
    if (l + 1 < m->cfg.n_layers) activate(m, y, (size_t)batch * out);
  }
  m->passes.forward += batch;
  return m->act[m->cfg.n_layers];
}

void mb_mlp_xent(mb_mlp *m, mb_view labels, int batch, float scale, mb_view loss)
{
  int L = m->cfg.n_layers;
  mb_xent_args a = {
    .rows = batch, .cols = m->cfg.dims[L], .logits = m->act[L], .labels = labels,
    .loss = loss, .dlogits = m->delta[L], .probs = mb_none(), .scale = scale,
  };
  mb_softmax_xent(m->be, &a);
}

void mb_mlp_backward(mb_mlp *m, int batch, int want_grads)
{
  mb_backend *be = m->be;
  for (int l = m->cfg.n_layers - 1; l >= 0; l--) {
    const mb_tensor *tw = &m->pt.t[2 * l], *tb = &m->pt.t[2 * l + 1];
    int in = m->cfg.dims[l], out = m->cfg.dims[l + 1];
    mb_view d = m->delta[l + 1];
    if (want_grads) {
      /* dW = δᵀ·x  [out × in];  db = Σ_rows δ */
      mb_matmul(be, 1, 0, out, in, batch, 1.0f, d, m->act[l], 0.0f, mb_at(m->g, tw->off));
      mb_reduce(be, MB_RED_SUM, d, mb_at(m->g, tb->off), 1, (size_t)batch, (size_t)out);
    }
    if (l == 0) break;
    /* δ_l = (δ_{l+1}·W) ⊙ act'(a_l) */
    mb_view dl = m->delta[l];
    mb_matmul(be, 0, 0, batch, in, out, 1.0f, d, mb_at(m->w, tw->off), 0.0f, dl);
    size_t n = (size_t)batch * in;
    mb_binary(be, m->cfg.act == MB_ACT_SIGMOID ? MB_BIN_SIGMOID_BWD : MB_BIN_RELU_BWD, dl,
              m->act[l], dl, n, 1.0f, 0.0f);
  }
  m->passes.backward += batch;
}

void mb_mlp_accumulate_sq_grads(mb_mlp *m, int r0, int r1, mb_view acc)
{
  mb_backend *be = m->be;
  int rows = r1 - r0;
  if (rows <= 0) return;
  for (int l = 0; l < m->cfg.n_layers; l++) {
    const mb_tensor *tw = &m->pt.t[2 * l], *tb = &m->pt.t[2 * l + 1];
    int in = m->cfg.dims[l], out = m->cfg.dims[l + 1];
    mb_unary(be, MB_UN_SQR, mb_at(m->act[l], (size_t)r0 * in), m->sq_a, (size_t)rows * in, 0, 0);
    mb_unary(be, MB_UN_SQR, mb_at(m->delta[l + 1], (size_t)r0 * out), m->sq_d, (size_t)rows * out, 0, 0);
    /* Σ_n (δ_n xₙᵀ)² = (δ²)ᵀ·(x²), added onto acc */
    mb_matmul(be, 1, 0, out, in, rows, 1.0f, m->sq_d, m->sq_a, 1.0f, mb_at(acc, tw->off));
    mb_reduce(be, MB_RED_SUM, m->sq_d, m->sq_a, 1, (size_t)rows, (size_t)out);
    mb_binary(be, MB_BIN_AXPBY, mb_at(acc, tb->off), m->sq_a, mb_at(acc, tb->off), (size_t)out,
              1.0f, 1.0f);
  }
}
