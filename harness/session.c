/* Shared run steps of the commands. */
#include "harness/session.h"
#include "harness/row.h"
#include "core/region.h"
#include "mb/registry.h"
#include "harness/common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int g_quiet;

void mb_session_quiet(int on) { g_quiet = on != 0; }

/* A phase's sticky error, said once: later phases skipped by the same error
 * stay silent (and under mb_session_quiet the caller says it, with context). */
static int report(mb_session *s, const char *what)
{
  if (mb_ok(s->be)) return 0;
  if (!g_quiet && !s->error_said) mb_die_msg("%s on %s failed: %s", what, s->backend_name, mb_error(s->be));
  s->error_said = 1;
  return -1;
}

/* Keeps the first n of each class of *d (a subset for slow models). */
static int limit_per_class(mb_dataset *d, int n)
{
  mb_dataset sub;
  if (n <= 0) return 0;
  if (mb_dataset_head_per_class(d, n, &sub) != 0) {
    mb_die_msg("cannot take the first %d samples per class of %s", n, d->name);
    return -1;
  }
  mb_dataset_free(d);
  *d = sub;
  return 0;
}

int mb_session_open(mb_session *s, const mb_opts *o, int need_train)
{
  memset(s, 0, sizeof *s);
  s->backend_name = o->backend;
  s->seed = o->seed;
  s->be = mb_open_or_explain(o->backend, o->device);
  if (!s->be) return -1;
  if (mb_load_data(o->data, o->synthetic, o->seed, &s->train, &s->test) != 0) return -1;
  s->have_train = 1;
  if (limit_per_class(&s->train, o->train_limit) || limit_per_class(&s->test, o->test_limit))
    return -1;
  if (s->train.c * s->train.h * s->train.w != s->test.c * s->test.h * s->test.w) {
    mb_die_msg("train and test images differ in shape");
    return -1;
  }
  if (need_train) mb_devdata_upload(s->be, &s->train, &s->dtrain);
  mb_devdata_upload(s->be, &s->test, &s->dtest);
  return report(s, "uploading the data");
}

static int check_model_fits_data(mb_session *s, int in_dim, int n_classes)
{
  int d = s->test.c * s->test.h * s->test.w;
  int classes = s->train.n_classes > s->test.n_classes ? s->train.n_classes : s->test.n_classes;
  if (in_dim != d) {
    mb_die_msg("model input size %d does not match the data (%dx%dx%d = %d)", in_dim,
               s->test.c, s->test.h, s->test.w, d);
    return -1;
  }
  if (classes > n_classes) {
    mb_die_msg("data has labels up to %d but the model has %d classes", classes - 1, n_classes);
    return -1;
  }
  return 0;
}

int mb_session_data_of(const mb_opts *o, const mb_checkpoint *c, mb_opts *data)
{
  *data = *o;
  data->seed = c->seed;   /* the synthetic set is keyed by the training seed */
  if (o->data || o->synthetic) return 0;
  if (strcmp(c->data_kind, "synthetic") == 0 || strcmp(c->dataset, "synthetic") == 0)
    data->synthetic = MB_SYNTHETIC_MODEL;
  else if (c->data_path[0]) {
    struct stat st;
    if (stat(c->data_path, &st) != 0 || !S_ISDIR(st.st_mode)) {
      mb_die_msg("%s: the model's data folder %s is gone; give --data DIR", o->in, c->data_path);
      return -1;
    }
    data->data = c->data_path;
  }
  else if (c->dataset[0] && strcmp(c->dataset, "fashion-mnist") != 0) {
    /* a version 1/2 checkpoint names its data set but not its folder */
    mb_die_msg("%s: the checkpoint does not record where its data set '%s' is; give --data DIR",
               o->in, c->dataset);
    return -1;
  }
  return 0;
}

