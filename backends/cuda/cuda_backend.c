/* CUDA backend: discovery, lifecycle, errors and the op table.
 *
 * One device, one non-blocking stream created at open(); cuBLAS runs on that stream.
 * The runtime is linked statically and loads the driver when first called, so a
 * host without a driver still starts and reports "no device" here.  Kernels live
 * in the .cu files of kernels/cuda behind the C launchers of launch.h. */
#include "cuda_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cu_fail(mb_backend *be, mb_status st, const char *op, const char *fmt, ...)
{
  if (be->status != MB_OK) return;
  be->status = st;
  int k = snprintf(be->err, sizeof be->err, "%s: ", op);
  if (k < 0 || (size_t)k >= sizeof be->err) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(be->err + k, sizeof be->err - (size_t)k, fmt, ap);
  va_end(ap);
}

int cu_check(mb_backend *be, const char *op, const char *call, cudaError_t e)
{
  if (e == cudaSuccess) return 1;
  (void)cudaGetLastError();   /* clear it so a later launch check does not see it again */
  cu_fail(be, e == cudaErrorMemoryAllocation ? MB_OOM : MB_DEVICE_ERROR, op,
          "%s: error %d (%s: %s)", call, (int)e, cudaGetErrorName(e), cudaGetErrorString(e));
  return 0;
}

int cu_launched(mb_backend *be, const char *op)
{
  return cu_check(be, op, "kernel launch", cudaGetLastError());
}

int cu_begin(mb_backend *be, const char *op)
{
  if (be->status != MB_OK) return 0;
  /* The runtime's current device is per host thread; a cheap no-op when already set. */
  return cu_check(be, op, "cudaSetDevice", cudaSetDevice(be->device_index));
}

static void copy_str(char *dst, size_t len, const char *src)
{
  size_t n = strlen(src);
  if (n >= len) n = len - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static int cu_device_count(char *why, size_t why_len)
{
  int n = 0;   /* left unwritten on failure */
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    const char *what = e == cudaErrorInsufficientDriver ? "CUDA driver missing or too old"
                       : e == cudaErrorNoDevice         ? "no CUDA device"
                                                        : "CUDA unavailable";
    if (why && why_len)
      snprintf(why, why_len, "%s (cudaGetDeviceCount: error %d, %s)", what, (int)e,
               cudaGetErrorString(e));
    return 0;
  }
  if (n <= 0 && why && why_len) snprintf(why, why_len, "no CUDA device");
  return n > 0 ? n : 0;
}

/* CUDA encodes versions as 1000·major + 10·minor. */
static void version_str(char *dst, size_t len, int v)
{
  snprintf(dst, len, "%d.%d", v / 1000, (v % 1000) / 10);
}

/* Open instances per device, and whether one of them met a device fault: a sticky
 * CUDA error (an illegal address, a launch failure) poisons the device's primary
 * context for the whole process, so the last instance to close resets the device
 * and a backend opened afterwards starts clean (backend.h). */
#define CU_MAX_DEVICES 64
static int g_open[CU_MAX_DEVICES], g_faulted[CU_MAX_DEVICES];

static void cu_close(mb_backend *be)
{
  if (!be) return;
  cu_backend *cb = cu_of(be);
  int dev = be->device_index;
  (void)cudaSetDevice(dev);
  cudaError_t e = cb->stream ? cudaStreamSynchronize(cb->stream) : cudaSuccess;
  int fault = be->status == MB_DEVICE_ERROR || (e != cudaSuccess && e != cudaErrorNotReady);
  cu_segtab_release(cb);
#ifdef MB_HAVE_CUDNN
  cu_conv_release(cb);
  if (cb->dnn) (void)cudnnDestroy(cb->dnn);
#endif
  if (cb->scratch) (void)cudaFree(cb->scratch);
  if (cb->blas) (void)cublasDestroy(cb->blas);
  if (cb->stream) (void)cudaStreamDestroy(cb->stream);
  (void)cudaGetLastError();
  if (cb->counted && dev >= 0 && dev < CU_MAX_DEVICES) {
    g_faulted[dev] |= fault;
    if (--g_open[dev] == 0 && g_faulted[dev]) {
      (void)cudaDeviceReset();
      (void)cudaGetLastError();
      g_faulted[dev] = 0;
    }
  }
  free(cb);
}

extern const mb_backend_ops mb_cuda_ops;

