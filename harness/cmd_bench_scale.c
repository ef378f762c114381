/* mnemobench bench-scale: the scalability point of issue 8 (paper Table 4 / Fig. 3,
 * ImageNet row).  Forgetting class 0 of the 1000-class 224×224 ResNet-18 with mnemonic
 * codes (K forward+backward code passes for the FIM, 2K forward for the ± choice, in
 * batches that fit the device), and SSD's importance passes over a synthetic data set.
 * Written against the core and the op table only; weights and codes are seeded. */
#include "core/clock.h"
#include "core/codes.h"
#include "mb/registry.h"
#include "baselines/ssd.h"
#include "harness/bench_scale.h"
#include "harness/commands.h"
#include "harness/common.h"
#include "harness/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char k_usage[] =
  "usage: mnemobench bench-scale [--backend NAME]... [--device N] [--classes-total K] [--size S]\n"
  "         [--width W] [--batch N] [--repeats N] [--warmups N] [--seed N] [--quick]\n"
  "         [--ssd-images N] [--ssd-forget N] [--ssd-pool N] [--ssd-batch N] [--no-ssd] [--json]\n"
  "The scalability point (paper Table 4 / Fig. 3, ImageNet row), per backend (default: every\n"
  "available one but ref, which runs when named or with --quick), on the ImageNet\n"
  "ResNet-18 (7x7/2 stem + max-pool, S x S input, K classes; defaults K 1000, S 224, width\n"
  "64: 11,689,512 parameters) with seeded weights and codes:\n"
  "  * forgetting class 0 with mnemonic codes, timed as algorithms.md 2.5 (FIM of the K codes,\n"
  "    eta/alpha per tensor, both candidates, 2K code forward passes), the code passes in\n"
  "    batches of --batch rows (default: from the device's memory; at most 32 on a CPU device);\n"
  "  * SSD importance passes (I_f over --ssd-forget forget-class images, I_D over all\n"
  "    --ssd-images images, batch --ssd-batch 64, eval mode) and the dampening, on a synthetic\n"
  "    set cycling through --ssd-pool distinct resident images (default min(N, 1024)).\n"
  "    Defaults 64 / 640 images so a CPU finishes in minutes; the paper's ImageNet size is\n"
  "    --ssd-forget 1300 --ssd-images 1281167.\n"
  "Each figure: median, min, max of --repeats (default 5 on a GPU, 1 on a CPU device) after\n"
  "--warmups full runs (default 1 on a GPU, 0 on a CPU device) and one small warm-up; host\n"
  "clock around synced regions, device timer beside it where the backend has one.\n"
  "--quick: K 1000 at S 32 (same parameter count, tiny activations) with SSD 64 / 128.\n";

#define MAX_BACKENDS 8

typedef struct {
  const char *backends[MAX_BACKENDS];
  int n_backends, device, repeats, warmups, json, no_ssd, quick;
  mb_scale_cfg cfg;
  long ssd_n, ssd_f;
  int ssd_pool;
} scale_opts;

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

static void make_config(const mb_scale_cfg *c, mb_resnet_config *rc)
{
  mb_resnet_config_imagenet(rc);
  rc->in_h = rc->in_w = c->size;
  rc->width = c->width;
  rc->classes = c->classes;
}

/* Device elements one image costs in the ResNet's activation buffers (mb_resnet_create). */
static size_t per_image_elems(const mb_resnet *r)
{
  size_t n = 2 * (size_t)r->cfg.in_c * r->cfg.in_h * r->cfg.in_w + 4 * r->act_max;
  for (int i = 0; i < r->n_units; i++) n += 2 * mb_rn_act(&r->u[i], 1);
  if (r->cfg.stem == MB_RN_IMAGENET) n += 2 * (size_t)r->mpool.c * r->mpool.oh * r->mpool.ow;
  return n + 4 * (size_t)(r->cfg.width * 8 + r->cfg.classes);
}

