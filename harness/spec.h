/* Run specifications for `mnemobench bench`: a line-based INI-like file.
 *
 *   # comment (also after a value: " # ...")
 *   [bench]                      settings every experiment inherits
 *   name = quick
 *   data = default               default | synthetic | a directory of IDX files
 *   seeds = 1, 2, 3
 *   [experiment main]            one block per experiment; any [bench] key may be overridden
 *   kind = main                  main | tmix | lambda | fim | scale | throughput
 *   model = resnet18             an MLP spec (784-1000-10, the default) or resnet18 (width = 64);
 *   act = relu                   with act, epochs, lr, ... per experiment: its own cached models
 *                                (bench_plan.c's cache key hashes them) and rows naming it in `model`
 *   scale_model = resnext50      kind = scale: resnet18 (the default) | resnext50 | swin_t
 *   methods = mnemonic, ssd
 *   param.mnemonic.lambda1 = 1e-4, 1e-3   (lists are swept: the cross product of all lists)
 *   quality = all                (main: MIA, distance to retrain, relearn time in every row)
 *
 * Parsing is strict: an unknown section or key, a bad number, an unknown
 * method, parameter or backend is an error naming the file and line. */
#ifndef MB_SPEC_H
#define MB_SPEC_H

#include "methods/methods.h"

#include <stddef.h>
#include <stdint.h>

#define MB_SPEC_LIST 32
#define MB_SPEC_MAX_EXP 32
#define MB_SPEC_MAX_SWEEPS 8

typedef struct {
  char method[32], key[32];
  double v[MB_SPEC_LIST];
  int n;
} mb_spec_sweep;

typedef struct {
  char name[64];
  char kind[16];                      /* main | tmix | lambda | fim | scale | throughput */
  int line;                           /* where the block starts */
  /* the models: training settings (the checkpoint cache key) */
  char data[512];                     /* "default", "synthetic" or a directory */
  char model[64], act[16], codes[16]; /* model: an MLP spec ("784-1000-10") or "resnet18" */
  int width;                          /* resnet18: stem width (64 = the real model) */
  int train_per_class;                /* > 0: only the first N training images of each class */
  int test_per_class;                 /* > 0: evaluate on the first N test images of each class */
  int epochs, batch;
  double lr;
  double t_mix[MB_SPEC_LIST]; int n_t_mix;   /* of the mnemonic model */
  uint64_t seeds[MB_SPEC_LIST]; int n_seeds;
  char forget[64];                    /* "0" or "0,3" */
  char baseline_model[16];            /* plain | mnemonic: the model baselines run on */
  char train_backend[32];
  /* the cells */
  char backends[MB_SPEC_LIST][32]; int n_backends;   /* name or name:device, or "all" */
  char methods[MB_SPEC_LIST][32]; int n_methods;
  int repeats, warmup;
  double time_budget;                 /* s: stop repeating once the repeats took this long (0: off) */
  mb_spec_sweep sweeps[MB_SPEC_MAX_SWEEPS]; int n_sweeps;
  int samples[MB_SPEC_LIST]; int n_samples;          /* fim: samples per class (0 = all) */
  /* scale (the scalability point, as bench-scale): the ImageNet ResNet-18 of
   * `classes` classes at size x size input (width: its stem width), code batch
   * (0: from the device's memory), SSD over ssd_images images (0: no SSD) of
   * which ssd_forget of the forget class */
  int classes, size, code_batch;
  long ssd_images, ssd_forget;
  char scale_model[16];               /* scale: resnet18 | resnext50 | swin_t (bench_scale.h's table) */
  /* main: quality metrics of every cell (harness/quality_run.h mask; specification §7.7),
   * against the experiment's retrain cell of the same seed as the reference */
  unsigned quality;
} mb_spec_exp;

typedef struct {
  char path[512];
  char name[64];
  char cache[512];                    /* checkpoint cache directory */
  char results[512];                  /* default results file */
  char hash[17];                      /* FNV-1a 64 of the spec's text (rows: spec_hash) */
  mb_spec_exp global;                 /* the [bench] block */
  mb_spec_exp exp[MB_SPEC_MAX_EXP];
  int n_exp;
} mb_spec;

/* 0, or -1 with "FILE:LINE: message" in err. */
int mb_spec_parse_file(const char *path, mb_spec *s, char *err, size_t len);
int mb_spec_parse_text(const char *text, const char *name, mb_spec *s, char *err, size_t len);

#endif
