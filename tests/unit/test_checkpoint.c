/* Checkpoints record where their data came from (version 3), and version 2
 * files, which do not, still load. */
#include "core/checkpoint.h"
#include "core/weights.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NP 131   /* 12-7-5 MLP: 12·7 + 7 + 7·5 + 5 */
#define NC 60    /* 5 codes of 12 */

static void toy(mb_checkpoint *c, float *params, float *codes)
{
  memset(c, 0, sizeof *c);
  c->kind = MB_MODEL_MLP;
  c->cfg = (mb_mlp_config){.n_layers = 2, .dims = {12, 7, 5}, .act = MB_ACT_SIGMOID,
                           .in_c = 1, .in_h = 3, .in_w = 4};
  c->n_classes = 5;
  c->has_codes = 1;
  c->seed = 7;
  snprintf(c->dataset, sizeof c->dataset, "toy");
  for (int i = 0; i < NP; i++) params[i] = (float)i / 64.0f - 1.0f;
  for (int i = 0; i < NC; i++) codes[i] = (float)i / 60.0f;
  c->n_params = NP;
  c->params = params;
  c->codes = codes;
}

static void put(FILE *f, uint64_t *h, const void *p, size_t n)
{
  cr_assert_eq(fwrite(p, 1, n, f), n);
  *h = mb_fnv1a64(*h, p, n);
}

/* Makes the file of a mkstemp template (the test writes it, then removes it). */
static void new_file(char *path)
{
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  close(fd);
}

Test(data, checkpoint_records_its_data)
{
  float params[NP], codes[NC];
  mb_checkpoint c, back;
  char path[] = "/tmp/mb-ckpt-XXXXXX", err[512];
  new_file(path);
  toy(&c, params, codes);
  snprintf(c.data_kind, sizeof c.data_kind, "idx");
  snprintf(c.data_path, sizeof c.data_path, "/data/sets/my set");
  cr_assert_eq(mb_checkpoint_write(path, &c, err, sizeof err), 0, "%s", err);
  cr_assert_eq(mb_checkpoint_read(path, &back, err, sizeof err), 0, "%s", err);
  cr_assert_str_eq(back.data_kind, "idx");
  cr_assert_str_eq(back.data_path, "/data/sets/my set");
  cr_assert_str_eq(back.dataset, "toy");
  cr_assert_eq(memcmp(back.params, params, sizeof params), 0);
  mb_checkpoint_free(&back);
  remove(path);
}

Test(data, version2_checkpoint_still_loads)
{
  char path[] = "/tmp/mb-ckpt-XXXXXX", err[512];
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  FILE *f = fdopen(fd, "wb");
  const char *h = "model=mlp\ndims=12,7,5\nact=sigmoid\nin_shape=1,3,4\nclasses=5\ncodes=uniform01\n"
                  "has_codes=1\nt_mix=0.1\nseed=7\nepochs=3\nbatch=128\nlr=0.01\ndataset=toy\n"
                  "dataset_checksum=00000000000000ab\nbackend=cpu\ndevice=x\nforgotten=\n";
  float params[NP], codes[NC];
  mb_checkpoint c;
  toy(&c, params, codes);
  uint32_t ver = 2, hl = (uint32_t)strlen(h);
  /* the checkpoint format's FNV-1a starts from 1469598103934665603 (core/checkpoint.c) */
  uint64_t hash = 1469598103934665603ull, np = NP, nc = NC, ns = 0;
  put(f, &hash, "MNEMOBCK", 8);
  put(f, &hash, &ver, 4);
  put(f, &hash, &hl, 4);
  put(f, &hash, h, hl);
  put(f, &hash, &np, 8);
  put(f, &hash, params, sizeof params);
  put(f, &hash, &nc, 8);
  put(f, &hash, codes, sizeof codes);
  put(f, &hash, &ns, 8);
  cr_assert_eq(fwrite(&hash, 8, 1, f), 1);
  cr_assert_eq(fclose(f), 0);
  mb_checkpoint back;
  cr_assert_eq(mb_checkpoint_read(path, &back, err, sizeof err), 0, "%s", err);
  cr_assert_str_eq(back.data_kind, "");
  cr_assert_str_eq(back.data_path, "");
  cr_assert_str_eq(back.dataset, "toy");
  cr_assert_eq(back.dataset_checksum, 0xab);
  cr_assert_eq(back.cfg.dims[0], 12);
  cr_assert_eq(memcmp(back.params, params, sizeof params), 0);
  cr_assert_eq(memcmp(back.codes, codes, sizeof codes), 0);
  cr_assert_eq(back.finetune_steps, 0, "a version 2 file is not fine-tuned");
  cr_assert_eq(back.checksum, hash);
  mb_checkpoint_free(&back);

  /* a version this build does not know: one line saying so */
  f = fopen(path, "r+b");
  fseek(f, 8, SEEK_SET);
  ver = 99;
  fwrite(&ver, 4, 1, f);
  fclose(f);
  cr_assert_neq(mb_checkpoint_read(path, &back, err, sizeof err), 0);
  cr_assert(strstr(err, "unsupported checkpoint version") && !strchr(err, '\n'), "%s", err);
  remove(path);
}

