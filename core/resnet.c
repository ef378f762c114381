/* ResNet-18 and ResNeXt-50: configurations, the parameter table, memory, init and the
 * forward pass. */
#include "core/resnet.h"
#include "core/conv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Parameter init streams: 1000 + tensor index, the convention of mb_mlp_init. */
#define MB_RN_STREAM_INIT 1000u
/* Workspace caps in elements (64 MB each): bigger chunks only save launches. */
#define MB_RN_WS_CAP ((size_t)1 << 24)

void mb_resnet_config_cifar(mb_resnet_config *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  cfg->in_c = 3; cfg->in_h = 32; cfg->in_w = 32;
  cfg->width = 64;
  cfg->classes = 10;
  cfg->stem = MB_RN_CIFAR;
}

void mb_resnet_config_fmnist(mb_resnet_config *cfg)
{
  mb_resnet_config_cifar(cfg);
  cfg->in_c = 1; cfg->in_h = 28; cfg->in_w = 28;
}

void mb_resnet_config_imagenet(mb_resnet_config *cfg)
{
  mb_resnet_config_cifar(cfg);
  cfg->in_h = 224; cfg->in_w = 224;
  cfg->classes = 1000;
  cfg->stem = MB_RN_IMAGENET;
}

void mb_resnext50_config_imagenet(mb_resnet_config *cfg)
{
  mb_resnet_config_imagenet(cfg);
  cfg->arch = MB_RN_RESNEXT50;
  cfg->groups = 32;
  cfg->base_width = 4;
}

const char *mb_rn_arch_name(mb_rn_arch arch)
{
  return arch == MB_RN_RESNET18 ? "resnet18" : arch == MB_RN_RESNEXT50 ? "resnext50_32x4d" : NULL;
}

static int rx_groups(const mb_resnet_config *cfg) { return cfg->groups > 0 ? cfg->groups : 32; }
static int rx_base(const mb_resnet_config *cfg) { return cfg->base_width > 0 ? cfg->base_width : 4; }

void mb_resnet_describe(const mb_resnet_config *cfg, char *out, size_t len)
{
  if (cfg->arch == MB_RN_RESNEXT50) {
    snprintf(out, len, "resnext50_%dx%dd%s %dx%dx%d width %d, %d classes", rx_groups(cfg),
             rx_base(cfg), cfg->stem == MB_RN_IMAGENET ? "-imagenet" : "", cfg->in_c, cfg->in_h,
             cfg->in_w, cfg->width, cfg->classes);
    return;
  }
  snprintf(out, len, "resnet18%s %dx%dx%d width %d, %d classes",
           cfg->stem == MB_RN_IMAGENET ? "-imagenet" : "", cfg->in_c, cfg->in_h, cfg->in_w,
           cfg->width, cfg->classes);
}

/* ---------------------------------------------------------------- the plan */

static void add_tensor(mb_rn_table *pt, const char *name, const char *suffix, mb_pt_kind kind,
                       int rows, int cols)
{
  mb_rn_tensor *t = &pt->t[pt->n++];
  snprintf(t->name, sizeof t->name, "%s.%s", name, suffix);
  t->kind = kind;
  t->rows = rows;
  t->cols = cols;
  t->off = pt->total;
  t->n = (size_t)rows * (size_t)cols;
  pt->total += t->n;
}

/* A conv+BN unit on a cin×h×w input; tensors in PyTorch order (conv, γ, β). */
static int add_unit(mb_resnet *r, const char *conv, const char *bn, int cin, int h, int w,
                    int cout, int k, int stride, int pad, int groups)
{
  mb_rn_unit *u = &r->u[r->n_units];
  memset(u, 0, sizeof *u);
  u->g = (mb_conv_geom){.c = cin, .h = h, .w = w, .kh = k, .kw = k, .stride = stride, .pad = pad};
  mb_conv_geom_finish(&u->g);
  u->cout = cout;
  u->groups = groups;
  u->tw = r->pt.n;
  add_tensor(&r->pt, conv, "weight", MB_PT_CONV, cout, cin / groups * k * k);
  r->pt.t[u->tw].k = k;
  u->tg = r->pt.n;
  add_tensor(&r->pt, bn, "weight", MB_PT_BN_WEIGHT, cout, 1);
  add_tensor(&r->pt, bn, "bias", MB_PT_BN_BIAS, cout, 1);
  u->soff = r->n_stats;
  r->n_stats += (size_t)cout;
  size_t act = (size_t)cout * u->g.oh * u->g.ow;
  if (act > r->act_max) r->act_max = act;
  return r->n_units++;
}

