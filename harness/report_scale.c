/* Table 4 (the scalability point) and the throughput table, from the rows of
 * `bench-scale --json` / `bench-train --json` or of the bench kinds scale and
 * throughput (older mnemobench.scale/1 and mnemobench.bench/1 rows too). */
#include "harness/report_internal.h"

#include <stdlib.h>

/* ------------------------------------------------------------ row fields */

/* The method of a scale row; older rows name it only in the metric. */
static const char *scale_method(row *r)
{
  const char *m = S(r, "method");
  if (*m) return m;
  const char *metric = S(r, "metric");
  if (strstr(metric, "mnemonic")) return "mnemonic";
  if (strstr(metric, "SSD")) return "ssd";
  return "";
}

/* The timing statistic `suffix` ("", "_min", "_max"): forget_s..., or the
 * older median / min / max. */
static double scale_time(row *r, const char *suffix)
{
  char k[32];
  snprintf(k, sizeof k, "forget_s%s", suffix);
  double v = N(r, k);
  if (isfinite(v)) return v;
  return N(r, *suffix ? suffix + 1 : "median");
}

static double n_params(row *r)
{
  double p = N(r, "n_params");
  return isfinite(p) ? p : N(r, "params");   /* an older scale row: a number */
}

/* An MLP's model name ("784-1000-10 sigmoid") starts with its layer sizes. */
static int tp_is_mlp(const char *model) { return model[0] >= '0' && model[0] <= '9'; }

/* The measure of a throughput row: train, forget, gemm or all. */
static const char *tp_measure(row *r)
{
  const char *m = S(r, "measure");
  if (*m) return m;
  const char *metric = S(r, "metric");
  if (!strncmp(metric, "train", 5)) return "train";
  if (!strncmp(metric, "forget", 6)) return "forget";
  if (!strncmp(metric, "sgemm", 5)) return "gemm";
  return "all";
}

static double tp_value(row *r)
{
  double v = N(r, "value");
  return isfinite(v) ? v : N(r, "median");
}

static double runs_of(row *r)
{
  double n = N(r, "repeats");
  return isfinite(n) ? n : 1;
}

/* Model + backend + device index + method, in table order. */
typedef struct {
  char model[64], backend[32], method[32];
  int device, rank, mrank, morder;
} slot;

static int cmp_slot(const void *x, const void *y)
{
  const slot *a = x, *b = y;
  if (a->morder != b->morder) return a->morder - b->morder;
  if (a->mrank != b->mrank) return a->mrank - b->mrank;
  if (a->rank != b->rank) return a->rank - b->rank;
  if (a->device != b->device) return a->device - b->device;
  return strcmp(a->backend, b->backend);
}

static int add_scale_slot(slot *sl, int n, int max, const char *model, int morder, const char *backend, int device,
                          const char *method, int mrank, int appear)
{
  for (int k = 0; k < n; k++)
    if (!strcmp(sl[k].model, model) && !strcmp(sl[k].backend, backend) && sl[k].device == device &&
        !strcmp(sl[k].method, method))
      return n;
  if (n == max) return n;
  snprintf(sl[n].model, sizeof sl[n].model, "%s", model);
  snprintf(sl[n].backend, sizeof sl[n].backend, "%s", backend);
  snprintf(sl[n].method, sizeof sl[n].method, "%s", method);
  sl[n].device = device;
  int r = rp_backend_rank(backend);
  sl[n].rank = r * 1000 + (r == rp_backend_rank("") ? appear : 0);   /* unknown backends: in order of appearance */
  sl[n].mrank = mrank;
  sl[n].morder = morder;
  return n + 1;
}

/* The throughput table's slots: backend, device and a model in the method field. */
static int add_slot(slot *sl, int n, int max, const char *backend, int device, const char *method, int mrank,
                    int appear)
{
  return add_scale_slot(sl, n, max, "", 0, backend, device, method, mrank, appear);
}

static int device_index(row *r)
{
  double d = N(r, "device_index");
  return rp_int(d, 0, 1 << 20, 0);
}

static const char *reason_of(row *r)
{
  static char buf[700];
  snprintf(buf, sizeof buf, "%s: %s: %s", S(r, "backend"), S(r, "status"),
           *S(r, "reason") ? S(r, "reason") : "no reason recorded");
  return buf;
}

/* --------------------------------------------------------------- Table 4 */

/* One line per (model, method, backend, device).  With rows of one model (the
 * ResNet-18 point) the caption names it; with several (bench-scale --model
 * resnet18,resnext50) Model and Parameters columns lead, as in the paper's table. */