/* Version 4: how a model was fine-tuned travels with it (§1.3); a model never
 * fine-tuned writes no finetune_* keys. */
Test(data, checkpoint_records_finetuning)
{
  float params[NP], codes[NC];
  mb_checkpoint c, back;
  char path[] = "/tmp/mb-ckpt-XXXXXX", err[512];
  new_file(path);
  toy(&c, params, codes);
  cr_assert_eq(mb_checkpoint_write(path, &c, err, sizeof err), 0, "%s", err);
  cr_assert_eq(mb_checkpoint_read(path, &back, err, sizeof err), 0, "%s", err);
  cr_assert_eq(back.finetune_steps, 0);
  cr_assert_str_eq(back.finetune_base, "");
  mb_checkpoint_free(&back);
  c.finetune_steps = 2000;
  c.finetune_batch = 64;
  c.finetune_lr = 0.001f;
  c.finetune_weight_decay = 5e-4f;
  c.finetune_t_mix = 0.3f;
  c.finetune_seed = 9;
  c.finetune_s = 12.5;
  c.finetune_base_checksum = 0x0123456789abcdefull;
  snprintf(c.finetune_base, sizeof c.finetune_base, "/models/plain model.ckpt");
  cr_assert_eq(mb_checkpoint_write(path, &c, err, sizeof err), 0, "%s", err);
  cr_assert_eq(mb_checkpoint_read(path, &back, err, sizeof err), 0, "%s", err);
  cr_assert_eq(back.finetune_steps, 2000);
  cr_assert_eq(back.finetune_batch, 64);
  cr_assert_eq(back.finetune_lr, 0.001f);
  cr_assert_eq(back.finetune_weight_decay, 5e-4f);
  cr_assert_eq(back.finetune_t_mix, 0.3f);
  cr_assert_eq(back.finetune_seed, 9);
  cr_assert_eq(back.finetune_s, 12.5);
  cr_assert_eq(back.finetune_base_checksum, 0x0123456789abcdefull);
  cr_assert_str_eq(back.finetune_base, "/models/plain model.ckpt");
  cr_assert_eq(memcmp(back.params, params, sizeof params), 0);
  mb_checkpoint_free(&back);
  remove(path);
}

