/* The CUDA runtime and cuBLAS calls of backends/cuda and tools/cuda-kernel-check.cu on
 * the host, for the emulated CUDA backend module of tools/cuda-emu/agree.sh and the
 * kernel check of run.sh: one device ("host emulation"), device memory is host memory,
 * every stream runs in order at the call (so a synchronisation has nothing to wait for),
 * events read the host clock, and cublasSgemm{,StridedBatched} are plain loops in f32
 * with one sequential K sum (the agreement suite's GEMM tolerance admits that order).
 * Kernels come from kernels/cuda compiled against cuda_emu.h.  It checks the backend's
 * host code and kernels against the ref oracle; device rounding and speed need a GPU. */
#include "cuda_emu.h"

#include <cublas_v2.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

extern unsigned char mb_cu_smem[1 << 16];   /* emu_state.cpp */

static cudaError_t g_last = cudaSuccess;

extern "C" {

cudaError_t cudaGetDeviceCount(int *n)
{
  *n = 1;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : cudaErrorInvalidDevice; }
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int d)
{
  if (d != 0) return cudaErrorInvalidDevice;
  memset(p, 0, sizeof *p);
  snprintf(p->name, sizeof p->name, "host emulation");
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = 1;
  p->totalGlobalMem = (size_t)8 << 30;
  p->maxThreadsPerBlock = 1024;
  p->sharedMemPerBlock = sizeof mb_cu_smem;
  p->warpSize = 32;
  return cudaSuccess;
}
cudaError_t cudaRuntimeGetVersion(int *v)
{
  *v = CUDART_VERSION;
  return cudaSuccess;
}
cudaError_t cudaDriverGetVersion(int *v)
{
  *v = CUDART_VERSION;
  return cudaSuccess;
}
cudaError_t cudaDeviceReset(void) { return cudaSuccess; }
cudaError_t cudaGetLastError(void)
{
  cudaError_t e = g_last;
  g_last = cudaSuccess;
  return e;
}
const char *cudaGetErrorString(cudaError_t e) { return e == cudaSuccess ? "no error" : "emulation error"; }
const char *cudaGetErrorName(cudaError_t e) { return e == cudaSuccess ? "cudaSuccess" : "cudaErrorEmulation"; }

cudaError_t cudaMalloc(void **p, size_t n)
{
  *p = aligned_alloc(256, (n + 255) / 256 * 256 + 256);
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaFree(void *p)
{
  free(p);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, cudaMemcpyKind, cudaStream_t)
{
  memmove(d, s, n);
  return cudaSuccess;
}
cudaError_t cudaMemcpy(void *d, const void *s, size_t n, cudaMemcpyKind)
{
  memmove(d, s, n);
  return cudaSuccess;
}
cudaError_t cudaMemset(void *d, int v, size_t n)
{
  memset(d, v, n);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t)
{
  memset(d, v, n);
  return cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned)
{
  *s = (cudaStream_t)malloc(1);
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s)
{
  free((void *)s);
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }

/* an event is the host clock when it was recorded, in ms */
cudaError_t cudaEventCreate(cudaEvent_t *e)
{
  *e = (cudaEvent_t)calloc(1, sizeof(double));
  return *e ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned) { return cudaEventCreate(e); }
cudaError_t cudaEventDestroy(cudaEvent_t e)
{
  free((void *)e);
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t)
{
  using namespace std::chrono;
  *(double *)(void *)e = duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b)
{
  *ms = (float)(*(double *)(void *)b - *(double *)(void *)a);
  return cudaSuccess;
}

/* ---- cuBLAS (column-major) ---- */
struct cublasContext { int unused; };

cublasStatus_t cublasCreate_v2(cublasHandle_t *h)
{
  *h = new cublasContext();
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy_v2(cublasHandle_t h)
{
  delete h;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream_v2(cublasHandle_t, cudaStream_t) { return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetMathMode(cublasHandle_t, cublasMath_t) { return CUBLAS_STATUS_SUCCESS; }
const char *cublasGetStatusName(cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS ? "CUBLAS_STATUS_SUCCESS" : "CUBLAS_STATUS_EMULATION"; }
const char *cublasGetStatusString(cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS ? "success" : "emulation error"; }

/* C = alpha·op(A)·op(B) + beta·C, column-major; beta = 0 does not read C */
static void sgemm_one(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha,
                      const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
  for (int j = 0; j < n; j++)
    for (int i = 0; i < m; i++) {
      float s = 0.0f;
      for (int p = 0; p < k; p++) {
        const float a = ta == CUBLAS_OP_N ? A[i + (size_t)p * lda] : A[p + (size_t)i * lda];
        const float b = tb == CUBLAS_OP_N ? B[p + (size_t)j * ldb] : B[j + (size_t)p * ldb];
        s += a * b;
      }
      float *c = &C[i + (size_t)j * ldc];
      *c = beta == 0.0f ? alpha * s : alpha * s + beta * *c;
    }
}

cublasStatus_t cublasSgemm_v2(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                              int k, const float *alpha, const float *A, int lda, const float *B,
                              int ldb, const float *beta, float *C, int ldc)
{
  sgemm_one(ta, tb, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb,
                                         int m, int n, int k, const float *alpha, const float *A,
                                         int lda, long long sa, const float *B, int ldb, long long sb,
                                         const float *beta, float *C, int ldc, long long sc, int batch)
{
  for (int b = 0; b < batch; b++)
    sgemm_one(ta, tb, m, n, k, *alpha, A + b * sa, lda, B + b * sb, ldb, *beta, C + b * sc, ldc);
  return CUBLAS_STATUS_SUCCESS;
}

}  // extern "C"
