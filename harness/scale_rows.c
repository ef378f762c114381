/* The scalability point measured into rows (see bench_scale.h): the statistics of
 * repeated timed runs of mnemonic forgetting and SSD's importance passes. */
#include "core/clock.h"
#include "methods/methods.h"
#include "mb/registry.h"
#include "harness/bench_scale.h"
#include "harness/common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void mb_scale_opts_defaults(mb_scale_opts *o)
{
  memset(o, 0, sizeof *o);
  mb_scale_defaults(&o->cfg);
  o->warmups = -1;
  o->ssd_n = 640;
  o->ssd_f = 64;
}

void mb_scale_opts_quick(mb_scale_opts *o)
{
  o->cfg.size = 32;
  o->ssd_n = 128;
}

typedef struct {
  const mb_scale_opts *o;
  const char *backend;
  const mb_backend *be;
  const mb_row_sink *sink;
  char model[64];
  const char *scale_model;   /* the table's name: resnet18, resnext50 */
  int failed;                     /* the backend failed, or the sink did */
} scale_out;

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

static int text_mode(const scale_out *so) { return !so->sink && !so->o->json; }

static void row_head(const scale_out *so, mb_json *j, const char *status, const char *reason, const char *metric,
                     int batch)
{
  const mb_scale_opts *o = so->o;
  mb_row_prov p = {
    .command = "bench-scale", .kind = "scale", .status = status, .reason = reason, .backend = so->backend,
    .device_index = o->device, .be = so->be, .dataset = "synthetic (seeded codes and images)",
    .model = so->model, .seed = o->cfg.seed, .sink = so->sink,
  };
  mb_row_begin(j, &p);
  mb_json_str(j, "metric", metric);
  mb_json_str(j, "scale_model", so->scale_model ? so->scale_model : "");
  mb_json_int(j, "classes", o->cfg.classes);
  mb_json_int(j, "size", o->cfg.size);
  mb_json_int(j, "width", o->cfg.width);
  mb_json_int(j, "batch", batch);
}

static void emit_status(scale_out *so, const char *status, const char *reason)
{
  if (strcmp(status, "failed") == 0) so->failed = 1;
  if (text_mode(so)) {
    printf("  %-7s %s: %s\n", so->backend, status, reason);
    return;
  }
  mb_json j;
  row_head(so, &j, status, reason, "all", 0);
  if (mb_row_put(so->sink, &j) != 0) so->failed = 1;
}

/* The timing fields both rows share: forget_s statistics over the repeats. */
static void json_timing(mb_json *j, const double *v, const double *dev_ms, int reps, int warm,
                        long long n_forward, long long n_backward)
{
  mb_stats st = mb_stats_of(v, reps);
  mb_json_str(j, "unit", "s");
  mb_row_stats(j, "forget_s", &st, v, reps);
  mb_json_num(j, "forget_device_ms", dev_ms ? mb_stats_of(dev_ms, reps).med : NAN);
  mb_json_int(j, "repeats", reps);
  mb_json_int(j, "warmups", warm);
  mb_json_int(j, "n_forward", n_forward);
  mb_json_int(j, "n_backward", n_backward);
}

/* What a text figure is: one run, or the median with min and max of several. */
static void runs_text(char *out, size_t len, const mb_stats *st, int reps, int warm)
{
  if (reps == 1) snprintf(out, len, "(one run after %d full warm-up%s)", warm, warm == 1 ? "" : "s");
  else snprintf(out, len, "[median of %d runs after %d full warm-up%s; min %.3f, max %.3f]", reps, warm,
                warm == 1 ? "" : "s", st->min, st->max);
}

