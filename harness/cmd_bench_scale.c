/* mnemobench bench-scale: the scalability point (paper Table 4 / Fig. 3, ImageNet row);
 * the routine is harness/bench_scale.c, its rows harness/scale_rows.c. */
#include "mb/registry.h"
#include "harness/bench_scale.h"
#include "harness/commands.h"
#include "harness/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char k_usage[] =
  "usage: mnemobench bench-scale [--model NAME]... [--backend NAME]... [--device N]\n"
  "         [--classes-total K] [--size S] [--width W] [--batch N] [--repeats N] [--warmups N]\n"
  "         [--seed N] [--quick] [--ssd-images N] [--ssd-forget N] [--ssd-pool N] [--ssd-batch N]\n"
  "         [--no-ssd] [--json]\n"
  "The scalability point (paper Table 4 / Fig. 3, ImageNet row), per model and backend\n"
  "(default: every available backend but ref, which runs when named or with --quick), with\n"
  "seeded weights and codes, on the ImageNet models (S x S input, K classes; defaults K 1000,\n"
  "S 224, width 64), --model resnet18|resnext50|swin_t (repeatable or a comma list; default\n"
  "all three):\n"
  "  resnet18   ResNet-18 (7x7/2 stem + max-pool; 11,689,512 parameters)\n"
  "  resnext50  ResNeXt-50 32x4d (torchvision's resnext50_32x4d; 25,028,904 parameters;\n"
  "             its grouped 3x3 convolutions always run the generic composition)\n"
  "  swin_t     Swin-T (torchvision's swin_t: patch 4, window 7; 28,288,354 parameters)\n"
  "Each model:\n"
  "  * forgetting class 0 with mnemonic codes, timed as docs/specification.md §2.5 (FIM of the K codes,\n"
  "    eta/alpha per tensor, both candidates, 2K code forward passes), the code passes in\n"
  "    batches of --batch rows (default: from the device's memory; at most 32 on a CPU device);\n"
  "  * SSD importance passes (I_f over --ssd-forget forget-class images, I_D over all\n"
  "    --ssd-images images, batch --ssd-batch 64, eval mode) and the dampening, on a synthetic\n"
  "    set cycling through --ssd-pool distinct resident images (default min(N, 1024)).\n"
  "    Defaults 64 / 640 images so a CPU finishes in minutes; the paper's ImageNet size is\n"
  "    --ssd-forget 1300 --ssd-images 1281167.\n"
  "Each figure: median, min, max of --repeats (default 5 on a GPU, 1 on a CPU device) after\n"
  "--warmups full runs (default 1 on a GPU, 0 on a CPU device) and one small warm-up; host\n"
  "clock around synced regions, device timer beside it where the backend has one.\n"
  "--quick: K 1000 at S 32 (same parameter count, tiny activations) with SSD 64 / 128.\n";

#define MAX_BACKENDS 8
#define MAX_MODELS 8

/* --model NAME or a comma list: indices into the model table; -1 after a one-line error. */
static int add_models(const char *v, int *models, int *n)
{
  char buf[256], why[200];
  snprintf(buf, sizeof buf, "%s", v ? v : "");
  if (!*buf) { mb_die_msg("--model needs a name (resnet18, resnext50, swin_t)"); return -1; }
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    int m = mb_scale_model_find(t, why, sizeof why);
    if (m < 0) { mb_die_msg("--model: %s", why); return -1; }
    int seen = 0;
    for (int k = 0; k < *n; k++) seen |= models[k] == m;
    if (seen) continue;
    if (*n == MAX_MODELS) { mb_die_msg("--model: at most %d models", MAX_MODELS); return -1; }
    models[(*n)++] = m;
  }
  return 0;
}

static int parse_long(const char *flag, const char *v, long lo, long *out)
{
  char *end;
  long x = v ? strtol(v, &end, 10) : 0;
  if (!v || *end || x < lo) {
    mb_die_msg("%s needs an integer >= %ld", flag, lo);
    return -1;
  }
  *out = x;
  return 0;
}

