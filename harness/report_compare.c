/* mnemobench report --compare: rows of OLD against NEW (see report.h).  Returns
 * the number of failures: regressions, cells of OLD missing from NEW or not
 * comparable (settings, or for the time device/build/threads, differ), plus one
 * when nothing was compared; `report --compare` exits 1 on any. */
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

/* One measurement of a cell: a scale or throughput cell has several rows
 * (method, metric). */
static int same_cell(row *a, row *b)
{
  return !strcmp(S(a, "cell"), S(b, "cell")) && !strcmp(S(a, "method"), S(b, "method")) &&
         !strcmp(S(a, "metric"), S(b, "metric"));
}

/* NEW's row of OLD's measurement x: on the same device when there is one
 * (merged files of several machines share cell ids), else the first. */
static row *match(const sel *b, row *x)
{
  row *y = NULL;
  for (int j = 0; j < b->n; j++)
    if (same_cell(b->v[j], x)) {
      if (!strcmp(S(b->v[j], "device"), S(x, "device"))) return b->v[j];
      if (!y) y = b->v[j];
    }
  return y;
}

static void field_text(row *r, const char *k, char *out, size_t len)
{
  const mb_jv *v = mb_jv_get(r, k);
  if (!v) snprintf(out, len, "(none)");
  else if (v->t == MB_JV_STR) snprintf(out, len, "%.60s", v->str);
  else if (v->t == MB_JV_NUM || v->t == MB_JV_BOOL) snprintf(out, len, "%.17g", v->num);
  else if (v->t == MB_JV_ARR) {
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; i < v->n && o + 24 < len; i++)
      o += (size_t)snprintf(out + o, len - o, "%s%.17g", i ? "," : "", v->items[i].num);
  }
  else snprintf(out, len, "null");
}

/* The first of keys whose values differ in x and y (a key neither row has is
 * equal); its name and values in what/ov/nv.  1 when one differs. */
static int differs(row *x, row *y, const char *const *keys, int n, const char **what, char *ov, char *nv, size_t len)
{
  for (int k = 0; k < n; k++) {
    field_text(x, keys[k], ov, len);
    field_text(y, keys[k], nv, len);
    if (strcmp(ov, nv)) { *what = keys[k]; return 1; }
  }
  return 0;
}

/* What makes a row's numbers (A_R, E_F, times): the cell id holds most, the
 * rows name them; rows of an older bench (ids without test_per_class) are caught
 * here.  Another spec_hash with the same settings (a seed added to the spec, an
 * edited comment) is the same computation: compared, and said once. */
static const char *const k_settings[] = {"model", "dataset_checksum", "train_per_class", "test_per_class", "epochs",
                                         "batch", "lr", "codes", "t_mix", "forget_classes"};
/* What a time depends on beyond the settings: the machine and the build. */
static const char *const k_machine[] = {"device", "build", "threads"};