int mb_scale_auto_batch(const mb_backend *be, const mb_scale_cfg *c)
{
  const int is_cpu = strcmp(be->info.type, "cpu") == 0;
  int b = 32;
  mb_resnet_config rc;
  make_config(c, &rc);
  mb_rn_table pt;
  char err[160];
  if (be->info.mem_bytes && mb_resnet_table_build(&rc, &pt, err, sizeof err) == 0) {
    /* a plan-sized estimate: the measured per-image buffers of a batch-1 model */
    mb_resnet probe;
    if (mb_resnet_create((mb_backend *)be, &rc, 1, &probe) == 0) {
      double per = 4.0 * (double)per_image_elems(&probe);
      /* fixed: codes, w, g, f_F, f_R, per-sample and im2col workspaces (2 × 64 MiB) */
      double fixed = 4.0 * ((double)c->classes * rc.in_c * rc.in_h * rc.in_w + 4.0 * pt.total) +
                     2.0 * 64 * 1048576.0;
      double budget = 0.6 * (double)be->info.mem_bytes - fixed;
      b = budget > per ? (int)fmin(budget / per, 4096) : 1;
    }
    mb_resnet_destroy(&probe);
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
  s->batch = c->batch > 0 ? c->batch : mb_scale_auto_batch(be, c);
  if (s->batch > c->classes) s->batch = c->classes;
  mb_resnet_config rc;
  make_config(c, &rc);
  int max_batch = s->batch > c->ssd_batch ? s->batch : c->ssd_batch;
  if (mb_resnet_create(be, &rc, max_batch, &s->rn) != 0) return -1;
  mb_model_from_resnet(&s->rn, &s->md);
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
  mb_resnet_destroy(&s->rn);
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
  mb_sync(be);
  double t0 = mb_now();
  mb_timer *tm = mb_timer_begin(be);
  mb_model_forget_mnemonic_batched(&s->md, s->codes, n_classes, forget, 1, s->batch,
                                   s->cfg.lambda1, s->cfg.lambda2, &out->choice, progress, ctx);
  mb_timer_end(be, tm);
  mb_sync(be);
  out->seconds = mb_now() - t0;
  out->device_ms = be->info.has_device_timer ? mb_timer_ms(be, tm) : -1;
  mb_timer_free(be, tm);
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
  mb_sync(be);
  double t0 = mb_now();
  mb_timer *tm = mb_timer_begin(be);
  ssd_importance(s, dpool, pool, didx, dlab, 0, n_f, i_f, "ssd I_f", progress, ctx);
  mb_sync(be);
  double t1 = mb_now();
  ssd_importance(s, dpool, pool, didx, dlab, n_f, rows, i_d, "ssd I_D", progress, ctx);
  mb_sync(be);
  double t2 = mb_now();
  /* SSD's own dampening (baselines/ssd.c): w ← min(λ·I_D/I_f, 1)·w where I_f > α·I_D */
  double nsel = bl_ssd_dampen(be, s->md.w, i_f, i_d, s->md.g, P, alpha, lambda);
  mb_timer_end(be, tm);
  mb_sync(be);
  out->seconds = mb_now() - t0;
  out->if_s = t1 - t0;
  out->id_s = t2 - t1;
  out->device_ms = be->info.has_device_timer ? mb_timer_ms(be, tm) : -1;
  mb_timer_free(be, tm);
  out->dampened = nsel;
  out->n_forward = s->md.passes->forward - p0.forward;
  out->n_backward = s->md.passes->backward - p0.backward;
  mb_release(be, dpool); mb_release(be, didx); mb_release(be, dlab);
  mb_release(be, i_f); mb_release(be, i_d);
  return mb_ok(be) ? 0 : -1;
}

/* ---------------------------------------------------------------- the command */

typedef struct { double med, min, max; } stats3;

static int cmp_d(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static stats3 summarise(const double *src, int n)
{
  double *v = malloc((size_t)n * sizeof *v);
  stats3 s = {NAN, NAN, NAN};
  if (!v || n < 1) { free(v); return s; }
  memcpy(v, src, (size_t)n * sizeof *v);
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  s = (stats3){n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]), v[0], v[n - 1]};
  free(v);
  return s;
}

/* The timing fields both rows share. */
static void json_timing(mb_json *j, stats3 st, double device_ms, int reps, int warm,
                        long long n_forward, long long n_backward)
{
  mb_json_str(j, "unit", "s");
  mb_json_num(j, "median", st.med);
  mb_json_num(j, "min", st.min);
  mb_json_num(j, "max", st.max);
  mb_json_num(j, "device_timer_median_ms", device_ms);
  mb_json_int(j, "repeats", reps);
  mb_json_int(j, "warmups", warm);
  mb_json_int(j, "n_forward", n_forward);
  mb_json_int(j, "n_backward", n_backward);
}

typedef struct { int on, last_q; double t0; } progress_ctx;

