/* The model cache of a bench run (checkpoints keyed by their training
 * settings, trained once) and the runner: a session on one backend with one
 * model loaded. */
#include "core/clock.h"
#include "harness/bench_internal.h"
#include "util/atomic_file.h"
#include "harness/common.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void bp_runner_close(runner *r)
{
  if (r->open) mb_session_close(&r->s);
  mb_checkpoint_free(&r->ck);
  memset(r, 0, sizeof *r);
  r->model = -1;
}

/* Opens a session with the experiment's data: the training set (or its first
 * train_per_class images of each class) on the device too. */
int bp_open_session(mb_session *s, const char *backend, int device, const mb_spec_exp *e)
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

int bp_runner_open(runner *r, const cell *c, const mb_spec_exp *e, char *why, size_t len)
{
  bp_runner_close(r);
  if (bp_open_session(&r->s, c->backend, c->device, e) != 0) {
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

int bp_mkdir_p(const char *dir)
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

/* Writes n bytes as the whole file at path (util/atomic_file.h). */
static int write_whole(const char *path, const char *p, size_t n, char *err, size_t len)
{
  mb_afile f;
  if (mb_afile_open(&f, path, err, len) != 0) return -1;
  mb_afile_write(&f, p, n);
  return mb_afile_commit(&f, err, len);
}

/* Trains model mi on the train backend and writes it to the cache. */
int bp_train_model(bench *b, int mi, int k, int n, char *why, size_t len)
{
  model_desc *md = &b->models[mi];
  const mb_spec_exp *e = md->e;
  mb_opts o;
  mb_opts_defaults(&o);
  o.backend = md->train_backend;
  o.json = 1;
  mb_session s;
  if (bp_open_session(&s, md->train_backend, 0, e) != 0) {
    snprintf(why, len, "could not open the training backend %s%s%s", md->train_backend,
             s.be && !mb_ok(s.be) ? ": " : "", s.be && !mb_ok(s.be) ? mb_error(s.be) : "");
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
  o.model_kind = bp_is_resnet(e) ? MB_MODEL_RESNET18 : MB_MODEL_MLP;
  o.width = e->width;
  mb_code_dist_parse(e->codes, &o.code_dist);
  char el[32];
  bp_fmt_dur(mb_now() - b->t_start, el, sizeof el);
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
    char err[1400], sc[1200], line[400];
    sidecar_path(md, sc, sizeof sc);
    int n = snprintf(line, sizeof line,
                     "{\"train_s\": %.6g, \"test_acc\": %.6g, \"train_backend\": \"%s\", \"epochs\": %d}\n",
                     st.seconds, ev.acc, md->train_backend, e->epochs);
    /* the sidecar before the checkpoint, each whole or absent: a run killed
     * between them trains the model again rather than lose its training time */
    if (bp_mkdir_p(b->cache) != 0) {
      snprintf(why, len, "cannot create the cache directory %s: %s", b->cache, strerror(errno));
    } else if (write_whole(sc, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, err, sizeof err) != 0 ||
               mb_checkpoint_write(md->path, &c, err, sizeof err) != 0) {
      snprintf(why, len, "%s", err);
    } else {
      rc = 0;
    }
  } else {
    snprintf(why, len, "training failed: %s", s.be && !mb_ok(s.be) ? mb_error(s.be) : "see above");
  }
  mb_checkpoint_free(&c);
  mb_session_close(&s);
  return rc;
}

int bp_ensure_model(bench *b, int mi, int k, int n, int wait, char *why, size_t len)
{
  const model_desc *md = &b->models[mi];
  if (access(md->path, R_OK) == 0) return 0;
  if (bp_mkdir_p(b->cache) != 0) {
    snprintf(why, len, "cannot create the cache directory %s: %s", b->cache, strerror(errno));
    return -1;
  }
  /* the entry's lock: one process trains it, the others wait and load it */
  char lp[1200], err[1300];
  snprintf(lp, sizeof lp, "%s.lock", md->path);
  int fd = mb_file_lock(lp, 0, err, sizeof err);
  if (fd == -2 && !wait) return 2;
  if (fd == -2) {
    bp_progress_end(b);
    fprintf(stderr, "mnemobench bench: model %s is being trained by another process; waiting for it\n", md->key);
    fd = mb_file_lock(lp, 1, err, sizeof err);
  }
  if (fd < 0) {
    snprintf(why, len, "%.*s", (int)len - 1, err);
    return -1;
  }
  int rc = 0;
  if (access(md->path, R_OK) != 0) rc = bp_train_model(b, mi, k, n, why, len) == 0 ? 1 : -1;
  close(fd);   /* the lock file stays: removing it could split two waiters */
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
int bp_runner_load(bench *b, runner *r, int mi, char *why, size_t len)
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


int bp_retrained(bench *b, const cell *c, mb_checkpoint *out, char key[17], char *why, size_t len)
{
  const mb_spec_exp *e = &b->spec.exp[c->exp];
  const cell *rc = NULL;
  for (int i = 0; i < b->n_cells && !rc; i++) {
    const cell *x = &b->cells[i];
    if (x->exp == c->exp && x->me && strcmp(x->me->name, "retrain") == 0 && x->seed == c->seed) rc = x;
  }
  if (!rc) { snprintf(why, len, "experiment %s has no retrain cell for seed %" PRIu64 " (the reference)", e->name, c->seed); return -1; }
  model_desc *md = &b->models[rc->model[0]];
  char canon[1400];
  int o = snprintf(canon, sizeof canon, "mnemobench-retrained/1|model=%s|forget=%s|seed=%" PRIu64 "|train=%s",
                   md->key, e->forget, c->seed, md->train_backend);
  for (int i = 0; i < rc->me->n_params && o < (int)sizeof canon - 64; i++)
    o += snprintf(canon + o, sizeof canon - (size_t)o, "|%s=%.17g", rc->me->params[i].name, rc->params[i]);
  snprintf(key, 17, "%016" PRIx64, mb_fnv1a64(MB_FNV1A64_INIT, canon, strlen(canon)));
  char path[1200], err[1200] = "";
  snprintf(path, sizeof path, "%s/retrained-%s.ckpt", b->cache, key);
  if (access(path, R_OK) == 0) {
    if (mb_checkpoint_read(path, out, err, sizeof err) == 0) return 0;
    snprintf(why, len, "%.1000s", err);
    return -1;
  }
  if (access(md->path, R_OK) != 0 && bp_train_model(b, rc->model[0], 1, 1, why, len) != 0) return -1;
  fprintf(stderr, "%s[reference] retraining without class(es) %s on %s, seed %" PRIu64 "%s",
          isatty(2) ? "\r\033[K" : "", e->forget, md->train_backend, c->seed, isatty(2) ? "" : "\n");
  mb_session s;
  mb_checkpoint base;
  memset(&base, 0, sizeof base);
  int ok = -1;
  int forget[MB_MAX_FORGET], nf;
  mb_forget_timing t;
  if (bp_open_session(&s, md->train_backend, 0, e) != 0) {
    snprintf(why, len, "could not open the training backend %s", md->train_backend);
    goto out;
  }
  if (mb_checkpoint_read(md->path, &base, err, sizeof err) != 0) { snprintf(why, len, "%.1000s", err); goto out; }
  if (mb_session_load_model(&s, &base) != 0 ||
      mb_parse_classes(e->forget, s.n_classes, forget, MB_MAX_FORGET, &nf) != 0) {
    snprintf(why, len, "loading %.300s for the reference failed", md->path);
    goto out;
  }
  s.seed = c->seed;
  if (mb_session_forget(&s, rc->me, rc->params, forget, nf, &t) != 0) {
    snprintf(why, len, "retraining the reference failed: %s", mb_error(s.be));
    goto out;
  }
  mb_opts co;
  mb_opts_defaults(&co);
  co.seed = base.seed; co.t_mix = base.t_mix; co.epochs = base.epochs; co.batch = base.batch; co.lr = base.lr;
  co.code_dist = base.code_dist;
  if (mb_session_to_checkpoint(&s, &co, out) != 0) { snprintf(why, len, "reading the reference's weights failed"); goto out; }
  snprintf(out->forgotten, sizeof out->forgotten, "%s", e->forget);
  if (bp_mkdir_p(b->cache) != 0 || mb_checkpoint_write(path, out, err, sizeof err) != 0) {
    snprintf(why, len, "writing %.300s: %.600s", path, err);
    mb_checkpoint_free(out);
    goto out;
  }
  ok = 0;
out:
  mb_checkpoint_free(&base);
  mb_session_close(&s);
  return ok;
}
