/* Report tables and figures: building helpers and renderers (Markdown, LaTeX
 * booktabs, CSV, HTML, SVG).  Every number comes from the rows; a missing
 * cell is an em dash with a footnote. */
#include "harness/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* --------------------------------------------------------------- building */

mb_rtable *mb_rt_new(const char *id, const char *title, int ncols, const char *const *head)
{
  mb_rtable *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  snprintf(t->id, sizeof t->id, "%s", id);
  snprintf(t->title, sizeof t->title, "%s", title);
  t->ncols = ncols;
  t->head = calloc((size_t)ncols, sizeof *t->head);
  for (int i = 0; i < ncols && t->head; i++) t->head[i] = strdup(head[i]);
  return t;
}

int mb_rt_add_row(mb_rtable *t)
{
  if (t->nrows == t->cap_rows) {
    int nc = t->cap_rows ? 2 * t->cap_rows : 16;
    mb_rcell *c = realloc(t->cells, sizeof *c * (size_t)nc * (size_t)t->ncols);
    if (!c) return t->nrows - 1;
    t->cells = c;
    t->cap_rows = nc;
  }
  memset(&t->cells[(size_t)t->nrows * t->ncols], 0, sizeof *t->cells * (size_t)t->ncols);
  return t->nrows++;
}

void mb_rt_set(mb_rtable *t, int row, int col, const char *fmt, ...)
{
  if (row < 0 || col >= t->ncols) return;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  mb_rcell *c = &t->cells[(size_t)row * t->ncols + col];
  free(c->text);
  c->text = strdup(buf);
}

void mb_rt_missing(mb_rtable *t, int row, int col, const char *reason)
{
  if (row < 0 || col >= t->ncols) return;
  mb_rcell *c = &t->cells[(size_t)row * t->ncols + col];
  free(c->text);
  c->text = NULL;
  const char *r = reason && *reason ? reason : "no result";
  for (int i = 0; i < t->nnotes; i++)
    if (strcmp(t->notes[i], r) == 0) { c->note = i + 1; return; }
  if (t->nnotes < MB_RT_MAX_NOTES) {
    t->notes[t->nnotes++] = strdup(r);
    c->note = t->nnotes;
  } else {
    c->note = MB_RT_MAX_NOTES;
  }
}

void mb_rt_free(mb_rtable *t)
{
  if (!t) return;
  for (int i = 0; i < t->ncols && t->head; i++) free(t->head[i]);
  free(t->head);
  for (int i = 0; i < t->nrows * t->ncols; i++) free(t->cells[i].text);
  free(t->cells);
  for (int i = 0; i < t->nnotes; i++) free(t->notes[i]);
  free(t);
}

static const mb_rcell *cell_at(const mb_rtable *t, int r, int c) { return &t->cells[(size_t)r * t->ncols + c]; }

/* --------------------------------------------------------------- Markdown */

static void md_text(FILE *f, const char *s)
{
  for (; *s; s++) {
    if (*s == '|') fputs("\\|", f);
    else if (*s == '\n') fputc(' ', f);
    else fputc(*s, f);
  }
}

void mb_rt_markdown(const mb_rtable *t, FILE *f)
{
  fprintf(f, "### %s\n\n", t->title);
  fputc('|', f);
  for (int c = 0; c < t->ncols; c++) { fputc(' ', f); md_text(f, t->head[c]); fputs(" |", f); }
  fputs("\n|", f);
  for (int c = 0; c < t->ncols; c++) fputs(c ? " ---: |" : " --- |", f);
  fputc('\n', f);
  for (int r = 0; r < t->nrows; r++) {
    fputc('|', f);
    for (int c = 0; c < t->ncols; c++) {
      const mb_rcell *x = cell_at(t, r, c);
      fputc(' ', f);
      if (x->text) md_text(f, x->text);
      else fputs("—", f);
      if (x->note) fprintf(f, " [%d]", x->note);
      fputs(" |", f);
    }
    fputc('\n', f);
  }
  fputc('\n', f);
  for (int i = 0; i < t->nnotes; i++) {
    fprintf(f, "[%d] ", i + 1);
    md_text(f, t->notes[i]);
    fputs("  \n", f);
  }
  if (t->caption[0]) { fputs(t->nnotes ? "\n" : "", f); md_text(f, t->caption); fputc('\n', f); }
  fputc('\n', f);
}