/* ResNet-18's BasicBlocks (2,2,2,2); c/h/w: the stage-1 input, updated to the head's. */
static void plan_basic(mb_resnet *r, int inet, int *c, int *h, int *w)
{
  const int W = r->cfg.width;
  char a[32], b[32];
  int cin = *c;
  for (int st = 0; st < 4; st++) {
    int cout = W << st;
    for (int k = 0; k < 2; k++) {
      int stride = st > 0 && k == 0 ? 2 : 1;
      mb_rn_block *bl = &r->blk[r->n_blocks++];
      snprintf(a, sizeof a, "layer%d.%d.conv1", st + 1, k);
      snprintf(b, sizeof b, "layer%d.%d.bn1", st + 1, k);
      bl->u1 = add_unit(r, a, b, cin, *h, *w, cout, 3, stride, 1, 1);
      int oh = r->u[bl->u1].g.oh, ow = r->u[bl->u1].g.ow;
      snprintf(a, sizeof a, "layer%d.%d.conv2", st + 1, k);
      snprintf(b, sizeof b, "layer%d.%d.bn2", st + 1, k);
      bl->u2 = add_unit(r, a, b, cout, oh, ow, cout, 3, 1, 1, 1);
      bl->u3 = -1;
      bl->sc = -1;
      if (stride != 1 || cin != cout) {
        const char *sc = inet ? "downsample" : "shortcut";
        snprintf(a, sizeof a, "layer%d.%d.%s.0", st + 1, k, sc);
        snprintf(b, sizeof b, "layer%d.%d.%s.1", st + 1, k, sc);
        bl->sc = add_unit(r, a, b, cin, *h, *w, cout, 1, stride, 0, 1);
      }
      cin = cout;
      *h = oh;
      *w = ow;
    }
  }
  *c = cin;
}

/* torchvision's Bottleneck (v1.5: the stride on the grouped 3×3), blocks (3,4,6,3). */
static void plan_bottleneck(mb_resnet *r, int *c, int *h, int *w)
{
  static const int depth[4] = {3, 4, 6, 3};
  const int G = rx_groups(&r->cfg), bw = rx_base(&r->cfg);
  char a[32], b[32];
  int cin = *c;
  for (int st = 0; st < 4; st++) {
    const int planes = r->cfg.width << st, mid = planes * bw / 64 * G, cout = 4 * planes;
    for (int k = 0; k < depth[st]; k++) {
      int stride = st > 0 && k == 0 ? 2 : 1;
      mb_rn_block *bl = &r->blk[r->n_blocks++];
      snprintf(a, sizeof a, "layer%d.%d.conv1", st + 1, k);
      snprintf(b, sizeof b, "layer%d.%d.bn1", st + 1, k);
      bl->u1 = add_unit(r, a, b, cin, *h, *w, mid, 1, 1, 0, 1);
      snprintf(a, sizeof a, "layer%d.%d.conv2", st + 1, k);
      snprintf(b, sizeof b, "layer%d.%d.bn2", st + 1, k);
      bl->u2 = add_unit(r, a, b, mid, *h, *w, mid, 3, stride, 1, G);
      int oh = r->u[bl->u2].g.oh, ow = r->u[bl->u2].g.ow;
      snprintf(a, sizeof a, "layer%d.%d.conv3", st + 1, k);
      snprintf(b, sizeof b, "layer%d.%d.bn3", st + 1, k);
      bl->u3 = add_unit(r, a, b, mid, oh, ow, cout, 1, 1, 0, 1);
      bl->sc = -1;
      if (stride != 1 || cin != cout) {
        snprintf(a, sizeof a, "layer%d.%d.downsample.0", st + 1, k);
        snprintf(b, sizeof b, "layer%d.%d.downsample.1", st + 1, k);
        bl->sc = add_unit(r, a, b, cin, *h, *w, cout, 1, stride, 0, 1);
      }
      cin = cout;
      *h = oh;
      *w = ow;
    }
  }
  *c = cin;
}