int mb_cmd_bench_scale(int argc, char **argv)
{
  mb_scale_opts o;
  mb_scale_opts_defaults(&o);
  const char *backends[MAX_BACKENDS];
  int n_backends = 0, quick = 0, models[MAX_MODELS], n_models = 0;
  long cls = -1, size = -1, n_imgs = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    long x = 0;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(k_usage, stdout); return 0; }
    else if (!strcmp(a, "--json")) o.json = 1;
    else if (!strcmp(a, "--quick")) quick = 1;
    else if (!strcmp(a, "--no-ssd")) o.no_ssd = 1;
    else if (!strcmp(a, "--model")) {
      if (add_models(v, models, &n_models) != 0) return 2;
      i++;
    } else if (!strcmp(a, "--backend")) {
      if (!v || n_backends == MAX_BACKENDS) { mb_die_msg("--backend needs a name (at most %d)", MAX_BACKENDS); return 2; }
      if (mb_backend_index(v) < 0) {
        mb_die_msg("bench-scale: --backend '%s': unknown backend (known: %s)", v, mb_backend_names());
        return 2;
      }
      backends[n_backends++] = argv[++i];
    } else {
      static const char *const flags[] = {"--device", "--classes-total", "--size", "--width",
        "--batch", "--repeats", "--warmups", "--seed", "--ssd-images", "--ssd-forget", "--ssd-pool",
        "--ssd-batch"};
      static const long lows[] = {0, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1};
      int f = -1;
      for (int k = 0; k < (int)(sizeof flags / sizeof flags[0]); k++)
        if (!strcmp(a, flags[k])) f = k;
      if (f < 0) { fprintf(stderr, "mnemobench: unknown option '%s'\n%s", a, k_usage); return 2; }
      if (parse_long(a, v, lows[f], &x) != 0) return 2;
      i++;
      switch (f) {
        case 0: o.device = (int)x; break;
        case 1: cls = x; break;
        case 2: size = x; break;
        case 3: o.cfg.width = (int)x; break;
        case 4: o.cfg.batch = (int)x; break;
        case 5: o.repeats = (int)x; break;
        case 6: o.warmups = (int)x; break;
        case 7: o.cfg.seed = (uint64_t)x; break;
        case 8: n_imgs = x; break;
        case 9: o.ssd_f = x; break;
        case 10: o.ssd_pool = (int)x; break;
        default: o.cfg.ssd_batch = (int)x; break;
      }
    }
  }
  if (quick) mb_scale_opts_quick(&o);
  if (cls > 0) o.cfg.classes = (int)cls;
  if (size > 0) o.cfg.size = (int)size;
  if (n_imgs > 0) o.ssd_n = n_imgs;
  if (o.ssd_f > o.ssd_n) { mb_die_msg("--ssd-forget %ld exceeds --ssd-images %ld", o.ssd_f, o.ssd_n); return 2; }
  if (n_models == 0) {   /* every model built in */
    const mb_scale_model *t;
    n_models = mb_scale_models(&t);
    if (n_models > MAX_MODELS) n_models = MAX_MODELS;
    for (int k = 0; k < n_models; k++) models[k] = k;
  }
  const mb_scale_model *table;
  mb_scale_models(&table);
  /* a configuration a model cannot take: one line before anything runs */
  for (int k = 0; k < n_models; k++) {
    char err[200];
    o.cfg.model = models[k];
    if (table[models[k]].params(&o.cfg, err, sizeof err) < 0) {
      mb_die_msg("%s: %s", table[models[k]].name, err);
      return 2;
    }
  }
  int failed = 0;   /* an unavailable backend is skipped, not failed */
  for (int k = 0; k < n_models; k++) {
    o.cfg.model = models[k];
    if (!o.json) {
      char desc[256];
      table[models[k]].describe(&o.cfg, desc, sizeof desc);
      printf("mnemobench bench-scale: %s; forget class 0 of %d with mnemonic codes%s\n", desc,
             o.cfg.classes, o.no_ssd ? "" : "; SSD importance passes");
      fflush(stdout);   /* before the progress lines on stderr */
    }
    if (n_backends) {
      for (int i = 0; i < n_backends; i++) failed |= mb_scale_backend(&o, backends[i], NULL) != 0;
    } else {
      /* ref is the naive oracle: hours at 224×224, so only when named (or --quick) */
      const mb_backend_entry *e;
      int n = mb_backend_entries(&e);
      for (int i = 0; i < n; i++)
        if (quick || strcmp(e[i].name, "ref") != 0) failed |= mb_scale_backend(&o, e[i].name, NULL) != 0;
    }
  }
  return failed ? 1 : 0;
}
