/* The progress line of a bench run: cell k of n, elapsed, ETA from the time
 * each method's cells took so far. */
#include "core/clock.h"
#include "methods/methods.h"
#include "mb/registry.h"
#include "harness/bench_internal.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

/* --------------------------------------------------------------- progress */

int bp_method_slot(const cell *c)
{
  const mb_method *const *all;
  int n = mb_method_list(&all);
  for (int i = 0; i < n && i < 31; i++)
    if (all[i] == c->me) return i;
  return 31;
}

void bp_fmt_dur(double s, char *out, size_t len)
{
  if (!(s >= 0)) { snprintf(out, len, "?"); return; }
  long t = lround(s);
  if (t >= 3600) snprintf(out, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
  else if (t >= 60) snprintf(out, len, "%ldm%02lds", t / 60, t % 60);
  else snprintf(out, len, "%lds", t);
}

static double eta(bench *b, int from)
{
  if (!b->count_all) return -1;
  double s = 0;
  for (int i = from; i < b->n_cells; i++) {
    const cell *c = &b->cells[i];
    if (c->done) continue;
    int k = bp_method_slot(c);
    s += b->count_by_method[k] ? b->spent_by_method[k] / b->count_by_method[k] : b->spent_all / b->count_all;
  }
  return s;
}

void bp_progress(bench *b, int ci, const char *what)
{
  char el[32], et[32];
  bp_fmt_dur(mb_now() - b->t_start, el, sizeof el);
  bp_fmt_dur(eta(b, ci), et, sizeof et);
  if (isatty(2))
    fprintf(stderr, "\r\033[K[cell %d/%d] %s  elapsed %s  ETA %s", b->n_done + 1, b->n_todo, what, el, et);
  else
    fprintf(stderr, "[cell %d/%d] %s  elapsed %s  ETA %s\n", b->n_done + 1, b->n_todo, what, el, et);
  fflush(stderr);
}

void bp_progress_end(bench *b)
{
  if (isatty(2)) fputc('\n', stderr);
  (void)b;
}

