/* Paper-style tables and figures from result rows (see report.h).  Every
 * number printed is read from a row; nothing is filled in. */
#include "harness/report_internal.h"

#include <stdint.h>
#include <stdlib.h>

/* The captions' word on the Network column (rp_several_networks). */
const char *const k_net_note =
    " Network: the model the method ran on (the rows' model); one row per method and network, never averaged across "
    "networks.";
/* The captions' word on entries split by settings (rp_several_settings). */
const char *const k_set_note =
    " [k=v]: rows of one method and network whose settings differ (spec and its hash, data, method "
    "parameters, epochs, t_mix, batch, lr, codes, width, samples per class, forget classes) are separate rows, "
    "named by the settings that differ, never averaged together.";

const char *rp_notes(const mname *ms, int n, int net)
{
  static char buf[1024];
  snprintf(buf, sizeof buf, "%s%s", net ? k_net_note : "", rp_several_settings(ms, n) ? k_set_note : "");
  return buf;
}

void rp_table1(mb_report *rep, const sel *s, const char *be)
{
  static const char *const head[] = {"Method", "Data needed", "Target", "Forward passes", "Backward passes"};
  mname ms[32];
  int nm = rp_methods_of(s, "main", ms, 32), net = rp_several_networks(ms, nm);
  mb_rtable *t = rp_rt_new_net("table1", "Table 1: data needed and measured passes per forgetting run", 5, head, net);
  for (int m = 0; m < nm; m++) {
    vec f = {.n = 0}, b = {.n = 0};
    row *any = NULL;
    for (int pass = 0; pass < 2 && !f.n; pass++)
      for (int i = 0; i < s->n; i++) {
        row *r = s->v[i];
        if (!rp_is_entry(r, "main", &ms[m]) || !is_ok(r)) continue;
        if (pass == 0 && strcmp(S(r, "backend"), be)) continue;
        push(&f, N(r, "n_forward"));
        push(&b, N(r, "n_backward"));
        any = r;
      }
    int k = mb_rt_add_row(t);
    mb_rt_set(t, k, 0, "%s", ms[m].label);
    if (net) mb_rt_set(t, k, 1, "%s", ms[m].net);
    if (!any) {
      const char *why = rp_why_missing(s, "main", &ms[m], NULL);
      missing_cells(t, k, 1 + net, 5 + net, why);
      continue;
    }
    mb_rt_set(t, k, 1 + net, "%s", *S(any, "method_needs") ? S(any, "method_needs") : "?");
    mb_rt_set(t, k, 2 + net, "%s", *S(any, "method_target") ? S(any, "method_target") : "?");
    vec *v[2] = {&f, &b};
    for (int c = 0; c < 2; c++) {
      double lo = vmin(v[c]), hi = vmax(v[c]);
      if (lo == hi) mb_rt_set(t, k, 3 + net + c, "%.0f", lo);
      else mb_rt_set(t, k, 3 + net + c, "%.0f–%.0f", lo, hi);
    }
  }
  snprintf(t->caption, sizeof t->caption,
           "Passes are samples pushed through a forward (backward) pass inside the timed region, counted by the core; "
           "rows of backend %s where present.%s", be, rp_notes(ms, nm, net));
  rp_add_table(rep, t);
}

