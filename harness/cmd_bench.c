/* mnemobench bench-train: training throughput of the paper's MLP at batch 128,
 * forgetting latency and GEMM rate, per backend, as median of repeats. */
#include "core/clock.h"
#include "mb/registry.h"
#include "harness/commands.h"
#include "harness/common.h"
#include "harness/json.h"
#include "harness/session.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char k_usage[] =
  "usage: mnemobench bench-train [--backend NAME]... [--repeats N] [--data DIR | --synthetic] [--json]\n"
  "For each backend (default: every available one): training throughput of the paper's MLP\n"
  "(784-1000-10 sigmoid, batch 128, t_mix 0.1; samples/s over 50 steps), forgetting latency\n"
  "of class 0 with mnemonic codes, and SGEMM GFLOP/s at the MLP's shapes.  Each figure is\n"
  "the median of N repeats (default 5) after 2 warm-ups, with min and max; every timed\n"
  "region ends with a device sync.  Device-timer figures come from CUDA events, OpenCL\n"
  "profiling or Vulkan timestamps where the backend has them.\n";

typedef struct { double med, min, max; } stats3;

static int cmp_d(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static stats3 summarise(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  stats3 s = {n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]), v[0], v[n - 1]};
  return s;
}

static void emit(const mb_opts *o, const char *backend, const mb_backend *be, const char *metric,
                 const char *unit, stats3 s, double device, const char *status, const char *reason)
{
  if (o->json) {
    mb_json j;
    mb_json_begin(&j);
    mb_json_str(&j, "schema", "mnemobench.bench/1");
    mb_json_str(&j, "backend", backend);
    mb_json_str(&j, "device", be ? be->info.name : "");
    mb_json_str(&j, "driver", be ? be->info.driver : "");
    mb_json_str(&j, "metric", metric);
    mb_json_str(&j, "unit", unit);
    mb_json_num(&j, "median", s.med);
    mb_json_num(&j, "min", s.min);
    mb_json_num(&j, "max", s.max);
    mb_json_num(&j, "device_timer_median", device);
    mb_json_int(&j, "repeats", o->repeats);
    mb_json_int(&j, "threads", mb_threads_in_use());
    mb_json_str(&j, "status", status);
    mb_json_str(&j, "reason", reason);
    printf("%s\n", mb_json_end(&j));
    mb_json_free(&j);
  } else if (strcmp(status, "ok") != 0) {
    printf("  %-7s %-34s skipped: %s\n", backend, metric, reason);
  } else {
    printf("  %-7s %-34s %12.4g %-9s [min %.4g, max %.4g]", backend, metric, s.med, unit, s.min, s.max);
    if (device >= 0) printf("  device timer %.4g", device);
    printf("\n");
  }
}

/* Training steps per second → samples/s. */
static void bench_train(const mb_opts *o, mb_session *s)
{
  enum { STEPS = 50 };
  double *v = calloc((size_t)o->repeats, sizeof *v);
  mb_train_opts t;
  mb_train_defaults(&t);
  t.batch = 128;
  t.t_mix = 0.1f;
  t.epochs = 1;
  t.max_steps = STEPS;
  mb_train_stats st;
  for (int r = -2; r < o->repeats && mb_ok(s->be); r++) {
    t.seed = (uint64_t)(r + 10);
    mb_train(&s->m, &s->dtrain, s->codes, &t, &st);
    if (r >= 0) v[r] = (double)st.samples / st.seconds;
  }
  if (mb_ok(s->be)) emit(o, s->backend_name, s->be, "train MLP b128 (t_mix 0.1)", "samples/s",
                         summarise(v, o->repeats), -1, "ok", "");
  free(v);
}

static void bench_forget(const mb_opts *o, mb_session *s)
{
  double *v = calloc((size_t)o->repeats, sizeof *v), *d = calloc((size_t)o->repeats, sizeof *d);
  size_t P = s->m.pt.total;
  float *w = malloc(P * sizeof *w);
  int forget[1] = {0};
  const mb_method *me = mb_method_find("mnemonic");
  double params[MB_METHOD_MAX_PARAMS];
  mb_method_defaults(me, params);
  mb_forget_timing ft;
  int have_dev = 1;
  mb_download(s->be, w, s->m.w, P);
  for (int r = -2; r < o->repeats && mb_ok(s->be); r++) {
    mb_upload(s->be, s->m.w, w, P);   /* same trained weights every time, outside the clock */
    mb_session_forget(s, me, params, forget, 1, &ft);
    if (r >= 0) { v[r] = 1e3 * ft.seconds; d[r] = ft.device_ms; have_dev &= ft.device_ms >= 0; }
  }
  mb_upload(s->be, s->m.w, w, P);
  if (mb_ok(s->be)) {
    double dm = have_dev ? summarise(d, o->repeats).med : -1;
    emit(o, s->backend_name, s->be, "forget class 0 (mnemonic codes)", "ms", summarise(v, o->repeats),
         dm, "ok", "");
  }
  free(v); free(d); free(w);
}

