/* One method on two networks (a spec's sigmoid-MLP and ReLU-MLP experiments,
 * reports/specs/quick.spec): the main tables key their rows by (method,
 * network), so each network is its own row with a Network column and nothing
 * is averaged across them; one network keeps the paper layout (no column).
 * Checked in every rendering (Markdown, LaTeX, CSV, HTML, the figure's SVG)
 * against hand arithmetic.  Milliseconds. */
#include "harness/report.h"
#include "harness/results.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "report_file.h"

#define SIG "784-1000-10 sigmoid"
#define RELU "784-1000-10 relu"

/* One ok main row: method m (list place order) on network net, backend b, seed,
 * A_R and E_F before and after, median time t (s); mia < 0: no quality metrics. */
static void put_row(FILE *f, const char *exp, const char *m, int order, const char *net, const char *b, int seed,
                    double ar0, double ar, double ef0, double ef, double t, double mia)
{
  char quality[160] = "";
  if (mia >= 0)
    snprintf(quality, sizeof quality, "\"metrics\": \"mia\", \"mia\": %g, ", mia);
  fprintf(f, "{\"schema\": \"mnemobench.result/2\", \"command\": \"bench\", \"kind\": \"main\", \"status\": \"ok\", "
          "\"reason\": \"\", \"backend\": \"%s\", \"device_index\": 0, \"device\": \"%s-device\", \"device_type\": \"cpu\", "
          "\"driver\": \"\", \"api\": \"%s\", \"dataset\": \"fashion-mnist\", \"model\": \"%s\", \"seed\": %d, "
          "\"spec\": \"nets\", \"spec_hash\": \"h1\", \"experiment\": \"%s\", "
          "\"cell\": \"%s/%s/%s:0/s%d#0000000%d\", \"cell_group\": \"%s/%s/s%d\", \"method\": \"%s\", "
          "\"method_needs\": \"%s\", \"method_target\": \"t\", \"method_order\": %d, \"model_kind\": \"%s\", "
          "\"A_R_before\": %g, \"A_R\": %g, \"E_F_before\": %g, \"E_F\": %g, \"sign\": 1, %s"
          "\"forget_s\": %g, \"forget_s_min\": %g, \"forget_s_max\": %g, \"forget_s_std\": 0, "
          "\"upload_s\": 0.001, \"download_s\": 0.001, \"repeats\": 1, \"n_forward\": %d, \"n_backward\": %d}\n",
          b, b, b, net, seed, exp, exp, m, b, seed, order, m, net, seed, m, order ? "D_f" : "none (codes)", order,
          order ? "plain" : "mnemonic", ar0, ar, ef0, ef, quality, t, t, t, order ? 1000 : 10, order ? 2000 : 10);
}

static char g_dir[64];

/* mnemonic and mumis on the sigmoid MLP (mumis: two seeds) and on the ReLU MLP;
 * the ref rows take 1 s (sigmoid) and 4 s (relu) for mnemonic. */
static void write_two(const char *path)
{
  FILE *f = fopen(path, "w");
  cr_assert(f);
  put_row(f, "main", "mnemonic", 0, SIG, "cpu", 1, 85.0, 86.0, 14.0, 100.0, 0.1, 20);
  put_row(f, "main", "mumis", 5, SIG, "cpu", 1, 85.9, 85.9, 14.8, 14.9, 0.5, 50);
  put_row(f, "main", "mumis", 5, SIG, "cpu", 2, 85.7, 85.7, 15.0, 15.1, 0.7, 52);
  put_row(f, "main", "mnemonic", 0, SIG, "ref", 1, 85.0, 86.0, 14.0, 100.0, 1.0, -1);
  put_row(f, "mumis-relu", "mnemonic", 0, RELU, "cpu", 1, 86.0, 85.0, 21.0, 99.0, 0.2, -1);
  put_row(f, "mumis-relu", "mumis", 5, RELU, "cpu", 1, 86.28, 86.37, 21.2, 100.0, 36.0, 10);
  put_row(f, "mumis-relu", "mnemonic", 0, RELU, "ref", 1, 86.0, 85.0, 21.0, 99.0, 4.0, -1);
  fclose(f);
}

