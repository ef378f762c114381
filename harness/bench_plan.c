/* The plan of a bench run: the cells of the spec (experiments × seeds × t_mix
 * × methods × sweeps × backends), their ids and groups, the models they need,
 * and which already have a row. */
#include "core/ops.h"
#include "mb/registry.h"
#include "methods/methods.h"
#include "harness/bench_internal.h"
#include "harness/common.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t hash_str(const char *s) { return mb_fnv1a64(MB_FNV1A64_INIT, s, strlen(s)); }

int bp_is_resnet(const mb_spec_exp *e) { return strcmp(e->model, "resnet18") == 0; }

/* The performance kinds: each cell runs bench-scale's or bench-train's
 * measurements on one backend and writes their rows; no trained model. */
int bp_is_perf(const mb_spec_exp *e) { return !strcmp(e->kind, "scale") || !strcmp(e->kind, "throughput"); }

int bp_backend_devices(bench *b, const char *name, const char **why)
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
    if (bp_backend_devices(b, n, &why) > 0) return n;
  }
  return want;
}

static int add_model(bench *b, const mb_spec_exp *e, double t_mix, uint64_t seed)
{
  char settings[1400], model[80];
  /* plan_only (slurm counts cells on a login node): no backend is probed */
  const char *tb = b->plan_only ? e->train_backend : pick_train_backend(b, e->train_backend);
  if (bp_is_resnet(e)) snprintf(model, sizeof model, "resnet18/width=%d", e->width);
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

/* The registry's order, without loading a module (a spec naming one backend
 * touches only that one's driver). */
static int backend_order(const char *name)
{
  int i = mb_backend_index(name);
  return i >= 0 ? i : 1000;
}

static void perf_cell_ids(bench *b, cell *c)
{
  const mb_spec_exp *e = &b->spec.exp[c->exp];
  char canon[1024];
  if (!strcmp(e->kind, "scale"))
  {
    int o = snprintf(canon, sizeof canon, "scale|classes=%d|size=%d|width=%d|code_batch=%d|ssd=%ld,%ld|repeats=%d|warmup=%d",
                     e->classes, e->size, e->width, e->code_batch, e->ssd_images, e->ssd_forget, e->repeats, e->warmup);
    /* ResNet-18 keeps the ids cells had before other models existed (resumable results) */
    if (strcmp(e->scale_model, "resnet18") && o > 0 && o < (int)sizeof canon)
      snprintf(canon + o, sizeof canon - (size_t)o, "|model=%s", e->scale_model);
  }
  else {
    int o = snprintf(canon, sizeof canon, "throughput|data=%s|model=%s|act=%s|repeats=%d", e->data, e->model,
                     e->act, e->repeats);
    if (!strcmp(e->model, "resnet18") && o > 0 && o < (int)sizeof canon)
      snprintf(canon + o, sizeof canon - (size_t)o, "|width=%d", e->width);
  }
  if (mb_engine_generic(NULL)) strncat(canon, "|engine=generic", sizeof canon - strlen(canon) - 1);
  uint32_t h = (uint32_t)hash_str(canon);
  snprintf(c->id, sizeof c->id, "%s/%s/%s:%d/s%" PRIu64 "#%08x", e->name, e->kind, c->backend, c->device, c->seed, h);
  snprintf(c->group, sizeof c->group, "%s/s%" PRIu64 "#%08x", e->kind, c->seed, h);
}

static void cell_ids(bench *b, cell *c)
{
  const mb_spec_exp *e = &b->spec.exp[c->exp];
  if (bp_is_perf(e)) { perf_cell_ids(b, c); return; }
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
  /* the test samples A_R and E_F are measured on (every sample, 0, keeps the ids
   * cells had before it was part of them: resumable results) */
  if (e->test_per_class > 0 && o < (int)sizeof canon - 32)
    o += snprintf(canon + o, sizeof canon - (size_t)o, "|test_per_class=%d", e->test_per_class);
  uint32_t g = (uint32_t)hash_str(canon);
  /* the cell adds how it is measured */
  if (o < (int)sizeof canon - 128)
    snprintf(canon + o, sizeof canon - (size_t)o, "|kind=%s|repeats=%d|warmup=%d|budget=%.17g", e->kind, e->repeats,
             e->warmup, e->time_budget);
  /* a forced generic path is another measurement of the same computation */
  if (mb_engine_generic(NULL)) strncat(canon, "|engine=generic", sizeof canon - strlen(canon) - 1);
  /* quality metrics make another row (cells without them keep their old ids) */
  if (e->quality && c->me) {
    size_t l = strlen(canon);
    snprintf(canon + l, sizeof canon - l, "|quality=%u", e->quality);
  }
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
        if (bp_is_perf(e)) {
          c->n_models = 0;
          cell_ids(b, c);
          continue;
        }
        if (me) {
          mb_method_defaults(me, c->params);
          int plain = !me->uses_codes_model && strcmp(e->baseline_model, "plain") == 0;
          c->model_t_mix = plain ? 0.0 : t_mix;
          if (me->wants_train_recipe) {   /* the compared model's recipe */
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

int bp_enumerate(bench *b)
{
  for (int ei = 0; ei < b->spec.n_exp; ei++) {
    const mb_spec_exp *e = &b->spec.exp[ei];
    for (int si = 0; si < e->n_seeds; si++)
      for (int ti = 0; ti < e->n_t_mix; ti++) {
        if (strcmp(e->kind, "fim") == 0 || bp_is_perf(e)) {
          if (bp_is_perf(e) && ti > 0) continue;   /* no trained model: t_mix does not apply */
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

void bp_select(bench *b)
{
  int n = 0, k = 0;
  for (int i = 0; i < b->n_cells; i++) {
    int keep = b->n_only_backends == 0;
    for (int j = 0; j < b->n_only_backends; j++) keep |= strcmp(b->cells[i].backend, b->only_backends[j]) == 0;
    int in_exp = b->n_only_exps == 0;
    for (int j = 0; j < b->n_only_exps; j++) in_exp |= strcmp(b->spec.exp[b->cells[i].exp].name, b->only_exps[j]) == 0;
    if (!keep || !in_exp) continue;
    if (b->shard_n > 0 && k++ % b->shard_n != b->shard_i) continue;
    b->cells[n++] = b->cells[i];
  }
  b->n_cells = n;
}

static cell *find_cell(bench *b, const char *id)
{
  for (int i = 0; i < b->n_cells; i++)
    if (strcmp(b->cells[i].id, id) == 0) return &b->cells[i];
  return NULL;
}

/* Calls visit on each whole, parseable row of the results file from byte `off` on
 * (a corrupt line is the report's to name; an unterminated last line is being
 * written and is read next time); returns the offset after the last whole line. */
static off_t each_row(bench *b, off_t off, void (*visit)(bench *, const mb_jv *, void *), void *ctx)
{
  FILE *f = fopen(b->results_path, "rb");
  if (!f) return off;
  if (fseeko(f, off, SEEK_SET) != 0) { fclose(f); return off; }
  char *line = NULL;
  size_t cap = 0;
  ssize_t got;
  while ((got = getline(&line, &cap, f)) > 0) {
    if (line[got - 1] != '\n') break;
    off += got;
    mb_jv v;
    char err[160];
    if (mb_jv_parse(line, &v, err, sizeof err) != 0) continue;
    visit(b, &v, ctx);
    mb_jv_free(&v);
  }
  free(line);
  fclose(f);
  return off;
}

static void mark_row(bench *b, const mb_jv *v, void *ctx)
{
  const int live = *(const int *)ctx;
  const char *id = mb_jv_str(v, "cell", NULL), *st = mb_jv_str(v, "status", "");
  cell *c = id ? find_cell(b, id) : NULL;
  if (!c || c->done) return;
  int done = strcmp(st, "ok") == 0 || (strcmp(st, "skipped") == 0 && (live || !b->retry)) ||
             (live && strcmp(st, "failed") == 0);
  if (done) {
    c->done = 1;
    if (live) b->n_elsewhere++;
  }
}

void bp_mark_done(bench *b)
{
  int live = b->scanned;
  b->scanned = 1;
  b->scan_off = each_row(b, (off_t)b->scan_off, mark_row, &live);
}

int bp_take_cell(bench *b, cell *c, int wait)
{
  char err[600];
  if (wait && mb_results_claim(&b->out, c->id, 1, err, sizeof err) < 0) { mb_die_msg("%s", err); return -1; }
  if (mb_results_lock(&b->out, err, sizeof err) != 0) { mb_die_msg("%s", err); return -1; }
  bp_mark_done(b);
  int rc;
  if (c->done) rc = 0;
  else {
    int got = wait ? 1 : mb_results_claim(&b->out, c->id, 0, err, sizeof err);
    if (got < 0) mb_die_msg("%s", err);
    rc = got < 0 ? -1 : got ? 1 : 2;
  }
  mb_results_unlock(&b->out);
  if (wait && rc != 1) mb_results_release(&b->out, c->id);
  c->busy = rc == 2;
  return rc;
}

/* What bp_check_versions counts in a results file. */
typedef struct {
  char other[17], stale_id[200];
  int n_other, n_stale, n_foreign;
} version_scan;

static void version_row(bench *b, const mb_jv *v, void *ctx)
{
  version_scan *vs = ctx;
  const char *sp = mb_jv_str(v, "spec", ""), *h = mb_jv_str(v, "spec_hash", ""), *id = mb_jv_str(v, "cell", "");
  if (strcmp(sp, b->spec.name) != 0) return;
  if (!strcmp(h, b->spec.hash)) {
    vs->n_foreign += *id && !find_cell(b, id);
  } else if (*h) {
    vs->n_other++;
    if (!vs->other[0]) snprintf(vs->other, sizeof vs->other, "%s", h);
    if (*id && !find_cell(b, id)) {
      if (!vs->n_stale) snprintf(vs->stale_id, sizeof vs->stale_id, "%s", id);
      vs->n_stale++;
    }
  }
}

int bp_check_versions(bench *b, char *msg, size_t len)
{
  msg[0] = 0;
  version_scan vs = {0};
  each_row(b, 0, version_row, &vs);
  const char *other = vs.other, *stale_id = vs.stale_id;
  const int n_other = vs.n_other, n_stale = vs.n_stale, n_foreign = vs.n_foreign;
  if (n_stale) {
    snprintf(msg, len,
             "bench: %s holds %d row(s) of another version of spec '%s' (spec_hash %s, this one %s) whose cells "
             "it no longer has (e.g. %s): a setting changed; write to another --results file",
             b->results_path, n_stale, b->spec.name, other, b->spec.hash, stale_id);
    return -1;
  }
  int o = 0;
  if (n_other)
    o = snprintf(msg, len,
                 "mnemobench bench: %s holds %d row(s) of an earlier version of spec '%s' (spec_hash %s, this one %s); "
                 "their cells are unchanged in this one and count as done",
                 b->results_path, n_other, b->spec.name, other, b->spec.hash);
  if (n_foreign && o >= 0 && (size_t)o < len)
    snprintf(msg + o, len - (size_t)o,
             "%smnemobench bench: %s holds %d row(s) of this spec whose cells are not in this plan (another --data, "
             "MB_ENGINE or train backend, or an older mnemobench's cell ids): kept, and not counted as done",
             o ? "\n" : "", b->results_path, n_foreign);
  return n_other || n_foreign ? 1 : 0;
}

int bp_count_cells(const mb_spec *s, const char *const *only_backends, int n_only)
{
  bench *b = calloc(1, sizeof *b);
  if (!b) { mb_die_msg("out of memory"); return -1; }
  b->spec = *s;
  b->plan_only = 1;
  b->cache = "";
  for (int i = 0; i < n_only && i < 16; i++) b->only_backends[b->n_only_backends++] = only_backends[i];
  int n = -1;
  if (bp_enumerate(b) == 0) {
    bp_select(b);
    n = b->n_cells;
  }
  free(b->cells);
  free(b->models);
  free(b);
  return n;
}
