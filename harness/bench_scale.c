/* The scalability point's routine (paper Table 4 / Fig. 3, ImageNet row; see
 * bench_scale.h): forgetting class 0 of a 1000-class 224×224 model (ResNet-18,
 * ResNeXt-50 32×4d, Swin-T) with mnemonic codes (K forward+backward code passes for the FIM, 2K forward for the ± choice, in
 * batches that fit the device), and SSD's importance passes over a synthetic data set.
 * Written against the core and the op table only; weights and codes are seeded. */
#include "core/clock.h"
#include "core/codes.h"
#include "core/region.h"
#include "baselines/ssd.h"
#include "core/swin.h"
#include "harness/bench_scale.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the routine */

void mb_scale_defaults(mb_scale_cfg *c)
{
  memset(c, 0, sizeof *c);
  c->classes = 1000;
  c->size = 224;
  c->width = 64;
  c->ssd_batch = 64;
  c->seed = 0;
  /* CIFAR's λ (§2.4): the values change δ, not the work done */
  c->lambda1 = 1e-5f;
  c->lambda2 = 1e4f;
}

/* ---------------------------------------------------------------- the models */

enum { SCALE_RESNET18, SCALE_RESNEXT50, SCALE_SWIN_T };

void mb_scale_resnet_config(const mb_scale_cfg *c, mb_resnet_config *rc)
{
  if (c->model == SCALE_RESNEXT50) mb_resnext50_config_imagenet(rc);
  else mb_resnet_config_imagenet(rc);
  rc->in_h = rc->in_w = c->size;
  rc->width = c->width;
  rc->classes = c->classes;
}

/* Device elements one image costs in the ResNet's buffers (mb_resnet_create): input and
 * its gradient, the 4 backward scratch buffers, every unit's conv and BN outputs, the
 * max-pool output and argmax, features, logits and their gradients, per-sample scratch. */
static size_t rn_image_elems(const mb_resnet *r)
{
  size_t n = 2 * (size_t)r->cfg.in_c * r->cfg.in_h * r->cfg.in_w + 4 * r->act_max;
  for (int i = 0; i < r->n_units; i++) n += 2 * mb_rn_act(&r->u[i], 1);
  if (r->cfg.stem == MB_RN_IMAGENET) n += 2 * (size_t)r->mpool.c * r->mpool.oh * r->mpool.ow;
  return n + 4 * (size_t)(r->feat_c + r->cfg.classes);
}

static double rn_row_bytes(mb_backend *be, const mb_scale_cfg *c)
{
  mb_resnet_config rc;
  mb_scale_resnet_config(c, &rc);
  mb_rn_table pt;
  char err[160];
  if (mb_resnet_table_build(&rc, &pt, err, sizeof err) != 0) return 0;
  /* the measured per-image buffers of a batch-1 model */
  mb_resnet probe;
  double per = 0;
  if (mb_resnet_create(be, &rc, 1, &probe) == 0) per = 4.0 * (double)rn_image_elems(&probe);
  mb_resnet_destroy(&probe);
  return per;
}

static long long rn_params(const mb_scale_cfg *c, char *err, size_t len)
{
  mb_resnet_config rc;
  mb_scale_resnet_config(c, &rc);
  mb_rn_table pt;
  return mb_resnet_table_build(&rc, &pt, err, len) == 0 ? (long long)pt.total : -1;
}

static int rn_open(mb_backend *be, const mb_scale_cfg *c, int max_batch, mb_scale *s)
{
  mb_resnet_config rc;
  mb_scale_resnet_config(c, &rc);
  mb_resnet *r = calloc(1, sizeof *r);
  if (!r) {
    mb_fail(be, MB_OOM, "bench-scale: out of host memory for the model");
    return -1;
  }
  s->net = r;
  if (mb_resnet_create(be, &rc, max_batch, r) != 0) return -1;
  mb_model_from_resnet(r, &s->md);
  return 0;
}

static void rn_close(mb_scale *s)
{
  if (s->net) mb_resnet_destroy(s->net);
  free(s->net);
  s->net = NULL;
}

static void rn_row_name(const mb_scale_cfg *c, char *out, size_t len)
{
  mb_resnet_config rc;
  mb_scale_resnet_config(c, &rc);
  mb_model_name_rn(&rc, out, len);
}