Test(data, checkpoint_data_kind_and_path)
{
  mb_checkpoint c;
  mb_dataset d;
  memset(&c, 0, sizeof c);
  memset(&d, 0, sizeof d);
  d.synthetic = 1;
  mb_checkpoint_set_data(&c, &d, "/tmp");
  cr_assert_str_eq(c.data_kind, "synthetic");
  cr_assert_str_eq(c.data_path, "");
  d.synthetic = 0;
  snprintf(d.name, sizeof d.name, "cifar-10");
  mb_checkpoint_set_data(&c, &d, "/tmp/../tmp/");
  cr_assert_str_eq(c.data_kind, "cifar-10");
  cr_assert_str_eq(c.data_path, "/tmp");   /* absolute and resolved */
  snprintf(d.name, sizeof d.name, "my-digits");
  mb_checkpoint_set_data(&c, &d, "/no/such/folder");
  cr_assert_str_eq(c.data_kind, "idx");
  cr_assert_str_eq(c.data_path, "");
}

/* Reads a file of magic, version 3 and header h (nothing after it): it must fail. */
static void read_header_only(const char *h, char *err, size_t len)
{
  char path[] = "/tmp/mb-ckpt-XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  FILE *f = fdopen(fd, "wb");
  uint32_t ver = 3, hl = (uint32_t)strlen(h);
  uint64_t hash = 1469598103934665603ull;
  put(f, &hash, "MNEMOBCK", 8);
  put(f, &hash, &ver, 4);
  put(f, &hash, &hl, 4);
  put(f, &hash, h, hl);
  cr_assert_eq(fclose(f), 0);
  mb_checkpoint back;
  cr_assert_neq(mb_checkpoint_read(path, &back, err, len), 0);
  cr_assert(strstr(err, path), "message does not name the file: %s", err);
  cr_assert_null(strpbrk(err, "\r\n"), "message is not one line: '%s'", err);
  cr_assert_null(back.params);
  remove(path);
}

/* Header problems the fuzz target found (tests/fuzz/regressions/checkpoint/):
 * a value holding a CR is quoted on one line; a batch beyond what training
 * allows, which would size the loaded model's buffers, is refused. */
Test(data, checkpoint_header_errors)
{
  char err[512];
  read_header_only("model=mlp\r\ndims=12,7,5\n", err, sizeof err);
  cr_assert(strstr(err, "unsupported model 'mlp '"), "%s", err);
  read_header_only("model=mlp\ndims=12,7,5\nin_shape=1,3,4\nbatch=2147483647\n", err, sizeof err);
  cr_assert(strstr(err, "bad batch 2147483647 in header (0 to 65536)"), "%s", err);
  read_header_only("model=mlp\ndims=12,7,5\nin_shape=1,3,4\nbatch=-1\n", err, sizeof err);
  cr_assert(strstr(err, "bad batch -1 in header"), "%s", err);
}

/* The weights container round-trips a model's weights, and the import's value
 * check (mb_weights_check_values, also what fuzz_weights calls) refuses a
 * non-finite weight with one line naming the file and the parameter. */
Test(data, weights_container_round_trip_and_value_check)
{
  float params[NP], codes[NC];
  mb_checkpoint c;
  toy(&c, params, codes);
  char path[] = "/tmp/mb-weights-XXXXXX", err[512];
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  close(fd);
  cr_assert_eq(mb_weights_write(path, &c, err, sizeof err), 0, "%s", err);
  mb_checkpoint r;
  toy(&r, params, codes);
  r.params = NULL;
  r.n_params = 0;
  r.codes = NULL;
  cr_assert_eq(mb_weights_read(path, &r, err, sizeof err), 0, "%s", err);
  cr_assert_eq(r.n_params, (size_t)NP);
  cr_assert_eq(memcmp(r.params, params, sizeof params), 0);
  cr_assert_eq(mb_weights_check_values(path, &r, err, sizeof err), 0, "%s", err);
  r.params[17] = 1.0f / 0.0f;
  cr_assert_eq(mb_weights_check_values(path, &r, err, sizeof err), -1);
  cr_assert(strstr(err, path) && strstr(err, "non-finite weight (parameter 17)") && !strchr(err, '\n'), "%s", err);
  free(r.params);
  remove(path);
}

/* A (narrow) ResNeXt checkpoint: version 5, its architecture in the header, back whole;
 * its weights container names the grouped 3×3 [cout, cin/groups, 3, 3] as PyTorch. */