/* stderr only: a \r line on a terminal, otherwise quarter marks */
static void show_progress(void *vp, const char *phase, int done, int total)
{
  progress_ctx *p = vp;
  if (!p->on) return;
  if (isatty(2)) {
    fprintf(stderr, "\r\033[K    %-8s %d/%d  (%.1f s)", phase, done, total, mb_now() - p->t0);
    if (done == total) fputc('\n', stderr);
  } else {
    int q = 4 * done / total;
    if (q != p->last_q) fprintf(stderr, "    %-8s %d/%d  (%.1f s)\n", phase, done, total, mb_now() - p->t0);
    p->last_q = q == 4 ? 0 : q;   /* the next phase starts from 0 */
  }
  fflush(stderr);
}

static void row_head(mb_json *j, const char *backend, const mb_backend *be, const char *metric,
                     const scale_opts *o, int batch)
{
  mb_json_begin(j);
  mb_json_str(j, "schema", "mnemobench.scale/1");
  mb_json_str(j, "backend", backend);
  mb_json_str(j, "device", be ? be->info.name : "");
  mb_json_str(j, "driver", be ? be->info.driver : "");
  mb_json_str(j, "device_type", be ? be->info.type : "");
  mb_json_str(j, "metric", metric);
  mb_json_str(j, "model", "resnet18-imagenet");
  mb_json_int(j, "classes", o->cfg.classes);
  mb_json_int(j, "size", o->cfg.size);
  mb_json_int(j, "width", o->cfg.width);
  mb_json_int(j, "batch", batch);
  mb_json_int(j, "seed", (long long)o->cfg.seed);
  mb_json_int(j, "threads", mb_threads_in_use());
}

static void emit_skip(const scale_opts *o, const char *backend, const mb_backend *be,
                      const char *status, const char *reason)
{
  if (o->json) {
    mb_json j;
    row_head(&j, backend, be, "all", o, 0);
    mb_json_str(&j, "status", status);
    mb_json_str(&j, "reason", reason);
    printf("%s\n", mb_json_end(&j));
    mb_json_free(&j);
  } else {
    printf("  %-7s %s: %s\n", backend, status, reason);
  }
}

static void bench_mnemonic(const scale_opts *o, mb_scale *s, const char *name, int reps, int warm)
{
  mb_backend *be = s->be;
  progress_ctx pc = {!o->json, 0, 0};
  mb_scale_forget_run r;
  double *v = calloc((size_t)reps, sizeof *v), *d = calloc((size_t)reps, sizeof *d);
  int have_dev = 1;
  /* small warm-up: first-use kernel builds, workspaces (pocl/Mesa compile on first use) */
  int small = s->batch + 1 < o->cfg.classes ? s->batch + 1 : o->cfg.classes;   /* a full and a partial batch */
  mb_scale_forget(s, small, &r, NULL, NULL);
  for (int i = -warm; i < reps && mb_ok(be); i++) {
    if (!o->json) fprintf(stderr, "  %s: mnemonic %s %d/%d\n", name, i < 0 ? "warm-up" : "repeat",
                          i < 0 ? i + warm + 1 : i + 1, i < 0 ? warm : reps);
    pc.t0 = mb_now();
    pc.last_q = 0;
    mb_scale_forget(s, o->cfg.classes, &r, show_progress, &pc);
    if (i >= 0) { v[i] = r.seconds; d[i] = r.device_ms; have_dev &= r.device_ms >= 0; }
  }
  if (!mb_ok(be)) { emit_skip(o, name, be, "failed", mb_error(be)); free(v); free(d); return; }
  stats3 st = summarise(v, reps);
  double dm = have_dev ? summarise(d, reps).med : -1;
  const char *metric = "forget class 0 (mnemonic codes)";
  if (o->json) {
    mb_json j;
    row_head(&j, name, be, metric, o, s->batch);
    mb_json_int(&j, "params", (long long)s->md.total);
    json_timing(&j, st, dm, reps, warm, r.n_forward, r.n_backward);
    mb_json_int(&j, "sign", r.choice.sign);
    mb_json_num(&j, "score_plus", r.choice.score_plus);
    mb_json_num(&j, "score_minus", r.choice.score_minus);
    mb_json_str(&j, "status", "ok");
    mb_json_str(&j, "reason", "");
    printf("%s\n", mb_json_end(&j));
    mb_json_free(&j);
  } else {
    printf("  %-7s %-36s %10.3f s  [min %.3f, max %.3f]", name, metric, st.med, st.min, st.max);
    if (dm >= 0) printf("  device timer %.3f s", dm * 1e-3);
    printf("\n          batch %d, n_forward %lld, n_backward %lld, sign %+d (scores %.3f / %.3f)\n",
           s->batch, r.n_forward, r.n_backward, r.choice.sign, r.choice.score_plus,
           r.choice.score_minus);
  }
  free(v); free(d);
}

