/* Numbers that cannot be trusted (issue 17 §5) never reach a table as numbers:
 *  - NaN or inf in a checkpoint's weights, codes or BN statistics: refused at
 *    load, one line naming it, non-zero exit;
 *  - finite weights so large that the model's outputs overflow: evaluation says
 *    so instead of an accuracy of NaN scores;
 *  - λ outside [0, 1e30] (δ ≤ λ2 then stays finite): refused by the option parser;
 *  - a forget class with no test samples (E_F undefined) or no test sample
 *    outside the forget classes (A_R undefined): one line naming it; in a bench,
 *    a row with status "failed" whose reason says why, and no number;
 *  - work that could not end well is refused before it starts: an --out that cannot
 *    be written, training labels with a gap (a corrupt byte), an unknown backend;
 *    bench-train on a backend that fails exits 1 with a row saying why.
 * NaN/inf cannot enter through the data: the readers take u8 pixels only (float
 * IDX files are refused, tests/unit/test_data.c).  MB_BIN is the program. */
#define _GNU_SOURCE   /* memmem */
#include "core/checkpoint.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static const char *bin;

static void setup(void)
{
  bin = getenv("MB_BIN");
  snprintf(dir, sizeof dir, "/tmp/mb-numbers-XXXXXX");
  cr_assert(mkdtemp(dir));
}

static void teardown(void)
{
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) {}
}

TestSuite(numbers, .init = setup, .fini = teardown, .timeout = 120);

static const char *at(const char *name)
{
  static char p[4][256];
  static int k;
  k = (k + 1) % 4;
  snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
  return p[k];
}

/* Runs the program with args; its exit status, stdout and stderr (files' text). */
static int run(const char *args, char *out, size_t olen, char *err, size_t elen)
{
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cd %s && %s %s > out.txt 2> err.txt", dir, bin, args);
  int st = system(cmd);
  FILE *f = fopen(at("out.txt"), "r");
  size_t n = f ? fread(out, 1, olen - 1, f) : 0;
  out[n] = 0;
  if (f) fclose(f);
  f = fopen(at("err.txt"), "r");
  n = f ? fread(err, 1, elen - 1, f) : 0;
  err[n] = 0;
  if (f) fclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The one line of stderr that is not the synthetic-data notice. */
static int error_lines(const char *err)
{
  int n = 0;
  for (const char *p = err; *p;) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len && !memmem(p, len, "SYNTHETIC", 9)) n++;
    p += len + (e ? 1 : 0);
  }
  return n;
}

static void expect_refused(const char *args, const char *why)
{
  char out[8192], err[8192];
  int rc = run(args, out, sizeof out, err, sizeof err);
  cr_expect(rc != 0 && rc < 128, "%s: exit %d", args, rc);
  cr_expect(strstr(err, why), "%s: stderr lacks '%s': %s", args, why, err);
  cr_expect_eq(error_lines(err), 1, "%s: not one error line: %s", args, err);
  cr_expect(!strstr(out, "A_R") && !strstr(out, "nan"), "%s: printed numbers: %s", args, out);
}

#define SMALL "--backend ref --synthetic --train-limit 10 --test-limit 5 --epochs 1 --arch 784-8-10 --batch 50"

static mb_checkpoint trained(void)
{
  char out[4096], err[4096];
  if (!bin) cr_skip_test("MB_BIN (the mnemobench binary) is not set");
  cr_assert_eq(run("train " SMALL " --out m.ckpt", out, sizeof out, err, sizeof err), 0, "%s", err);
  mb_checkpoint c;
  char e[256];
  cr_assert_eq(mb_checkpoint_read(at("m.ckpt"), &c, e, sizeof e), 0, "%s", e);
  return c;
}

static void write_ckpt(const char *name, const mb_checkpoint *c)
{
  char e[256];
  cr_assert_eq(mb_checkpoint_write(at(name), c, e, sizeof e), 0, "%s", e);
}

