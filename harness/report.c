/* Paper-style tables and figures from result rows (see report.h).  Every
 * number printed is read from a row; nothing is filled in. */
#define _GNU_SOURCE
#include "harness/report.h"
#include "methods/methods.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------- row access */

typedef const mb_jv row;

/* Marks cells [from, to) of row k as missing, with the reason for the footnote. */
static void missing_cells(mb_rtable *t, int k, int from, int to, const char *why)
{
  for (int c = from; c < to; c++) mb_rt_missing(t, k, c, why);
}

static const char *S(row *r, const char *k) { return mb_jv_str(r, k, ""); }
static double N(row *r, const char *k) { return mb_jv_num(r, k); }
static int is_ok(row *r) { return strcmp(S(r, "status"), "ok") == 0; }
static const char *kind_of(row *r)
{
  const char *k = S(r, "kind");
  return *k ? k : "main";   /* rows of `forget --json` have no kind */
}
static double param(row *r, const char *k) { return mb_jv_num(mb_jv_get(r, "params"), k); }

/* The rows that count: per cell id the last ok row, else the last row. */
typedef struct {
  row **v;
  int n;
} sel;

static sel select_rows(const mb_rowset *rs)
{
  sel s = {calloc((size_t)rs->n + 1, sizeof(row *)), 0};
  if (!s.v) return s;
  for (int i = 0; i < rs->n; i++) {
    row *r = &rs->rows[i].v;
    const char *id = S(r, "cell");
    if (!*S(r, "method")) continue;
    int at = -1;
    if (*id)
      for (int k = 0; k < s.n; k++)
        if (strcmp(S(s.v[k], "cell"), id) == 0) { at = k; break; }
    if (at < 0) s.v[s.n++] = r;
    else if (is_ok(r) || !is_ok(s.v[at])) s.v[at] = r;
  }
  return s;
}

/* ------------------------------------------------------------ statistics */

typedef struct {
  double v[512];
  int n;
} vec;

static void push(vec *a, double x)
{
  if (isfinite(x) && a->n < 512) a->v[a->n++] = x;
}

static double mean(const vec *a)
{
  if (!a->n) return NAN;
  double s = 0;
  for (int i = 0; i < a->n; i++) s += a->v[i];
  return s / a->n;
}

static double stdev(const vec *a)   /* population, ddof = 0 */
{
  if (!a->n) return NAN;
  double m = mean(a), q = 0;
  for (int i = 0; i < a->n; i++) q += (a->v[i] - m) * (a->v[i] - m);
  return sqrt(q / a->n);
}

