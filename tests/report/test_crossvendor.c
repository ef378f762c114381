/* The merged report of two machines (docs/architecture.md §8.4): rows of two fake
 * GPUs, each through several APIs, in two results files; the cross-vendor
 * table's efficiencies and Pennycook's PP checked against hand arithmetic, the
 * merge table's missing cells, the grouped figure, and the spec-hash check.
 * Milliseconds. */
#include "harness/report.h"
#include "harness/results.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "report_file.h"

/* One ok (or failed) main row: method m on backend b of device d, median time t (s). */
static void put_row(FILE *f, const char *m, int order, const char *b, const char *d, const char *type, double t,
                    double a_r, const char *status, const char *hash)
{
  fprintf(f, "{\"schema\": \"mnemobench.result/2\", \"command\": \"bench\", \"kind\": \"main\", \"status\": \"%s\", "
          "\"reason\": \"%s\", \"backend\": \"%s\", \"device_index\": 0, \"device\": \"%s\", \"device_type\": \"%s\", "
          "\"driver\": \"drv-%s\", \"api\": \"%s\", \"spec\": \"xv\", \"spec_hash\": \"%s\", \"experiment\": \"main\", "
          "\"cell\": \"main/%s/%s:0/s1#00000001\", \"cell_group\": \"%s/s1#0000000%d\", \"method\": \"%s\", "
          "\"method_order\": %d, \"seed\": 1, \"model_kind\": \"plain\", \"A_R\": %g, \"E_F\": 100, \"sign\": 1, "
          "\"forget_s\": %g}\n",
          status, strcmp(status, "ok") ? "out of memory" : "", b, d, type, b, b, hash, m, b, m, order, m, order, a_r, t);
}

static char g_dir[64];

/* Machine A: GPU-A through cuda, vulkan, opencl, and ref.  Machine B: GPU-B through
 * vulkan and opencl; m2 on B's opencl takes 4 s, or fails when fail_b is set. */
static void write_files(const char *a, const char *b, int fail_b, const char *hash_b)
{
  FILE *f = fopen(a, "w");
  cr_assert(f);
  put_row(f, "m1", 0, "ref", "reference (plain C, f64 accumulation)", "cpu", 10.0, 80.0, "ok", "h1");
  put_row(f, "m2", 1, "ref", "reference (plain C, f64 accumulation)", "cpu", 8.0, 70.0, "ok", "h1");
  put_row(f, "m1", 0, "cuda", "GPU-A", "gpu", 1.0, 80.5, "ok", "h1");
  put_row(f, "m1", 0, "vulkan", "GPU-A", "gpu", 2.0, 80.0, "ok", "h1");
  put_row(f, "m1", 0, "opencl", "GPU-A", "gpu", 4.0, 78.0, "ok", "h1");
  put_row(f, "m2", 1, "cuda", "GPU-A", "gpu", 2.0, 70.0, "ok", "h1");
  put_row(f, "m2", 1, "vulkan", "GPU-A", "gpu", 1.0, 70.0, "ok", "h1");
  put_row(f, "m2", 1, "opencl", "GPU-A", "gpu", 1.0, 70.0, "ok", "h1");
  fclose(f);
  f = fopen(b, "w");
  cr_assert(f);
  put_row(f, "m1", 0, "vulkan", "GPU-B", "gpu", 3.0, 80.0, "ok", hash_b);
  put_row(f, "m1", 0, "opencl", "GPU-B", "gpu", 1.5, 80.0, "ok", hash_b);
  put_row(f, "m2", 1, "vulkan", "GPU-B", "gpu", 2.0, 70.0, "ok", hash_b);
  put_row(f, "m2", 1, "opencl", "GPU-B", "gpu", 4.0, 70.0, fail_b ? "failed" : "ok", hash_b);
  fclose(f);
}

static char *report_of(const char *a, const char *b, const char *file)
{
  const char *names[2] = {a, b};
  mb_rowset rs;
  memset(&rs, 0, sizeof rs);
  cr_assert_eq(mb_rows_read(a, 0, &rs, stderr), 0);
  cr_assert_eq(mb_rows_read(b, 1, &rs, stderr), 0);
  char err[600];
  cr_assert_eq(mb_report_check_specs(&rs, 2, names, err, sizeof err), 0, "%s", err);
  mb_report r;
  cr_assert_eq(mb_report_build_files(&rs, NULL, 2, names, &r), 0);
  return report_file(&r, &rs, g_dir, file);
}

static void setup(void)
{
  snprintf(g_dir, sizeof g_dir, "/tmp/mbxv-XXXXXX");
  cr_assert(mkdtemp(g_dir));
}

static void teardown(void)
{
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
}

TestSuite(crossvendor, .init = setup, .fini = teardown);

