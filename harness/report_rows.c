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

/* The schemas of rows this program writes and has written. */
static int known_schema(const char *sc)
{
  return !strncmp(sc, "mnemobench.result/", 18) || !strcmp(sc, "mnemobench.bench/1") || !strcmp(sc, "mnemobench.scale/1");
}

/* Rows of the scalability point and the throughput figures carry no method
 * when they say only that a backend was skipped; they count all the same. */
static int counts(row *r)
{
  if (!known_schema(S(r, "schema"))) return 0;   /* no schema: not a result row (a foreign one is refused first) */
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

void rp_provenance(row *r, char *out, size_t len)
{
  double th = N(r, "threads");
  char thr[32] = "threads not recorded";
  if (isfinite(th)) snprintf(thr, sizeof thr, "%.0f thread%s", th, th == 1 ? "" : "s");
  snprintf(out, len, "%s (%s), %s", *S(r, "commit") ? S(r, "commit") : "commit not recorded",
           *S(r, "build") ? S(r, "build") : "build not recorded", thr);
}

int mb_report_check_rows(const mb_rowset *rs, int nfiles, const char *const *names, char *err, size_t len)
{
  int usable = 0;
  for (int i = 0; i < rs->n; i++) {
    row *r = &rs->rows[i].v;
    const mb_jv *sc = mb_jv_get(r, "schema");
    int f = rs->rows[i].file;
    const char *file = names && f >= 0 && f < nfiles ? names[f] : "the results";
    if (sc && (sc->t != MB_JV_STR || !known_schema(sc->str))) {
      snprintf(err, len, "%s:%d: schema \"%.60s\" is not a mnemobench result row (mnemobench.result/N): not a results file?",
               file, rs->rows[i].line, sc->t == MB_JV_STR ? sc->str : "(not a string)");
      return -1;
    }
    usable += counts(r);
  }
  if (!usable) {
    if (nfiles == 1 && names)
      snprintf(err, len, "%s holds no result rows (%d JSON objects, %d corrupt lines): nothing to report", names[0], rs->n,
               rs->n_corrupt);
    else
      snprintf(err, len, "the %d results files hold no result rows (%d JSON objects, %d corrupt lines): nothing to report",
               nfiles, rs->n, rs->n_corrupt);
    return -1;
  }
  return 0;
}

sel rp_select_rows(const mb_rowset *rs)
{
  sel s = {calloc((size_t)rs->n + 1, sizeof(row *)), 0, 0, 0, ""};
  if (!s.v) return s;
  for (int i = 0; i < rs->n; i++) {
    row *r = &rs->rows[i].v;
    const char *id = S(r, "cell");
    if (!counts(r)) { s.n_dropped++; continue; }
    int at = -1;
    if (*id)
      for (int k = 0; k < s.n; k++)
        if (same_measurement(s.v[k], r)) { at = k; break; }
    if (at < 0) s.v[s.n++] = r;
    else if (is_ok(r) || !is_ok(s.v[at])) {
      /* a later row of another build replaces the earlier one: said in the report */
      char pa[160], pb[160];
      rp_provenance(s.v[at], pa, sizeof pa);
      rp_provenance(r, pb, sizeof pb);
      if (strcmp(pa, pb)) {
        if (!s.n_replaced++) snprintf(s.replaced_eg, sizeof s.replaced_eg, "%.60s: %.60s -> %.60s", id, pa, pb);
      }
      s.v[at] = r;
    }
  }
  return s;
}

/* ------------------------------------------------------------- settings */

static void put_item(char *out, size_t len, const char *key, const mb_jv *v)
{
  char val[128];
  if (!v) return;
  switch (v->t) {
  case MB_JV_NUM: snprintf(val, sizeof val, "%.10g", v->num); break;
  case MB_JV_STR:
    if (!*v->str) return;   /* "": not recorded (a skipped row's data checksum) */
    snprintf(val, sizeof val, "%s", v->str);
    break;
  case MB_JV_BOOL: snprintf(val, sizeof val, "%s", v->num ? "true" : "false"); break;
  case MB_JV_ARR: {
    size_t o = 0;
    val[0] = 0;
    for (int i = 0; i < v->n && o + 16 < sizeof val; i++)
      o += (size_t)snprintf(val + o, sizeof val - o, "%s%.10g", i ? "+" : "", v->items[i].num);
    break;
  }
  default: return;   /* null or an object: not a setting */
  }
  size_t o = strlen(out);
  if (o + strlen(key) + strlen(val) + 3 < len) snprintf(out + o, len - o, "%s%s=%s", o ? "\x1f" : "", key, val);
}

void rp_settings_of(row *r, char *out, size_t len)
{
  /* not the experiment: two blocks of one spec with the same settings (main on every
   * backend, main-seeds with more seeds on cpu) are one computation and pool their seeds */
  static const char *const keys[] = {"spec", "spec_hash", "dataset_checksum", "epochs", "t_mix", "batch", "lr",
                                     "codes", "width", "train_per_class", "test_per_class", "forget_classes"};
  out[0] = 0;
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) put_item(out, len, keys[k], mb_jv_get(r, keys[k]));
  const mb_jv *p = mb_jv_get(r, "params");
  if (p && p->t == MB_JV_OBJ)
    for (int i = 0; i < p->n; i++) {
      char k[96];
      snprintf(k, sizeof k, "params.%s", p->keys[i]);   /* a method's lr is not the training lr */
      put_item(out, len, k, &p->items[i]);
    }
}

