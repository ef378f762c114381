/* Elementwise launches: unary, binary, where, bcast (kernels/opencl/eltwise.cl). */
#include "cl_backend.h"

/* Kernel names: <family>_<code name> for every code of include/mb/op_codes.def, so a
 * new code needs only its kernel body in eltwise.cl. */
static const char *const k_unary[MB_UN__COUNT] = {
#define MB_UN(NAME, name) [MB_UN_##NAME] = "unary_" #name,
#include "mb/op_codes.def"
};

static const char *const k_binary[MB_BIN__COUNT] = {
#define MB_BIN(NAME, name) [MB_BIN_##NAME] = "binary_" #name,
#include "mb/op_codes.def"
};

static const char *const k_bcast[MB_BC__N] = {
#define MB_BC(NAME, name) [MB_BC_##NAME] = "bcast_" #name,
#include "mb/op_codes.def"
};

/* every kernel of eltwise.cl has a slot in its family's kernel cache */
_Static_assert(MB_UN__COUNT + MB_BIN__COUNT + MB_BC__N + 1 <= MB_CL_MAX_KERNELS,
               "raise MB_CL_MAX_KERNELS");

/* Enqueues a grid-stride kernel over n items with arguments already set. */
static void run_flat(mb_cl_args *a, const char *op, size_t n)
{
  if (a->ks) mb_cl_launch(a, op, mb_cl_groups(a->cl, n, a->ks->local), 0);
}

void mb_opencl_unary(mb_backend *be, mb_unary_op op, mb_view x, mb_view y, size_t n, float a,
                     float b)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl) || !n) return;
  if ((unsigned)op >= MB_UN__COUNT) {
    mb_cl_fail(cl, MB_BAD_ARG, "unary: bad op %d", (int)op);
    return;
  }
  mb_cl_args k = mb_cl_begin(cl, MB_CL_ELTWISE, k_unary[op]);
  mb_cl_arg_view(&k, x);
  mb_cl_arg_view(&k, y);
  mb_cl_arg_u64(&k, n);
  mb_cl_arg_f32(&k, a);
  mb_cl_arg_f32(&k, b);
  run_flat(&k, "unary", n);
}

void mb_opencl_binary(mb_backend *be, mb_binary_op op, mb_view x1, mb_view x2, mb_view y, size_t n,
                      float a, float b)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl) || !n) return;
  if ((unsigned)op >= MB_BIN__COUNT) {
    mb_cl_fail(cl, MB_BAD_ARG, "binary: bad op %d", (int)op);
    return;
  }
  mb_cl_args k = mb_cl_begin(cl, MB_CL_ELTWISE, k_binary[op]);
  mb_cl_arg_view(&k, x1);
  mb_cl_arg_view(&k, x2);
  mb_cl_arg_view(&k, y);
  mb_cl_arg_u64(&k, n);
  mb_cl_arg_f32(&k, a);
  mb_cl_arg_f32(&k, b);
  run_flat(&k, "binary", n);
}

void mb_opencl_where(mb_backend *be, mb_view cond, mb_view x1, mb_view x2, mb_view y, size_t n)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl) || !n) return;
  mb_cl_args k = mb_cl_begin(cl, MB_CL_ELTWISE, "where_select");
  mb_cl_arg_view(&k, cond);
  mb_cl_arg_view(&k, x1);
  mb_cl_arg_view(&k, x2);
  mb_cl_arg_view(&k, y);
  mb_cl_arg_u64(&k, n);
  run_flat(&k, "where", n);
}

void mb_opencl_bcast(mb_backend *be, mb_bcast_op op, mb_view x, mb_view v, mb_view y, size_t outer,
                     size_t mid, size_t inner)
{
  mb_cl *cl = mb_cl_of(be);
  size_t n = outer * mid * inner;
  if (!mb_cl_ok(cl) || !n) return;
  if ((unsigned)op >= MB_BC__N) {
    mb_cl_fail(cl, MB_BAD_ARG, "bcast: bad op %d", (int)op);
    return;
  }
  mb_cl_args k = mb_cl_begin(cl, MB_CL_ELTWISE, k_bcast[op]);
  mb_cl_arg_view(&k, x);
  mb_cl_arg_view(&k, v);
  mb_cl_arg_view(&k, y);
  mb_cl_arg_u64(&k, n);
  mb_cl_arg_u64(&k, mid);
  mb_cl_arg_u64(&k, inner);
  run_flat(&k, "bcast", n);
}