static void rn_describe(const mb_scale_cfg *c, char *out, size_t len)
{
  mb_resnet_config rc;
  mb_scale_resnet_config(c, &rc);
  mb_resnet_describe(&rc, out, len);
}

/* Swin-T: torchvision's swin_t at c's size and classes (the width does not apply). */
static void sw_config(const mb_scale_cfg *c, mb_swin_config *cfg)
{
  mb_swin_config_imagenet(cfg, c->classes, c->size);
}

static long long sw_params(const mb_scale_cfg *c, char *err, size_t len)
{
  mb_swin_config cfg;
  sw_config(c, &cfg);
  mb_sw_table *pt = malloc(sizeof *pt);
  long long n = -1;
  if (!pt) snprintf(err, len, "bench-scale: out of host memory");
  else if (mb_swin_table_build(&cfg, pt, err, len) == 0) n = (long long)pt->total;
  free(pt);
  return n;
}

/* What one more row costs: the dry run's count at batch 2 less that at batch 1. */
static double sw_row_bytes(mb_backend *be, const mb_scale_cfg *c)
{
  (void)be;
  mb_swin_config cfg;
  sw_config(c, &cfg);
  size_t one, two;
  char err[160];
  if (mb_swin_device_elems(&cfg, 1, &one, err, sizeof err) != 0 ||
      mb_swin_device_elems(&cfg, 2, &two, err, sizeof err) != 0 || two <= one)
    return 0;
  return 4.0 * (double)(two - one);
}

static int sw_open(mb_backend *be, const mb_scale_cfg *c, int max_batch, mb_scale *s)
{
  mb_swin_config cfg;
  sw_config(c, &cfg);
  mb_swin *w = calloc(1, sizeof *w);
  if (!w) {
    mb_fail(be, MB_OOM, "bench-scale: out of host memory for the model");
    return -1;
  }
  s->net = w;
  if (mb_swin_create(be, &cfg, max_batch, w) != 0) return -1;
  mb_model_from_swin(w, &s->md);
  return 0;
}

static void sw_close(mb_scale *s)
{
  if (s->net) mb_swin_destroy(s->net);
  free(s->net);
  s->net = NULL;
}

static void sw_describe(const mb_scale_cfg *c, char *out, size_t len)
{
  mb_swin_config cfg;
  sw_config(c, &cfg);
  mb_swin_describe(&cfg, out, len);
}

/* One entry per model; the index is mb_scale_cfg.model. */
static const mb_scale_model k_models[] = {
  [SCALE_RESNET18] = {"resnet18", rn_open, rn_close, rn_params, rn_row_bytes, rn_row_name,
                      rn_describe},
  [SCALE_RESNEXT50] = {"resnext50", rn_open, rn_close, rn_params, rn_row_bytes, rn_row_name,
                       rn_describe},
  [SCALE_SWIN_T] = {"swin_t", sw_open, sw_close, sw_params, sw_row_bytes, sw_describe,
                    sw_describe},
};

int mb_scale_models(const mb_scale_model **out)
{
  *out = k_models;
  return (int)(sizeof k_models / sizeof k_models[0]);
}

int mb_scale_model_find(const char *name, char *why, size_t len)
{
  for (int i = 0; i < (int)(sizeof k_models / sizeof k_models[0]); i++)
    if (!strcmp(k_models[i].name, name)) return i;
  char list[128] = "";
  for (int i = 0; i < (int)(sizeof k_models / sizeof k_models[0]); i++)
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", k_models[i].name);
  snprintf(why, len, "unknown model '%s' (built in: %s)", name, list);
  return -1;
}

static const mb_scale_model *model_of(const mb_scale_cfg *c)
{
  int n = (int)(sizeof k_models / sizeof k_models[0]);
  return c->model >= 0 && c->model < n ? &k_models[c->model] : NULL;
}

/* ---------------------------------------------------------------- the routine */