void rp_table_metric(mb_report *rep, const sel *s, const char *be, const char *id, const char *title,
                         const char *key, const char *key_before)
{
  static const char *const head[] = {"Method", "Model", "Before", "After (mean ± std)", "Seeds"};
  mname ms[32];
  int nm = rp_methods_of(s, "main", ms, 32), net = rp_several_networks(ms, nm);
  mb_rtable *t = rp_rt_new_net(id, title, 5, head, net);
  for (int m = 0; m < nm; m++) {
    vec a = {.n = 0}, b = {.n = 0};
    const char *model = "";
    uint64_t seeds[64];
    int ns = 0;
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (!rp_is_entry(r, "main", &ms[m]) || !is_ok(r) || strcmp(S(r, "backend"), be)) continue;
      double sv = N(r, "seed");
      int has_seed = sv >= 0 && sv < 0x1p64;   /* a row without a usable seed repeats none */
      uint64_t sd = has_seed ? (uint64_t)sv : 0;
      int dup = 0;
      for (int k = 0; k < ns; k++) dup |= has_seed && seeds[k] == sd;
      if (dup) continue;   /* one value per seed (several experiments may repeat a cell) */
      if (has_seed && ns < 64) seeds[ns++] = sd;
      push(&a, N(r, key));
      push(&b, N(r, key_before));
      model = *S(r, "model_kind") ? S(r, "model_kind") : "";
    }
    int k = mb_rt_add_row(t);
    mb_rt_set(t, k, 0, "%s", ms[m].label);
    if (net) mb_rt_set(t, k, 1, "%s", ms[m].net);
    if (!a.n) {
      const char *why = rp_why_missing(s, "main", &ms[m], be);
      char buf[800];
      snprintf(buf, sizeof buf, "%s", why ? why : "");
      if (!why) snprintf(buf, sizeof buf, "%.31s has no result on %.31s", ms[m].name, be);
      missing_cells(t, k, 1 + net, 5 + net, buf);
      continue;
    }
    mb_rt_set(t, k, 1 + net, "%s", model);
    if (b.n) mb_rt_set(t, k, 2 + net, "%.1f ± %.1f", mean(&b), stdev(&b));
    else mb_rt_missing(t, k, 2 + net, "no value before forgetting in the rows");
    mb_rt_set(t, k, 3 + net, "%.1f ± %.1f", mean(&a), stdev(&a));
    mb_rt_set(t, k, 4 + net, "%d", a.n);
  }
  snprintf(t->caption, sizeof t->caption,
           "Mean ± population standard deviation (ddof = 0) over seeds, test set, in %%; backend %s. "
           "\"plain\": the model trained without codes (t_mix = 0) the baselines use; \"mnemonic\": trained with codes.%s",
           be, rp_notes(ms, nm, net));
  rp_add_table(rep, t);
}