static char *build(const char *rows, const char *file)
{
  mb_rowset rs;
  memset(&rs, 0, sizeof rs);
  cr_assert_eq(mb_rows_read(rows, 0, &rs, stderr), 0);
  mb_report r;
  cr_assert_eq(mb_report_build(&rs, "cpu", &r), 0);
  return report_file(&r, &rs, g_dir, file);
}

static void setup(void)
{
  snprintf(g_dir, sizeof g_dir, "/tmp/mbnet-XXXXXX");
  cr_assert(mkdtemp(g_dir));
}

static void teardown(void)
{
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  cr_expect_eq(system(cmd), 0);
}

static void expect_has(const char *text, const char *what, const char *file)
{
  cr_expect(strstr(text, what), "%s lacks '%s':\n%s", file, what, text);
}

Test(networks, one_method_on_two_networks_is_two_rows, .init = setup, .fini = teardown)
{
  char rows[128];
  snprintf(rows, sizeof rows, "%s/rows.jsonl", g_dir);
  write_two(rows);
  /* Table 3 (E_F): mumis on the sigmoid MLP over its two seeds, the ReLU MLP its own row */
  char *t3 = build(rows, "table3.csv");
  expect_has(t3, "Method,Network,Model,Before,After (mean ± std),Seeds,note\n", "table3.csv");
  expect_has(t3, "mnemonic," SIG ",mnemonic,14.0 ± 0.0,100.0 ± 0.0,1,\n", "table3.csv");
  expect_has(t3, "mnemonic," RELU ",mnemonic,21.0 ± 0.0,99.0 ± 0.0,1,\n", "table3.csv");
  expect_has(t3, "mumis," SIG ",plain,14.9 ± 0.1,15.0 ± 0.1,2,\n", "table3.csv");
  expect_has(t3, "mumis," RELU ",plain,21.2 ± 0.0,100.0 ± 0.0,1,\n", "table3.csv");
  /* the order: method list, then networks in order of appearance */
  cr_expect(strstr(t3, "mnemonic," SIG) < strstr(t3, "mnemonic," RELU), "%s", t3);
  cr_expect(strstr(t3, "mnemonic," RELU) < strstr(t3, "mumis," SIG), "%s", t3);
  free(t3);
  char *t2 = build(rows, "table2.csv");
  expect_has(t2, "mumis," RELU ",plain,86.3 ± 0.0,86.4 ± 0.0,1,\n", "table2.csv");
  free(t2);
  /* Table 1: the passes of each network's rows */
  char *t1 = build(rows, "table1.csv");
  expect_has(t1, "Method,Network,Data needed,Target,Forward passes,Backward passes,note\n", "table1.csv");
  expect_has(t1, "mumis," RELU ",D_f,t,1000,2000,\n", "table1.csv");
  free(t1);
  /* the backend table: the speed-up over ref per network (1 s / 0.1 s, 4 s / 0.2 s);
   * mixed, both would read median(1, 4) over their own time */
  char *be = build(rows, "backends.csv");
  expect_has(be, "Method,Network,Backend,Device,", "backends.csv");
  expect_has(be, "mnemonic," SIG ",cpu,cpu-device,100 [100–100],10.00×", "backends.csv");
  expect_has(be, "mnemonic," RELU ",cpu,cpu-device,200 [200–200],20.00×", "backends.csv");
  free(be);
  /* Figure 3: one bar per (method, network), the network in the category */
  char *f3 = build(rows, "fig3.csv");
  expect_has(f3, "mumis," SIG ",600,500,700,", "fig3.csv");
  expect_has(f3, "mumis," RELU ",36000,36000,36000,", "fig3.csv");
  free(f3);
  char *svg = build(rows, "fig3.svg");
  /* the bars' labels leave out the words both networks share */
  expect_has(svg, ">mumis (relu)</text>", "fig3.svg");
  expect_has(svg, ">mumis (sigmoid)</text>", "fig3.svg");
  free(svg);
  /* quality: MIA mean over the sigmoid seeds (50, 52), the ReLU row alone */
  char *q = build(rows, "quality.csv");
  expect_has(q, "mumis," SIG ",plain,51.0 ± 1.0,", "quality.csv");
  expect_has(q, "mumis," RELU ",plain,10.0,", "quality.csv");
  free(q);
  /* the other renderings carry the column and its caption sentence */
  char *md = build(rows, "report.md");
  expect_has(md, "| Method | Network | Model | Before |", "report.md");
  expect_has(md, "| mumis | " RELU " | plain | 21.2 ± 0.0 | 100.0 ± 0.0 | 1 |", "report.md");
  expect_has(md, "never averaged across networks", "report.md");
  free(md);
  char *tex = build(rows, "report.tex");
  expect_has(tex, "Method & Network & Model", "report.tex");
  expect_has(tex, "mumis & " RELU " & plain", "report.tex");
  free(tex);
  char *html = build(rows, "report.html");
  expect_has(html, "<th>Network</th>", "report.html");
  expect_has(html, "<td class=\"num\">" RELU "</td>", "report.html");
  free(html);
}