static mb_status cu_open(int device, mb_backend **out, char *why, size_t why_len)
{
  char tmp[1];
  if (!why || !why_len) { why = tmp; why_len = sizeof tmp; }
  *out = NULL;
  int n = cu_device_count(why, why_len);
  if (n == 0) return MB_NO_DEVICE;
  if (device < 0 || device >= n) {
    snprintf(why, why_len, "no CUDA device %d (%d present)", device, n);
    return MB_NO_DEVICE;
  }
  cu_backend *cb = calloc(1, sizeof *cb);
  if (!cb) {
    snprintf(why, why_len, "out of host memory");
    return MB_OOM;
  }
  mb_backend *be = &cb->base;
  be->ops = &mb_cuda_ops;
  be->device_index = device;

  struct cudaDeviceProp prop;
  const char *call = NULL;
  cudaError_t e;
  int drv = 0, rt = 0;
  if ((e = cudaSetDevice(device)) != cudaSuccess) call = "cudaSetDevice";
  else if ((e = cudaGetDeviceProperties(&prop, device)) != cudaSuccess) call = "cudaGetDeviceProperties";
  else if ((e = cudaDriverGetVersion(&drv)) != cudaSuccess) call = "cudaDriverGetVersion";
  else if ((e = cudaRuntimeGetVersion(&rt)) != cudaSuccess) call = "cudaRuntimeGetVersion";
  else if ((e = cudaStreamCreateWithFlags(&cb->stream, cudaStreamNonBlocking)) != cudaSuccess)
    call = "cudaStreamCreateWithFlags";
  if (call) {
    snprintf(why, why_len, "CUDA device %d: %s: error %d (%s)", device, call, (int)e,
             cudaGetErrorString(e));
    cu_close(be);
    return MB_DEVICE_ERROR;
  }

  cublasStatus_t bs = cublasCreate(&cb->blas);
  const char *bcall = "cublasCreate";
  if (bs == CUBLAS_STATUS_SUCCESS) {
    bcall = "cublasSetStream";
    bs = cublasSetStream(cb->blas, cb->stream);
  } else {
    cb->blas = NULL;
  }
  /* Plain FP32 GEMM, no TF32 tensor-core rounding: results must agree with the f64
   * oracle to about 1e-6 relative, and the timed path is the tested one. */
  if (bs == CUBLAS_STATUS_SUCCESS) {
    bcall = "cublasSetMathMode";
    bs = cublasSetMathMode(cb->blas, CUBLAS_DEFAULT_MATH);
  }
  if (bs != CUBLAS_STATUS_SUCCESS) {
    snprintf(why, why_len, "CUDA device %d: %s: %s (%s)", device, bcall, cublasGetStatusName(bs),
             cublasGetStatusString(bs));
    cu_close(be);
    return MB_DEVICE_ERROR;
  }

#ifdef MB_HAVE_CUDNN
  /* cuDNN for the optional conv ops; if it does not start (library or GPU too old), this
   * instance takes the generic compositions of every optional op instead of failing. */
  if (cudnnCreate(&cb->dnn) != CUDNN_STATUS_SUCCESS) {
    cb->dnn = NULL;
  } else if (cudnnSetStream(cb->dnn, cb->stream) != CUDNN_STATUS_SUCCESS) {
    (void)cudnnDestroy(cb->dnn);
    cb->dnn = NULL;
  }
  if (!cb->dnn) be->engine_generic = 1;
#endif

  mb_device_info *info = &be->info;
  copy_str(info->name, sizeof info->name, prop.name);
  copy_str(info->vendor, sizeof info->vendor, "NVIDIA");
  char dv[16], rv[16];
  version_str(dv, sizeof dv, drv);
  version_str(rv, sizeof rv, rt);
  snprintf(info->driver, sizeof info->driver, "%s (runtime %s)", dv, rv);
  snprintf(info->api, sizeof info->api, "CUDA sm_%d%d", prop.major, prop.minor);
  copy_str(info->type, sizeof info->type, "gpu");
  info->mem_bytes = (uint64_t)prop.totalGlobalMem;
  info->has_device_timer = 1;
  be->status = MB_OK;
  if (device < CU_MAX_DEVICES) {
    g_open[device]++;
    cb->counted = 1;
  }
  *out = be;
  return MB_OK;
}

static void cu_sync(mb_backend *be)
{
  if (cu_begin(be, "sync"))
    cu_check(be, "sync", "cudaStreamSynchronize", cudaStreamSynchronize(cu_of(be)->stream));
}

const mb_backend_ops mb_cuda_ops = {
  .name = "cuda",
  .abi = MB_ABI_VERSION,
  .device_count = cu_device_count,
  .open = cu_open,
  .close = cu_close,
  .alloc = cu_alloc,
  .free = cu_free,
  .upload = cu_upload,
  .download = cu_download,
  .copy = cu_copy,
  .fill = cu_fill,
#include "mb/ops_table.inc"
  .sync = cu_sync,
  .timer_begin = cu_timer_begin,
  .timer_end = cu_timer_end,
  .timer_ms = cu_timer_ms,
  .timer_free = cu_timer_free,
  .forget_update = cu_forget_update,
#ifdef MB_HAVE_CUDNN
  .conv2d_fwd = cu_conv2d_fwd,
  .conv2d_bwd_data = cu_conv2d_bwd_data,
  .conv2d_bwd_filter = cu_conv2d_bwd_filter,
  .engine = "cuda-cudnn",
#else
  .engine = "cuda-fused",
#endif
};