void rp_figure3(mb_report *rep, const sel *s, const char *be)
{
  static const char *const head[] = {"Method", "Median (ms)", "Min (ms)", "Max (ms)", "Std (ms)", "Runs",
                                     "Transfers (ms)", "Timer"};
  mname ms[32];
  int nm = rp_methods_of(s, "main", ms, 32), net = rp_several_networks(ms, nm);
  mb_rtable *t = rp_rt_new_net("fig3", "Figure 3 data: forgetting time per method", 8, head, net);
  mb_rfigure *g = calloc(1, sizeof *g);
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
    long long runs = 0;
    const char *timer = "";
    int disagree = 0;
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (!rp_is_entry(r, "main", &ms[m]) || !is_ok(r) || strcmp(S(r, "backend"), be)) continue;
      push(&med, N(r, "forget_s"));
      push(&lo, N(r, "forget_s_min"));
      push(&hi, N(r, "forget_s_max"));
      push(&sd, N(r, "forget_s_std"));
      push(&tr, N(r, "upload_s") + N(r, "download_s"));
      runs += rp_int(N(r, "repeats"), 0, 1 << 30, 1);
      timer = S(r, "timer");
      const mb_jv *d = mb_jv_get(r, "timer_disagree");
      disagree |= d && d->t == MB_JV_BOOL && d->num != 0;
    }
    char label[160];
    rp_entry_label(ms, nm, m, net, label, sizeof label);
    g->cats[m] = strdup(label);
    int k = mb_rt_add_row(t);
    mb_rt_set(t, k, 0, "%s", ms[m].label);
    if (net) mb_rt_set(t, k, 1, "%s", ms[m].net);
    if (!med.n) {
      se->y[m] = se->lo[m] = se->hi[m] = NAN;
      const char *why = rp_why_missing(s, "main", &ms[m], be);
      missing_cells(t, k, 1 + net, 8 + net, why ? why : "no timed run on this backend");
      continue;
    }
    double mmed = median(&med), mlo = lo.n ? vmin(&lo) : NAN, mhi = hi.n ? vmax(&hi) : NAN;
    se->y[m] = mmed;
    se->lo[m] = mlo;
    se->hi[m] = mhi;
    char a[32];
    rp_fmt_ms(mmed, a, sizeof a); mb_rt_set(t, k, 1 + net, "%s", a);
    if (lo.n) { rp_fmt_ms(mlo, a, sizeof a); mb_rt_set(t, k, 2 + net, "%s", a); } else mb_rt_missing(t, k, 2 + net, "min not recorded");
    if (hi.n) { rp_fmt_ms(mhi, a, sizeof a); mb_rt_set(t, k, 3 + net, "%s", a); } else mb_rt_missing(t, k, 3 + net, "max not recorded");
    if (sd.n) { rp_fmt_ms(median(&sd), a, sizeof a); mb_rt_set(t, k, 4 + net, "%s", a); } else mb_rt_missing(t, k, 4 + net, "std not recorded");
    mb_rt_set(t, k, 5 + net, "%lld", runs);
    if (tr.n) { rp_fmt_ms(median(&tr), a, sizeof a); mb_rt_set(t, k, 6 + net, "%s", a); }
    else mb_rt_missing(t, k, 6 + net, "transfers not measured (row without bench timing)");
    mb_rt_set(t, k, 7 + net, "%s%s", *timer ? timer : "host", disagree ? " (device/host differ > 20%)" : "");
  }
  snprintf(t->caption, sizeof t->caption,
           "Host clock around the synchronised forgetting region (docs/specification.md §7.2), after warm-up runs; the median "
           "over seeds of each cell's median over repeats, min and max over every repeat, std = the median of the "
           "cells' population std. Transfers (weights up before, down after) are timed apart and not included.%s",
           rp_notes(ms, nm, net));
  snprintf(g->caption, sizeof g->caption, "%s", t->caption);
  rp_add_fig(rep, g);
  rp_add_table(rep, t);
}

typedef struct { char backend[32], device[160]; } bdev;

