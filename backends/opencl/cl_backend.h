/* OpenCL backend internals shared by its files (not part of the public API). */
#ifndef MB_CL_BACKEND_H
#define MB_CL_BACKEND_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include "mb/backend.h"

/* Kernel source families: one .cl file and one program each, same stems as the
 * other backends' op files.  X(ID, stem): MB_CL_<ID>, kernels/opencl/<stem>.cl,
 * embedded as mb_cl_<stem> (meson.build lists the same files for embed.py). */
#define MB_CL_FAMILIES(X) \
  X(ELTWISE, eltwise) X(REDUCE, reduce) X(LOSS, loss) X(GATHER, gather) X(OPTIM, optim) \
  X(RNG, rng) X(IM2COL, im2col) X(NORM, norm) X(POOL, pool) X(FORGET, forget)

typedef enum {
#define MB_CL_FAMILY_ID(id, stem) MB_CL_##id,
  MB_CL_FAMILIES(MB_CL_FAMILY_ID)
#undef MB_CL_FAMILY_ID
  MB_CL_NFAMILY
} mb_cl_family_id;

#define MB_CL_MAX_KERNELS 32   /* per family (eltwise has the most: 28) */
#define MB_CL_SEG_CACHE 8      /* segment tables kept on the device */
#define MB_CL_SEG_CHUNK 8192   /* elements per work-group in segmented reductions */

typedef struct {
  const char *name;
  cl_kernel kernel;
  size_t local;            /* work-group size to launch with (a power of two) */
} mb_cl_kernel_slot;

typedef struct {
  cl_program program;      /* built on first use, once per instance */
  int built;
  int nkernels;
  mb_cl_kernel_slot kernels[MB_CL_MAX_KERNELS];
} mb_cl_family;

/* A segment offset table on the device, keyed by its host contents:
 * [offs: nseg+1][first chunk of each segment: nseg+1][chunk ranges: 2*nchunks], all u64. */
typedef struct {
  size_t *offs;            /* host copy (nseg+1), NULL when the slot is empty */
  int nseg;
  size_t nchunks;
  cl_mem table;
  unsigned long last_use;
} mb_cl_segs;

typedef struct {
  mb_backend base;         /* first: the core sees an mb_backend */
  cl_platform_id platform;
  cl_device_id device;
  cl_context ctx;
  cl_command_queue queue;  /* in order, profiling enabled */
  size_t wg;               /* default work-group size: a power of two */
  size_t max_groups;       /* launch cap; grid-stride loops cover the rest */
  int fp32_div_sqrt_cr;    /* device offers correctly rounded f32 divide and sqrt */
  mb_cl_family fam[MB_CL_NFAMILY];
  mb_cl_segs segs[MB_CL_SEG_CACHE];
  unsigned long seg_clock;
  cl_mem scratch;          /* segmented-reduction partials, grown on demand */
  size_t scratch_bytes;
} mb_cl;

typedef struct {
  mb_buf base;             /* first: the core sees an mb_buf */
  cl_mem mem;
} mb_cl_buf;

extern const mb_backend_ops mb_opencl_ops;

static inline mb_cl *mb_cl_of(mb_backend *be) { return (mb_cl *)be; }
static inline cl_mem mb_cl_mem(mb_view v) { return v.buf ? ((mb_cl_buf *)v.buf)->mem : NULL; }

/* errors (cl_backend.c): the first failure wins and sticks */
void mb_cl_fail(mb_cl *cl, mb_status st, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
/* Records "op: call: NAME (code)" unless err is CL_SUCCESS; returns err == CL_SUCCESS. */
int mb_cl_check(mb_cl *cl, cl_int err, const char *op, const char *call);
static inline int mb_cl_ok(const mb_cl *cl) { return cl->base.status == MB_OK; }

/* devices (cl_device.c) */
const char *mb_cl_errstr(cl_int err);
int mb_cl_device_count(char *why, size_t why_len);
mb_status mb_cl_find_device(int index, cl_platform_id *platform, cl_device_id *device, char *why,
                            size_t why_len);
void mb_cl_device_info(cl_platform_id platform, cl_device_id device, mb_device_info *info);
/* "OpenCL X.Y ..." as 10*X + Y; 0 if unreadable. */
int mb_cl_device_version(cl_device_id device);

/* programs, kernels and launches (cl_program.c) */
const mb_cl_kernel_slot *mb_cl_kernel(mb_cl *cl, mb_cl_family_id fam, const char *name);
void mb_cl_release_programs(mb_cl *cl);

/* Kernel arguments are set in order; the first failure is kept for mb_cl_launch. */
typedef struct {
  mb_cl *cl;
  const mb_cl_kernel_slot *ks;
  cl_uint next;
  cl_int err;
} mb_cl_args;

mb_cl_args mb_cl_begin(mb_cl *cl, mb_cl_family_id fam, const char *name);
void mb_cl_arg(mb_cl_args *a, size_t size, const void *value);
void mb_cl_arg_view(mb_cl_args *a, mb_view v);      /* buffer, then its u64 element offset */
void mb_cl_arg_mem(mb_cl_args *a, cl_mem m);
void mb_cl_arg_u64(mb_cl_args *a, uint64_t v);
void mb_cl_arg_i32(mb_cl_args *a, int v);
void mb_cl_arg_f32(mb_cl_args *a, float v);
void mb_cl_arg_local(mb_cl_args *a, size_t bytes);
/* Enqueues `groups` work-groups of `local` items (local 0: the kernel's default). */
void mb_cl_launch(mb_cl_args *a, const char *op, size_t groups, size_t local);
/* Work-groups for a grid-stride kernel over n items: ceil(n/local), capped. */
size_t mb_cl_groups(const mb_cl *cl, size_t n, size_t local);
/* Largest power of two <= v (1 when v < 2). */
size_t mb_cl_pow2_floor(size_t v);
/* Work-items of a one-group-per-row kernel: the smallest power of two covering the row,
 * at most the kernel's default. */
static inline size_t mb_cl_row_local(const mb_cl_kernel_slot *ks, int cols)
{
  size_t local = 1;
  while (local < (size_t)cols && local < ks->local) local *= 2;
  return local;
}

/* ops (one file per family): the required ops of mb/ops.def, as mb_opencl_<op> */
#define MB_OPS_PREFIX mb_opencl_
#include "mb/ops_impl.h"
void mb_cl_release_segs(mb_cl *cl);   /* reduce.c: the cached segment tables */
/* reduce.c: the device table of the segments offs[0..nseg] (layout: mb_cl_segs), cached by
 * contents; NULL after a recorded failure. */
const mb_cl_segs *mb_cl_seg_table(mb_cl *cl, const size_t *offs, int nseg, const char *op);
/* forget.c: the optional fused forgetting update (kernels/opencl/forget.cl) */
void mb_opencl_forget_update(mb_backend *be, const mb_forget_args *a);
/* reduce.c: the device scratch buffer (partial sums), at least `bytes`, grown on demand;
 * NULL after a recorded failure.  The in-order queue makes reuse across launches safe. */
cl_mem mb_cl_scratch(mb_cl *cl, size_t bytes, const char *op);


#endif
