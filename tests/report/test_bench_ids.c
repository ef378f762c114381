/* What a bench cell id holds, what a results file may mix, what --compare
 * calls a pass, what the bench summary counts and what `slurm` refuses:
 *  - every setting that changes a row's numbers changes the cell ids (`bench --list`);
 *  - a results file holding rows of another version of the spec whose cells
 *    changed is refused (one line, exit 2); an added seed resumes;
 *  - `report --compare` fails when nothing was compared or OLD's cells are
 *    missing, names cells of other settings / devices and NEW's new cells;
 *  - a model that failed to train is not counted as a cell;
 *  - `slurm` refuses a missing data folder and a backend without cells, and
 *    caps the array at the cell count.
 * MB_BIN is the mnemobench binary, MB_REPORT_DIR this folder (tests/report). */
#define _GNU_SOURCE
#include "harness/json_read.h"
#include "harness/report.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "scratch.h"
#include "slurp.h"

static char *tmpdir(void) { return scratch_dir("mb-bench-ids"); }

static const char *bin(void)
{
  const char *b = getenv("MB_BIN");
  if (!b) cr_skip_test("MB_BIN (the mnemobench binary) is not set");
  return b;
}

/* Runs sh -c cmd (stdout and stderr into out); its exit status. */
static int run(const char *cmd, char *out, size_t len)
{
  char full[4096];
  snprintf(full, sizeof full, "(%s) 2>&1", cmd);
  FILE *p = popen(full, "r");
  cr_assert(p, "popen: %s", strerror(errno));
  size_t n = fread(out, 1, len - 1, p);
  out[n] = 0;
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* ------------------------------------------------------------- cell ids */

static const char k_base[] =
  "[bench]\nname = ids\ndata = synthetic\ntrain_per_class = 30\ntest_per_class = 20\nmodel = 784-8-10\n"
  "act = sigmoid\ncodes = uniform01\nepochs = 1\nbatch = 64\nlr = 0.01\nt_mix = 0.1\nforget = 0\n"
  "baseline_model = plain\nseeds = 1\nrepeats = 1\nwarmup = 0\ntime_budget = 0\ntrain_backend = ref\n"
  "[experiment main]\nkind = main\nmethods = mnemonic, ssd\nbackends = ref\n";

/* The ids `bench --list` prints for a spec text, one per line into ids. */
static int list_ids(const char *dir, const char *text, char ids[][512], int max)
{
  char spec[512], cmd[2048], out[1 << 14];
  snprintf(spec, sizeof spec, "%s/ids.spec", dir);
  write_file(spec, text);
  snprintf(cmd, sizeof cmd, "'%s' bench '%s' --list --results '%s/none.jsonl' --cache '%s/cache'", bin(), spec, dir, dir);
  int rc = run(cmd, out, sizeof out);
  cr_assert_eq(rc, 0, "bench --list failed:\n%s", out);
  int n = 0;
  for (char *line = strtok(out, "\n"); line && n < max; line = strtok(NULL, "\n"))
    if (!strncmp(line, "todo  ", 6) || !strncmp(line, "done  ", 6)) snprintf(ids[n++], 512, "%s", line + 6);
  return n;
}

/* The base spec with "KEY = ..." of the [bench] block replaced by repl. */
static void with(char *out, size_t len, const char *key, const char *repl)
{
  char pat[64];
  snprintf(pat, sizeof pat, "\n%s = ", key);
  const char *at = strstr(k_base, pat);
  cr_assert(at, "the base spec has no %s", key);
  const char *end = strchr(at + 1, '\n');
  snprintf(out, len, "%.*s\n%s%s", (int)(at - k_base), k_base, repl, end);
}

Test(bench_ids, every_setting_that_changes_numbers_changes_the_cell_ids)
{
  char *d = tmpdir();
  static char base[8][512], ch[8][512];
  int n = list_ids(d, k_base, base, 8);
  cr_assert_eq(n, 2, "2 cells (mnemonic, ssd on ref), got %d", n);
  /* every setting of a main cell that a row's A_R, E_F or times depend on */
  static const struct { const char *key, *line; int only_ssd; } k[] = {
    {"data", "data = default", 0},           {"train_per_class", "train_per_class = 40", 0},
    {"test_per_class", "test_per_class = 10", 0}, {"test_per_class", "test_per_class = all", 0},
    {"model", "model = 784-16-10", 0},       {"act", "act = relu", 0},
    {"codes", "codes = normal01", 0},        {"epochs", "epochs = 2", 0},
    {"batch", "batch = 32", 0},              {"lr", "lr = 0.02", 0},
    {"t_mix", "t_mix = 0.2", 0},             {"forget", "forget = 1", 0},
    {"repeats", "repeats = 2", 0},           {"warmup", "warmup = 1", 0},
    {"time_budget", "time_budget = 5", 0},   {"baseline_model", "baseline_model = mnemonic", 1},
  };
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
    char text[4096];
    with(text, sizeof text, k[i].key, k[i].line);
    int m = list_ids(d, text, ch, 8);
    cr_assert_eq(m, n, "%s: %d cells", k[i].line, m);
    for (int c = 0; c < n; c++) {
      if (k[i].only_ssd && !strstr(base[c], "/ssd/")) continue;   /* mnemonic runs on its codes model */
      cr_assert_str_neq(base[c], ch[c], "'%s' keeps the cell id %s: its stale row would be reused", k[i].line, base[c]);
    }
  }
  free(d);
}