void rp_backend_table(mb_report *rep, const sel *s)
{
  static const char *const head[] = {"Method", "Backend", "Device", "Time (ms) median [min–max]", "Speed-up over ref",
                                     "Agreement with ref", "Transfers (ms)", "Timer"};
  mname ms[32];
  int nm = rp_methods_of(s, "main", ms, 32), net = rp_several_networks(ms, nm);
  mb_rtable *t = rp_rt_new_net("backends", "Backends: forgetting time, speed-up over ref and agreement with ref", 8, head,
                               net);
  /* backends in table order (rp_backend_rank), unknown ones after */
  bdev bs[32];
  int nb = 0;
  /* keyed by (backend, device): two GPUs of one API are two columns; a row
   * without a device (skipped) joins its backend's first entry */
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (strcmp(rp_kind_of(r), "main")) continue;
      const char *b = S(r, "backend"), *d = S(r, "device");
      if (pass == 0 && !*d) continue;
      int seen = 0;
      for (int k = 0; k < nb; k++) seen |= !strcmp(bs[k].backend, b) && (!*d || !strncmp(bs[k].device, d, sizeof bs[k].device - 1));
      if (!seen && nb < 32) {
        snprintf(bs[nb].backend, sizeof bs[nb].backend, "%s", b);
        snprintf(bs[nb].device, sizeof bs[nb].device, "%s", d);
        nb++;
      }
    }
  for (int i = 1; i < nb; i++) {   /* stable: equal ranks keep their order */
    bdev x = bs[i];
    int j = i - 1, rank_x = rp_backend_rank(x.backend);
    while (j >= 0 && rp_backend_rank(bs[j].backend) > rank_x) {
      bs[j + 1] = bs[j];
      j--;
    }
    bs[j + 1] = x;
  }
  for (int m = 0; m < nm; m++) {
    vec refv = {.n = 0};
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (rp_is_entry(r, "main", &ms[m]) && is_ok(r) && !strcmp(S(r, "backend"), "ref")) push(&refv, N(r, "forget_s"));
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
        if (!rp_is_entry(r, "main", &ms[m]) || strcmp(S(r, "backend"), bs[b].backend) ||
            (*S(r, "device") && strncmp(S(r, "device"), bs[b].device, sizeof bs[b].device - 1)))
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
      mb_rt_set(t, k, 0, "%s", ms[m].label);
      if (net) mb_rt_set(t, k, 1, "%s", ms[m].net);
      mb_rt_set(t, k, 1 + net, "%s", bs[b].backend);
      if (!med.n) {
        const char *why = rp_why_missing(s, "main", &ms[m], bs[b].backend);
        missing_cells(t, k, 2 + net, 8 + net, why);
        continue;
      }
      char dev[64], a[32], l[32], h[32];
      rp_short_device(device, dev, sizeof dev);
      mb_rt_set(t, k, 2 + net, "%s", dev);
      double mm = median(&med);
      rp_fmt_ms(mm, a, sizeof a);
      rp_fmt_ms(vmin(&lo), l, sizeof l);
      rp_fmt_ms(vmax(&hi), h, sizeof h);
      if (lo.n && hi.n) mb_rt_set(t, k, 3 + net, "%s [%s–%s]", a, l, h);
      else mb_rt_set(t, k, 3 + net, "%s", a);
      if (!strcmp(bs[b].backend, "ref")) {
        mb_rt_set(t, k, 4 + net, "1.00×");
        mb_rt_set(t, k, 5 + net, "(reference)");
      } else {
        if (isfinite(ref_med)) mb_rt_set(t, k, 4 + net, "%.2f×", ref_med / mm);
        else mb_rt_missing(t, k, 4 + net, "no ref row for this method (ref runs only the cheap cells)");
        if (compared)
          mb_rt_set(t, k, 5 + net, "%s (|ΔA_R| %.2f, |ΔE_F| %.2f pp%s)",
                    dAR <= 1.0 && dEF <= 1.0 && !sign_diff ? "yes" : "NO", dAR, dEF, sign_diff ? ", ± sign differs" : "");
        else
          mb_rt_missing(t, k, 5 + net, "no ref row for the same cell (same method, seed, model and settings)");
      }
      if (tr.n) { rp_fmt_ms(median(&tr), a, sizeof a); mb_rt_set(t, k, 6 + net, "%s", a); }
      else mb_rt_missing(t, k, 6 + net, "transfers not measured (row without bench timing)");
      mb_rt_set(t, k, 7 + net, "%s%s", *timer ? timer : "host", disagree ? " (device/host differ > 20%)" : "");
    }
  }
  snprintf(t->caption, sizeof t->caption,
           "Median host time over the cells (seeds) of each method on each backend, min and max over every repeat. "
           "Speed-up = ref median / median. Agreement: A_R and E_F after forgetting within 1.0 percentage point of ref "
           "and the same ± choice, for every cell that ran on both (largest difference shown). pocl and lavapipe are "
           "CPU implementations of OpenCL and Vulkan: their times are not GPU times.%s", rp_notes(ms, nm, net));
  rp_add_table(rep, t);
}


/* Distinct seeds (the "Seeds" columns count seeds, not rows: two backends or two
 * devices of one seed are one seed). */
typedef struct {
  double v[128];
  int n;
} seedset;

static void add_seed(seedset *ss, row *r)
{
  double sd = N(r, "seed");
  if (!isfinite(sd)) return;
  for (int k = 0; k < ss->n; k++)
    if (ss->v[k] == sd) return;
  if (ss->n < 128) ss->v[ss->n++] = sd;
}