static int cmp_d(const void *x, const void *y)
{
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static double median(vec *a)
{
  if (!a->n) return NAN;
  qsort(a->v, (size_t)a->n, sizeof a->v[0], cmp_d);
  return a->n % 2 ? a->v[a->n / 2] : 0.5 * (a->v[a->n / 2 - 1] + a->v[a->n / 2]);
}

static double vmin(const vec *a)
{
  double m = NAN;
  for (int i = 0; i < a->n; i++) m = i ? fmin(m, a->v[i]) : a->v[i];
  return m;
}

static double vmax(const vec *a)
{
  double m = NAN;
  for (int i = 0; i < a->n; i++) m = i ? fmax(m, a->v[i]) : a->v[i];
  return m;
}

/* "12.3" style with enough digits for times spanning decades */
static void fmt_ms(double s, char *out, size_t len)
{
  double ms = 1e3 * s;
  if (ms >= 100) snprintf(out, len, "%.0f", ms);
  else if (ms >= 10) snprintf(out, len, "%.1f", ms);
  else if (ms >= 1) snprintf(out, len, "%.2f", ms);
  else snprintf(out, len, "%.3f", ms);
}

/* ---------------------------------------------------------------- methods */

typedef struct {
  char name[32];
} mname;

static int method_rank(const char *m)
{
  const mb_method *const *all;
  int n = mb_method_list(&all);
  for (int i = 0; i < n; i++)
    if (strcmp(all[i]->name, m) == 0) return i;
  return n;
}

static int cmp_method(const void *x, const void *y)
{
  const mname *a = x, *b = y;
  int ra = method_rank(a->name), rb = method_rank(b->name);
  return ra != rb ? ra - rb : strcmp(a->name, b->name);
}

/* Distinct methods among rows of a kind, in registry order. */
static int methods_of(const sel *s, const char *kind, mname *out, int max)
{
  int n = 0;
  for (int i = 0; i < s->n; i++) {
    if (strcmp(kind_of(s->v[i]), kind) != 0) continue;
    const char *m = S(s->v[i], "method");
    int seen = 0;
    for (int k = 0; k < n; k++) seen |= strcmp(out[k].name, m) == 0;
    if (!seen && n < max) snprintf(out[n++].name, sizeof out[0].name, "%s", m);
  }
  qsort(out, (size_t)n, sizeof *out, cmp_method);
  return n;
}

static const char *const k_backend_pref[] = {"cuda", "cpu", "vulkan", "opencl", "ref"};

static const char *choose_backend(const sel *s, const char *want)
{
  if (want) return want;
  for (size_t b = 0; b < sizeof k_backend_pref / sizeof k_backend_pref[0]; b++)
    for (int i = 0; i < s->n; i++)
      if (is_ok(s->v[i]) && strcmp(kind_of(s->v[i]), "main") == 0 &&
          strcmp(S(s->v[i], "backend"), k_backend_pref[b]) == 0)
        return k_backend_pref[b];
  for (int i = 0; i < s->n; i++)
    if (is_ok(s->v[i])) return S(s->v[i], "backend");
  return "cpu";
}

/* The reason to show when a method has no ok row on a backend (NULL: any backend). */
static const char *why_missing(const sel *s, const char *kind, const char *method, const char *backend)
{
  for (int i = s->n - 1; i >= 0; i--) {
    row *r = s->v[i];
    if (strcmp(kind_of(r), kind) || strcmp(S(r, "method"), method)) continue;
    if (backend && strcmp(S(r, "backend"), backend)) continue;
    if (!is_ok(r)) {
      static char buf[700];
      snprintf(buf, sizeof buf, "%s: %s: %s", S(r, "backend"), S(r, "status"),
               *S(r, "reason") ? S(r, "reason") : "no reason recorded");
      return buf;
    }
  }
  return NULL;
}

static void short_device(const char *d, char *out, size_t len)
{
  snprintf(out, len, "%s", d);
  char *p = strstr(out, " (");
  if (p && p - out > 8) *p = 0;
  if (strlen(out) > 44) strcpy(out + 41, "...");
}

/* ----------------------------------------------------------------- tables */

static void add_table(mb_report *r, mb_rtable *t)
{
  if (t && r->ntables < 24) r->tables[r->ntables++] = t;
  else mb_rt_free(t);
}

static void add_fig(mb_report *r, mb_rfigure *g)
{
  if (g && r->nfigs < 12) r->figs[r->nfigs++] = g;
  else free(g);
}

static void table1(mb_report *rep, const sel *s, const char *be)
{
  static const char *const head[] = {"Method", "Data needed", "Target", "Forward passes", "Backward passes"};
  mb_rtable *t = mb_rt_new("table1", "Table 1: data needed and measured passes per forgetting run", 5, head);
  mname ms[32];
  int nm = methods_of(s, "main", ms, 32);
  for (int m = 0; m < nm; m++) {
    vec f = {.n = 0}, b = {.n = 0};
    row *any = NULL;
    for (int pass = 0; pass < 2 && !f.n; pass++)
      for (int i = 0; i < s->n; i++) {
        row *r = s->v[i];
        if (strcmp(kind_of(r), "main") || strcmp(S(r, "method"), ms[m].name) || !is_ok(r)) continue;
        if (pass == 0 && strcmp(S(r, "backend"), be)) continue;
        push(&f, N(r, "n_forward"));
        push(&b, N(r, "n_backward"));
        any = r;
      }
    int k = mb_rt_add_row(t);
    mb_rt_set(t, k, 0, "%s", ms[m].name);
    if (!any) {
      const char *why = why_missing(s, "main", ms[m].name, NULL);
      missing_cells(t, k, 1, 5, why);
      continue;
    }
    mb_rt_set(t, k, 1, "%s", *S(any, "method_needs") ? S(any, "method_needs") : "?");
    mb_rt_set(t, k, 2, "%s", *S(any, "method_target") ? S(any, "method_target") : "?");
    vec *v[2] = {&f, &b};
    for (int c = 0; c < 2; c++) {
      double lo = vmin(v[c]), hi = vmax(v[c]);
      if (lo == hi) mb_rt_set(t, k, 3 + c, "%.0f", lo);
      else mb_rt_set(t, k, 3 + c, "%.0f–%.0f", lo, hi);
    }
  }
  snprintf(t->caption, sizeof t->caption,
           "Passes are samples pushed through a forward (backward) pass inside the timed region, counted by the core; "
           "rows of backend %s where present.", be);
  add_table(rep, t);
}

static void table_metric(mb_report *rep, const sel *s, const char *be, const char *id, const char *title,
                         const char *key, const char *key_before)
{
  static const char *const head[] = {"Method", "Model", "Before", "After (mean ± std)", "Seeds"};
  mb_rtable *t = mb_rt_new(id, title, 5, head);
  mname ms[32];
  int nm = methods_of(s, "main", ms, 32);
  for (int m = 0; m < nm; m++) {
    vec a = {.n = 0}, b = {.n = 0};
    const char *model = "";
    uint64_t seeds[64];
    int ns = 0;
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (strcmp(kind_of(r), "main") || strcmp(S(r, "method"), ms[m].name) || !is_ok(r) ||
          strcmp(S(r, "backend"), be))
        continue;
      uint64_t sd = (uint64_t)N(r, "seed");
      int dup = 0;
      for (int k = 0; k < ns; k++) dup |= seeds[k] == sd;
      if (dup) continue;   /* one value per seed (several experiments may repeat a cell) */
      if (ns < 64) seeds[ns++] = sd;
      push(&a, N(r, key));
      push(&b, N(r, key_before));
      model = *S(r, "model_kind") ? S(r, "model_kind") : "";
    }
    int k = mb_rt_add_row(t);
    mb_rt_set(t, k, 0, "%s", ms[m].name);
    if (!a.n) {
      const char *why = why_missing(s, "main", ms[m].name, be);
      char buf[800];
      snprintf(buf, sizeof buf, "%s", why ? why : "");
      if (!why) snprintf(buf, sizeof buf, "%.31s has no result on %.31s", ms[m].name, be);
      missing_cells(t, k, 1, 5, buf);
      continue;
    }
    mb_rt_set(t, k, 1, "%s", model);
    if (b.n) mb_rt_set(t, k, 2, "%.1f ± %.1f", mean(&b), stdev(&b));
    else mb_rt_missing(t, k, 2, "no value before forgetting in the rows");
    mb_rt_set(t, k, 3, "%.1f ± %.1f", mean(&a), stdev(&a));
    mb_rt_set(t, k, 4, "%d", a.n);
  }
  snprintf(t->caption, sizeof t->caption,
           "Mean ± population standard deviation (ddof = 0) over seeds, test set, in %%; backend %s. "
           "\"plain\": the model trained without codes (t_mix = 0) the baselines use; \"mnemonic\": trained with codes.",
           be);
  add_table(rep, t);
}