Test(networks, one_network_keeps_the_paper_layout, .init = setup, .fini = teardown)
{
  char rows[128];
  snprintf(rows, sizeof rows, "%s/rows.jsonl", g_dir);
  FILE *f = fopen(rows, "w");
  cr_assert(f);
  put_row(f, "main", "mnemonic", 0, SIG, "cpu", 1, 85.0, 86.0, 14.0, 100.0, 0.1, -1);
  put_row(f, "main", "mumis", 5, SIG, "cpu", 1, 85.9, 85.9, 14.8, 14.9, 0.5, -1);
  fclose(f);
  char *t3 = build(rows, "table3.csv");
  expect_has(t3, "Method,Model,Before,After (mean ± std),Seeds,note\n", "table3.csv");
  expect_has(t3, "mumis,plain,14.8 ± 0.0,14.9 ± 0.0,1,\n", "table3.csv");
  cr_expect_null(strstr(t3, "Network"), "%s", t3);
  free(t3);
}

/* A mnemobench.result/1 row named the MLP's layers only ("784-64-10") with its
 * activation in `act`: the network is both, so old sigmoid and relu rows are
 * told apart too. */
Test(networks, old_rows_take_the_activation_from_act, .init = setup, .fini = teardown)
{
  char rows[128];
  snprintf(rows, sizeof rows, "%s/rows.jsonl", g_dir);
  FILE *f = fopen(rows, "w");
  cr_assert(f);
  for (int k = 0; k < 2; k++)
    fprintf(f, "{\"schema\": \"mnemobench.result/1\", \"kind\": \"main\", \"status\": \"ok\", \"backend\": \"cpu\", "
            "\"cell\": \"c%d\", \"method\": \"mumis\", \"model\": \"784-64-10\", \"act\": \"%s\", \"seed\": 1, "
            "\"model_kind\": \"plain\", \"A_R\": 80, \"A_R_before\": 80, \"E_F\": %d, \"E_F_before\": 10, \"forget_s\": 1}\n",
            k, k ? "relu" : "sigmoid", k ? 100 : 12);
  fclose(f);
  char *t3 = build(rows, "table3.csv");
  expect_has(t3, "mumis,784-64-10 sigmoid,plain,10.0 ± 0.0,12.0 ± 0.0,1,\n", "table3.csv");
  expect_has(t3, "mumis,784-64-10 relu,plain,10.0 ± 0.0,100.0 ± 0.0,1,\n", "table3.csv");
  free(t3);
}

/* End to end: a spec whose second experiment overrides the activation trains
 * its own models (the cache key holds act), its rows name their network, and
 * the report gives MU-Mis on each network its own row; `bench --experiment`
 * runs one block of it first.  Synthetic data, a
 * 784-16-10 MLP, 1 epoch, 2 MU-Mis iterations on cpu: a few seconds. */
static const char k_spec[] =
  "[bench]\nname = nets\ndata = synthetic\ntrain_per_class = 20\nmodel = 784-16-10\nepochs = 1\nbatch = 32\n"
  "seeds = 1\nbackends = cpu\nrepeats = 1\nwarmup = 0\n"
  "[experiment main]\nmethods = mnemonic, mumis\nparam.mumis.iters = 2\n"
  "[experiment mumis-relu]\nact = relu\nmethods = mumis\nparam.mumis.iters = 2\nparam.mumis.lr = 3e-3\n"
  "param.mumis.stop = 2\n";