/* The backends of the ok rows of a kind, in table order (rp_backend_rank). */
static int backends_of(const sel *s, const char *kind, int (*keep)(row *), char out[][32], int max)
{
  int n = 0;
  for (int i = 0; i < s->n; i++) {
    row *r = s->v[i];
    if (strcmp(rp_kind_of(r), kind) || !is_ok(r) || (keep && !keep(r))) continue;
    int seen = 0;
    for (int k = 0; k < n; k++) seen |= !strcmp(out[k], S(r, "backend"));
    if (!seen && n < max) snprintf(out[n++], 32, "%s", S(r, "backend"));
  }
  for (int i = 1; i < n; i++) {   /* stable */
    char x[32];
    memcpy(x, out[i], sizeof x);
    int j = i - 1;
    while (j >= 0 && rp_backend_rank(out[j]) > rp_backend_rank(x)) { memcpy(out[j + 1], out[j], 32); j--; }
    memcpy(out[j + 1], x, 32);
  }
  return n;
}

/* A row of the method that uses the codes model (older rows: the method that
 * needs no data). */
static int codes_method(row *r)
{
  const mb_jv *u = mb_jv_get(r, "method_uses_codes_model");
  if (u && u->t == MB_JV_BOOL) return u->num != 0;
  return !strcmp(S(r, "method_needs"), "none (codes)");
}

void rp_table5(mb_report *rep, const sel *s)
{
  static const char *const head[] = {"t_mix", "Backend", "Test acc. before", "A_R after", "E_F after", "Time (ms)", "Seeds"};
  double tm[64];
  int nt = 0;
  char bes[16][32], nets[8][96];
  int nn = 0, nb = backends_of(s, "tmix", codes_method, bes, 16);
  for (int i = 0; i < s->n; i++) {
    row *r = s->v[i];
    if (strcmp(rp_kind_of(r), "tmix") || !is_ok(r) || !codes_method(r)) continue;
    double x = N(r, "model_t_mix");
    int seen = 0;
    for (int k = 0; k < nt; k++) seen |= tm[k] == x;
    if (!seen && nt < 64 && isfinite(x)) tm[nt++] = x;
    char net[96];
    rp_network_of(r, net, sizeof net);
    seen = 0;
    for (int k = 0; k < nn; k++) seen |= !strcmp(nets[k], net);
    if (!seen && nn < 8) snprintf(nets[nn++], sizeof nets[0], "%s", net);
  }
  qsort(tm, (size_t)nt, sizeof tm[0], rp_cmp_dbl);
  /* one block of rows per network when the sweeps ran on several (a Network column),
   * within it one block per backend: backends are never pooled */
  int net = nn > 1;
  mb_rtable *t = rp_rt_new_net("table5", "Table 5: t_mix sweep (mnemonic codes)", 7, head, net);
  for (int q = 0; q < (nn ? nn : 1); q++)
    for (int b = 0; b < nb; b++)
      for (int k = 0; k < nt; k++) {
        vec acc = {.n = 0}, ar = {.n = 0}, ef = {.n = 0}, tt = {.n = 0};
        seedset seeds = {.n = 0};
        for (int i = 0; i < s->n; i++) {
          row *r = s->v[i];
          if (strcmp(rp_kind_of(r), "tmix") || !is_ok(r) || !codes_method(r) ||
              strcmp(S(r, "backend"), bes[b]) || N(r, "model_t_mix") != tm[k])
            continue;
          char rn[96];
          rp_network_of(r, rn, sizeof rn);
          if (net && strcmp(rn, nets[q])) continue;
          push(&acc, N(r, "test_acc"));
          push(&ar, N(r, "A_R"));
          push(&ef, N(r, "E_F"));
          push(&tt, N(r, "forget_s"));
          add_seed(&seeds, r);
        }
        if (!ar.n) continue;   /* this t_mix was not swept on this network and backend */
        int row_i = mb_rt_add_row(t);
        char a[32];
        mb_rt_set(t, row_i, 0, "%g", tm[k]);
        if (net) mb_rt_set(t, row_i, 1, "%s", nets[q]);
        mb_rt_set(t, row_i, 1 + net, "%s", bes[b]);
        mb_rt_set(t, row_i, 2 + net, "%.1f ± %.1f", mean(&acc), stdev(&acc));
        mb_rt_set(t, row_i, 3 + net, "%.1f ± %.1f", mean(&ar), stdev(&ar));
        mb_rt_set(t, row_i, 4 + net, "%.1f ± %.1f", mean(&ef), stdev(&ef));
        rp_fmt_ms(median(&tt), a, sizeof a);
        mb_rt_set(t, row_i, 5 + net, "%s", a);
        mb_rt_set(t, row_i, 6 + net, "%d", seeds.n ? seeds.n : ar.n);
      }
  if (!nt) {
    int k = mb_rt_add_row(t);
    missing_cells(t, k, 0, 7, "no tmix rows (an [experiment] with kind = tmix)");
  }
  snprintf(t->caption, sizeof t->caption,
           "One model per t_mix and seed, forgetting with mnemonic codes; mean ± population std over seeds.%s",
           net ? k_net_note : "");
  rp_add_table(rep, t);
}

