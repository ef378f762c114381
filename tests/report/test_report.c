/* The results file, the spec parser, the JSON reader and the report:
 * resume after a kill, corrupt lines, golden tables, the HTML page in a
 * headless browser.  MB_BIN is the mnemobench binary, MB_REPORT_DIR this
 * folder (tests/report). */
#define _GNU_SOURCE
#include "harness/json_read.h"
#include "harness/report.h"
#include "harness/results.h"
#include "harness/spec.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "scratch.h"
#include "slurp.h"

static char *tmpdir(void) { return scratch_dir("mb-report-test"); }

/* ------------------------------------------------------------ JSON reader */

Test(json_read, values_and_errors)
{
  mb_jv v;
  char err[128];
  cr_assert_eq(mb_jv_parse("{\"a\": [1, -2.5e3, true, null], \"s\": \"x\\\"\\u00e9\\n\", \"o\": {}}", &v, err, sizeof err), 0, "%s", err);
  const mb_jv *a = mb_jv_get(&v, "a");
  cr_assert(a && a->t == MB_JV_ARR && a->n == 4);
  cr_assert_eq(a->items[1].num, -2500.0);
  cr_assert_eq(a->items[2].t, MB_JV_BOOL);
  cr_assert_eq(a->items[3].t, MB_JV_NULL);
  cr_assert_str_eq(mb_jv_str(&v, "s", ""), "x\"\xc3\xa9\n");
  cr_assert(isnan(mb_jv_num(&v, "missing")));
  mb_jv_free(&v);
  static const char *const bad[] = {"{\"a\": 1,}", "{\"a\" 1}", "[1 2]", "{\"a\": tru}", "\"open", "{} x", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_neq(mb_jv_parse(bad[i], &v, err, sizeof err), 0, "accepted '%s'", bad[i]);
    cr_assert(strstr(err, "column "), "no column in '%s'", err);
  }
}

/* ---------------------------------------------------------- results file */

Test(results, corrupt_lines_are_reported_with_line_numbers_and_skipped)
{
  char *d = tmpdir(), path[256], warn_buf[4096] = "";
  snprintf(path, sizeof path, "%s/r.jsonl", d);
  write_file(path, "{\"cell\": \"a\", \"status\": \"ok\"}\n"
                   "this is not json\n"
                   "\n"
                   "{\"cell\": \"b\", \"status\": \"ok\"}\n"
                   "[1, 2]\n"
                   "{\"cell\": \"c\", \"sta");   /* a torn last line */
  FILE *warn = fmemopen(warn_buf, sizeof warn_buf - 1, "w");
  mb_rowset rs = {0};
  cr_assert_eq(mb_rows_read(path, 0, &rs, warn), 0);
  fclose(warn);
  cr_assert_eq(rs.n, 2, "rows read: %d", rs.n);
  cr_assert_eq(rs.n_corrupt, 3);
  cr_assert_str_eq(mb_jv_str(&rs.rows[1].v, "cell", ""), "b");
  cr_assert_eq(rs.rows[1].line, 4);
  cr_assert(strstr(warn_buf, "r.jsonl:2: corrupt row"), "%s", warn_buf);
  cr_assert(strstr(warn_buf, "r.jsonl:5: corrupt row"), "%s", warn_buf);
  cr_assert(strstr(warn_buf, "r.jsonl:6: corrupt row") && strstr(warn_buf, "interrupted"), "%s", warn_buf);
  mb_rows_free(&rs);
  /* appending after a torn line starts a fresh line */
  mb_results out;
  char err[256];
  cr_assert_eq(mb_results_open(&out, path, err, sizeof err), 0, "%s", err);
  mb_results second;   /* writers cooperate: a second one opens too, and ends no line twice */
  cr_assert_eq(mb_results_open(&second, path, err, sizeof err), 0, "%s", err);
  cr_assert_eq(mb_results_append(&out, "{\"cell\": \"d\", \"status\": \"ok\"}", err, sizeof err), 0, "%s", err);
  cr_assert_eq(mb_results_append(&second, "{\"cell\": \"e\", \"status\": \"ok\"}", err, sizeof err), 0, "%s", err);
  mb_results_close(&second);
  mb_results_close(&out);
  cr_assert_eq(mb_rows_read(path, 0, &rs, NULL), 0);
  cr_assert_eq(rs.n, 4);
  cr_assert_eq(rs.n_corrupt, 3);
  cr_assert_str_eq(mb_jv_str(&rs.rows[2].v, "cell", ""), "d");
  cr_assert_str_eq(mb_jv_str(&rs.rows[3].v, "cell", ""), "e");
  cr_assert_eq(rs.rows[2].line, 7, "no blank line between the torn one and the next row");
  mb_rows_free(&rs);
  free(d);
}

