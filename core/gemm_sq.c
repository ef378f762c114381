/* Per-sample squared gradients: the optional op or its generic composition. */
#include "core/gemm_sq.h"

void mb_gemm_sq_acc_auto(mb_backend *be, const mb_gemm_sq_args *a, mb_view scratch)
{
  if (mb_has_opt(be, MB_OPID_gemm_sq_acc)) {
    mb_gemm_sq_acc(be, a);
    return;
  }
  if (!mb_ok(be)) return;
  if (a->groups < 1 || a->g.batch % a->groups) {
    mb_fail(be, MB_BAD_ARG, "gemm_sq_acc: batch %d is not a multiple of groups %d", a->g.batch,
            a->groups);
    return;
  }
  /* item b at b·m·n of scratch, so sample s's groups lie together as in acc */
  const size_t mn = (size_t)a->g.m * (size_t)a->g.n, per = mn * (size_t)a->groups;
  mb_gemm_args g = a->g;
  g.beta = 0.0f;
  g.c = scratch;
  g.ldc = g.n;
  g.stride_c = (long)mn;
  mb_gemm(be, &g);
  for (int s = 0; s < a->g.batch / a->groups; s++)
    mb_binary(be, MB_BIN_ADD_SQR, a->acc, mb_at(scratch, (size_t)s * per), a->acc, per, 1.0f,
              0.0f);
}