Test(data, resnext_checkpoint_and_weights_round_trip)
{
  mb_checkpoint c, back;
  memset(&c, 0, sizeof c);
  c.kind = MB_MODEL_RESNET18;
  c.rcfg = (mb_resnet_config){.in_c = 3, .in_h = 16, .in_w = 16, .width = 4, .classes = 6,
                              .stem = MB_RN_IMAGENET, .arch = MB_RN_RESNEXT50, .groups = 4,
                              .base_width = 32};
  c.n_classes = 6;
  mb_rn_table pt;
  char err[512];
  cr_assert_eq(mb_resnet_table_build(&c.rcfg, &pt, err, sizeof err), 0, "%s", err);
  size_t ns = 0;
  for (int i = 0; i < pt.n; i++) ns += pt.t[i].kind == MB_PT_BN_WEIGHT ? pt.t[i].n : 0;
  c.n_params = pt.total;
  c.n_stats = ns;
  c.params = malloc(pt.total * sizeof(float));
  c.run_mean = malloc(ns * sizeof(float));
  c.run_var = malloc(ns * sizeof(float));
  cr_assert(c.params && c.run_mean && c.run_var);
  for (size_t i = 0; i < pt.total; i++) c.params[i] = (float)(i % 97) / 97.0f - 0.5f;
  for (size_t i = 0; i < ns; i++) { c.run_mean[i] = (float)i; c.run_var[i] = 1.0f + (float)i; }
  char path[] = "/tmp/mb-ckpt-XXXXXX";
  new_file(path);
  cr_assert_eq(mb_checkpoint_write(path, &c, err, sizeof err), 0, "%s", err);
  FILE *f = fopen(path, "rb");
  char head[512] = "";
  cr_assert_not_null(f);
  size_t got = fread(head, 1, sizeof head - 1, f);
  fclose(f);
  uint32_t ver;
  memcpy(&ver, head + 8, 4);
  cr_assert_eq(ver, 5);
  cr_assert(got > 16 && strstr(head + 16, "model=resnext50_32x4d\n") &&
            strstr(head + 16, "\ngroups=4\nbase_width=32\n"), "%s", head + 16);
  cr_assert_eq(mb_checkpoint_read(path, &back, err, sizeof err), 0, "%s", err);
  cr_assert_eq(back.rcfg.arch, MB_RN_RESNEXT50);
  cr_assert_eq(back.rcfg.groups, 4);
  cr_assert_eq(back.rcfg.base_width, 32);
  cr_assert_eq(back.n_params, pt.total);
  cr_assert_eq(memcmp(back.params, c.params, pt.total * sizeof(float)), 0);
  cr_assert_eq(memcmp(back.run_var, c.run_var, ns * sizeof(float)), 0);
  mb_checkpoint_free(&back);
  /* the weights container */
  cr_assert_eq(mb_weights_write(path, &c, err, sizeof err), 0, "%s", err);
  f = fopen(path, "rb");
  static char text[1 << 16];
  got = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[got] = 0;
  cr_assert(strstr(text, "\nlayer1.0.conv2.weight f32 8,2,3,3 "), "no grouped 3x3 of 8 channels in 4 groups");
  cr_assert(strstr(text, "\nlayer1.0.downsample.1.running_var f32 16 "), "no downsample BN");
  mb_checkpoint r = c;
  r.params = r.run_mean = r.run_var = NULL;
  r.n_params = r.n_stats = 0;
  cr_assert_eq(mb_weights_read(path, &r, err, sizeof err), 0, "%s", err);
  cr_assert_eq(memcmp(r.params, c.params, pt.total * sizeof(float)), 0);
  cr_assert_eq(memcmp(r.run_mean, c.run_mean, ns * sizeof(float)), 0);
  mb_checkpoint_free(&r);
  free(c.params); free(c.run_mean); free(c.run_var);
  remove(path);
}