/* Creates the model of cfg through the model interface, with room for codes. */
static int setup_model(mb_session *s, const mb_model_config *cfg, int batch)
{
  int d = mb_model_config_in_dim(cfg);
  if (check_model_fits_data(s, d, mb_model_config_classes(cfg)) != 0) return -1;
  s->kind = cfg->kind;
  s->n_classes = mb_model_config_classes(cfg);
  s->in_dim = d;
  if (mb_model_create(s->be, cfg, batch, &s->m, &s->rn, &s->md) != 0) {
    report(s, "allocating the model");
    return -1;
  }
  s->codes = mb_new(s->be, (size_t)s->n_classes * d);
  return report(s, "allocating the model");
}

int mb_session_new_model(mb_session *s, const mb_opts *o)
{
  mb_model_config cfg;
  char err[256];
  /* sizes the user did not give follow the data (classes: the larger split's count) */
  int classes = s->train.n_classes > s->test.n_classes ? s->train.n_classes : s->test.n_classes;
  if (mb_model_config_make(o->model_kind, o->model_spec, o->act, o->width, s->test.c, s->test.h,
                           s->test.w, classes, &cfg, err, sizeof err) != 0) {
    mb_die_msg("%s", err);
    return -1;
  }
  if (setup_model(s, &cfg, o->batch) != 0) return -1;
  size_t n = (size_t)s->n_classes * s->in_dim;
  s->codes_host = malloc(n * sizeof(float));
  if (!s->codes_host) { mb_die_msg("out of memory"); return -1; }
  mb_codes_generate(o->seed, s->n_classes, s->in_dim, o->code_dist, s->codes_host);
  mb_upload(s->be, s->codes, s->codes_host, n);
  mb_model_init(&s->md, o->seed);
  return report(s, "initialising the model");
}

/* Model from a checkpoint; codes from it, or (codes_seed != NULL) generated when it has none. */
static int load_model(mb_session *s, const mb_checkpoint *c, const uint64_t *codes_seed,
                      mb_code_dist dist, int min_batch)
{
  int batch = c->batch > 0 ? c->batch : 128;
  if (batch < min_batch) batch = min_batch;   /* room for a fine-tuning batch */
  mb_model_config cfg;
  mb_model_config_of(c, &cfg);
  if (setup_model(s, &cfg, batch) != 0) return -1;
  if (!c->codes && !codes_seed) {
    mb_die_msg("checkpoint has no mnemonic codes");
    return -1;
  }
  size_t n = (size_t)s->n_classes * s->in_dim;
  s->codes_host = malloc(n * sizeof(float));
  if (!s->codes_host) { mb_die_msg("out of memory"); return -1; }
  if (c->codes) memcpy(s->codes_host, c->codes, n * sizeof(float));
  else mb_codes_generate(*codes_seed, s->n_classes, s->in_dim, dist, s->codes_host);
  /* NaN or inf in what the model is made of would give numbers that mean nothing */
  for (size_t i = 0; i < c->n_params; i++)
    if (!isfinite(c->params[i])) {
      mb_die_msg("checkpoint has a non-finite weight (parameter %zu is %g)", i, (double)c->params[i]);
      return -1;
    }
  for (size_t i = 0; i < n; i++)
    if (!isfinite(s->codes_host[i])) {
      mb_die_msg("checkpoint has a non-finite mnemonic code value (element %zu is %g)", i, (double)s->codes_host[i]);
      return -1;
    }
  for (size_t i = 0; c->run_mean && c->run_var && i < c->n_stats; i++)
    if (!isfinite(c->run_mean[i]) || !isfinite(c->run_var[i]) || c->run_var[i] < 0) {
      mb_die_msg("checkpoint has a non-finite or negative batch-norm statistic (channel %zu)", i);
      return -1;
    }
  mb_upload(s->be, s->codes, s->codes_host, n);
  char err[256];
  if (mb_model_load(&s->md, c, err, sizeof err) != 0) {
    mb_die_msg("%s", err);
    return -1;
  }
  s->epochs = c->epochs; s->batch = c->batch; s->lr = c->lr; s->t_mix = c->t_mix;
  return report(s, "loading the model");
}

int mb_session_load_model(mb_session *s, const mb_checkpoint *c)
{
  return load_model(s, c, NULL, MB_CODES_UNIFORM01, 0);
}

