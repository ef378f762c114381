/* Two steps the Swin-T forward (core/swin.c) and backward (core/swin_bwd.c) both take:
 * moving token rows by an index table, and one head's slice of a batched GEMM over the
 * B·nwin windows. */
#ifndef MB_SWIN_STEPS_H
#define MB_SWIN_STEPS_H

#include "core/ops.h"

/* dst row r = src row idx[r] (row_len floats; an index outside [0, n_src) gives zeros). */
static inline void gather(mb_backend *be, mb_view src, int n_src, mb_view idx, mb_view dst,
                          int n_rows, int row_len)
{
  mb_gather_args a = {.src = src, .idx = idx, .dst = dst, .n_rows = n_rows, .row_len = row_len,
                      .n_src_rows = n_src, .scale = 1.0f};
  mb_gather_rows(be, &a);
}

/* C_i = alpha·op(A_i)·op(B_i) for the batch windows i (β = 0), strides sa, sb, sc apart. */
static inline void head_gemm(mb_backend *be, int ta, int tb, int m, int n, int k, float alpha,
                             mb_view a, int lda, long sa, mb_view b, int ldb, long sb, mb_view c,
                             int ldc, long sc, int batch)
{
  mb_gemm_args g = {.trans_a = ta, .trans_b = tb, .m = m, .n = n, .k = k, .alpha = alpha,
                    .beta = 0.0f, .a = a, .b = b, .c = c, .lda = lda, .ldb = ldb, .ldc = ldc,
                    .batch = batch, .stride_a = sa, .stride_b = sb, .stride_c = sc};
  mb_gemm(be, &g);
}

#endif