/* In a child process (fcntl locks belong to processes): what claiming `id`
 * gives there, 1 claimed or 0 held by another live process. */
static int claim_in_child(const char *path, const char *id)
{
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    mb_results r;
    char err[256];
    if (mb_results_open(&r, path, err, sizeof err) != 0) _exit(3);
    int got = mb_results_claim(&r, id, 0, err, sizeof err);
    _exit(got < 0 ? 4 : got);
  }
  int st;
  waitpid(pid, &st, 0);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) <= 1, "the child failed (status %d)", st);
  return WEXITSTATUS(st);
}

Test(results, a_claimed_cell_is_refused_to_other_writers_until_released)
{
  char *d = tmpdir(), path[256], err[256];
  snprintf(path, sizeof path, "%s/r.jsonl", d);
  mb_results r;
  cr_assert_eq(mb_results_open(&r, path, err, sizeof err), 0, "%s", err);
  cr_assert_eq(mb_results_claim(&r, "exp/mnemonic/cpu:0/s1", 0, err, sizeof err), 1, "%s", err);
  cr_assert_eq(claim_in_child(path, "exp/mnemonic/cpu:0/s1"), 0, "another writer took a held cell");
  cr_assert_eq(claim_in_child(path, "exp/mnemonic/cpu:0/s2"), 1, "another cell was refused");
  mb_results_release(&r, "exp/mnemonic/cpu:0/s1");
  cr_assert_eq(claim_in_child(path, "exp/mnemonic/cpu:0/s1"), 1, "a released cell stayed held");
  cr_assert_eq(mb_results_claim(&r, "exp/mnemonic/cpu:0/s1", 0, err, sizeof err), 1, "%s", err);
  mb_results_close(&r);   /* closing drops the claims */
  cr_assert_eq(claim_in_child(path, "exp/mnemonic/cpu:0/s1"), 1, "a closed writer's cell stayed held");
  free(d);
}

/* ------------------------------------------------------------------ spec */