static void figure3(mb_report *rep, const sel *s, const char *be)
{
  static const char *const head[] = {"Method", "Median (ms)", "Min (ms)", "Max (ms)", "Std (ms)", "Runs",
                                     "Transfers (ms)", "Timer"};
  mb_rtable *t = mb_rt_new("fig3", "Figure 3 data: forgetting time per method", 8, head);
  mb_rfigure *g = calloc(1, sizeof *g);
  mname ms[32];
  int nm = methods_of(s, "main", ms, 32);
  snprintf(g->id, sizeof g->id, "fig3");
  snprintf(g->title, sizeof g->title, "Figure 3: forgetting time per method (%s, log scale)", be);
  snprintf(g->xlabel, sizeof g->xlabel, "method");
  snprintf(g->ylabel, sizeof g->ylabel, "forgetting time (s)");
  g->bars = 1;
  g->logy = 1;
  g->cats = calloc((size_t)nm + 1, sizeof *g->cats);
  g->nseries = 1;
  mb_rseries *se = &g->series[0];
  snprintf(se->name, sizeof se->name, "median");
  se->y = calloc((size_t)nm + 1, sizeof(double));
  se->lo = calloc((size_t)nm + 1, sizeof(double));
  se->hi = calloc((size_t)nm + 1, sizeof(double));
  se->n = nm;
  g->ncats = nm;
  for (int m = 0; m < nm; m++) {
    vec med = {.n = 0}, lo = {.n = 0}, hi = {.n = 0}, sd = {.n = 0}, tr = {.n = 0};
    int runs = 0;
    const char *timer = "";
    int disagree = 0;
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (strcmp(kind_of(r), "main") || strcmp(S(r, "method"), ms[m].name) || !is_ok(r) ||
          strcmp(S(r, "backend"), be))
        continue;
      push(&med, N(r, "forget_s"));
      push(&lo, N(r, "forget_s_min"));
      push(&hi, N(r, "forget_s_max"));
      push(&sd, N(r, "forget_s_std"));
      push(&tr, N(r, "upload_s") + N(r, "download_s"));
      runs += isfinite(N(r, "repeats")) ? (int)N(r, "repeats") : 1;
      timer = S(r, "timer");
      const mb_jv *d = mb_jv_get(r, "timer_disagree");
      disagree |= d && d->t == MB_JV_BOOL && d->num != 0;
    }
    g->cats[m] = strdup(ms[m].name);
    int k = mb_rt_add_row(t);
    mb_rt_set(t, k, 0, "%s", ms[m].name);
    if (!med.n) {
      se->y[m] = se->lo[m] = se->hi[m] = NAN;
      const char *why = why_missing(s, "main", ms[m].name, be);
      missing_cells(t, k, 1, 8, why ? why : "no timed run on this backend");
      continue;
    }
    double mmed = median(&med), mlo = lo.n ? vmin(&lo) : NAN, mhi = hi.n ? vmax(&hi) : NAN;
    se->y[m] = mmed;
    se->lo[m] = mlo;
    se->hi[m] = mhi;
    char a[32];
    fmt_ms(mmed, a, sizeof a); mb_rt_set(t, k, 1, "%s", a);
    if (lo.n) { fmt_ms(mlo, a, sizeof a); mb_rt_set(t, k, 2, "%s", a); } else mb_rt_missing(t, k, 2, "min not recorded");
    if (hi.n) { fmt_ms(mhi, a, sizeof a); mb_rt_set(t, k, 3, "%s", a); } else mb_rt_missing(t, k, 3, "max not recorded");
    if (sd.n) { fmt_ms(median(&sd), a, sizeof a); mb_rt_set(t, k, 4, "%s", a); } else mb_rt_missing(t, k, 4, "std not recorded");
    mb_rt_set(t, k, 5, "%d", runs);
    if (tr.n) { fmt_ms(median(&tr), a, sizeof a); mb_rt_set(t, k, 6, "%s", a); }
    else mb_rt_missing(t, k, 6, "transfers not measured (row without bench timing)");
    mb_rt_set(t, k, 7, "%s%s", *timer ? timer : "host", disagree ? " (device/host differ > 20%)" : "");
  }
  snprintf(t->caption, sizeof t->caption,
           "Host clock around the synchronised forgetting region (algorithms.md §7.2), after warm-up runs; the median "
           "over seeds of each cell's median over repeats, min and max over every repeat, std = the median of the "
           "cells' population std. Transfers (weights up before, down after) are timed apart and not included.");
  snprintf(g->caption, sizeof g->caption, "%s", t->caption);
  add_fig(rep, g);
  add_table(rep, t);
}

typedef struct { char backend[32], device[160]; } bdev;

