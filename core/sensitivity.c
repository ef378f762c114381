/* The MU-Mis input-sensitivity objective shared by the models (see sensitivity.h). */
#include "core/sensitivity.h"

#include <stdlib.h>
#include <string.h>

int mb_sens_common_create(mb_backend *be, int rows, int classes, mb_sens_common *c)
{
  memset(c, 0, sizeof *c);
  c->rows = rows;
  c->classes = classes;
  c->nrm = mb_new(be, (size_t)rows);
  c->sums = mb_new(be, 2);
  c->eye = mb_new(be, (size_t)classes * classes);
  float *eye = calloc((size_t)classes * classes, sizeof(float));
  if (!eye) {
    mb_fail(be, MB_OOM, "out of memory for a %d×%d identity", classes, classes);
    return -1;
  }
  for (int k = 0; k < classes; k++) eye[(size_t)k * classes + k] = 1.0f;
  mb_upload(be, c->eye, eye, (size_t)classes * classes);
  free(eye);
  return mb_ok(be) ? 0 : -1;
}

void mb_sens_common_destroy(mb_backend *be, mb_sens_common *c)
{
  mb_release(be, c->eye);
  mb_release(be, c->nrm);
  mb_release(be, c->sums);
  memset(c, 0, sizeof *c);
}

void mb_sens_one_hot(mb_backend *be, const mb_sens_common *c, mb_view seeds, int rows, mb_view dst)
{
  mb_gather_args oh = {
    .src = c->eye, .idx = seeds, .dst = dst, .n_rows = rows, .row_len = c->classes,
    .n_src_rows = c->classes,
  };
  mb_gather_rows(be, &oh);
}

void mb_sens_objective(mb_backend *be, const mb_sens_common *c, mb_view g, int h, size_t dim,
                       int l2, mb_view loss_acc)
{
  const size_t R = 2 * (size_t)h, half = (size_t)h * dim;
  /* loss: φ per row, then Σ(first half) − Σ(second half) */
  mb_reduce(be, MB_RED_SUMSQ, g, c->nrm, R, dim, 1);
  if (l2) mb_unary(be, MB_UN_SQRT, c->nrm, c->nrm, R, 0, 0);
  mb_reduce(be, MB_RED_SUM, c->nrm, c->sums, 2, (size_t)h, 1);
  mb_binary(be, MB_BIN_AXPBY, loss_acc, c->sums, loss_acc, 1, 1.0f, 1.0f);
  mb_binary(be, MB_BIN_AXPBY, loss_acc, mb_at(c->sums, 1), loss_acc, 1, 1.0f, -1.0f);
  /* ū = ∂φ/∂g with the sign of the row's term: ±2g, or ±g/‖g‖ */
  if (!l2) {
    mb_unary(be, MB_UN_AFFINE, g, g, half, 2.0f, 0.0f);
    mb_unary(be, MB_UN_AFFINE, mb_at(g, half), mb_at(g, half), half, -2.0f, 0.0f);
  } else {
    mb_unary(be, MB_UN_MAX_S, c->nrm, c->nrm, R, 1e-30f, 0);   /* g = 0 contributes 0 */
    mb_unary(be, MB_UN_RECIP, c->nrm, c->nrm, R, 0, 0);
    mb_unary(be, MB_UN_AFFINE, mb_at(c->nrm, (size_t)h), mb_at(c->nrm, (size_t)h), (size_t)h,
             -1.0f, 0.0f);
    mb_bcast(be, MB_BC_MUL, g, c->nrm, g, 1, R, dim);
  }
}
