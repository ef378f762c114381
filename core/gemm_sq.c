/* Per-sample squared gradients: the optional op or its generic composition. */
#include "core/gemm_sq.h"

size_t mb_gemm_sq_samples(size_t scratch_n, size_t per)
{
  const size_t n = scratch_n / per;
  return n >= 3 ? n - 1 : n;
}

void mb_gemm_sq_acc_auto(mb_backend *be, const mb_gemm_sq_args *a, mb_view scratch,
                         size_t scratch_n)
{
  if (mb_has_opt(be, MB_OPID_gemm_sq_acc)) {
    mb_gemm_sq_acc(be, a);
    return;
  }
  if (!mb_gemm_sq_args_ok(be, a)) return;
  /* item b at b·m·n of scratch, so sample s's groups lie together as in acc */
  const size_t mn = (size_t)a->g.m * (size_t)a->g.n, per = mn * (size_t)a->groups;
  const size_t samples = (size_t)(a->g.batch / a->groups);
  if (scratch_n < samples * per) {
    mb_fail(be, MB_BAD_ARG, "gemm_sq_acc: a scratch of %zu floats is short of the %d items of %zu",
            scratch_n, a->g.batch, mn);
    return;
  }
  mb_gemm_args g = a->g;
  g.beta = 0.0f;
  g.c = scratch;
  g.ldc = g.n;
  g.stride_c = (long)mn;
  mb_gemm(be, &g);
  if (samples >= 2 && scratch_n >= (samples + 1) * per) {
    /* two launches, each item read once (not a read-modify-write of acc per sample) */
    const mb_view sum = mb_at(scratch, samples * per);
    mb_reduce(be, MB_RED_SUMSQ, scratch, sum, 1, samples, per);
    mb_binary(be, MB_BIN_AXPBY, a->acc, sum, a->acc, per, 1.0f, 1.0f);
    return;
  }
  for (size_t s = 0; s < samples; s++)
    mb_binary(be, MB_BIN_ADD_SQR, a->acc, mb_at(scratch, s * per), a->acc, per, 1.0f, 0.0f);
}
