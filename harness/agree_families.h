/* What the agreement families (agree_fam_ops.c, agree_fam_conv.c) share with the
 * case table (agree_cases.c): the plan helpers, the op selectors, the families. */
#ifndef MB_AGREE_FAMILIES_H
#define MB_AGREE_FAMILIES_H

#include "harness/agree.h"

extern const agree_gen agree_gen_none;
/* Arguments of a case's plan; each returns the argument's index. */
int agree_add_arg(agree_plan *p, const char *name, size_t n, agree_gen gen, int out, int bits);
int agree_add_in(agree_plan *p, const char *name, size_t n, agree_gen gen);
int agree_add_out(agree_plan *p, const char *name, size_t n, int bits);
/* The output y: its own buffer, or (AGREE_ALIAS) the view of input x. */
int agree_add_result(agree_plan *p, const agree_case *c, const char *name, size_t n, int bits, int x);
agree_gen agree_gen_or(agree_gen g, agree_gen fallback);

/* case.op of the mem and conv2d families */
enum { MEM_FILL, MEM_COPY, MEM_ROUNDTRIP };
enum { CONV2D_FWD, CONV2D_DX, CONV2D_DW, CONV2D_DX_ACC, CONV2D_DW_BETA };

extern const agree_family fam_bcast,
  fam_binary,
  fam_bn,
  fam_bn_bwd,
  fam_col2im,
  fam_conv,
  fam_conv2d,
  fam_forget,
  fam_gather,
  fam_gemm,
  fam_gemm_sq,
  fam_im2col,
  fam_ln,
  fam_ln_bwd,
  fam_mem,
  fam_optim,
  fam_permute,
  fam_pool,
  fam_pool_bwd,
  fam_reduce,
  fam_rng,
  fam_seg_bcast,
  fam_seg_reduce,
  fam_softmax,
  fam_softmax_bwd,
  fam_timer,
  fam_unary,
  fam_where,
  fam_xent;

#endif
