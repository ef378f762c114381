/* bench-train's measurements (see throughput.h). */
#include "harness/throughput.h"
#include "methods/methods.h"
#include "core/region.h"
#include "mb/registry.h"
#include "harness/common.h"
#include "harness/session.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WARMUPS = 2 };

typedef struct {
  const mb_opts *o;
  const char *backend;
  const mb_backend *be;
  const mb_row_sink *sink;
  const char *dataset;
  uint64_t checksum;
  char model[64];
  int failed;                    /* the backend failed, or the sink did */
} tp;

static void tp_prov(const tp *t, const char *status, const char *reason, mb_row_prov *p)
{
  memset(p, 0, sizeof *p);
  p->command = "bench-train";
  p->kind = "throughput";
  p->status = status;
  p->reason = reason;
  p->backend = t->backend;
  p->device_index = t->o->device;
  p->be = t->be;
  p->dataset = t->dataset;
  p->dataset_checksum = t->checksum;
  p->model = t->model;
  p->seed = t->o->seed;
  p->sink = t->sink;
}

static int text_mode(const tp *t) { return !t->sink && !t->o->json; }

static void emit_status(tp *t, const char *status, const char *reason)
{
  if (strcmp(status, "failed") == 0) t->failed = 1;
  if (text_mode(t)) {
    printf("  %-7s %-34s %s: %s\n", t->backend, "all", status, reason);
    return;
  }
  mb_row_prov p;
  tp_prov(t, status, reason, &p);
  mb_json j;
  mb_row_begin(&j, &p);
  mb_json_str(&j, "measure", "all");
  if (mb_row_put(t->sink, &j) != 0) t->failed = 1;
}

/* One figure: the statistics of v (and of the device timer dv, NULL: none). */
static void emit(tp *t, const char *measure, const char *metric, const char *unit, const double *v,
                 const double *dv, const mb_method *me, const double *params, void (*more)(mb_json *, const void *),
                 const void *more_ctx)
{
  int n = t->o->repeats;
  mb_stats s = mb_stats_of(v, n);
  /* a host clock is not a device timer, whatever the region read */
  double device = dv && t->be && t->be->info.has_device_timer ? mb_stats_of(dv, n).med : -1;
  if (text_mode(t)) {
    printf("  %-7s %-34s %12.4g %-9s [min %.4g, max %.4g]", t->backend, metric, s.med, unit, s.min, s.max);
    if (device >= 0) printf("  device timer %.4g", device);
    printf("\n");
    return;
  }
  mb_row_prov p;
  tp_prov(t, "ok", "", &p);
  mb_json j;
  mb_row_begin(&j, &p);
  if (me) mb_row_method(&j, me, params);
  mb_json_str(&j, "measure", measure);
  mb_json_str(&j, "metric", metric);
  mb_json_str(&j, "unit", unit);
  mb_row_stats(&j, "value", &s, v, n);
  mb_json_num(&j, "device_timer_median", device >= 0 ? device : NAN);   /* null: no device reading */
  mb_json_int(&j, "repeats", n);
  mb_json_int(&j, "warmups", WARMUPS);
  if (more) more(&j, more_ctx);
  if (mb_row_put(t->sink, &j) != 0) t->failed = 1;
}

typedef struct { int m, n, k, batch, steps; double t_mix; long long fwd, bwd; } shape;

static void gemm_fields(mb_json *j, const void *ctx)
{
  const shape *s = ctx;
  mb_json_int(j, "gemm_m", s->m);
  mb_json_int(j, "gemm_n", s->n);
  mb_json_int(j, "gemm_k", s->k);
}

static void train_fields(mb_json *j, const void *ctx)
{
  const shape *s = ctx;
  mb_json_int(j, "batch", s->batch);
  mb_json_int(j, "steps", s->steps);
  mb_json_num(j, "t_mix", s->t_mix);
}

static void forget_fields(mb_json *j, const void *ctx)
{
  const shape *s = ctx;
  mb_json_int(j, "n_forward", s->fwd);
  mb_json_int(j, "n_backward", s->bwd);
}