void rp_table4(mb_report *rep, const sel *s)
{
  char models[16][64];
  int nmod = 0;
  for (int i = 0; i < s->n; i++) {
    row *r = s->v[i];
    if (strcmp(rp_kind_of(r), "scale")) continue;
    int seen = 0;
    for (int k = 0; k < nmod; k++) seen |= !strcmp(models[k], S(r, "model"));
    if (!seen && nmod < 16) snprintf(models[nmod++], sizeof models[0], "%s", S(r, "model"));
  }
  const int mc = nmod > 1 ? 2 : 0;   /* leading model columns */
  static const char *const head1[] = {"Method", "Backend", "Device", "Time (s) median [min–max]", "Runs",
                                      "Forward passes", "Backward passes", "Batch"};
  static const char *const head2[] = {"Model", "Parameters", "Method", "Backend", "Device", "Time (s) median [min–max]",
                                      "Runs", "Forward passes", "Backward passes", "Batch"};
  const int nc = 8 + mc;
  mb_rtable *t = mb_rt_new("table4",
                           mc ? "Table 4: processing time of the scalability point (ImageNet-size models)"
                              : "Table 4: processing time of the scalability point (ImageNet-size ResNet-18)",
                           nc, mc ? head2 : head1);
  slot sl[128];
  int ns = 0;
  mname ms[32];
  int nm = 0;
  /* methods in the list's order: the rows' method_order where they have it */
  for (int i = 0; i < s->n; i++) {
    row *r = s->v[i];
    if (strcmp(rp_kind_of(r), "scale")) continue;
    const char *m = scale_method(r);
    int seen = 0;
    for (int k = 0; k < nm; k++) seen |= !strcmp(ms[k].name, m);
    if (seen || nm == 32) continue;
    double order = N(r, "method_order");
    snprintf(ms[nm].name, sizeof ms[nm].name, "%s", m);
    ms[nm].rank = !*m ? 1 << 20 : rp_int(order, -(1 << 20), 1 << 20, !strcmp(m, "mnemonic") ? 0 : 1000 + nm);
    nm++;
  }
  for (int i = 0; i < s->n; i++) {
    row *r = s->v[i];
    if (strcmp(rp_kind_of(r), "scale")) continue;
    const char *m = scale_method(r);
    int mr = 0, mo = 0;
    for (int k = 0; k < nm; k++)
      if (!strcmp(ms[k].name, m)) mr = ms[k].rank;
    for (int k = 0; k < nmod; k++)
      if (!strcmp(models[k], S(r, "model"))) mo = k;
    ns = add_scale_slot(sl, ns, 128, S(r, "model"), mo, S(r, "backend"), device_index(r), m, mr, i);
  }
  qsort(sl, (size_t)ns, sizeof *sl, cmp_slot);
  row *first = NULL;
  for (int k = 0; k < ns; k++) {
    vec med = {.n = 0}, lo = {.n = 0}, hi = {.n = 0};
    double runs = 0, fwd_lo = NAN, fwd_hi = NAN, bwd_lo = NAN, bwd_hi = NAN, batch = NAN, params = NAN;
    const char *device = "";
    row *bad = NULL;
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (strcmp(rp_kind_of(r), "scale") || strcmp(S(r, "model"), sl[k].model) || strcmp(S(r, "backend"), sl[k].backend) ||
          device_index(r) != sl[k].device || strcmp(scale_method(r), sl[k].method))
        continue;
      if (!is_ok(r)) { bad = r; continue; }
      if (!first) first = r;
      push(&med, scale_time(r, ""));
      push(&lo, scale_time(r, "_min"));
      push(&hi, scale_time(r, "_max"));
      runs += runs_of(r);
      double f = N(r, "n_forward"), b = N(r, "n_backward");
      fwd_lo = isnan(fwd_lo) ? f : fmin(fwd_lo, f);
      fwd_hi = isnan(fwd_hi) ? f : fmax(fwd_hi, f);
      bwd_lo = isnan(bwd_lo) ? b : fmin(bwd_lo, b);
      bwd_hi = isnan(bwd_hi) ? b : fmax(bwd_hi, b);
      batch = N(r, "batch");
      params = n_params(r);
      device = S(r, "device");
    }
    int row_i = mb_rt_add_row(t);
    if (mc) {
      mb_rt_set(t, row_i, 0, "%s", *sl[k].model ? sl[k].model : "—");
      if (isfinite(params)) mb_rt_set(t, row_i, 1, "%.0f", params);
      else mb_rt_missing(t, row_i, 1, med.n ? "the row has no parameter count" : bad ? reason_of(bad) : "no ok row");
    }
    mb_rt_set(t, row_i, mc, "%s", *sl[k].method ? sl[k].method : "all");
    mb_rt_set(t, row_i, mc + 1, "%s", sl[k].backend);
    if (!med.n) {
      missing_cells(t, row_i, mc + 2, nc, bad ? reason_of(bad) : "no ok row");
      continue;
    }
    char dev[64];
    rp_short_device(device, dev, sizeof dev);
    mb_rt_set(t, row_i, mc + 2, "%s", dev);
    if (lo.n && hi.n) mb_rt_set(t, row_i, mc + 3, "%.3f [%.3f–%.3f]", median(&med), vmin(&lo), vmax(&hi));
    else mb_rt_set(t, row_i, mc + 3, "%.3f", median(&med));
    mb_rt_set(t, row_i, mc + 4, "%.0f", runs);
    if (fwd_lo == fwd_hi) mb_rt_set(t, row_i, mc + 5, "%.0f", fwd_lo);
    else mb_rt_set(t, row_i, mc + 5, "%.0f–%.0f", fwd_lo, fwd_hi);
    if (bwd_lo == bwd_hi) mb_rt_set(t, row_i, mc + 6, "%.0f", bwd_lo);
    else mb_rt_set(t, row_i, mc + 6, "%.0f–%.0f", bwd_lo, bwd_hi);
    if (isfinite(batch)) mb_rt_set(t, row_i, mc + 7, "%.0f", batch);
    else mb_rt_missing(t, row_i, mc + 7, "the row has no batch");
  }
  if (!ns) {
    int k = mb_rt_add_row(t);
    missing_cells(t, k, 0, nc, "no scale rows (bench-scale --json, or an [experiment] with kind = scale)");
  }
  row *ssd = NULL;
  for (int i = 0; i < s->n && !ssd; i++)
    if (!strcmp(rp_kind_of(s->v[i]), "scale") && is_ok(s->v[i]) && isfinite(N(s->v[i], "ssd_images"))) ssd = s->v[i];
  char ssd_text[256] = "";
  if (ssd)
    snprintf(ssd_text, sizeof ssd_text, " ssd: its importance passes over D_f and D (%.0f and %.0f synthetic images, "
             "batch Batch) and the dampening.", N(ssd, "ssd_forget_images"), N(ssd, "ssd_images"));
  char what[160];
  if (first && mc)
    snprintf(what, sizeof what, "each Model (Parameters)");
  else if (first)
    snprintf(what, sizeof what, "%s", S(first, "model"));
  if (first && mc)
    snprintf(t->caption, sizeof t->caption,
             "Forgetting class 0 of %.0f classes with %s at %.0f×%.0f input, weights and codes "
             "seeded (the work does not depend on their values). mnemonic: K code forward+backward passes for the FIM "
             "and 2K forward passes for the ± choice, in batches of Batch code rows.%s Host clock around "
             "synchronised regions; median over the repeats, min and max over all of them.",
             N(first, "classes"), what, N(first, "size"), N(first, "size"), ssd_text);
  else if (first)
    snprintf(t->caption, sizeof t->caption,
             "Forgetting class 0 of %.0f classes with %s at %.0f×%.0f input (%.0f parameters), weights and codes "
             "seeded (the work does not depend on their values). mnemonic: K code forward+backward passes for the FIM "
             "and 2K forward passes for the ± choice, in batches of Batch code rows.%s Host clock around "
             "synchronised regions; median over the repeats, min and max over all of them.",
             N(first, "classes"), what, N(first, "size"), N(first, "size"), n_params(first), ssd_text);
  else
    snprintf(t->caption, sizeof t->caption, "The scalability point: run `mnemobench bench-scale --json`.");
  rp_add_table(rep, t);
}