Test(numbers, non_finite_weights_are_refused_at_load)
{
  mb_checkpoint c = trained();
  float keep = c.params[5];
  c.params[5] = NAN;
  write_ckpt("nan.ckpt", &c);
  c.params[5] = -INFINITY;
  write_ckpt("inf.ckpt", &c);
  c.params[5] = keep;
  c.codes[3] = INFINITY;
  write_ckpt("code.ckpt", &c);
  mb_checkpoint_free(&c);
  expect_refused("forget --backend ref --model nan.ckpt --classes 0 --test-limit 5",
                 "checkpoint has a non-finite weight (parameter 5 is nan)");
  expect_refused("eval --backend ref --model inf.ckpt --test-limit 5",
                 "checkpoint has a non-finite weight (parameter 5 is -inf)");
  expect_refused("forget --backend ref --model code.ckpt --classes 0 --test-limit 5 --json",
                 "non-finite mnemonic code value (element 3 is inf)");
}

Test(numbers, overflowing_outputs_give_no_accuracy)
{
  mb_checkpoint c = trained();
  for (size_t i = 0; i < c.n_params; i++) c.params[i] = (i % 2 ? 3e38f : -3e38f);
  write_ckpt("huge.ckpt", &c);
  mb_checkpoint_free(&c);
  expect_refused("eval --backend ref --model huge.ckpt --classes 0 --test-limit 5",
                 "the model's outputs are not finite");
  expect_refused("forget --backend ref --model huge.ckpt --classes 0 --test-limit 5 --json",
                 "the model's outputs are not finite");
}

Test(numbers, lambda_beyond_1e30_is_refused)
{
  mb_checkpoint c = trained();
  mb_checkpoint_free(&c);
  expect_refused("forget --backend ref --model m.ckpt --classes 0 --lambda1 1e31", "--lambda1");
  expect_refused("forget --backend ref --model m.ckpt --classes 0 --lambda2 inf", "--lambda2");
  expect_refused("forget --backend ref --model m.ckpt --classes 0 --lambda1 nan", "--lambda1");
}

/* ---- data whose test set lacks a class ---- */

static void put_be32(FILE *f, uint32_t v)
{
  unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                        (unsigned char)v};
  fwrite(b, 1, 4, f);
}

/* 8x8 images, `per` per class of the classes listed in `keep` (NULL: 0..9). */
static void write_split(const char *stem, int per, const int *keep, int nkeep)
{
  char p[300];
  int classes[10], nc = 0;
  for (int k = 0; k < (keep ? nkeep : 10); k++) classes[nc++] = keep ? keep[k] : k;
  int n = per * nc;
  snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte", dir, stem);
  FILE *f = fopen(p, "wb");
  put_be32(f, 0x803); put_be32(f, (uint32_t)n); put_be32(f, 8); put_be32(f, 8);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < 64; j++) fputc((classes[i % nc] * 25 + j * 3 + i) & 0xff, f);
  fclose(f);
  snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte", dir, stem);
  f = fopen(p, "wb");
  put_be32(f, 0x801); put_be32(f, (uint32_t)n);
  for (int i = 0; i < n; i++) fputc(classes[i % nc], f);
  fclose(f);
}

Test(numbers, a_forget_class_without_test_samples_is_said)
{
  if (!bin) cr_skip_test("MB_BIN (the mnemobench binary) is not set");
  const int no3[] = {0, 1, 2, 4, 5, 6, 7, 8, 9};
  write_split("train", 5, NULL, 0);
  write_split("t10k", 3, no3, 9);
  char out[8192], err[8192];
  cr_assert_eq(run("train --backend ref --data . --epochs 1 --arch 64-8-10 --batch 10 --out d.ckpt", out,
                   sizeof out, err, sizeof err), 0, "%s", err);
  expect_refused("forget --backend ref --model d.ckpt --classes 3", "forget class 3 has no test samples");
  expect_refused("eval --backend ref --model d.ckpt --classes 0,3", "forget class 3 has no test samples");
  /* a test set of the forget class only: A_R has nothing to count */
  const int only3[] = {3};
  write_split("t10k", 3, only3, 1);
  expect_refused("forget --backend ref --model d.ckpt --classes 3 --json",
                 "no test sample of");
  /* in a bench: the cell's row says why, with no number */
  write_split("t10k", 3, no3, 9);
  FILE *f = fopen(at("n.spec"), "w");
  fprintf(f, "[bench]\nname = numbers\ndata = %s\nmodel = 64-8-10\nepochs = 1\nbatch = 10\nrepeats = 1\n"
             "warmup = 0\ntrain_backend = ref\n[experiment lam]\nkind = lambda\nbackends = ref\nforget = 3\n"
             "param.mnemonic.lambda1 = 1e-3\n", dir);
  fclose(f);
  int rc = run("bench n.spec --results r.jsonl --cache cache", out, sizeof out, err, sizeof err);
  cr_expect(rc == 1, "bench exit %d: %s", rc, err);
  f = fopen(at("r.jsonl"), "r");
  cr_assert(f, "no results file: %s", err);
  char row[16384];
  size_t n = fread(row, 1, sizeof row - 1, f);
  row[n] = 0;
  fclose(f);
  cr_expect(strstr(row, "\"status\": \"failed\""), "%s", row);
  cr_expect(strstr(row, "forget class 3 has no test samples"), "%s", row);
  cr_expect(!strstr(row, "\"A_R\": ") || strstr(row, "\"A_R\": null"), "a number in the row: %s", row);
}

