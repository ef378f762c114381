/* Optional convolution ops through oneDNN (built only with MB_HAVE_DNNL).
 *
 * Results must agree with the im2col + GEMM composition within the GEMM tolerance and be
 * the same bits on every run, so: f32 throughout, the direct algorithm only (no
 * Winograd, whose rounding error grows with the transform), and the thread count the
 * backend set (oneDNN's OpenMP build runs on the backend's libgomp team, and its
 * reductions are fixed for a fixed team size).
 *
 * The backend's tensors are plain NCHW / OIHW.  oneDNN's fast kernels want blocked
 * layouts (channels in groups of 8 or 16), so each primitive is created with the layouts
 * left to oneDNN, and reorders move the operands in and the result out around it.  A
 * reorder with a sum post-op also gives the accumulating forms: dx += … (bwd_data with
 * accumulate) and dw = beta·dw + … (bwd_filter).  Primitives and reorders are cached per
 * (op, geometry, accumulation) so a training step creates none; the blocked operands live
 * in three work buffers of the backend, grown as needed (ops run one at a time). */
#include "cpu_backend.h"

#include <dnnl.h>

#include <dlfcn.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CONV_FWD, CONV_BWD_DATA, CONV_BWD_FILTER };

/* Plans kept; ResNet-18 has ~11 convolution shapes per batch size, 3 ops each. */
#define DNN_CACHE 96

/* One operation: the convolution between two inputs and one output (fwd: x, w -> y;
 * bwd_data: dy, w -> dx; bwd_filter: x, dy -> dw), each operand either the caller's
 * memory itself or a work buffer with a reorder in front (inputs) or behind (output). */
typedef struct {
  int kind, cout;
  mb_conv_geom g;
  float sum;                  /* output = sum·output + result (0: output not read) */
  dnnl_primitive_t prim;
  int arg[3];                 /* DNNL_ARG_* of in0, in1, out */
  dnnl_memory_t mem[3];       /* the primitive's operands */
  dnnl_memory_t user[3];      /* the caller's plain tensors, where a reorder is needed */
  dnnl_primitive_t re[3];     /* user -> mem (inputs), mem -> user (output); NULL: none */
  size_t bytes[3];            /* work buffer size of a reordered operand */
  unsigned long used;
} dnn_plan;

struct cpu_dnn {
  dnnl_engine_t eng;
  dnnl_stream_t stream;
  dnn_plan plan[DNN_CACHE];
  unsigned long clock;
  void *work[3];
  size_t work_bytes[3];
};

/* libdnnl is opened at run time, not linked: Debian's build needs libOpenCL, and a host
 * without it must still run the cpu backend (on the generic path). */
#define DNN_FUNCS(X) \
  X(dnnl_convolution_backward_data_desc_init) \
  X(dnnl_convolution_backward_weights_desc_init) \
  X(dnnl_convolution_forward_desc_init) \
  X(dnnl_engine_create) \
  X(dnnl_engine_destroy) \
  X(dnnl_memory_create) \
  X(dnnl_memory_desc_equal) \
  X(dnnl_memory_desc_get_size) \
  X(dnnl_memory_desc_init_by_tag) \
  X(dnnl_memory_destroy) \
  X(dnnl_memory_set_data_handle) \
  X(dnnl_post_ops_append_sum) \
  X(dnnl_post_ops_create) \
  X(dnnl_post_ops_destroy) \
  X(dnnl_primitive_attr_create) \
  X(dnnl_primitive_attr_destroy) \
  X(dnnl_primitive_attr_set_post_ops) \
  X(dnnl_primitive_create) \
  X(dnnl_primitive_desc_create) \
  X(dnnl_primitive_desc_destroy) \
  X(dnnl_primitive_desc_query_md) \
  X(dnnl_primitive_destroy) \
  X(dnnl_primitive_execute) \
  X(dnnl_reorder_primitive_desc_create) \
  X(dnnl_stream_create) \
  X(dnnl_stream_destroy) \
  X(dnnl_stream_wait) \
  X(dnnl_version)

