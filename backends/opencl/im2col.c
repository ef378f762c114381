/* im2col / col2im and permute launches (kernels/opencl/im2col.cl). */
#include "cl_backend.h"

static void conv_launch(mb_cl *cl, const char *name, const mb_conv_geom *g, mb_view in,
                        mb_view out, size_t items)
{
  mb_cl_args k = mb_cl_begin(cl, MB_CL_IM2COL, name);
  if (!k.ks) return;
  mb_cl_arg_view(&k, in);
  mb_cl_arg_view(&k, out);
  const int geom[] = {g->n, g->c, g->h, g->w, g->kh, g->kw, g->stride, g->pad, g->oh, g->ow};
  for (int i = 0; i < 10; i++) mb_cl_arg_i32(&k, geom[i]);
  mb_cl_launch(&k, name, mb_cl_groups(cl, items, k.ks->local), 0);
}

/* Sizes must be non-negative (the core checks oh/ow against the rest). */
static int geom_ok(mb_cl *cl, const mb_conv_geom *g, const char *op)
{
  if (g->n >= 0 && g->c >= 0 && g->h >= 0 && g->w >= 0 && g->kh > 0 && g->kw > 0 &&
      g->stride > 0 && g->pad >= 0 && g->oh >= 0 && g->ow >= 0)
    return 1;
  mb_cl_fail(cl, MB_BAD_ARG, "%s: negative or zero geometry", op);
  return 0;
}

void mb_opencl_im2col(mb_backend *be, const mb_conv_geom *g, mb_view x, mb_view cols)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl) || !geom_ok(cl, g, "im2col")) return;
  size_t items = (size_t)g->n * g->c * g->kh * g->kw * g->oh * g->ow;
  if (!items) return;
  conv_launch(cl, "im2col", g, x, cols, items);
}

/* dx += col2im(cols): one work-item per dx element sums its columns (no atomics). */
void mb_opencl_col2im(mb_backend *be, const mb_conv_geom *g, mb_view cols, mb_view dx)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl) || !geom_ok(cl, g, "col2im")) return;
  size_t items = (size_t)g->n * g->c * g->h * g->w;
  if (!items) return;
  conv_launch(cl, "col2im", g, cols, dx, items);
}

/* y[m][o][i] = x[o][m][i]: one work-item per y element. */
void mb_opencl_permute(mb_backend *be, mb_view x, mb_view y, size_t outer, size_t mid,
                       size_t inner)
{
  mb_cl *cl = mb_cl_of(be);
  size_t items = outer * mid * inner;
  if (!mb_cl_ok(cl) || !items) return;
  mb_cl_args k = mb_cl_begin(cl, MB_CL_IM2COL, "permute");
  if (!k.ks) return;
  mb_cl_arg_view(&k, x);
  mb_cl_arg_view(&k, y);
  mb_cl_arg_u64(&k, outer);
  mb_cl_arg_u64(&k, mid);
  mb_cl_arg_u64(&k, inner);
  mb_cl_launch(&k, "permute", mb_cl_groups(cl, items, k.ks->local), 0);
}