Test(networks, an_experiment_with_its_own_activation_is_its_own_network, .init = setup, .fini = teardown,
     .timeout = 300)
{
  const char *bin = getenv("MB_BIN");
  if (!bin) cr_skip_test("MB_BIN (the mnemobench binary) is not set");
  char spec[128], res[128], cmd[1024];
  snprintf(spec, sizeof spec, "%s/nets.spec", g_dir);
  snprintf(res, sizeof res, "%s/rows.jsonl", g_dir);
  FILE *f = fopen(spec, "w");
  cr_assert(f);
  fputs(k_spec, f);
  fclose(f);
  /* --experiment: only that block's cells; a name the spec lacks is one line and exit 2 */
  snprintf(cmd, sizeof cmd, "'%s' bench '%s' --experiment nosuch --results '%s' --cache '%s/cache' 2>'%s/err'", bin,
           spec, res, g_dir, g_dir);
  int st = system(cmd);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "%s: status %d", cmd, st);
  snprintf(cmd, sizeof cmd, "%s/err", g_dir);
  char *err = slurp(cmd);
  cr_assert(err && strstr(err, "--experiment 'nosuch'") && strstr(err, "(it has: main, mumis-relu)") &&
            strchr(err, '\n') == err + strlen(err) - 1, "%s", err ? err : "no message");
  free(err);
  cr_assert_eq(access(res, F_OK), -1, "a refused run wrote %s", res);
  snprintf(cmd, sizeof cmd, "'%s' bench '%s' --experiment mumis-relu --results '%s' --cache '%s/cache' 2>/dev/null",
           bin, spec, res, g_dir);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
  char *one = slurp(res);
  cr_assert(one && strstr(one, "\"experiment\": \"mumis-relu\"") && !strstr(one, "\"experiment\": \"main\"") &&
            strchr(one, '\n') == one + strlen(one) - 1, "--experiment mumis-relu wrote:\n%s", one ? one : "");
  free(one);
  /* the whole spec then runs only what is left */
  snprintf(cmd, sizeof cmd, "'%s' bench '%s' --results '%s' --cache '%s/cache' 2>/dev/null", bin, spec, res, g_dir);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
  mb_rowset rs;
  memset(&rs, 0, sizeof rs);
  cr_assert_eq(mb_rows_read(res, 0, &rs, stderr), 0);
  cr_assert_eq(rs.n, 3, "rows: %d (mnemonic and mumis of main, mumis of mumis-relu)", rs.n);
  const char *key_sig = NULL, *key_relu = NULL;
  for (int i = 0; i < rs.n; i++) {
    const mb_jv *v = &rs.rows[i].v;
    cr_expect_str_eq(mb_jv_str(v, "status", ""), "ok", "row %d: %s", i, mb_jv_str(v, "reason", ""));
    int relu = !strcmp(mb_jv_str(v, "experiment", ""), "mumis-relu");
    cr_expect_str_eq(mb_jv_str(v, "model", ""), relu ? "784-16-10 relu" : "784-16-10 sigmoid", "row %d", i);
    if (!strcmp(mb_jv_str(v, "method", ""), "mumis")) *(relu ? &key_relu : &key_sig) = mb_jv_str(v, "model_key", "");
  }
  cr_assert(key_sig && key_relu && *key_sig && *key_relu);
  cr_expect_str_neq(key_sig, key_relu, "the sigmoid and ReLU plain models share a cache entry");
  mb_rows_free(&rs);
  snprintf(cmd, sizeof cmd, "ls '%s'/cache/model-*.ckpt | wc -l > '%s/n'", g_dir, g_dir);
  cr_assert_eq(system(cmd), 0);
  snprintf(cmd, sizeof cmd, "%s/n", g_dir);
  char *n = slurp(cmd);
  cr_expect(n && atoi(n) == 3, "cached models: %s (sigmoid with codes, sigmoid plain, relu plain)", n ? n : "?");
  free(n);
  char *t3 = build(res, "table3.csv");
  expect_has(t3, "Method,Network,Model,", "table3.csv");
  expect_has(t3, "mumis,784-16-10 sigmoid,plain,", "table3.csv");
  expect_has(t3, "mumis,784-16-10 relu,plain,", "table3.csv");
  free(t3);
}

/* A skipped cell's row names a ResNet-18 on a data folder without its input
 * ("resnet18-w16": bench_rows.c read no data); it joins the entry of that
 * network with its input named, so a skipped backend adds no network. */