Test(spec, errors_name_the_line)
{
  mb_spec *s = malloc(sizeof *s);
  char err[512];
  static const struct { const char *text, *want; } cases[] = {
    {"[bench]\nname = x\n[experiment a]\nmethods = mnemonic, nosuch\n", "t.spec:4: unknown method 'nosuch'"},
    {"[bench]\nepochs = three\n[experiment a]\n", "t.spec:2: 'epochs': 'three' is not a number"},
    {"[bench]\n\n[experiment a]\nfoo = 1\n", "t.spec:4: unknown key 'foo'"},
    {"[bench]\n[experiment a]\nparam.mnemonic.lambda3 = 1\n", "t.spec:3: 'param.mnemonic.lambda3': method mnemonic has no parameter"},
    {"[bench]\n[experiment a]\nbackends = cpu, metal\n", "t.spec:3: unknown backend 'metal'"},
    {"[bench]\n[experiment a]\n[experiment a]\n", "t.spec:3: experiment 'a' defined twice (line 2)"},
    {"[bench]\n[experiment a]\nkind = main\n[bench]\n", "t.spec:4: [bench] must come before"},
    {"[bench]\nname = x\n", "no [experiment NAME] block"},
    {"[bench\n", "t.spec:1: bad section header"},
    {"[bench]\njust words\n", "t.spec:2: expected 'key = value'"},
    {"[bench]\n[experiment a]\nt_mix = 0.1, 1.5\n", "t.spec:3: 't_mix': 1.5 is outside [0, 1]"},
    {"[bench]\n[experiment a]\nmodel = resnet19\n", "t.spec:3: model: "},
    {"[bench]\nmodel = resnet18\n[experiment a]\nkind = fim\n", "t.spec:3: experiment 'a': kind fim compares FIM diagonals of the MLP only"},
    {"[bench]\n[experiment a]\nwidth = 0\n", "t.spec:3: 'width'"},
    {"[bench]\n[experiment a]\nquality = all, mia\n", "t.spec:3: quality: 'all' is not"},
    {"[bench]\n[experiment a]\nquality = mia,nope\n", "t.spec:3: quality: 'nope' is not"},
    {"[bench]\n[experiment a]\nkind = tmix\nquality = mia\n", "t.spec:2: experiment 'a': quality metrics belong to kind main"},
    {"[bench]\n[experiment a]\nmethods = ssd\nquality = all\n", "t.spec:2: experiment 'a': quality distance needs retrain"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cr_assert_neq(mb_spec_parse_text(cases[i].text, "t.spec", s, err, sizeof err), 0, "accepted case %zu", i);
    cr_assert(strstr(err, cases[i].want), "case %zu: got '%s', want '%s'", i, err, cases[i].want);
  }
  /* a quoted CR must not split the message (tests/fuzz/regressions/spec/cr_in_section_header) */
  cr_assert_neq(mb_spec_parse_text("[ben=h\r\x14]\njust words\n", "t.spec", s, err, sizeof err), 0);
  cr_assert(strstr(err, "t.spec:1: unknown section [ben=h \x14]"), "got '%s'", err);
  cr_assert_null(strpbrk(err, "\r\n"), "message is not one line: '%s'", err);
  cr_assert_eq(mb_spec_parse_text("# c\n[bench]\nseeds = 1 2, 3  # three\n[experiment m]\nkind = lambda\n"
                                  "param.mnemonic.lambda1 = 1e-3, 1e-2\n", "ok.spec", s, err, sizeof err), 0, "%s", err);
  cr_assert_eq(s->n_exp, 1);
  cr_assert_eq(s->exp[0].n_seeds, 3);
  cr_assert_eq(s->exp[0].sweeps[0].n, 2);
  cr_assert_str_eq(s->results, "results/bench.jsonl");
  free(s);
}

Test(spec, shipped_specs_parse)
{
  mb_spec *s = malloc(sizeof *s);
  char err[512], path[1024];
  static const struct { const char *name; int min_exp; } specs[] = {
    {"quick.spec", 5}, {"paper.spec", 5}, {"resnet-quick.spec", 1}, {"resnet-fmnist.spec", 1},
    {"resnet-cifar10.spec", 1}, {"scale.spec", 2}, {"xvendor-small.spec", 2},
  };
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
    snprintf(path, sizeof path, "%s/../../reports/specs/%s", src_dir(), specs[i].name);
    cr_assert_eq(mb_spec_parse_file(path, s, err, sizeof err), 0, "%s", err);
    cr_assert_geq(s->n_exp, specs[i].min_exp, "%s", specs[i].name);
  }
  free(s);
}

/* ---------------------------------------------------- golden report tables */