static void backend_table(mb_report *rep, const sel *s)
{
  static const char *const head[] = {"Method", "Backend", "Device", "Time (ms) median [min–max]", "Speed-up over ref",
                                     "Agreement with ref", "Transfers (ms)", "Timer"};
  mb_rtable *t = mb_rt_new("backends", "Backends: forgetting time, speed-up over ref and agreement with ref", 8, head);
  mname ms[32];
  int nm = methods_of(s, "main", ms, 32);
  /* backends in the preferred order, then any other */
  bdev bs[32];
  int nb = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (strcmp(kind_of(r), "main")) continue;
      const char *b = S(r, "backend");
      int pref = -1;
      for (int k = 0; k < 5; k++) if (strcmp(b, k_backend_pref[4 - k]) == 0) pref = k;
      if ((pass == 0) != (pref >= 0)) continue;
      int seen = 0;
      for (int k = 0; k < nb; k++) seen |= strcmp(bs[k].backend, b) == 0;
      if (!seen && nb < 32) {
        snprintf(bs[nb].backend, sizeof bs[nb].backend, "%s", b);
        bs[nb].device[0] = 0;
        nb++;
      }
    }
  /* ref, cpu, opencl, vulkan, cuda order */
  for (int i = 1; i < nb; i++) {
    bdev x = bs[i];
    int j = i - 1;
    int rank_x = 99;
    for (int k = 0; k < 5; k++) if (strcmp(x.backend, k_backend_pref[4 - k]) == 0) rank_x = k;
    while (j >= 0) {
      int rank_j = 99;
      for (int k = 0; k < 5; k++) if (strcmp(bs[j].backend, k_backend_pref[4 - k]) == 0) rank_j = k;
      if (rank_j <= rank_x) break;
      bs[j + 1] = bs[j];
      j--;
    }
    bs[j + 1] = x;
  }
  for (int m = 0; m < nm; m++) {
    vec refv = {.n = 0};
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (!strcmp(kind_of(r), "main") && !strcmp(S(r, "method"), ms[m].name) && is_ok(r) && !strcmp(S(r, "backend"), "ref"))
        push(&refv, N(r, "forget_s"));
    }
    double ref_med = median(&refv);
    for (int b = 0; b < nb; b++) {
      vec med = {.n = 0}, lo = {.n = 0}, hi = {.n = 0}, tr = {.n = 0};
      double dAR = 0, dEF = 0;
      int compared = 0, sign_diff = 0, disagree = 0;
      const char *device = "", *timer = "";
      int present = 0;
      for (int i = 0; i < s->n; i++) {
        row *r = s->v[i];
        if (strcmp(kind_of(r), "main") || strcmp(S(r, "method"), ms[m].name) || strcmp(S(r, "backend"), bs[b].backend))
          continue;
        present = 1;
        if (!is_ok(r)) continue;
        push(&med, N(r, "forget_s"));
        push(&lo, N(r, "forget_s_min"));
        push(&hi, N(r, "forget_s_max"));
        push(&tr, N(r, "upload_s") + N(r, "download_s"));
        device = S(r, "device");
        timer = S(r, "timer");
        const mb_jv *d = mb_jv_get(r, "timer_disagree");
        disagree |= d && d->t == MB_JV_BOOL && d->num != 0;
        const char *grp = S(r, "cell_group");
        if (!*grp || !strcmp(bs[b].backend, "ref")) continue;
        for (int j = 0; j < s->n; j++) {
          row *q = s->v[j];
          if (!is_ok(q) || strcmp(S(q, "backend"), "ref") || strcmp(S(q, "cell_group"), grp)) continue;
          double a = fabs(N(r, "A_R") - N(q, "A_R")), e = fabs(N(r, "E_F") - N(q, "E_F"));
          if (isfinite(a)) dAR = fmax(dAR, a);
          if (isfinite(e)) dEF = fmax(dEF, e);
          sign_diff += N(r, "sign") != N(q, "sign");
          compared++;
        }
      }
      if (!present) continue;
      int k = mb_rt_add_row(t);
      mb_rt_set(t, k, 0, "%s", ms[m].name);
      mb_rt_set(t, k, 1, "%s", bs[b].backend);
      if (!med.n) {
        const char *why = why_missing(s, "main", ms[m].name, bs[b].backend);
        missing_cells(t, k, 2, 8, why);
        continue;
      }
      char dev[64], a[32], l[32], h[32];
      short_device(device, dev, sizeof dev);
      mb_rt_set(t, k, 2, "%s", dev);
      double mm = median(&med);
      fmt_ms(mm, a, sizeof a);
      fmt_ms(vmin(&lo), l, sizeof l);
      fmt_ms(vmax(&hi), h, sizeof h);
      if (lo.n && hi.n) mb_rt_set(t, k, 3, "%s [%s–%s]", a, l, h);
      else mb_rt_set(t, k, 3, "%s", a);
      if (!strcmp(bs[b].backend, "ref")) {
        mb_rt_set(t, k, 4, "1.00×");
        mb_rt_set(t, k, 5, "(reference)");
      } else {
        if (isfinite(ref_med)) mb_rt_set(t, k, 4, "%.2f×", ref_med / mm);
        else mb_rt_missing(t, k, 4, "no ref row for this method (ref runs only the cheap cells)");
        if (compared)
          mb_rt_set(t, k, 5, "%s (|ΔA_R| %.2f, |ΔE_F| %.2f pp%s)",
                    dAR <= 1.0 && dEF <= 1.0 && !sign_diff ? "yes" : "NO", dAR, dEF, sign_diff ? ", ± sign differs" : "");
        else
          mb_rt_missing(t, k, 5, "no ref row for the same cell (same method, seed, model and settings)");
      }
      if (tr.n) { fmt_ms(median(&tr), a, sizeof a); mb_rt_set(t, k, 6, "%s", a); }
      else mb_rt_missing(t, k, 6, "transfers not measured (row without bench timing)");
      mb_rt_set(t, k, 7, "%s%s", *timer ? timer : "host", disagree ? " (device/host differ > 20%)" : "");
    }
  }
  snprintf(t->caption, sizeof t->caption,
           "Median host time over the cells (seeds) of each method on each backend, min and max over every repeat. "
           "Speed-up = ref median / median. Agreement: A_R and E_F after forgetting within 1.0 percentage point of ref "
           "and the same ± choice, for every cell that ran on both (largest difference shown). pocl and lavapipe are "
           "CPU implementations of OpenCL and Vulkan: their times are not GPU times.");
  add_table(rep, t);
}

static int cmp_dbl(const void *x, const void *y) { return cmp_d(x, y); }

static void table5(mb_report *rep, const sel *s)
{
  static const char *const head[] = {"t_mix", "Backend", "Test acc. before", "A_R after", "E_F after", "Time (ms)", "Seeds"};
  mb_rtable *t = mb_rt_new("table5", "Table 5: t_mix sweep (mnemonic codes)", 7, head);
  double tm[64];
  int nt = 0;
  char be[32] = "";
  for (int i = 0; i < s->n; i++) {
    row *r = s->v[i];
    if (strcmp(kind_of(r), "tmix") || !is_ok(r) || strcmp(S(r, "method"), "mnemonic")) continue;
    if (!be[0]) snprintf(be, sizeof be, "%s", S(r, "backend"));
    if (strcmp(S(r, "backend"), be)) continue;
    double x = N(r, "model_t_mix");
    int seen = 0;
    for (int k = 0; k < nt; k++) seen |= tm[k] == x;
    if (!seen && nt < 64 && isfinite(x)) tm[nt++] = x;
  }
  qsort(tm, (size_t)nt, sizeof tm[0], cmp_dbl);
  for (int k = 0; k < nt; k++) {
    vec acc = {.n = 0}, ar = {.n = 0}, ef = {.n = 0}, tt = {.n = 0};
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (strcmp(kind_of(r), "tmix") || !is_ok(r) || strcmp(S(r, "method"), "mnemonic") ||
          strcmp(S(r, "backend"), be) || N(r, "model_t_mix") != tm[k])
        continue;
      push(&acc, N(r, "test_acc"));
      push(&ar, N(r, "A_R"));
      push(&ef, N(r, "E_F"));
      push(&tt, N(r, "forget_s"));
    }
    int row_i = mb_rt_add_row(t);
    char a[32];
    mb_rt_set(t, row_i, 0, "%g", tm[k]);
    mb_rt_set(t, row_i, 1, "%s", be);
    mb_rt_set(t, row_i, 2, "%.1f ± %.1f", mean(&acc), stdev(&acc));
    mb_rt_set(t, row_i, 3, "%.1f ± %.1f", mean(&ar), stdev(&ar));
    mb_rt_set(t, row_i, 4, "%.1f ± %.1f", mean(&ef), stdev(&ef));
    fmt_ms(median(&tt), a, sizeof a);
    mb_rt_set(t, row_i, 5, "%s", a);
    mb_rt_set(t, row_i, 6, "%d", ar.n);
  }
  if (!nt) {
    int k = mb_rt_add_row(t);
    missing_cells(t, k, 0, 7, "no tmix rows (an [experiment] with kind = tmix)");
  }
  snprintf(t->caption, sizeof t->caption,
           "One model per t_mix and seed, forgetting with mnemonic codes; mean ± population std over seeds.");
  add_table(rep, t);
}