static struct {
  int tried;
  void *lib;
  char why[256];   /* why it did not load */
#define DNN_PTR(f) __typeof__(&f) f;
  DNN_FUNCS(DNN_PTR)
#undef DNN_PTR
} dl;

/* Loads libdnnl and its entry points once; 0 with a reason if it cannot. */
static int dnn_load(char *why, size_t why_len)
{
  if (!dl.tried) {
    dl.tried = 1;
    void *h = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char *e = dlerror();
      snprintf(dl.why, sizeof dl.why, "cpu: cannot load oneDNN: %.200s", e ? e : "libdnnl.so.2");
      goto out;
    }
#define DNN_SYM(f) *(void **)&dl.f = dlsym(h, #f); \
    if (!dl.f) { \
      snprintf(dl.why, sizeof dl.why, "cpu: oneDNN lacks %s", #f); \
      dlclose(h); \
      goto out; \
    }
    DNN_FUNCS(DNN_SYM)
#undef DNN_SYM
    dl.lib = h;
  }
out:
  if (!dl.lib) snprintf(why, why_len, "%s", dl.why);
  return dl.lib != NULL;
}

static int dnn_ok(mb_backend *be, const char *op, const char *call, dnnl_status_t st)
{
  if (st == dnnl_success) return 1;
  host_fail(be, st == dnnl_out_of_memory ? MB_OOM : MB_DEVICE_ERROR, "%s: oneDNN %s: status %d",
            op, call, (int)st);
  return 0;
}

static void plan_clear(dnn_plan *p)
{
  if (p->prim) (void)dl.dnnl_primitive_destroy(p->prim);
  for (int i = 0; i < 3; i++) {
    if (p->re[i]) (void)dl.dnnl_primitive_destroy(p->re[i]);
    if (p->mem[i]) (void)dl.dnnl_memory_destroy(p->mem[i]);
    if (p->user[i]) (void)dl.dnnl_memory_destroy(p->user[i]);
  }
  memset(p, 0, sizeof *p);
}

int cpu_dnn_open(cpu_backend *cb, char *why, size_t why_len)
{
  if (!dnn_load(why, why_len)) return 0;
  cpu_dnn *d = calloc(1, sizeof *d);
  if (!d) {
    snprintf(why, why_len, "cpu: out of host memory");
    return 0;
  }
  dnnl_status_t st = dl.dnnl_engine_create(&d->eng, dnnl_cpu, 0);
  if (st == dnnl_success) st = dl.dnnl_stream_create(&d->stream, d->eng, dnnl_stream_default_flags);
  if (st != dnnl_success) {
    snprintf(why, why_len, "cpu: oneDNN engine did not start (status %d)", (int)st);
    if (d->eng) (void)dl.dnnl_engine_destroy(d->eng);
    free(d);
    return 0;
  }
  cb->dnn = d;
  return 1;
}

const char *cpu_dnn_version(char *buf, size_t len)
{
  if (!dl.lib) return NULL;
  const dnnl_version_t *v = dl.dnnl_version();
  snprintf(buf, len, "%d.%d.%d", v->major, v->minor, v->patch);
  return buf;
}

void cpu_dnn_close(cpu_backend *cb)
{
  cpu_dnn *d = cb->dnn;
  if (!d) return;
  for (int i = 0; i < DNN_CACHE; i++) plan_clear(&d->plan[i]);
  for (int i = 0; i < 3; i++) free(d->work[i]);
  (void)dl.dnnl_stream_destroy(d->stream);
  (void)dl.dnnl_engine_destroy(d->eng);
  free(d);
  cb->dnn = NULL;
}

static int same_key(const dnn_plan *p, int kind, const mb_conv_args *a, float sum)
{
  const mb_conv_geom *g = &p->g, *h = &a->g;
  return p->prim && p->kind == kind && p->cout == a->cout && p->sum == sum && g->n == h->n &&
         g->c == h->c && g->h == h->h && g->w == h->w && g->kh == h->kh && g->kw == h->kw &&
         g->stride == h->stride && g->pad == h->pad && g->oh == h->oh && g->ow == h->ow;
}

