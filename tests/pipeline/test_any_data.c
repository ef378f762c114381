/* Any data set, no flags: on an IDX folder of 20×20 images with 5 classes,
 * `train --data DIR` then `forget --model M --classes 0` (and `eval --model M`)
 * with no other flags train a model of the data's sizes, evaluate on that
 * folder and forget, with λ chosen from the codes (docs/specification.md §2.4).
 * MB_BIN is the mnemobench binary. */
#include "core/checkpoint.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIDE 20
#define CLASSES 5

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double uniform(void)   /* xorshift64*, [0, 1) */
{
  rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
  return (double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}
static double gauss(void) { return sqrt(-2.0 * log(1.0 - uniform())) * cos(6.283185307179586 * uniform()); }

/* Three Gaussian blobs per class, shifted by up to 2 pixels per sample, with
 * amplitude jitter and pixel noise: learnable to ~98 %, not trivially. */
static double blob[CLASSES][3][3];

static void put_be32(FILE *f, uint32_t v)
{
  unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                        (unsigned char)v};
  fwrite(b, 1, 4, f);
}

static void write_split(const char *dir, const char *split, int n)
{
  char ip[512], lp[512];
  snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte", dir, split);
  snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte", dir, split);
  FILE *fi = fopen(ip, "wb"), *fl = fopen(lp, "wb");
  cr_assert(fi && fl, "cannot write %s", ip);
  put_be32(fi, 0x803); put_be32(fi, (uint32_t)n); put_be32(fi, SIDE); put_be32(fi, SIDE);
  put_be32(fl, 0x801); put_be32(fl, (uint32_t)n);
  for (int i = 0; i < n; i++) {
    int k = (int)(uniform() * CLASSES) % CLASSES;
    int dx = (int)(uniform() * 5) - 2, dy = (int)(uniform() * 5) - 2;
    double a = 0.6 + 0.4 * uniform();
    unsigned char img[SIDE * SIDE], lab = (unsigned char)k;
    for (int y = 0; y < SIDE; y++)
      for (int x = 0; x < SIDE; x++) {
        double v = 0;
        for (int b = 0; b < 3; b++) {
          double ex = x - blob[k][b][0] - dx, ey = y - blob[k][b][1] - dy, s = blob[k][b][2];
          v += exp(-(ex * ex + ey * ey) / (2 * s * s));
        }
        v = a * (v < 1 ? v : 1) + 0.3 * gauss();
        img[y * SIDE + x] = (unsigned char)(v <= 0 ? 0 : v >= 1 ? 255 : (int)(v * 255));
      }
    fwrite(img, 1, sizeof img, fi);
    fwrite(&lab, 1, 1, fl);
  }
  cr_assert(fclose(fi) == 0 && fclose(fl) == 0);
}

static void make_set(const char *dir, int n_train, int n_test)
{
  for (int k = 0; k < CLASSES; k++)
    for (int b = 0; b < 3; b++) {
      blob[k][b][0] = 4 + 11 * uniform();
      blob[k][b][1] = 4 + 11 * uniform();
      blob[k][b][2] = 1.5 + 2 * uniform();
    }
  write_split(dir, "train", n_train);
  write_split(dir, "t10k", n_test);
}

/* Runs cmd, returns its stdout (and fails the test on a non-zero exit). */
static char *run(const char *cmd)
{
  static char out[8192];
  FILE *p = popen(cmd, "r");
  cr_assert(p, "cannot run %s", cmd);
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = 0;
  int rc = pclose(p);
  cr_assert_eq(rc, 0, "%s exited with %d:\n%s", cmd, rc, out);
  return out;
}

Test(pipeline, any_idx_folder_without_flags, .timeout = 600)
{
  const char *bin = getenv("MB_BIN");
  if (!bin) cr_skip_test("MB_BIN (the mnemobench binary) is not set");
  char dir[] = "/tmp/mb-anydata-XXXXXX", cmd[2048], model[600];
  cr_assert(mkdtemp(dir), "mkdtemp failed");
  make_set(dir, 2000, 500);
  snprintf(model, sizeof model, "%s/m.ckpt", dir);

  snprintf(cmd, sizeof cmd, "%s train --data %s --out %s 2>&1", bin, dir, model);
  char *out = run(cmd);
  cr_assert(strstr(out, "trained 400-1000-5 sigmoid"), "the model does not follow the data:\n%s", out);

  /* the checkpoint says where its data is */
  mb_checkpoint c;
  char err[512];
  cr_assert_eq(mb_checkpoint_read(model, &c, err, sizeof err), 0, "%s", err);
  cr_assert_str_eq(c.data_kind, "idx");
  cr_assert_str_eq(c.data_path, dir);
  mb_checkpoint_free(&c);

  snprintf(cmd, sizeof cmd, "%s forget --model %s --classes 0 2>&1", bin, model);
  out = run(cmd);
  cr_log_info("%s", out);
  double ar0, ar1, ef0, ef1;
  const char *p = strstr(out, "A_R ");
  cr_assert(p && sscanf(p, "A_R %lf -> %lf, E_F %lf -> %lf", &ar0, &ar1, &ef0, &ef1) == 4,
            "no result line:\n%s", out);
  cr_assert(strstr(out, "chosen from the codes (code score 2"), "lambda not from the codes:\n%s", out);
  cr_assert_gt(ar0, 90.0, "the model did not learn the set: A_R %.2f", ar0);
  cr_assert_geq(ef1, 99.0, "forgetting left E_F at %.2f", ef1);
  cr_assert_leq(fabs(ar1 - ar0), 3.0, "A_R moved from %.2f to %.2f", ar0, ar1);
  cr_assert_null(strstr(out, "note:"), "a note about other data:\n%s", out);

  snprintf(cmd, sizeof cmd, "%s forget --model %s --classes 0 --json 2>&1", bin, model);
  out = run(cmd);
  cr_assert(strstr(out, "\"lambda_source\": \"codes\""), "%s", out);
  snprintf(cmd, sizeof cmd, "%s forget --model %s --classes 0 --lambda1 1e-3 --json 2>&1", bin, model);
  out = run(cmd);
  cr_assert(strstr(out, "\"lambda_source\": \"user\""), "%s", out);

  snprintf(cmd, sizeof cmd, "%s eval --model %s 2>&1", bin, model);
  out = run(cmd);
  cr_assert(strstr(out, "test accuracy"), "%s", out);

  /* a data folder that is gone: one line naming it */
  snprintf(cmd, sizeof cmd, "mv %s/t10k-images-idx3-ubyte %s/moved && %s eval --model %s 2>&1; "
           "mv %s/moved %s/t10k-images-idx3-ubyte", dir, dir, bin, model, dir, dir);
  FILE *f = popen(cmd, "r");
  char msg[1024] = "";
  size_t n = fread(msg, 1, sizeof msg - 1, f);
  msg[n] = 0;
  pclose(f);
  cr_assert(strstr(msg, dir) && strchr(msg, '\n') == msg + strlen(msg) - 1, "not one line: %s", msg);

  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}
