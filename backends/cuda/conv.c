/* Optional convolution ops through cuDNN 9 (built only with MB_HAVE_CUDNN).
 *
 * Results must agree with the im2col + GEMM composition within the GEMM tolerance and be
 * the same bits on every run, so: FP32 with CUDNN_FMA_MATH (no TF32 tensor-core
 * rounding, as the cuBLAS handle is set up), only deterministic algorithms of the
 * GEMM / direct families (no FFT or Winograd, whose rounding error grows with the
 * transform), chosen by cuDNN's heuristics (not by timing, so the choice is the same on
 * every run) with a fallback that supports every shape.  Descriptors and the chosen
 * algorithm are cached per (op, geometry); the workspace is the backend's scratch. */
#include "cuda_internal.h"

#include <stdio.h>
#include <string.h>

enum { CONV_FWD, CONV_BWD_DATA, CONV_BWD_FILTER };

/* Forward algorithms needing more workspace than this (explicit GEMM's im2col buffer at a
 * large batch) are passed over: the fallback needs none. */
#define CONV_WS_CAP ((size_t)256 << 20)

static int dnn_check(mb_backend *be, const char *op, const char *call, cudnnStatus_t st)
{
  if (st == CUDNN_STATUS_SUCCESS) return 1;
  cu_fail(be, st == CUDNN_STATUS_ALLOC_FAILED ? MB_OOM : MB_DEVICE_ERROR, op, "%s: %s (%d)", call,
          cudnnGetErrorString(st), (int)st);
  return 0;
}

static void plan_clear(cu_conv_plan *p)
{
  if (p->xd) (void)cudnnDestroyTensorDescriptor(p->xd);
  if (p->yd) (void)cudnnDestroyTensorDescriptor(p->yd);
  if (p->wd) (void)cudnnDestroyFilterDescriptor(p->wd);
  if (p->cd) (void)cudnnDestroyConvolutionDescriptor(p->cd);
  memset(p, 0, sizeof *p);
}

void cu_conv_release(cu_backend *cb)
{
  for (int i = 0; i < CU_CONV_CACHE; i++) plan_clear(&cb->conv[i]);
}

/* The first deterministic GEMM-family or direct algorithm of cuDNN's ranking. */
static int pick_fwd(cudnnHandle_t h, const cu_conv_plan *p)
{
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int got = 0;
  if (cudnnGetConvolutionForwardAlgorithm_v7(h, p->xd, p->wd, p->cd, p->yd,
                                             CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got, perf) ==
      CUDNN_STATUS_SUCCESS)
    for (int i = 0; i < got; i++) {
      cudnnConvolutionFwdAlgo_t a = perf[i].algo;
      if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].determinism == CUDNN_DETERMINISTIC &&
          perf[i].mathType != CUDNN_TENSOR_OP_MATH && perf[i].memory <= CONV_WS_CAP &&
          (a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM ||
           a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM ||
           a == CUDNN_CONVOLUTION_FWD_ALGO_GEMM || a == CUDNN_CONVOLUTION_FWD_ALGO_DIRECT))
        return (int)a;
    }
  return (int)CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
}

/* Backward data and filter: ALGO_1 is the one deterministic GEMM-family kernel of each
 * (ALGO_0 and bwd-filter ALGO_3 sum with atomics; the others are FFT or Winograd). */
#define BWD_DATA_ALGO CUDNN_CONVOLUTION_BWD_DATA_ALGO_1
#define BWD_FILTER_ALGO CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1

static int same_key(const cu_conv_plan *p, int kind, const mb_conv_args *a)
{
  const mb_conv_geom *g = &p->g, *h = &a->g;
  return p->xd && p->kind == kind && p->cout == a->cout && g->n == h->n && g->c == h->c &&
         g->h == h->h && g->w == h->w && g->kh == h->kh && g->kw == h->kw &&
         g->stride == h->stride && g->pad == h->pad && g->oh == h->oh && g->ow == h->ow;
}