Test(networks, a_skipped_resnet_row_without_its_input_joins_its_network, .init = setup, .fini = teardown)
{
  char rows[128];
  snprintf(rows, sizeof rows, "%s/rows.jsonl", g_dir);
  FILE *f = fopen(rows, "w");
  cr_assert(f);
  put_row(f, "main", "mnemonic", 0, "resnet18-cifar-w16", "cpu", 1, 80.0, 79.0, 10.0, 100.0, 0.1, -1);
  static const char *const skipped[] = {"mnemonic", "sfdn"};
  for (int k = 0; k < 2; k++)
    fprintf(f, "{\"schema\": \"mnemobench.result/2\", \"command\": \"bench\", \"kind\": \"main\", \"status\": \"skipped\", "
            "\"reason\": \"no CUDA device\", \"backend\": \"cuda\", \"model\": \"resnet18-w16\", \"seed\": 1, "
            "\"cell\": \"main/%s/cuda:0/s1#1\", \"method\": \"%s\", \"method_order\": %d}\n",
            skipped[k], skipped[k], k ? 4 : 0);
  fclose(f);
  char *t3 = build(rows, "table3.csv");
  cr_expect_null(strstr(t3, "Network"), "%s", t3);
  expect_has(t3, "mnemonic,mnemonic,10.0 ± 0.0,100.0 ± 0.0,1,\n", "table3.csv");
  expect_has(t3, "sfdn,,,,,Model: sfdn has no result on cpu\n", "table3.csv");   /* a dash and its reason */
  free(t3);
  char *md = build(rows, "report.md");
  /* Table 1 (any backend) gives the skipped row's reason, under the one network */
  expect_has(md, "| sfdn | — [1] |", "report.md");
  expect_has(md, "[1] cuda: skipped: no CUDA device", "report.md");
  free(md);
}

/* Table 5 (t_mix sweep) on two networks: one row per (t_mix, network). */
Test(networks, a_tmix_sweep_on_two_networks_is_two_blocks, .init = setup, .fini = teardown)
{
  char rows[128];
  snprintf(rows, sizeof rows, "%s/rows.jsonl", g_dir);
  FILE *f = fopen(rows, "w");
  cr_assert(f);
  static const struct { const char *net; double t, ef; } r[] = {
    {SIG, 0.1, 100}, {SIG, 0.3, 98}, {RELU, 0.1, 40}, {RELU, 0.3, 60},
  };
  for (int k = 0; k < 4; k++)
    fprintf(f, "{\"schema\": \"mnemobench.result/2\", \"kind\": \"tmix\", \"status\": \"ok\", \"backend\": \"cpu\", "
            "\"cell\": \"t%d\", \"method\": \"mnemonic\", \"method_uses_codes_model\": true, \"model\": \"%s\", "
            "\"seed\": 1, \"model_t_mix\": %g, \"test_acc\": 85, \"A_R\": 86, \"E_F\": %g, \"forget_s\": 0.01}\n",
            k, r[k].net, r[k].t, r[k].ef);
  fclose(f);
  char *t5 = build(rows, "table5.csv");
  expect_has(t5, "t_mix,Network,Backend,", "table5.csv");
  expect_has(t5, "0.1," SIG ",cpu,85.0 ± 0.0,86.0 ± 0.0,100.0 ± 0.0,10.0,1,\n", "table5.csv");
  expect_has(t5, "0.1," RELU ",cpu,85.0 ± 0.0,86.0 ± 0.0,40.0 ± 0.0,10.0,1,\n", "table5.csv");
  expect_has(t5, "0.3," RELU ",cpu,85.0 ± 0.0,86.0 ± 0.0,60.0 ± 0.0,10.0,1,\n", "table5.csv");
  free(t5);
}

/* The network most methods ran on comes first, whatever the order of the rows
 * (ref cells of a second experiment may be written before main's). */
