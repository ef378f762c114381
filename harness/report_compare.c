/* mnemobench report --compare: rows of OLD against NEW (see report.h). */
#include "harness/report_internal.h"

#include <stdlib.h>

/* ---------------------------------------------------------------- compare */

static int agrees(const sel *s, row *r, double tol, int *have)
{
  *have = 0;
  const char *grp = S(r, "cell_group");
  if (!*grp || !strcmp(S(r, "backend"), "ref")) return 1;
  for (int j = 0; j < s->n; j++) {
    row *q = s->v[j];
    if (!is_ok(q) || strcmp(S(q, "backend"), "ref") || strcmp(S(q, "cell_group"), grp)) continue;
    *have = 1;
    double a = fabs(N(r, "A_R") - N(q, "A_R")), e = fabs(N(r, "E_F") - N(q, "E_F"));
    return !(a > tol) && !(e > tol) && N(r, "sign") == N(q, "sign");
  }
  return 1;
}

int mb_report_compare(const mb_rowset *old_rows, const mb_rowset *new_rows, const mb_compare_opts *o, FILE *out)
{
  sel a = rp_select_rows(old_rows), b = rp_select_rows(new_rows);
  int regressions = 0, improvements = 0, compared = 0, missing = 0;
  fprintf(out, "| Cell | Finding | Old | New |\n| --- | --- | ---: | ---: |\n");
  for (int i = 0; i < a.n; i++) {
    row *x = a.v[i];
    const char *id = S(x, "cell");
    if (!*id || !is_ok(x)) continue;
    row *y = NULL;
    for (int j = 0; j < b.n; j++)
      if (!strcmp(S(b.v[j], "cell"), id)) { y = b.v[j]; break; }
    if (!y) { missing++; continue; }
    if (!is_ok(y)) {
      fprintf(out, "| %s | REGRESSION: now %s (%s) | ok | %s |\n", id, S(y, "status"), S(y, "reason"), S(y, "status"));
      regressions++;
      continue;
    }
    compared++;
    /* time: slower beyond both measured spreads and beyond the relative tolerance */
    double om = N(x, "forget_s"), nm = N(y, "forget_s");
    if (isfinite(om) && isfinite(nm) && om > 0) {
      double os = fmax(N(x, "forget_s_max") - om, 2 * N(x, "forget_s_std")),
             ns = fmax(nm - N(y, "forget_s_min"), 2 * N(y, "forget_s_std"));
      if (!isfinite(os)) os = 0;
      if (!isfinite(ns)) ns = 0;
      char so[32], sn[32];
      rp_fmt_ms(om, so, sizeof so);
      rp_fmt_ms(nm, sn, sizeof sn);
      if (nm - om > os + ns && nm > om * (1 + o->time_tol)) {
        fprintf(out, "| %s | REGRESSION: time %.2f× slower (beyond the measured spread) | %s ms | %s ms |\n", id, nm / om, so, sn);
        regressions++;
      } else if (om - nm > os + ns && om > nm * (1 + o->time_tol)) {
        fprintf(out, "| %s | improvement: time %.2f× faster | %s ms | %s ms |\n", id, om / nm, so, sn);
        improvements++;
      }
    }
    static const char *const metrics[] = {"A_R", "E_F"};
    for (int k = 0; k < 2; k++) {
      double ov = N(x, metrics[k]), nv = N(y, metrics[k]);
      if (isfinite(ov) && isfinite(nv) && ov - nv > o->acc_tol) {
        fprintf(out, "| %s | REGRESSION: %s fell by %.2f pp | %.2f | %.2f |\n", id, metrics[k], ov - nv, ov, nv);
        regressions++;
      } else if (isfinite(ov) && isfinite(nv) && nv - ov > o->acc_tol) {
        fprintf(out, "| %s | change: %s rose by %.2f pp | %.2f | %.2f |\n", id, metrics[k], nv - ov, ov, nv);
      }
    }
    int ho, hn, ao = agrees(&a, x, o->agree_tol, &ho), an = agrees(&b, y, o->agree_tol, &hn);
    if (ho && hn && ao && !an) {
      fprintf(out, "| %s | REGRESSION: no longer agrees with ref | agrees | differs |\n", id);
      regressions++;
    }
  }
  fprintf(out, "\n%d cells compared: %d regression(s), %d improvement(s); %d cell(s) of OLD missing from NEW.\n",
          compared, regressions, improvements, missing);
  fprintf(out, "Time: flagged when the new median exceeds the old by more than both spreads (max - median or 2 std) "
          "and by more than %.0f%%; A_R / E_F: a fall of more than %.2f pp; agreement: |ΔA_R|, |ΔE_F| <= %.2f pp and "
          "the same ± choice as ref.\n", 100 * o->time_tol, o->acc_tol, o->agree_tol);
  free(a.v);
  free(b.v);
  return regressions;
}