/* ------------------------------------------------------------------ LaTeX */

static void tex_text(FILE *f, const char *s)
{
  static const struct { const char *u, *tex; } map[] = {
    {"±", "$\\pm$"}, {"×", "$\\times$"}, {"—", "---"}, {"–", "--"}, {"λ", "$\\lambda$"},
    {"‖", "$\\|$"}, {"≤", "$\\le$"}, {"≥", "$\\ge$"}, {"Δ", "$\\Delta$"}, {"₁", "$_1$"},
    {"₂", "$_2$"}, {"²", "$^2$"}, {"η", "$\\eta$"}, {"ξ", "$\\xi$"}, {"·", "$\\cdot$"},
    {"→", "$\\to$"}, {"µ", "$\\mu$"}, {"≈", "$\\approx$"}, {"−", "$-$"},
  };
  while (*s) {
    int done = 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
      size_t n = strlen(map[i].u);
      if (strncmp(s, map[i].u, n) == 0) { fputs(map[i].tex, f); s += n; done = 1; break; }
    }
    if (done) continue;
    switch (*s) {
    case '&': case '%': case '$': case '#': case '_': case '{': case '}': fprintf(f, "\\%c", *s); break;
    case '~': fputs("\\textasciitilde{}", f); break;
    case '^': fputs("\\textasciicircum{}", f); break;
    case '\\': fputs("\\textbackslash{}", f); break;
    case '<': fputs("\\textless{}", f); break;
    case '>': fputs("\\textgreater{}", f); break;
    case '\n': fputc(' ', f); break;
    default: fputc(*s, f);
    }
    s++;
  }
}

void mb_rt_latex(const mb_rtable *t, FILE *f)
{
  fprintf(f, "\\begin{table}[t]\n\\centering\n\\caption{");
  tex_text(f, t->title);
  fprintf(f, "}\n\\label{tab:%s}\n\\begin{tabular}{l", t->id);
  for (int c = 1; c < t->ncols; c++) fputc('r', f);
  fputs("}\n\\toprule\n", f);
  for (int c = 0; c < t->ncols; c++) { fputs(c ? " & " : "", f); tex_text(f, t->head[c]); }
  fputs(" \\\\\n\\midrule\n", f);
  for (int r = 0; r < t->nrows; r++) {
    for (int c = 0; c < t->ncols; c++) {
      const mb_rcell *x = cell_at(t, r, c);
      fputs(c ? " & " : "", f);
      if (x->text) tex_text(f, x->text);
      else fputs("---", f);
      if (x->note) fprintf(f, "\\textsuperscript{%d}", x->note);
    }
    fputs(" \\\\\n", f);
  }
  fputs("\\bottomrule\n\\end{tabular}\n", f);
  if (t->nnotes || t->caption[0]) {
    fputs("\\par\\smallskip\\footnotesize\n", f);
    for (int i = 0; i < t->nnotes; i++) {
      fprintf(f, "\\textsuperscript{%d} ", i + 1);
      tex_text(f, t->notes[i]);
      fputs("\\\\\n", f);
    }
    if (t->caption[0]) { tex_text(f, t->caption); fputc('\n', f); }
  }
  fputs("\\end{table}\n\n", f);
}

/* -------------------------------------------------------------------- CSV */