Test(crossvendor, pp_arithmetic_of_two_fake_devices)
{
  char a[128], b[128];
  snprintf(a, sizeof a, "%s/A.jsonl", g_dir);
  snprintf(b, sizeof b, "%s/B.jsonl", g_dir);
  write_files(a, b, 0, "h1");
  char *xv = report_of(a, b, "xvendor.csv");
  /* m1: GPU-A best 1 s -> cuda 1, vulkan 0.5, opencl 0.25; GPU-B best 1.5 s -> vulkan 0.5, opencl 1 */
  cr_expect(strstr(xv, "m1,GPU-A,cuda,drv-cuda,1000,10.00×,1.000"), "%s", xv);
  cr_expect(strstr(xv, "m1,GPU-A,vulkan,drv-vulkan,2000,5.00×,0.500"), "%s", xv);
  cr_expect(strstr(xv, "m1,GPU-A,opencl,drv-opencl,4000,2.50×,0.250"), "%s", xv);
  cr_expect(strstr(xv, "m1,GPU-B,vulkan,drv-vulkan,3000,3.33×,0.500"), "%s", xv);
  cr_expect(strstr(xv, "m1,GPU-B,opencl,drv-opencl,1500,6.67×,1.000"), "%s", xv);
  free(xv);
  char *pp = report_of(a, b, "pp.csv");
  /* PP(m1) = 5 / (1 + 2 + 4 + 2 + 1) = 0.5; PP(m2) = 5 / (2 + 1 + 1 + 1 + 2) = 5/7;
   * suite: A 3, 3, 5 s -> 1, 1, 0.6; B 5, 5.5 s -> 1, 10/11: 5 / (1 + 1 + 5/3 + 1 + 1.1) = 0.86705 */
  cr_expect(strstr(pp, "m1,0.500,5,none"), "%s", pp);
  cr_expect(strstr(pp, "m2,0.714,5,none"), "%s", pp);
  cr_expect(strstr(pp, "suite (sum of the methods' times),0.867,5,none"), "%s", pp);
  free(pp);
  /* machine B lacks every cell of GPU-A and ref; A lacks B's four */
  char *mg = report_of(a, b, "merge.csv");
  cr_expect(strstr(mg, ",8,4,"), "A: 8 ok, lacks 4: %s", mg);
  cr_expect(strstr(mg, ",4,8,"), "B: 4 ok, lacks 8: %s", mg);
  free(mg);
  /* agreement with ref: GPU-A cuda's m1 is 0.5 pp off (within 1), opencl's 2 pp off */
  char *ag = report_of(a, b, "xagree.csv");
  cr_expect(strstr(ag, "GPU-A,cuda,2,2/2,2/2,2/2,\"0.50, 0.00\""), "%s", ag);
  cr_expect(strstr(ag, "GPU-A,opencl,2,1/2,2/2,2/2,\"2.00, 0.00\""), "%s", ag);
  free(ag);
  /* one grouped figure per device with several APIs */
  char *f1 = report_of(a, b, "figxv-1.svg"), *f2 = report_of(a, b, "figxv-2.svg");
  cr_expect(strstr(f1, "GPU-A through 3 APIs") && strstr(f2, "GPU-B through 2 APIs"));
  cr_expect(strstr(f1, "m2, vulkan: 1"), "no bar for m2 on vulkan");
  free(f1);
  free(f2);
}

Test(crossvendor, a_failure_makes_pp_zero)
{
  char a[128], b[128];
  snprintf(a, sizeof a, "%s/A.jsonl", g_dir);
  snprintf(b, sizeof b, "%s/B.jsonl", g_dir);
  write_files(a, b, 1, "h1");
  char *pp = report_of(a, b, "pp.csv");
  cr_expect(strstr(pp, "m1,0.500,5,none"), "%s", pp);
  cr_expect(strstr(pp, "m2,0.000,5,GPU-B/opencl"), "%s", pp);
  cr_expect(strstr(pp, "suite (sum of the methods' times),0.000,5,GPU-B/opencl"), "%s", pp);
  free(pp);
}

Test(crossvendor, different_spec_versions_are_refused)
{
  char a[128], b[128], err[600];
  snprintf(a, sizeof a, "%s/A.jsonl", g_dir);
  snprintf(b, sizeof b, "%s/B.jsonl", g_dir);
  write_files(a, b, 0, "h2");
  const char *names[2] = {a, b};
  mb_rowset rs;
  memset(&rs, 0, sizeof rs);
  cr_assert_eq(mb_rows_read(a, 0, &rs, stderr), 0);
  cr_assert_eq(mb_rows_read(b, 1, &rs, stderr), 0);
  cr_assert_eq(mb_report_check_specs(&rs, 2, names, err, sizeof err), -1);
  cr_expect(strstr(err, "ran different versions of spec 'xv' (spec_hash h1, h2)"), "%s", err);
  mb_rows_free(&rs);
}
