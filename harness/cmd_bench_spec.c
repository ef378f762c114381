/* mnemobench bench SPEC: runs the cells of a run specification and appends
 * one JSON row per cell to a results file (harness/results.h): resumable,
 * with a checkpoint cache keyed by the training settings, and timing per
 * architecture.md §7.5 / algorithms.md §7.2. */
#define _GNU_SOURCE
#include "core/clock.h"
#include "core/forget_mnemonic.h"
#include "mb/registry.h"
#include "harness/commands.h"
#include "harness/common.h"
#include "harness/fim.h"
#include "harness/json.h"
#include "harness/results.h"
#include "harness/session.h"
#include "harness/spec.h"
#include "mb_commit.h"
#include "mb_config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char k_usage[] =
  "usage: mnemobench bench SPEC [--results FILE] [--cache DIR] [--data DIR] [--retry] [--list]\n"
  "Runs every cell of the run specification SPEC (see reports/specs/*.spec) and appends one\n"
  "JSON row per cell to the results file (default: the spec's `results`, else\n"
  "results/NAME.jsonl).  A rerun skips cells that already have a row, so an interrupted run\n"
  "continues where it stopped; failed cells run again, skipped ones (backend unavailable)\n"
  "only with --retry.  Models are trained once and cached under the cache directory,\n"
  "keyed by a hash of their training settings.\n"
  "  --results FILE   results file (append-only, one row per line, fsync per row)\n"
  "  --cache DIR      checkpoint cache (default: the spec's `cache`, else mnemobench-cache)\n"
  "  --data DIR       the data of every experiment (default | synthetic | a folder): e.g. the\n"
  "                   CIFAR-10 folder of reports/specs/resnet-cifar10.spec\n"
  "  --retry          run skipped cells again too\n"
  "  --list           print the cells and whether each is done, run nothing\n"
  "Then: mnemobench report FILE --out DIR\n";

/* ----------------------------------------------------------------- models */

typedef struct {
  char key[17];
  char path[1100];
  const mb_spec_exp *e;
  double t_mix;
  uint64_t seed;
  char train_backend[32];
  int needed;
} model_desc;

typedef struct {
  int exp;
  const mb_method *me;           /* NULL: a FIM cell */
  char backend[32];
  int device, border;
  uint64_t seed;
  double t_mix;                  /* the mnemonic model's t_mix (the sweep value) */
  double model_t_mix;            /* t_mix of the model the method runs on */
  double params[MB_METHOD_MAX_PARAMS];
  char sweep_desc[256];
  int model[2], n_models;        /* indices into the model list; FIM: mnemonic, plain */
  char id[512], group[512];
  int done;
} cell;

typedef struct {
  mb_spec spec;
  const char *results_path, *cache;
  int retry, list;
  model_desc *models; int n_models, cap_models;
  cell *cells; int n_cells, cap_cells;
  /* backend availability */
  struct { char name[32]; int devices; char why[512]; } avail[16];
  int n_avail;
  mb_results out;
  /* progress */
  int n_todo, n_done;
  double t_start;
  double spent_by_method[32]; int count_by_method[32];
  double spent_all; int count_all;
} bench;

static uint64_t hash_str(const char *s) { return mb_fnv1a64(MB_FNV1A64_INIT, s, strlen(s)); }

static int is_resnet(const mb_spec_exp *e) { return strcmp(e->model, "resnet18") == 0; }

static int backend_devices(bench *b, const char *name, const char **why)
{
  for (int i = 0; i < b->n_avail; i++)
    if (strcmp(b->avail[i].name, name) == 0) { *why = b->avail[i].why; return b->avail[i].devices; }
  if (b->n_avail == 16) { *why = "too many backends"; return 0; }
  int i = b->n_avail++;
  snprintf(b->avail[i].name, sizeof b->avail[i].name, "%s", name);
  b->avail[i].why[0] = 0;
  b->avail[i].devices = mb_backend_devices(name, b->avail[i].why, sizeof b->avail[i].why);
  *why = b->avail[i].why;
  return b->avail[i].devices;
}

static const char *pick_train_backend(bench *b, const char *want)
{
  const char *why;
  static const char *const fallback[] = {NULL, "cpu", "ref"};
  for (int i = 0; i < 3; i++) {
    const char *n = i == 0 ? want : fallback[i];
    if (backend_devices(b, n, &why) > 0) return n;
  }
  return want;
}

static int add_model(bench *b, const mb_spec_exp *e, double t_mix, uint64_t seed)
{
  char settings[1400], model[80];
  const char *tb = pick_train_backend(b, e->train_backend);
  if (is_resnet(e)) snprintf(model, sizeof model, "resnet18/width=%d", e->width);
  else snprintf(model, sizeof model, "%s", e->model);
  snprintf(settings, sizeof settings,
           "mnemobench-model/1|data=%s|per_class=%d|model=%s|act=%s|codes=%s|epochs=%d|batch=%d|lr=%.17g|"
           "t_mix=%.17g|seed=%" PRIu64 "|train=%s",
           e->data, e->train_per_class, model, e->act, e->codes, e->epochs, e->batch, e->lr, t_mix, seed, tb);
  char key[17];
  snprintf(key, sizeof key, "%016" PRIx64, hash_str(settings));
  for (int i = 0; i < b->n_models; i++)
    if (strcmp(b->models[i].key, key) == 0) return i;
  if (b->n_models == b->cap_models) {
    int nc = b->cap_models ? 2 * b->cap_models : 16;
    model_desc *nm = realloc(b->models, sizeof *nm * (size_t)nc);
    if (!nm) return -1;
    b->models = nm;
    b->cap_models = nc;
  }
  model_desc *m = &b->models[b->n_models];
  memset(m, 0, sizeof *m);
  snprintf(m->key, sizeof m->key, "%s", key);
  snprintf(m->path, sizeof m->path, "%s/model-%s.ckpt", b->cache, key);
  m->e = e;
  m->t_mix = t_mix;
  m->seed = seed;
  snprintf(m->train_backend, sizeof m->train_backend, "%s", tb);
  return b->n_models++;
}

/* ------------------------------------------------------------------ cells */