/* Fills everything of r but the device memory. */
static int plan(const mb_resnet_config *cfg, mb_resnet *r, char *err, size_t len)
{
  memset(r, 0, sizeof *r);
  r->cfg = *cfg;
  const int rx = cfg->arch == MB_RN_RESNEXT50;
  if (cfg->in_c < 1 || cfg->in_h < 1 || cfg->in_w < 1 || cfg->width < 1 || cfg->classes < 1 ||
      (cfg->stem != MB_RN_CIFAR && cfg->stem != MB_RN_IMAGENET) ||
      (cfg->arch != MB_RN_RESNET18 && !rx)) {
    snprintf(err, len, "bad ResNet configuration (arch %d, %dx%dx%d, width %d, %d classes)",
             (int)cfg->arch, cfg->in_c, cfg->in_h, cfg->in_w, cfg->width, cfg->classes);
    return -1;
  }
  if (rx && (cfg->groups < 0 || cfg->base_width < 0 || cfg->width * rx_base(cfg) / 64 < 1)) {
    snprintf(err, len, "bad ResNeXt configuration (width %d, groups %d, base width %d: every "
             "stage needs width·base_width/64 >= 1)", cfg->width, rx_groups(cfg), rx_base(cfg));
    return -1;
  }
  const int inet = cfg->stem == MB_RN_IMAGENET;
  const int W = cfg->width;
  int s = inet ? add_unit(r, "conv1", "bn1", cfg->in_c, cfg->in_h, cfg->in_w, W, 7, 2, 3, 1)
               : add_unit(r, "conv1", "bn1", cfg->in_c, cfg->in_h, cfg->in_w, W, 3, 1, 1, 1);
  int h = r->u[s].g.oh, w = r->u[s].g.ow;
  if (inet) {   /* max-pool 3×3/2, padding 1 */
    r->mpool = (mb_conv_geom){.c = W, .h = h, .w = w, .kh = 3, .kw = 3, .stride = 2, .pad = 1};
    mb_conv_geom_finish(&r->mpool);
    h = r->mpool.oh;
    w = r->mpool.ow;
  }
  int cin = W;
  if (rx) plan_bottleneck(r, &cin, &h, &w);
  else plan_basic(r, inet, &cin, &h, &w);
  r->feat_c = cin;
  r->gpool = (mb_conv_geom){.c = cin, .h = h, .w = w, .kh = h, .kw = w, .stride = 1, .pad = 0};
  mb_conv_geom_finish(&r->gpool);
  const char *fc = inet || rx ? "fc" : "linear";
  add_tensor(&r->pt, fc, "weight", MB_PT_FC_WEIGHT, cfg->classes, cin);
  add_tensor(&r->pt, fc, "bias", MB_PT_FC_BIAS, cfg->classes, 1);
  for (int i = 0; i < r->pt.n; i++) r->pt.offs[i] = r->pt.t[i].off;
  r->pt.offs[r->pt.n] = r->pt.total;
  r->bn_eps = 1e-5f;
  r->bn_momentum = 0.1f;
  r->update_stats = 1;
  return 0;
}

/* The last unit of block b's chain (its output gets the shortcut). */
static int last_unit(const mb_rn_block *bl) { return bl->u3 >= 0 ? bl->u3 : bl->u2; }

int mb_resnet_table_build(const mb_resnet_config *cfg, mb_rn_table *pt, char *err, size_t len)
{
  mb_resnet r;   /* the plan only: no device memory */
  if (plan(cfg, &r, err, len)) return -1;
  *pt = r.pt;
  return 0;
}

/* ---------------------------------------------------------------- memory */

