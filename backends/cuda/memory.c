/* Device memory: plain cudaMalloc (never managed memory), transfers on the stream. */
#include "cuda_internal.h"

#include <stdlib.h>

mb_status cu_alloc(mb_backend *be, size_t bytes, mb_buf **out)
{
  *out = NULL;
  if (be->status != MB_OK) return be->status;
  if (!cu_begin(be, "alloc")) return be->status;
  cu_buf *b = calloc(1, sizeof *b);
  if (!b) return MB_OOM;
  /* An allocation failure is reported to the caller (mb_new makes it sticky there),
   * so only the runtime's error state is cleared here. */
  cudaError_t e = cudaMalloc(&b->ptr, bytes ? bytes : 4);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    free(b);
    if (e == cudaErrorMemoryAllocation) return MB_OOM;
    cu_check(be, "alloc", "cudaMalloc", e);
    return be->status;
  }
  b->base.bytes = bytes;
  *out = &b->base;
  return MB_OK;
}

void cu_free(mb_backend *be, mb_buf *buf)
{
  if (!buf) return;
  cu_buf *b = (cu_buf *)buf;
  (void)cudaSetDevice(be->device_index);
  /* cudaFree waits for work still using the buffer; it also runs after an error, so
   * memory is returned even by a backend that has failed. */
  if (b->ptr) (void)cudaFree(b->ptr);
  (void)cudaGetLastError();
  free(b);
}

void cu_upload(mb_backend *be, mb_view dst, const void *src, size_t bytes)
{
  if (!bytes || !cu_begin(be, "upload")) return;
  cudaStream_t s = cu_of(be)->stream;
  /* The sync keeps the host buffer's lifetime the caller's business only. */
  if (cu_check(be, "upload", "cudaMemcpyAsync",
               cudaMemcpyAsync(cu_ptr(dst), src, bytes, cudaMemcpyHostToDevice, s)))
    cu_check(be, "upload", "cudaStreamSynchronize", cudaStreamSynchronize(s));
}

void cu_download(mb_backend *be, void *dst, mb_view src, size_t bytes)
{
  if (!bytes || !cu_begin(be, "download")) return;
  cudaStream_t s = cu_of(be)->stream;
  if (cu_check(be, "download", "cudaMemcpyAsync",
               cudaMemcpyAsync(dst, cu_ptr(src), bytes, cudaMemcpyDeviceToHost, s)))
    cu_check(be, "download", "cudaStreamSynchronize", cudaStreamSynchronize(s));
}

void cu_copy(mb_backend *be, mb_view dst, mb_view src, size_t n)
{
  if (!n || !cu_begin(be, "copy")) return;
  void *d = cu_ptr(dst);
  const void *s = cu_ptr(src);
  if (d == s) return;
  cudaStream_t st = cu_of(be)->stream;
  const char *pd = d, *ps = s;
  if (pd < ps + n * 4 && ps < pd + n * 4) {
    /* overlapping ranges: cudaMemcpy leaves them undefined, the contract says
     * memmove (backend.h), so through the scratch block (stream-ordered) */
    void *tmp = cu_scratch(be, "copy", n * 4);
    if (!tmp) return;
    if (cu_check(be, "copy", "cudaMemcpyAsync",
                 cudaMemcpyAsync(tmp, s, n * 4, cudaMemcpyDeviceToDevice, st)))
      cu_check(be, "copy", "cudaMemcpyAsync", cudaMemcpyAsync(d, tmp, n * 4, cudaMemcpyDeviceToDevice, st));
    return;
  }
  cu_check(be, "copy", "cudaMemcpyAsync", cudaMemcpyAsync(d, s, n * 4, cudaMemcpyDeviceToDevice, st));
}

void cu_fill(mb_backend *be, mb_view dst, size_t n, uint32_t bits)
{
  if (!n || !cu_begin(be, "fill")) return;
  if (bits == 0) {
    cu_check(be, "fill", "cudaMemsetAsync",
             cudaMemsetAsync(cu_ptr(dst), 0, n * 4, cu_of(be)->stream));
    return;
  }
  mb_cu_fill(cu_of(be)->stream, cu_ptr(dst), n, bits);
  cu_launched(be, "fill");
}