int mb_session_load_model_codes(mb_session *s, const mb_checkpoint *c, uint64_t seed,
                                mb_code_dist dist, int batch)
{
  return load_model(s, c, &seed, dist, batch);
}

int mb_session_restore_weights(mb_session *s, const mb_checkpoint *c)
{
  char err[256];
  if (mb_model_load(&s->md, c, err, sizeof err) != 0) {
    mb_die_msg("restoring the weights: %s", err);
    return -1;
  }
  return report(s, "restoring the weights");
}

/* The model trains with augmentation and a cosine schedule on this data. */
static int cifar_recipe(const mb_session *s)
{
  return s->md.ops && s->md.ops->augments_normalised_data && s->train.norm;
}

/* What training and fine-tuning both take from the options. */
static void train_opts_of(const mb_opts *o, mb_train_opts *t)
{
  mb_train_defaults(t);
  t->batch = o->batch;
  t->lr = (float)o->lr;
  t->t_mix = (float)o->t_mix;
  t->seed = o->seed;
  t->progress = o->json ? NULL : mb_progress_bar;
}

int mb_session_train(mb_session *s, const mb_opts *o, mb_train_stats *st)
{
  mb_train_opts t;
  train_opts_of(o, &t);
  t.epochs = o->epochs;
  s->epochs = o->epochs; s->batch = o->batch; s->lr = (float)o->lr; s->t_mix = (float)o->t_mix;
  if (cifar_recipe(s)) {
    /* the CIFAR recipe of §0.1/§0.3: crop + flip, cosine annealing over the run
     * (the paper's T_max = 200 is its epoch count) */
    t.augment = 1;
    t.cosine_tmax = o->epochs;
  }
  mb_model_train(&s->md, &s->dtrain, s->codes, &t, st);
  return report(s, "training");
}

int mb_session_finetune(mb_session *s, const mb_opts *o, mb_train_stats *st)
{
  mb_train_opts t;
  train_opts_of(o, &t);
  t.steps = o->steps;
  t.weight_decay = (float)o->weight_decay;
  /* the data's augmentation, at a constant rate: a fixed step budget has no epoch
   * count for the cosine schedule (docs/specification.md §1.3) */
  t.augment = cifar_recipe(s);
  mb_model_train(&s->md, &s->dtrain, s->codes, &t, st);
  return report(s, "fine-tuning");
}

/* After a method, outside its timed region: NaN or inf weights (a step that
 * overflowed) are said as the reason, never evaluated into an accuracy.  The max
 * of w and of −w (negated in place twice: exact) catch NaN, +inf and −inf. */
static int weights_finite(mb_session *s, const char *what)
{
  mb_backend *be = s->be;
  size_t P = s->md.total;
  float m[2] = {0, 0};
  mb_view d = mb_new(be, 2);
  mb_reduce(be, MB_RED_MAX, s->md.w, d, 1, P, 1);
  mb_unary(be, MB_UN_AFFINE, s->md.w, s->md.w, P, -1.0f, 0.0f);
  mb_reduce(be, MB_RED_MAX, s->md.w, mb_at(d, 1), 1, P, 1);
  mb_unary(be, MB_UN_AFFINE, s->md.w, s->md.w, P, -1.0f, 0.0f);
  mb_download(be, m, d, 2);
  mb_release(be, d);
  if (mb_ok(be) && (!isfinite(m[0]) || !isfinite(m[1])))
    mb_fail(be, MB_BAD_ARG, "%s left weights that are not finite (NaN or inf: a step overflowed); "
            "no accuracy can be given for them", what);
  return report(s, what);
}

