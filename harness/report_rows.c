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

static int cmp_method(const void *x, const void *y)
{
  const mname *a = x, *b = y;
  return a->rank != b->rank ? (a->rank > b->rank) - (a->rank < b->rank) : strcmp(a->name, b->name);
}

int rp_methods_of(const sel *s, const char *kind, mname *out, int max)
{
  int n = 0;
  for (int i = 0; i < s->n; i++) {
    row *r = s->v[i];
    if (strcmp(rp_kind_of(r), kind) != 0) continue;
    const char *m = S(r, "method");
    if (!*m) continue;
    int seen = -1;
    for (int k = 0; k < n; k++)
      if (strcmp(out[k].name, m) == 0) seen = k;
    double order = N(r, "method_order");
    int rank = rp_int(order, -(1 << 20), 1 << 20, 1000 + n);
    if (seen >= 0) {
      if (rank < out[seen].rank) out[seen].rank = rank;
      continue;
    }
    if (n < max) {
      snprintf(out[n].name, sizeof out[0].name, "%s", m);
      out[n++].rank = rank;
    }
  }
  qsort(out, (size_t)n, sizeof *out, cmp_method);
  return n;
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

const char *rp_why_missing(const sel *s, const char *kind, const char *method, const char *backend)
{
  for (int i = s->n - 1; i >= 0; i--) {
    row *r = s->v[i];
    if (strcmp(rp_kind_of(r), kind) || strcmp(S(r, "method"), method)) continue;
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