static void csv_field(FILE *f, const char *s)
{
  if (!strpbrk(s, ",\"\n\r")) { fputs(s, f); return; }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

void mb_rt_csv(const mb_rtable *t, FILE *f)
{
  for (int c = 0; c < t->ncols; c++) { fputs(c ? "," : "", f); csv_field(f, t->head[c]); }
  fputs(",note\n", f);
  for (int r = 0; r < t->nrows; r++) {
    char notes[2048] = "";
    size_t o = 0;
    for (int c = 0; c < t->ncols; c++) {
      const mb_rcell *x = cell_at(t, r, c);
      fputs(c ? "," : "", f);
      /* a missing cell is empty here: its reason goes into the note column */
      if (x->text) csv_field(f, x->text);
      int dup = 0;
      for (int k = 0; k < c; k++) dup |= cell_at(t, r, k)->note == x->note;
      if (x->note && !dup && o < sizeof notes - 8)
        o += (size_t)snprintf(notes + o, sizeof notes - o, "%s%s: %s", o ? "; " : "", t->head[c],
                              t->notes[x->note - 1]);
    }
    fputc(',', f);
    csv_field(f, notes);
    fputc('\n', f);
  }
}

/* ------------------------------------------------------------------- HTML */

static void html_text(FILE *f, const char *s)
{
  for (; *s; s++) {
    switch (*s) {
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '&': fputs("&amp;", f); break;
    case '"': fputs("&quot;", f); break;
    default: fputc(*s, f);
    }
  }
}

void mb_rt_html(const mb_rtable *t, FILE *f)
{
  fprintf(f, "<section class=\"table\" id=\"%s\">\n<h3>", t->id);
  html_text(f, t->title);
  fputs("</h3>\n<table>\n<thead><tr>", f);
  for (int c = 0; c < t->ncols; c++) { fputs("<th>", f); html_text(f, t->head[c]); fputs("</th>", f); }
  fputs("</tr></thead>\n<tbody>\n", f);
  for (int r = 0; r < t->nrows; r++) {
    fputs("<tr>", f);
    for (int c = 0; c < t->ncols; c++) {
      const mb_rcell *x = cell_at(t, r, c);
      fputs(c ? "<td class=\"num\">" : "<td>", f);
      if (x->text) html_text(f, x->text);
      else fputs("<span class=\"missing\">—</span>", f);
      if (x->note) fprintf(f, "<sup><a href=\"#%s-n%d\">%d</a></sup>", t->id, x->note, x->note);
      fputs("</td>", f);
    }
    fputs("</tr>\n", f);
  }
  fputs("</tbody>\n</table>\n", f);
  if (t->nnotes) {
    fputs("<ol class=\"notes\">\n", f);
    for (int i = 0; i < t->nnotes; i++) {
      fprintf(f, "<li id=\"%s-n%d\">", t->id, i + 1);
      html_text(f, t->notes[i]);
      fputs("</li>\n", f);
    }
    fputs("</ol>\n", f);
  }
  if (t->caption[0]) { fputs("<p class=\"caption\">", f); html_text(f, t->caption); fputs("</p>\n", f); }
  fputs("</section>\n", f);
}

/* -------------------------------------------------------------------- SVG */

enum { W = 720, H = 400, ML = 78, MR = 170, MT = 40, MB = 78 };

static const char *const k_colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                       "#8c564b", "#e377c2", "#7f7f7f"};

typedef struct { double lo, hi; int log; } axis;

static double ax_map(const axis *a, double v, double p0, double p1)
{
  double t = a->log ? (log10(v) - a->lo) / (a->hi - a->lo) : (v - a->lo) / (a->hi - a->lo);
  return p0 + t * (p1 - p0);
}

static void ax_fit(axis *a, double mn, double mx, int lg)
{
  a->log = lg;
  if (!(mn <= mx)) { mn = lg ? 1 : 0; mx = lg ? 10 : 1; }
  if (lg) {
    a->lo = floor(log10(mn));
    a->hi = ceil(log10(mx));
    if (a->hi <= a->lo) a->hi = a->lo + 1;
  } else {
    double pad = (mx - mn) * 0.08;
    if (pad == 0) pad = fabs(mx) * 0.1 + 1;
    a->lo = mn - pad;
    a->hi = mx + pad;
    if (mn >= 0 && a->lo < 0) a->lo = 0;
  }
}

static void fmt_tick(double v, char *out, size_t len)
{
  if (v != 0 && (fabs(v) >= 1e4 || fabs(v) < 1e-2)) snprintf(out, len, "%.0e", v);
  else snprintf(out, len, "%g", v);
}

static void svg_text(FILE *f, double x, double y, const char *anchor, int size, const char *cls,
                     const char *rot, const char *s)
{
  fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\"%s%s%s%s>", x, y, anchor, size,
          cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "", rot ? rot : "");
  html_text(f, s);
  fputs("</text>\n", f);
}

static void y_ticks(FILE *f, const axis *a, double py0, double py1)
{
  char lab[32];
  if (a->log) {
    for (int e = (int)a->lo; e <= (int)a->hi; e++) {
      double v = pow(10, e), y = ax_map(a, v, py0, py1);
      fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", ML, y, W - MR, y);
      fmt_tick(v, lab, sizeof lab);
      svg_text(f, ML - 6, y + 4, "end", 11, "tick", NULL, lab);
    }
  } else {
    for (int i = 0; i <= 5; i++) {
      double v = a->lo + (a->hi - a->lo) * i / 5, y = ax_map(a, v, py0, py1);
      fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", ML, y, W - MR, y);
      snprintf(lab, sizeof lab, "%.3g", v);
      svg_text(f, ML - 6, y + 4, "end", 11, "tick", NULL, lab);
    }
  }
}

