/* im2col / col2im: wrappers over kernels/cuda/im2col.cu (geometry checked by the core). */
#include "cuda_internal.h"

void cu_im2col(mb_backend *be, const mb_conv_geom *g, mb_view x, mb_view cols)
{
  if (!cu_begin(be, "im2col")) return;
  mb_cu_im2col(cu_of(be)->stream, g, cu_ptr(x), cu_ptr(cols));
  cu_launched(be, "im2col");
}

void cu_col2im(mb_backend *be, const mb_conv_geom *g, mb_view cols, mb_view dx)
{
  if (!cu_begin(be, "col2im")) return;
  mb_cu_col2im(cu_of(be)->stream, g, cu_ptr(cols), cu_ptr(dx));
  cu_launched(be, "col2im");
}