static void bench_ssd(const scale_opts *o, mb_scale *s, const char *name, int reps, int warm)
{
  mb_backend *be = s->be;
  progress_ctx pc = {!o->json, 0, 0};
  mb_scale_ssd_run r;
  int pool = o->ssd_pool > 0 ? o->ssd_pool : (int)(o->ssd_n < 1024 ? o->ssd_n : 1024);
  double *v = calloc((size_t)reps, sizeof *v), *vf = calloc((size_t)reps, sizeof *v),
         *vd = calloc((size_t)reps, sizeof *v), *d = calloc((size_t)reps, sizeof *d);
  int have_dev = 1;
  mb_scale_ssd(s, 1, 2, 2, &r, NULL, NULL);   /* small warm-up: one batch each */
  for (int i = -warm; i < reps && mb_ok(be); i++) {
    if (!o->json) fprintf(stderr, "  %s: ssd %s %d/%d\n", name, i < 0 ? "warm-up" : "repeat",
                          i < 0 ? i + warm + 1 : i + 1, i < 0 ? warm : reps);
    pc.t0 = mb_now();
    pc.last_q = 0;
    mb_scale_ssd(s, o->ssd_f, o->ssd_n, pool, &r, show_progress, &pc);
    if (i >= 0) {
      v[i] = r.seconds; vf[i] = r.if_s; vd[i] = r.id_s; d[i] = r.device_ms;
      have_dev &= r.device_ms >= 0;
    }
  }
  if (!mb_ok(be)) {
    emit_skip(o, name, be, "failed", mb_error(be));
  } else {
    stats3 st = summarise(v, reps), sf = summarise(vf, reps), sd = summarise(vd, reps);
    double dm = have_dev ? summarise(d, reps).med : -1;
    const char *metric = "SSD importance passes (I_f + I_D)";
    if (o->json) {
      mb_json j;
      row_head(&j, name, be, metric, o, o->cfg.ssd_batch);
      mb_json_int(&j, "params", (long long)s->md.total);
      mb_json_int(&j, "ssd_forget_images", o->ssd_f);
      mb_json_int(&j, "ssd_images", o->ssd_n);
      mb_json_int(&j, "ssd_pool", pool);
      json_timing(&j, st, dm, reps, warm, r.n_forward, r.n_backward);
      mb_json_num(&j, "if_median", sf.med);
      mb_json_num(&j, "id_median", sd.med);
      mb_json_num(&j, "dampened", r.dampened);
      mb_json_str(&j, "status", "ok");
      mb_json_str(&j, "reason", "");
      printf("%s\n", mb_json_end(&j));
      mb_json_free(&j);
    } else {
      printf("  %-7s %-36s %10.3f s  [min %.3f, max %.3f]", name, metric, st.med, st.min, st.max);
      if (dm >= 0) printf("  device timer %.3f s", dm * 1e-3);
      printf("\n          I_f %.3f s + I_D %.3f s (+ dampening); %ld forget-class images, %ld in D "
             "(%d distinct, cycled), batch %d;\n          n_forward %lld, n_backward %lld, "
             "%.0f dampened\n", sf.med, sd.med, o->ssd_f, o->ssd_n, pool, o->cfg.ssd_batch,
             r.n_forward, r.n_backward, r.dampened);
    }
  }
  free(v); free(vf); free(vd); free(d);
}

static void bench_backend(const scale_opts *o, const char *name)
{
  char why[512];
  if (mb_backend_devices(name, why, sizeof why) == 0) { emit_skip(o, name, NULL, "skipped", why); return; }
  mb_backend *be = mb_backend_open(name, o->device, why, sizeof why);
  if (!be) { emit_skip(o, name, NULL, "skipped", why); return; }
  const int is_cpu = strcmp(be->info.type, "cpu") == 0;
  int reps = o->repeats > 0 ? o->repeats : is_cpu ? 1 : 5;
  int warm = o->warmups >= 0 ? o->warmups : is_cpu ? 0 : 1;
  mb_scale s;
  if (!o->json) fprintf(stderr, "  %s: %s (%s)\n", name, be->info.name, be->info.type);
  if (mb_scale_open(be, &o->cfg, &s) == 0) {
    bench_mnemonic(o, &s, name, reps, warm);
    if (!o->no_ssd && mb_ok(be)) bench_ssd(o, &s, name, reps, warm);
  } else {
    emit_skip(o, name, be, "failed", mb_error(be));
  }
  mb_scale_close(&s);
  mb_backend_close(be);
}

