/* Private declarations shared by the files of the cpu backend (OpenBLAS + OpenMP). */
#ifndef MB_CPU_BACKEND_H
#define MB_CPU_BACKEND_H

#include "host_backend.h"
#include "norm_runs.h"

#include <stdint.h>

#ifdef _OPENMP
#include <omp.h>
/* CPU_OMP(omp parallel for ...) becomes the pragma, or nothing without OpenMP. */
#define CPU_OMP(...) _Pragma(#__VA_ARGS__)
#else
#define CPU_OMP(...)
#endif

/* Below this many elements a loop stays on one thread: an element costs ~0.5 ns, and
 * starting the team costs microseconds (tens when the workers must be woken, e.g.
 * with OMP_WAIT_POLICY=passive or on a busy machine). */
#define CPU_PAR_MIN ((size_t)1 << 16)

/* The same for loops that call logf/expf per element (several ns each): a team
 * pays for itself from a few thousand elements. */
#define CPU_PAR_MIN_MATH ((size_t)1 << 12)

typedef struct cpu_dnn cpu_dnn;   /* oneDNN engine, plans and work buffers (conv.c) */

typedef struct {
  mb_backend base;
  int threads;
  cpu_dnn *dnn;   /* NULL without oneDNN */
  const cpu_norm_runs *norm;   /* batch and layer norm loops for this CPU's ISA */
} cpu_backend;

extern const mb_backend_ops mb_cpu_ops;

static inline int cpu_is_none(mb_view v) { return v.buf == NULL; }

/* The required ops of mb/ops.def, as cpu_<op>. */
#define MB_OPS_PREFIX cpu_
#include "mb/ops_impl.h"
/* Optional ops (forget.c, gemm.c). */
void cpu_forget_update(mb_backend *be, const mb_forget_args *a);
void cpu_gemm_sq_acc(mb_backend *be, const mb_gemm_sq_args *a);
#ifdef MB_HAVE_DNNL
/* Optional ops through oneDNN (conv.c, libdnnl opened at run time); open returns 0 with a
 * reason if it cannot load or start. */
int cpu_dnn_open(cpu_backend *cb, char *why, size_t why_len);
void cpu_dnn_close(cpu_backend *cb);
const char *cpu_dnn_version(char *buf, size_t len);   /* "2.6.3", or NULL when not loaded */
void cpu_conv2d_fwd(mb_backend *be, const mb_conv_args *a);
void cpu_conv2d_bwd_data(mb_backend *be, const mb_conv_args *a);
void cpu_conv2d_bwd_filter(mb_backend *be, const mb_conv_args *a);
#endif


#endif
