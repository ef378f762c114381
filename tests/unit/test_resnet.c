/* ResNet-18 in core (core/resnet.*): the parameter table of the real models, central
 * finite differences of the whole small-width network on ref (train and eval mode,
 * CIFAR and ImageNet stems, parameters and input), the batched per-sample squared
 * gradients against one backward per sample, cpu against ref, and SGD lowering the loss.
 * Widths 4–8 keep the ref oracle fast.  Backends are opened inside the forked tests.
 * ResNeXt-50 (same code, Bottleneck blocks and grouped 3×3 convs): its table against
 * torchvision's resnext50_32x4d, and the finite differences and per-sample squares on a
 * narrow variant (width 4, 4 groups, 1×16×16). */
#include "core/clock.h"
#include "mb/registry.h"
#include "core/resnet.h"
#include "core/resnet_sens.h"
#include "philox.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mb_backend *open_or_skip(const char *name)
{
  char why[512];
  mb_backend *be = mb_backend_open(name, 0, why, sizeof why);
  if (!be) cr_skip_test("%s: %s", name, why);
  return be;
}

/* A flag variable: on unless unset, empty or "0" (docs/environment.md). */
static int flag(const char *name)
{
  const char *v = getenv(name);
  return v && v[0] && strcmp(v, "0") != 0;
}

static void ok(mb_backend *be) { cr_assert(mb_ok(be), "%s: %s", be->ops->name, mb_error(be)); }

static mb_resnet_config small_cfg(int in_c, int hw, int width, int classes, mb_rn_stem stem)
{
  mb_resnet_config c = {.in_c = in_c, .in_h = hw, .in_w = hw, .width = width, .classes = classes,
                        .stem = stem};
  return c;
}

typedef struct {
  mb_backend *be;
  mb_resnet r;
  mb_view labels, loss;
  int batch;
  size_t in_n;
} fixture;

/* A model with seed-11 weights, N(0,1) input from a device stream and fixed labels. */
static void fix_open(fixture *f, const char *be_name, const mb_resnet_config *cfg, int batch)
{
  memset(f, 0, sizeof *f);
  f->be = open_or_skip(be_name);
  f->batch = batch;
  cr_assert_eq(mb_resnet_create(f->be, cfg, batch, &f->r), 0, "%s", mb_error(f->be));
  mb_resnet_init(&f->r, 11);
  f->in_n = (size_t)batch * cfg->in_c * cfg->in_h * cfg->in_w;
  mb_rng(f->be, MB_RNG_NORMAL, 5, 77, f->r.in, f->in_n, 0.0f, 1.0f);
  int32_t *lab = malloc(sizeof(int32_t) * (size_t)batch);
  cr_assert_not_null(lab);
  for (int i = 0; i < batch; i++) lab[i] = (i * 3 + 1) % cfg->classes;
  f->labels = mb_new(f->be, (size_t)batch);
  mb_upload(f->be, f->labels, lab, (size_t)batch);
  free(lab);
  f->loss = mb_new(f->be, (size_t)batch);
  ok(f->be);
}

static void fix_close(fixture *f)
{
  mb_release(f->be, f->labels);
  mb_release(f->be, f->loss);
  mb_resnet_destroy(&f->r);
  mb_backend_close(f->be);
}

static float *dl(mb_backend *be, mb_view v, size_t n)
{
  float *h = malloc(n * sizeof *h);
  cr_assert_not_null(h);
  mb_download(be, h, v, n);
  ok(be);
  return h;
}

/* Mean CE of the batch at the current weights and input. */
static double loss_of(fixture *f, int train)
{
  mb_resnet_forward(&f->r, mb_none(), mb_none(), f->batch, train);
  mb_resnet_xent(&f->r, f->labels, f->batch, 1.0f, f->loss);
  float *l = dl(f->be, f->loss, (size_t)f->batch);
  double s = 0;
  for (int i = 0; i < f->batch; i++) s += l[i];
  free(l);
  return s / f->batch;
}

/* Forward, mean CE and backward to the parameters and the input. */
static void grads_of(fixture *f, int train)
{
  mb_resnet_forward(&f->r, mb_none(), mb_none(), f->batch, train);
  mb_resnet_xent(&f->r, f->labels, f->batch, 1.0f / (float)f->batch, mb_none());
  mb_rn_bwd_opts o = {.want_grads = 1, .want_input = 1};
  mb_resnet_backward(&f->r, f->batch, &o);
  ok(f->be);
}

