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
  "usage: mnemobench bench-scale [--backend NAME]... [--device N] [--classes-total K] [--size S]\n"
  "         [--width W] [--batch N] [--repeats N] [--warmups N] [--seed N] [--quick]\n"
  "         [--ssd-images N] [--ssd-forget N] [--ssd-pool N] [--ssd-batch N] [--no-ssd] [--json]\n"
  "The scalability point (paper Table 4 / Fig. 3, ImageNet row), per backend (default: every\n"
  "available one but ref, which runs when named or with --quick), on the ImageNet\n"
  "ResNet-18 (7x7/2 stem + max-pool, S x S input, K classes; defaults K 1000, S 224, width\n"
  "64: 11,689,512 parameters) with seeded weights and codes:\n"
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
  int n_backends = 0, quick = 0;
  long cls = -1, size = -1, n_imgs = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    long x = 0;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(k_usage, stdout); return 0; }
    else if (!strcmp(a, "--json")) o.json = 1;
    else if (!strcmp(a, "--quick")) quick = 1;
    else if (!strcmp(a, "--no-ssd")) o.no_ssd = 1;
    else if (!strcmp(a, "--backend")) {
      if (!v || n_backends == MAX_BACKENDS) { mb_die_msg("--backend needs a name (at most %d)", MAX_BACKENDS); return 2; }
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
  if (!o.json) {
    char desc[256];
    mb_resnet_config rc;
    mb_scale_resnet_config(&o.cfg, &rc);
    mb_resnet_describe(&rc, desc, sizeof desc);
    printf("mnemobench bench-scale: %s; forget class 0 of %d with mnemonic codes%s\n", desc,
           o.cfg.classes, o.no_ssd ? "" : "; SSD importance passes");
    fflush(stdout);   /* before the progress lines on stderr */
  }
  if (n_backends) {
    for (int i = 0; i < n_backends; i++) mb_scale_backend(&o, backends[i], NULL);
  } else {
    /* ref is the naive oracle: hours at 224×224, so only when named (or --quick) */
    const mb_backend_entry *e;
    int n = mb_backend_entries(&e);
    for (int i = 0; i < n; i++)
      if (quick || strcmp(e[i].name, "ref") != 0) mb_scale_backend(&o, e[i].name, NULL);
  }
  return 0;
}
