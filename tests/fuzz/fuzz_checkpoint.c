/* Checkpoint loader (core/checkpoint.c): mb_checkpoint_read, then for a file
 * it accepts the step `forget` and `bench` take next, mb_session_load_model
 * on the ref backend (model built from the header, codes and weights
 * uploaded), with a data set of the checkpoint's own shape so the load is not
 * refused for not fitting the data.
 * Input: one flags byte, then the file.  Flags bit 0 set: the harness appends
 * the FNV-1a checksum of the file, so mutations reach what lies past the
 * checksum check (the load step) instead of all failing there. */
#include "fuzz_common.h"
#include "core/checkpoint.h"
#include "harness/session.h"
#include "mb/registry.h"

#include <stdlib.h>
#include <string.h>

static void load_step(const mb_checkpoint *c)
{
  mb_session s;
  memset(&s, 0, sizeof s);
  char why[256];
  s.backend_name = "ref";
  s.be = mb_backend_open("ref", 0, why, sizeof why);
  if (!s.be) fz_fail("ref backend: %s", why);
  mb_dataset *d = &s.test;
  if (c->kind == MB_MODEL_RESNET18) {
    d->c = c->rcfg.in_c; d->h = c->rcfg.in_h; d->w = c->rcfg.in_w;
  } else {
    d->c = c->cfg.in_c; d->h = c->cfg.in_h; d->w = c->cfg.in_w;
  }
  d->n_classes = c->n_classes;
  s.train = *d;
  mb_session_load_model(&s, c);   /* refusals are printed; a crash or leak is the finding */
  mb_session_unload_model(&s);
  mb_backend_close(s.be);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char path[600];
  if (!path[0]) fz_path(path, sizeof path, "model.ckpt");
  if (size == 0) return 0;
  int fix_sum = data[0] & 1;
  data++;
  size--;
  if (fix_sum) {
    uint8_t *buf = malloc(size + 8);
    if (!buf) fz_fail("out of memory");
    memcpy(buf, data, size);
    /* the format's FNV-1a 64 starts from 1469598103934665603 (core/checkpoint.c),
     * not from the standard offset basis MB_FNV1A64_INIT */
    uint64_t h = mb_fnv1a64(1469598103934665603ull, data, size);
    memcpy(buf + size, &h, 8);   /* little-endian hosts only, as the format */
    fz_write(path, buf, size + 8);
    free(buf);
  } else {
    fz_write(path, data, size);
  }
  mb_checkpoint c;
  char err[1024];
  if (mb_checkpoint_read(path, &c, err, sizeof err) != 0) {
    fz_check_error(err, path);
    if (c.params || c.codes || c.run_mean || c.run_var) fz_fail("a failed read left buffers behind");
    return 0;
  }
  if (c.n_params && !c.params) fz_fail("n_params %zu without parameters", c.n_params);
  if (c.n_classes < 1 || mb_checkpoint_in_dim(&c) < 1)
    fz_fail("accepted a model of %d classes, input size %d", c.n_classes, mb_checkpoint_in_dim(&c));
  load_step(&c);
  mb_checkpoint_free(&c);
  return 0;
}