int mb_session_forget(mb_session *s, const mb_method *me, const double *params,
                      const int *forget, int n_forget, mb_forget_timing *t)
{
  mb_backend *be = s->be;
  memset(t, 0, sizeof *t);
  if (me->needs && !s->dtrain.n) {
    mb_die_msg("method %s needs the training data, which is not loaded", me->name);
    return -1;
  }
  mb_forget_request rq = {
    .m = s->md.mlp, .model = &s->md, .codes = s->codes, .n_classes = s->n_classes, .forget = forget,
    .n_forget = n_forget, .train = me->needs ? &s->dtrain : NULL, .seed = s->seed,
    .train_epochs = s->epochs, .train_batch = s->batch, .train_lr = s->lr, .train_t_mix = s->t_mix,
    /* the recipe's augmentation and schedule, as mb_session_train chose them */
    .train_augment = cifar_recipe(s),
    .train_cosine_tmax = cifar_recipe(s) ? s->epochs : 0,
    .params = params,
  };
  mb_pass_count before = *s->md.passes;
  mb_region rg;
  mb_region_begin(&rg, be);
  me->forget(&rq, &t->outcome);
  double dms;
  t->seconds = mb_region_end(&rg, &dms);
  t->device_ms = be->info.has_device_timer ? dms : -1.0;
  t->n_forward = s->md.passes->forward - before.forward;
  t->n_backward = s->md.passes->backward - before.backward;
  if (report(s, me->name) != 0) return -1;
  return weights_finite(s, me->name);
}

/* A_R and E_F need test samples on both sides of the split (specification §0.4):
 * a forget class without any, or no remaining one, is said as the reason. */
static int split_has_samples(mb_session *s, const int *forget, int n_forget)
{
  const mb_dataset *t = &s->test;
  long n_r = 0;
  for (int i = 0; i < t->n; i++) n_r += !mb_class_in(forget, n_forget, t->y[i]);
  for (int k = 0; k < n_forget; k++) {
    long n = 0;
    for (int i = 0; i < t->n && !n; i++) n += t->y[i] == forget[k];
    if (!n) {
      mb_fail(s->be, MB_BAD_ARG, "forget class %d has no test samples in %s: E_F is undefined",
              forget[k], t->name);
      return -1;
    }
  }
  if (n_forget && !n_r) {
    mb_fail(s->be, MB_BAD_ARG, "no test sample of %s is outside the forget classes: A_R is undefined",
            t->name);
    return -1;
  }
  return 0;
}

int mb_session_eval(mb_session *s, const int *forget, int n_forget, mb_eval_result *r)
{
  if (mb_ok(s->be) && split_has_samples(s, forget, n_forget) != 0) return report(s, "evaluation");
  mb_model_evaluate(&s->md, mb_none(), &s->dtest, forget, n_forget, r);
  return report(s, "evaluation");
}

int mb_session_to_checkpoint(mb_session *s, const mb_opts *o, mb_checkpoint *c)
{
  memset(c, 0, sizeof *c);
  c->n_classes = s->n_classes;
  c->code_dist = o->code_dist;
  c->has_codes = 1;
  c->t_mix = (float)o->t_mix;
  c->seed = o->seed;
  c->epochs = o->epochs;
  c->batch = o->batch;
  c->lr = (float)o->lr;
  snprintf(c->dataset, sizeof c->dataset, "%s", s->train.name);
  c->dataset_checksum = s->train.checksum;
  mb_checkpoint_set_data(c, &s->train, o->synthetic ? NULL : o->data);
  snprintf(c->backend, sizeof c->backend, "%s", s->backend_name);
  snprintf(c->device, sizeof c->device, "%s", s->be->info.name);
  size_t nc = (size_t)s->n_classes * s->in_dim;
  c->codes = malloc(nc * sizeof(float));
  /* on failure nothing stays allocated in c (callers may still free it) */
  if (!c->codes || mb_model_save(&s->md, c) != 0) {
    mb_die_msg("out of memory");
    mb_checkpoint_free(c);
    return -1;
  }
  memcpy(c->codes, s->codes_host, nc * sizeof(float));
  if (report(s, "reading the weights") != 0) {
    mb_checkpoint_free(c);
    return -1;
  }
  for (size_t i = 0; i < c->n_params; i++)
    if (!isfinite(c->params[i])) {   /* never a checkpoint that no command would load */
      mb_die_msg("the weights are not finite (parameter %zu is %g): no checkpoint is written", i,
                 (double)c->params[i]);
      mb_checkpoint_free(c);
      return -1;
    }
  return 0;
}

void mb_session_model_name(const mb_session *s, char *model, size_t len)
{
  mb_model_describe(&s->md, model, len);
}

