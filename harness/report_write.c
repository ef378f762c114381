/* Writes a built report: report.md, report.tex, one CSV per table, one SVG
 * per figure and the self-contained report.html (renderers in report_render.c). */
#define _GNU_SOURCE
#include "harness/report_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

/* ----------------------------------------------------------------- output */

static FILE *open_out(const char *dir, const char *name)
{
  char path[2048];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) fprintf(stderr, "mnemobench: cannot write %s: %s\n", path, strerror(errno));
  return f;
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

int mb_report_write(const mb_report *r, const char *dir)
{
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "mnemobench: cannot create %s: %s\n", dir, strerror(errno));
    return -1;
  }
  FILE *f;
  if (!(f = open_out(dir, "report.md"))) return -1;
  mb_report_markdown(r, f);
  fclose(f);
  if (!(f = open_out(dir, "report.tex"))) return -1;
  fprintf(f, "%% mnemobench report: tables for a paper (\\usepackage{booktabs}).\n%% ");
  for (const char *p = r->summary; *p; p++) fputc(*p == '\n' ? ' ' : *p, f);
  fputs("\n%% Figures: the .svg files next to this one (convert to PDF, e.g. rsvg-convert -f pdf).\n\n", f);
  for (int i = 0; i < r->ntables; i++) mb_rt_latex(r->tables[i], f);
  fclose(f);
  for (int i = 0; i < r->ntables; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s.csv", r->tables[i]->id);
    if (!(f = open_out(dir, name))) return -1;
    mb_rt_csv(r->tables[i], f);
    fclose(f);
  }
  for (int i = 0; i < r->nfigs; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s.svg", r->figs[i]->id);
    if (!(f = open_out(dir, name))) return -1;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    mb_rf_svg(r->figs[i], f);
    fclose(f);
  }
  if (!(f = open_out(dir, "report.html"))) return -1;
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
  fclose(f);
  (void)find_table;
  return 0;
}

