/* The cross-vendor section (docs/architecture.md §8.4): the same methods on
 * several devices and APIs, from rows of one or several results files.
 *
 * A platform is (hardware, API): the hardware is the row's device name, except
 * that every CPU-type device of one results file (the cpu backend, pocl,
 * lavapipe) is that machine's host CPU; the API is the backend.  ref, the f64
 * oracle, is the speed-up baseline and not a platform.  For method m on
 * platform p, t = the median forget_s over its cells; the efficiency is
 * e = (fastest t of m over the APIs of the same hardware) / t, 0 where m has no
 * ok row on p; Pennycook's performance portability PP = |H| / Σ_p 1/e_p over
 * the platforms H, 0 when any e_p is 0.  The suite is one application whose
 * time on a platform is the sum of the methods' times (failing on a platform
 * where any method failed). */
#include "harness/report_internal.h"

#include <stdint.h>
#include <stdlib.h>

#define XV_MAXP 32
#define XV_MAXM 32

typedef struct {
  char hw[200];      /* hardware key, as shown */
  char api[32];      /* backend */
  char driver[160];
  double t[XV_MAXM]; /* median forget_s per method (NaN: none) */
  int failed[XV_MAXM];
} platform;

typedef struct {
  platform p[XV_MAXP];
  int np;
  mname ms[XV_MAXM];
  int nm;
  int net;           /* the methods ran on several networks: a Network column */
  double ref_t[XV_MAXM];
} xv;

static int file_of(row *r) { return ((const mb_row *)r)->file; }

static void hw_of(row *r, int nfiles, const char *const *names, char *out, size_t len)
{
  if (!strcmp(S(r, "device_type"), "cpu")) {
    int f = file_of(r);
    if (nfiles > 1 && names && f >= 0 && f < nfiles) snprintf(out, len, "host CPU of %s", names[f]);
    else snprintf(out, len, "host CPU");
  } else {
    rp_short_device(S(r, "device"), out, len);
  }
}

static int platform_of(xv *x, const char *hw, const char *api)
{
  for (int i = 0; i < x->np; i++)
    if (!strcmp(x->p[i].hw, hw) && !strcmp(x->p[i].api, api)) return i;
  if (x->np == XV_MAXP) return -1;
  platform *p = &x->p[x->np];
  memset(p, 0, sizeof *p);
  snprintf(p->hw, sizeof p->hw, "%s", hw);
  snprintf(p->api, sizeof p->api, "%s", api);
  for (int m = 0; m < XV_MAXM; m++) p->t[m] = NAN;
  return x->np++;
}

/* Platforms and per-method medians from the main rows. */
static void collect(const sel *s, int nfiles, const char *const *names, xv *x)
{
  memset(x, 0, sizeof *x);
  x->nm = rp_methods_of(s, "main", x->ms, XV_MAXM);
  x->net = rp_several_networks(x->ms, x->nm);
  for (int m = 0; m < x->nm; m++) {
    vec rv = {.n = 0};
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (rp_is_entry(r, "main", &x->ms[m]) && is_ok(r) && !strcmp(S(r, "backend"), "ref")) push(&rv, N(r, "forget_s"));
    }
    x->ref_t[m] = rv.n ? median(&rv) : NAN;
  }
  /* platforms: every (hardware, API) with an ok main row */
  for (int i = 0; i < s->n; i++) {
    row *r = s->v[i];
    if (strcmp(rp_kind_of(r), "main") || !is_ok(r) || !strcmp(S(r, "backend"), "ref")) continue;
    char hw[200];
    hw_of(r, nfiles, names, hw, sizeof hw);
    int k = platform_of(x, hw, S(r, "backend"));
    if (k >= 0 && !x->p[k].driver[0]) snprintf(x->p[k].driver, sizeof x->p[k].driver, "%s", S(r, "driver"));
  }
  for (int k = 0; k < x->np; k++)
    for (int m = 0; m < x->nm; m++) {
      vec v = {.n = 0};
      int bad = 0;
      for (int i = 0; i < s->n; i++) {
        row *r = s->v[i];
        if (!rp_is_entry(r, "main", &x->ms[m]) || strcmp(S(r, "backend"), x->p[k].api)) continue;
        char hw[200];
        hw_of(r, nfiles, names, hw, sizeof hw);
        if (*S(r, "device") && strcmp(hw, x->p[k].hw)) continue;
        if (is_ok(r)) push(&v, N(r, "forget_s"));
        else bad |= !strcmp(S(r, "status"), "failed");
      }
      x->p[k].t[m] = v.n ? median(&v) : NAN;
      x->p[k].failed[m] = bad;
    }
}