/* ---- work that could not end well is refused before it starts ---- */

Test(numbers, doomed_work_is_refused_first)
{
  if (!bin) cr_skip_test("MB_BIN (the mnemobench binary) is not set");
  char out[8192], err[8192];
  /* an output that cannot be written: refused before training, not after */
  expect_refused("train " SMALL " --out nodir/m.ckpt", "folder nodir");
  expect_refused("train " SMALL " --out ./", "is a folder, not a file name");
  /* a training label with a gap below the largest (a corrupt byte): no 201-class model */
  const int gap[] = {0, 1, 3, 4, 5, 6, 7, 8, 9};
  write_split("train", 5, gap, 9);
  write_split("t10k", 3, NULL, 0);
  expect_refused("train --backend ref --data . --epochs 1 --arch 64-8-10 --batch 10 --out g.ckpt",
                 "no training image has label 2, but labels run to 9");
  struct stat st;
  cr_expect(stat(at("g.ckpt"), &st) != 0, "a checkpoint was written");
  /* bench-train: an unknown backend is a usage error; a backend that fails, a failure */
  int rc = run("bench-train --backend nosuch", out, sizeof out, err, sizeof err);
  cr_expect(rc == 2 && strstr(err, "unknown backend"), "exit %d: %s", rc, err);
  rc = run("bench-scale --quick --backend nosuch", out, sizeof out, err, sizeof err);
  cr_expect(rc == 2 && strstr(err, "unknown backend"), "exit %d: %s", rc, err);
  rc = run("bench-train --backend ref --data . --steps 1 --repeats 1 --json", out, sizeof out, err,
           sizeof err);
  cr_expect(rc == 1, "bench-train on bad data: exit %d", rc);
  cr_expect(strstr(out, "\"status\": \"failed\"") && strstr(out, "no training image has label 2"),
            "the row does not say why: %s", out);
}

/* ---- a time says how it was measured ---- */

Test(numbers, forget_times_say_their_runs)
{
  mb_checkpoint c = trained();
  mb_checkpoint_free(&c);
  char out[16384], err[8192];
  cr_assert_eq(run("forget --backend ref --model m.ckpt --classes 0 --test-limit 5 --json", out,
                   sizeof out, err, sizeof err), 0, "%s", err);
  /* one run: no spread is written */
  cr_expect(strstr(out, "\"repeats\": 1") && strstr(out, "\"forget_s_std\": null"), "%s", out);
  cr_expect(strstr(out, "\"timer\": \"host-only\""), "%s", out);
  cr_assert_eq(run("forget --backend ref --model m.ckpt --classes 0 --test-limit 5 --warmups 1 --repeats 3 "
                   "--json", out, sizeof out, err, sizeof err), 0, "%s", err);
  cr_expect(strstr(out, "\"repeats\": 3") && strstr(out, "\"warmups\": 1"), "%s", out);
  cr_expect(!strstr(out, "\"forget_s_std\": null"), "three runs have a spread: %s", out);
  const char *sm = strstr(out, "\"forget_s_samples\": [");
  int commas = 0;
  for (const char *p = sm; p && *p && *p != ']'; p++) commas += *p == ',';
  cr_expect(sm && commas == 2, "three samples expected: %s", out);
  cr_assert_eq(run("forget --backend ref --model m.ckpt --classes 0 --test-limit 5", out, sizeof out,
                   err, sizeof err), 0, "%s", err);
  cr_expect(strstr(out, "one run, no warm-up"), "the text does not say it was one cold run: %s", out);
}