Test(report, golden_tables_from_the_fixture)
{
  char path[1024], *d = tmpdir();
  snprintf(path, sizeof path, "%s/fixture.jsonl", src_dir());
  mb_rowset rs = {0};
  cr_assert_eq(mb_rows_read(path, 0, &rs, NULL), 0, "cannot read %s", path);
  cr_assert_eq(rs.n_corrupt, 1, "the fixture has one corrupt line");
  mb_report r;
  cr_assert_eq(mb_report_build(&rs, NULL, &r), 0);
  cr_assert_eq(mb_report_write(&r, d), 0);
  static const char *const files[] = {"report.md", "report.tex", "table1.csv", "table2.csv", "table3.csv",
                                      "fig3.csv", "backends.csv", "table5.csv", "lambda.csv", "fim.csv"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char want_p[1024], got_p[1024];
    snprintf(want_p, sizeof want_p, "%s/golden/%s", src_dir(), files[i]);
    snprintf(got_p, sizeof got_p, "%s/%s", d, files[i]);
    char *want = slurp(want_p), *got = slurp(got_p);
    cr_assert(want, "missing golden file %s", want_p);
    cr_assert(got, "report did not write %s", files[i]);
    cr_expect_str_eq(got, want, "%s differs from %s (diff them; regenerate the golden files only for an intended change)",
                     got_p, want_p);
    free(want);
    free(got);
  }
  /* missing cells are dashes with a footnote, never 0 */
  char *md = slurp(strcat(strcpy(path, d), "/report.md"));
  cr_assert(strstr(md, "| cuda | — ["), "no dash + footnote for the skipped cuda cells");
  cr_assert(strstr(md, "] cuda: skipped: "), "no footnote text with the reason");
  free(md);
  mb_report_free(&r);
  mb_rows_free(&rs);
  free(d);
}

static void scale_member(mb_jv *v, const char *key, double mul, double add)
{
  for (int i = 0; i < v->n; i++)
    if (!strcmp(v->keys[i], key) && v->items[i].t == MB_JV_NUM) v->items[i].num = v->items[i].num * mul + add;
}

Test(report, compare_flags_regressions)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/fixture.jsonl", src_dir());
  mb_rowset a = {0}, b = {0};
  cr_assert_eq(mb_rows_read(path, 0, &a, NULL), 0);
  cr_assert_eq(mb_rows_read(path, 1, &b, NULL), 0);
  mb_compare_opts o = {0.10, 1.0, 1.0};
  static char buf[1 << 16];
  FILE *f = fmemopen(buf, sizeof buf - 1, "w");
  cr_assert_eq(mb_report_compare(&a, &b, &o, f), 0, "a file regresses against itself");
  fclose(f);
  /* NEW: every mnemonic main cell 10x slower and 5 points lower in A_R */
  int changed = 0;
  for (int i = 0; i < b.n; i++) {
    mb_jv *v = &b.rows[i].v;
    if (strcmp(mb_jv_str(v, "method", ""), "mnemonic") || strcmp(mb_jv_str(v, "kind", ""), "main") ||
        strcmp(mb_jv_str(v, "status", ""), "ok"))
      continue;
    scale_member(v, "forget_s", 10, 0);
    scale_member(v, "forget_s_min", 10, 0);
    scale_member(v, "forget_s_max", 10, 0);
    scale_member(v, "A_R", 1, -5);
    changed++;
  }
  cr_assert_geq(changed, 2);
  memset(buf, 0, sizeof buf);
  f = fmemopen(buf, sizeof buf - 1, "w");
  int n = mb_report_compare(&a, &b, &o, f);
  fclose(f);
  cr_assert_geq(n, 2 * changed, "expected time and A_R regressions for %d cells, got %d:\n%s", changed, n, buf);
  cr_assert(strstr(buf, "REGRESSION: time"), "%s", buf);
  cr_assert(strstr(buf, "REGRESSION: A_R fell"), "%s", buf);
  mb_rows_free(&a);
  mb_rows_free(&b);
}

/* ------------------------------------------------- resume after a kill */

static const char k_resume_spec[] =
  "[bench]\nname = resume\ndata = synthetic\ntrain_per_class = 30\nmodel = 784-8-10\nepochs = 1\n"
  "repeats = 1\nwarmup = 0\ntrain_backend = ref\n"
  "[experiment lam]\nkind = lambda\nbackends = ref\n"
  "param.mnemonic.lambda1 = 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10\n";