/* ------------------------------------------- results of another spec version */

static const char k_tiny[] =
  "[bench]\nname = tiny\ndata = synthetic\ntrain_per_class = 20\ntest_per_class = 20\nmodel = 784-8-10\n"
  "epochs = 1\nrepeats = 1\nwarmup = 0\ntrain_backend = ref\nseeds = 1\n"
  "[experiment main]\nkind = main\nmethods = mnemonic\nbackends = ref\n";

Test(bench_ids, changed_settings_are_refused_added_cells_resume, .timeout = 300)
{
  char *d = tmpdir(), spec[256], res[256], cmd[2048], out[1 << 14];
  snprintf(spec, sizeof spec, "%s/tiny.spec", d);
  snprintf(res, sizeof res, "%s/R.jsonl", d);
  write_file(spec, k_tiny);
  snprintf(cmd, sizeof cmd, "'%s' bench '%s' --results '%s' --cache '%s/cache'", bin(), spec, res, d);
  cr_assert_eq(run(cmd, out, sizeof out), 0, "first run:\n%s", out);
  char *before = slurp(res);
  cr_assert(before);
  /* test_per_class 20 -> 10: other numbers; the file's rows are stale */
  char text[2048];
  snprintf(text, sizeof text, "%s", k_tiny);
  char *at = strstr(text, "test_per_class = 20");
  cr_assert(at);
  at[sizeof "test_per_class = " - 1] = '1';
  write_file(spec, text);
  int rc = run(cmd, out, sizeof out);
  cr_assert_eq(rc, 2, "a changed setting must be refused (exit 2), got %d:\n%s", rc, out);
  cr_assert(strstr(out, "another version of spec 'tiny'") && strstr(out, "--results"), "%s", out);
  cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "one line:\n%s", out);
  char *after = slurp(res);
  cr_assert_str_eq(before, after, "the refused run wrote to the results file");
  free(after);
  /* back to 20 with a second seed: seed 1's cell is unchanged (done), seed 2's runs */
  snprintf(text, sizeof text, "%.*sseeds = 1, 2\n%s", (int)(strstr(k_tiny, "seeds = 1") - k_tiny), k_tiny,
           strstr(k_tiny, "seeds = 1") + sizeof "seeds = 1");
  write_file(spec, text);
  rc = run(cmd, out, sizeof out);
  cr_assert_eq(rc, 0, "an added seed resumes, got %d:\n%s", rc, out);
  cr_assert(strstr(out, "2 cells (1 done before)"), "%s", out);
  cr_assert(strstr(out, "earlier version of spec 'tiny'"), "the mixed versions are said:\n%s", out);
  free(before);
  free(d);
}