/* Training steps per second → samples/s: the MLP at batch 128 over 50 steps, or
 * the ResNet-18 at batch 32 (the README's quickstart) over RN_STEPS (--steps N). */
enum { MLP_STEPS = 50, RN_STEPS = 8, RN_BATCH = 32 };

static void bench_train(tp *t, mb_session *s)
{
  const mb_opts *o = t->o;
  const int rn = s->kind == MB_MODEL_RESNET18;
  const int steps = o->steps > 0 ? o->steps : rn ? RN_STEPS : MLP_STEPS;
  double *v = calloc((size_t)o->repeats, sizeof *v);
  mb_train_opts to;
  mb_train_defaults(&to);
  to.batch = rn ? RN_BATCH : 128;
  to.t_mix = rn ? (float)o->t_mix : 0.1f;
  to.epochs = 1;
  to.max_steps = steps;
  mb_train_stats st;
  for (int r = -WARMUPS; r < o->repeats && mb_ok(s->be); r++) {
    to.seed = (uint64_t)(r + 10);
    if (rn) mb_model_train(&s->md, &s->dtrain, s->codes, &to, &st);
    else mb_train(&s->m, &s->dtrain, s->codes, &to, &st);
    if (r >= 0) v[r] = (double)st.samples / st.seconds;
  }
  /* the steps that ran: one epoch of a small training set holds fewer than asked */
  int ran = (int)((st.samples + to.batch - 1) / to.batch);
  shape sh = {.batch = to.batch, .steps = ran < steps ? ran : steps, .t_mix = mb_float_decimal(to.t_mix)};
  char metric[96];
  if (rn) snprintf(metric, sizeof metric, "train ResNet-18 b%d (t_mix %g)", to.batch, sh.t_mix);
  else snprintf(metric, sizeof metric, "train MLP b128 (t_mix 0.1)");
  if (mb_ok(s->be)) emit(t, "train", metric, "samples/s", v, NULL, NULL, NULL, train_fields, &sh);
  free(v);
}

static void bench_forget(tp *t, mb_session *s)
{
  const mb_opts *o = t->o;
  const int rn = s->kind == MB_MODEL_RESNET18;
  double *v = calloc((size_t)o->repeats, sizeof *v), *d = calloc((size_t)o->repeats, sizeof *d);
  /* the trained state (the ResNet's BN statistics too) is put back outside the clock */
  mb_checkpoint ck;
  int forget[1] = {0};
  const mb_method *me = mb_method_find("mnemonic");   /* the method under test: the codes */
  double params[MB_METHOD_MAX_PARAMS];
  if (rn) mb_opts_method_params(o, me, params);   /* λ1, λ2 of the data set and model */
  else mb_method_defaults(me, params);
  mb_forget_timing ft;
  memset(&ft, 0, sizeof ft);
  int have_dev = 1;
  if (mb_session_to_checkpoint(s, o, &ck) != 0) { free(v); free(d); return; }
  for (int r = -WARMUPS; r < o->repeats && mb_ok(s->be); r++) {
    mb_session_restore_weights(s, &ck);   /* same trained weights every time */
    mb_session_forget(s, me, params, forget, 1, &ft);
    if (r >= 0) { v[r] = 1e3 * ft.seconds; d[r] = ft.device_ms; have_dev &= ft.device_ms >= 0; }
  }
  mb_session_restore_weights(s, &ck);
  mb_checkpoint_free(&ck);
  shape sh = {.fwd = ft.n_forward, .bwd = ft.n_backward};
  char metric[96];
  snprintf(metric, sizeof metric, "forget class 0 of %d (mnemonic codes)", s->n_classes);
  if (mb_ok(s->be))
    emit(t, "forget", rn ? metric : "forget class 0 (mnemonic codes)", "ms", v, have_dev ? d : NULL, me, params,
         forget_fields, &sh);
  free(v); free(d);
}