static pid_t spawn_bench(const char *bin, const char *spec, const char *results, const char *cache, int pause_ms)
{
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    char pause[16];
    snprintf(pause, sizeof pause, "%d", pause_ms);
    setenv("MB_BENCH_PAUSE_MS", pause, 1);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    execl(bin, bin, "bench", spec, "--results", results, "--cache", cache, (char *)NULL);
    _exit(127);
  }
  return pid;
}

static int count_lines(const char *path)
{
  char *t = slurp(path);
  int n = 0;
  for (char *p = t; p && *p; p++) n += *p == '\n';
  free(t);
  return n;
}

Test(results, resume_after_kill_loses_nothing_and_duplicates_nothing, .timeout = 300)
{
  const char *bin = getenv("MB_BIN");
  if (!bin) cr_skip_test("MB_BIN (the mnemobench binary) is not set");
  char *d = tmpdir(), spec[256], res[256], cache[256];
  snprintf(spec, sizeof spec, "%s/resume.spec", d);
  snprintf(res, sizeof res, "%s/results.jsonl", d);
  snprintf(cache, sizeof cache, "%s/cache", d);
  write_file(spec, k_resume_spec);
  /* first run: killed (SIGKILL, no clean-up) once a few rows are durable */
  pid_t pid = spawn_bench(bin, spec, res, cache, 300);
  struct timespec ts = {0, 20 * 1000 * 1000};
  int lines = 0;
  for (int i = 0; i < 6000 && lines < 3; i++) {
    nanosleep(&ts, NULL);
    lines = count_lines(res);
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) cr_assert(0, "the bench ended before it could be killed (rc %d)", st);
  }
  kill(pid, SIGKILL);
  int st;
  waitpid(pid, &st, 0);
  cr_assert(WIFSIGNALED(st), "the bench was not killed");
  int after_kill = count_lines(res);
  cr_assert(after_kill >= 3 && after_kill < 8, "rows after the kill: %d", after_kill);
  /* a row torn by the kill mid-write */
  FILE *f = fopen(res, "a");
  fputs("{\"schema\": \"mnemobench.result/1\", \"cell\": \"lam/mnem", f);
  fclose(f);
  /* the rerun completes the matrix */
  pid = spawn_bench(bin, spec, res, cache, 0);
  waitpid(pid, &st, 0);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the rerun failed (status %d)", st);
  mb_rowset rs = {0};
  cr_assert_eq(mb_rows_read(res, 0, &rs, NULL), 0);
  cr_assert_eq(rs.n_corrupt, 1, "the torn row is one corrupt line");
  cr_assert_eq(rs.n, 8, "rows: %d (8 cells)", rs.n);
  for (int i = 0; i < rs.n; i++) {
    cr_assert_str_eq(mb_jv_str(&rs.rows[i].v, "status", ""), "ok");
    for (int j = 0; j < i; j++)
      cr_assert_str_neq(mb_jv_str(&rs.rows[i].v, "cell", ""), mb_jv_str(&rs.rows[j].v, "cell", ""),
                        "cell %s twice", mb_jv_str(&rs.rows[i].v, "cell", ""));
  }
  /* the rows written before the kill are untouched: the first ones are the same cells */
  mb_rows_free(&rs);
  /* a third run has nothing left to do and writes nothing */
  int before = count_lines(res);
  pid = spawn_bench(bin, spec, res, cache, 0);
  waitpid(pid, &st, 0);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  cr_assert_eq(count_lines(res), before);
  free(d);
}

/* ------------------------------------------ the HTML page in a browser */

static const char *find_chromium(void)
{
  static char path[512];
  const char *env = getenv("CHROMIUM");
  if (env && access(env, X_OK) == 0) return env;
  static const char *const names[] = {"chromium", "chromium-browser", "google-chrome", "chrome"};
  const char *pathv = getenv("PATH");
  if (!pathv) pathv = "/usr/bin:/bin";
  for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
    char *dirs = strdup(pathv);
    for (char *dir = strtok(dirs, ":"); dir; dir = strtok(NULL, ":")) {
      snprintf(path, sizeof path, "%s/%s", dir, names[n]);
      if (access(path, X_OK) == 0) { free(dirs); return path; }
    }
    free(dirs);
  }
  return NULL;
}