void mb_session_result(const mb_session *s, const char *backend, char *model, size_t len,
                       mb_result *r)
{
  mb_session_model_name(s, model, len);
  mb_result_init(r);
  r->backend = backend;
  r->be = s->be;
  r->dataset = s->test.name;
  r->dataset_checksum = s->have_train ? s->train.checksum : 0;   /* the training set, as checkpoints record */
  r->model = model;
  if (s->kind == MB_MODEL_RESNET18) r->width = s->rn.cfg.width;   /* ResNet-18 and ResNeXt-50 */
}

void mb_result_set_runs(mb_result *r, const double *run_s, const double *run_device_ms, int n)
{
  r->n_runs = n;
  r->run_s = run_s;
  r->run_device_ms = run_device_ms;
  r->forget_s = mb_stats_of(run_s, n).med;
  int dev = 1;
  for (int i = 0; i < n; i++) dev &= run_device_ms[i] >= 0;
  r->forget_device_ms = dev ? mb_stats_of(run_device_ms, n).med : NAN;
}

void mb_result_runs_text(const mb_result *r, char *out, size_t len)
{
  int n = r->n_runs > 0 ? r->n_runs : 1;
  if (n == 1) {
    if (r->warmups) snprintf(out, len, "one run after %d warm-up%s", r->warmups, r->warmups == 1 ? "" : "s");
    else snprintf(out, len, "one run, no warm-up: first-use compilation included (--warmups N --repeats N)");
    return;
  }
  mb_stats st = mb_stats_of(r->run_s, n);
  snprintf(out, len, "median of %d runs after %d warm-up%s, min %.3f, max %.3f ms", n, r->warmups,
           r->warmups == 1 ? "" : "s", 1e3 * st.min, 1e3 * st.max);
}

int mb_session_forget_runs(mb_session *s, const mb_checkpoint *c, const mb_method *me,
                           const double *params, const int *forget, int n_forget, int warmups,
                           int repeats, mb_forget_timing *t, double *run_s, double *run_device_ms)
{
  for (int i = 0; i < warmups + repeats; i++) {
    if (i > 0 && mb_session_restore_weights(s, c) != 0) return -1;
    if (mb_session_forget(s, me, params, forget, n_forget, t) != 0) return -1;
    if (i >= warmups) {
      run_s[i - warmups] = t->seconds;
      run_device_ms[i - warmups] = t->device_ms;
    }
  }
  return 0;
}

void mb_result_set_forgetting(mb_result *r, const mb_method *me, const double *params,
                              const mb_eval_result *before, const mb_eval_result *after,
                              const mb_forget_timing *t)
{
  r->method = me->name;
  r->me = me;
  r->method_params = me->params;
  r->method_values = params;
  r->n_method_params = me->n_params;
  r->test_acc = before->acc;
  r->A_R_before = before->A_R;
  r->E_F_before = before->E_F;
  r->A_R = after->A_R;
  r->E_F = after->E_F;
  r->sign = t->outcome.sign;
  r->forget_s = t->seconds;
  r->forget_device_ms = t->device_ms >= 0 ? t->device_ms : NAN;
  r->n_forward = t->n_forward;
  r->n_backward = t->n_backward;
  r->note = t->outcome.note;
}

void mb_session_unload_model(mb_session *s)
{
  if (s->be) {
    if (s->md.ops) mb_model_destroy(&s->md);
    mb_release(s->be, s->codes);
  }
  s->codes = mb_none();
  free(s->codes_host);
  s->codes_host = NULL;
  memset(&s->md, 0, sizeof s->md);
  s->kind = MB_MODEL_MLP;
}

void mb_session_close(mb_session *s)
{
  mb_session_unload_model(s);
  if (s->be) {
    mb_devdata_free(s->be, &s->dtrain);
    mb_devdata_free(s->be, &s->dtest);
    mb_backend_close(s->be);
  }
  if (s->have_train) {
    mb_dataset_free(&s->train);
    mb_dataset_free(&s->test);
  }
  memset(s, 0, sizeof *s);
}