static void lambda_sweep(mb_report *rep, const sel *s)
{
  static const char *const head[] = {"Sweep", "λ1", "λ2", "A_R", "E_F", "A_R + E_F", "Seeds"};
  mb_rtable *t = mb_rt_new("lambda", "λ1 / λ2 sweep (mnemonic codes)", 7, head);
  char exps[8][64];
  int ne = 0;
  for (int i = 0; i < s->n; i++) {
    row *r = s->v[i];
    if (strcmp(kind_of(r), "lambda") || !is_ok(r)) continue;
    const char *e = S(r, "experiment");
    int seen = 0;
    for (int k = 0; k < ne; k++) seen |= !strcmp(exps[k], e);
    if (!seen && ne < 8) snprintf(exps[ne++], sizeof exps[0], "%s", e);
  }
  for (int e = 0; e < ne; e++) {
    /* which parameter varies in this experiment */
    static const char *const keys[] = {"lambda1", "lambda2"};
    double first[2] = {NAN, NAN};
    int varies[2] = {0, 0};
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (strcmp(kind_of(r), "lambda") || !is_ok(r) || strcmp(S(r, "experiment"), exps[e])) continue;
      for (int k = 0; k < 2; k++) {
        double v = param(r, keys[k]);
        if (isnan(first[k])) first[k] = v;
        else if (v != first[k]) varies[k] = 1;
      }
    }
    int vk = varies[1] && !varies[0] ? 1 : 0;
    double xs[64];
    int nx = 0;
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (strcmp(kind_of(r), "lambda") || !is_ok(r) || strcmp(S(r, "experiment"), exps[e])) continue;
      double v = param(r, keys[vk]);
      int seen = 0;
      for (int k = 0; k < nx; k++) seen |= xs[k] == v;
      if (!seen && nx < 64 && isfinite(v)) xs[nx++] = v;
    }
    qsort(xs, (size_t)nx, sizeof xs[0], cmp_dbl);
    mb_rfigure *g = calloc(1, sizeof *g);
    snprintf(g->id, sizeof g->id, "fig-%.24s", exps[e]);
    snprintf(g->title, sizeof g->title, "λ sweep (%.60s): A_R and E_F against %s", exps[e], vk ? "λ2" : "λ1");
    snprintf(g->xlabel, sizeof g->xlabel, "%s (log scale)", vk ? "λ2" : "λ1");
    snprintf(g->ylabel, sizeof g->ylabel, "%%, test set");
    g->logx = 1;
    g->nseries = 2;
    snprintf(g->series[0].name, sizeof g->series[0].name, "A_R");
    snprintf(g->series[1].name, sizeof g->series[1].name, "E_F");
    for (int k = 0; k < 2; k++) {
      g->series[k].x = calloc((size_t)nx + 1, sizeof(double));
      g->series[k].y = calloc((size_t)nx + 1, sizeof(double));
      g->series[k].n = nx;
    }
    g->series[1].dashed = 1;
    for (int x = 0; x < nx; x++) {
      vec ar = {.n = 0}, ef = {.n = 0};
      double other = NAN;
      for (int i = 0; i < s->n; i++) {
        row *r = s->v[i];
        if (strcmp(kind_of(r), "lambda") || !is_ok(r) || strcmp(S(r, "experiment"), exps[e]) ||
            param(r, keys[vk]) != xs[x])
          continue;
        push(&ar, N(r, "A_R"));
        push(&ef, N(r, "E_F"));
        other = param(r, keys[1 - vk]);
      }
      int k = mb_rt_add_row(t);
      mb_rt_set(t, k, 0, "%s", exps[e]);
      mb_rt_set(t, k, 1, "%g", vk ? other : xs[x]);
      mb_rt_set(t, k, 2, "%g", vk ? xs[x] : other);
      mb_rt_set(t, k, 3, "%.1f ± %.1f", mean(&ar), stdev(&ar));
      mb_rt_set(t, k, 4, "%.1f ± %.1f", mean(&ef), stdev(&ef));
      mb_rt_set(t, k, 5, "%.1f", mean(&ar) + mean(&ef));
      mb_rt_set(t, k, 6, "%d", ar.n);
      g->series[0].x[x] = g->series[1].x[x] = xs[x];
      g->series[0].y[x] = mean(&ar);
      g->series[1].y[x] = mean(&ef);
    }
    snprintf(g->caption, sizeof g->caption, "One-at-a-time sweep around the chosen values (paper Figs. 6-9); mean over seeds.");
    add_fig(rep, g);
  }
  if (!ne) {
    int k = mb_rt_add_row(t);
    missing_cells(t, k, 0, 7, "no lambda rows (an [experiment] with kind = lambda)");
  }
  snprintf(t->caption, sizeof t->caption,
           "The δ recomputation needs no retraining: one trained model per seed; mean ± population std over seeds.");
  add_table(rep, t);
}