static int parse_long(const char *flag, const char *v, long lo, long *out)
{
  char *end;
  long x = v ? strtol(v, &end, 10) : 0;
  if (!v || *end || x < lo) {
    mb_die_msg("%s needs an integer >= %ld", flag, lo);
    return -1;
  }
  *out = x;
  return 0;
}

int mb_cmd_bench_scale(int argc, char **argv)
{
  scale_opts o;
  memset(&o, 0, sizeof o);
  mb_scale_defaults(&o.cfg);
  o.warmups = -1;
  o.ssd_n = 640;
  o.ssd_f = 64;
  long cls = -1, size = -1, n_imgs = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    long x = 0;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(k_usage, stdout); return 0; }
    else if (!strcmp(a, "--json")) o.json = 1;
    else if (!strcmp(a, "--quick")) o.quick = 1;
    else if (!strcmp(a, "--no-ssd")) o.no_ssd = 1;
    else if (!strcmp(a, "--backend")) {
      if (!v || o.n_backends == MAX_BACKENDS) { mb_die_msg("--backend needs a name (at most %d)", MAX_BACKENDS); return 2; }
      o.backends[o.n_backends++] = argv[++i];
    } else {
      static const char *const flags[] = {"--device", "--classes-total", "--size", "--width",
        "--batch", "--repeats", "--warmups", "--seed", "--ssd-images", "--ssd-forget", "--ssd-pool",
        "--ssd-batch"};
      static const long lows[] = {0, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1};
      int f = -1;
      for (int k = 0; k < (int)(sizeof flags / sizeof flags[0]); k++)
        if (!strcmp(a, flags[k])) f = k;
      if (f < 0) { fprintf(stderr, "mnemobench: unknown option '%s'\n%s", a, k_usage); return 2; }
      if (parse_long(a, v, lows[f], &x) != 0) return 2;
      i++;
      switch (f) {
        case 0: o.device = (int)x; break;
        case 1: cls = x; break;
        case 2: size = x; break;
        case 3: o.cfg.width = (int)x; break;
        case 4: o.cfg.batch = (int)x; break;
        case 5: o.repeats = (int)x; break;
        case 6: o.warmups = (int)x; break;
        case 7: o.cfg.seed = (uint64_t)x; break;
        case 8: n_imgs = x; break;
        case 9: o.ssd_f = x; break;
        case 10: o.ssd_pool = (int)x; break;
        default: o.cfg.ssd_batch = (int)x; break;
      }
    }
  }
  if (o.quick) { o.cfg.size = 32; o.ssd_n = 128; }
  if (cls > 0) o.cfg.classes = (int)cls;
  if (size > 0) o.cfg.size = (int)size;
  if (n_imgs > 0) o.ssd_n = n_imgs;
  if (o.ssd_f > o.ssd_n) { mb_die_msg("--ssd-forget %ld exceeds --ssd-images %ld", o.ssd_f, o.ssd_n); return 2; }
  if (!o.json) {
    char desc[256];
    mb_resnet_config rc;
    make_config(&o.cfg, &rc);
    mb_resnet_describe(&rc, desc, sizeof desc);
    printf("mnemobench bench-scale: %s; forget class 0 of %d with mnemonic codes%s\n", desc,
           o.cfg.classes, o.no_ssd ? "" : "; SSD importance passes");
    fflush(stdout);   /* before the progress lines on stderr */
  }
  if (o.n_backends) {
    for (int i = 0; i < o.n_backends; i++) bench_backend(&o, o.backends[i]);
  } else {
    /* ref is the naive oracle: hours at 224×224, so only when named (or --quick) */
    const mb_backend_entry *e;
    int n = mb_backend_entries(&e);
    for (int i = 0; i < n; i++)
      if (o.quick || strcmp(e[i].name, "ref") != 0) bench_backend(&o, e[i].name);
  }
  return 0;
}