int mb_report_compare(const mb_rowset *old_rows, const mb_rowset *new_rows, const mb_compare_opts *o, FILE *out)
{
  sel a = rp_select_rows(old_rows), b = rp_select_rows(new_rows);
  int regressions = 0, improvements = 0, compared = 0, missing = 0, only_new = 0, not_comparable = 0,
      time_skipped = 0, old_ok = 0, other_spec = 0;
  const char *spec_old = "", *spec_new = "";
  char ov[256], nv[256];
  const char *what;
  fprintf(out, "| Cell | Finding | Old | New |\n| --- | --- | ---: | ---: |\n");
  for (int i = 0; i < a.n; i++) {
    row *x = a.v[i];
    const char *id = S(x, "cell");
    if (!*id || !is_ok(x)) continue;
    old_ok++;
    row *y = match(&b, x);
    if (!y) {
      fprintf(out, "| %s | MISSING: no row in NEW | ok | — |\n", id);
      missing++;
      continue;
    }
    if (!is_ok(y)) {
      fprintf(out, "| %s | REGRESSION: now %s (%s) | ok | %s |\n", id, S(y, "status"), S(y, "reason"), S(y, "status"));
      regressions++;
      continue;
    }
    if (differs(x, y, k_settings, (int)(sizeof k_settings / sizeof *k_settings), &what, ov, nv, sizeof ov)) {
      fprintf(out, "| %s | NOT COMPARABLE: %s differs (other settings, not compared) | %s | %s |\n", id, what, ov, nv);
      not_comparable++;
      continue;
    }
    compared++;
    if (*S(x, "spec_hash") && *S(y, "spec_hash") && strcmp(S(x, "spec_hash"), S(y, "spec_hash"))) {
      if (!other_spec++) { spec_old = S(x, "spec_hash"); spec_new = S(y, "spec_hash"); }
    }
    /* time: slower beyond both measured spreads and beyond the relative tolerance,
     * on the same device, build and thread count only */
    double om = N(x, "forget_s"), nm = N(y, "forget_s");
    if (isfinite(om) && isfinite(nm) && om > 0 &&
        differs(x, y, k_machine, (int)(sizeof k_machine / sizeof *k_machine), &what, ov, nv, sizeof ov)) {
      fprintf(out, "| %s | TIME NOT COMPARABLE: %s differs (time not compared) | %s | %s |\n", id, what, ov, nv);
      time_skipped++;
    } else if (isfinite(om) && isfinite(nm) && om > 0) {
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
      double ovl = N(x, metrics[k]), nvl = N(y, metrics[k]);
      if (isfinite(ovl) && isfinite(nvl) && ovl - nvl > o->acc_tol) {
        fprintf(out, "| %s | REGRESSION: %s fell by %.2f pp | %.2f | %.2f |\n", id, metrics[k], ovl - nvl, ovl, nvl);
        regressions++;
      } else if (isfinite(ovl) && isfinite(nvl) && nvl - ovl > o->acc_tol) {
        fprintf(out, "| %s | change: %s rose by %.2f pp | %.2f | %.2f |\n", id, metrics[k], nvl - ovl, ovl, nvl);
      }
    }
    int ho, hn, ao = agrees(&a, x, o->agree_tol, &ho), an = agrees(&b, y, o->agree_tol, &hn);
    if (ho && hn && ao && !an) {
      fprintf(out, "| %s | REGRESSION: no longer agrees with ref | agrees | differs |\n", id);
      regressions++;
    }
  }
  /* cells NEW has and OLD has no row of (new methods, backends, settings) */
  for (int j = 0; j < b.n; j++) {
    row *y = b.v[j];
    if (!*S(y, "cell")) continue;
    int in_old = 0;
    for (int i = 0; i < a.n && !in_old; i++) in_old = same_cell(a.v[i], y);
    if (in_old) continue;
    fprintf(out, "| %s | new: not in OLD | — | %s |\n", S(y, "cell"), S(y, "status"));
    only_new++;
  }
  fprintf(out,
          "\n%d cells compared: %d regression(s), %d improvement(s); %d cell(s) of OLD missing from NEW; %d cell(s) "
          "of NEW not in OLD; %d not comparable (settings differ); %d whose time was not compared (device, build "
          "or threads differ).\n",
          compared, regressions, improvements, missing, only_new, not_comparable, time_skipped);
  if (other_spec)
    fprintf(out, "Note: %d compared cell(s) come from another version of their spec (spec_hash %s in OLD, %s in NEW) "
            "with the same settings.\n", other_spec, spec_old, spec_new);
  int failed = regressions + missing + not_comparable + time_skipped;
  if (!compared) failed++;
  if (failed)
    fprintf(out, "FAILED: %s.\n",
            !compared ? (old_ok ? "no cell of OLD could be compared with NEW" : "OLD has no ok cell to compare")
            : regressions ? "regressions" : "some cells of OLD were missing from NEW or not comparable");
  else
    fprintf(out, "PASSED: every ok cell of OLD was compared with no regression.\n");
  fprintf(out, "Time: flagged when the new median exceeds the old by more than both spreads (max - median or 2 std) "
          "and by more than %.0f%%; A_R / E_F: a fall of more than %.2f pp; agreement: |ΔA_R|, |ΔE_F| <= %.2f pp and "
          "the same ± choice as ref. Exit 1 on any regression, a cell of OLD missing from NEW or not comparable "
          "(other settings: %s; other device, build or threads: the time), or nothing compared.\n",
          100 * o->time_tol, o->acc_tol, o->agree_tol,
          "model, data checksum, train/test per class, epochs, batch, lr, codes, t_mix, forget classes");
  free(a.v);
  free(b.v);
  return failed;
}
