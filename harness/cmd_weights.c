/* mnemobench import / export: a model's weights to and from the weights container
 * (core/weights.h, docs/specification.md §1.4), e.g. a PyTorch state_dict written by
 * tools/export_state_dict.py. */
#include "core/weights.h"
#include "harness/commands.h"
#include "harness/common.h"
#include "harness/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char k_import_usage[] =
  "usage: mnemobench import --model resnet18|resnext50_32x4d|swin_t|mlp --weights FILE --out FILE\n"
  "       [options]\n"
  "       (default mlp)\n"
  "Makes a checkpoint from a weights container (named float32 tensors in PyTorch's\n"
  "state_dict naming; tools/export_state_dict.py writes one from a .pt file).  Every\n"
  "parameter of the model, and a ResNet's BN running_mean / running_var, must be there\n"
  "with its shape (num_batches_tracked is ignored).  The checkpoint has no codes and\n"
  "records no data set: `finetune --data DIR` fine-tunes it with codes, then `forget`.\n"
  "  --model resnet18   --width N (64)  --stem cifar|imagenet (cifar: the 3x3 stem of\n"
  "                     specification §0.2; imagenet: torchvision's resnet18, 7x7 stem +\n"
  "                     max-pool, names conv1/bn1/layerX.Y.downsample/fc)\n"
  "  --model resnext50_32x4d  torchvision's resnext50_32x4d (--width N (64), the imagenet stem\n"
  "                     unless --stem cifar; names conv1/bn1/layerX.Y.conv1..3/downsample/fc)\n"
  "  --model swin_t     torchvision's swin_t (patch 4, window 7, embed 96, depths 2-2-6-2;\n"
  "                     names features.N..., norm, head; each block's relative_position_index\n"
  "                     is checked, not stored); no --width, --stem or --arch\n"
  "  --model mlp        --arch SIZES (784-1000-10)  --act sigmoid|relu\n"
  "  --in-shape C,H,W   input images (default 1,28,28; 3,224,224 with --stem imagenet,\n"
  "                     resnext50_32x4d or swin_t)\n"
  "  --classes K        output classes (default 10; 1000 with --stem imagenet,\n"
  "                     resnext50_32x4d or swin_t)\n"
  "  --seed N           recorded as the model's seed (default 1; it keys the synthetic data set)\n";

static const char k_export_usage[] =
  "usage: mnemobench export --model FILE --weights FILE\n"
  "Writes a checkpoint's weights (and BN running statistics) as a weights container,\n"
  "in the format `import` reads (specification §1.4).\n";