/* The convolution's descriptor for one op; md[] are the layouts (plain or any). */
static dnnl_status_t conv_desc(dnnl_convolution_desc_t *cd, int kind, const mb_conv_geom *g,
                               const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *wei,
                               const dnnl_memory_desc_t *dst)
{
  /* Right padding: oneDNN checks oh = (h + pl + pr − kh)/stride + 1 rounded down, as
   * PyTorch and mb_conv_out do with pad on both sides. */
  const dnnl_dims_t strides = {g->stride, g->stride}, pad = {g->pad, g->pad};
  switch (kind) {
  case CONV_FWD:
    return dl.dnnl_convolution_forward_desc_init(cd, dnnl_forward_training, dnnl_convolution_direct,
                                              src, wei, NULL, dst, strides, pad, pad);
  case CONV_BWD_DATA:
    return dl.dnnl_convolution_backward_data_desc_init(cd, dnnl_convolution_direct, src, wei, dst,
                                                    strides, pad, pad);
  default:
    return dl.dnnl_convolution_backward_weights_desc_init(cd, dnnl_convolution_direct, src, wei, NULL,
                                                       dst, strides, pad, pad);
  }
}

/* A reorder from -> to, with to = sum·to + from when sum != 0. */
static dnnl_status_t make_reorder(cpu_dnn *d, const dnnl_memory_desc_t *from,
                                  const dnnl_memory_desc_t *to, float sum, dnnl_primitive_t *out)
{
  dnnl_primitive_attr_t attr = NULL;
  dnnl_post_ops_t po = NULL;
  dnnl_primitive_desc_t pd = NULL;
  dnnl_status_t st = dl.dnnl_primitive_attr_create(&attr);
  if (st == dnnl_success && sum != 0.0f) {
    st = dl.dnnl_post_ops_create(&po);
    if (st == dnnl_success) st = dl.dnnl_post_ops_append_sum(po, sum);
    if (st == dnnl_success) st = dl.dnnl_primitive_attr_set_post_ops(attr, po);
  }
  if (st == dnnl_success) st = dl.dnnl_reorder_primitive_desc_create(&pd, from, d->eng, to, d->eng, attr);
  if (st == dnnl_success) st = dl.dnnl_primitive_create(out, pd);
  if (pd) (void)dl.dnnl_primitive_desc_destroy(pd);
  if (po) (void)dl.dnnl_post_ops_destroy(po);
  if (attr) (void)dl.dnnl_primitive_attr_destroy(attr);
  return st;
}

/* Builds plan p for (kind, a, sum): the primitive with oneDNN's preferred layouts and the
 * reorders that its layouts need.  Returns a oneDNN status; *call names the failing call. */
