/* The report's row access: selection, kinds, orderings (report_internal.h). */
#include "harness/report_internal.h"

#include <stdlib.h>

const char *rp_kind_of(row *r)
{
  const char *k = S(r, "kind");
  if (*k) return k;
  const char *schema = S(r, "schema");
  if (!strcmp(schema, "mnemobench.scale/1")) return "scale";
  if (!strcmp(schema, "mnemobench.bench/1")) return "throughput";
  return "main";   /* rows of `forget --json` before mnemobench.result/2 have no kind */
}

/* Rows of the scalability point and the throughput figures carry no method
 * when they say only that a backend was skipped; they count all the same. */
static int counts(row *r)
{
  const char *k = rp_kind_of(r);
  return *S(r, "method") || !strcmp(k, "scale") || !strcmp(k, "throughput");
}

/* One measurement: a cell, and within a scale or throughput cell (several
 * rows) its method and metric. */
static int same_measurement(row *a, row *b)
{
  /* cuda:0 of two machines (merged files) shares a cell id: the device tells them
   * apart (a skipped row names no device and is replaced by the device's ok row) */
  const char *da = S(a, "device"), *db = S(b, "device");
  return !strcmp(S(a, "cell"), S(b, "cell")) && !strcmp(S(a, "method"), S(b, "method")) &&
         !strcmp(S(a, "metric"), S(b, "metric")) && (!*da || !*db || !strcmp(da, db));
}

sel rp_select_rows(const mb_rowset *rs)
{
  sel s = {calloc((size_t)rs->n + 1, sizeof(row *)), 0};
  if (!s.v) return s;
  for (int i = 0; i < rs->n; i++) {
    row *r = &rs->rows[i].v;
    const char *id = S(r, "cell");
    if (!counts(r)) continue;
    int at = -1;
    if (*id)
      for (int k = 0; k < s.n; k++)
        if (same_measurement(s.v[k], r)) { at = k; break; }
    if (at < 0) s.v[s.n++] = r;
    else if (is_ok(r) || !is_ok(s.v[at])) s.v[at] = r;
  }
  return s;
}