/* e of time t on platform k against the fastest of the same hardware (times[] per platform). */
static double efficiency(const xv *x, int k, const double *times)
{
  if (!(times[k] > 0)) return 0.0;
  double best = times[k];
  for (int j = 0; j < x->np; j++)
    if (!strcmp(x->p[j].hw, x->p[k].hw) && times[j] > 0 && times[j] < best) best = times[j];
  return best / times[k];
}

/* Harmonic mean of e over the platforms, 0 when any is 0. */
static double pp_of(const double *e, int n)
{
  double s = 0;
  for (int i = 0; i < n; i++) {
    if (!(e[i] > 0)) return 0.0;
    s += 1.0 / e[i];
  }
  return n ? (double)n / s : NAN;
}

static void time_table(mb_report *rep, const xv *x)
{
  static const char *const head[] = {"Method", "Device", "API", "Driver", "Time (ms)", "Speed-up over ref",
                                     "Efficiency"};
  int net = x->net;
  mb_rtable *t = rp_rt_new_net("xvendor", "Cross-vendor: time per method, device and API", 7, head, net);
  for (int m = 0; m < x->nm; m++) {
    double times[XV_MAXP];
    for (int k = 0; k < x->np; k++) times[k] = x->p[k].t[m];
    for (int k = 0; k < x->np; k++) {
      int r = mb_rt_add_row(t);
      char dev[64], drv[64], a[32];
      rp_short_device(x->p[k].hw, dev, sizeof dev);
      rp_short_device(x->p[k].driver, drv, sizeof drv);
      mb_rt_set(t, r, 0, "%s", x->ms[m].label);
      if (net) mb_rt_set(t, r, 1, "%s", x->ms[m].net);
      mb_rt_set(t, r, 1 + net, "%s", dev);
      mb_rt_set(t, r, 2 + net, "%s", x->p[k].api);
      mb_rt_set(t, r, 3 + net, "%s", drv);
      if (!isfinite(times[k])) {
        missing_cells(t, r, 4 + net, 7 + net, x->p[k].failed[m] ? "the method failed on this platform (efficiency 0)"
                                                                : "no ok row on this platform (efficiency 0)");
        continue;
      }
      rp_fmt_ms(times[k], a, sizeof a);
      mb_rt_set(t, r, 4 + net, "%s", a);
      if (isfinite(x->ref_t[m])) mb_rt_set(t, r, 5 + net, "%.2f×", x->ref_t[m] / times[k]);
      else mb_rt_missing(t, r, 5 + net, "no ref row for this method");
      mb_rt_set(t, r, 6 + net, "%.3f", efficiency(x, k, times));
    }
  }
  snprintf(t->caption, sizeof t->caption,
           "Median forget_s over the method's cells on each platform (device, API). Speed-up = ref median / median. "
           "Efficiency = the fastest API's time on the same device / this time (1 = the best API there). The CPU-type "
           "devices of one results file (cpu, pocl, lavapipe) are one device, its host CPU.%s", rp_notes(x->ms, x->nm, net));
  rp_add_table(rep, t);
}