void mb_rf_svg(const mb_rfigure *g, FILE *f)
{
  double py0 = H - MB, py1 = MT, px0 = ML, px1 = W - MR;
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"mb-fig\" id=\"svg-%s\" width=\"%d\" height=\"%d\" "
          "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" role=\"img\">\n", g->id, W, H, W, H);
  fprintf(f, "<title>");
  html_text(f, g->title);
  fprintf(f, "</title>\n<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
  svg_text(f, W / 2.0, 22, "middle", 14, "title", NULL, g->title);
  /* y range over values and error bars */
  double mn = INFINITY, mx = -INFINITY, xmn = INFINITY, xmx = -INFINITY;
  int any = 0;
  for (int s = 0; s < g->nseries; s++)
    for (int i = 0; i < g->series[s].n; i++) {
      double vals[3] = {g->series[s].y[i], g->series[s].lo ? g->series[s].lo[i] : NAN,
                        g->series[s].hi ? g->series[s].hi[i] : NAN};
      for (int k = 0; k < 3; k++)
        if (isfinite(vals[k]) && (!g->logy || vals[k] > 0)) { mn = fmin(mn, vals[k]); mx = fmax(mx, vals[k]); any = 1; }
      double x = g->series[s].x ? g->series[s].x[i] : i;
      if (isfinite(x) && (!g->logx || x > 0)) { xmn = fmin(xmn, x); xmx = fmax(xmx, x); }
    }
  axis ay, ax;
  ax_fit(&ay, any ? mn : NAN, any ? mx : NAN, g->logy);
  y_ticks(f, &ay, py0, py1);
  fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"black\"/>\n", ML, py0, W - MR, py0);
  fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"black\"/>\n", ML, py0, ML, py1);
  char rot[96];
  snprintf(rot, sizeof rot, " transform=\"rotate(-90 %d %.1f)\"", 18, (py0 + py1) / 2);
  svg_text(f, 18, (py0 + py1) / 2, "middle", 12, "axis-label", rot, g->ylabel);
  svg_text(f, (px0 + px1) / 2, H - 12, "middle", 12, "axis-label", NULL, g->xlabel);
  if (g->bars && g->nseries > 1) {
    /* grouped: one slot per category, one bar per series, a legend */
    int n = g->ncats, ns = g->nseries;
    double slot = (px1 - px0) / (n ? n : 1), bw = slot * 0.8 / ns;
    for (int i = 0; i < n; i++) {
      double cx = px0 + slot * (i + 0.5);
      snprintf(rot, sizeof rot, " transform=\"rotate(-20 %.1f %.1f)\"", cx, py0 + 16);
      svg_text(f, cx, py0 + 16, "end", 11, "cat", rot, g->cats[i]);
      for (int k = 0; k < ns; k++) {
        const mb_rseries *se = &g->series[k];
        double x0 = cx - slot * 0.4 + bw * k, v = i < se->n ? se->y[i] : NAN;
        if (!isfinite(v) || (g->logy && v <= 0)) {
          svg_text(f, x0 + bw / 2, py0 - 6, "middle", 10, "missing", NULL, "—");
          continue;
        }
        double base = ay.log ? py0 : ax_map(&ay, fmax(ay.lo, 0), py0, py1), y = ax_map(&ay, v, py0, py1);
        fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                "<title>%s, %s: %.4g</title></rect>\n", x0, fmin(y, base), bw * 0.92, fabs(base - y),
                k_colors[k % 8], g->cats[i], se->name, v);
      }
    }
    for (int k = 0; k < ns; k++) {
      double ly = MT + 14 + 20 * k;
      fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"24\" height=\"10\" fill=\"%s\"/>\n", W - MR + 10, ly - 5,
              k_colors[k % 8]);
      svg_text(f, W - MR + 40, ly + 4, "start", 11, "legend", NULL, g->series[k].name);
    }
  } else if (g->bars) {
    const mb_rseries *s = &g->series[0];
    int n = g->ncats;
    double slot = (px1 - px0) / (n ? n : 1), bw = slot * 0.6;
    for (int i = 0; i < n; i++) {
      double cx = px0 + slot * (i + 0.5);
      snprintf(rot, sizeof rot, " transform=\"rotate(-20 %.1f %.1f)\"", cx, py0 + 16);
      svg_text(f, cx, py0 + 16, "end", 11, "cat", rot, g->cats[i]);
      double v = i < s->n ? s->y[i] : NAN;
      if (!isfinite(v) || (g->logy && v <= 0)) {
        svg_text(f, cx, py0 - 6, "middle", 12, "missing", NULL, "—");
        continue;
      }
      double base = ay.log ? py0 : ax_map(&ay, fmax(ay.lo, 0), py0, py1), y = ax_map(&ay, v, py0, py1);
      fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
              "<title>%s: %.4g</title></rect>\n", cx - bw / 2, fmin(y, base), bw, fabs(base - y),
              k_colors[i % 8], g->cats[i], v);
      if (s->lo && s->hi && isfinite(s->lo[i]) && isfinite(s->hi[i]) && s->lo[i] > 0) {
        double yl = ax_map(&ay, s->lo[i], py0, py1), yh = ax_map(&ay, s->hi[i], py0, py1);
        fprintf(f, "<path class=\"errbar\" d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f %.1fH%.1f\" stroke=\"black\" fill=\"none\"/>\n",
                cx, yl, yh, cx - 5, yl, cx + 5, cx - 5, yh, cx + 5);
      }
      char lab[32];
      snprintf(lab, sizeof lab, "%.3g", v);
      svg_text(f, cx, fmin(y, base) - 4 - (s->hi && isfinite(s->hi[i]) ? fabs(y - ax_map(&ay, s->hi[i], py0, py1)) : 0),
               "middle", 10, "value", NULL, lab);
    }
  } else {
    ax_fit(&ax, xmn <= xmx ? xmn : NAN, xmn <= xmx ? xmx : NAN, g->logx);
    char lab[32];
    if (ax.log) {
      for (int e = (int)ax.lo; e <= (int)ax.hi; e++) {
        double x = ax_map(&ax, pow(10, e), px0, px1);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", x, py0, x, py1);
        fmt_tick(pow(10, e), lab, sizeof lab);
        svg_text(f, x, py0 + 16, "middle", 11, "tick", NULL, lab);
      }
    } else {
      for (int i = 0; i <= 5; i++) {
        double v = ax.lo + (ax.hi - ax.lo) * i / 5, x = ax_map(&ax, v, px0, px1);
        snprintf(lab, sizeof lab, "%.3g", v);
        svg_text(f, x, py0 + 16, "middle", 11, "tick", NULL, lab);
      }
    }
    for (int s = 0; s < g->nseries; s++) {
      const mb_rseries *se = &g->series[s];
      const char *col = k_colors[s % 8];
      fprintf(f, "<path class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s d=\"", col,
              se->dashed ? " stroke-dasharray=\"6 4\"" : "");
      int pen = 0;
      for (int i = 0; i < se->n; i++) {
        double x = se->x[i], y = se->y[i];
        if (!isfinite(x) || !isfinite(y) || (ax.log && x <= 0) || (ay.log && y <= 0)) { pen = 0; continue; }
        fprintf(f, "%s%.1f %.1f", pen ? "L" : "M", ax_map(&ax, x, px0, px1), ax_map(&ay, y, py0, py1));
        pen = 1;
      }
      fputs("\"/>\n", f);
      for (int i = 0; i < se->n; i++) {
        double x = se->x[i], y = se->y[i];
        if (!isfinite(x) || !isfinite(y) || (ax.log && x <= 0) || (ay.log && y <= 0)) continue;
        fprintf(f, "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>%s: (%g, %.4g)</title></circle>\n",
                ax_map(&ax, x, px0, px1), ax_map(&ay, y, py0, py1), col, se->name, x, y);
      }
      double ly = MT + 14 + 20 * s;
      fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
              W - MR + 10, ly, W - MR + 34, ly, col, se->dashed ? " stroke-dasharray=\"6 4\"" : "");
      svg_text(f, W - MR + 40, ly + 4, "start", 11, "legend", NULL, se->name);
    }
  }
  fputs("</svg>\n", f);
}