int mb_resnet_create(mb_backend *be, const mb_resnet_config *cfg, int max_batch, mb_resnet *r)
{
  char err[160];
  if (plan(cfg, r, err, sizeof err) || max_batch < 1) {
    if (max_batch < 1) snprintf(err, sizeof err, "resnet: max_batch %d < 1", max_batch);
    mb_fail(be, MB_BAD_ARG, "%s", err);
    memset(r, 0, sizeof *r);
    return -1;
  }
  r->be = be;
  r->max_batch = max_batch;
  const size_t B = (size_t)max_batch;
  const int C = r->feat_c, K = cfg->classes;
  r->w = mb_new(be, r->pt.total);
  r->g = mb_new(be, r->pt.total);
  r->run_mean = mb_new(be, r->n_stats);
  r->run_var = mb_new(be, r->n_stats);
  r->save_mean = mb_new(be, r->n_stats);
  r->save_invstd = mb_new(be, r->n_stats);
  r->in = mb_new(be, B * cfg->in_c * cfg->in_h * cfg->in_w);
  r->dx = mb_new(be, B * cfg->in_c * cfg->in_h * cfg->in_w);
  size_t per = 0;
  int widest = C > K ? C : K;
  for (int i = 0; i < r->n_units; i++) {
    mb_rn_unit *u = &r->u[i];
    size_t act = B * u->cout * u->g.oh * u->g.ow;
    u->c = mb_new(be, act);
    u->y = mb_new(be, act);
    size_t p = mb_conv2d_ws_per_image(&u->g);
    if (p > per) per = p;
    if (u->cout > widest) widest = u->cout;
  }
  if (cfg->stem == MB_RN_IMAGENET) {
    size_t n = B * r->mpool.c * r->mpool.oh * r->mpool.ow;
    r->pooled = mb_new(be, n);
    r->pool_idx = mb_new(be, n);
  }
  for (int b = 0; b < r->n_blocks; b++)
    r->blk[b].in = b ? r->u[last_unit(&r->blk[b - 1])].y
                     : cfg->stem == MB_RN_IMAGENET ? r->pooled : r->u[0].y;
  r->feat = mb_new(be, B * C);
  r->dfeat = mb_new(be, B * C);
  r->logits = mb_new(be, B * K);
  r->dlogits = mb_new(be, B * K);
  for (int i = 0; i < 4; i++) r->d[i] = mb_new(be, B * r->act_max);
  /* as many images as fit under the cap, at least one */
  size_t cap = MB_RN_WS_CAP > per ? MB_RN_WS_CAP : per;
  r->ws_n = B * per < cap ? B * per : cap;
  r->ws = mb_new(be, r->ws_n);
  r->sq_s = mb_new(be, B * widest);
  r->sq_c = mb_new(be, (size_t)widest);
  return mb_ok(be) ? 0 : -1;
}

void mb_resnet_destroy(mb_resnet *r)
{
  mb_backend *be = r->be;
  if (!be) return;
  mb_view v[] = {r->w, r->g, r->run_mean, r->run_var, r->save_mean, r->save_invstd, r->in, r->dx,
                 r->pooled, r->pool_idx, r->feat, r->dfeat, r->logits, r->dlogits, r->d[0],
                 r->d[1], r->d[2], r->d[3], r->ws, r->pg, r->sq_s, r->sq_c};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) mb_release(be, v[i]);
  for (int i = 0; i < r->n_units; i++) {
    mb_release(be, r->u[i].c);
    mb_release(be, r->u[i].y);
  }
  memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- init */

void mb_resnet_reset_stats(mb_resnet *r)
{
  mb_fill(r->be, r->run_mean, r->n_stats, 0.0f);
  mb_fill(r->be, r->run_var, r->n_stats, 1.0f);
}

void mb_resnet_init(mb_resnet *r, uint64_t seed)
{
  for (int i = 0; i < r->pt.n; i++) {
    const mb_rn_tensor *t = &r->pt.t[i];
    mb_view v = mb_at(r->w, t->off);
    if (t->kind == MB_PT_BN_WEIGHT || t->kind == MB_PT_BN_BIAS) {
      mb_fill(r->be, v, t->n, t->kind == MB_PT_BN_WEIGHT ? 1.0f : 0.0f);
      continue;
    }
    /* kaiming_uniform(a = √5) = U(±1/√fan_in); the bias uses its weight's fan_in */
    int fan_in = t->kind == MB_PT_FC_BIAS ? r->pt.t[i - 1].cols : t->cols;
    float bound = 1.0f / sqrtf((float)fan_in);
    mb_rng(r->be, MB_RNG_UNIFORM, seed, MB_RN_STREAM_INIT + (uint64_t)i, v, t->n, -bound, bound);
  }
  mb_resnet_reset_stats(r);
}

/* ---------------------------------------------------------------- forward */

static void unit_fwd(mb_resnet *r, const mb_rn_unit *u, mb_view w, mb_view x, int batch, int train,
                     int relu)
{
  mb_backend *be = r->be;
  mb_conv_geom g = u->g;
  g.n = batch;
  mb_conv2d_grouped_fwd(be, &g, u->cout, u->groups, x, mb_at(w, r->pt.t[u->tw].off), u->c, r->ws,
                        r->ws_n);
  int stats = !train || r->update_stats;
  mb_bn_args a = {
    .mode = train ? MB_BN_TRAIN : MB_BN_EVAL, .n = batch, .c = u->cout, .hw = g.oh * g.ow,
    .eps = r->bn_eps, .momentum = r->bn_momentum, .x = u->c, .y = u->y,
    .gamma = mb_at(w, r->pt.t[u->tg].off), .beta = mb_at(w, r->pt.t[u->tg + 1].off),
    .run_mean = stats ? mb_at(r->run_mean, u->soff) : mb_none(),
    .run_var = stats ? mb_at(r->run_var, u->soff) : mb_none(),
    .save_mean = train ? mb_at(r->save_mean, u->soff) : mb_none(),
    .save_invstd = train ? mb_at(r->save_invstd, u->soff) : mb_none(),
  };
  mb_batchnorm(be, &a);
  if (relu) mb_unary(be, MB_UN_RELU, u->y, u->y, mb_rn_act(u, batch), 0, 0);
}