void rp_lambda_sweep(mb_report *rep, const sel *s, const char *be)
{
  static const char *const head[] = {"Sweep", "Backend", "λ1", "λ2", "A_R", "E_F", "A_R + E_F", "Seeds"};
  mb_rtable *t = mb_rt_new("lambda", "λ1 / λ2 sweep (mnemonic codes)", 8, head);
  char bes[16][32];
  int nb = backends_of(s, "lambda", NULL, bes, 16);
  char exps[8][64];
  int ne = 0;
  for (int i = 0; i < s->n; i++) {
    row *r = s->v[i];
    if (strcmp(rp_kind_of(r), "lambda") || !is_ok(r)) continue;
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
      if (strcmp(rp_kind_of(r), "lambda") || !is_ok(r) || strcmp(S(r, "experiment"), exps[e])) continue;
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
      if (strcmp(rp_kind_of(r), "lambda") || !is_ok(r) || strcmp(S(r, "experiment"), exps[e])) continue;
      double v = param(r, keys[vk]);
      int seen = 0;
      for (int k = 0; k < nx; k++) seen |= xs[k] == v;
      if (!seen && nx < 64 && isfinite(v)) xs[nx++] = v;
    }
    qsort(xs, (size_t)nx, sizeof xs[0], rp_cmp_dbl);
    /* the figure draws one backend's rows: the paper tables' if it ran this sweep */
    const char *fb = NULL;
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (strcmp(rp_kind_of(r), "lambda") || !is_ok(r) || strcmp(S(r, "experiment"), exps[e])) continue;
      if (!strcmp(S(r, "backend"), be)) fb = be;
    }
    for (int b = 0; b < nb && !fb; b++)
      for (int i = 0; i < s->n && !fb; i++) {
        row *r = s->v[i];
        if (!strcmp(rp_kind_of(r), "lambda") && is_ok(r) && !strcmp(S(r, "experiment"), exps[e]) &&
            !strcmp(S(r, "backend"), bes[b]))
          fb = bes[b];
      }
    if (!fb) fb = be;
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
    for (int b = 0; b < nb; b++)
      for (int x = 0; x < nx; x++) {
        vec ar = {.n = 0}, ef = {.n = 0};
        seedset seeds = {.n = 0};
        double other = NAN;
        for (int i = 0; i < s->n; i++) {
          row *r = s->v[i];
          if (strcmp(rp_kind_of(r), "lambda") || !is_ok(r) || strcmp(S(r, "experiment"), exps[e]) ||
              strcmp(S(r, "backend"), bes[b]) || param(r, keys[vk]) != xs[x])
            continue;
          push(&ar, N(r, "A_R"));
          push(&ef, N(r, "E_F"));
          add_seed(&seeds, r);
          other = param(r, keys[1 - vk]);
        }
        if (!strcmp(bes[b], fb)) {
          g->series[0].x[x] = g->series[1].x[x] = xs[x];
          g->series[0].y[x] = ar.n ? mean(&ar) : NAN;
          g->series[1].y[x] = ef.n ? mean(&ef) : NAN;
        }
        if (!ar.n) continue;   /* not run on this backend */
        int k = mb_rt_add_row(t);
        mb_rt_set(t, k, 0, "%s", exps[e]);
        mb_rt_set(t, k, 1, "%s", bes[b]);
        mb_rt_set(t, k, 2, "%g", vk ? other : xs[x]);
        mb_rt_set(t, k, 3, "%g", vk ? xs[x] : other);
        mb_rt_set(t, k, 4, "%.1f ± %.1f", mean(&ar), stdev(&ar));
        mb_rt_set(t, k, 5, "%.1f ± %.1f", mean(&ef), stdev(&ef));
        mb_rt_set(t, k, 6, "%.1f", mean(&ar) + mean(&ef));
        mb_rt_set(t, k, 7, "%d", seeds.n ? seeds.n : ar.n);
      }
    snprintf(g->caption, sizeof g->caption, "One-at-a-time sweep around the chosen values (paper Figs. 6-9); mean over seeds, backend %s.", fb);
    rp_add_fig(rep, g);
  }
  if (!ne) {
    int k = mb_rt_add_row(t);
    missing_cells(t, k, 0, 8, "no lambda rows (an [experiment] with kind = lambda)");
  }
  snprintf(t->caption, sizeof t->caption,
           "The δ recomputation needs no retraining: one trained model per seed; mean ± population std over seeds, one row "
           "per backend (Seeds: distinct seeds).");
  rp_add_table(rep, t);
}