static void fim_table(mb_report *rep, const sel *s)
{
  static const char *const head[] = {"FIM from", "Model", "Samples per class", "‖f̂_F − f_F‖₂ / P",
                                     "‖f̂_R − f_R‖₂ / P", "relative (f_F)", "Time (ms)"};
  mb_rtable *t = mb_rt_new("fim", "Figure 5 data: FIM approximation error against the full-data FIM", 7, head);
  vec cF = {.n = 0}, cR = {.n = 0}, crel = {.n = 0}, ct = {.n = 0};
  double ns[32];
  int nn = 0;
  vec dF[32], dR[32], drel[32], dt[32];
  memset(dF, 0, sizeof dF); memset(dR, 0, sizeof dR); memset(drel, 0, sizeof drel); memset(dt, 0, sizeof dt);
  int K = 0;
  double P = NAN;
  for (int i = 0; i < s->n; i++) {
    row *r = s->v[i];
    if (strcmp(kind_of(r), "fim") || !is_ok(r)) continue;
    push(&cF, N(r, "fim_codes_err_F"));
    push(&cR, N(r, "fim_codes_err_R"));
    push(&crel, N(r, "fim_codes_rel_F"));
    push(&ct, N(r, "fim_codes_s"));
    P = N(r, "n_params");
    K++;
    const mb_jv *sm = mb_jv_get(r, "fim_samples"), *eF = mb_jv_get(r, "fim_data_err_F"),
                *eR = mb_jv_get(r, "fim_data_err_R"), *rF = mb_jv_get(r, "fim_data_rel_F"),
                *tt = mb_jv_get(r, "fim_data_s");
    if (!sm || sm->t != MB_JV_ARR) continue;
    for (int j = 0; j < sm->n; j++) {
      double n = sm->items[j].num;
      int at = -1;
      for (int k = 0; k < nn; k++) if (ns[k] == n) at = k;
      if (at < 0 && nn < 32) { at = nn; ns[nn++] = n; }
      if (at < 0) continue;
      if (eF && j < eF->n && eF->items[j].t == MB_JV_NUM) push(&dF[at], eF->items[j].num);
      if (eR && j < eR->n && eR->items[j].t == MB_JV_NUM) push(&dR[at], eR->items[j].num);
      if (rF && j < rF->n && rF->items[j].t == MB_JV_NUM) push(&drel[at], rF->items[j].num);
      if (tt && j < tt->n && tt->items[j].t == MB_JV_NUM) push(&dt[at], tt->items[j].num);
    }
  }
  if (!K) {
    int k = mb_rt_add_row(t);
    missing_cells(t, k, 0, 7, "no fim rows (an [experiment] with kind = fim)");
    add_table(rep, t);
    return;
  }
  char a[32];
  int k = mb_rt_add_row(t);
  mb_rt_set(t, k, 0, "mnemonic codes");
  mb_rt_set(t, k, 1, "mnemonic");
  mb_rt_set(t, k, 2, "1 code");
  mb_rt_set(t, k, 3, "%.3e", mean(&cF));
  mb_rt_set(t, k, 4, "%.3e", mean(&cR));
  mb_rt_set(t, k, 5, "%.3f", mean(&crel));
  fmt_ms(median(&ct), a, sizeof a);
  mb_rt_set(t, k, 6, "%s", a);
  /* the draw sizes in increasing order, "all" (0) last */
  int ord[32];
  for (int i = 0; i < nn; i++) ord[i] = i;
  for (int i = 1; i < nn; i++) {
    int x = ord[i], j = i - 1;
    double kx = ns[x] == 0 ? INFINITY : ns[x];
    while (j >= 0 && (ns[ord[j]] == 0 ? INFINITY : ns[ord[j]]) > kx) { ord[j + 1] = ord[j]; j--; }
    ord[j + 1] = x;
  }
  mb_rfigure *g = calloc(1, sizeof *g);
  snprintf(g->id, sizeof g->id, "fig5");
  snprintf(g->title, sizeof g->title, "Figure 5: FIM approximation error (codes vs. real data)");
  snprintf(g->xlabel, sizeof g->xlabel, "training samples per class (log scale)");
  snprintf(g->ylabel, sizeof g->ylabel, "‖f̂ − f‖₂ / P (log scale)");
  g->logx = g->logy = 1;
  g->nseries = 4;
  static const char *const names[] = {"real data, f_F", "mnemonic codes, f_F", "real data, f_R", "mnemonic codes, f_R"};
  for (int q = 0; q < 4; q++) {
    snprintf(g->series[q].name, sizeof g->series[q].name, "%s", names[q]);
    g->series[q].x = calloc((size_t)nn + 2, sizeof(double));
    g->series[q].y = calloc((size_t)nn + 2, sizeof(double));
    g->series[q].dashed = q % 2;
  }
  double xmin = INFINITY, xmax = -INFINITY;
  for (int i = 0; i < nn; i++) {
    int j = ord[i];
    k = mb_rt_add_row(t);
    mb_rt_set(t, k, 0, "training data");
    mb_rt_set(t, k, 1, "plain");
    if (ns[j] == 0) mb_rt_set(t, k, 2, "all (the oracle itself)");
    else mb_rt_set(t, k, 2, "%g", ns[j]);
    mb_rt_set(t, k, 3, "%.3e", mean(&dF[j]));
    mb_rt_set(t, k, 4, "%.3e", mean(&dR[j]));
    mb_rt_set(t, k, 5, "%.3f", mean(&drel[j]));
    fmt_ms(median(&dt[j]), a, sizeof a);
    mb_rt_set(t, k, 6, "%s", a);
    if (ns[j] > 0) {
      for (int q = 0; q < 4; q += 2) {
        mb_rseries *se = &g->series[q];
        se->x[se->n] = ns[j];
        se->y[se->n++] = mean(q ? &dR[j] : &dF[j]);
      }
      xmin = fmin(xmin, ns[j]);
      xmax = fmax(xmax, ns[j]);
    }
  }
  if (xmin <= xmax) {
    for (int q = 1; q < 4; q += 2) {
      mb_rseries *se = &g->series[q];
      se->x[0] = xmin; se->x[1] = xmax;
      se->y[0] = se->y[1] = mean(q == 1 ? &cF : &cR);
      se->n = 2;
    }
  }
  snprintf(t->caption, sizeof t->caption,
           "algorithms.md §7.4: the codes' FIM on the mnemonic model and the FIM of n samples per class on the plain "
           "model, each against the full-data FIM of the same model; P = %.0f parameters, mean over %d seed(s). "
           "f_F (forget class) is the paper's choice, f_R is shown too. \"all\" is the oracle itself (error 0, not plotted).",
           P, K);
  snprintf(g->caption, sizeof g->caption, "%s", t->caption);
  add_fig(rep, g);
  add_table(rep, t);
}