static void bench_mnemonic(scale_out *so, mb_scale *s, int reps, int warm)
{
  const mb_scale_opts *o = so->o;
  const char *name = so->backend;
  mb_backend *be = s->be;
  progress_ctx pc = {text_mode(so), 0, 0};
  mb_scale_forget_run r;
  double *v = calloc((size_t)reps, sizeof *v), *d = calloc((size_t)reps, sizeof *d);
  int have_dev = 1;
  /* small warm-up: first-use kernel builds, workspaces (pocl/Mesa compile on first use) */
  int small = s->batch + 1 < o->cfg.classes ? s->batch + 1 : o->cfg.classes;   /* a full and a partial batch */
  mb_scale_forget(s, small, &r, NULL, NULL);
  for (int i = -warm; i < reps && mb_ok(be); i++) {
    if (text_mode(so)) fprintf(stderr, "  %s: mnemonic %s %d/%d\n", name, i < 0 ? "warm-up" : "repeat",
                               i < 0 ? i + warm + 1 : i + 1, i < 0 ? warm : reps);
    pc.t0 = mb_now();
    pc.last_q = 0;
    mb_scale_forget(s, o->cfg.classes, &r, show_progress, &pc);
    if (i >= 0) { v[i] = r.seconds; d[i] = r.device_ms; have_dev &= r.device_ms >= 0; }
  }
  if (!mb_ok(be)) { emit_status(so, "failed", mb_error(be)); free(v); free(d); return; }
  mb_stats st = mb_stats_of(v, reps);
  double dm = have_dev ? mb_stats_of(d, reps).med : -1;
  const char *metric = "forget class 0 (mnemonic codes)";
  if (!text_mode(so)) {
    const mb_method *me = mb_method_find("mnemonic");   /* the method this point measures */
    double params[MB_METHOD_MAX_PARAMS];
    mb_method_defaults(me, params);
    for (int k = 0; k < 2; k++)
      for (int i = 0; me->lambda_params[k] && i < me->n_params; i++)
        if (!strcmp(me->params[i].name, me->lambda_params[k]))
          params[i] = mb_float_decimal(k ? o->cfg.lambda2 : o->cfg.lambda1);
    mb_json j;
    row_head(so, &j, "ok", "", metric, s->batch);
    mb_row_method(&j, me, params);
    mb_json_int(&j, "n_params", (long long)s->md.total);
    json_timing(&j, v, have_dev ? d : NULL, reps, warm, r.n_forward, r.n_backward);
    mb_json_int(&j, "sign", r.choice.sign);
    mb_json_num(&j, "score_plus", r.choice.score_plus);
    mb_json_num(&j, "score_minus", r.choice.score_minus);
    if (mb_row_put(so->sink, &j) != 0) so->failed = 1;
  } else {
    char runs[96];
    runs_text(runs, sizeof runs, &st, reps, warm);
    printf("  %-7s %-36s %10.3f s  %s", name, metric, st.med, runs);
    if (dm >= 0) printf("  device timer %.3f s", dm * 1e-3);
    printf("\n          %s, %zu parameters; batch %d, n_forward %lld, n_backward %lld, sign %+d (scores %.3f / %.3f)\n",
           so->model, s->md.total, s->batch, r.n_forward, r.n_backward, r.choice.sign, r.choice.score_plus,
           r.choice.score_minus);
  }
  free(v); free(d);
}