Test(networks, the_main_network_comes_first, .init = setup, .fini = teardown)
{
  char rows[128];
  snprintf(rows, sizeof rows, "%s/rows.jsonl", g_dir);
  FILE *f = fopen(rows, "w");
  cr_assert(f);
  put_row(f, "mumis-relu", "mumis", 5, RELU, "cpu", 1, 86.28, 86.37, 21.2, 100.0, 36.0, -1);
  put_row(f, "main", "mnemonic", 0, SIG, "cpu", 1, 85.0, 86.0, 14.0, 100.0, 0.1, -1);
  put_row(f, "main", "mumis", 5, SIG, "cpu", 1, 85.9, 85.9, 14.8, 14.9, 0.5, -1);
  fclose(f);
  char *t3 = build(rows, "table3.csv");
  char *sig = strstr(t3, "mumis," SIG), *relu = strstr(t3, "mumis," RELU);
  cr_assert(sig && relu, "%s", t3);
  cr_expect(sig < relu, "the ReLU row before the sigmoid one:\n%s", t3);
  free(t3);
}

/* ------------------------------------------------ audit: settings, provenance, inputs */

/* One ok row of kind k: method mnemonic, λ2, seed, backend b, A_R, commit/build,
 * cell id; extra: more JSON members (ending in ", ") or "". */
static void put_lrow(FILE *f, const char *kind, const char *exp, double l2, int seed, const char *b, double ar,
                     const char *commit, const char *build, const char *cell, const char *extra)
{
  fprintf(f, "{\"schema\": \"mnemobench.result/2\", \"command\": \"bench\", \"kind\": \"%s\", \"status\": \"ok\", "
          "\"backend\": \"%s\", \"device\": \"%s-device\", \"model\": \"" SIG "\", \"seed\": %d, \"spec\": \"s\", "
          "\"spec_hash\": \"h\", \"experiment\": \"%s\", \"cell\": \"%s\", \"cell_group\": \"g%d\", "
          "\"method\": \"mnemonic\", \"method_order\": 0, \"method_uses_codes_model\": true, \"model_kind\": \"mnemonic\", "
          "\"params\": {\"lambda1\": 0.001, \"lambda2\": %g}, \"epochs\": 3, \"t_mix\": 0.1, \"model_t_mix\": 0.1, %s"
          "\"commit\": \"%s\", \"build\": \"%s\", \"threads\": 2, \"test_acc\": 80, \"A_R_before\": 80, \"A_R\": %g, "
          "\"E_F_before\": 10, \"E_F\": 100, \"sign\": 1, \"forget_s\": 0.01, \"forget_s_min\": 0.01, "
          "\"forget_s_max\": 0.01, \"repeats\": 1, \"n_forward\": 10, \"n_backward\": 10}\n",
          kind, b, b, seed, exp, cell, seed, l2, extra, commit, build, ar);
}

/* Rows of one method and network whose λ2 differs (two experiments, the same
 * seed) are two rows named by λ2, never one average; Table 2 drops neither. */
Test(networks, rows_with_different_settings_are_never_averaged, .init = setup, .fini = teardown)
{
  char rows[128];
  snprintf(rows, sizeof rows, "%s/rows.jsonl", g_dir);
  FILE *f = fopen(rows, "w");
  cr_assert(f);
  put_lrow(f, "main", "main-a", 0.1, 1, "cpu", 40, "c1", "release", "a/1", "");
  put_lrow(f, "main", "main-b", 10, 1, "cpu", 60, "c1", "release", "b/1", "");
  /* a second experiment with the same settings (main-seeds) pools its seed */
  put_lrow(f, "main", "main-seeds", 0.1, 2, "cpu", 50, "c1", "release", "a/2", "");
  fclose(f);
  char *t2 = build(rows, "table2.csv");
  expect_has(t2, "mnemonic [lambda2=0.1],mnemonic,80.0 ± 0.0,45.0 ± 5.0,2,\n", "table2.csv");
  expect_has(t2, "mnemonic [lambda2=10],mnemonic,80.0 ± 0.0,60.0 ± 0.0,1,\n", "table2.csv");
  cr_expect_null(strstr(t2, "50.0 ± 10.0"), "λ2 0.1 and 10 averaged:\n%s", t2);
  free(t2);
  char *md = build(rows, "report.md");
  expect_has(md, "| mnemonic [lambda2=10] |", "report.md");   /* Figure 3's table, the backend table too */
  expect_has(md, "never averaged together", "report.md");
  free(md);
}

/* Rows of two commits/builds: the header names both and says the tables mix
 * them; a later row of another build replacing a cell's row is said. */