static dnnl_status_t plan_build(cpu_dnn *d, dnn_plan *p, int kind, const mb_conv_args *a, float sum,
                                const char **call)
{
  const mb_conv_geom *g = &a->g;
  const dnnl_dims_t xd = {g->n, g->c, g->h, g->w}, yd = {g->n, a->cout, g->oh, g->ow},
                    wd = {a->cout, g->c, g->kh, g->kw};
  dnnl_memory_desc_t x_plain, y_plain, w_plain, x_any, y_any, w_any;
  dnnl_status_t st;
  *call = "memory_desc_init_by_tag";
  if ((st = dl.dnnl_memory_desc_init_by_tag(&x_plain, 4, xd, dnnl_f32, dnnl_nchw)) ||
      (st = dl.dnnl_memory_desc_init_by_tag(&y_plain, 4, yd, dnnl_f32, dnnl_nchw)) ||
      (st = dl.dnnl_memory_desc_init_by_tag(&w_plain, 4, wd, dnnl_f32, dnnl_oihw)) ||
      (st = dl.dnnl_memory_desc_init_by_tag(&x_any, 4, xd, dnnl_f32, dnnl_format_tag_any)) ||
      (st = dl.dnnl_memory_desc_init_by_tag(&y_any, 4, yd, dnnl_f32, dnnl_format_tag_any)) ||
      (st = dl.dnnl_memory_desc_init_by_tag(&w_any, 4, wd, dnnl_f32, dnnl_format_tag_any)))
    return st;

  /* Backward primitives take the forward one as a hint. */
  dnnl_convolution_desc_t fwd_d, cd;
  dnnl_primitive_desc_t hint = NULL, pd = NULL;
  *call = "convolution desc";
  if (kind != CONV_FWD) {
    if ((st = conv_desc(&fwd_d, CONV_FWD, g, &x_any, &w_any, &y_any))) return st;
    *call = "primitive_desc_create (forward hint)";
    if ((st = dl.dnnl_primitive_desc_create(&hint, &fwd_d, NULL, d->eng, NULL))) return st;
  }
  /* operands in0, in1, out of each op, and their plain layouts */
  static const int args[3][3] = {
    {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
    {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC},
    {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS},
  };
  static const dnnl_query_t queries[3][3] = {
    {dnnl_query_src_md, dnnl_query_weights_md, dnnl_query_dst_md},
    {dnnl_query_diff_dst_md, dnnl_query_weights_md, dnnl_query_diff_src_md},
    {dnnl_query_src_md, dnnl_query_diff_dst_md, dnnl_query_diff_weights_md},
  };
  const dnnl_memory_desc_t *plain[3][3] = {
    {&x_plain, &w_plain, &y_plain},
    {&y_plain, &w_plain, &x_plain},
    {&x_plain, &y_plain, &w_plain},
  };
  *call = "convolution desc";
  st = conv_desc(&cd, kind, g, &x_any, &w_any, &y_any);
  if (st == dnnl_success) {
    *call = "primitive_desc_create";
    st = dl.dnnl_primitive_desc_create(&pd, &cd, NULL, d->eng, hint);
  }
  if (st == dnnl_success) {
    *call = "primitive_create";
    st = dl.dnnl_primitive_create(&p->prim, pd);
  }
  for (int i = 0; i < 3 && st == dnnl_success; i++) {
    const dnnl_memory_desc_t *md = dl.dnnl_primitive_desc_query_md(pd, queries[kind][i], 0);
    p->arg[i] = args[kind][i];
    *call = "memory_create";
    if (!md) {
      st = dnnl_runtime_error;
      break;
    }
    st = dl.dnnl_memory_create(&p->mem[i], md, d->eng, DNNL_MEMORY_NONE);
    /* the output is reordered also to accumulate */
    int same = dl.dnnl_memory_desc_equal(md, plain[kind][i]);
    if (st != dnnl_success || (same && (i < 2 || sum == 0.0f))) continue;
    p->bytes[i] = dl.dnnl_memory_desc_get_size(md);
    *call = "memory_create (plain)";
    st = dl.dnnl_memory_create(&p->user[i], plain[kind][i], d->eng, DNNL_MEMORY_NONE);
    *call = "reorder";
    if (st == dnnl_success)
      st = i < 2 ? make_reorder(d, plain[kind][i], md, 0.0f, &p->re[i])
                 : make_reorder(d, md, plain[kind][i], sum, &p->re[i]);
  }
  if (pd) (void)dl.dnnl_primitive_desc_destroy(pd);
  if (hint) (void)dl.dnnl_primitive_desc_destroy(hint);
  return st;
}

/* The cached plan of (kind, geometry, sum), built on a miss; NULL after recording an error. */
static dnn_plan *get_plan(mb_backend *be, const char *op, int kind, const mb_conv_args *a, float sum)
{
  cpu_dnn *d = ((cpu_backend *)be)->dnn;
  dnn_plan *victim = &d->plan[0];
  for (int i = 0; i < DNN_CACHE; i++) {
    dnn_plan *p = &d->plan[i];
    if (same_key(p, kind, a, sum)) {
      p->used = ++d->clock;
      return p;
    }
    if (!p->prim || (victim->prim && p->used < victim->used)) victim = p;
  }
  plan_clear(victim);
  dnn_plan *p = victim;
  const char *call = "";
  dnnl_status_t st = plan_build(d, p, kind, a, sum, &call);
  if (!dnn_ok(be, op, call, st)) {
    plan_clear(p);
    return NULL;
  }
  p->kind = kind;
  p->cout = a->cout;
  p->g = a->g;
  p->sum = sum;
  p->used = ++d->clock;
  return p;
}

/* Work buffer i of at least n bytes; NULL after recording an error. */
static void *work(mb_backend *be, const char *op, int i, size_t n)
{
  cpu_dnn *d = ((cpu_backend *)be)->dnn;
  if (d->work_bytes[i] >= n) return d->work[i];
  free(d->work[i]);
  d->work_bytes[i] = 0;
  n = (n + 4095) & ~(size_t)4095;
  d->work[i] = aligned_alloc(64, n);
  if (!d->work[i]) {
    host_fail(be, MB_OOM, "%s: no host memory for %zu bytes of oneDNN operands", op, n);
    return NULL;
  }
  d->work_bytes[i] = n;
  return d->work[i];
}

static int run(mb_backend *be, const char *op, dnnl_primitive_t prim, int nargs,
               const dnnl_exec_arg_t *args)
{
  cpu_dnn *d = ((cpu_backend *)be)->dnn;
  return dnn_ok(be, op, "primitive_execute", dl.dnnl_primitive_execute(prim, d->stream, nargs, args));
}

/* Runs one op: reorders in, the convolution, the reorder out. */
static void conv_exec(mb_backend *be, const char *op, int kind, const mb_conv_args *a, float sum,
                      mb_view in0, mb_view in1, mb_view out)
{
  if (be->status != MB_OK) return;
  cpu_dnn *d = ((cpu_backend *)be)->dnn;
  if (!d) {   /* only a direct call gets here: the core composes instead */
    host_fail(be, MB_UNSUPPORTED, "%s: oneDNN did not start", op);
    return;
  }
  dnn_plan *p = get_plan(be, op, kind, a, sum);
  if (!p) return;
  float *ptr[3] = {host_f32(in0), host_f32(in1), host_f32(out)};
  for (int i = 0; i < 3; i++) {
    void *buf = ptr[i];
    if (p->re[i]) {
      buf = work(be, op, i, p->bytes[i]);
      if (!buf) return;
      if (!dnn_ok(be, op, "memory_set_data_handle", dl.dnnl_memory_set_data_handle(p->user[i], ptr[i])))
        return;
    }
    if (!dnn_ok(be, op, "memory_set_data_handle", dl.dnnl_memory_set_data_handle(p->mem[i], buf)))
      return;
  }
  for (int i = 0; i < 2; i++) {
    if (!p->re[i]) continue;
    dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, p->user[i]}, {DNNL_ARG_TO, p->mem[i]}};
    if (!run(be, op, p->re[i], 2, ra)) return;
  }
  dnnl_exec_arg_t ca[3] = {{p->arg[0], p->mem[0]}, {p->arg[1], p->mem[1]}, {p->arg[2], p->mem[2]}};
  if (!run(be, op, p->prim, 3, ca)) return;
  if (p->re[2]) {
    dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, p->mem[2]}, {DNNL_ARG_TO, p->user[2]}};
    if (!run(be, op, p->re[2], 2, ra)) return;
  }
  (void)dnn_ok(be, op, "stream_wait", dl.dnnl_stream_wait(d->stream));
}

void cpu_conv2d_fwd(mb_backend *be, const mb_conv_args *a)
{
  conv_exec(be, "conv2d_fwd", CONV_FWD, a, 0.0f, a->x, a->w, a->y);
}

void cpu_conv2d_bwd_data(mb_backend *be, const mb_conv_args *a)
{
  conv_exec(be, "conv2d_bwd_data", CONV_BWD_DATA, a, a->accumulate ? 1.0f : 0.0f, a->dy, a->w,
            a->dx);
}

void cpu_conv2d_bwd_filter(mb_backend *be, const mb_conv_args *a)
{
  /* beta 0: dw is not read (it may hold NaN), so no sum post-op */
  conv_exec(be, "conv2d_bwd_filter", CONV_BWD_FILTER, a, a->beta, a->x, a->dy, a->dw);
}