int mb_cmd_import(int argc, char **argv)
{
  mb_opts o;
  int done;
  mb_opts_defaults(&o);
  if (mb_parse_opts(argc, argv, k_import_usage, &o, &done) != 0) return 2;
  if (done) return 0;
  /* ResNeXt is the ResNet code with another arch: the kind of model is the same */
  const int resnext = o.in && strcmp(o.in, "resnext50_32x4d") == 0;
  if (resnext) {
    o.in = NULL;
    o.model_kind = MB_MODEL_RESNET18;
  }
  if (o.in) {
    mb_die_msg("import: --model takes resnet18, resnext50_32x4d, swin_t or mlp, not '%s' (the weights come with --weights)", o.in);
    return 2;
  }
  const int swin = o.model_kind == MB_MODEL_SWIN_T;
  if (swin && (o.stem || o.set_width || o.model_spec || o.act)) {
    /* swin_t has one geometry; only its input shape and class count vary */
    mb_die_msg("import: --model swin_t takes no --%s (torchvision's swin_t: only --in-shape and --classes)",
               o.stem ? "stem" : o.set_width ? "width" : o.model_spec ? "arch" : "act");
    return 2;
  }
  if (!o.weights) { mb_die_msg("import: --weights FILE is required"); return 2; }
  if (!o.out) { mb_die_msg("import: --out FILE is required"); return 2; }
  int inet = o.stem ? strcmp(o.stem, "imagenet") == 0 : resnext || swin;
  if (o.stem && o.model_kind != MB_MODEL_RESNET18) { mb_die_msg("import: --stem applies to --model resnet18 or resnext50_32x4d"); return 2; }
  int ic = inet ? 3 : 1, ih = inet ? 224 : 28, iw = ih, classes = inet ? 1000 : 10;
  char tail;
  if (o.in_shape && (sscanf(o.in_shape, "%d,%d,%d%c", &ic, &ih, &iw, &tail) != 3 || ic < 1 ||
                     ic > 4 || ih < 1 || ih > 4096 || iw < 1 || iw > 4096)) {
    mb_die_msg("import: --in-shape '%s' is not C,H,W (C 1..4, H and W 1..4096)", o.in_shape);
    return 2;
  }
  if (o.classes) {
    char *e;
    long k = strtol(o.classes, &e, 10);
    if (e == o.classes || *e || k < 2 || k > 100000) {
      mb_die_msg("import: --classes '%s' is not a class count in [2, 100000]", o.classes);
      return 2;
    }
    classes = (int)k;
  }
  mb_model_config cfg;
  char err[512];
  if (mb_model_config_make(o.model_kind, o.model_spec, o.act, o.width, ic, ih, iw,
                           o.model_spec && o.model_kind == MB_MODEL_MLP ? 0 : classes, &cfg, err,
                           sizeof err) != 0) {
    mb_die_msg("import: %s", err);
    return 2;
  }
  mb_checkpoint c;
  memset(&c, 0, sizeof c);
  c.kind = o.model_kind;
  if (c.kind == MB_MODEL_SWIN_T) {
    c.scfg = cfg.sw;
    c.n_classes = cfg.sw.classes;
  } else if (c.kind == MB_MODEL_RESNET18) {
    cfg.rn.stem = inet ? MB_RN_IMAGENET : MB_RN_CIFAR;
    if (resnext) {
      cfg.rn.arch = MB_RN_RESNEXT50;
      cfg.rn.groups = 32;
      cfg.rn.base_width = 4;
      mb_rn_table pt;
      if (mb_resnet_table_build(&cfg.rn, &pt, err, sizeof err) != 0) { mb_die_msg("import: %s", err); return 2; }
    }
    c.rcfg = cfg.rn;
    c.n_classes = cfg.rn.classes;
  } else {
    c.cfg = cfg.mlp;
    c.n_classes = cfg.mlp.dims[cfg.mlp.n_layers];
    if (cfg.mlp.dims[0] != ic * ih * iw) {
      mb_die_msg("import: --arch input size %d is not --in-shape %dx%dx%d", cfg.mlp.dims[0], ic, ih, iw);
      return 2;
    }
  }
  c.code_dist = MB_CODES_UNIFORM01;
  c.seed = o.seed;   /* keys the synthetic set, as a trained model's seed does */
  if (mb_weights_read(o.weights, &c, err, sizeof err) != 0) { mb_die_msg("%s", err); return 1; }
  if (mb_weights_check_values(o.weights, &c, err, sizeof err) != 0) {
    mb_die_msg("%s", err);
    mb_checkpoint_free(&c);
    return 1;
  }
  snprintf(c.backend, sizeof c.backend, "import");
  int rc = mb_checkpoint_write(o.out, &c, err, sizeof err);
  if (rc != 0) mb_die_msg("%s", err);
  else
    printf("imported %zu weights%s of %s into %s (no codes: run finetune next)\n", c.n_params,
           c.n_stats ? " and BN statistics" : "", o.weights, o.out);
  mb_checkpoint_free(&c);
  return rc ? 1 : 0;
}

int mb_cmd_export(int argc, char **argv)
{
  mb_opts o;
  int done;
  mb_opts_defaults(&o);
  if (mb_parse_opts(argc, argv, k_export_usage, &o, &done) != 0) return 2;
  if (done) return 0;
  if (!o.in) { mb_die_msg("export: --model FILE (a checkpoint) is required"); return 2; }
  if (!o.weights) { mb_die_msg("export: --weights FILE is required"); return 2; }
  mb_checkpoint c;
  char err[512];
  if (mb_checkpoint_read(o.in, &c, err, sizeof err) != 0) { mb_die_msg("%s", err); return 1; }
  int rc = mb_weights_write(o.weights, &c, err, sizeof err);
  if (rc != 0) mb_die_msg("%s", err);
  else printf("wrote %zu weights%s of %s to %s\n", c.n_params, c.n_stats ? " and BN statistics" : "", o.in, o.weights);
  mb_checkpoint_free(&c);
  return rc ? 1 : 0;
}