static void bench_ssd(scale_out *so, mb_scale *s, int reps, int warm)
{
  const mb_scale_opts *o = so->o;
  const char *name = so->backend;
  mb_backend *be = s->be;
  progress_ctx pc = {text_mode(so), 0, 0};
  mb_scale_ssd_run r;
  int pool = o->ssd_pool > 0 ? o->ssd_pool : (int)(o->ssd_n < 1024 ? o->ssd_n : 1024);
  double *v = calloc((size_t)reps, sizeof *v), *vf = calloc((size_t)reps, sizeof *v),
         *vd = calloc((size_t)reps, sizeof *v), *d = calloc((size_t)reps, sizeof *d);
  int have_dev = 1;
  /* small warm-up: one batch of the timed size each, so the timed runs reuse its kernels
   * and workspaces */
  long wb = o->cfg.ssd_batch;
  mb_scale_ssd(s, o->ssd_f < wb ? o->ssd_f : wb, o->ssd_n < wb ? o->ssd_n : wb, pool < wb ? pool : (int)wb,
               &r, NULL, NULL);
  for (int i = -warm; i < reps && mb_ok(be); i++) {
    if (text_mode(so)) fprintf(stderr, "  %s: ssd %s %d/%d\n", name, i < 0 ? "warm-up" : "repeat",
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
    emit_status(so, "failed", mb_error(be));
  } else {
    mb_stats st = mb_stats_of(v, reps), sf = mb_stats_of(vf, reps), sd = mb_stats_of(vd, reps);
    double dm = have_dev ? mb_stats_of(d, reps).med : -1;
    const char *metric = "SSD importance passes (I_f + I_D)";
    if (!text_mode(so)) {
      mb_json j;
      row_head(so, &j, "ok", "", metric, o->cfg.ssd_batch);
      const mb_method *me = mb_method_find("ssd");
      if (me) mb_row_method(&j, me, NULL);
      else mb_json_str(&j, "method", "ssd");
      mb_json_int(&j, "n_params", (long long)s->md.total);
      mb_json_int(&j, "ssd_forget_images", o->ssd_f);
      mb_json_int(&j, "ssd_images", o->ssd_n);
      mb_json_int(&j, "ssd_pool", pool);
      json_timing(&j, v, have_dev ? d : NULL, reps, warm, r.n_forward, r.n_backward);
      mb_json_num(&j, "if_s", sf.med);
      mb_json_num(&j, "id_s", sd.med);
      mb_json_num(&j, "dampened", r.dampened);
      if (mb_row_put(so->sink, &j) != 0) so->failed = 1;
    } else {
      char runs[96];
      runs_text(runs, sizeof runs, &st, reps, warm);
      printf("  %-7s %-36s %10.3f s  %s", name, metric, st.med, runs);
      if (dm >= 0) printf("  device timer %.3f s", dm * 1e-3);
      printf("\n          I_f %.3f s + I_D %.3f s (+ dampening); %ld forget-class images, %ld in D "
             "(%d distinct, cycled), batch %d;\n          n_forward %lld, n_backward %lld, "
             "%.0f dampened\n", sf.med, sd.med, o->ssd_f, o->ssd_n, pool, o->cfg.ssd_batch,
             r.n_forward, r.n_backward, r.dampened);
    }
  }
  free(v); free(vf); free(vd); free(d);
}

int mb_scale_backend(const mb_scale_opts *o, const char *name, const mb_row_sink *sink)
{
  char why[512];
  scale_out so = {.o = o, .backend = name, .sink = sink};
  const mb_scale_model *models;
  int n_models = mb_scale_models(&models);
  if (o->cfg.model < 0 || o->cfg.model >= n_models) {
    snprintf(so.model, sizeof so.model, "unknown");
    emit_status(&so, "failed", "bench-scale: no such model");
    return so.failed ? -1 : 0;
  }
  models[o->cfg.model].row_name(&o->cfg, so.model, sizeof so.model);
  so.scale_model = models[o->cfg.model].name;
  if (mb_backend_devices(name, why, sizeof why) == 0) { emit_status(&so, "skipped", why); return so.failed ? -1 : 0; }
  mb_backend *be = mb_backend_open(name, o->device, why, sizeof why);
  if (!be) { emit_status(&so, "skipped", why); return so.failed ? -1 : 0; }
  so.be = be;
  const int is_cpu = strcmp(be->info.type, "cpu") == 0;
  int reps = o->repeats > 0 ? o->repeats : is_cpu ? 1 : 5;
  int warm = o->warmups >= 0 ? o->warmups : is_cpu ? 0 : 1;
  mb_scale s;
  if (text_mode(&so)) fprintf(stderr, "  %s: %s (%s), %s\n", name, be->info.name, be->info.type, so.model);
  if (mb_scale_open(be, &o->cfg, &s) == 0) {
    bench_mnemonic(&so, &s, reps, warm);
    if (!o->no_ssd && mb_ok(be)) bench_ssd(&so, &s, reps, warm);
  } else {
    emit_status(&so, "failed", mb_error(be));
  }
  mb_scale_close(&s);
  mb_backend_close(be);
  return so.failed ? -1 : 0;
}