int mb_scale_auto_batch(const mb_backend *be, const mb_scale_cfg *c)
{
  const int is_cpu = strcmp(be->info.type, "cpu") == 0;
  int b = 32;
  const mb_scale_model *m = model_of(c);
  char err[160];
  long long P = m ? m->params(c, err, sizeof err) : -1;
  if (be->info.mem_bytes && P > 0) {
    double per = m->row_bytes((mb_backend *)be, c);
    if (per > 0) {
      /* fixed: codes, w, g, f_F, f_R, per-sample and im2col workspaces (2 × 64 MiB) */
      double fixed = 4.0 * ((double)c->classes * 3 * c->size * c->size + 4.0 * (double)P) +
                     2.0 * 64 * 1048576.0;
      double budget = 0.6 * (double)be->info.mem_bytes - fixed;
      b = budget > per ? (int)fmin(budget / per, 4096) : 1;
    }
  }
  /* a CPU shares memory with the host and saturates early; a GPU gains little past 512 */
  int cap = is_cpu ? 32 : 512;
  if (b > cap) b = cap;
  if (b > c->classes) b = c->classes;
  return b < 1 ? 1 : b;
}

int mb_scale_open(mb_backend *be, const mb_scale_cfg *c, mb_scale *s)
{
  memset(s, 0, sizeof *s);
  s->be = be;
  s->cfg = *c;
  s->model = model_of(c);
  if (!s->model) {
    mb_fail(be, MB_BAD_ARG, "bench-scale: no model %d", c->model);
    return -1;
  }
  s->batch = c->batch > 0 ? c->batch : mb_scale_auto_batch(be, c);
  if (s->batch > c->classes) s->batch = c->classes;
  int max_batch = s->batch > c->ssd_batch ? s->batch : c->ssd_batch;
  if (s->model->open(be, c, max_batch, s) != 0) return -1;
  mb_model_init(&s->md, c->seed);
  const size_t D = (size_t)s->md.in_dim, K = (size_t)c->classes, P = s->md.total;
  float *h = malloc(K * D * sizeof *h);
  s->w0 = malloc(P * sizeof *s->w0);
  if (!h || !s->w0) {
    free(h);
    mb_fail(be, MB_OOM, "bench-scale: out of host memory for %zu codes", K);
    return -1;
  }
  mb_codes_generate(c->seed, (int)K, (int)D, MB_CODES_UNIFORM01, h);
  s->codes = mb_new(be, K * D);
  mb_upload(be, s->codes, h, K * D);
  free(h);
  mb_download(be, s->w0, s->md.w, P);
  return mb_ok(be) ? 0 : -1;
}

void mb_scale_close(mb_scale *s)
{
  if (!s->be) return;
  mb_release(s->be, s->codes);
  if (s->model) s->model->close(s);
  free(s->w0);
  memset(s, 0, sizeof *s);
}

int mb_scale_forget(mb_scale *s, int n_classes, mb_scale_forget_run *out,
                    mb_forget_progress progress, void *ctx)
{
  mb_backend *be = s->be;
  int forget[1] = {0};
  memset(out, 0, sizeof *out);
  mb_upload(be, s->md.w, s->w0, s->md.total);   /* same weights every time, outside the clock */
  mb_pass_count p0 = *s->md.passes;
  mb_region rg;
  mb_region_begin(&rg, be);
  mb_model_forget_mnemonic_batched(&s->md, s->codes, n_classes, forget, 1, s->batch,
                                   s->cfg.lambda1, s->cfg.lambda2, &out->choice, progress, ctx);
  double dms;
  out->seconds = mb_region_end(&rg, &dms);
  out->device_ms = be->info.has_device_timer ? dms : -1;
  out->n_forward = s->md.passes->forward - p0.forward;
  out->n_backward = s->md.passes->backward - p0.backward;
  return mb_ok(be) ? 0 : -1;
}

/* I = (1/B_L)·Σ_batches (∇ mean CE)² over rows [r0, r1) of the index/label lists (§3). */
static void ssd_importance(mb_scale *s, mb_view pool, int n_pool, mb_view didx, mb_view dlab,
                           long r0, long r1, mb_view imp, const char *phase,
                           mb_forget_progress progress, void *ctx)
{
  mb_backend *be = s->be;
  const size_t P = s->md.total;
  const int B = s->cfg.ssd_batch;
  long n_batches = 0;
  mb_fill(be, imp, P, 0.0f);
  for (long b0 = r0; b0 < r1 && mb_ok(be); b0 += B, n_batches++) {
    int rows = r1 - b0 < B ? (int)(r1 - b0) : B;
    mb_gather_args g = {
      .src = pool, .idx = mb_at(didx, (size_t)b0), .dst = s->md.in, .n_rows = rows,
      .row_len = s->md.in_dim, .n_src_rows = n_pool,
    };
    mb_gather_rows(be, &g);
    mb_model_forward(&s->md, mb_none(), mb_none(), rows, 0);   /* SSD calls model.eval() */
    mb_model_xent(&s->md, mb_at(dlab, (size_t)b0), rows, 1.0f / (float)rows, mb_none());
    const mb_bwd_opts bo = {.want_grads = 1};
    mb_model_backward(&s->md, rows, &bo);
    mb_binary(be, MB_BIN_ADD_SQR, imp, s->md.g, imp, P, 1.0f, 0.0f);
    if (progress) progress(ctx, phase, (int)(b0 + rows - r0), (int)(r1 - r0));
  }
  if (n_batches) mb_unary(be, MB_UN_AFFINE, imp, imp, P, 1.0f / (float)n_batches, 0.0f);
}