Test(networks, mixed_builds_are_named_and_replacements_said, .init = setup, .fini = teardown)
{
  char rows[128];
  snprintf(rows, sizeof rows, "%s/rows.jsonl", g_dir);
  FILE *f = fopen(rows, "w");
  cr_assert(f);
  put_lrow(f, "main", "main", 0.1, 1, "cpu", 40, "aaaa", "release", "m/1", "");
  put_lrow(f, "main", "main", 0.1, 2, "cpu", 42, "bbbb", "debug", "m/2", "");
  put_lrow(f, "main", "main", 0.1, 1, "cpu", 41, "cccc", "release", "m/1", "");   /* replaces m/1 */
  fclose(f);
  char *md = build(rows, "report.md");
  expect_has(md, "bbbb (debug), 2 threads: 1 row", "report.md");
  expect_has(md, "cccc (release), 2 threads: 1 row", "report.md");
  expect_has(md, "MIXED BUILDS: the tables of kind main mix rows of these builds", "report.md");
  expect_has(md, "1 cell(s) had a row of another commit/build/threads replaced by a later row", "report.md");
  expect_has(md, "m/1: aaaa (release), 2 threads -> cccc (release), 2 threads", "report.md");
  free(md);
  /* one build: the paper header as before */
  f = fopen(rows, "w");
  cr_assert(f);
  put_lrow(f, "main", "main", 0.1, 1, "cpu", 40, "aaaa", "release", "m/1", "");
  fclose(f);
  md = build(rows, "report.md");
  expect_has(md, "Commit aaaa (release), 2 threads.", "report.md");
  cr_expect_null(strstr(md, "MIXED"), "%s", md);
  free(md);
}

/* The λ sweep and Table 5 give one row per backend and count distinct seeds. */
Test(networks, sweeps_are_per_backend_and_count_seeds, .init = setup, .fini = teardown)
{
  char rows[128];
  snprintf(rows, sizeof rows, "%s/rows.jsonl", g_dir);
  FILE *f = fopen(rows, "w");
  cr_assert(f);
  const char *bs[2] = {"cpu", "ref"};
  for (int b = 0; b < 2; b++)
    for (int seed = 1; seed <= 2; seed++) {
      char cell[32];
      snprintf(cell, sizeof cell, "l/%s/%d", bs[b], seed);
      put_lrow(f, "lambda", "lambda2", 0.1, seed, bs[b], b ? 70 : 30, "c", "release", cell, "");
      snprintf(cell, sizeof cell, "t/%s/%d", bs[b], seed);
      put_lrow(f, "tmix", "tmix", 0.1, seed, bs[b], b ? 70 : 30, "c", "release", cell, "");
    }
  fclose(f);
  char *l = build(rows, "lambda.csv");
  expect_has(l, "Sweep,Backend,λ1,λ2,", "lambda.csv");
  expect_has(l, "lambda2,ref,0.001,0.1,70.0 ± 0.0,100.0 ± 0.0,170.0,2,\n", "lambda.csv");
  expect_has(l, "lambda2,cpu,0.001,0.1,30.0 ± 0.0,100.0 ± 0.0,130.0,2,\n", "lambda.csv");
  free(l);
  char *t5 = build(rows, "table5.csv");
  expect_has(t5, "0.1,ref,80.0 ± 0.0,70.0 ± 0.0,100.0 ± 0.0,10.0,2,\n", "table5.csv");
  expect_has(t5, "0.1,cpu,80.0 ± 0.0,30.0 ± 0.0,100.0 ± 0.0,10.0,2,\n", "table5.csv");
  free(t5);
}

/* Runs `mnemobench report ARGS` (stderr to g_dir/err); returns the exit status. */
static int run_report(const char *args)
{
  const char *bin = getenv("MB_BIN");
  if (!bin) cr_skip_test("MB_BIN (the mnemobench binary) is not set");
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' report %s 2>err", g_dir, bin, args);
  int st = system(cmd);
  cr_assert(WIFEXITED(st), "%s: status %d", cmd, st);
  return WEXITSTATUS(st);
}

static char *err_text(void)
{
  char p[128];
  snprintf(p, sizeof p, "%s/err", g_dir);
  char *t = slurp(p);
  cr_assert(t);
  return t;
}