static void pp_table(mb_report *rep, const xv *x)
{
  static const char *const head[] = {"Method", "PP", "Platforms", "Fails on"};
  int net = x->net;
  mb_rtable *t = rp_rt_new_net("pp", "Performance portability (Pennycook) per method and for the suite", 4, head, net);
  double suite[XV_MAXP];
  for (int k = 0; k < x->np; k++) {
    suite[k] = 0;
    for (int m = 0; m < x->nm; m++) suite[k] = isfinite(x->p[k].t[m]) && suite[k] >= 0 ? suite[k] + x->p[k].t[m] : -1;
  }
  for (int m = 0; m <= x->nm; m++) {
    double times[XV_MAXP], e[XV_MAXP];
    for (int k = 0; k < x->np; k++) times[k] = m < x->nm ? x->p[k].t[m] : suite[k];
    char fails[512] = "";
    for (int k = 0; k < x->np; k++) {
      e[k] = efficiency(x, k, times);
      if (!(e[k] > 0) && strlen(fails) < sizeof fails - 100)
        snprintf(fails + strlen(fails), sizeof fails - strlen(fails), "%s%.40s/%s", *fails ? ", " : "", x->p[k].hw, x->p[k].api);
    }
    int r = mb_rt_add_row(t);
    mb_rt_set(t, r, 0, "%s", m < x->nm ? x->ms[m].label : "suite (sum of the methods' times)");
    if (net) mb_rt_set(t, r, 1, "%s", m < x->nm ? x->ms[m].net : "all");
    mb_rt_set(t, r, 1 + net, "%.3f", pp_of(e, x->np));
    mb_rt_set(t, r, 2 + net, "%d", x->np);
    mb_rt_set(t, r, 3 + net, "%s", *fails ? fails : "none");
  }
  snprintf(t->caption, sizeof t->caption,
           "PP = |H| / Σ_p 1/e_p over the platforms H (each device with each API that has rows), e_p the efficiency of "
           "the cross-vendor table; 0 when the method fails or has no row on any platform (Pennycook, Sewall and Lee, "
           "\"A metric for performance portability\", 2016, with application efficiency). The suite's time on a platform "
           "is the sum of the methods' medians.%s", rp_notes(x->ms, x->nm, net));
  rp_add_table(rep, t);
}

/* Agreement of A_R, E_F and the ± sign with ref per platform, over the cells both ran. */
static void agree_table(mb_report *rep, const sel *s, const xv *x, int nfiles, const char *const *names)
{
  static const char *const head[] = {"Device", "API", "Cells compared", "A_R within 1 pp", "E_F within 1 pp",
                                     "Same sign", "Largest |ΔA_R|, |ΔE_F| (pp)"};
  mb_rtable *t = mb_rt_new("xagree", "Cross-vendor agreement with ref per device and API", 7, head);
  for (int k = 0; k < x->np; k++) {
    int n = 0, ar = 0, ef = 0, sg = 0;
    double dA = 0, dE = 0;
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (strcmp(rp_kind_of(r), "main") || !is_ok(r) || strcmp(S(r, "backend"), x->p[k].api) || !*S(r, "cell_group"))
        continue;
      char hw[200];
      hw_of(r, nfiles, names, hw, sizeof hw);
      if (strcmp(hw, x->p[k].hw)) continue;
      for (int j = 0; j < s->n; j++) {
        row *q = s->v[j];
        if (!is_ok(q) || strcmp(S(q, "backend"), "ref") || strcmp(S(q, "cell_group"), S(r, "cell_group"))) continue;
        double a = fabs(N(r, "A_R") - N(q, "A_R")), e = fabs(N(r, "E_F") - N(q, "E_F"));
        n++;
        ar += a <= 1.0;
        ef += e <= 1.0 || (isnan(N(r, "E_F")) && isnan(N(q, "E_F")));
        sg += N(r, "sign") == N(q, "sign");
        if (isfinite(a)) dA = fmax(dA, a);
        if (isfinite(e)) dE = fmax(dE, e);
        break;   /* one ref row per cell */
      }
    }
    int r = mb_rt_add_row(t);
    char dev[64];
    rp_short_device(x->p[k].hw, dev, sizeof dev);
    mb_rt_set(t, r, 0, "%s", dev);
    mb_rt_set(t, r, 1, "%s", x->p[k].api);
    if (!n) { missing_cells(t, r, 2, 7, "no cell of this platform also ran on ref"); continue; }
    mb_rt_set(t, r, 2, "%d", n);
    mb_rt_set(t, r, 3, "%d/%d", ar, n);
    mb_rt_set(t, r, 4, "%d/%d", ef, n);
    mb_rt_set(t, r, 5, "%d/%d", sg, n);
    mb_rt_set(t, r, 6, "%.2f, %.2f", dA, dE);
  }
  snprintf(t->caption, sizeof t->caption,
           "Cells (same method, seed, model and settings) that ran on the platform and on ref, from any results file.");
  rp_add_table(rep, t);
}

