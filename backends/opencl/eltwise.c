/* Elementwise launches: unary, binary, where, bcast (kernels/opencl/eltwise.cl). */
#include "cl_backend.h"

static const char *const k_unary[MB_UN__COUNT] = {
  [MB_UN_AFFINE] = "unary_affine", [MB_UN_SQR] = "unary_sqr",         [MB_UN_SQRT] = "unary_sqrt",
  [MB_UN_EXP] = "unary_exp",       [MB_UN_LOG] = "unary_log",         [MB_UN_RECIP] = "unary_recip",
  [MB_UN_SIGMOID] = "unary_sigmoid", [MB_UN_RELU] = "unary_relu",     [MB_UN_ABS] = "unary_abs",
  [MB_UN_CLAMP] = "unary_clamp",   [MB_UN_MIN_S] = "unary_min_s",     [MB_UN_MAX_S] = "unary_max_s",
  [MB_UN_NAN_TO] = "unary_nan_to", [MB_UN_GT_S] = "unary_gt_s",
};

static const char *const k_binary[MB_BIN__COUNT] = {
  [MB_BIN_AXPBY] = "binary_axpby",     [MB_BIN_MUL] = "binary_mul",
  [MB_BIN_DIV] = "binary_div",         [MB_BIN_MIN] = "binary_min",
  [MB_BIN_MAX] = "binary_max",         [MB_BIN_ADD_SQR] = "binary_add_sqr",
  [MB_BIN_SIGMOID_BWD] = "binary_sigmoid_bwd", [MB_BIN_RELU_BWD] = "binary_relu_bwd",
  [MB_BIN_GT] = "binary_gt",
};

static const char *const k_bcast[] = {
  [MB_BC_ADD] = "bcast_add", [MB_BC_MUL] = "bcast_mul", [MB_BC_SUB] = "bcast_sub",
  [MB_BC_DIV] = "bcast_div",
};

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
  if ((unsigned)op > MB_BC_DIV) {
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
