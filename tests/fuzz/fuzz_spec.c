/* Bench spec parser (harness/spec.c) through mb_spec_parse_file, as
 * `mnemobench bench SPEC` reads it.  Input: the spec file. */
#include "fuzz_common.h"
#include "harness/spec.h"

#include <string.h>

static void check_exp(const mb_spec_exp *e)
{
  if (e->n_t_mix < 1 || e->n_t_mix > MB_SPEC_LIST || e->n_seeds < 1 || e->n_seeds > MB_SPEC_LIST ||
      e->n_backends < 1 || e->n_backends > MB_SPEC_LIST || e->n_methods < 1 || e->n_methods > MB_SPEC_LIST ||
      e->n_sweeps < 0 || e->n_sweeps > MB_SPEC_MAX_SWEEPS || e->n_samples < 0 || e->n_samples > MB_SPEC_LIST)
    fz_fail("experiment '%s': list counts out of range", e->name);
  for (int i = 0; i < e->n_sweeps; i++)
    if (e->sweeps[i].n < 1 || e->sweeps[i].n > MB_SPEC_LIST) fz_fail("sweep of %d values", e->sweeps[i].n);
  if (!memchr(e->name, 0, sizeof e->name) || !memchr(e->data, 0, sizeof e->data) ||
      !memchr(e->model, 0, sizeof e->model))
    fz_fail("unterminated string in experiment");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char path[600];
  static mb_spec spec;   /* large: not on the stack */
  if (!path[0]) fz_path(path, sizeof path, "run.spec");
  fz_write(path, data, size);
  char err[1024];
  if (mb_spec_parse_file(path, &spec, err, sizeof err) != 0) {
    fz_check_error(err, path);
    return 0;
  }
  if (spec.n_exp < 1 || spec.n_exp > MB_SPEC_MAX_EXP) fz_fail("%d experiments", spec.n_exp);
  for (int i = 0; i < spec.n_exp; i++) check_exp(&spec.exp[i]);
  return 0;
}