static double normal(uint64_t stream, size_t i)
{
  uint32_t w[4];
  mb_philox_block(91, stream, i, w);
  double u1 = ((double)(w[0] >> 8) + 1.0) / 16777216.0, u2 = (double)(w[1] >> 8) / 16777216.0;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ---------------------------------------------------------------- the table */

static void table_case(const mb_resnet_config *cfg, size_t total, const char *sc, const char *fc)
{
  mb_rn_table pt;
  char err[160];
  cr_assert_eq(mb_resnet_table_build(cfg, &pt, err, sizeof err), 0, "%s", err);
  cr_assert_eq(pt.n, 62);
  cr_assert_eq(pt.total, total, "%zu parameters, want %zu", pt.total, total);
  int convs = 0, bns = 0;
  for (int i = 0; i < pt.n; i++) {
    cr_assert_eq(pt.offs[i], pt.t[i].off);
    cr_assert_eq(pt.offs[i + 1] - pt.offs[i], pt.t[i].n, "%s", pt.t[i].name);
    convs += pt.t[i].kind == MB_PT_CONV;
    bns += pt.t[i].kind == MB_PT_BN_WEIGHT;
  }
  cr_assert_eq(convs, 20);
  cr_assert_eq(bns, 20);
  /* PyTorch named_parameters() order */
  cr_assert_str_eq(pt.t[0].name, "conv1.weight");
  cr_assert_str_eq(pt.t[1].name, "bn1.weight");
  cr_assert_str_eq(pt.t[3].name, "layer1.0.conv1.weight");
  cr_assert_str_eq(pt.t[8].name, "layer1.0.bn2.bias");
  char want[40];
  snprintf(want, sizeof want, "layer2.0.%s.0.weight", sc);
  cr_assert_str_eq(pt.t[21].name, want);
  snprintf(want, sizeof want, "layer4.0.%s.1.bias", sc);
  cr_assert_str_eq(pt.t[53].name, want);
  snprintf(want, sizeof want, "%s.weight", fc);
  cr_assert_str_eq(pt.t[60].name, want);
  cr_assert_eq(pt.t[60].rows, cfg->classes);
  cr_assert_eq(pt.t[60].cols, 512);
  cr_assert_eq(pt.t[0].cols, cfg->in_c * (cfg->stem == MB_RN_IMAGENET ? 49 : 9));
}

Test(resnet, table_of_the_real_models)
{
  mb_resnet_config c;
  mb_resnet_config_cifar(&c);
  table_case(&c, 11173962, "shortcut", "linear");    /* docs/specification.md §0.2 */
  mb_resnet_config_fmnist(&c);
  table_case(&c, 11173962 - 2 * 64 * 9, "shortcut", "linear");
  mb_resnet_config_imagenet(&c);
  table_case(&c, 11689512, "downsample", "fc");      /* torchvision resnet18 */
}

/* ---------------------------------------------------------------- finite differences */

/* The ReLU masks and max-pool selections of the last forward: the loss is smooth
 * between two points with the same pattern (barring a double crossing). */
static size_t pattern_of(fixture *f, int32_t *out)
{
  mb_resnet *r = &f->r;
  size_t k = 0;
  for (int i = 0; i < r->n_units; i++) {
    int relu = i == 0;
    for (int b = 0; b < r->n_blocks; b++)
      relu |= r->blk[b].u1 == i || r->blk[b].u2 == i || r->blk[b].u3 == i;
    if (!relu) continue;
    size_t n = mb_rn_act(&r->u[i], f->batch);
    float *y = dl(f->be, r->u[i].y, n);
    for (size_t j = 0; j < n; j++) out[k++] = y[j] > 0;
    free(y);
  }
  if (r->cfg.stem == MB_RN_IMAGENET) {
    size_t n = (size_t)f->batch * r->mpool.c * r->mpool.oh * r->mpool.ow;
    mb_download(f->be, out + k, r->pool_idx, n);
    k += n;
  }
  return k;
}

/* What fd_case differentiates: a loss at the current weights (and input), and its
 * analytic gradient in r->g (and r->dx when `input`). */
typedef struct {
  double (*loss)(fixture *f, int train);
  void (*grads)(fixture *f, int train);
  int input;
  const double *magnitude;   /* the loss's scale, set by loss(); NULL: 1 (the f32 noise is 5e-7 of it) */
} objective;

static const objective k_mean_ce = {loss_of, grads_of, 1, NULL};

/* Central differences of an objective along two directions per tensor (N(0,1) and the
 * gradient itself) and two input directions, against the analytic gradient.  Kinks of the
 * ReLUs are everywhere at small widths (in train mode one moves the whole batch), so
 * the step is shrunk until neither end point changes a ReLU mask or a max-pool choice. */
static void fd_case_of(fixture *f, int batch, int train, const objective *obj)
{
  mb_resnet *r = &f->r;
  obj->grads(f, train);
  const size_t P = r->pt.total;
  float *w = dl(f->be, r->w, P), *g = dl(f->be, r->g, P), *gx = dl(f->be, r->dx, f->in_n);
  float *x = dl(f->be, r->in, f->in_n);
  float *buf = malloc((P > f->in_n ? P : f->in_n) * sizeof *buf);
  size_t np = 0;
  for (int i = 0; i < r->n_units; i++) np += mb_rn_act(&r->u[i], batch);
  int32_t *p0 = malloc(np * 4 * 2), *p1 = malloc(np * 4 * 2);
  obj->loss(f, train);
  double floor = 5e-7 * (obj->magnitude ? *obj->magnitude : 1.0);
  size_t pn = pattern_of(f, p0);
  double worst = 0;
  int checked = 0, kinked = 0;
  char where[128] = "";
  for (int t = obj->input ? -1 : 0; t < r->pt.n; t++) {
    /* t = −1: the input */
    size_t off = t < 0 ? 0 : r->pt.t[t].off, n = t < 0 ? f->in_n : r->pt.t[t].n;
    const float *base = t < 0 ? x + off : w + off, *grad = t < 0 ? gx : g + off;
    mb_view dst = t < 0 ? r->in : mb_at(r->w, off);
    double gn = 0;
    for (size_t i = 0; i < n; i++) gn += (double)grad[i] * grad[i];
    for (int dir = 0; dir < 2; dir++) {
      double an = 0, *v = malloc(n * sizeof *v);
      for (size_t i = 0; i < n; i++) {
        v[i] = dir == 0 || gn == 0 ? normal((uint64_t)(t + 2), i) : grad[i] * sqrt((double)n / gn);
        an += v[i] * grad[i];
      }
      double eps = 1e-3, lp = 0, lm = 0;
      int smooth = 0;
      for (; eps >= 1e-6 && !smooth; eps /= 4) {
        smooth = 1;
        for (int s = 1; s >= -1; s -= 2) {
          for (size_t i = 0; i < n; i++) buf[i] = (float)(base[i] + s * eps * v[i]);
          mb_upload(f->be, dst, buf, n);
          double l = obj->loss(f, train);
          if (s > 0) lp = l; else lm = l;
          smooth &= pattern_of(f, p1) == pn && memcmp(p0, p1, pn * 4) == 0;
        }
      }
      eps *= 4;
      mb_upload(f->be, dst, base, n);
      free(v);
      if (!smooth) { kinked++; continue; }
      double fd = (lp - lm) / (2 * eps);
      /* 3 % of the derivative, plus f32 noise of the loss (~1e-6) over 2ε */
      double err = fabs(fd - an) / (0.03 * fabs(an) + floor / eps);
      checked++;
      if (flag("MB_RN_FD_VERBOSE"))
        printf("%-28s dir %d  eps %.1e  analytic %+.6e  fd %+.6e  ratio %.3f\n",
               t < 0 ? "input" : r->pt.t[t].name, dir, eps, an, fd, err);
      if (err > worst) {
        worst = err;
        snprintf(where, sizeof where, "%s dir %d (eps %.2g): analytic %.6g fd %.6g",
                 t < 0 ? "input" : r->pt.t[t].name, dir, eps, an, fd);
      }
    }
  }
  cr_log_info("%d directions checked, %d skipped (a kink at every step), worst %.3f at %s",
              checked, kinked, worst, where);
  cr_assert(kinked * 5 <= checked + kinked, "%d of %d directions cross a kink at every step",
            kinked, checked + kinked);
  cr_assert(worst <= 1.0, "finite differences disagree at %s", where);
  free(w); free(g); free(gx); free(x); free(buf); free(p0); free(p1);
}

/* A ref model with non-trivial running statistics (three train-mode forwards, then frozen). */
static void fd_fixture(fixture *f, const mb_resnet_config *cfg, int batch)
{
  fix_open(f, "ref", cfg, batch);
  mb_resnet *r = &f->r;
  mb_unary(f->be, MB_UN_AFFINE, r->in, r->in, f->in_n, 1.5f, 0.2f);
  for (int i = 0; i < 3; i++) mb_resnet_forward(r, mb_none(), mb_none(), batch, 1);
  r->update_stats = 0;
}

static void fd_case(const mb_resnet_config *cfg, int batch, int train)
{
  fixture f;
  fd_fixture(&f, cfg, batch);
  fd_case_of(&f, batch, train, &k_mean_ce);
  fix_close(&f);
}

Test(resnet, finite_differences_train_mode)
{
  mb_resnet_config c = small_cfg(3, 12, 4, 5, MB_RN_CIFAR);
  fd_case(&c, 3, 1);
}

Test(resnet, finite_differences_eval_mode)
{
  mb_resnet_config c = small_cfg(3, 12, 4, 5, MB_RN_CIFAR);
  fd_case(&c, 3, 0);
}

Test(resnet, finite_differences_imagenet_stem)
{
  mb_resnet_config c = small_cfg(2, 25, 4, 6, MB_RN_IMAGENET);
  fd_case(&c, 2, 0);
}

/* ---------------------------------------------------------------- MU-Mis double backward */

/* The sensitivity objective of a fixture whose batch is 2h rows: samples in rows [0, h),
 * seed c = the label, c′ = another class; l2 picks φ = ‖·‖ over ‖·‖². */
static struct {
  mb_rn_sens_ws ws;
  mb_view seeds, loss;
  int32_t *host_seeds;
  int h, l2;
  double magnitude;   /* Σ φ over both halves at the last sens_loss */
} sens;

static void sens_open(fixture *f, int l2)
{
  const int h = f->batch / 2, K = f->r.cfg.classes;
  sens.h = h;
  sens.l2 = l2;
  sens.host_seeds = malloc(sizeof(int32_t) * 2 * (size_t)h);
  cr_assert_not_null(sens.host_seeds);
  for (int i = 0; i < h; i++) {
    int c = (i * 3 + 1) % K;
    sens.host_seeds[i] = c;
    sens.host_seeds[h + i] = (c + 1 + i % (K - 1)) % K;
  }
  sens.seeds = mb_new(f->be, 2 * (size_t)h);
  mb_upload(f->be, sens.seeds, sens.host_seeds, 2 * (size_t)h);
  sens.loss = mb_new(f->be, 1);
  cr_assert_eq(mb_rn_sens_ws_create(&f->r, 2 * h, &sens.ws), 0, "%s", mb_error(f->be));
}

static void sens_close(fixture *f)
{
  mb_rn_sens_ws_destroy(&f->r, &sens.ws);
  mb_release(f->be, sens.seeds);
  mb_release(f->be, sens.loss);
  free(sens.host_seeds);
}

/* The definition: both seeds of every sample through the ordinary backward to the input
 * (rows [h, 2h) repeat the samples), φ of each input gradient, summed on the host. */
static double sens_loss(fixture *f, int train)
{
  (void)train;   /* MU-Mis probes the model in eval mode */
  mb_resnet *r = &f->r;
  const int h = sens.h, K = r->cfg.classes;
  const size_t D = f->in_n / (size_t)f->batch;
  mb_copy(f->be, mb_at(r->in, (size_t)h * D), r->in, (size_t)h * D);
  mb_resnet_forward(r, mb_none(), mb_none(), 2 * h, 0);
  float *oh = calloc((size_t)2 * h * K, sizeof *oh);
  cr_assert_not_null(oh);
  for (int i = 0; i < 2 * h; i++) oh[(size_t)i * K + sens.host_seeds[i]] = 1.0f;
  mb_upload(f->be, r->dlogits, oh, (size_t)2 * h * K);
  free(oh);
  mb_rn_bwd_opts o = {.want_grads = 0, .want_input = 1};
  mb_resnet_backward(r, 2 * h, &o);
  float *g = dl(f->be, r->dx, 2 * (size_t)h * D);
  double l = 0;
  sens.magnitude = 0;
  for (int i = 0; i < 2 * h; i++) {
    double q = 0;
    for (size_t j = 0; j < D; j++) q += (double)g[(size_t)i * D + j] * g[(size_t)i * D + j];
    l += (i < h ? 1 : -1) * (sens.l2 ? sqrt(q) : q);
    sens.magnitude += sens.l2 ? sqrt(q) : q;
  }
  free(g);
  return l;
}

static void sens_grads(fixture *f, int train)
{
  (void)train;
  mb_resnet *r = &f->r;
  mb_resnet_forward(r, mb_none(), mb_none(), sens.h, 0);
  mb_fill(f->be, r->g, r->pt.total, 0.0f);
  mb_fill(f->be, sens.loss, 1, 0.0f);
  mb_resnet_sens_grad(r, &sens.ws, sens.seeds, sens.h, sens.l2, r->g, sens.loss);
  ok(f->be);
}

static const objective k_sensitivity = {sens_loss, sens_grads, 0, &sens.magnitude};

/* BN γ, β and the running statistics away from 1, 0, 0 and 1, so that the scale
 * s = γ·invstd and the shift are tested as such. */
static void perturb_bn(fixture *f)
{
  mb_resnet *r = &f->r;
  mb_rng(f->be, MB_RNG_UNIFORM, 23, 498, r->run_var, r->n_stats, 0.25f, 4.0f);
  mb_rng(f->be, MB_RNG_NORMAL, 23, 499, r->run_mean, r->n_stats, 0.0f, 0.3f);
  for (int t = 0; t < r->pt.n; t++) {
    const mb_rn_tensor *tt = &r->pt.t[t];
    if (tt->kind != MB_PT_BN_WEIGHT && tt->kind != MB_PT_BN_BIAS) continue;
    int gamma = tt->kind == MB_PT_BN_WEIGHT;
    mb_rng(f->be, MB_RNG_NORMAL, 23, 500 + (uint64_t)t, mb_at(r->w, tt->off), tt->n,
           gamma ? 1.0f : 0.0f, gamma ? 0.3f : 0.2f);
  }
}

static void sens_fd_case(const mb_resnet_config *cfg, int h, int l2)
{
  fixture f;
  fd_fixture(&f, cfg, 2 * h);
  perturb_bn(&f);
  sens_open(&f, l2);
  /* the loss the double backward reports is the definition's */
  sens_grads(&f, 0);
  float got = 0;
  mb_download(f.be, &got, sens.loss, 1);
  double want = sens_loss(&f, 0);
  cr_assert(fabs(got - want) <= 1e-5 * fabs(want) + 1e-9, "loss %.9g, the definition %.9g", got,
            want);
  /* biases and BN β get exactly nothing */
  float *g = dl(f.be, f.r.g, f.r.pt.total);
  for (int t = 0; t < f.r.pt.n; t++) {
    const mb_rn_tensor *tt = &f.r.pt.t[t];
    if (tt->kind != MB_PT_BN_BIAS && tt->kind != MB_PT_FC_BIAS) continue;
    for (size_t i = 0; i < tt->n; i++) cr_assert_eq(g[tt->off + i], 0.0f, "%s[%zu]", tt->name, i);
  }
  free(g);
  fd_case_of(&f, 2 * h, 0, &k_sensitivity);
  sens_close(&f);
  fix_close(&f);
}

Test(resnet, sensitivity_gradient_finite_differences)
{
  mb_resnet_config c = small_cfg(3, 12, 4, 5, MB_RN_CIFAR);
  sens_fd_case(&c, 2, 0);
}

Test(resnet, sensitivity_gradient_l2_norm_imagenet_stem)
{
  mb_resnet_config c = small_cfg(2, 25, 4, 6, MB_RN_IMAGENET);
  sens_fd_case(&c, 1, 1);
}

/* ---------------------------------------------------------------- per-sample squares */

static void sq_case(const char *be_name, const mb_resnet_config *cfg, int batch, int split)
{
  fixture f;
  fix_open(&f, be_name, cfg, batch);
  mb_resnet *r = &f.r;
  for (int i = 0; i < 2; i++) mb_resnet_forward(r, mb_none(), mb_none(), batch, 1);
  const size_t P = r->pt.total, D = f.in_n / (size_t)batch;
  /* the batched pass, onto accumulators holding 1e-9 (+= not =) */
  mb_view acc[2] = {mb_new(f.be, P), mb_new(f.be, P)}, x = mb_new(f.be, f.in_n);
  mb_copy(f.be, x, r->in, f.in_n);
  mb_fill(f.be, acc[0], P, 1e-9f);
  mb_fill(f.be, acc[1], P, 1e-9f);
  mb_rn_sq_target sq[2] = {{0, split, acc[0]}, {split, batch, acc[1]}};
  long long fw0 = r->passes.forward, bw0 = r->passes.backward;
  mb_resnet_sq_grads(r, mb_none(), x, f.labels, batch, sq, 2);
  ok(f.be);
  cr_assert_eq(r->passes.forward - fw0, batch);
  cr_assert_eq(r->passes.backward - bw0, batch);
  float *got[2] = {dl(f.be, acc[0], P), dl(f.be, acc[1], P)};
  /* the definition: one batch-1 eval backward per sample, squared, summed */
  double *want[2] = {calloc(P, sizeof(double)), calloc(P, sizeof(double))};
  for (int nidx = 0; nidx < batch; nidx++) {
    mb_resnet_forward(r, mb_none(), mb_at(x, (size_t)nidx * D), 1, 0);
    mb_resnet_xent(r, mb_at(f.labels, (size_t)nidx), 1, 1.0f, mb_none());
    mb_rn_bwd_opts o = {.want_grads = 1};
    mb_resnet_backward(r, 1, &o);
    float *g = dl(f.be, r->g, P);
    double *a = want[nidx < split ? 0 : 1];
    for (size_t i = 0; i < P; i++) a[i] += (double)g[i] * g[i];
    free(g);
  }
  double wr = 0, wn = 0;   /* worst relative error and NMSE of a tensor */
  for (int k = 0; k < 2; k++)
    for (int t = 0; t < r->pt.n; t++) {
      const mb_rn_tensor *tt = &r->pt.t[t];
      double scale = 0, worst = 0, num = 0, den = 0;
      size_t at = 0;
      for (size_t i = tt->off; i < tt->off + tt->n; i++) scale = fmax(scale, want[k][i]);
      cr_assert(scale > 0 || k == 0 || tt->kind == MB_PT_FC_BIAS, "%s: all zero", tt->name);
      for (size_t i = tt->off; i < tt->off + tt->n; i++) {
        double e = fabs(((double)got[k][i] - 1e-9) - want[k][i]);
        num += e * e;
        den += want[k][i] * want[k][i];
        if (e > worst) { worst = e; at = i; }
      }
      if (scale > 0) { wr = fmax(wr, worst / scale); wn = fmax(wn, num / den); }
      cr_assert(worst <= 1e-5 * scale + 1e-15 && num <= 1e-11 * den + 1e-30,
                "target %d %s[%zu]: got %.9g want %.9g (max %.3g)", k, tt->name, at - tt->off,
                (double)got[k][at] - 1e-9, want[k][at], scale);
    }
  cr_log_info("%s: worst max error %.3g of the tensor's max, NMSE %.3g", be_name, wr, wn);
  /* a train-mode forward has no per-sample gradients */
  mb_resnet_forward(r, mb_none(), x, batch, 1);
  mb_resnet_xent(r, f.labels, batch, 1.0f, mb_none());
  mb_rn_bwd_opts o = {.n_sq = 1, .sq = sq};
  mb_resnet_backward(r, batch, &o);
  cr_assert(!mb_ok(f.be) && strstr(mb_error(f.be), "eval-mode"), "%s", mb_error(f.be));
  for (int k = 0; k < 2; k++) { free(got[k]); free(want[k]); }
  mb_release(f.be, acc[0]);
  mb_release(f.be, acc[1]);
  mb_release(f.be, x);
  fix_close(&f);
}

Test(resnet, per_sample_squared_gradients_match_the_loop)
{
  mb_resnet_config c = small_cfg(3, 12, 4, 5, MB_RN_CIFAR);
  sq_case("ref", &c, 5, 2);
}

Test(resnet, per_sample_squared_gradients_imagenet_stem_cpu)
{
  mb_resnet_config c = small_cfg(1, 29, 8, 7, MB_RN_IMAGENET);
  sq_case("cpu", &c, 4, 1);
}

/* ---------------------------------------------------------------- ResNeXt-50 */

/* A narrow ResNeXt: planes 4·{1,2,4,8}, 3×3 convs of 8..64 channels in 4 groups. */
static mb_resnet_config rx_small(int in_c, int hw, int classes, mb_rn_stem stem)
{
  mb_resnet_config c = small_cfg(in_c, hw, 4, classes, stem);
  c.arch = MB_RN_RESNEXT50;
  c.groups = 4;
  c.base_width = 32;
  return c;
}

Test(resnext, table_of_the_real_model)
{
  mb_resnet_config c;
  mb_resnext50_config_imagenet(&c);
  mb_rn_table pt;
  char err[160];
  cr_assert_eq(mb_resnet_table_build(&c, &pt, err, sizeof err), 0, "%s", err);
  cr_assert_eq(pt.n, 161);
  cr_assert_eq(pt.total, 25028904, "%zu parameters", pt.total);   /* torchvision resnext50_32x4d */
  int convs = 0;
  for (int i = 0; i < pt.n; i++) {
    cr_assert_eq(pt.offs[i + 1] - pt.offs[i], pt.t[i].n, "%s", pt.t[i].name);
    convs += pt.t[i].kind == MB_PT_CONV;
  }
  cr_assert_eq(convs, 53);
  /* torchvision's named_parameters() order and names */
  static const struct { int i; const char *name; int rows, cols; } want[] = {
    {0, "conv1.weight", 64, 3 * 49},
    {2, "bn1.bias", 64, 1},
    {3, "layer1.0.conv1.weight", 128, 64},
    {6, "layer1.0.conv2.weight", 128, 4 * 9},          /* 32 groups of 4 channels */
    {9, "layer1.0.conv3.weight", 256, 128},
    {12, "layer1.0.downsample.0.weight", 256, 64},
    {14, "layer1.0.downsample.1.bias", 256, 1},
    {15, "layer1.1.conv1.weight", 128, 256},
    {36, "layer2.0.conv2.weight", 256, 8 * 9},
    {42, "layer2.0.downsample.0.weight", 512, 256},
    {156, "layer4.2.conv3.weight", 2048, 1024},
    {158, "layer4.2.bn3.bias", 2048, 1},
    {159, "fc.weight", 1000, 2048},
    {160, "fc.bias", 1000, 1},
  };
  for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
    const mb_rn_tensor *t = &pt.t[want[k].i];
    cr_assert_str_eq(t->name, want[k].name);
    cr_assert_eq(t->rows, want[k].rows, "%s", t->name);
    cr_assert_eq(t->cols, want[k].cols, "%s", t->name);
  }
  /* 224 → 112 → 56 (max-pool) → 56, 28, 14, 7; the stride on the grouped 3×3 */
  mb_resnet r;
  mb_backend *be = open_or_skip("ref");
  cr_assert_eq(mb_resnet_create(be, &c, 1, &r), 0, "%s", mb_error(be));
  cr_assert_eq(r.n_blocks, 16);
  cr_assert_eq(r.n_units, 53);
  cr_assert_eq(r.feat_c, 2048);
  cr_assert_eq(r.gpool.h, 7);
  const mb_rn_block *b = &r.blk[3];   /* layer2.0 */
  cr_assert_eq(r.u[b->u1].g.stride, 1);
  cr_assert_eq(r.u[b->u2].g.stride, 2);
  cr_assert_eq(r.u[b->u2].groups, 32);
  cr_assert_eq(r.u[b->u2].g.oh, 28);
  cr_assert_eq(r.u[b->sc].g.stride, 2);
  mb_resnet_destroy(&r);
  /* a width whose planes·base_width/64 is 0 has no channels to group */
  c.width = 8;
  cr_assert_neq(mb_resnet_table_build(&c, &pt, err, sizeof err), 0);
  cr_assert(strstr(err, "ResNeXt"), "%s", err);
  mb_backend_close(be);
}