static void bench_gemm(const mb_opts *o, mb_backend *be, const char *name, int ta, int tb, int m,
                       int n, int k, const char *label)
{
  mb_view a = mb_new(be, (size_t)m * k), b = mb_new(be, (size_t)k * n), c = mb_new(be, (size_t)m * n);
  mb_rng(be, MB_RNG_UNIFORM, 7, 1, a, (size_t)m * k, -1, 1);
  mb_rng(be, MB_RNG_UNIFORM, 7, 2, b, (size_t)k * n, -1, 1);
  double *v = calloc((size_t)o->repeats, sizeof *v), *dv = calloc((size_t)o->repeats, sizeof *dv);
  /* a batch of calls per sample so that one sync covers ≥ ~50 ms */
  int iters = 1;
  int have_dev = 1;
  for (int r = -2; r < o->repeats && mb_ok(be); r++) {
    mb_sync(be);
    double t0 = mb_now();
    mb_timer *tm = mb_timer_begin(be);
    for (int i = 0; i < iters; i++) mb_matmul(be, ta, tb, m, n, k, 1.0f, a, b, 0.0f, c);
    mb_timer_end(be, tm);
    mb_sync(be);
    double sec = mb_now() - t0, dms = mb_timer_ms(be, tm);
    mb_timer_free(be, tm);
    double flop = 2.0 * m * n * k * iters;
    if (r < 0) {
      if (sec < 0.05) iters = (int)fmin(10000, fmax(1, iters * 0.05 / fmax(sec, 1e-6)));
      continue;
    }
    v[r] = flop / sec * 1e-9;
    dv[r] = dms > 0 ? flop / (dms * 1e-3) * 1e-9 : -1;
    have_dev &= dms > 0;
  }
  if (mb_ok(be)) emit(o, name, be, label, "GFLOP/s", summarise(v, o->repeats),
                      have_dev ? summarise(dv, o->repeats).med : -1, "ok", "");
  free(v); free(dv);
  mb_release(be, a); mb_release(be, b); mb_release(be, c);
}

static void bench_backend(const mb_opts *base, const char *name)
{
  char why[512];
  if (mb_backend_devices(name, why, sizeof why) == 0) {
    stats3 z = {NAN, NAN, NAN};
    emit(base, name, NULL, "all", "", z, -1, "skipped", why);
    return;
  }
  mb_opts o = *base;
  o.backend = name;
  o.json = 1;    /* no progress bars inside the benchmark */
  mb_session s;
  if (mb_session_open(&s, &o, 1) == 0 && mb_session_new_model(&s, &o) == 0) {
    o.json = base->json;
    bench_gemm(&o, s.be, name, 0, 1, 128, 1000, 784, "sgemm 128x1000x784 (x*W^T)");
    bench_gemm(&o, s.be, name, 1, 0, 1000, 784, 128, "sgemm 1000x784x128 (dY^T*X)");
    bench_gemm(&o, s.be, name, 0, 0, 1024, 1024, 1024, "sgemm 1024^3");
    bench_train(&o, &s);
    bench_forget(&o, &s);
    if (!mb_ok(s.be)) {
      stats3 z = {NAN, NAN, NAN};
      emit(&o, name, s.be, "all", "", z, -1, "failed", mb_error(s.be));
    }
  }
  mb_session_close(&s);
}

int mb_cmd_bench_train(int argc, char **argv)
{
  mb_opts o;
  int done;
  mb_opts_defaults(&o);
  if (mb_parse_opts(argc, argv, k_usage, &o, &done) != 0) return 2;
  if (done) return 0;
  if (o.model_kind != MB_MODEL_MLP) {
    mb_die_msg("bench-train does not support %s yet", mb_model_kind_name(o.model_kind));
    return 2;
  }
  if (!o.json) printf("mnemobench bench-train: median of %d repeats after 2 warm-ups\n", o.repeats);
  if (o.n_backends) {
    for (int i = 0; i < o.n_backends; i++) bench_backend(&o, o.backends[i]);
  } else {
    const mb_backend_entry *e;
    int n = mb_backend_entries(&e);
    for (int i = 0; i < n; i++) bench_backend(&o, e[i].name);
  }
  return 0;
}