static cell *new_cell(bench *b)
{
  if (b->n_cells == b->cap_cells) {
    int nc = b->cap_cells ? 2 * b->cap_cells : 64;
    cell *n = realloc(b->cells, sizeof *n * (size_t)nc);
    if (!n) return NULL;
    b->cells = n;
    b->cap_cells = nc;
  }
  cell *c = &b->cells[b->n_cells++];
  memset(c, 0, sizeof *c);
  return c;
}

static int backend_order(const char *name)
{
  const mb_backend_entry *e;
  int n = mb_backend_entries(&e);
  for (int i = 0; i < n; i++)
    if (strcmp(e[i].name, name) == 0) return i;
  return n;
}

static void cell_ids(bench *b, cell *c)
{
  const mb_spec_exp *e = &b->spec.exp[c->exp];
  /* the group: what determines the result (models, classes, parameters), so
   * the same computation on two backends, in any experiment, is one group */
  char canon[2048];
  int o = snprintf(canon, sizeof canon, "forget=%s|models=%s,%s", e->forget, b->models[c->model[0]].key,
                   c->n_models > 1 ? b->models[c->model[1]].key : "");
  if (c->me)
    for (int i = 0; i < c->me->n_params && o < (int)sizeof canon - 64; i++)
      o += snprintf(canon + o, sizeof canon - (size_t)o, "|%s=%.17g", c->me->params[i].name, c->params[i]);
  else
    for (int i = 0; i < e->n_samples && o < (int)sizeof canon - 16; i++)
      o += snprintf(canon + o, sizeof canon - (size_t)o, "|n=%d", e->samples[i]);
  uint32_t g = (uint32_t)hash_str(canon);
  /* the cell adds how it is measured */
  if (o < (int)sizeof canon - 128)
    snprintf(canon + o, sizeof canon - (size_t)o, "|kind=%s|repeats=%d|warmup=%d|budget=%.17g", e->kind, e->repeats,
             e->warmup, e->time_budget);
  uint32_t h = (uint32_t)hash_str(canon);
  const char *mname = c->me ? c->me->name : "fim";
  snprintf(c->id, sizeof c->id, "%s/%s/%s:%d/s%" PRIu64 "/t%g%s#%08x", e->name, mname, c->backend,
           c->device, c->seed, c->t_mix, c->sweep_desc, h);
  snprintf(c->group, sizeof c->group, "%s/s%" PRIu64 "/t%g%s#%08x", mname, c->seed, c->t_mix, c->sweep_desc, g);
}

/* The cross product of the experiment's param.METHOD.* lists for method me. */
static int enumerate_method(bench *b, int ei, const mb_method *me, uint64_t seed, double t_mix)
{
  const mb_spec_exp *e = &b->spec.exp[ei];
  int idx[MB_SPEC_MAX_SWEEPS] = {0}, sw[MB_SPEC_MAX_SWEEPS], ns = 0;
  for (int i = 0; i < e->n_sweeps; i++)
    if (!me || strcmp(e->sweeps[i].method, me->name) == 0) sw[ns++] = i;
  if (!me) ns = 0;
  for (;;) {
    for (int bi = 0; bi < e->n_backends; bi++) {
      const char *bs = e->backends[bi];
      int all = strcmp(bs, "all") == 0;
      const mb_backend_entry *entries;
      int n_entries = all ? mb_backend_entries(&entries) : 1;
      for (int k = 0; k < n_entries; k++) {
        cell *c = new_cell(b);
        if (!c) return -1;
        c->exp = ei;
        c->me = me;
        c->seed = seed;
        c->t_mix = t_mix;
        if (all) { snprintf(c->backend, sizeof c->backend, "%s", entries[k].name); c->device = 0; }
        else {
          const char *colon = strchr(bs, ':');
          size_t n = colon ? (size_t)(colon - bs) : strlen(bs);
          snprintf(c->backend, sizeof c->backend, "%.*s", (int)n, bs);
          c->device = colon ? atoi(colon + 1) : 0;
        }
        c->border = backend_order(c->backend);
        if (me) {
          mb_method_defaults(me, c->params);
          int plain = strcmp(me->name, "mnemonic") != 0 && strcmp(e->baseline_model, "plain") == 0;
          c->model_t_mix = plain ? 0.0 : t_mix;
          if (strcmp(me->name, "retrain") == 0) {   /* the compared model's recipe */
            for (int p = 0; p < me->n_params; p++) {
              const char *pn = me->params[p].name;
              if (strcmp(pn, "epochs") == 0) c->params[p] = e->epochs;
              else if (strcmp(pn, "batch") == 0) c->params[p] = e->batch;
              else if (strcmp(pn, "lr") == 0) c->params[p] = e->lr;
              else if (strcmp(pn, "t_mix") == 0) c->params[p] = c->model_t_mix;
            }
          }
          int o = 0;
          c->sweep_desc[0] = 0;
          for (int s = 0; s < ns; s++) {
            const mb_spec_sweep *w = &e->sweeps[sw[s]];
            for (int p = 0; p < me->n_params; p++)
              if (strcmp(me->params[p].name, w->key) == 0) c->params[p] = w->v[idx[s]];
            o += snprintf(c->sweep_desc + o, sizeof c->sweep_desc - (size_t)o, "/%s=%g", w->key, w->v[idx[s]]);
            if (o >= (int)sizeof c->sweep_desc) o = (int)sizeof c->sweep_desc - 1;
          }
          c->model[0] = add_model(b, e, c->model_t_mix, seed);
          c->n_models = 1;
        } else {
          c->model_t_mix = t_mix;
          c->model[0] = add_model(b, e, t_mix, seed);
          c->model[1] = add_model(b, e, 0.0, seed);
          c->n_models = 2;
        }
        if (c->model[0] < 0 || c->model[c->n_models - 1] < 0) return -1;
        cell_ids(b, c);
      }
    }
    int s = ns - 1;
    while (s >= 0 && ++idx[s] == e->sweeps[sw[s]].n) idx[s--] = 0;
    if (s < 0) break;
  }
  return 0;
}