int rp_cmp_dbl(const void *x, const void *y)
{
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

void rp_fmt_ms(double s, char *out, size_t len)
{
  double ms = 1e3 * s;
  if (ms >= 100) snprintf(out, len, "%.0f", ms);
  else if (ms >= 10) snprintf(out, len, "%.1f", ms);
  else if (ms >= 1) snprintf(out, len, "%.2f", ms);
  else snprintf(out, len, "%.3f", ms);
}

void rp_network_of(row *r, char *out, size_t len)
{
  const char *m = S(r, "model"), *act = S(r, "act");
  /* result/1 MLP rows: "784-64-10" and act "sigmoid"; result/2 names both */
  if (*m >= '0' && *m <= '9' && !strchr(m, ' ') && *act) snprintf(out, len, "%s %s", m, act);
  else snprintf(out, len, "%s", m);
}

static int cmp_method(const void *x, const void *y)
{
  const mname *a = x, *b = y;
  if (a->rank != b->rank) return (a->rank > b->rank) - (a->rank < b->rank);
  int c = strcmp(a->name, b->name);
  return c ? c : (a->net_rank > b->net_rank) - (a->net_rank < b->net_rank);
}

/* A ResNet-18 named without its input ("resnet18", "resnet18-w16"): the row
 * of a cell whose backend was skipped before any data was read from a folder
 * (bench_rows.c cannot tell CIFAR from another input then). */
static int unknown_input(const char *net)
{
  int w, end = 0;
  return !strcmp(net, "resnet18") || (sscanf(net, "resnet18-w%d%n", &w, &end) == 1 && !net[end]);
}

/* known is that network with its input named: "resnet18-cifar" for
 * "resnet18", "resnet18-cifar-w16" for "resnet18-w16". */
static int covers(const char *known, const char *unknown)
{
  if (strncmp(known, "resnet18-", 9) || unknown_input(known)) return 0;
  const char *w = strstr(unknown, "-w"), *kw = strstr(known + 8, "-w");
  return w ? kw && !strcmp(kw, w) : !kw;
}

int rp_methods_of(const sel *s, const char *kind, mname *out, int max)
{
  int n = 0, nnet = 0;
  char nets[32][96];
  /* rows naming their network first; then a ResNet row without its input
   * joins the entry of that network with the input named, if any */
  for (int pass = 0; pass < 2; pass++)
  for (int i = 0; i < s->n; i++) {
    row *r = s->v[i];
    if (strcmp(rp_kind_of(r), kind) != 0) continue;
    const char *m = S(r, "method");
    if (!*m) continue;
    char net[96];
    rp_network_of(r, net, sizeof net);
    if (unknown_input(net) != pass) continue;
    int covered = 0;
    for (int k = 0; pass && k < n; k++) covered |= !strcmp(out[k].name, m) && covers(out[k].net, net);
    if (covered) continue;
    /* a method with no such row: the one network of the other methods that covers it */
    int cover = -1, ncover = 0;
    for (int k = 0; pass && k < nnet; k++)
      if (covers(nets[k], net)) { cover = k; ncover++; }
    if (ncover == 1) snprintf(net, sizeof net, "%s", nets[cover]);
    int net_rank = -1;
    for (int k = 0; k < nnet; k++)
      if (!strcmp(nets[k], net)) net_rank = k;
    if (net_rank < 0) {
      net_rank = nnet < 32 ? nnet : 32;
      if (nnet < 32) snprintf(nets[nnet++], sizeof nets[0], "%s", net);
    }
    int seen = -1;
    for (int k = 0; k < n; k++)
      if (strcmp(out[k].name, m) == 0 && strcmp(out[k].net, net) == 0) seen = k;
    double order = N(r, "method_order");
    int rank = rp_int(order, -(1 << 20), 1 << 20, 1000 + n);
    /* a method has one rank over all its networks */
    for (int k = 0; k < n; k++)
      if (strcmp(out[k].name, m) == 0) {
        if (rank < out[k].rank) out[k].rank = rank;
        else rank = out[k].rank;
      }
    if (seen >= 0) continue;
    if (n < max) {
      snprintf(out[n].name, sizeof out[0].name, "%s", m);
      snprintf(out[n].net, sizeof out[0].net, "%s", net);
      out[n].net_rank = net_rank;
      out[n++].rank = rank;
    }
  }
  /* the network most methods ran on first (a spec's main experiment), then by first appearance */
  int count[33] = {0}, order[33];
  for (int k = 0; k < n; k++) count[out[k].net_rank]++;
  for (int a = 0; a <= nnet && a < 33; a++) {
    order[a] = 0;
    for (int b = 0; b <= nnet && b < 33; b++)
      order[a] += count[b] > count[a] || (count[b] == count[a] && b < a);
  }
  for (int k = 0; k < n; k++) out[k].net_rank = order[out[k].net_rank];
  qsort(out, (size_t)n, sizeof *out, cmp_method);
  return n;
}

int rp_is_entry(row *r, const char *kind, const mname *m)
{
  if (strcmp(rp_kind_of(r), kind) || strcmp(S(r, "method"), m->name)) return 0;
  char net[96];
  rp_network_of(r, net, sizeof net);
  return !strcmp(net, m->net) || (unknown_input(net) && covers(m->net, net));
}

int rp_several_networks(const mname *ms, int n)
{
  for (int i = 1; i < n; i++)
    if (strcmp(ms[i].net, ms[0].net)) return 1;
  return 0;
}

mb_rtable *rp_rt_new_net(const char *id, const char *title, int ncols, const char *const *head, int net)
{
  if (!net) return mb_rt_new(id, title, ncols, head);
  const char *h[32];
  int n = 0;
  for (int c = 0; c < ncols && n < 31; c++) {
    h[n++] = head[c];
    if (c == 0) h[n++] = "Network";
  }
  return mb_rt_new(id, title, n, h);
}

void rp_entry_label(const mname *ms, int n, int i, int net, char *out, size_t len)
{
  if (!net) { snprintf(out, len, "%s", ms[i].name); return; }
  /* the words every network shares are left out ("784-1000-10 sigmoid" and
   * "784-1000-10 relu": "sigmoid", "relu"): a bar's label stays short, the
   * table beside the figure names the whole network */
  size_t common = strlen(ms[0].net);
  for (int k = 1; k < n; k++) {
    size_t c = 0;
    while (c < common && ms[k].net[c] && ms[k].net[c] == ms[0].net[c]) c++;
    common = c;
  }
  while (common > 0 && ms[0].net[common - 1] != ' ') common--;   /* whole words only */
  const char *rest = ms[i].net + (common <= strlen(ms[i].net) ? common : 0);
  snprintf(out, len, "%s (%s)", ms[i].name, *rest ? rest : *ms[i].net ? ms[i].net : "model not recorded");
}

/* The preference of the paper tables' backend. */
static const char *const k_backend_pref[] = {"cuda", "cpu", "vulkan", "opencl", "ref"};
/* The order of backends in tables: the reference first, then the rest. */
static const char *const k_backend_order[] = {"ref", "cpu", "opencl", "vulkan", "cuda"};
enum { N_PREF = sizeof k_backend_pref / sizeof k_backend_pref[0], N_ORDER = sizeof k_backend_order / sizeof k_backend_order[0] };

const char *rp_choose_backend(const sel *s, const char *want)
{
  if (want) return want;
  for (size_t b = 0; b < N_PREF; b++)
    for (int i = 0; i < s->n; i++)
      if (is_ok(s->v[i]) && strcmp(rp_kind_of(s->v[i]), "main") == 0 &&
          strcmp(S(s->v[i], "backend"), k_backend_pref[b]) == 0)
        return k_backend_pref[b];
  for (int i = 0; i < s->n; i++)
    if (is_ok(s->v[i]) && strcmp(rp_kind_of(s->v[i]), "main") == 0) return S(s->v[i], "backend");
  for (int i = 0; i < s->n; i++)
    if (is_ok(s->v[i])) return S(s->v[i], "backend");
  return "cpu";
}

int rp_backend_rank(const char *backend)
{
  for (int k = 0; k < (int)N_ORDER; k++)
    if (strcmp(backend, k_backend_order[k]) == 0) return k;
  return (int)N_ORDER;   /* unknown backends after, in the order they come (stable sorts) */
}

const char *rp_why_missing(const sel *s, const char *kind, const mname *m, const char *backend)
{
  for (int i = s->n - 1; i >= 0; i--) {
    row *r = s->v[i];
    if (!rp_is_entry(r, kind, m)) continue;
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

void rp_short_device(const char *d, char *out, size_t len)
{
  snprintf(out, len, "%s", d);
  char *p = strstr(out, " (");
  if (p && p - out > 8) *p = 0;
  if (strlen(out) > 44) strcpy(out + 41, "...");
}

void rp_add_table(mb_report *r, mb_rtable *t)
{
  if (t && r->ntables < 24) r->tables[r->ntables++] = t;
  else mb_rt_free(t);
}

void rp_add_fig(mb_report *r, mb_rfigure *g)
{
  if (g && r->nfigs < 12) r->figs[r->nfigs++] = g;
  else free(g);
}