/* The cached plan of (kind, geometry), built on a miss; NULL after recording an error. */
static cu_conv_plan *conv_plan(mb_backend *be, const char *op, int kind, const mb_conv_args *a)
{
  cu_backend *cb = cu_of(be);
  cu_conv_plan *victim = &cb->conv[0];
  for (int i = 0; i < CU_CONV_CACHE; i++) {
    cu_conv_plan *p = &cb->conv[i];
    if (same_key(p, kind, a)) {
      p->used = ++cb->conv_clock;
      return p;
    }
    if (!p->xd || (victim->xd && p->used < victim->used)) victim = p;
  }
  plan_clear(victim);
  cu_conv_plan *p = victim;
  const mb_conv_geom *g = &a->g;
  p->kind = kind;
  p->cout = a->cout;
  p->g = *g;
  cudnnHandle_t h = cb->dnn;
  int ok = dnn_check(be, op, "cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(&p->xd)) &&
           dnn_check(be, op, "cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(&p->yd)) &&
           dnn_check(be, op, "cudnnCreateFilterDescriptor", cudnnCreateFilterDescriptor(&p->wd)) &&
           dnn_check(be, op, "cudnnCreateConvolutionDescriptor",
                     cudnnCreateConvolutionDescriptor(&p->cd));
  ok = ok && dnn_check(be, op, "cudnnSetTensor4dDescriptor (x)",
                       cudnnSetTensor4dDescriptor(p->xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, g->n,
                                                  g->c, g->h, g->w));
  ok = ok && dnn_check(be, op, "cudnnSetTensor4dDescriptor (y)",
                       cudnnSetTensor4dDescriptor(p->yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, g->n,
                                                  a->cout, g->oh, g->ow));
  ok = ok && dnn_check(be, op, "cudnnSetFilter4dDescriptor",
                       cudnnSetFilter4dDescriptor(p->wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                                  a->cout, g->c, g->kh, g->kw));
  ok = ok && dnn_check(be, op, "cudnnSetConvolution2dDescriptor",
                       cudnnSetConvolution2dDescriptor(p->cd, g->pad, g->pad, g->stride, g->stride,
                                                       1, 1, CUDNN_CROSS_CORRELATION,
                                                       CUDNN_DATA_FLOAT));
  ok = ok && dnn_check(be, op, "cudnnSetConvolutionMathType",
                       cudnnSetConvolutionMathType(p->cd, CUDNN_FMA_MATH));
  if (ok) {
    int n = 0, c = 0, oh = 0, ow = 0;
    ok = dnn_check(be, op, "cudnnGetConvolution2dForwardOutputDim",
                   cudnnGetConvolution2dForwardOutputDim(p->cd, p->xd, p->wd, &n, &c, &oh, &ow));
    if (ok && (n != g->n || c != a->cout || oh != g->oh || ow != g->ow)) {
      cu_fail(be, MB_BAD_ARG, op, "cuDNN output %dx%dx%dx%d, geometry says %dx%dx%dx%d", n, c, oh,
              ow, g->n, a->cout, g->oh, g->ow);
      ok = 0;
    }
  }
  if (ok) {
    switch (kind) {
    case CONV_FWD:
      p->algo = pick_fwd(h, p);
      ok = dnn_check(be, op, "cudnnGetConvolutionForwardWorkspaceSize",
                     cudnnGetConvolutionForwardWorkspaceSize(
                         h, p->xd, p->wd, p->cd, p->yd, (cudnnConvolutionFwdAlgo_t)p->algo, &p->ws));
      break;
    case CONV_BWD_DATA:
      p->algo = (int)BWD_DATA_ALGO;
      ok = dnn_check(be, op, "cudnnGetConvolutionBackwardDataWorkspaceSize",
                     cudnnGetConvolutionBackwardDataWorkspaceSize(
                         h, p->wd, p->yd, p->cd, p->xd, (cudnnConvolutionBwdDataAlgo_t)p->algo,
                         &p->ws));
      break;
    default:
      p->algo = (int)BWD_FILTER_ALGO;
      ok = dnn_check(be, op, "cudnnGetConvolutionBackwardFilterWorkspaceSize",
                     cudnnGetConvolutionBackwardFilterWorkspaceSize(
                         h, p->xd, p->yd, p->cd, p->wd, (cudnnConvolutionBwdFilterAlgo_t)p->algo,
                         &p->ws));
      break;
    }
  }
  if (!ok) {
    plan_clear(p);
    return NULL;
  }
  p->used = ++cb->conv_clock;
  return p;
}

/* The plan and its workspace (NULL when it needs none); 0 after recording an error. */
static int conv_begin(mb_backend *be, const char *op, int kind, const mb_conv_args *a,
                      cu_conv_plan **plan, void **ws)
{
  if (!cu_begin(be, op)) return 0;
  if (!cu_of(be)->dnn) {   /* only a direct call gets here: the core composes instead */
    cu_fail(be, MB_UNSUPPORTED, op, "cuDNN did not start on this device");
    return 0;
  }
  *plan = conv_plan(be, op, kind, a);
  if (!*plan) return 0;
  *ws = NULL;
  if ((*plan)->ws) *ws = cu_scratch(be, op, (*plan)->ws);
  return !(*plan)->ws || *ws;
}

void cu_conv2d_fwd(mb_backend *be, const mb_conv_args *a)
{
  cu_conv_plan *p;
  void *ws;
  if (!conv_begin(be, "conv2d_fwd", CONV_FWD, a, &p, &ws)) return;
  const float one = 1.0f, zero = 0.0f;
  if (dnn_check(be, "conv2d_fwd", "cudnnConvolutionForward",
                cudnnConvolutionForward(cu_of(be)->dnn, &one, p->xd, cu_ptr(a->x), p->wd,
                                        cu_ptr(a->w), p->cd, (cudnnConvolutionFwdAlgo_t)p->algo,
                                        ws, p->ws, &zero, p->yd, cu_ptr(a->y))))
    cu_launched(be, "conv2d_fwd");
}

void cu_conv2d_bwd_data(mb_backend *be, const mb_conv_args *a)
{
  cu_conv_plan *p;
  void *ws;
  if (!conv_begin(be, "conv2d_bwd_data", CONV_BWD_DATA, a, &p, &ws)) return;
  const float one = 1.0f, beta = a->accumulate ? 1.0f : 0.0f;
  if (dnn_check(be, "conv2d_bwd_data", "cudnnConvolutionBackwardData",
                cudnnConvolutionBackwardData(cu_of(be)->dnn, &one, p->wd, cu_ptr(a->w), p->yd,
                                             cu_ptr(a->dy), p->cd,
                                             (cudnnConvolutionBwdDataAlgo_t)p->algo, ws, p->ws,
                                             &beta, p->xd, cu_ptr(a->dx))))
    cu_launched(be, "conv2d_bwd_data");
}

void cu_conv2d_bwd_filter(mb_backend *be, const mb_conv_args *a)
{
  cu_conv_plan *p;
  void *ws;
  if (!conv_begin(be, "conv2d_bwd_filter", CONV_BWD_FILTER, a, &p, &ws)) return;
  const float one = 1.0f, beta = a->beta;
  if (dnn_check(be, "conv2d_bwd_filter", "cudnnConvolutionBackwardFilter",
                cudnnConvolutionBackwardFilter(cu_of(be)->dnn, &one, p->xd, cu_ptr(a->x), p->yd,
                                               cu_ptr(a->dy), p->cd,
                                               (cudnnConvolutionBwdFilterAlgo_t)p->algo, ws,
                                               p->ws, &beta, p->wd, cu_ptr(a->dw))))
    cu_launched(be, "conv2d_bwd_filter");
}