/* A model that cannot be trained: its cell fails once and counts once. */
Test(bench_ids, a_failed_model_is_not_a_failed_cell, .timeout = 120)
{
  char *d = tmpdir(), spec[256], cmd[2048], out[1 << 14];
  snprintf(spec, sizeof spec, "%s/tiny.spec", d);
  write_file(spec, k_tiny);
  snprintf(cmd, sizeof cmd, "'%s' bench '%s' --data '%s/nonexistent-dir' --results '%s/R.jsonl' --cache '%s/cache'",
           bin(), spec, d, d, d);
  int rc = run(cmd, out, sizeof out);
  cr_assert_neq(rc, 0, "%s", out);
  cr_assert(strstr(out, "1 cell(s) run in") && strstr(out, "(1 failed, 1 model(s) failed to train)"),
            "one cell, one failure, one model:\n%s", out);
  free(d);
}

/* ------------------------------------------------------------- --compare */

static mb_jv *member(mb_jv *v, const char *key)
{
  for (int i = 0; i < v->n; i++)
    if (!strcmp(v->keys[i], key)) return &v->items[i];
  return NULL;
}

static void set_str(mb_jv *v, const char *key, const char *s)
{
  mb_jv *m = member(v, key);
  cr_assert(m && m->t == MB_JV_STR, "no string %s", key);
  free(m->str);
  m->str = strdup(s);
}

/* Sets number member key (added when the row has none: the fixture's rows
 * predate test_per_class). */
static void set_num(mb_jv *v, const char *key, double x)
{
  mb_jv *m = member(v, key);
  if (!m) {
    char **k = realloc(v->keys, sizeof *k * (size_t)(v->n + 1));
    cr_assert(k);
    v->keys = k;
    mb_jv *it = realloc(v->items, sizeof *it * (size_t)(v->n + 1));
    cr_assert(it);
    v->items = it;
    v->keys[v->n] = strdup(key);
    memset(&v->items[v->n], 0, sizeof *it);
    v->items[v->n].t = MB_JV_NUM;
    m = &v->items[v->n++];
  }
  cr_assert(m->t == MB_JV_NUM, "no number %s", key);
  m->num = x;
}

static int compare(const mb_rowset *a, const mb_rowset *b, char *buf, size_t len)
{
  mb_compare_opts o = {0.10, 1.0, 1.0};
  memset(buf, 0, len);
  FILE *f = fmemopen(buf, len - 1, "w");
  int n = mb_report_compare(a, b, &o, f);
  fclose(f);
  return n;
}

static void fixture(mb_rowset *rs, int file)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/fixture.jsonl", src_dir());
  cr_assert_eq(mb_rows_read(path, file, rs, NULL), 0);
}

Test(compare, nothing_compared_fails)
{
  static char buf[1 << 16];
  mb_rowset a = {0}, b = {0};
  fixture(&a, 0);
  cr_assert_gt(compare(&a, &b, buf, sizeof buf), 0, "an empty NEW passes:\n%s", buf);
  cr_assert(strstr(buf, "0 cells compared") && strstr(buf, "FAILED"), "%s", buf);
  cr_assert(strstr(buf, "MISSING"), "OLD's cells are named:\n%s", buf);
  mb_rows_free(&a);
}

