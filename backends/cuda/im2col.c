/* im2col / col2im and permute: wrappers over kernels/cuda/im2col.cu (geometry and
 * bounds checked by the core). */
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

void cu_permute(mb_backend *be, mb_view x, mb_view y, size_t outer, size_t mid, size_t inner)
{
  if (!cu_begin(be, "permute")) return;
  mb_cu_permute(cu_of(be)->stream, cu_ptr(x), cu_ptr(y), outer, mid, inner);
  cu_launched(be, "permute");
}