Test(report, html_renders_in_headless_chromium, .timeout = 180)
{
  const char *chromium = find_chromium();
  if (!chromium) cr_skip_test("chromium not installed (apt-get install chromium, or set CHROMIUM=path)");
  char path[1024], *d = tmpdir();
  snprintf(path, sizeof path, "%s/fixture.jsonl", src_dir());
  mb_rowset rs = {0};
  cr_assert_eq(mb_rows_read(path, 0, &rs, NULL), 0);
  mb_report r;
  cr_assert_eq(mb_report_build(&rs, NULL, &r), 0);
  cr_assert_eq(mb_report_write(&r, d), 0);
  int nfigs = r.nfigs;
  mb_report_free(&r);
  mb_rows_free(&rs);
  char cmd[4096], dom[1024];
  snprintf(dom, sizeof dom, "%s/dom.html", d);
  snprintf(cmd, sizeof cmd,
           "timeout 120 '%s' --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
           "--user-data-dir='%s/profile' --virtual-time-budget=5000 --dump-dom 'file://%s/report.html' > '%s' 2>'%s/chromium.log'",
           chromium, d, d, dom, d);
  int rc = system(cmd);
  char *out = slurp(dom);
  if (rc != 0 || !out || !*out) {
    char logp[1100];
    snprintf(logp, sizeof logp, "%s/chromium.log", d);
    char *log = slurp(logp);
    cr_assert(0, "chromium failed (rc %d): %.2000s", rc, log ? log : "");
  }
  int svgs = 0;
  for (char *p = out; (p = strstr(p, "<svg")); p++) svgs++;
  cr_assert_eq(svgs, nfigs, "the DOM has %d svg elements, the report %d figures", svgs, nfigs);
  char want[64];
  snprintf(want, sizeof want, "data-figures-rendered=\"%d\"", nfigs);
  cr_assert(strstr(out, want), "not every figure laid out with a non-empty box (want %s)", want);
  char *m = strstr(out, "data-marks=\"");
  cr_assert(m && atoi(m + 12) > 10, "too few bars, points and lines drawn");
  cr_assert(strstr(out, "<table>"), "no tables in the DOM");
  free(out);
  free(d);
}

/* ------------------------------------------- Table 4 and throughput rows */

/* Every format the report writes holds the table: its title in report.md,
 * report.tex and report.html, its rows in ID.csv. */
static void expect_table_everywhere(const char *d, const char *title, const char *id, const char *const *csv_has)
{
  static const char *const files[] = {"report.md", "report.tex", "report.html"};
  char p[1024];
  for (int i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s/%s", d, files[i]);
    char *t = slurp(p);
    cr_assert(t, "no %s", p);
    cr_expect(strstr(t, title), "%s has no '%s'", p, title);
    free(t);
  }
  snprintf(p, sizeof p, "%s/%s.csv", d, id);
  char *csv = slurp(p);
  cr_assert(csv, "no %s", p);
  for (int i = 0; csv_has[i]; i++) cr_expect(strstr(csv, csv_has[i]), "%s has no '%s':\n%s", p, csv_has[i], csv);
  free(csv);
}

/* The rows of bench-scale --json and bench-train --json (mnemobench.result/2,
 * written by the binary: ref and cpu, a backend that does not exist, the MLP and
 * a narrow ResNet-18: a Model column), and older mnemobench.scale/1 and
 * mnemobench.bench/1 rows. */
