/* Builds the report from result rows (see report.h): the selected rows, the
 * provenance summary, then every table and figure (report_tables.c,
 * report_scale.c). */
#include "harness/report_internal.h"

#include <stdlib.h>

/* After snprintf gave n for a buffer of len: a cut line ends in "..." so it is never
 * read as whole. */
static void mark_cut(char *buf, size_t len, int n)
{
  if (n >= 0 && (size_t)n >= len && len > 4) memcpy(buf + len - 4, "...", 4);
}

int mb_report_build(const mb_rowset *rs, const char *backend, mb_report *r)
{
  return mb_report_build_files(rs, backend, 1, NULL, r);
}

int mb_report_build_files(const mb_rowset *rs, const char *backend, int nfiles, const char *const *names,
                          mb_report *r)
{
  memset(r, 0, sizeof *r);
  sel s = rp_select_rows(rs);
  if (!s.v) return -1;
  const char *be = rp_choose_backend(&s, backend);
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
      rp_short_device(S(x, "device"), dev, sizeof dev);
      snprintf(item, sizeof item, "%s: %s; ", S(x, "backend"), dev);
      if (!strstr(seen, item) && strlen(seen) + strlen(item) < sizeof seen - 1) strcat(seen, item);
    }
  }
  row *first = NULL;
  for (int i = 0; i < s.n && !first; i++) if (is_ok(s.v[i])) first = s.v[i];
  /* every commit/build/thread count of the rows that give numbers (ok rows; else all),
   * and the kinds whose tables mix several */
  struct { char prov[160]; int rows; } pv[16];
  int npv = 0, more = 0;
  char kinds[8][16];
  char kprov[8][160];
  int nk = 0, kmixed[8] = {0};
  for (int pass = 0; pass < 2 && !npv; pass++)
    for (int i = 0; i < s.n; i++) {
      row *x = s.v[i];
      if (pass == 0 && !is_ok(x)) continue;
      char p[160];
      rp_provenance(x, p, sizeof p);
      int k = 0;
      while (k < npv && strcmp(pv[k].prov, p)) k++;
      if (k == npv) {
        if (npv == 16) { more++; continue; }
        snprintf(pv[npv].prov, sizeof pv[0].prov, "%s", p);
        pv[npv++].rows = 0;
      }
      pv[k].rows++;
      if (pass) continue;
      const char *kd = rp_kind_of(x);
      int j = 0;
      while (j < nk && strcmp(kinds[j], kd)) j++;
      if (j == nk && nk < 8) {
        snprintf(kinds[nk], sizeof kinds[0], "%s", kd);
        snprintf(kprov[nk++], sizeof kprov[0], "%s", p);
      } else if (j < nk && strcmp(kprov[j], p)) {
        kmixed[j] = 1;
      }
    }
  char prov[1400] = "";
  if (npv <= 1) {
    snprintf(prov, sizeof prov, "Commit %s", npv ? pv[0].prov : "— (—), threads not recorded");
  } else {
    size_t o = (size_t)snprintf(prov, sizeof prov, "Commits/builds/threads (%d): ", npv + more);
    for (int k = 0; k < npv && o < sizeof prov; k++)
      o += (size_t)snprintf(prov + o, sizeof prov - o, "%s%s: %d row%s", k ? "; " : "", pv[k].prov, pv[k].rows,
                            pv[k].rows == 1 ? "" : "s");
    if (more && o < sizeof prov) o += (size_t)snprintf(prov + o, sizeof prov - o, "; and %d more", more);
    if (o < sizeof prov) o += (size_t)snprintf(prov + o, sizeof prov - o, ". MIXED BUILDS: the tables of kind");
    int any = 0;
    for (int j = 0; j < nk && o < sizeof prov; j++)
      if (kmixed[j]) o += (size_t)snprintf(prov + o, sizeof prov - o, "%s %s", any++ ? "," : "", kinds[j]);
    if (!any && o < sizeof prov) o += (size_t)snprintf(prov + o, sizeof prov - o, "s shown");
    if (o < sizeof prov)
      snprintf(prov + o, sizeof prov - o, " %s",
               any ? "mix rows of these builds (main: Tables 1-3, the quality table, Figure 3, the backend and "
                     "cross-vendor tables; tmix: Table 5; lambda: the λ sweeps; scale: Table 4)"
                   : "each hold rows of one build, but they differ between tables");
  }
  char notes[1024] = "";
  if (s.n_replaced)
    snprintf(notes + strlen(notes), sizeof notes - strlen(notes),
             " %d cell(s) had a row of another commit/build/threads replaced by a later row (the later ok row counts), "
             "e.g. %s.", s.n_replaced, s.replaced_eg);
  if (s.n_dropped)
    snprintf(notes + strlen(notes), sizeof notes - strlen(notes),
             " %d object(s) without a method (no forgetting, scale or throughput row) skipped.", s.n_dropped);
  if (npv > 1)
    mark_cut(r->warn, sizeof r->warn,
             snprintf(r->warn, sizeof r->warn,
                      "the rows come from %d commits/builds/thread counts (the header lists them).%s",
                      npv + more, notes));
  else
    snprintf(r->warn, sizeof r->warn, "%s", notes[0] ? notes + 1 : "");
  /* the device list is cut to leave room for the rest of the line */
  mark_cut(r->summary, sizeof r->summary,
           snprintf(r->summary, sizeof r->summary,
                    "%d rows (%d ok, %d skipped, %d failed; %d corrupt lines skipped). Data: %s. %s. "
                    "Paper tables from backend %s.%s Devices: %.1700s",
                    s.n, ok, skipped, failed, rs->n_corrupt, first ? S(first, "dataset") : "—", prov,
                    be_copy, notes, seen[0] ? seen : "none"));
  rp_table1(r, &s, be_copy);
  rp_table_metric(r, &s, be_copy, "table2", "Table 2: A_R after forgetting (accuracy on the remaining classes)", "A_R", "A_R_before");
  rp_table_metric(r, &s, be_copy, "table3", "Table 3: E_F after forgetting (error on the forgotten class)", "E_F", "E_F_before");
  rp_quality_table(r, &s, be_copy);
  rp_figure3(r, &s, be_copy);
  rp_backend_table(r, &s);
  rp_merge_table(r, rs, nfiles, names);
  rp_crossvendor(r, &s, nfiles, names);
  rp_table4(r, &s);
  rp_throughput_table(r, &s);
  rp_table5(r, &s);
  rp_lambda_sweep(r, &s, be_copy);
  rp_fim_table(r, &s);
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

