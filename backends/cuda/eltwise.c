/* Elementwise ops: thin wrappers over kernels/cuda/eltwise.cu. */
#include "cuda_internal.h"

void cu_unary(mb_backend *be, mb_unary_op op, mb_view x, mb_view y, size_t n, float a, float b)
{
  if (!n || !cu_begin(be, "unary")) return;
  if ((unsigned)op >= MB_UN__COUNT) { cu_fail(be, MB_BAD_ARG, "unary", "unknown op %d", (int)op); return; }
  mb_cu_unary(cu_of(be)->stream, op, cu_ptr(x), cu_ptr(y), n, a, b);
  cu_launched(be, "unary");
}

void cu_binary(mb_backend *be, mb_binary_op op, mb_view x1, mb_view x2, mb_view y, size_t n,
               float a, float b)
{
  if (!n || !cu_begin(be, "binary")) return;
  if ((unsigned)op >= MB_BIN__COUNT) { cu_fail(be, MB_BAD_ARG, "binary", "unknown op %d", (int)op); return; }
  mb_cu_binary(cu_of(be)->stream, op, cu_ptr(x1), cu_ptr(x2), cu_ptr(y), n, a, b);
  cu_launched(be, "binary");
}

void cu_where(mb_backend *be, mb_view cond, mb_view x1, mb_view x2, mb_view y, size_t n)
{
  if (!n || !cu_begin(be, "where")) return;
  mb_cu_where(cu_of(be)->stream, cu_ptr(cond), cu_ptr(x1), cu_ptr(x2), cu_ptr(y), n);
  cu_launched(be, "where");
}

void cu_bcast(mb_backend *be, mb_bcast_op op, mb_view x, mb_view v, mb_view y, size_t outer,
              size_t mid, size_t inner)
{
  if (!outer || !mid || !inner || !cu_begin(be, "bcast")) return;
  if ((unsigned)op >= MB_BC__COUNT) { cu_fail(be, MB_BAD_ARG, "bcast", "unknown op %d", (int)op); return; }
  mb_cu_bcast(cu_of(be)->stream, op, cu_ptr(x), cu_ptr(v), cu_ptr(y), outer, mid, inner);
  cu_launched(be, "bcast");
}