/* ---------------------------------------------------------- throughput */

void rp_throughput_table(mb_report *rep, const sel *s)
{
  /* the GEMM shapes present, in order of appearance (at most 4 columns) */
  char gemm[4][64];
  int ng = 0;
  for (int i = 0; i < s->n; i++) {
    row *r = s->v[i];
    if (strcmp(rp_kind_of(r), "throughput") || !is_ok(r) || strcmp(tp_measure(r), "gemm")) continue;
    const char *m = S(r, "metric");
    int seen = 0;
    for (int k = 0; k < ng; k++) seen |= !strcmp(gemm[k], m);
    if (!seen && ng < 4) snprintf(gemm[ng++], sizeof gemm[0], "%s", m);
  }
  /* a Model column once the rows hold a model other than an MLP (bench-train --model resnet18) */
  int models = 0;
  for (int i = 0; i < s->n; i++) {
    row *r = s->v[i];
    if (!strcmp(rp_kind_of(r), "throughput") && is_ok(r) && !tp_is_mlp(S(r, "model"))) models = 1;
  }
  char heads[9][96];
  const char *head[9];
  int nc = 0;
  snprintf(heads[nc++], sizeof heads[0], "Backend");
  if (models) snprintf(heads[nc++], sizeof heads[0], "Model");
  const int c0 = models;   /* the columns after Backend move one right */
  snprintf(heads[nc++], sizeof heads[0], "Device");
  snprintf(heads[nc++], sizeof heads[0], "Training (samples/s)");
  snprintf(heads[nc++], sizeof heads[0], "Forgetting latency (ms)");
  for (int k = 0; k < ng; k++) snprintf(heads[nc++], sizeof heads[0], "%.70s (GFLOP/s)", gemm[k]);
  for (int k = 0; k < nc; k++) head[k] = heads[k];
  mb_rtable *t = mb_rt_new("throughput", "Throughput: training, forgetting latency and GEMM rate per backend", nc, head);
  slot sl[32];
  int ns = 0;
  for (int i = 0; i < s->n; i++) {
    row *r = s->v[i];
    /* one table row per backend, device and model (the slot's method field holds the model) */
    if (!strcmp(rp_kind_of(r), "throughput"))
      ns = add_slot(sl, ns, 32, S(r, "backend"), device_index(r), models ? S(r, "model") : "",
                    models && !tp_is_mlp(S(r, "model")), i);
  }
  qsort(sl, (size_t)ns, sizeof *sl, cmp_slot);
  double runs = NAN;
  for (int k = 0; k < ns; k++) {
    vec v[6];
    memset(v, 0, sizeof v);
    const char *device = "";
    row *bad = NULL;
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (strcmp(rp_kind_of(r), "throughput") || strcmp(S(r, "backend"), sl[k].backend) || device_index(r) != sl[k].device
          || (models && strcmp(S(r, "model"), sl[k].method)))
        continue;
      if (!is_ok(r)) { bad = r; continue; }
      const char *m = tp_measure(r);
      int col = !strcmp(m, "train") ? 0 : !strcmp(m, "forget") ? 1 : -1;
      if (!strcmp(m, "gemm"))
        for (int g = 0; g < ng; g++)
          if (!strcmp(gemm[g], S(r, "metric"))) col = 2 + g;
      if (col < 0) continue;
      push(&v[col], tp_value(r));
      device = S(r, "device");
      runs = runs_of(r);
    }
    int row_i = mb_rt_add_row(t);
    mb_rt_set(t, row_i, 0, "%s", sl[k].backend);
    if (models) mb_rt_set(t, row_i, 1, "%s", sl[k].method);
    int any = 0;
    for (int c = 0; c < 2 + ng; c++) any |= v[c].n > 0;
    if (!any) {
      missing_cells(t, row_i, 1 + c0, nc, bad ? reason_of(bad) : "no ok row");
      continue;
    }
    char dev[64];
    rp_short_device(device, dev, sizeof dev);
    mb_rt_set(t, row_i, 1 + c0, "%s", dev);
    for (int c = 0; c < 2 + ng; c++) {
      if (v[c].n) mb_rt_set(t, row_i, 2 + c0 + c, "%.4g", median(&v[c]));
      else if (c >= 2 && models && !tp_is_mlp(sl[k].method))
        mb_rt_missing(t, row_i, 2 + c0 + c, "the MLP's GEMM shapes: measured with the MLP only");
      else mb_rt_missing(t, row_i, 2 + c0 + c, bad ? reason_of(bad) : "not measured on this backend");
    }
  }
  if (!ns) {
    int k = mb_rt_add_row(t);
    missing_cells(t, k, 0, nc, "no throughput rows (bench-train --json, or an [experiment] with kind = throughput)");
  }
  if (isfinite(runs))
    snprintf(t->caption, sizeof t->caption,
             "Medians of %.0f repeat(s) after warm-ups, host clock around synchronised regions. Training: samples/s of "
             "the MLP at batch 128 (t_mix 0.1)%s; forgetting latency: class 0 with mnemonic codes; GEMM: SGEMM at the "
             "MLP's shapes. pocl and lavapipe are CPU implementations of OpenCL and Vulkan: their figures are not GPU "
             "figures.", runs, models ? ", of a ResNet-18 at batch 32" : "");
  else
    snprintf(t->caption, sizeof t->caption, "Throughput figures: run `mnemobench bench-train --json`.");
  rp_add_table(rep, t);
}