int mb_report_build(const mb_rowset *rs, const char *backend, mb_report *r)
{
  memset(r, 0, sizeof *r);
  sel s = select_rows(rs);
  if (!s.v) return -1;
  const char *be = choose_backend(&s, backend);
  char be_copy[32];
  snprintf(be_copy, sizeof be_copy, "%s", be);
  snprintf(r->title, sizeof r->title, "mnemobench report");
  /* provenance summary */
  int ok = 0, skipped = 0, failed = 0;
  char seen[2048] = "";
  for (int i = 0; i < s.n; i++) {
    row *x = s.v[i];
    ok += is_ok(x);
    skipped += !strcmp(S(x, "status"), "skipped");
    failed += !strcmp(S(x, "status"), "failed");
    if (is_ok(x)) {
      char item[400];
      char dev[64];
      short_device(S(x, "device"), dev, sizeof dev);
      snprintf(item, sizeof item, "%s: %s; ", S(x, "backend"), dev);
      if (!strstr(seen, item) && strlen(seen) + strlen(item) < sizeof seen - 1) strcat(seen, item);
    }
  }
  row *first = NULL;
  for (int i = 0; i < s.n && !first; i++) if (is_ok(s.v[i])) first = s.v[i];
  /* the device list is cut to leave room for the rest of the line */
  snprintf(r->summary, sizeof r->summary,
           "%d rows (%d ok, %d skipped, %d failed; %d corrupt lines skipped). Data: %s. Commit %s (%s), %.0f threads. "
           "Paper tables from backend %s. Devices: %.1700s",
           s.n, ok, skipped, failed, rs->n_corrupt, first ? S(first, "dataset") : "—",
           first ? S(first, "commit") : "—", first ? S(first, "build") : "—",
           first ? N(first, "threads") : NAN, be_copy, seen[0] ? seen : "none");
  table1(r, &s, be_copy);
  table_metric(r, &s, be_copy, "table2", "Table 2: A_R after forgetting (accuracy on the remaining classes)", "A_R", "A_R_before");
  table_metric(r, &s, be_copy, "table3", "Table 3: E_F after forgetting (error on the forgotten class)", "E_F", "E_F_before");
  figure3(r, &s, be_copy);
  backend_table(r, &s);
  table5(r, &s);
  lambda_sweep(r, &s);
  fim_table(r, &s);
  free(s.v);
  return 0;
}

void mb_report_free(mb_report *r)
{
  for (int i = 0; i < r->ntables; i++) mb_rt_free(r->tables[i]);
  for (int i = 0; i < r->nfigs; i++) {
    mb_rfigure *g = r->figs[i];
    for (int c = 0; c < g->ncats; c++) free(g->cats[c]);
    free(g->cats);
    for (int k = 0; k < 8; k++) {
      free(g->series[k].x); free(g->series[k].y); free(g->series[k].lo); free(g->series[k].hi);
    }
    free(g);
  }
  memset(r, 0, sizeof *r);
}

/* ----------------------------------------------------------------- output */

static FILE *open_out(const char *dir, const char *name)
{
  char path[2048];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) fprintf(stderr, "mnemobench: cannot write %s: %s\n", path, strerror(errno));
  return f;
}

static const mb_rtable *find_table(const mb_report *r, const char *id)
{
  for (int i = 0; i < r->ntables; i++)
    if (!strcmp(r->tables[i]->id, id)) return r->tables[i];
  return NULL;
}

void mb_report_markdown(const mb_report *r, FILE *f)
{
  fprintf(f, "# %s\n\n%s\n\n", r->title, r->summary);
  for (int i = 0; i < r->ntables; i++) {
    const mb_rtable *t = r->tables[i];
    for (int g = 0; g < r->nfigs; g++) {
      const mb_rfigure *fg = r->figs[g];
      int here = (!strcmp(fg->id, "fig3") && !strcmp(t->id, "fig3")) || (!strcmp(fg->id, "fig5") && !strcmp(t->id, "fim")) ||
                 (!strncmp(fg->id, "fig-", 4) && !strcmp(t->id, "lambda"));
      if (here) fprintf(f, "![%s](%s.svg)\n\n", fg->title, fg->id);
    }
    mb_rt_markdown(t, f);
  }
}

static const char k_css[] =
  "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
  "table{border-collapse:collapse;margin:.5em 0 1em}th,td{padding:.25em .7em;border-bottom:1px solid #ccc}"
  "thead th{border-bottom:2px solid #333;text-align:left}td.num{text-align:right}"
  ".missing{color:#999}.caption,.notes{font-size:.85em;color:#555}figure{margin:1em 0}"
  "figcaption{font-size:.85em;color:#555;max-width:720px}";

int mb_report_write(const mb_report *r, const char *dir)
{
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "mnemobench: cannot create %s: %s\n", dir, strerror(errno));
    return -1;
  }
  FILE *f;
  if (!(f = open_out(dir, "report.md"))) return -1;
  mb_report_markdown(r, f);
  fclose(f);
  if (!(f = open_out(dir, "report.tex"))) return -1;
  fprintf(f, "%% mnemobench report: tables for a paper (\\usepackage{booktabs}).\n%% ");
  for (const char *p = r->summary; *p; p++) fputc(*p == '\n' ? ' ' : *p, f);
  fputs("\n%% Figures: the .svg files next to this one (convert to PDF, e.g. rsvg-convert -f pdf).\n\n", f);
  for (int i = 0; i < r->ntables; i++) mb_rt_latex(r->tables[i], f);
  fclose(f);
  for (int i = 0; i < r->ntables; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s.csv", r->tables[i]->id);
    if (!(f = open_out(dir, name))) return -1;
    mb_rt_csv(r->tables[i], f);
    fclose(f);
  }
  for (int i = 0; i < r->nfigs; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s.svg", r->figs[i]->id);
    if (!(f = open_out(dir, name))) return -1;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    mb_rf_svg(r->figs[i], f);
    fclose(f);
  }
  if (!(f = open_out(dir, "report.html"))) return -1;
  fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n",
          r->title, k_css);
  fprintf(f, "<h1>%s</h1>\n<p class=\"caption\">", r->title);
  for (const char *p = r->summary; *p; p++) {
    if (*p == '<') fputs("&lt;", f);
    else if (*p == '&') fputs("&amp;", f);
    else fputc(*p, f);
  }
  fputs("</p>\n", f);
  for (int i = 0; i < r->ntables; i++) {
    const mb_rtable *t = r->tables[i];
    for (int g = 0; g < r->nfigs; g++) {
      const mb_rfigure *fg = r->figs[g];
      int here = (!strcmp(fg->id, "fig3") && !strcmp(t->id, "fig3")) || (!strcmp(fg->id, "fig5") && !strcmp(t->id, "fim")) ||
                 (!strncmp(fg->id, "fig-", 4) && !strcmp(t->id, "lambda"));
      if (!here) continue;
      fprintf(f, "<figure id=\"%s\">\n", fg->id);
      mb_rf_svg(fg, f);
      fputs("<figcaption>", f);
      for (const char *p = fg->caption; *p; p++) {
        if (*p == '<') fputs("&lt;", f);
        else if (*p == '&') fputs("&amp;", f);
        else fputc(*p, f);
      }
      fputs("</figcaption>\n</figure>\n", f);
    }
    mb_rt_html(t, f);
  }
  /* marks the page once every figure has laid out with a non-empty box (the
   * headless-browser test reads this attribute back from the DOM) */
  fputs("<script>\nwindow.addEventListener('load',function(){var s=document.querySelectorAll('svg.mb-fig'),n=0,m=0;"
        "for(var i=0;i<s.length;i++){var b=s[i].getBBox();if(b.width>0&&b.height>0)n++;"
        "m+=s[i].querySelectorAll('rect.bar,circle.point,path.series').length;}"
        "document.body.setAttribute('data-figures',s.length);document.body.setAttribute('data-figures-rendered',n);"
        "document.body.setAttribute('data-marks',m);});\n</script>\n</body>\n</html>\n", f);
  fclose(f);
  (void)find_table;
  return 0;
}