Test(resnext, finite_differences_eval_mode)
{
  mb_resnet_config c = rx_small(1, 8, 5, MB_RN_CIFAR);
  fd_case(&c, 2, 0);
}

/* No train-mode case: in the 16-block network one tensor's step moves every ReLU of the
 * batch through the batch statistics, and 40–50 % of the directions cross a kink at
 * every step down to 1e-6 (measured at 1×8×8 batch 2 and 1×12×12 batch 4).  The
 * train-mode BN backward is the one ResNet-18's train-mode case checks above. */

Test(resnext, per_sample_squared_gradients_match_the_loop)
{
  mb_resnet_config c = rx_small(1, 16, 5, MB_RN_CIFAR);
  sq_case("ref", &c, 5, 2);
}

Test(resnext, per_sample_squared_gradients_imagenet_stem_cpu)
{
  mb_resnet_config c = rx_small(2, 29, 7, MB_RN_IMAGENET);
  sq_case("cpu", &c, 4, 1);
}

/* ---------------------------------------------------------------- cpu against ref */

static double nmse(const float *a, const float *b, size_t n)
{
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)a[i] - b[i];
    num += d * d;
    den += (double)b[i] * b[i];
  }
  return den > 0 ? num / den : num;
}

static void agree(const char *what, const float *a, const float *b, size_t n, double tol)
{
  double e = nmse(a, b, n);
  cr_assert(e <= tol, "%s: NMSE %.3g > %.3g", what, e, tol);
}