/* One grouped-bar figure per device seen through several APIs: methods × APIs. */
static void figures(mb_report *rep, const xv *x)
{
  int done[XV_MAXP] = {0}, nfig = 0;
  for (int k = 0; k < x->np && nfig < 3; k++) {
    if (done[k]) continue;
    int idx[8], n = 0;
    for (int j = k; j < x->np; j++)
      if (!strcmp(x->p[j].hw, x->p[k].hw)) { done[j] = 1; if (n < 8) idx[n++] = j; }
    if (n < 2) continue;
    mb_rfigure *g = calloc(1, sizeof *g);
    if (!g) return;
    char dev[64];
    rp_short_device(x->p[k].hw, dev, sizeof dev);
    snprintf(g->id, sizeof g->id, "figxv-%d", nfig + 1);
    snprintf(g->title, sizeof g->title, "%s through %d APIs: forgetting time (log scale)", dev, n);
    snprintf(g->xlabel, sizeof g->xlabel, "method");
    snprintf(g->ylabel, sizeof g->ylabel, "forgetting time (s)");
    g->bars = 1;
    g->logy = 1;
    g->ncats = x->nm;
    g->cats = calloc((size_t)x->nm + 1, sizeof *g->cats);
    for (int m = 0; m < x->nm && g->cats; m++) {
      char label[160];
      rp_entry_label(x->ms, x->nm, m, x->net, label, sizeof label);
      g->cats[m] = strdup(label);
    }
    g->nseries = n;
    for (int s = 0; s < n; s++) {
      mb_rseries *se = &g->series[s];
      snprintf(se->name, sizeof se->name, "%s", x->p[idx[s]].api);
      se->y = calloc((size_t)x->nm + 1, sizeof(double));
      se->n = se->y ? x->nm : 0;
      for (int m = 0; m < se->n; m++) se->y[m] = x->p[idx[s]].t[m];
    }
    snprintf(g->caption, sizeof g->caption, "The same device through each API that has rows, side by side per method.");
    rp_add_fig(rep, g);
    nfig++;
  }
}

void rp_crossvendor(mb_report *rep, const sel *s, int nfiles, const char *const *names)
{
  xv *x = malloc(sizeof *x);
  if (!x) return;
  collect(s, nfiles, names, x);
  /* only when there is something to compare: two platforms */
  if (x->np >= 2 && x->nm > 0) {
    time_table(rep, x);
    figures(rep, x);
    pp_table(rep, x);
    agree_table(rep, s, x, nfiles, names);
  }
  free(x);
}

/* ------------------------------------------------------------ merging files */

static int same_cell(const mb_jv *a, const mb_jv *b)
{
  return !strcmp(S(a, "cell"), S(b, "cell")) && !strcmp(S(a, "method"), S(b, "method")) &&
         !strcmp(S(a, "metric"), S(b, "metric")) && !strcmp(S(a, "device"), S(b, "device"));
}