static int enumerate(bench *b)
{
  for (int ei = 0; ei < b->spec.n_exp; ei++) {
    const mb_spec_exp *e = &b->spec.exp[ei];
    for (int si = 0; si < e->n_seeds; si++)
      for (int ti = 0; ti < e->n_t_mix; ti++) {
        if (strcmp(e->kind, "fim") == 0) {
          if (enumerate_method(b, ei, NULL, e->seeds[si], e->t_mix[ti])) return -1;
          continue;
        }
        for (int mi = 0; mi < e->n_methods; mi++)
          if (enumerate_method(b, ei, mb_method_find(e->methods[mi]), e->seeds[si], e->t_mix[ti])) return -1;
      }
  }
  /* one backend at a time (a session stays open across its cells); stable */
  for (int i = 0; i < b->n_cells; i++) b->cells[i].done = i;   /* original order as tie-break */
  for (int i = 1; i < b->n_cells; i++) {
    cell t = b->cells[i];
    int j = i - 1;
    while (j >= 0 && (b->cells[j].border > t.border ||
                      (b->cells[j].border == t.border && b->cells[j].device > t.device))) {
      b->cells[j + 1] = b->cells[j];
      j--;
    }
    b->cells[j + 1] = t;
  }
  for (int i = 0; i < b->n_cells; i++) b->cells[i].done = 0;
  for (int i = 0; i < b->n_cells; i++)
    for (int j = 0; j < i; j++)
      if (strcmp(b->cells[i].id, b->cells[j].id) == 0) {
        mb_die_msg("%s: two cells have the same id %s (an experiment lists a method or backend twice?)",
                   b->spec.path, b->cells[i].id);
        return -1;
      }
  return 0;
}

static void mark_done(bench *b)
{
  mb_rowset rs = {0};
  if (access(b->results_path, F_OK) != 0) return;
  mb_rows_read(b->results_path, 0, &rs, stderr);
  for (int r = 0; r < rs.n; r++) {
    const char *id = mb_jv_str(&rs.rows[r].v, "cell", NULL), *st = mb_jv_str(&rs.rows[r].v, "status", "");
    if (!id) continue;
    int done = strcmp(st, "ok") == 0 || (strcmp(st, "skipped") == 0 && !b->retry);
    if (!done) continue;
    for (int i = 0; i < b->n_cells; i++)
      if (strcmp(b->cells[i].id, id) == 0) b->cells[i].done = 1;
  }
  mb_rows_free(&rs);
}

/* --------------------------------------------------------------- progress */

static int method_slot(const cell *c)
{
  const mb_method *const *all;
  int n = mb_method_list(&all);
  for (int i = 0; i < n && i < 31; i++)
    if (all[i] == c->me) return i;
  return 31;
}