mb_view mb_resnet_forward(mb_resnet *r, mb_view w, mb_view x, int batch, int train)
{
  mb_backend *be = r->be;
  if (mb_is_none(w)) w = r->w;
  if (batch < 1 || batch > r->max_batch) {
    mb_fail(be, MB_BAD_ARG, "resnet forward: batch %d outside 1..%d", batch, r->max_batch);
    return r->logits;
  }
  const mb_resnet_config *cfg = &r->cfg;
  if (!mb_is_none(x)) mb_copy(be, r->in, x, (size_t)batch * cfg->in_c * cfg->in_h * cfg->in_w);
  if (!train) {
    /* the backward and the per-sample pass normalise with the statistics used here */
    mb_copy(be, r->save_mean, r->run_mean, r->n_stats);
    mb_unary(be, MB_UN_AFFINE, r->run_var, r->save_invstd, r->n_stats, 1.0f, r->bn_eps);
    mb_unary(be, MB_UN_SQRT, r->save_invstd, r->save_invstd, r->n_stats, 0, 0);
    mb_unary(be, MB_UN_RECIP, r->save_invstd, r->save_invstd, r->n_stats, 0, 0);
  }
  unit_fwd(r, &r->u[0], w, r->in, batch, train, 1);
  if (cfg->stem == MB_RN_IMAGENET) {
    mb_pool_args p = {.kind = MB_POOL_MAX, .g = r->mpool, .x = r->u[0].y, .y = r->pooled,
                      .idx = r->pool_idx};
    p.g.n = batch;
    mb_pool(be, &p);
  }
  for (int b = 0; b < r->n_blocks; b++) {
    const mb_rn_block *bl = &r->blk[b];
    const mb_rn_unit *u1 = &r->u[bl->u1], *u2 = &r->u[bl->u2], *ul = &r->u[last_unit(bl)];
    unit_fwd(r, u1, w, bl->in, batch, train, 1);
    unit_fwd(r, u2, w, u1->y, batch, train, bl->u3 >= 0);
    if (bl->u3 >= 0) unit_fwd(r, ul, w, u2->y, batch, train, 0);
    mb_view sc = bl->in;
    if (bl->sc >= 0) {
      unit_fwd(r, &r->u[bl->sc], w, bl->in, batch, train, 0);
      sc = r->u[bl->sc].y;
    }
    size_t n = mb_rn_act(ul, batch);
    mb_binary(be, MB_BIN_AXPBY, ul->y, sc, ul->y, n, 1.0f, 1.0f);
    mb_unary(be, MB_UN_RELU, ul->y, ul->y, n, 0, 0);
  }
  mb_pool_args p = {.kind = MB_POOL_AVG, .g = r->gpool, .count_pad = 1,
                    .x = r->u[last_unit(&r->blk[r->n_blocks - 1])].y, .y = r->feat};
  p.g.n = batch;
  mb_pool(be, &p);
  const mb_rn_tensor *fw = &r->pt.t[r->pt.n - 2], *fb = &r->pt.t[r->pt.n - 1];
  mb_matmul(be, 0, 1, batch, fw->rows, fw->cols, 1.0f, r->feat, mb_at(w, fw->off), 0.0f, r->logits);
  mb_bcast(be, MB_BC_ADD, r->logits, mb_at(w, fb->off), r->logits, (size_t)batch,
           (size_t)fw->rows, 1);
  r->last_w = w;
  r->last_train = train;
  r->last_batch = batch;
  r->passes.forward += batch;
  return r->logits;
}

void mb_resnet_xent(mb_resnet *r, mb_view labels, int batch, float scale, mb_view loss)
{
  mb_xent_args a = {
    .rows = batch, .cols = r->cfg.classes, .logits = r->logits, .labels = labels, .loss = loss,
    .dlogits = r->dlogits, .probs = mb_none(), .scale = scale,
  };
  mb_softmax_xent(r->be, &a);
}