int mb_scale_ssd(mb_scale *s, long n_f, long n, int pool, mb_scale_ssd_run *out,
                 mb_forget_progress progress, void *ctx)
{
  mb_backend *be = s->be;
  const size_t P = s->md.total, D = (size_t)s->md.in_dim;
  const float alpha = 10.0f, lambda = 1.0f;   /* SSD's constants (§3); selection is not timed apart */
  memset(out, 0, sizeof *out);
  if (n_f < 1 || n_f > n || pool < 1 || n > 2000000000L) {
    mb_fail(be, MB_BAD_ARG, "bench-scale: SSD needs 1 <= forget images <= images, pool >= 1");
    return -1;
  }
  if (pool > n) pool = (int)n;
  /* rows [0, n_f): D_f; rows [n_f, n_f + n): D = retain (n − n_f) then forget (n_f) */
  const long rows = n_f + n;
  int32_t *idx = malloc(sizeof(int32_t) * (size_t)rows), *lab = malloc(sizeof(int32_t) * (size_t)rows);
  if (!idx || !lab) {
    free(idx); free(lab);
    mb_fail(be, MB_OOM, "bench-scale: out of host memory for %ld SSD rows", rows);
    return -1;
  }
  const int K = s->cfg.classes;
  for (long i = 0; i < n_f; i++) { idx[i] = (int32_t)(i % pool); lab[i] = 0; }
  for (long i = 0; i < n; i++) {
    long j = n_f + i, retain = n - n_f;
    /* image i of D: distinct pool images cycle; retain labels spread over 1..K−1 */
    idx[j] = (int32_t)(i % pool);
    lab[j] = i < retain ? (int32_t)(1 + i % (K - 1)) : 0;
  }
  mb_view dpool = mb_new(be, (size_t)pool * D), didx = mb_new(be, (size_t)rows),
          dlab = mb_new(be, (size_t)rows), i_f = mb_new(be, P), i_d = mb_new(be, P);
  mb_rng(be, MB_RNG_UNIFORM, s->cfg.seed, 77, dpool, (size_t)pool * D, 0.0f, 1.0f);
  mb_upload(be, didx, idx, (size_t)rows);
  mb_upload(be, dlab, lab, (size_t)rows);
  free(idx); free(lab);
  mb_upload(be, s->md.w, s->w0, P);
  mb_pass_count p0 = *s->md.passes;
  mb_region rg;
  mb_region_begin(&rg, be);
  ssd_importance(s, dpool, pool, didx, dlab, 0, n_f, i_f, "ssd I_f", progress, ctx);
  mb_sync(be);
  double t1 = mb_now();
  ssd_importance(s, dpool, pool, didx, dlab, n_f, rows, i_d, "ssd I_D", progress, ctx);
  mb_sync(be);
  double t2 = mb_now();
  /* SSD's own dampening (baselines/ssd.c): w ← min(λ·I_D/I_f, 1)·w where I_f > α·I_D */
  double nsel = bl_ssd_dampen(be, s->md.w, i_f, i_d, s->md.g, P, alpha, lambda);
  double dms;
  out->seconds = mb_region_end(&rg, &dms);
  out->if_s = t1 - rg.t0;
  out->id_s = t2 - t1;
  out->device_ms = be->info.has_device_timer ? dms : -1;
  out->dampened = nsel;
  out->n_forward = s->md.passes->forward - p0.forward;
  out->n_backward = s->md.passes->backward - p0.backward;
  mb_release(be, dpool); mb_release(be, didx); mb_release(be, dlab);
  mb_release(be, i_f); mb_release(be, i_d);
  return mb_ok(be) ? 0 : -1;
}

