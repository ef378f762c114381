/* Writes a built report: report.md, report.tex, one CSV per table, one SVG
 * per figure and the self-contained report.html (renderers in report_render.c). */
#define _GNU_SOURCE
#include "harness/report_internal.h"
#include "util/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ----------------------------------------------------------------- output */

/* The report's files appear together or not at all: each is rendered into
 * memory, written to a temporary file and fsync()ed (core/atomic_file.h); only
 * when every one is on disk are they renamed into place. */
typedef struct {
  const char *dir;
  mb_afile *f;         /* the finished temporary files */
  int n, cap;
  char name[64];       /* the file being rendered */
  char *buf;
  size_t len;
} outset;

static FILE *open_out(outset *o, const char *name)
{
  snprintf(o->name, sizeof o->name, "%s", name);
  FILE *f = open_memstream(&o->buf, &o->len);
  if (!f) fprintf(stderr, "mnemobench: cannot write %s/%s: out of memory\n", o->dir, name);
  return f;
}

static int close_out(outset *o, FILE *mem)
{
  char path[2048], err[2300];
  int bad = ferror(mem) != 0;
  if (fclose(mem) != 0) bad = 1;
  if (bad) {
    fprintf(stderr, "mnemobench: cannot write %s/%s: out of memory\n", o->dir, o->name);
    free(o->buf);
    o->buf = NULL;
    return -1;
  }
  if (o->n == o->cap) {
    int nc = o->cap ? 2 * o->cap : 16;
    mb_afile *nf = realloc(o->f, sizeof *nf * (size_t)nc);
    if (!nf) { free(o->buf); o->buf = NULL; fprintf(stderr, "mnemobench: out of memory\n"); return -1; }
    o->f = nf;
    o->cap = nc;
  }
  snprintf(path, sizeof path, "%s/%s", o->dir, o->name);
  mb_afile *a = &o->f[o->n];
  int rc = mb_afile_open(a, path, err, sizeof err);
  if (rc == 0) {
    mb_afile_write(a, o->buf, o->len);
    rc = mb_afile_finish(a, err, sizeof err);
  }
  free(o->buf);
  o->buf = NULL;
  if (rc != 0) { fprintf(stderr, "mnemobench: cannot write the report: %s\n", err); return -1; }
  o->n++;
  return 0;
}

/* Renames every finished file into place (ok), or removes them all. */
static int end_out(outset *o, int ok)
{
  char err[2300];
  for (int i = 0; i < o->n; i++) {
    if (ok && mb_afile_publish(&o->f[i], err, sizeof err) != 0) {
      fprintf(stderr, "mnemobench: cannot write the report: %s\n", err);
      ok = 0;
    } else if (!ok) {
      mb_afile_discard(&o->f[i]);
    }
  }
  free(o->f);
  return ok ? 0 : -1;
}

static const mb_rtable *find_table(const mb_report *r, const char *id)
{
  for (int i = 0; i < r->ntables; i++)
    if (!strcmp(r->tables[i]->id, id)) return r->tables[i];
  return NULL;
}

/* Whether figure fg is drawn right after table t (Fig. 3 with its table, Fig. 5 with
 * the FIM table, the λ figures with the λ table). */
static int figure_follows(const mb_rfigure *fg, const mb_rtable *t)
{
  return (!strcmp(fg->id, "fig3") && !strcmp(t->id, "fig3")) || (!strcmp(fg->id, "fig5") && !strcmp(t->id, "fim")) ||
         (!strncmp(fg->id, "fig-", 4) && !strcmp(t->id, "lambda")) ||
         (!strncmp(fg->id, "figxv-", 6) && !strcmp(t->id, "xvendor"));
}

void mb_report_markdown(const mb_report *r, FILE *f)
{
  fprintf(f, "# %s\n\n%s\n\n", r->title, r->summary);
  for (int i = 0; i < r->ntables; i++) {
    const mb_rtable *t = r->tables[i];
    for (int g = 0; g < r->nfigs; g++) {
      const mb_rfigure *fg = r->figs[g];
      int here = figure_follows(fg, t);
      if (here) fprintf(f, "![%s](%s.svg)\n\n", fg->title, fg->id);
    }
    mb_rt_markdown(t, f);
  }
}

static const char k_css[] =
  "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
  "table{border-collapse:collapse;margin:.5em 0 1em}th,td{padding:.25em .7em;border-bottom:1px solid #ccc}"
  "thead th{border-bottom:2px solid #333;text-align:left}td.num{text-align:right}"
  ".missing{color:#999}.caption,.notes{font-size:.85em;color:#555}figure{margin:1em 0}"
  "figcaption{font-size:.85em;color:#555;max-width:720px}";

/* ------------------------------------------------------- stale files */

/* The ids of every table this report can write (the CSV files it owns). */
static const char *const k_table_ids[] = {"table1", "table2", "table3", "quality", "fig3", "backends", "merge",
                                          "xvendor", "pp", "xagree", "table4", "throughput", "table5", "lambda", "fim"};

static int written(const mb_report *r, const char *name)
{
  if (!strcmp(name, "report.md") || !strcmp(name, "report.tex") || !strcmp(name, "report.html")) return 1;
  char f[64];
  for (int i = 0; i < r->ntables; i++) {
    snprintf(f, sizeof f, "%s.csv", r->tables[i]->id);
    if (!strcmp(f, name)) return 1;
  }
  for (int i = 0; i < r->nfigs; i++) {
    snprintf(f, sizeof f, "%s.svg", r->figs[i]->id);
    if (!strcmp(f, name)) return 1;
  }
  return 0;
}