Test(report, table4_and_throughput_from_bench_rows)
{
  char path[1024], *d = tmpdir();
  snprintf(path, sizeof path, "%s/bench_rows.jsonl", src_dir());
  mb_rowset rs = {0};
  cr_assert_eq(mb_rows_read(path, 0, &rs, NULL), 0, "cannot read %s", path);
  cr_assert_eq(rs.n_corrupt, 0);
  mb_report r;
  cr_assert_eq(mb_report_build(&rs, NULL, &r), 0);
  cr_assert_eq(mb_report_write(&r, d), 0);
  static const char *const t4[] = {"mnemonic,ref,", "mnemonic,cpu,", "ssd,cpu,", "mnemonic,vulkan,", "all,nosuch,",
                                   ",60,20,", NULL};
  expect_table_everywhere(d, "Table 4: processing time of the scalability point", "table4", t4);
  static const char *const tp[] = {"ref,", "cpu,", "opencl,", "sgemm 1024^3 (GFLOP/s)", "cpu,resnet18-fmnist-w8,", NULL};
  expect_table_everywhere(d, "Throughput: training, forgetting latency and GEMM rate per backend", "throughput", tp);
  /* backends in table order: ref before cpu, the unknown one last */
  char *md = slurp(strcat(strcpy(path, d), "/report.md"));
  char *t4md = strstr(md, "### Table 4");
  cr_assert(t4md);
  char *ref = strstr(t4md, "| mnemonic | ref |"), *cpu = strstr(t4md, "| mnemonic | cpu |"),
       *vk = strstr(t4md, "| mnemonic | vulkan |"), *unk = strstr(t4md, "| all | nosuch |");
  cr_assert(ref && cpu && vk && unk, "Table 4 rows missing:\n%s", t4md);
  cr_expect(ref < cpu && cpu < vk && vk < unk, "Table 4 rows out of order:\n%s", t4md);
  free(md);
  mb_report_free(&r);
  mb_rows_free(&rs);
  free(d);
}

/* The done-when check of the scalability point: bench-scale --json piped into
 * report gives Table 4 in every format (a small point on ref: 20 classes). */
Test(report, bench_scale_json_to_report, .timeout = 300)
{
  const char *bin = getenv("MB_BIN");
  if (!bin) cr_skip_test("MB_BIN (the mnemobench binary) is not set");
  char *d = tmpdir(), cmd[2048];
  snprintf(cmd, sizeof cmd,
           "'%s' bench-scale --quick --json --model resnet18 --backend ref --classes-total 20 --ssd-images 16 --ssd-forget 4 "
           "> '%s/s.jsonl' 2>/dev/null && '%s' report '%s/s.jsonl' --out '%s/d' 2>/dev/null",
           bin, d, bin, d, d);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
  char out[1024];
  snprintf(out, sizeof out, "%s/d", d);
  static const char *const t4[] = {"mnemonic,ref,", "ssd,ref,", NULL};
  expect_table_everywhere(out, "Table 4: processing time of the scalability point", "table4", t4);
  free(d);
}

/* Two models (bench-scale --model resnet18,resnext50): Table 4 gets Model and
 * Parameters columns, one line per (model, backend), each with its own count
 * (20 classes: 11,689,512 − 980·513 and 25,028,904 − 980·2049). */
Test(report, bench_scale_two_models_to_table4, .timeout = 300)
{
  const char *bin = getenv("MB_BIN");
  if (!bin) cr_skip_test("MB_BIN (the mnemobench binary) is not set");
  char *d = tmpdir(), cmd[2048];
  snprintf(cmd, sizeof cmd,
           "'%s' bench-scale --json --backend cpu --model resnet18,resnext50 --classes-total 20 --size 32 "
           "--no-ssd --repeats 1 --warmups 0 > '%s/s.jsonl' 2>/dev/null && '%s' report '%s/s.jsonl' --out '%s/d' "
           "2>/dev/null", bin, d, bin, d, d);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
  char out[1024];
  snprintf(out, sizeof out, "%s/d", d);
  static const char *const t4[] = {"Model,Parameters,Method,Backend,", "resnet18-imagenet,11186772,mnemonic,cpu,",
                                   "resnext50_32x4d-imagenet,23020884,mnemonic,cpu,", ",60,20,20", NULL};
  expect_table_everywhere(out, "Table 4: processing time of the scalability point (ImageNet-size models)", "table4", t4);
  snprintf(cmd, sizeof cmd, "grep -c '\"scale_model\": \"resnext50\"' '%s/s.jsonl' | grep -qx 1", d);
  cr_expect_eq(system(cmd), 0, "no row with scale_model resnext50");
  free(d);
}

