/* Reports from result rows: tables and figures built from the rows alone, and
 * their renderings (Markdown, LaTeX booktabs, CSV, one HTML page with inline
 * SVG).  A cell that is not a number is NULL: rendered as an em dash with a
 * footnote giving the reason. */
#ifndef MB_REPORT_H
#define MB_REPORT_H

#include "harness/results.h"

#include <stdio.h>

#define MB_RT_MAX_NOTES 32

typedef struct {
  char *text;       /* NULL: missing */
  int note;         /* 1-based footnote of this table, or 0 */
} mb_rcell;

typedef struct {
  char id[32];      /* file stem: "table2" */
  char title[160];
  char caption[1024];
  int nrows, ncols, cap_rows;
  char **head;
  mb_rcell *cells;  /* nrows × ncols */
  char *notes[MB_RT_MAX_NOTES];
  int nnotes;
} mb_rtable;

typedef struct {
  char name[96];
  int n;
  double *x, *y, *lo, *hi;   /* lo/hi: error bars (NaN: none) */
  int dashed;
} mb_rseries;

typedef struct {
  char id[32];
  char title[160];
  char caption[1024];
  char xlabel[96], ylabel[96];
  int bars;                  /* 1: one bar per category (series 0), labels in cats */
  int logx, logy;
  char **cats; int ncats;
  mb_rseries series[8]; int nseries;
} mb_rfigure;

typedef struct {
  mb_rtable *tables[24]; int ntables;
  mb_rfigure *figs[12]; int nfigs;
  char title[256];
  char summary[4096];        /* provenance line(s) */
  char warn[1024];           /* what the summary warns of (mixed builds replaced, objects dropped),
                                for stderr; "" when nothing */
} mb_report;

/* Builds every table and figure from the rows (deduplicated per cell: the
 * last ok row, else the last row).  backend: the backend of the paper tables,
 * or NULL to choose (cuda, cpu, vulkan, opencl, ref: the first with rows). */
int mb_report_build(const mb_rowset *rs, const char *backend, mb_report *r);
/* The same for rows read from several files (names[f] for the rows' file index f):
 * adds the merge table (what each file lacks) and keys the CPU-type devices of the
 * cross-vendor section by file (one machine each). */
int mb_report_build_files(const mb_rowset *rs, const char *backend, int nfiles, const char *const *names,
                          mb_report *r);
/* -1 with a one-line message when two files hold rows of one spec name with different
 * spec_hash (the spec's text changed between the runs); else 0. */
int mb_report_check_specs(const mb_rowset *rs, int nfiles, const char *const *names, char *err, size_t len);
/* -1 with a one-line message when a row's "schema" is not a mnemobench result
 * schema (mnemobench.result/N, or the older mnemobench.bench/1, mnemobench.scale/1:
 * a foreign file), or when no row is a result row (an empty file); else 0.
 * Objects without a schema or a method are not refused: the report counts them. */
int mb_report_check_rows(const mb_rowset *rs, int nfiles, const char *const *names, char *err, size_t len);
void mb_report_free(mb_report *r);

/* Writes report.md, report.tex, report.html, <id>.csv and <id>.svg into dir. */
int mb_report_write(const mb_report *r, const char *dir);
/* The Markdown of every table to f (no figures' SVG). */
void mb_report_markdown(const mb_report *r, FILE *f);

/* Renderers (report_render.c). */
void mb_rt_markdown(const mb_rtable *t, FILE *f);
void mb_rt_latex(const mb_rtable *t, FILE *f);
void mb_rt_csv(const mb_rtable *t, FILE *f);
void mb_rt_html(const mb_rtable *t, FILE *f);
void mb_rf_svg(const mb_rfigure *g, FILE *f);

/* Table building helpers. */
mb_rtable *mb_rt_new(const char *id, const char *title, int ncols, const char *const *head);
int mb_rt_add_row(mb_rtable *t);                     /* returns the row index */
void mb_rt_set(mb_rtable *t, int row, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void mb_rt_missing(mb_rtable *t, int row, int col, const char *reason);
void mb_rt_free(mb_rtable *t);

/* --compare: rows of OLD against NEW, like cells only; prints the findings, returns
 * the number of regressions, missing and not comparable cells, plus one when nothing
 * was compared (0: passed). */
typedef struct {
  double time_tol;     /* relative: a slower median must also exceed this (0.10) */
  double acc_tol;      /* percentage points for A_R / E_F (1.0) */
  double agree_tol;    /* percentage points for agreement with ref (1.0) */
} mb_compare_opts;
int mb_report_compare(const mb_rowset *old_rows, const mb_rowset *new_rows, const mb_compare_opts *o,
                      FILE *out);

#endif
