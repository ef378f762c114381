/* Run-specification parser (see spec.h). */
#include "harness/spec.h"
#include "core/codes.h"
#include "core/dataset.h"
#include "core/mlp.h"
#include "mb/registry.h"
#include "harness/quality_run.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *file;
  int line;
  char *err;
  size_t len;
} ctx;

static int perr(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(ctx *c, const char *fmt, ...)
{
  va_list ap;
  int o = snprintf(c->err, c->len, "%s:%d: ", c->file, c->line);
  va_start(ap, fmt);
  if (o >= 0 && (size_t)o < c->len) vsnprintf(c->err + o, c->len - (size_t)o, fmt, ap);
  va_end(ap);
  /* one line even when the quoted text holds a CR (a bare one ends no spec line) */
  for (char *p = c->err; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  return -1;
}

static void defaults(mb_spec_exp *e)
{
  memset(e, 0, sizeof *e);
  snprintf(e->kind, sizeof e->kind, "main");
  snprintf(e->data, sizeof e->data, "default");
  snprintf(e->model, sizeof e->model, "784-1000-10");
  snprintf(e->act, sizeof e->act, "sigmoid");
  snprintf(e->codes, sizeof e->codes, "uniform01");
  e->width = 64;
  e->epochs = 30;
  e->batch = 128;
  e->lr = 0.01;
  e->t_mix[0] = 0.1; e->n_t_mix = 1;
  e->seeds[0] = 1; e->n_seeds = 1;
  snprintf(e->forget, sizeof e->forget, "0");
  snprintf(e->baseline_model, sizeof e->baseline_model, "plain");
  snprintf(e->train_backend, sizeof e->train_backend, "cpu");
  snprintf(e->backends[0], sizeof e->backends[0], "all"); e->n_backends = 1;
  snprintf(e->methods[0], sizeof e->methods[0], "mnemonic"); e->n_methods = 1;
  e->repeats = 5;
  e->warmup = 2;
  static const int samples[] = {1, 10, 100, 1000, 0};
  for (int i = 0; i < 5; i++) e->samples[i] = samples[i];
  e->n_samples = 5;
  e->classes = 1000;
  e->size = 224;
  e->ssd_images = 640;
  e->ssd_forget = 64;
  snprintf(e->scale_model, sizeof e->scale_model, "resnet18");
}

static char *trim(char *s)
{
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
  return s;
}

/* Splits a list on commas (or white space); returns the count or -1. */
static int split(ctx *c, const char *key, char *v, char **items, int max)
{
  int n = 0;
  for (char *p = v; *p;) {
    while (*p == ',' || isspace((unsigned char)*p)) p++;
    if (!*p) break;
    char *q = p;
    while (*q && *q != ',' && !isspace((unsigned char)*q)) q++;
    if (n == max) return perr(c, "'%s': more than %d values", key, max);
    items[n++] = p;
    if (*q) *q++ = 0;
    p = q;
  }
  if (n == 0) return perr(c, "'%s' needs a value", key);
  return n;
}

static int parse_num(ctx *c, const char *key, const char *s, double lo, double hi, double *out)
{
  char *end;
  *out = 0;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno == ERANGE || !isfinite(v))
    return perr(c, "'%s': '%s' is not a number", key, s);
  if (v < lo || v > hi) return perr(c, "'%s': %s is outside [%g, %g]", key, s, lo, hi);
  *out = v;
  return 0;
}

static int parse_int(ctx *c, const char *key, const char *s, double lo, double hi, int *out)
{
  double v = 0;
  if (parse_num(c, key, s, lo, hi, &v)) return -1;
  if (v != floor(v)) return perr(c, "'%s': %s is not a whole number", key, s);
  *out = (int)v;
  return 0;
}

static int set_str(ctx *c, const char *key, const char *v, char *dst, size_t cap)
{
  if (strlen(v) >= cap) return perr(c, "'%s': value longer than %zu characters", key, cap - 1);
  snprintf(dst, cap, "%s", v);
  return 0;
}

static int one_of(ctx *c, const char *key, const char *v, const char *const *allowed)
{
  for (int i = 0; allowed[i]; i++)
    if (strcmp(v, allowed[i]) == 0) return 0;
  char list[256] = "";
  for (int i = 0; allowed[i]; i++)
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", allowed[i]);
  return perr(c, "'%s': '%s' is not one of %s", key, v, list);
}

static int check_backend(ctx *c, const char *v)
{
  if (strcmp(v, "all") == 0) return 0;
  char name[32];
  const char *colon = strchr(v, ':');
  size_t n = colon ? (size_t)(colon - v) : strlen(v);
  if (n == 0 || n >= sizeof name) return perr(c, "bad backend '%s'", v);
  memcpy(name, v, n);
  name[n] = 0;
  if (!mb_backend_lookup(name))
    return perr(c, "unknown backend '%s' (known: %s, or all)", name, mb_backend_names());
  if (colon) {
    int d;
    if (parse_int(c, "backends", colon + 1, 0, 64, &d)) return -1;
  }
  return 0;
}

static int set_key(ctx *c, mb_spec_exp *e, const char *key, char *v)
{
  char *items[MB_SPEC_LIST];
  int n;
  if (strcmp(key, "kind") == 0) {
    static const char *const k[] = {"main", "tmix", "lambda", "fim", "scale", "throughput", NULL};
    if (one_of(c, key, v, k)) return -1;
    return set_str(c, key, v, e->kind, sizeof e->kind);
  }
  if (strcmp(key, "data") == 0) return set_str(c, key, v, e->data, sizeof e->data);
  if (strcmp(key, "model") == 0) {
    mb_mlp_config cfg;
    char err[256];
    if (strcmp(v, "resnet18") != 0 && mb_mlp_config_parse(v, NULL, &cfg, err, sizeof err) != 0)
      return perr(c, "model: %s (or resnet18)", err);
    return set_str(c, key, v, e->model, sizeof e->model);
  }
  if (strcmp(key, "width") == 0) return parse_int(c, key, v, 1, 4096, &e->width);
  if (strcmp(key, "test_per_class") == 0) {
    if (strcmp(v, "all") == 0) { e->test_per_class = 0; return 0; }
    return parse_int(c, key, v, 1, 1e8, &e->test_per_class);
  }
  if (strcmp(key, "act") == 0) {
    static const char *const k[] = {"sigmoid", "relu", NULL};
    if (one_of(c, key, v, k)) return -1;
    return set_str(c, key, v, e->act, sizeof e->act);
  }
  if (strcmp(key, "codes") == 0) {
    mb_code_dist d;
    if (mb_code_dist_parse(v, &d) != 0) return perr(c, "codes: '%s' is not uniform01 or normal01", v);
    return set_str(c, key, v, e->codes, sizeof e->codes);
  }
  if (strcmp(key, "train_per_class") == 0) {
    if (strcmp(v, "all") == 0) { e->train_per_class = 0; return 0; }
    return parse_int(c, key, v, 1, 1e8, &e->train_per_class);
  }
  if (strcmp(key, "epochs") == 0) return parse_int(c, key, v, 1, 10000, &e->epochs);
  if (strcmp(key, "batch") == 0) return parse_int(c, key, v, 1, 65536, &e->batch);
  if (strcmp(key, "lr") == 0) return parse_num(c, key, v, 0, 100, &e->lr);
  if (strcmp(key, "repeats") == 0) return parse_int(c, key, v, 1, 1000, &e->repeats);
  if (strcmp(key, "warmup") == 0) return parse_int(c, key, v, 0, 100, &e->warmup);
  if (strcmp(key, "classes") == 0) return parse_int(c, key, v, 2, 100000, &e->classes);
  if (strcmp(key, "size") == 0) return parse_int(c, key, v, 1, 4096, &e->size);
  if (strcmp(key, "scale_model") == 0) {
    /* the scale point's models (a model this build lacks fails its cells with the reason) */
    static const char *const k[] = {"resnet18", "resnext50", "swin_t", NULL};
    if (one_of(c, key, v, k)) return -1;
    return set_str(c, key, v, e->scale_model, sizeof e->scale_model);
  }
  if (strcmp(key, "code_batch") == 0) return parse_int(c, key, v, 0, 100000, &e->code_batch);
  if (strcmp(key, "ssd_images") == 0 || strcmp(key, "ssd_forget") == 0) {
    int x;
    if (parse_int(c, key, v, 0, 2e9, &x)) return -1;
    if (key[4] == 'i') e->ssd_images = x;
    else e->ssd_forget = x;
    return 0;
  }
  if (strcmp(key, "time_budget") == 0) return parse_num(c, key, v, 0, 1e6, &e->time_budget);
  if (strcmp(key, "quality") == 0) {
    char why[160];
    if (mb_metrics_parse(v, &e->quality, why, sizeof why) != 0) return perr(c, "quality: %s", why + strlen("--metrics: "));
    return 0;
  }
  if (strcmp(key, "forget") == 0) {
    for (const char *p = v; *p; p++)
      if (!isdigit((unsigned char)*p) && *p != ',') return perr(c, "forget: '%s' is not a class list like 0 or 0,3", v);
    return set_str(c, key, v, e->forget, sizeof e->forget);
  }
  if (strcmp(key, "baseline_model") == 0) {
    static const char *const k[] = {"plain", "mnemonic", NULL};
    if (one_of(c, key, v, k)) return -1;
    return set_str(c, key, v, e->baseline_model, sizeof e->baseline_model);
  }
  if (strcmp(key, "train_backend") == 0) {
    if (check_backend(c, v) || strcmp(v, "all") == 0 || strchr(v, ':'))
      return c->err[0] ? -1 : perr(c, "train_backend: one backend name, e.g. cpu");
    return set_str(c, key, v, e->train_backend, sizeof e->train_backend);
  }
  if (strcmp(key, "t_mix") == 0) {
    if ((n = split(c, key, v, items, MB_SPEC_LIST)) < 0) return -1;
    for (int i = 0; i < n; i++)
      if (parse_num(c, key, items[i], 0, 1, &e->t_mix[i])) return -1;
    e->n_t_mix = n;
    return 0;
  }
  if (strcmp(key, "seeds") == 0) {
    if ((n = split(c, key, v, items, MB_SPEC_LIST)) < 0) return -1;
    for (int i = 0; i < n; i++) {
      double d;
      if (parse_num(c, key, items[i], 0, 1e15, &d)) return -1;
      if (d != floor(d)) return perr(c, "seeds: %s is not a whole number", items[i]);
      e->seeds[i] = (uint64_t)d;
    }
    e->n_seeds = n;
    return 0;
  }
  if (strcmp(key, "samples") == 0) {
    if ((n = split(c, key, v, items, MB_SPEC_LIST)) < 0) return -1;
    for (int i = 0; i < n; i++) {
      if (strcmp(items[i], "all") == 0) e->samples[i] = 0;
      else if (parse_int(c, key, items[i], 1, 1e8, &e->samples[i])) return -1;
    }
    e->n_samples = n;
    return 0;
  }
  if (strcmp(key, "backends") == 0) {
    if ((n = split(c, key, v, items, MB_SPEC_LIST)) < 0) return -1;
    for (int i = 0; i < n; i++) {
      if (check_backend(c, items[i])) return -1;
      snprintf(e->backends[i], sizeof e->backends[i], "%s", items[i]);
    }
    e->n_backends = n;
    return 0;
  }
  if (strcmp(key, "methods") == 0) {
    if ((n = split(c, key, v, items, MB_SPEC_LIST)) < 0) return -1;
    for (int i = 0; i < n; i++) {
      const mb_method *me = mb_method_find(items[i]);
      if (!me) {
        const mb_method *const *all;
        int na = mb_method_list(&all);
        char list[256] = "";
        for (int k = 0; k < na; k++)
          snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "", all[k]->name);
        return perr(c, "unknown method '%s' (known: %s)", items[i], list);
      }
      snprintf(e->methods[i], sizeof e->methods[i], "%s", me->name);
    }
    e->n_methods = n;
    return 0;
  }
  if (strncmp(key, "param.", 6) == 0) {
    const char *m = key + 6, *dot = strrchr(m, '.');
    char mname[32];
    if (!dot || dot == m || (size_t)(dot - m) >= sizeof mname)
      return perr(c, "'%s': expected param.METHOD.NAME", key);
    memcpy(mname, m, (size_t)(dot - m));
    mname[dot - m] = 0;
    const mb_method *me = mb_method_find(mname);
    if (!me) return perr(c, "'%s': unknown method '%s'", key, mname);
    int found = 0;
    for (int i = 0; i < me->n_params; i++) found |= strcmp(me->params[i].name, dot + 1) == 0;
    if (!found) {
      char list[256] = "";
      for (int i = 0; i < me->n_params; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", me->params[i].name);
      return perr(c, "'%s': method %s has no parameter '%s' (it has: %s)", key, me->name, dot + 1, list);
    }
    mb_spec_sweep *sw = NULL;
    for (int i = 0; i < e->n_sweeps; i++)
      if (strcmp(e->sweeps[i].method, me->name) == 0 && strcmp(e->sweeps[i].key, dot + 1) == 0)
        sw = &e->sweeps[i];
    if (!sw) {
      if (e->n_sweeps == MB_SPEC_MAX_SWEEPS) return perr(c, "more than %d param.* keys", MB_SPEC_MAX_SWEEPS);
      sw = &e->sweeps[e->n_sweeps++];
      snprintf(sw->method, sizeof sw->method, "%s", me->name);
      snprintf(sw->key, sizeof sw->key, "%s", dot + 1);
    }
    if ((n = split(c, key, v, items, MB_SPEC_LIST)) < 0) return -1;
    for (int i = 0; i < n; i++)
      if (parse_num(c, key, items[i], -1e30, 1e30, &sw->v[i])) return -1;
    sw->n = n;
    return 0;
  }
  return perr(c, "unknown key '%s' (keys: kind data train_per_class test_per_class model width act codes epochs batch lr t_mix seeds forget "
              "baseline_model train_backend backends methods repeats warmup time_budget samples classes size code_batch ssd_images "
              "ssd_forget quality param.METHOD.NAME)", key);
}

int mb_spec_parse_text(const char *text, const char *name, mb_spec *s, char *err, size_t len)
{
  ctx c = {name, 0, err, len};
  memset(s, 0, sizeof *s);
  err[0] = 0;
  snprintf(s->path, sizeof s->path, "%s", name);
  snprintf(s->name, sizeof s->name, "bench");
  snprintf(s->cache, sizeof s->cache, "mnemobench-cache");
  /* the same text on two machines: the same cells (report checks it when merging) */
  snprintf(s->hash, sizeof s->hash, "%016llx", (unsigned long long)mb_fnv1a64(MB_FNV1A64_INIT, text, strlen(text)));
  defaults(&s->global);
  mb_spec_exp *cur = &s->global;
  int in_bench = 1;
  char *buf = strdup(text), *save = NULL;
  if (!buf) { snprintf(err, len, "out of memory"); return -1; }
  int rc = 0;
  char *p = buf;
  while (p && rc == 0) {
    char *nl = strchr(p, '\n');
    if (nl) *nl = 0;
    c.line++;
    char *line = p;
    p = nl ? nl + 1 : NULL;
    /* a comment starts a line or follows white space */
    for (char *h = line; *h; h++)
      if (*h == '#' && (h == line || isspace((unsigned char)h[-1]))) { *h = 0; break; }
    line = trim(line);
    if (!*line) continue;
    if (*line == '[') {
      char *close = strchr(line, ']');
      if (!close || trim(close + 1)[0]) { rc = perr(&c, "bad section header '%s' (expected [bench] or [experiment NAME])", line); break; }
      *close = 0;
      char *sec = trim(line + 1);
      if (strcmp(sec, "bench") == 0) {
        if (!in_bench) { rc = perr(&c, "[bench] must come before the first [experiment]"); break; }
        continue;
      }
      if (strncmp(sec, "experiment", 10) != 0 || !isspace((unsigned char)sec[10])) {
        rc = perr(&c, "unknown section [%s] (expected [bench] or [experiment NAME])", sec);
        break;
      }
      char *ename = trim(sec + 10);
      if (!*ename || strlen(ename) >= sizeof cur->name || strpbrk(ename, "/ \t#\"\\")) {
        rc = perr(&c, "experiment name '%s': 1-63 characters, no spaces, '/', '#', quotes", ename);
        break;
      }
      for (int i = 0; i < s->n_exp; i++)
        if (strcmp(s->exp[i].name, ename) == 0) { rc = perr(&c, "experiment '%s' defined twice (line %d)", ename, s->exp[i].line); break; }
      if (rc) break;
      if (s->n_exp == MB_SPEC_MAX_EXP) { rc = perr(&c, "more than %d experiments", MB_SPEC_MAX_EXP); break; }
      cur = &s->exp[s->n_exp++];
      *cur = s->global;   /* inherit the [bench] settings */
      snprintf(cur->name, sizeof cur->name, "%s", ename);
      cur->line = c.line;
      in_bench = 0;
      continue;
    }
    char *eq = strchr(line, '=');
    if (!eq) { rc = perr(&c, "expected 'key = value' or a [section], got '%s'", line); break; }
    *eq = 0;
    char *key = trim(line), *val = trim(eq + 1);
    if (!*key) { rc = perr(&c, "missing key before '='"); break; }
    if (!*val) { rc = perr(&c, "'%s' has no value", key); break; }
    if (strcmp(key, "name") == 0 || strcmp(key, "cache") == 0 || strcmp(key, "results") == 0) {
      if (!in_bench) { rc = perr(&c, "'%s' belongs in [bench]", key); break; }
      if (strcmp(key, "name") == 0) rc = set_str(&c, key, val, s->name, sizeof s->name);
      else if (strcmp(key, "cache") == 0) rc = set_str(&c, key, val, s->cache, sizeof s->cache);
      else rc = set_str(&c, key, val, s->results, sizeof s->results);
      continue;
    }
    if (in_bench && strcmp(key, "kind") == 0) { rc = perr(&c, "'kind' belongs in an [experiment]"); break; }
    if (in_bench && s->n_exp) { rc = perr(&c, "[bench] settings must come before the first [experiment]"); break; }
    rc = set_key(&c, cur, key, val);
  }
  (void)save;
  free(buf);
  if (rc == 0 && s->n_exp == 0) {
    c.line = c.line ? c.line : 1;
    rc = perr(&c, "no [experiment NAME] block: nothing to run");
  }
  for (int i = 0; rc == 0 && i < s->n_exp; i++)
    if (strcmp(s->exp[i].kind, "fim") == 0 && strcmp(s->exp[i].model, "resnet18") == 0) {
      c.line = s->exp[i].line;
      rc = perr(&c, "experiment '%s': kind fim compares FIM diagonals of the MLP only (model = resnet18)",
                s->exp[i].name);
    }
  for (int i = 0; rc == 0 && i < s->n_exp; i++)
    if (s->exp[i].ssd_images && s->exp[i].ssd_forget > s->exp[i].ssd_images) {
      c.line = s->exp[i].line;
      rc = perr(&c, "experiment '%s': ssd_forget %ld exceeds ssd_images %ld", s->exp[i].name, s->exp[i].ssd_forget,
                s->exp[i].ssd_images);
    }
  for (int i = 0; rc == 0 && i < s->n_exp; i++) {
    const mb_spec_exp *e = &s->exp[i];
    int has_retrain = 0;
    for (int m = 0; m < e->n_methods; m++) has_retrain |= strcmp(e->methods[m], "retrain") == 0;
    c.line = e->line;
    if (e->quality && strcmp(e->kind, "main") != 0)
      rc = perr(&c, "experiment '%s': quality metrics belong to kind main", e->name);
    else if ((e->quality & MB_METRIC_DISTANCE) && !has_retrain)
      rc = perr(&c, "experiment '%s': quality distance needs retrain among the methods (the reference)", e->name);
  }
  if (rc == 0 && !s->results[0]) snprintf(s->results, sizeof s->results, "results/%s.jsonl", s->name);
  return rc;
}

int mb_spec_parse_file(const char *path, mb_spec *s, char *err, size_t len)
{
  FILE *f = fopen(path, "rb");
  if (!f) { snprintf(err, len, "%s: cannot open: %s", path, strerror(errno)); return -1; }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += got;
    if (n + 1 == cap) {
      if (cap > (16u << 20)) { free(buf); fclose(f); snprintf(err, len, "%s: larger than 16 MiB", path); return -1; }
      char *nb = realloc(buf, cap *= 2);
      if (!nb) { free(buf); buf = NULL; }
      else buf = nb;
    }
  }
  fclose(f);
  if (!buf) { snprintf(err, len, "out of memory"); return -1; }
  buf[n] = 0;
  if (strlen(buf) != n) { free(buf); snprintf(err, len, "%s: contains a NUL byte: not a spec file", path); return -1; }
  int rc = mb_spec_parse_text(buf, path, s, err, len);
  free(buf);
  return rc;
}
