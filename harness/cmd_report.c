/* mnemobench report: tables and figures from results files; --compare. */
#include "harness/commands.h"
#include "harness/report.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char k_usage[] =
  "usage: mnemobench report RESULTS... [--out DIR] [--backend NAME]\n"
  "       mnemobench report --compare OLD NEW [--time-tol X] [--acc-tol PP] [--out DIR]\n"
  "Reads result rows (JSON lines from `mnemobench bench`, `forget --json`, `bench-scale\n"
  "--json` or `bench-train --json`) and writes Table 1 (data needed, measured forward/backward\n"
  "passes), Table 2 (A_R), Table 3 (E_F), Figure 3 (forgetting time per method, log scale),\n"
  "the backend table (time, speed-up over ref, agreement with ref), Table 4 (the scalability\n"
  "point: time, passes and code batch per method and backend), the throughput table\n"
  "(training samples/s, forgetting latency, GEMM GFLOP/s per backend), Table 5 (t_mix sweep),\n"
  "the λ sweep figure and the FIM error of Fig. 5, as report.md, report.tex (booktabs), one CSV per table, one SVG per figure and a\n"
  "self-contained report.html, into DIR (default: report/).  Without --out the Markdown goes\n"
  "to stdout.  Several files (e.g. one per machine) merge: rows of one spec must carry the same\n"
  "spec_hash; tables are keyed by (backend, device); a merge table says which cells each file\n"
  "lacks; with two or more (device, API) platforms a cross-vendor section gives time, speed-up\n"
  "over ref, efficiency against the best API on the same device, Pennycook's performance\n"
  "portability per method and for the suite, agreement with ref per device, and a figure of\n"
  "each device seen through several APIs.  A corrupt line is reported with its line number\n"
  "and the rest is read.\n"
  "  --backend NAME   backend of the paper tables (default: cuda, cpu, vulkan, opencl, ref:\n"
  "                   the first with rows)\n"
  "  --compare OLD NEW  like cells only: flag time regressions beyond the measured spread, A_R /\n"
  "                   E_F falls and lost agreement with ref; name cells of OLD missing from NEW,\n"
  "                   cells whose settings differ (not compared) or whose device, build or threads\n"
  "                   differ (time not compared), and NEW-only cells; exit status 1 when there is\n"
  "                   any finding but a NEW-only cell, or when nothing was compared\n"
  "  --time-tol X     relative slow-down that must also be exceeded (default 0.10)\n"
  "  --acc-tol PP     A_R / E_F fall in percentage points (default 1.0)\n";

/* "mnemobench: MSG" on stderr (the report links no core, so not mb_die_msg). */
static void report_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report_msg(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fputs("mnemobench: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

int mb_cmd_report(int argc, char **argv)
{
  static const struct option lo[] = {
    {"out", required_argument, 0, 'o'},      {"backend", required_argument, 0, 'b'},
    {"compare", no_argument, 0, 'c'},        {"time-tol", required_argument, 0, 't'},
    {"acc-tol", required_argument, 0, 'a'},  {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
  };
  const char *out = NULL, *backend = NULL;
  int compare = 0;
  mb_compare_opts co = {0.10, 1.0, 1.0};
  optind = 1;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    char *end;
    switch (ch) {
    case 'o': out = optarg; break;
    case 'b': backend = optarg; break;
    case 'c': compare = 1; break;
    case 't': co.time_tol = strtod(optarg, &end); if (*end || co.time_tol < 0) goto bad; break;
    case 'a': co.acc_tol = strtod(optarg, &end); if (*end || co.acc_tol < 0) goto bad; break;
    case 'h': fputs(k_usage, stdout); return 0;
    default:
    bad:
      report_msg("report: bad or unknown option '%s'\n%s", argv[optind - 1], k_usage);
      return 2;
    }
  }
  int nfiles = argc - optind;
  if (nfiles < 1 || (compare && nfiles != 2)) {
    report_msg("report: %s\n%s", compare ? "--compare needs OLD and NEW" : "no results file given", k_usage);
    return 2;
  }
  if (compare) {
    mb_rowset a = {0}, b = {0};
    if (mb_rows_read(argv[optind], 0, &a, stderr) != 0 || mb_rows_read(argv[optind + 1], 1, &b, stderr) != 0) {
      mb_rows_free(&a);
      mb_rows_free(&b);
      return 2;
    }
    printf("mnemobench report --compare %s %s\n\n", argv[optind], argv[optind + 1]);
    int n = mb_report_compare(&a, &b, &co, stdout);
    if (out) {
      char path[2048];
      snprintf(path, sizeof path, "%s/compare.md", out);
      FILE *f = fopen(path, "w");
      if (f) { mb_report_compare(&a, &b, &co, f); fclose(f); }
    }
    mb_rows_free(&a);
    mb_rows_free(&b);
    return n ? 1 : 0;
  }
  mb_rowset rs = {0};
  int unreadable = 0;
  for (int i = 0; i < nfiles; i++) unreadable += mb_rows_read(argv[optind + i], i, &rs, stderr) != 0;
  /* a report of some of the files would pass for the whole: nothing is written */
  if (unreadable) {
    if (nfiles > 1) report_msg("report: %d of %d results files cannot be read (above); nothing written", unreadable, nfiles);
    mb_rows_free(&rs);
    return 2;
  }
  const char *const *names = (const char *const *)(argv + optind);
  char err[600];
  if (mb_report_check_rows(&rs, nfiles, names, err, sizeof err) != 0 ||
      mb_report_check_specs(&rs, nfiles, names, err, sizeof err) != 0) {
    report_msg("report: %s", err);
    mb_rows_free(&rs);
    return 2;
  }
  mb_report r;
  if (mb_report_build_files(&rs, backend, nfiles, names, &r) != 0) {
    report_msg("report: out of memory");
    mb_rows_free(&rs);
    return 1;
  }
  if (r.warn[0]) report_msg("report: %s", r.warn);
  int rc = 0;
  if (out) {
    rc = mb_report_write(&r, out) != 0;
    if (!rc) fprintf(stderr, "mnemobench report: %d tables, %d figures in %s/ (report.md, report.tex, report.html, *.csv, *.svg)\n",
                     r.ntables, r.nfigs, out);
  } else {
    mb_report_markdown(&r, stdout);
  }
  if (rs.n_corrupt) fprintf(stderr, "mnemobench report: %d corrupt line(s) skipped (see above)\n", rs.n_corrupt);
  mb_report_free(&r);
  mb_rows_free(&rs);
  return rc ? 1 : 0;
}