/* kind = scale and kind = throughput run as bench cells, resumable, and the
 * report reads their rows. */
static const char k_perf_spec[] =
  "[bench]\nname = perf\ndata = synthetic\nseeds = 0\nbackends = ref\nrepeats = 1\nwarmup = 0\n"
  "[experiment point]\nkind = scale\nclasses = 20\nsize = 32\nssd_images = 16\nssd_forget = 4\n"
  "[experiment rate]\nkind = throughput\nmodel = 784-16-10\n";

Test(report, scale_and_throughput_kinds_run_as_bench_cells, .timeout = 300)
{
  const char *bin = getenv("MB_BIN");
  if (!bin) cr_skip_test("MB_BIN (the mnemobench binary) is not set");
  char *d = tmpdir(), spec[256], res[256], cache[256], cmd[2048];
  snprintf(spec, sizeof spec, "%s/perf.spec", d);
  snprintf(res, sizeof res, "%s/results.jsonl", d);
  snprintf(cache, sizeof cache, "%s/cache", d);
  write_file(spec, k_perf_spec);
  pid_t pid = spawn_bench(bin, spec, res, cache, 0);
  int st;
  waitpid(pid, &st, 0);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "bench failed (status %d)", st);
  int rows = count_lines(res);
  cr_assert_eq(rows, 2 + 5, "rows: %d (mnemonic + ssd, 3 GEMM + training + forgetting)", rows);
  mb_rowset rs = {0};
  cr_assert_eq(mb_rows_read(res, 0, &rs, NULL), 0);
  for (int i = 0; i < rs.n; i++) {
    const mb_jv *v = &rs.rows[i].v;
    cr_expect_str_eq(mb_jv_str(v, "schema", ""), "mnemobench.result/2");
    cr_expect_str_eq(mb_jv_str(v, "status", ""), "ok", "row %d: %s", i, mb_jv_str(v, "reason", ""));
    cr_expect(*mb_jv_str(v, "cell", ""), "row %d has no cell", i);
    cr_expect(*mb_jv_str(v, "commit", "") && *mb_jv_str(v, "build", ""), "row %d has no commit or build", i);
  }
  mb_rows_free(&rs);
  /* a rerun has nothing left to do */
  pid = spawn_bench(bin, spec, res, cache, 0);
  waitpid(pid, &st, 0);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  cr_assert_eq(count_lines(res), rows, "the rerun wrote rows again");
  snprintf(cmd, sizeof cmd, "'%s' report '%s' --out '%s/d' 2>/dev/null", bin, res, d);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
  char out[1024];
  snprintf(out, sizeof out, "%s/d", d);
  static const char *const t4[] = {"mnemonic,ref,", "ssd,ref,", NULL};
  expect_table_everywhere(out, "Table 4: processing time of the scalability point", "table4", t4);
  static const char *const tp[] = {"ref,", NULL};
  expect_table_everywhere(out, "Throughput: training, forgetting latency", "throughput", tp);
  free(d);
}

/* The report reads rows only: its sources include no core header, so the
 * report library links no backend. */
Test(report, sources_include_no_core_header)
{
  static const char *const files[] = {"report.h", "report_internal.h", "report.c", "report_rows.c", "report_tables.c",
                                      "report_scale.c", "report_write.c", "report_compare.c", "report_render.c",
                                      "cmd_report.c", "results.h", "results.c", "json_read.h", "json_read.c",
                                      "stats.h", "stats.c"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char p[1024];
    snprintf(p, sizeof p, "%s/../../harness/%s", src_dir(), files[i]);
    char *t = slurp(p);
    cr_assert(t, "cannot read %s", p);
    cr_expect(!strstr(t, "#include \"core/"), "%s includes a core header", p);
    cr_expect(!strstr(t, "#include \"harness/common.h\"") && !strstr(t, "#include \"harness/session.h\""),
              "%s includes a harness header that needs the core", p);
    free(t);
  }
}