Test(resnet, cpu_agrees_with_ref)
{
  mb_resnet_config c = small_cfg(3, 16, 8, 10, MB_RN_CIFAR);
  const int B = 4;
  fixture fr, fc;
  fix_open(&fc, "cpu", &c, B);
  fix_open(&fr, "ref", &c, B);
  const size_t P = fr.r.pt.total, S = fr.r.n_stats;
  for (int train = 1; train >= 0; train--) {
    fixture *fx[2] = {&fr, &fc};
    float *lg[2], *g[2], *dx[2], *rm[2], *rv[2], *sq[2];
    for (int k = 0; k < 2; k++) {
      fixture *f = fx[k];
      grads_of(f, train);
      lg[k] = dl(f->be, f->r.logits, (size_t)B * 10);
      g[k] = dl(f->be, f->r.g, P);
      dx[k] = dl(f->be, f->r.dx, f->in_n);
      rm[k] = dl(f->be, f->r.run_mean, S);
      rv[k] = dl(f->be, f->r.run_var, S);
      sq[k] = NULL;
      if (!train) {
        mb_view acc = mb_new(f->be, P);
        mb_fill(f->be, acc, P, 0.0f);
        mb_rn_sq_target t = {0, B, acc};
        mb_resnet_sq_grads(&f->r, mb_none(), mb_none(), f->labels, B, &t, 1);
        sq[k] = dl(f->be, acc, P);
        mb_release(f->be, acc);
      }
    }
    const char *m = train ? "train" : "eval";
    cr_log_info("%s: logits %.3g grads %.3g dx %.3g", m, nmse(lg[1], lg[0], (size_t)B * 10),
                nmse(g[1], g[0], P), nmse(dx[1], dx[0], fr.in_n));
    agree("logits", lg[1], lg[0], (size_t)B * 10, 1e-8);
    agree("input gradient", dx[1], dx[0], fr.in_n, 1e-8);
    agree("running mean", rm[1], rm[0], S, 1e-8);
    agree("running var", rv[1], rv[0], S, 1e-8);
    for (int t = 0; t < fr.r.pt.n; t++) {
      const mb_rn_tensor *tt = &fr.r.pt.t[t];
      agree(tt->name, g[1] + tt->off, g[0] + tt->off, tt->n, 1e-8);
      if (sq[0]) agree(tt->name, sq[1] + tt->off, sq[0] + tt->off, tt->n, 1e-8);
    }
    for (int k = 0; k < 2; k++) {
      free(lg[k]); free(g[k]); free(dx[k]); free(rm[k]); free(rv[k]); free(sq[k]);
    }
  }
  fix_close(&fc);
  fix_close(&fr);
}

