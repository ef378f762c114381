/* Builds the report from result rows (see report.h): the selected rows, the
 * provenance summary, then every table and figure (report_tables.c,
 * report_scale.c). */
#include "harness/report_internal.h"

#include <stdlib.h>

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
  /* the device list is cut to leave room for the rest of the line */
  snprintf(r->summary, sizeof r->summary,
           "%d rows (%d ok, %d skipped, %d failed; %d corrupt lines skipped). Data: %s. Commit %s (%s), %.0f threads. "
           "Paper tables from backend %s. Devices: %.1700s",
           s.n, ok, skipped, failed, rs->n_corrupt, first ? S(first, "dataset") : "—",
           first ? S(first, "commit") : "—", first ? S(first, "build") : "—",
           first ? N(first, "threads") : NAN, be_copy, seen[0] ? seen : "none");
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
  rp_lambda_sweep(r, &s);
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

