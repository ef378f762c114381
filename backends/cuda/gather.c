/* gather_rows: wrapper over kernels/cuda/gather.cu.  For byte rows the view's offset
 * (in 4-byte elements) becomes a byte offset of 4·off, as the contract defines. */
#include "cuda_internal.h"

void cu_gather_rows(mb_backend *be, const mb_gather_args *a)
{
  if (a->n_rows < 1 || a->row_len < 1 || !cu_begin(be, "gather_rows")) return;
  mb_cu_gather_rows(cu_of(be)->stream, cu_ptr(a->src), a->src_u8, cu_ptr(a->idx), cu_ptr(a->dst),
                    a->n_rows, a->row_len, a->n_src_rows, a->scale);
  cu_launched(be, "gather_rows");
}