static void fmt_dur(double s, char *out, size_t len)
{
  if (!(s >= 0)) { snprintf(out, len, "?"); return; }
  long t = lround(s);
  if (t >= 3600) snprintf(out, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
  else if (t >= 60) snprintf(out, len, "%ldm%02lds", t / 60, t % 60);
  else snprintf(out, len, "%lds", t);
}

static double eta(bench *b, int from)
{
  if (!b->count_all) return -1;
  double s = 0;
  for (int i = from; i < b->n_cells; i++) {
    const cell *c = &b->cells[i];
    if (c->done) continue;
    int k = method_slot(c);
    s += b->count_by_method[k] ? b->spent_by_method[k] / b->count_by_method[k] : b->spent_all / b->count_all;
  }
  return s;
}

static void progress(bench *b, int ci, const char *what)
{
  char el[32], et[32];
  fmt_dur(mb_now() - b->t_start, el, sizeof el);
  fmt_dur(eta(b, ci), et, sizeof et);
  if (isatty(2))
    fprintf(stderr, "\r\033[K[cell %d/%d] %s  elapsed %s  ETA %s", b->n_done + 1, b->n_todo, what, el, et);
  else
    fprintf(stderr, "[cell %d/%d] %s  elapsed %s  ETA %s\n", b->n_done + 1, b->n_todo, what, el, et);
  fflush(stderr);
}

static void progress_end(bench *b)
{
  if (isatty(2)) fputc('\n', stderr);
  (void)b;
}

/* ----------------------------------------------------------------- output */

static double median_of(const double *v, int n)
{
  if (n <= 0) return NAN;
  double *t = malloc(sizeof *t * (size_t)n);
  if (!t) return NAN;
  memcpy(t, v, sizeof *t * (size_t)n);
  for (int i = 1; i < n; i++) {
    double x = t[i];
    int j = i - 1;
    while (j >= 0 && t[j] > x) { t[j + 1] = t[j]; j--; }
    t[j + 1] = x;
  }
  double m = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  free(t);
  return m;
}

typedef struct { double med, min, max, mean, std; } stats;

static stats summarise(const double *v, int n)
{
  stats s = {NAN, NAN, NAN, NAN, NAN};
  if (n <= 0) return s;
  s.med = median_of(v, n);
  s.min = s.max = v[0];
  double sum = 0;
  for (int i = 0; i < n; i++) {
    s.min = fmin(s.min, v[i]);
    s.max = fmax(s.max, v[i]);
    sum += v[i];
  }
  s.mean = sum / n;
  double q = 0;
  for (int i = 0; i < n; i++) q += (v[i] - s.mean) * (v[i] - s.mean);
  s.std = sqrt(q / n);   /* population (ddof = 0) */
  return s;
}

static void json_array(mb_json *j, const char *key, const double *v, int n)
{
  size_t cap = 32 + (size_t)n * 24;
  char *buf = malloc(cap);
  if (!buf) return;
  size_t o = 0;
  buf[o++] = '[';
  for (int i = 0; i < n; i++) {
    if (isfinite(v[i])) o += (size_t)snprintf(buf + o, cap - o, "%s%.10g", i ? "," : "", v[i]);
    else o += (size_t)snprintf(buf + o, cap - o, "%snull", i ? "," : "");
  }
  snprintf(buf + o, cap - o, "]");
  mb_json_raw(j, key, buf);
  free(buf);
}

static const char *needs_text(const mb_method *me)
{
  if (!me) return "";
  switch (me->needs & (MB_NEEDS_FORGET | MB_NEEDS_RETAIN)) {
  case MB_NEEDS_FORGET: return "D_f";
  case MB_NEEDS_RETAIN: return "D_r";
  case MB_NEEDS_FORGET | MB_NEEDS_RETAIN: return "D_f + D_r";
  default: return "none (codes)";
  }
}

/* The fields every row has: identity, settings and provenance. */
static void row_begin(bench *b, mb_json *j, const cell *c, const mb_session *s, const char *status)
{
  const mb_spec_exp *e = &b->spec.exp[c->exp];
  const mb_backend *be = s ? s->be : NULL;
  char classes[96], ts[32], sum[32] = "";
  snprintf(classes, sizeof classes, "[%s]", e->forget);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (s && s->have_train) snprintf(sum, sizeof sum, "%016" PRIx64, s->train.checksum);
  mb_json_begin(j);
  mb_json_str(j, "schema", MB_RESULT_SCHEMA);
  mb_json_str(j, "kind", e->kind);
  mb_json_str(j, "spec", b->spec.name);
  mb_json_str(j, "experiment", e->name);
  mb_json_str(j, "cell", c->id);
  mb_json_str(j, "cell_group", c->group);
  mb_json_str(j, "method", c->me ? c->me->name : "fim");
  mb_json_str(j, "method_needs", needs_text(c->me));
  mb_json_str(j, "method_target", c->me ? c->me->target : "FIM approximation error");
  mb_json_str(j, "backend", c->backend);
  mb_json_int(j, "device_index", c->device);
  mb_json_str(j, "device", be ? be->info.name : "");
  mb_json_str(j, "device_type", be ? be->info.type : "");
  mb_json_str(j, "driver", be ? be->info.driver : "");
  mb_json_str(j, "api", be ? be->info.api : "");
  mb_json_str(j, "dataset", s && s->have_train ? s->train.name : e->data);
  mb_json_str(j, "dataset_checksum", sum);
  char model[80];
  if (is_resnet(e) && e->width != 64) snprintf(model, sizeof model, "resnet18-w%d", e->width);
  else snprintf(model, sizeof model, "%s", e->model);
  mb_json_str(j, "model", model);
  mb_json_str(j, "act", is_resnet(e) ? "relu" : e->act);
  mb_json_str(j, "model_kind", c->me ? (c->model_t_mix > 0 ? "mnemonic" : "plain") : "both");
  mb_json_str(j, "model_key", b->models[c->model[0]].key);
  mb_json_str(j, "train_backend", b->models[c->model[0]].train_backend);
  mb_json_raw(j, "forget_classes", classes);
  mb_json_int(j, "seed", (long long)c->seed);
  mb_json_num(j, "t_mix", c->t_mix);
  mb_json_num(j, "model_t_mix", c->model_t_mix);
  mb_json_int(j, "epochs", e->epochs);
  mb_json_int(j, "batch", e->batch);
  mb_json_num(j, "lr", e->lr);
  mb_json_int(j, "train_per_class", e->train_per_class);
  mb_json_int(j, "test_per_class", e->test_per_class);
  mb_json_str(j, "codes", e->codes);
  if (c->me && c->me->n_params) {
    mb_json p;
    mb_json_begin(&p);
    for (int i = 0; i < c->me->n_params; i++) mb_json_num(&p, c->me->params[i].name, c->params[i]);
    mb_json_raw(j, "params", mb_json_end(&p));
    mb_json_free(&p);
  }
  mb_json_str(j, "status", status);
  mb_json_str(j, "commit", MB_COMMIT);
  mb_json_str(j, "version", MB_VERSION);
  mb_json_str(j, "build", MB_BUILD_FLAGS);
  mb_json_int(j, "threads", mb_threads_in_use());
  mb_json_str(j, "time", ts);
}

static int row_end(bench *b, mb_json *j)
{
  char err[256];
  int rc = mb_results_append(&b->out, mb_json_end(j), err, sizeof err);
  mb_json_free(j);
  if (rc) mb_die_msg("%s", err);
  return rc;
}

static int write_status_row(bench *b, const cell *c, const mb_session *s, const char *status,
                            const char *reason)
{
  mb_json j;
  row_begin(b, &j, c, s, status);
  mb_json_str(&j, "reason", reason);
  return row_end(b, &j);
}

/* ---------------------------------------------------------------- running */

typedef struct {
  mb_session s;
  int open;
  char backend[32];
  int device;
  char data[512];
  int per_class, test_per_class;
  int model;                     /* loaded model index, or -1 */
  mb_checkpoint ck;              /* it, on the host: weights and BN statistics for restores */
  mb_eval_result before;
  int have_before;
  double model_train_s, model_test_acc;
  unsigned warmed[2];            /* method slots warmed in this session */
  double last_median[32];
} runner;

static void runner_close(runner *r)
{
  if (r->open) mb_session_close(&r->s);
  mb_checkpoint_free(&r->ck);
  memset(r, 0, sizeof *r);
  r->model = -1;
}

/* Opens a session with the experiment's data: the training set (or its first
 * train_per_class images of each class) on the device too. */
static int open_session(mb_session *s, const char *backend, int device, const mb_spec_exp *e)
{
  mb_opts o;
  mb_opts_defaults(&o);
  o.backend = backend;
  o.device = device;
  o.data = strcmp(e->data, "default") == 0 || strcmp(e->data, "synthetic") == 0 ? NULL : e->data;
  o.synthetic = strcmp(e->data, "synthetic") == 0;
  o.seed = 1;   /* the synthetic set does not depend on the run's seed */
  o.json = 1;
  o.test_limit = e->test_per_class;
  if (mb_session_open(s, &o, 0) != 0) return -1;
  if (e->train_per_class > 0) {
    mb_dataset sub;
    if (mb_dataset_head_per_class(&s->train, e->train_per_class, &sub) != 0) {
      mb_die_msg("out of memory taking %d images per class", e->train_per_class);
      return -1;
    }
    snprintf(sub.name, sizeof sub.name, "%.40s[%d/class]", s->train.name, e->train_per_class);
    mb_dataset_free(&s->train);
    s->train = sub;
  }
  mb_devdata_upload(s->be, &s->train, &s->dtrain);
  return mb_ok(s->be) ? 0 : -1;
}

static int runner_open(runner *r, const cell *c, const mb_spec_exp *e, char *why, size_t len)
{
  runner_close(r);
  if (open_session(&r->s, c->backend, c->device, e) != 0) {
    snprintf(why, len, "could not open %s device %d or load the data (%s)", c->backend, c->device,
             r->s.be && !mb_ok(r->s.be) ? mb_error(r->s.be) : "see the message above");
    mb_session_close(&r->s);
    return -1;
  }
  r->open = 1;
  snprintf(r->backend, sizeof r->backend, "%s", c->backend);
  r->device = c->device;
  snprintf(r->data, sizeof r->data, "%s", e->data);
  r->per_class = e->train_per_class;
  r->test_per_class = e->test_per_class;
  return 0;
}

static void sidecar_path(const model_desc *m, char *out, size_t len) { snprintf(out, len, "%s.json", m->path); }

static int mkdir_p(const char *dir)
{
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
      *p = '/';
    }
  return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Trains model mi on the train backend and writes it to the cache. */
static int train_model(bench *b, int mi, int k, int n, char *why, size_t len)
{
  model_desc *md = &b->models[mi];
  const mb_spec_exp *e = md->e;
  mb_opts o;
  mb_opts_defaults(&o);
  o.backend = md->train_backend;
  o.json = 1;
  mb_session s;
  if (open_session(&s, md->train_backend, 0, e) != 0) {
    snprintf(why, len, "could not open the training backend %s", md->train_backend);
    mb_session_close(&s);
    return -1;
  }
  o.seed = md->seed;
  o.epochs = e->epochs;
  o.batch = e->batch;
  o.lr = e->lr;
  o.t_mix = md->t_mix;
  o.model_spec = e->model;
  o.act = e->act;
  o.model_kind = is_resnet(e) ? MB_MODEL_RESNET18 : MB_MODEL_MLP;
  o.width = e->width;
  mb_code_dist_parse(e->codes, &o.code_dist);
  char el[32];
  fmt_dur(mb_now() - b->t_start, el, sizeof el);
  fprintf(stderr, "%s[model %d/%d] training %s %s t_mix %g seed %" PRIu64 ", %d epochs on %s  elapsed %s%s",
          isatty(2) ? "\r\033[K" : "", k, n, e->model, e->act, md->t_mix, md->seed, e->epochs,
          md->train_backend, el, isatty(2) ? "" : "\n");
  mb_train_stats st;
  mb_checkpoint c;
  mb_eval_result ev;
  int rc = -1;
  memset(&c, 0, sizeof c);
  if (mb_session_new_model(&s, &o) == 0 && mb_session_train(&s, &o, &st) == 0 &&
      mb_session_eval(&s, NULL, 0, &ev) == 0 && mb_session_to_checkpoint(&s, &o, &c) == 0) {
    char err[512];
    if (mkdir_p(b->cache) != 0) snprintf(why, len, "cannot create the cache directory %s: %s", b->cache, strerror(errno));
    else if (mb_checkpoint_write(md->path, &c, err, sizeof err) != 0) snprintf(why, len, "%s", err);
    else {
      char sc[1200];
      sidecar_path(md, sc, sizeof sc);
      FILE *f = fopen(sc, "w");
      if (f) {
        fprintf(f, "{\"train_s\": %.6g, \"test_acc\": %.6g, \"train_backend\": \"%s\", \"epochs\": %d}\n",
                st.seconds, ev.acc, md->train_backend, e->epochs);
        fclose(f);
      }
      rc = 0;
    }
  } else {
    snprintf(why, len, "training failed: %s", s.be && !mb_ok(s.be) ? mb_error(s.be) : "see above");
  }
  mb_checkpoint_free(&c);
  mb_session_close(&s);
  return rc;
}

static void read_sidecar(const model_desc *md, double *train_s, double *acc)
{
  char sc[1200], buf[512] = "";
  sidecar_path(md, sc, sizeof sc);
  *train_s = *acc = NAN;
  FILE *f = fopen(sc, "r");
  if (!f) return;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  const char *p = strstr(buf, "\"train_s\":");
  if (p) *train_s = strtod(p + 10, NULL);
  p = strstr(buf, "\"test_acc\":");
  if (p) *acc = strtod(p + 11, NULL);
}

/* Loads model mi into the session (weights kept on the host for restores). */
static int runner_load(bench *b, runner *r, int mi, char *why, size_t len)
{
  if (r->model == mi) return 0;
  mb_session *s = &r->s;
  mb_session_unload_model(s);
  mb_checkpoint_free(&r->ck);
  r->model = -1;
  r->have_before = 0;
  mb_checkpoint c;
  char err[1200];
  if (mb_checkpoint_read(b->models[mi].path, &c, err, sizeof err) != 0) {
    snprintf(why, len, "%.1000s", err);
    return -1;
  }
  if (c.dataset_checksum != s->train.checksum) {
    snprintf(why, len, "cached model %.300s was trained on other data (checksum %016" PRIx64 ", data %016" PRIx64
             "): delete it to retrain", b->models[mi].path, c.dataset_checksum, s->train.checksum);
    mb_checkpoint_free(&c);
    return -1;
  }
  if (mb_session_load_model(s, &c) != 0) {
    snprintf(why, len, "loading %.300s failed%s%.300s", b->models[mi].path, mb_ok(s->be) ? "" : ": ",
             mb_ok(s->be) ? "" : mb_error(s->be));
    mb_checkpoint_free(&c);
    return -1;
  }
  r->ck = c;
  r->model = mi;
  read_sidecar(&b->models[mi], &r->model_train_s, &r->model_test_acc);
  return 0;
}

static int parse_forget(const char *list, int n_classes, int *forget, int *nf)
{
  return mb_parse_classes(list, n_classes, forget, MB_MAX_FORGET, nf);
}

static const char *timer_kind(const mb_backend *be, int have_dev, int zero_dev)
{
  if (!be->info.has_device_timer) return "host-only";
  if (zero_dev || !have_dev) return "host-fallback";
  return "device";
}

static int run_forget_cell(bench *b, runner *r, const cell *c, char *why, size_t len)
{
  const mb_spec_exp *e = &b->spec.exp[c->exp];
  mb_session *s = &r->s;
  mb_backend *be = s->be;
  if (runner_load(b, r, c->model[0], why, len) != 0) return -1;
  s->seed = c->seed;
  int forget[MB_MAX_FORGET], nf;
  if (parse_forget(e->forget, s->n_classes, forget, &nf) != 0) {
    snprintf(why, len, "bad forget classes '%s' for %d classes", e->forget, s->n_classes);
    return -1;
  }
  size_t P = s->md.total;
  float *back = malloc(P * sizeof *back);
  if (!back) { snprintf(why, len, "out of memory"); return -1; }
  mb_session_restore_weights(s, &r->ck);
  if (!r->have_before) {
    if (mb_session_eval(s, forget, nf, &r->before) != 0) {
      snprintf(why, len, "evaluation failed: %s", mb_error(be));
      free(back);
      return -1;
    }
    r->have_before = 1;
  }
  int slot = method_slot(c), word = slot / 16;
  unsigned bit = 1u << (slot % 16);
  int warm = e->warmup;
  if (r->warmed[word] & bit) warm = r->last_median[slot] < 1.0 && e->warmup ? 1 : 0;
  int cap = e->repeats;
  double *host = calloc((size_t)cap, sizeof *host), *dev = calloc((size_t)cap, sizeof *dev),
         *up = calloc((size_t)cap, sizeof *up), *down = calloc((size_t)cap, sizeof *down),
         *e2e = calloc((size_t)cap, sizeof *e2e);
  int n = 0, have_dev = 1, zero_dev = 0;
  mb_forget_timing ft;
  memset(&ft, 0, sizeof ft);
  double spent = 0;
  for (int run = 0; run < warm + cap && host && dev && up && down && e2e; run++) {
    /* transfers: the weights to the device before, the result back after,
     * each its own synchronised region, never inside the forgetting time */
    mb_sync(be);
    double t0 = mb_now();
    mb_session_restore_weights(s, &r->ck);
    mb_sync(be);
    double t_up = mb_now() - t0;
    if (mb_session_forget(s, c->me, c->params, forget, nf, &ft) != 0) break;
    t0 = mb_now();
    mb_download(be, back, s->md.w, P);
    mb_sync(be);
    double t_down = mb_now() - t0;
    if (!mb_ok(be)) break;
    if (run < warm) continue;
    host[n] = ft.seconds;
    dev[n] = ft.device_ms;
    if (ft.device_ms < 0) have_dev = 0;
    if (ft.device_ms == 0) zero_dev = 1;
    up[n] = t_up;
    down[n] = t_down;
    e2e[n] = t_up + ft.seconds + t_down;
    spent += ft.seconds;
    n++;
    if (e->time_budget > 0 && spent >= e->time_budget) break;
  }
  int rc = -1;
  mb_eval_result after;
  if (!host || !dev || !up || !down || !e2e) snprintf(why, len, "out of memory");
  else if (!mb_ok(be) || n == 0) snprintf(why, len, "%s failed: %s", c->me->name, mb_ok(be) ? "no run finished" : mb_error(be));
  else if (mb_session_eval(s, forget, nf, &after) != 0) snprintf(why, len, "evaluation failed: %s", mb_error(be));
  else {
    stats h = summarise(host, n), u = summarise(up, n), d = summarise(down, n), x = summarise(e2e, n);
    r->warmed[word] |= bit;
    r->last_median[slot] = h.med;
    int dev_ok = have_dev && !zero_dev && be->info.has_device_timer;
    stats dv = dev_ok ? summarise(dev, n) : (stats){NAN, NAN, NAN, NAN, NAN};
    double ratio = dev_ok ? dv.med / (1e3 * h.med) : NAN;
    mb_json j;
    row_begin(b, &j, c, s, "ok");
    mb_json_str(&j, "reason", "");
    mb_json_num(&j, "test_acc", r->before.acc);
    mb_json_num(&j, "model_train_s", r->model_train_s);
    mb_json_num(&j, "A_R_before", r->before.A_R);
    mb_json_num(&j, "E_F_before", r->before.E_F);
    mb_json_num(&j, "A_R", after.A_R);
    mb_json_num(&j, "E_F", after.E_F);
    mb_json_num(&j, "acc_after", after.acc);
    mb_json_int(&j, "sign", ft.outcome.sign);
    mb_json_str(&j, "note", ft.outcome.note);
    mb_json_int(&j, "warmup_runs", warm);
    mb_json_int(&j, "repeats", n);
    mb_json_num(&j, "forget_s", h.med);
    mb_json_num(&j, "forget_s_min", h.min);
    mb_json_num(&j, "forget_s_max", h.max);
    mb_json_num(&j, "forget_s_mean", h.mean);
    mb_json_num(&j, "forget_s_std", h.std);
    json_array(&j, "forget_s_samples", host, n);
    mb_json_str(&j, "timer", timer_kind(be, have_dev, zero_dev));
    mb_json_num(&j, "forget_device_ms", dv.med);
    mb_json_num(&j, "forget_device_ms_min", dv.min);
    mb_json_num(&j, "forget_device_ms_max", dv.max);
    if (dev_ok) json_array(&j, "forget_device_ms_samples", dev, n);
    mb_json_num(&j, "device_host_ratio", ratio);
    mb_json_raw(&j, "timer_disagree", dev_ok && fabs(ratio - 1.0) > 0.2 ? "true" : "false");
    mb_json_num(&j, "upload_s", u.med);
    mb_json_num(&j, "download_s", d.med);
    mb_json_num(&j, "end_to_end_s", x.med);
    mb_json_num(&j, "end_to_end_s_min", x.min);
    mb_json_num(&j, "end_to_end_s_max", x.max);
    mb_json_int(&j, "n_forward", ft.n_forward);
    mb_json_int(&j, "n_backward", ft.n_backward);
    mb_json_int(&j, "n_params", (long long)P);
    rc = row_end(b, &j) == 0 ? 0 : -2;
  }
  free(host); free(dev); free(up); free(down); free(e2e); free(back);
  return rc;
}

static int run_fim_cell(bench *b, runner *r, const cell *c, char *why, size_t len)
{
  const mb_spec_exp *e = &b->spec.exp[c->exp];
  mb_session *s = &r->s;
  mb_backend *be = s->be;
  int forget[MB_MAX_FORGET], nf;
  if (runner_load(b, r, c->model[0], why, len) != 0) return -1;
  if (parse_forget(e->forget, s->n_classes, forget, &nf) != 0) {
    snprintf(why, len, "bad forget classes '%s'", e->forget);
    return -1;
  }
  size_t P = s->m.pt.total;
  mb_view aF = mb_new(be, P), aR = mb_new(be, P), oF = mb_new(be, P), oR = mb_new(be, P);
  mb_fim_error codes = {NAN, NAN, NAN, NAN};
  mb_fim_error *data = calloc((size_t)e->n_samples, sizeof *data);
  double t_codes = NAN, t_oracle_mn = NAN, t_oracle_plain = NAN;
  double *t_data = calloc((size_t)e->n_samples, sizeof *t_data);
  int rc = -1;
  if (!data || !t_data) { snprintf(why, len, "out of memory"); goto out; }
  /* the mnemonic model: codes against its full-data FIM */
  mb_upload(be, s->m.w, r->ck.params, P);
  mb_sync(be);
  double t0 = mb_now();
  mb_fisher_from_codes(&s->m, s->codes, s->n_classes, forget, nf, aF, aR);
  mb_sync(be);
  t_codes = mb_now() - t0;
  t0 = mb_now();
  mb_fim_from_data(&s->m, &s->dtrain, s->n_classes, forget, nf, 0, c->seed, oF, oR);
  mb_sync(be);
  t_oracle_mn = mb_now() - t0;
  if (mb_fim_compare(be, P, aF, aR, oF, oR, &codes) != 0) goto fail;
  /* the plain model: n samples per class against its full-data FIM */
  if (runner_load(b, r, c->model[1], why, len) != 0) goto out;
  mb_upload(be, s->m.w, r->ck.params, P);
  mb_sync(be);
  t0 = mb_now();
  mb_fim_from_data(&s->m, &s->dtrain, s->n_classes, forget, nf, 0, c->seed, oF, oR);
  mb_sync(be);
  t_oracle_plain = mb_now() - t0;
  for (int i = 0; i < e->n_samples && mb_ok(be); i++) {
    t0 = mb_now();
    mb_fim_from_data(&s->m, &s->dtrain, s->n_classes, forget, nf, e->samples[i], c->seed, aF, aR);
    mb_sync(be);
    t_data[i] = mb_now() - t0;
    if (mb_fim_compare(be, P, aF, aR, oF, oR, &data[i]) != 0) break;
  }
  if (!mb_ok(be)) goto fail;
  {
    double ns[MB_SPEC_LIST], eF[MB_SPEC_LIST], eR[MB_SPEC_LIST], rF[MB_SPEC_LIST], rR[MB_SPEC_LIST];
    for (int i = 0; i < e->n_samples; i++) {
      ns[i] = e->samples[i];
      eF[i] = data[i].err_F; eR[i] = data[i].err_R; rF[i] = data[i].rel_F; rR[i] = data[i].rel_R;
    }
    mb_json j;
    row_begin(b, &j, c, s, "ok");
    mb_json_str(&j, "reason", "");
    mb_json_int(&j, "n_params", (long long)P);
    mb_json_str(&j, "fim_norm", "L2/P");
    mb_json_num(&j, "fim_codes_err_F", codes.err_F);
    mb_json_num(&j, "fim_codes_err_R", codes.err_R);
    mb_json_num(&j, "fim_codes_rel_F", codes.rel_F);
    mb_json_num(&j, "fim_codes_rel_R", codes.rel_R);
    mb_json_num(&j, "fim_codes_s", t_codes);
    json_array(&j, "fim_samples", ns, e->n_samples);
    json_array(&j, "fim_data_err_F", eF, e->n_samples);
    json_array(&j, "fim_data_err_R", eR, e->n_samples);
    json_array(&j, "fim_data_rel_F", rF, e->n_samples);
    json_array(&j, "fim_data_rel_R", rR, e->n_samples);
    json_array(&j, "fim_data_s", t_data, e->n_samples);
    mb_json_num(&j, "fim_oracle_mnemonic_s", t_oracle_mn);
    mb_json_num(&j, "fim_oracle_plain_s", t_oracle_plain);
    rc = row_end(b, &j) == 0 ? 0 : -2;
  }
  goto out;
fail:
  snprintf(why, len, "FIM measurement failed: %s", mb_error(be));
out:
  mb_release(be, aF); mb_release(be, aR); mb_release(be, oF); mb_release(be, oR);
  free(data);
  free(t_data);
  return rc;
}

static void cell_label(const bench *b, const cell *c, char *out, size_t len)
{
  const mb_spec_exp *e = &b->spec.exp[c->exp];
  snprintf(out, len, "%s %s on %s:%d seed %" PRIu64 "%s%s", e->name, c->me ? c->me->name : "fim", c->backend,
           c->device, c->seed, c->sweep_desc[0] ? " " : "", c->sweep_desc);
}

static int run_all(bench *b)
{
  /* unavailable backends: skipped rows with the reason, first */
  for (int i = 0; i < b->n_cells; i++) {
    cell *c = &b->cells[i];
    if (c->done) continue;
    const char *why;
    int nd = backend_devices(b, c->backend, &why);
    char reason[600];
    if (nd > c->device) continue;
    if (nd > 0) snprintf(reason, sizeof reason, "%s has %d device(s); device %d does not exist", c->backend, nd, c->device);
    else snprintf(reason, sizeof reason, "%s", why[0] ? why : "backend unavailable");
    if (write_status_row(b, c, NULL, "skipped", reason) != 0) return -1;
    c->done = 1;
  }
  for (int i = 0; i < b->n_cells; i++) b->n_todo += !b->cells[i].done;
  if (!b->n_todo) {
    fprintf(stderr, "mnemobench bench: every cell of %s is done (%d cells) in %s\n", b->spec.path,
            b->n_cells, b->results_path);
    return 0;
  }
  /* models the remaining cells need, trained once into the cache */
  for (int i = 0; i < b->n_cells; i++)
    if (!b->cells[i].done)
      for (int k = 0; k < b->cells[i].n_models; k++) b->models[b->cells[i].model[k]].needed = 1;
  int n_train = 0, k_train = 0;
  for (int m = 0; m < b->n_models; m++) n_train += b->models[m].needed && access(b->models[m].path, R_OK) != 0;
  for (int m = 0; m < b->n_models; m++) {
    if (!b->models[m].needed || access(b->models[m].path, R_OK) == 0) continue;
    char why[600];
    if (train_model(b, m, ++k_train, n_train, why, sizeof why) != 0) {
      progress_end(b);
      mb_die_msg("model %s: %s", b->models[m].key, why);
      /* its cells fail below with the reason of the missing checkpoint */
    }
  }
  if (n_train) progress_end(b);
  runner r;
  memset(&r, 0, sizeof r);
  r.model = -1;
  int failures = 0;
  for (int i = 0; i < b->n_cells; i++) {
    cell *c = &b->cells[i];
    if (c->done) continue;
    const mb_spec_exp *e = &b->spec.exp[c->exp];
    char label[700], why[1024] = "";
    cell_label(b, c, label, sizeof label);
    progress(b, i, label);
    double t0 = mb_now();
    int rc;
    if (!r.open || strcmp(r.backend, c->backend) != 0 || r.device != c->device || strcmp(r.data, e->data) != 0 ||
        r.per_class != e->train_per_class || r.test_per_class != e->test_per_class)
      rc = runner_open(&r, c, e, why, sizeof why);
    else
      rc = 0;
    if (rc == 0) rc = c->me ? run_forget_cell(b, &r, c, why, sizeof why) : run_fim_cell(b, &r, c, why, sizeof why);
    if (rc == -2) { runner_close(&r); return -1; }   /* the results file cannot be written */
    if (rc != 0) {
      failures++;
      progress_end(b);
      mb_die_msg("cell %s failed: %s", c->id, why);
      if (write_status_row(b, c, r.open ? &r.s : NULL, "failed", why) != 0) { runner_close(&r); return -1; }
      runner_close(&r);   /* a backend error is sticky: start afresh */
    }
    c->done = 1;
    double dt = mb_now() - t0;
    int slot = method_slot(c);
    b->spent_by_method[slot] += dt;
    b->count_by_method[slot]++;
    b->spent_all += dt;
    b->count_all++;
    b->n_done++;
    const char *pause = getenv("MB_BENCH_PAUSE_MS");   /* test hook: widen the window for a kill */
    if (pause && atoi(pause) > 0) usleep((useconds_t)atoi(pause) * 1000u);
  }
  runner_close(&r);
  progress_end(b);
  char el[32];
  fmt_dur(mb_now() - b->t_start, el, sizeof el);
  fprintf(stderr, "mnemobench bench: %d cell(s) run in %s (%d failed); rows in %s\n", b->n_done, el,
          failures, b->results_path);
  return failures ? 1 : 0;
}

int mb_cmd_bench(int argc, char **argv)
{
  static const struct option lo[] = {
    {"results", required_argument, 0, 'r'}, {"cache", required_argument, 0, 'c'},
    {"retry", no_argument, 0, 'R'},         {"list", no_argument, 0, 'l'},
    {"data", required_argument, 0, 'd'},    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
  };
  static bench b;
  memset(&b, 0, sizeof b);
  const char *results = NULL, *cache = NULL, *data = NULL;
  optind = 1;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch (ch) {
    case 'r': results = optarg; break;
    case 'c': cache = optarg; break;
    case 'R': b.retry = 1; break;
    case 'l': b.list = 1; break;
    case 'd': data = optarg; break;
    case 'h': fputs(k_usage, stdout); return 0;
    default:
      mb_die_msg("bench: unknown or incomplete option '%s'\n%s", argv[optind - 1], k_usage);
      return 2;
    }
  }
  if (optind != argc - 1) {
    mb_die_msg("bench: expected one SPEC file\n%s", k_usage);
    return 2;
  }
  char err[1024];
  if (mb_spec_parse_file(argv[optind], &b.spec, err, sizeof err) != 0) {
    mb_die_msg("%s", err);
    return 2;
  }
  if (data) {
    if (strlen(data) >= sizeof b.spec.exp[0].data) {
      mb_die_msg("bench: --data path longer than %zu characters", sizeof b.spec.exp[0].data - 1);
      return 2;
    }
    for (int i = 0; i < b.spec.n_exp; i++) snprintf(b.spec.exp[i].data, sizeof b.spec.exp[i].data, "%s", data);
  }
  b.results_path = results ? results : b.spec.results;
  b.cache = cache ? cache : b.spec.cache;
  b.t_start = mb_now();
  if (enumerate(&b) != 0) return 2;
  mark_done(&b);
  int rc = 0;
  if (b.list) {
    int nd = 0;
    for (int i = 0; i < b.n_cells; i++) {
      printf("%-5s %s\n", b.cells[i].done ? "done" : "todo", b.cells[i].id);
      nd += b.cells[i].done;
    }
    printf("%d cells, %d done, %d to run; %d models (cache %s)\n", b.n_cells, nd, b.n_cells - nd, b.n_models,
           b.cache);
  } else {
    /* the directory of the results file */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", b.results_path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) { *slash = 0; mkdir_p(dir); }
    if (mb_results_open(&b.out, b.results_path, err, sizeof err) != 0) {
      mb_die_msg("%s", err);
      rc = 1;
    } else {
      int before = 0;
      for (int i = 0; i < b.n_cells; i++) before += b.cells[i].done;
      fprintf(stderr, "mnemobench bench: %s: %d cells (%d done before), results in %s\n", b.spec.path,
              b.n_cells, before, b.results_path);
      rc = run_all(&b) != 0;
      mb_results_close(&b.out);
    }
  }
  free(b.cells);
  free(b.models);
  return rc;
}