/* Whether item (len n) is one of sig's items. */
static int has_item(const char *sig, const char *item, size_t n)
{
  for (const char *p = sig; *p;) {
    const char *e = strchr(p, '\x1f');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l == n && !strncmp(p, item, n)) return 1;
    if (!e) break;
    p = e + 1;
  }
  return 0;
}

/* Two settings lists agree: no key is in both with different values (a key
 * only one has is not known for the other: a skipped row may carry fewer). */
static int compatible(const char *a, const char *b)
{
  for (const char *p = a; *p;) {
    const char *e = strchr(p, '\x1f'), *eq = strchr(p, '=');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (eq && eq < p + l) {
      size_t kl = (size_t)(eq - p) + 1;   /* "key=" */
      for (const char *q = b; *q;) {
        const char *f = strchr(q, '\x1f');
        size_t ql = f ? (size_t)(f - q) : strlen(q);
        if (ql >= kl && !strncmp(q, p, kl) && (ql != l || strncmp(q, p, l))) return 0;
        if (!f) break;
        q = f + 1;
      }
    }
    if (!e) break;
    p = e + 1;
  }
  return 1;
}

static int n_items(const char *sig)
{
  int n = *sig != 0;
  for (; *sig; sig++) n += *sig == '\x1f';
  return n;
}

/* The label of entry i: its name, with the settings in which it differs from
 * another entry of the same method and network. */
static void settings_label(mname *ms, int n, int i)
{
  char extra[160] = "";
  int siblings = 0;
  for (int k = 0; k < n; k++) siblings += k != i && !strcmp(ms[k].name, ms[i].name) && !strcmp(ms[k].net, ms[i].net);
  for (const char *p = ms[i].sig; siblings && *p;) {
    const char *e = strchr(p, '\x1f');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    int differs = 0;
    for (int k = 0; k < n; k++)
      if (k != i && !strcmp(ms[k].name, ms[i].name) && !strcmp(ms[k].net, ms[i].net)) differs |= !has_item(ms[k].sig, p, l);
    size_t o = strlen(extra);
    if (differs && !strncmp(p, "params.", 7) && l > 7) { p += 7; l -= 7; }   /* the label names a parameter bare */
    if (differs && o + l + 3 < sizeof extra) snprintf(extra + o, sizeof extra - o, "%s%.*s", o ? ", " : "", (int)l, p);
    if (!e) break;
    p = e + 1;
  }
  if (!extra[0] && siblings) snprintf(extra, sizeof extra, "settings #%d", ms[i].seq);   /* differ only in what a sibling lacks */
  if (extra[0]) snprintf(ms[i].label, sizeof ms[i].label, "%s [%s]", ms[i].name, extra);
  else snprintf(ms[i].label, sizeof ms[i].label, "%s", ms[i].name);
}

int rp_several_settings(const mname *ms, int n)
{
  for (int i = 0; i < n; i++)
    if (strcmp(ms[i].label, ms[i].name)) return 1;
  return 0;
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
  if (c) return c;
  if (a->net_rank != b->net_rank) return (a->net_rank > b->net_rank) - (a->net_rank < b->net_rank);
  return (a->seq > b->seq) - (a->seq < b->seq);
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
    char net[96], sig[sizeof out[0].sig];
    rp_network_of(r, net, sizeof net);
    if (unknown_input(net) != pass) continue;
    rp_settings_of(r, sig, sizeof sig);
    int covered = 0;
    for (int k = 0; pass && k < n; k++)
      covered |= !strcmp(out[k].name, m) && covers(out[k].net, net) && compatible(out[k].sig, sig);
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
      if (seen < 0 && strcmp(out[k].name, m) == 0 && strcmp(out[k].net, net) == 0 && compatible(out[k].sig, sig)) {
        seen = k;
        /* the entry takes the fuller settings (a skipped row may name fewer) */
        if (n_items(sig) > n_items(out[k].sig)) snprintf(out[k].sig, sizeof out[k].sig, "%s", sig);
      }
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
      snprintf(out[n].sig, sizeof out[0].sig, "%s", sig);
      out[n].seq = n;
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
  for (int k = 0; k < n; k++) settings_label(out, n, k);
  return n;
}

int rp_is_entry(row *r, const char *kind, const mname *m)
{
  if (strcmp(rp_kind_of(r), kind) || strcmp(S(r, "method"), m->name)) return 0;
  char net[96], sig[sizeof m->sig];
  rp_network_of(r, net, sizeof net);
  if (strcmp(net, m->net) && !(unknown_input(net) && covers(m->net, net))) return 0;
  rp_settings_of(r, sig, sizeof sig);
  return compatible(sig, m->sig);
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
  if (!net) { snprintf(out, len, "%s", ms[i].label); return; }
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
  snprintf(out, len, "%s (%s)", ms[i].label, *rest ? rest : *ms[i].net ? ms[i].net : "model not recorded");
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