void rp_fim_table(mb_report *rep, const sel *s)
{
  static const char *const head[] = {"FIM from", "Model", "Samples per class", "‖f̂_F − f_F‖₂ / P",
                                     "‖f̂_R − f_R‖₂ / P", "relative (f_F)", "Time (ms)"};
  mb_rtable *t = mb_rt_new("fim", "Figure 5 data: FIM approximation error against the full-data FIM", 7, head);
  vec cF = {.n = 0}, cR = {.n = 0}, crel = {.n = 0}, ct = {.n = 0};
  double ns[32];
  int nn = 0;
  vec dF[32], dR[32], drel[32], dt[32];
  memset(dF, 0, sizeof dF); memset(dR, 0, sizeof dR); memset(drel, 0, sizeof drel); memset(dt, 0, sizeof dt);
  int K = 0, cold = 0;
  double P = NAN;
  for (int i = 0; i < s->n; i++) {
    row *r = s->v[i];
    if (strcmp(rp_kind_of(r), "fim") || !is_ok(r)) continue;
    cold += !mb_jv_get(r, "fim_timing");   /* rows from before the warm-up was added */
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
    rp_add_table(rep, t);
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
  rp_fmt_ms(median(&ct), a, sizeof a);
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
    rp_fmt_ms(median(&dt[j]), a, sizeof a);
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
           "docs/specification.md §7.4: the codes' FIM on the mnemonic model and the FIM of n samples per class on the plain "
           "model, each against the full-data FIM of the same model; P = %.0f parameters, mean over %d seed(s). "
           "f_F (forget class) is the paper's choice, f_R is shown too. \"all\" is the oracle itself (error 0, not plotted). "
           "Time: %s, host clock around a synchronised region, mean over seeds.",
           P, K, cold ? "one cold run of each estimator (first-use compilation included) in some rows"
                      : "one run of each estimator after an untimed warm-up");
  snprintf(g->caption, sizeof g->caption, "%s", t->caption);
  rp_add_fig(rep, g);
  rp_add_table(rep, t);
}

