/* The quality metrics in bench rows (specification §7.7, architecture.md §8.1):
 * a tiny synthetic spec with `quality = all` on ref and cpu; every row carries
 * the fields, the retrain row on the train backend scores exactly 0 distance
 * against the cached reference, and on cpu nearly 0 (about 4 s); and the report's
 * quality table from real rows of the quick spec's methods (cpu) against its golden CSV. */
#include "harness/json_read.h"
#include "harness/report.h"
#include "harness/results.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "slurp.h"

static const char k_spec[] =
  "[bench]\nname = quality\ndata = synthetic\ntrain_per_class = 40\ntest_per_class = 20\nmodel = 784-16-10\n"
  "epochs = 2\nrepeats = 1\nwarmup = 0\ntrain_backend = ref\nbaseline_model = plain\nforget = 0\n"
  "[experiment main]\nkind = main\nmethods = ssd, retrain\nbackends = ref, cpu\nquality = all\n";

static const mb_jv *find(const mb_rowset *rs, const char *method, const char *backend)
{
  for (int i = 0; i < rs->n; i++)
    if (!strcmp(mb_jv_str(&rs->rows[i].v, "method", ""), method) &&
        !strcmp(mb_jv_str(&rs->rows[i].v, "backend", ""), backend))
      return &rs->rows[i].v;
  return NULL;
}

Test(quality_rows, bench_rows_carry_the_metrics, .timeout = 300)
{
  const char *bin = getenv("MB_BIN");
  if (!bin) cr_skip_test("MB_BIN (the mnemobench binary) is not set");
  char d[] = "/tmp/mbq-XXXXXX", spec[128], res[128], cache[128], cmd[1024];
  cr_assert(mkdtemp(d));
  snprintf(spec, sizeof spec, "%s/q.spec", d);
  snprintf(res, sizeof res, "%s/r.jsonl", d);
  snprintf(cache, sizeof cache, "%s/cache", d);
  FILE *f = fopen(spec, "w");
  cr_assert(f);
  fputs(k_spec, f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "'%s' bench '%s' --results '%s' --cache '%s' 2>/dev/null", bin, spec, res, cache);
  int st = system(cmd);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "bench failed (%d)", st);
  mb_rowset rs;
  memset(&rs, 0, sizeof rs);
  cr_assert_eq(mb_rows_read(res, 0, &rs, stderr), 0);
  cr_assert_eq(rs.n, 4, "rows: %d", rs.n);
  static const char *const keys[] = {"mia", "act_dist_forget", "act_dist_retain", "js_forget", "js_retain",
                                     "relearn_steps", "relearn_target", "mia_n_shadow", "mia_n_target"};
  for (int i = 0; i < rs.n; i++) {
    const mb_jv *v = &rs.rows[i].v;
    cr_assert_str_eq(mb_jv_str(v, "status", ""), "ok", "%s", mb_jv_str(v, "reason", ""));
    cr_assert_str_eq(mb_jv_str(v, "metrics", ""), "mia,distance,relearn");
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
      double x = mb_jv_num(v, keys[k]);
      cr_assert(isfinite(x) && x >= 0, "%s on %s: %s = %g", mb_jv_str(v, "method", ""),
                mb_jv_str(v, "backend", ""), keys[k], x);
    }
    cr_assert_eq(strlen(mb_jv_str(v, "retrained_model", "")), 16);
  }
  /* the reference is the ref retrain cell's computation: identical weights */
  const mb_jv *rr = find(&rs, "retrain", "ref"), *rc = find(&rs, "retrain", "cpu"), *sr = find(&rs, "ssd", "ref");
  cr_assert(rr && rc && sr);
  cr_expect_eq(mb_jv_num(rr, "act_dist_forget"), 0.0);
  cr_expect_eq(mb_jv_num(rr, "act_dist_retain"), 0.0);
  cr_expect_eq(mb_jv_num(rr, "js_forget"), 0.0);
  cr_expect_eq(mb_jv_num(rr, "js_retain"), 0.0);
  /* cpu retrains in f32 from the same start: close to the f64 reference, not equal */
  cr_expect_lt(mb_jv_num(rc, "act_dist_retain"), 1e-2, "cpu retrain: %g", mb_jv_num(rc, "act_dist_retain"));
  cr_expect_gt(mb_jv_num(sr, "act_dist_retain"), mb_jv_num(rc, "act_dist_retain"),
               "ssd is not farther from retraining than cpu's retrain");
  mb_rows_free(&rs);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
  cr_expect_eq(system(cmd), 0);
}

Test(quality_rows, report_quality_table_golden)
{
  const char *src = getenv("MB_REPORT_DIR");
  if (!src) cr_skip_test("MB_REPORT_DIR (tests/report) is not set");
  char path[1024], d[] = "/tmp/mbqr-XXXXXX";
  cr_assert(mkdtemp(d));
  snprintf(path, sizeof path, "%s/quality_rows.jsonl", src);
  mb_rowset rs;
  memset(&rs, 0, sizeof rs);
  cr_assert_eq(mb_rows_read(path, 0, &rs, stderr), 0, "cannot read %s", path);
  mb_report r;
  cr_assert_eq(mb_report_build(&rs, NULL, &r), 0);
  cr_assert_eq(mb_report_write(&r, d), 0);
  char got_p[1100], want_p[1100];
  snprintf(got_p, sizeof got_p, "%s/quality.csv", d);
  snprintf(want_p, sizeof want_p, "%s/golden/quality.csv", src);
  char *got = slurp(got_p), *want = slurp(want_p);
  cr_assert(got && want, "missing %s or %s", got_p, want_p);
  cr_expect_str_eq(got, want);
  /* the retrained model is the reference: its distances print as 0 */
  cr_expect(strstr(got, "retrain,plain,0.0,0.0000,0.0000,0.0000,0.0000,"), "%s", got);
  free(got);
  free(want);
  mb_report_free(&r);
  mb_rows_free(&rs);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
  cr_expect_eq(system(cmd), 0);
}