Test(compare, other_settings_and_machines_are_named)
{
  static char buf[1 << 16];
  mb_rowset a = {0}, b = {0};
  fixture(&a, 0);
  fixture(&b, 1);
  cr_assert_eq(compare(&a, &b, buf, sizeof buf), 0, "itself:\n%s", buf);
  cr_assert(strstr(buf, "PASSED"), "%s", buf);
  /* NEW's ok main rows: half with test_per_class 10 and A_R 5 points lower,
   * half on another device and 10x slower; one more cell only NEW has */
  int k = 0, moved = -1;
  for (int i = 0; i < b.n; i++) {
    mb_jv *v = &b.rows[i].v;
    if (strcmp(mb_jv_str(v, "kind", ""), "main") || strcmp(mb_jv_str(v, "status", ""), "ok")) continue;
    if (k++ % 2 == 0) {
      set_num(v, "test_per_class", 10);
      set_num(v, "A_R", mb_jv_num(v, "A_R") - 5);
      if (moved < 0) moved = i;
    } else {
      set_str(v, "device", "Another GPU");
      set_num(v, "forget_s", 10 * mb_jv_num(v, "forget_s"));
      set_num(v, "forget_s_min", 10 * mb_jv_num(v, "forget_s_min"));
      set_num(v, "forget_s_max", 10 * mb_jv_num(v, "forget_s_max"));
    }
  }
  cr_assert_geq(k, 4);
  int n = compare(&a, &b, buf, sizeof buf);
  cr_assert_gt(n, 0, "%s", buf);
  cr_assert(strstr(buf, "NOT COMPARABLE: test_per_class differs"), "%s", buf);
  cr_assert(strstr(buf, "TIME NOT COMPARABLE: device differs"), "%s", buf);
  cr_assert(!strstr(buf, "REGRESSION: time") && !strstr(buf, "REGRESSION: A_R"),
            "other settings or devices reported as regressions:\n%s", buf);
  /* a cell only NEW has is listed */
  set_str(&b.rows[moved].v, "cell", "main/newmethod/cpu:0/s1/t0.1#00000000");
  n = compare(&a, &b, buf, sizeof buf);
  cr_assert(strstr(buf, "main/newmethod/cpu:0/s1/t0.1#00000000 | new: not in OLD"), "%s", buf);
  cr_assert(strstr(buf, "1 cell(s) of NEW not in OLD"), "%s", buf);
  mb_rows_free(&a);
  mb_rows_free(&b);
}

Test(compare, exit_status_of_the_command)
{
  char *d = tmpdir(), cmd[2048], out[1 << 14], empty[256];
  snprintf(empty, sizeof empty, "%s/empty.jsonl", d);
  write_file(empty, "");
  snprintf(cmd, sizeof cmd, "'%s' report --compare '%s/fixture.jsonl' '%s'", bin(), src_dir(), empty);
  cr_assert_eq(run(cmd, out, sizeof out), 1, "an empty NEW must fail the gate:\n%s", out);
  snprintf(cmd, sizeof cmd, "'%s' report --compare '%s/fixture.jsonl' '%s/fixture.jsonl'", bin(), src_dir(), src_dir());
  cr_assert_eq(run(cmd, out, sizeof out), 0, "%s", out);
  free(d);
}

/* ----------------------------------------------------------------- slurm */

/* `slurm SPEC ARGS --dir DIR` in folder d must exit 2 with one line holding why,
 * and write no scripts. */
static void expect_slurm_refused(const char *d, const char *spec, const char *args, const char *dir,
                                 const char *why)
{
  char cmd[2048], out[1 << 14], path[512];
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' slurm '%s' %s --dir %s", d, bin(), spec, args, dir);
  int rc = run(cmd, out, sizeof out);
  cr_assert_eq(rc, 2, "%s", out);
  cr_assert(strstr(out, why) && strchr(out, '\n') == out + strlen(out) - 1, "one line with '%s':\n%s", why,
            out);
  snprintf(path, sizeof path, "%s/%s/shards.sbatch", d, dir);
  cr_assert_neq(access(path, F_OK), 0, "scripts written for: %s", args);
}

Test(slurm, refuses_what_gives_empty_jobs)
{
  char *d = tmpdir(), spec[256], cmd[2048], out[1 << 14], path[512];
  snprintf(spec, sizeof spec, "%s/tiny.spec", d);
  write_file(spec, k_tiny);
  expect_slurm_refused(d, spec, "--data ./nonexistent-dir", "s1", "nonexistent-dir");
  expect_slurm_refused(d, spec, "--backend opencl", "s2", "no cells on backend opencl");
  /* 100 shards of 1 cell: 1 */
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' slurm '%s' --array 100 --dir s3", d, bin(), spec);
  int rc = run(cmd, out, sizeof out);
  cr_assert_eq(rc, 0, "%s", out);
  cr_assert(strstr(out, "1 cell(s) to run, so 1 shard(s)"), "said:\n%s", out);
  snprintf(path, sizeof path, "%s/s3/shards.sbatch", d);
  char *t = slurp(path);
  cr_assert(t && strstr(t, "#SBATCH --array=0-0\n") && strstr(t, "-of-1.jsonl"), "%s",
            t ? t : "(none)");
  free(t);
  free(d);
}