static void bench_gemm(tp *t, mb_backend *be, int ta, int tb, int m, int n, int k, const char *label)
{
  const mb_opts *o = t->o;
  mb_view a = mb_new(be, (size_t)m * k), b = mb_new(be, (size_t)k * n), c = mb_new(be, (size_t)m * n);
  mb_rng(be, MB_RNG_UNIFORM, 7, 1, a, (size_t)m * k, -1, 1);
  mb_rng(be, MB_RNG_UNIFORM, 7, 2, b, (size_t)k * n, -1, 1);
  double *v = calloc((size_t)o->repeats, sizeof *v), *dv = calloc((size_t)o->repeats, sizeof *dv);
  /* a batch of calls per sample so that one sync covers ≥ ~50 ms */
  int iters = 1;
  int have_dev = 1;
  for (int r = -WARMUPS; r < o->repeats && mb_ok(be); r++) {
    mb_region rg;
    mb_region_begin(&rg, be);
    for (int i = 0; i < iters; i++) mb_matmul(be, ta, tb, m, n, k, 1.0f, a, b, 0.0f, c);
    double dms, sec = mb_region_end(&rg, &dms);
    double flop = 2.0 * m * n * k * iters;
    if (r < 0) {
      if (sec < 0.05) iters = (int)fmin(10000, fmax(1, iters * 0.05 / fmax(sec, 1e-6)));
      continue;
    }
    v[r] = flop / sec * 1e-9;
    dv[r] = dms > 0 ? flop / (dms * 1e-3) * 1e-9 : -1;
    have_dev &= dms > 0;
  }
  shape sh = {.m = m, .n = n, .k = k};
  if (mb_ok(be)) emit(t, "gemm", label, "GFLOP/s", v, have_dev ? dv : NULL, NULL, NULL, gemm_fields, &sh);
  free(v); free(dv);
  mb_release(be, a); mb_release(be, b); mb_release(be, c);
}

int mb_throughput_backend(const mb_opts *base, const char *name, const mb_row_sink *sink)
{
  char why[512];
  tp t = {.o = base, .backend = name, .sink = sink, .dataset = ""};
  const int rn = base->model_kind == MB_MODEL_RESNET18;
  if (rn) snprintf(t.model, sizeof t.model, "resnet18");
  else mb_model_name_mlp(base->model_spec ? base->model_spec : "784-1000-10", base->act ? base->act : "sigmoid",
                         t.model, sizeof t.model);
  if (mb_backend_devices(name, why, sizeof why) == 0) {
    emit_status(&t, "skipped", why);
    return t.failed ? -1 : 0;
  }
  mb_opts o = *base;
  o.backend = name;
  o.json = 1;    /* no progress bars inside the benchmark */
  if (rn) o.batch = RN_BATCH;   /* the workspace of a training batch */
  mb_session s;
  mb_last_msg_clear();
  if (mb_session_open(&s, &o, 1) == 0 && mb_session_new_model(&s, &o) == 0) {
    o.json = base->json;
    t.o = &o;
    t.be = s.be;
    t.dataset = s.train.name;
    t.checksum = s.train.checksum;
    mb_session_model_name(&s, t.model, sizeof t.model);
    mb_opts_model_defaults(&o, mb_hparams_model(o.model_kind, MB_RN_RESNET18), s.train.name);   /* t_mix, λ1, λ2 of this data */
    if (!rn) {
      bench_gemm(&t, s.be, 0, 1, 128, 1000, 784, "sgemm 128x1000x784 (x*W^T)");
      bench_gemm(&t, s.be, 1, 0, 1000, 784, 128, "sgemm 1000x784x128 (dY^T*X)");
      bench_gemm(&t, s.be, 0, 0, 1024, 1024, 1024, "sgemm 1024^3");
    }
    bench_train(&t, &s);
    bench_forget(&t, &s);
    if (!mb_ok(s.be)) emit_status(&t, "failed", mb_error(s.be));
  } else {
    t.be = s.be;
    const char *why = s.be && !mb_ok(s.be) ? mb_error(s.be) : mb_last_msg();
    emit_status(&t, "failed", why[0] ? why : "could not open the backend or load the data");
  }
  mb_session_close(&s);
  return t.failed ? -1 : 0;
}