static int exists(const char *name)
{
  char p[256];
  snprintf(p, sizeof p, "%s/%s", g_dir, name);
  return access(p, F_OK) == 0;
}

static void write_text(const char *name, const char *text)
{
  char p[256];
  snprintf(p, sizeof p, "%s/%s", g_dir, name);
  FILE *f = fopen(p, "w");
  cr_assert(f);
  fputs(text, f);
  fclose(f);
}

/* Inputs that are no results: a foreign schema and an empty file are refused
 * with one line, a file that cannot be read writes nothing; objects without a
 * method are counted and said. */
Test(networks, inputs_that_are_no_results_are_refused, .init = setup, .fini = teardown)
{
  write_text("foreign.jsonl", "{\"schema\": \"other.thing/1\", \"method\": \"x\", \"status\": \"ok\", \"A_R\": 5}\n");
  write_text("empty.jsonl", "");
  char rows[128];
  snprintf(rows, sizeof rows, "%s/good.jsonl", g_dir);
  FILE *f = fopen(rows, "w");
  cr_assert(f);
  put_lrow(f, "main", "main", 0.1, 1, "cpu", 40, "c", "release", "m/1", "");
  fputs("{\"schema\": \"mnemobench.result/2\", \"status\": \"ok\"}\n{\"foo\": 1}\n", f);
  fclose(f);
  cr_expect_eq(run_report("foreign.jsonl --out o1"), 2);
  char *e = err_text();
  cr_expect(strstr(e, "foreign.jsonl:1: schema \"other.thing/1\" is not a mnemobench result row") &&
            strchr(e, '\n') == e + strlen(e) - 1, "%s", e);
  free(e);
  cr_expect(!exists("o1"), "a refused report wrote o1/");
  cr_expect_eq(run_report("empty.jsonl --out o2"), 2);
  e = err_text();
  cr_expect(strstr(e, "empty.jsonl holds no result rows") && strchr(e, '\n') == e + strlen(e) - 1, "%s", e);
  free(e);
  cr_expect(!exists("o2"), "an empty file wrote o2/");
  cr_expect_eq(run_report("good.jsonl nonexist.jsonl --out o3"), 2);
  e = err_text();
  cr_expect(strstr(e, "cannot read nonexist.jsonl"), "%s", e);
  free(e);
  cr_expect(!exists("o3/report.md"), "a report of some of the files was written");
  cr_expect_eq(run_report("good.jsonl --out o4"), 0);
  e = err_text();
  cr_expect(strstr(e, "2 object(s) without a method"), "%s", e);
  free(e);
  char p[256];
  snprintf(p, sizeof p, "%s/o4/report.md", g_dir);
  char *md = slurp(p);
  cr_assert(md);
  expect_has(md, "2 object(s) without a method (no forgetting, scale or throughput row) skipped.", "report.md");
  free(md);
}

/* A later report into the same folder leaves none of an earlier report's files
 * it does not write (merge.csv of a two-file report), and no file of another name
 * is touched. */
Test(networks, a_later_report_leaves_no_stale_files, .init = setup, .fini = teardown)
{
  char a[128], b[128];
  snprintf(a, sizeof a, "%s/a.jsonl", g_dir);
  snprintf(b, sizeof b, "%s/b.jsonl", g_dir);
  FILE *f = fopen(a, "w");
  cr_assert(f);
  put_lrow(f, "main", "main", 0.1, 1, "cpu", 40, "c", "release", "m/1", "");
  fclose(f);
  f = fopen(b, "w");
  cr_assert(f);
  put_lrow(f, "main", "main", 0.1, 2, "cpu", 40, "c", "release", "m/2", "");
  fclose(f);
  cr_assert_eq(run_report("a.jsonl b.jsonl --out d"), 0);
  cr_assert(exists("d/merge.csv"), "a two-file report has a merge table");
  write_text("d/mine.csv", "x\n");
  write_text("d/fig-user.svg", "<svg/>\n");
  cr_assert_eq(run_report("a.jsonl --out d"), 0);
  cr_expect(!exists("d/merge.csv"), "merge.csv of the earlier report is left");
  cr_expect(exists("d/table2.csv") && exists("d/report.md"));
  cr_expect(exists("d/mine.csv") && exists("d/fig-user.svg"), "a file the report did not write was removed");
}