/* ---------------------------------------------------------------- training */

Test(resnet, sgd_steps_lower_the_loss)
{
  mb_resnet_config c = small_cfg(1, 10, 4, 4, MB_RN_CIFAR);
  const int B = 8;
  fixture f;
  fix_open(&f, "ref", &c, B);
  mb_resnet *r = &f.r;
  const size_t P = r->pt.total;
  mb_view mom = mb_new(f.be, P);
  double first = loss_of(&f, 1), last = first;
  for (int step = 0; step < 15; step++) {
    grads_of(&f, 1);
    mb_optim_args o = {.kind = MB_OPT_SGD, .w = r->w, .g = r->g, .m = mom, .n = P, .lr = 0.05f,
                       .weight_decay = 5e-4f, .momentum = 0.9f, .first_step = step == 0};
    mb_optim(f.be, &o);
    last = loss_of(&f, 1);
    ok(f.be);
  }
  cr_log_info("loss %.4f -> %.4f", first, last);
  cr_assert(last < 0.5 * first, "loss %.4f -> %.4f", first, last);
  /* eval mode after training: finite and the running statistics moved */
  double ev = loss_of(&f, 0);
  cr_assert(isfinite(ev));
  mb_release(f.be, mom);
  fix_close(&f);
}


/* ---------------------------------------------------------------- timing (opt-in) */

