/* Weights container (core/weights.c) as `mnemobench import` reads it
 * (harness/cmd_weights.c): mb_weights_read against a model's parameter table,
 * then the import's value check (mb_weights_check_values), and for a container
 * it accepts the checkpoint the import writes, read back and compared.
 * Input: one model byte, then the container.  Model byte % 3:
 *   0  MLP 4-3-2, sigmoid, input 1x2x2                    (fc1.weight ...)
 *   1  ResNet-18, cifar stem, width 2, input 1x8x8, 3 classes   (linear, shortcut)
 *   2  ResNet-18, imagenet stem (torchvision layout), width 2, input 3x8x8,
 *      3 classes                                          (fc, downsample, 7x7 conv1) */
#include "fuzz_common.h"
#include "core/checkpoint.h"
#include "core/weights.h"

#include <string.h>

static void model(int which, mb_checkpoint *c)
{
  memset(c, 0, sizeof *c);
  if (which == 0) {
    c->kind = MB_MODEL_MLP;
    c->cfg.n_layers = 2;
    c->cfg.dims[0] = 4; c->cfg.dims[1] = 3; c->cfg.dims[2] = 2;
    c->cfg.act = MB_ACT_SIGMOID;
    c->cfg.in_c = 1; c->cfg.in_h = 2; c->cfg.in_w = 2;
    c->n_classes = 2;
  } else {
    c->kind = MB_MODEL_RESNET18;
    int inet = which == 2;
    c->rcfg = (mb_resnet_config){.in_c = inet ? 3 : 1, .in_h = 8, .in_w = 8, .width = 2, .classes = 3,
                                 .stem = inet ? MB_RN_IMAGENET : MB_RN_CIFAR};
    c->n_classes = 3;
  }
  c->code_dist = MB_CODES_UNIFORM01;   /* as cmd_weights.c sets them */
  c->seed = 1;
}

/* The accepted weights as `import` writes them: a checkpoint that reads back the same. */
static void write_back(const mb_checkpoint *c)
{
  static char out[600];
  if (!out[0]) fz_path(out, sizeof out, "imported.ckpt");
  mb_checkpoint w = *c;
  snprintf(w.backend, sizeof w.backend, "import");
  char err[512];
  if (mb_checkpoint_write(out, &w, err, sizeof err) != 0) fz_fail("import could not write: %s", err);
  mb_checkpoint r;
  if (mb_checkpoint_read(out, &r, err, sizeof err) != 0) fz_fail("the imported checkpoint is refused: %s", err);
  if (r.kind != c->kind || r.n_classes != c->n_classes || r.n_params != c->n_params || r.n_stats != c->n_stats ||
      memcmp(r.params, c->params, c->n_params * sizeof(float)) ||
      (c->n_stats && (memcmp(r.run_mean, c->run_mean, c->n_stats * sizeof(float)) ||
                      memcmp(r.run_var, c->run_var, c->n_stats * sizeof(float)))))
    fz_fail("the imported checkpoint does not read back as written");
  mb_checkpoint_free(&r);
  fz_remove(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char path[600];
  static size_t table[3][2];   /* parameters and BN channels of each model, from the import itself */
  if (!path[0]) {
    fz_path(path, sizeof path, "model.w");
    table[0][0] = 4 * 3 + 3 + 3 * 2 + 2;
  }
  if (size == 0) return 0;
  int which = data[0] % 3;
  fz_write(path, data + 1, size - 1);
  mb_checkpoint c;
  model(which, &c);
  char err[1024];
  if (mb_weights_read(path, &c, err, sizeof err) != 0) {
    fz_check_error(err, path);
    if (c.params || c.run_mean || c.run_var || c.n_params || c.n_stats) fz_fail("a failed read left buffers behind");
    return 0;
  }
  if (!c.params || !c.n_params || (c.kind == MB_MODEL_RESNET18) != (c.n_stats > 0) ||
      (c.n_stats && (!c.run_mean || !c.run_var)))
    fz_fail("accepted: %zu parameters, %zu BN channels", c.n_params, c.n_stats);
  /* every accepted container of one model fills buffers of the same sizes */
  if (!table[which][0]) { table[which][0] = c.n_params; table[which][1] = c.n_stats; }
  if (c.n_params != table[which][0] || (table[which][1] && c.n_stats != table[which][1]))
    fz_fail("model %d: %zu parameters, %zu BN channels; before %zu, %zu", which, c.n_params, c.n_stats,
            table[which][0], table[which][1]);
  if (mb_weights_check_values(path, &c, err, sizeof err) != 0) fz_check_error(err, path);
  else write_back(&c);
  mb_checkpoint_free(&c);
  return 0;
}