/* ---------------------------------------------------------------- compare */

static int agrees(const sel *s, row *r, double tol, int *have)
{
  *have = 0;
  const char *grp = S(r, "cell_group");
  if (!*grp || !strcmp(S(r, "backend"), "ref")) return 1;
  for (int j = 0; j < s->n; j++) {
    row *q = s->v[j];
    if (!is_ok(q) || strcmp(S(q, "backend"), "ref") || strcmp(S(q, "cell_group"), grp)) continue;
    *have = 1;
    double a = fabs(N(r, "A_R") - N(q, "A_R")), e = fabs(N(r, "E_F") - N(q, "E_F"));
    return !(a > tol) && !(e > tol) && N(r, "sign") == N(q, "sign");
  }
  return 1;
}

int mb_report_compare(const mb_rowset *old_rows, const mb_rowset *new_rows, const mb_compare_opts *o, FILE *out)
{
  sel a = select_rows(old_rows), b = select_rows(new_rows);
  int regressions = 0, improvements = 0, compared = 0, missing = 0;
  fprintf(out, "| Cell | Finding | Old | New |\n| --- | --- | ---: | ---: |\n");
  for (int i = 0; i < a.n; i++) {
    row *x = a.v[i];
    const char *id = S(x, "cell");
    if (!*id || !is_ok(x)) continue;
    row *y = NULL;
    for (int j = 0; j < b.n; j++)
      if (!strcmp(S(b.v[j], "cell"), id)) { y = b.v[j]; break; }
    if (!y) { missing++; continue; }
    if (!is_ok(y)) {
      fprintf(out, "| %s | REGRESSION: now %s (%s) | ok | %s |\n", id, S(y, "status"), S(y, "reason"), S(y, "status"));
      regressions++;
      continue;
    }
    compared++;
    /* time: slower beyond both measured spreads and beyond the relative tolerance */
    double om = N(x, "forget_s"), nm = N(y, "forget_s");
    if (isfinite(om) && isfinite(nm) && om > 0) {
      double os = fmax(N(x, "forget_s_max") - om, 2 * N(x, "forget_s_std")),
             ns = fmax(nm - N(y, "forget_s_min"), 2 * N(y, "forget_s_std"));
      if (!isfinite(os)) os = 0;
      if (!isfinite(ns)) ns = 0;
      char so[32], sn[32];
      fmt_ms(om, so, sizeof so);
      fmt_ms(nm, sn, sizeof sn);
      if (nm - om > os + ns && nm > om * (1 + o->time_tol)) {
        fprintf(out, "| %s | REGRESSION: time %.2f× slower (beyond the measured spread) | %s ms | %s ms |\n", id, nm / om, so, sn);
        regressions++;
      } else if (om - nm > os + ns && om > nm * (1 + o->time_tol)) {
        fprintf(out, "| %s | improvement: time %.2f× faster | %s ms | %s ms |\n", id, om / nm, so, sn);
        improvements++;
      }
    }
    static const char *const metrics[] = {"A_R", "E_F"};
    for (int k = 0; k < 2; k++) {
      double ov = N(x, metrics[k]), nv = N(y, metrics[k]);
      if (isfinite(ov) && isfinite(nv) && ov - nv > o->acc_tol) {
        fprintf(out, "| %s | REGRESSION: %s fell by %.2f pp | %.2f | %.2f |\n", id, metrics[k], ov - nv, ov, nv);
        regressions++;
      } else if (isfinite(ov) && isfinite(nv) && nv - ov > o->acc_tol) {
        fprintf(out, "| %s | change: %s rose by %.2f pp | %.2f | %.2f |\n", id, metrics[k], nv - ov, ov, nv);
      }
    }
    int ho, hn, ao = agrees(&a, x, o->agree_tol, &ho), an = agrees(&b, y, o->agree_tol, &hn);
    if (ho && hn && ao && !an) {
      fprintf(out, "| %s | REGRESSION: no longer agrees with ref | agrees | differs |\n", id);
      regressions++;
    }
  }
  fprintf(out, "\n%d cells compared: %d regression(s), %d improvement(s); %d cell(s) of OLD missing from NEW.\n",
          compared, regressions, improvements, missing);
  fprintf(out, "Time: flagged when the new median exceeds the old by more than both spreads (max - median or 2 std) "
          "and by more than %.0f%%; A_R / E_F: a fall of more than %.2f pp; agreement: |ΔA_R|, |ΔE_F| <= %.2f pp and "
          "the same ± choice as ref.\n", 100 * o->time_tol, o->acc_tol, o->agree_tol);
  free(a.v);
  free(b.v);
  return regressions;
}