/* MB_RN_BENCH=BACKEND: train-mode forward+backward of the real-width models at batch
 * 128 (Fashion-MNIST 1×28×28 and CIFAR 3×32×32), the per-sample FIM pass of 10 codes,
 * and a 224×224 ImageNet forward/FIM pass at batch 10.  Prints samples/s. */
static void bench_one(const char *be_name, const mb_resnet_config *cfg, int batch, int reps)
{
  fixture f;
  fix_open(&f, be_name, cfg, batch);
  mb_resnet *r = &f.r;
  char d[128];
  mb_resnet_describe(cfg, d, sizeof d);
  mb_rn_bwd_opts o = {.want_grads = 1};
  double best = 1e30, fwd = 0;
  for (int i = 0; i < reps + 1; i++) {
    mb_sync(f.be);
    double t0 = mb_now();
    mb_resnet_forward(r, mb_none(), mb_none(), batch, 1);
    mb_sync(f.be);
    double t1 = mb_now();
    mb_resnet_xent(r, f.labels, batch, 1.0f / (float)batch, mb_none());
    mb_resnet_backward(r, batch, &o);
    mb_sync(f.be);
    ok(f.be);
    if (i && mb_now() - t0 < best) { best = mb_now() - t0; fwd = t1 - t0; }   /* i = 0: warm-up */
  }
  int K = batch < 10 ? batch : 10;
  mb_view acc = mb_new(f.be, r->pt.total);
  mb_fill(f.be, acc, r->pt.total, 0.0f);
  mb_rn_sq_target t = {0, K, acc};
  mb_resnet_sq_grads(r, mb_none(), mb_none(), f.labels, K, &t, 1);   /* allocates pg */
  mb_sync(f.be);
  double t0 = mb_now();
  mb_resnet_sq_grads(r, mb_none(), mb_none(), f.labels, K, &t, 1);
  mb_sync(f.be);
  double fim = mb_now() - t0;
  ok(f.be);
  printf("%s on %s: batch %d fwd+bwd %.3f s (fwd %.3f s) = %.1f samples/s; FIM of %d codes %.3f s\n",
         d, be_name, batch, best, fwd, batch / best, K, fim);
  mb_release(f.be, acc);
  fix_close(&f);
}

Test(resnet, zz_bench, .timeout = 1200)
{
  const char *be = getenv("MB_RN_BENCH");
  if (!be) cr_skip_test("set MB_RN_BENCH=BACKEND to time the real-width models");
  mb_resnet_config c;
  mb_resnet_config_fmnist(&c);
  bench_one(be, &c, 128, 2);
  if (flag("MB_RN_BENCH_QUICK")) return;
  mb_resnet_config_cifar(&c);
  bench_one(be, &c, 128, 2);
  mb_resnet_config_imagenet(&c);
  bench_one(be, &c, 10, 1);
}