void rp_merge_table(mb_report *rep, const mb_rowset *rs, int nfiles, const char *const *names)
{
  if (nfiles < 2 || !names) return;
  static const char *const head[] = {"File", "Spec", "Devices", "Ok cells", "Lacks (of the merged cells)", "Some it lacks"};
  mb_rtable *t = mb_rt_new("merge", "Merged results files: what each machine ran and lacks", 6, head);
  /* the union of the ok measurements of any file: a cell id on a device (cuda:0 of two
   * machines shares the id; the device tells them apart) */
  const mb_jv **ids = calloc((size_t)rs->n + 1, sizeof *ids);
  int nid = 0;
  for (int i = 0; ids && i < rs->n; i++) {
    const mb_jv *r = &rs->rows[i].v;
    if (!*S(r, "cell") || !is_ok(r)) continue;
    int seen = 0;
    for (int k = 0; k < nid && !seen; k++) seen = same_cell(ids[k], r);
    if (!seen) ids[nid++] = r;
  }
  for (int f = 0; ids && f < nfiles; f++) {
    char devs[600] = "", spec[96] = "";
    int ok = 0;
    for (int i = 0; i < rs->n; i++) {
      const mb_jv *r = &rs->rows[i].v;
      if (rs->rows[i].file != f) continue;
      if (!spec[0] && *S(r, "spec")) snprintf(spec, sizeof spec, "%.40s %.16s", S(r, "spec"), S(r, "spec_hash"));
      if (!is_ok(r)) continue;
      char d[120];
      snprintf(d, sizeof d, "%s: ", S(r, "backend"));
      rp_short_device(S(r, "device"), d + strlen(d), sizeof d - strlen(d));
      if (!strstr(devs, d) && strlen(devs) + strlen(d) + 3 < sizeof devs)
        snprintf(devs + strlen(devs), sizeof devs - strlen(devs), "%s%s", *devs ? "; " : "", d);
    }
    char some[700] = "";
    int lacks = 0;
    for (int k = 0; k < nid; k++) {
      /* only cells of a spec this file ran: files of other specs are not compared */
      int ran_spec = 0, has = 0;
      for (int i = 0; i < rs->n && !ran_spec; i++)
        ran_spec = rs->rows[i].file == f && !strcmp(S(&rs->rows[i].v, "spec"), S(ids[k], "spec"));
      if (!ran_spec) continue;
      for (int i = 0; i < rs->n && !has; i++)
        has = rs->rows[i].file == f && is_ok(&rs->rows[i].v) && same_cell(&rs->rows[i].v, ids[k]);
      if (has) { ok++; continue; }
      lacks++;
      char one[300], dev[64];
      rp_short_device(S(ids[k], "device"), dev, sizeof dev);
      snprintf(one, sizeof one, "%s (%s)", S(ids[k], "cell"), dev);
      if (lacks <= 4 && strlen(some) + strlen(one) + 3 < sizeof some)
        snprintf(some + strlen(some), sizeof some - strlen(some), "%s%s", *some ? ", " : "", one);
    }
    int r = mb_rt_add_row(t);
    mb_rt_set(t, r, 0, "%s", names[f]);
    mb_rt_set(t, r, 1, "%s", *spec ? spec : "(no bench rows)");
    mb_rt_set(t, r, 2, "%s", *devs ? devs : "none");
    mb_rt_set(t, r, 3, "%d", ok);
    mb_rt_set(t, r, 4, "%d", lacks);
    mb_rt_set(t, r, 5, "%s%s", lacks ? some : "none", lacks > 4 ? ", ..." : "");
  }
  free(ids);
  snprintf(t->caption, sizeof t->caption,
           "A cell is one measurement (experiment, method, backend:device, seed, settings); a file lacks a cell of a "
           "spec it ran that another file has an ok row for, e.g. a backend its machine does not have.");
  rp_add_table(rep, t);
}

int mb_report_check_specs(const mb_rowset *rs, int nfiles, const char *const *names, char *err, size_t len)
{
  /* the distinct (file, spec, spec_hash) of the bench rows, then any spec with two hashes across files */
  struct { int file; const char *spec, *hash; } seen[256];
  int n = 0;
  for (int i = 0; i < rs->n; i++) {
    const mb_jv *a = &rs->rows[i].v;
    const char *h = S(a, "spec_hash"), *sp = S(a, "spec");
    if (!*h) continue;
    int k = 0;
    while (k < n && !(seen[k].file == rs->rows[i].file && !strcmp(seen[k].spec, sp) && !strcmp(seen[k].hash, h))) k++;
    if (k < n || n == 256) continue;
    for (int j = 0; j < n; j++)
      if (seen[j].file != rs->rows[i].file && !strcmp(seen[j].spec, sp) && strcmp(seen[j].hash, h)) {
        int fa = seen[j].file, fb = rs->rows[i].file;
        snprintf(err, len, "%s and %s ran different versions of spec '%s' (spec_hash %s, %s): their cells are not the same",
                 names && fa < nfiles ? names[fa] : "a file", names && fb < nfiles ? names[fb] : "another file", sp,
                 seen[j].hash, h);
        return -1;
      }
    seen[n].file = rs->rows[i].file;
    seen[n].spec = sp;
    seen[n].hash = h;
    n++;
  }
  return 0;
}
