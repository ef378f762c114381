/* gather_rows launch (kernels/opencl/gather.cl). */
#include "cl_backend.h"

void mb_opencl_gather_rows(mb_backend *be, const mb_gather_args *a)
{
  mb_cl *cl = mb_cl_of(be);
  size_t n = (size_t)a->n_rows * (size_t)a->row_len;
  if (!mb_cl_ok(cl) || a->n_rows < 1 || a->row_len < 1) return;
  mb_cl_args k = mb_cl_begin(cl, MB_CL_GATHER, a->src_u8 ? "gather_rows_u8" : "gather_rows");
  if (!k.ks) return;
  if (a->src_u8) {
    mb_cl_arg_mem(&k, mb_cl_mem(a->src));
    mb_cl_arg_u64(&k, 4 * (uint64_t)a->src.off);   /* rows start at byte 4*off */
  } else {
    mb_cl_arg_view(&k, a->src);
  }
  mb_cl_arg_view(&k, a->idx);
  mb_cl_arg_view(&k, a->dst);
  mb_cl_arg_u64(&k, (uint64_t)a->n_rows);
  mb_cl_arg_u64(&k, (uint64_t)a->row_len);
  cl_long nsrc = a->n_src_rows;
  mb_cl_arg(&k, sizeof nsrc, &nsrc);
  if (a->src_u8) mb_cl_arg_f32(&k, a->scale);
  mb_cl_launch(&k, "gather_rows", mb_cl_groups(cl, n, k.ks->local), 0);
}