/* A file of an earlier report: one of the table CSVs, or an SVG named as the
 * report's figures are (fig3, fig5, fig-EXPERIMENT, figxv-N) that the report
 * drew (its class="mb-fig" root). */
static int report_file_name(const char *dir, const char *name)
{
  size_t n = strlen(name);
  if (n > 4 && !strcmp(name + n - 4, ".csv")) {
    for (size_t i = 0; i < sizeof k_table_ids / sizeof k_table_ids[0]; i++)
      if (n - 4 == strlen(k_table_ids[i]) && !strncmp(name, k_table_ids[i], n - 4)) return 1;
    return 0;
  }
  if (n > 4 && !strcmp(name + n - 4, ".svg") && !strncmp(name, "fig", 3)) {
    char path[4200], head[512];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t got = fread(head, 1, sizeof head - 1, f);
    fclose(f);
    head[got] = 0;
    return strstr(head, "class=\"mb-fig\"") != NULL;
  }
  return 0;
}

/* Removes the files an earlier report left in dir that this one did not write,
 * so the folder holds exactly this report (files of other names are left). */
static void remove_stale(const mb_report *r, const char *dir)
{
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char names[64][256];
  int n = 0;
  while ((e = readdir(d)) && n < 64 && strlen(e->d_name) < sizeof names[0])
    if (!written(r, e->d_name) && report_file_name(dir, e->d_name)) snprintf(names[n++], sizeof names[0], "%s", e->d_name);
  closedir(d);
  for (int i = 0; i < n; i++) {
    char path[4200];
    if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int)sizeof path) continue;
    if (unlink(path) != 0 && errno != ENOENT)
      fprintf(stderr, "mnemobench: cannot remove the earlier report's %s: %s\n", path, strerror(errno));
  }
}

int mb_report_write(const mb_report *r, const char *dir)
{
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "mnemobench: cannot create %s: %s\n", dir, strerror(errno));
    return -1;
  }
  outset o = {.dir = dir};
  FILE *f;
  if (!(f = open_out(&o, "report.md"))) return end_out(&o, 0);
  mb_report_markdown(r, f);
  if (close_out(&o, f)) return end_out(&o, 0);
  if (!(f = open_out(&o, "report.tex"))) return end_out(&o, 0);
  fprintf(f, "%% mnemobench report: tables for a paper (\\usepackage{booktabs}).\n%% ");
  for (const char *p = r->summary; *p; p++) fputc(*p == '\n' ? ' ' : *p, f);
  fputs("\n%% Figures: the .svg files next to this one (convert to PDF, e.g. rsvg-convert -f pdf).\n\n", f);
  for (int i = 0; i < r->ntables; i++) mb_rt_latex(r->tables[i], f);
  if (close_out(&o, f)) return end_out(&o, 0);
  for (int i = 0; i < r->ntables; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s.csv", r->tables[i]->id);
    if (!(f = open_out(&o, name))) return end_out(&o, 0);
    mb_rt_csv(r->tables[i], f);
    if (close_out(&o, f)) return end_out(&o, 0);
  }
  for (int i = 0; i < r->nfigs; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s.svg", r->figs[i]->id);
    if (!(f = open_out(&o, name))) return end_out(&o, 0);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    mb_rf_svg(r->figs[i], f);
    if (close_out(&o, f)) return end_out(&o, 0);
  }
  if (!(f = open_out(&o, "report.html"))) return end_out(&o, 0);
  fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n",
          r->title, k_css);
  fprintf(f, "<h1>%s</h1>\n<p class=\"caption\">", r->title);
  for (const char *p = r->summary; *p; p++) {
    if (*p == '<') fputs("&lt;", f);
    else if (*p == '&') fputs("&amp;", f);
    else fputc(*p, f);
  }
  fputs("</p>\n", f);
  for (int i = 0; i < r->ntables; i++) {
    const mb_rtable *t = r->tables[i];
    for (int g = 0; g < r->nfigs; g++) {
      const mb_rfigure *fg = r->figs[g];
      int here = figure_follows(fg, t);
      if (!here) continue;
      fprintf(f, "<figure id=\"%s\">\n", fg->id);
      mb_rf_svg(fg, f);
      fputs("<figcaption>", f);
      for (const char *p = fg->caption; *p; p++) {
        if (*p == '<') fputs("&lt;", f);
        else if (*p == '&') fputs("&amp;", f);
        else fputc(*p, f);
      }
      fputs("</figcaption>\n</figure>\n", f);
    }
    mb_rt_html(t, f);
  }
  /* marks the page once every figure has laid out with a non-empty box (the
   * headless-browser test reads this attribute back from the DOM) */
  fputs("<script>\nwindow.addEventListener('load',function(){var s=document.querySelectorAll('svg.mb-fig'),n=0,m=0;"
        "for(var i=0;i<s.length;i++){var b=s[i].getBBox();if(b.width>0&&b.height>0)n++;"
        "m+=s[i].querySelectorAll('rect.bar,circle.point,path.series').length;}"
        "document.body.setAttribute('data-figures',s.length);document.body.setAttribute('data-figures-rendered',n);"
        "document.body.setAttribute('data-marks',m);});\n</script>\n</body>\n</html>\n", f);
  if (close_out(&o, f)) return end_out(&o, 0);
  (void)find_table;
  if (end_out(&o, 1) != 0) return -1;
  remove_stale(r, dir);
  return 0;
}

