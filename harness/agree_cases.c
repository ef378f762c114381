/* The agreement cases: one family per op of the op table (what it allocates and
 * calls), then the case table itself.  Shapes come from the real workloads (MLP
 * 784→1000→10, ResNet-18 convs) plus odd sizes that are no multiple of any
 * workgroup or tile, and launch dimensions above 65535. */
#include "harness/agree.h"

#include "core/conv.h"
#include "core/forget_mnemonic.h"
#include "core/ops.h"
#include "philox.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================ plan helpers */

static const agree_gen k_none = {AGREE_GEN_NONE, 0, 0};

static int add_arg(agree_plan *p, const char *name, size_t n, agree_gen gen, int out, int bits)
{
  agree_arg a = {name, n, gen, out, bits, -1, 0};
  p->arg[p->nargs] = a;
  return p->nargs++;
}

static int add_in(agree_plan *p, const char *name, size_t n, agree_gen gen)
{
  return add_arg(p, name, n, gen, 0, 0);
}

static int add_out(agree_plan *p, const char *name, size_t n, int bits)
{
  return add_arg(p, name, n, k_none, 1, bits);
}

/* The output y: its own buffer, or (AGREE_ALIAS) the view of input x. */
static int add_result(agree_plan *p, const agree_case *c, const char *name, size_t n, int bits,
                      int x)
{
  int y = add_out(p, name, n, bits);
  if (c->flags & AGREE_ALIAS) p->arg[y].alias_of = x;
  return y;
}

static agree_gen gen_or(agree_gen g, agree_gen fallback)
{
  return g.kind == AGREE_GEN_NONE ? fallback : g;
}

/* ================================================================ memory */

enum { MEM_FILL, MEM_COPY, MEM_ROUNDTRIP };

static void mem_plan(const agree_case *c, agree_plan *p)
{
  agree_gen bits = {AGREE_GEN_BITS, 0, 0};
  if (c->op != MEM_FILL) add_in(p, "x", c->mem.n, bits);
  add_out(p, "y", c->mem.n, 1);
}

/* Host round trip in two pieces split at an odd place, so partial transfers at
 * inner offsets are exercised too. */
static void roundtrip(mb_backend *be, mb_view x, mb_view y, size_t n)
{
  uint32_t *tmp = malloc(n * 4);
  if (!tmp) {
    mb_fail(be, MB_OOM, "roundtrip: no host memory for %zu elements", n);
    return;
  }
  size_t h = n / 3;
  mb_download(be, tmp, x, h);
  mb_download(be, tmp + h, mb_at(x, h), n - h);
  mb_upload(be, mb_at(y, h), tmp + h, n - h);
  mb_upload(be, y, tmp, h);
  free(tmp);
}

static void mem_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  if (c->op == MEM_FILL) mb_fill_u32(be, v[0], c->mem.n, c->mem.bits);
  else if (c->op == MEM_COPY) mb_copy(be, v[1], v[0], c->mem.n);
  else roundtrip(be, v[0], v[1], c->mem.n);
}

static const agree_family fam_mem = {"mem", mem_plan, mem_run, NULL, NULL};

/* ================================================================ sync and timers */

/* A fill between two timer marks: after sync the time must be readable where the
 * backend claims a device timer, and plausible everywhere. */
static void timer_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_timer *t = mb_timer_begin(be);
  mb_fill_u32(be, v[0], c->mem.n, c->mem.bits);
  mb_timer_end(be, t);
  mb_sync(be);
  double ms = mb_timer_ms(be, t);
  mb_timer_free(be, t);
  if (!mb_ok(be)) return;
  if (be->info.has_device_timer && !(ms >= 0.0))
    mb_fail(be, MB_DEVICE_ERROR, "timer: has_device_timer is set but timer_ms gave %g", ms);
  else if (ms > 60000.0)
    mb_fail(be, MB_DEVICE_ERROR, "timer: implausible %g ms for one fill", ms);
}

static const agree_family fam_timer = {"timer", mem_plan, timer_run, NULL, NULL};

/* ================================================================ gemm */

typedef struct { int lda, ldb, ldc; long sa, sb, sc; size_t na, nb, nc; } gemm_layout;

static size_t span(long rows, long cols, long ld) { return (size_t)((rows - 1) * ld + cols); }

static gemm_layout gemm_layout_of(const agree_gemm_shape *g)
{
  gemm_layout l;
  long ar = g->ta ? g->k : g->m, ac = g->ta ? g->m : g->k;
  long br = g->tb ? g->n : g->k, bc = g->tb ? g->k : g->n;
  l.lda = (int)ac + g->ld_pad;
  l.ldb = (int)bc + g->ld_pad;
  l.ldc = g->n + g->ld_pad;
  l.sa = (long)span(ar, ac, l.lda) + g->stride_pad;
  l.sb = (long)span(br, bc, l.ldb) + g->stride_pad;
  l.sc = (long)span(g->m, g->n, l.ldc) + g->stride_pad;
  size_t last = (size_t)g->batch - 1;
  l.na = last * (size_t)l.sa + span(ar, ac, l.lda);
  l.nb = last * (size_t)l.sb + span(br, bc, l.ldb);
  l.nc = last * (size_t)l.sc + span(g->m, g->n, l.ldc);
  return l;
}

static void gemm_plan(const agree_case *c, agree_plan *p)
{
  gemm_layout l = gemm_layout_of(&c->gemm);
  add_in(p, "A", l.na, c->gen);
  add_in(p, "B", l.nb, c->gen2);
  /* beta == 0: C starts as NaN, which must not reach the result. */
  int ci = add_out(p, "C", l.nc, 0);
  if (c->gemm.beta != 0.0f) p->arg[ci].gen = c->gen;
}

static void gemm_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  const agree_gemm_shape *g = &c->gemm;
  gemm_layout l = gemm_layout_of(g);
  mb_gemm_args a = {
    .trans_a = g->ta, .trans_b = g->tb, .m = g->m, .n = g->n, .k = g->k,
    .alpha = g->alpha, .beta = g->beta, .a = v[0], .b = v[1], .c = v[2],
    .lda = l.lda, .ldb = l.ldb, .ldc = l.ldc,
    .batch = g->batch, .stride_a = l.sa, .stride_b = l.sb, .stride_c = l.sc,
  };
  mb_gemm(be, &a);
}

static const agree_family fam_gemm = {"gemm", gemm_plan, gemm_run, NULL, NULL};

/* ================================================================ elementwise */

static void unary_plan(const agree_case *c, agree_plan *p)
{
  int x = add_in(p, "x", c->elt.n, c->gen);
  add_result(p, c, "y", c->elt.n, 0, x);
}

static void unary_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_unary(be, (mb_unary_op)c->op, v[0], v[1], c->elt.n, c->elt.a, c->elt.b);
}

static void binary_plan(const agree_case *c, agree_plan *p)
{
  int x1 = add_in(p, "x1", c->elt.n, c->gen);
  add_in(p, "x2", c->elt.n, gen_or(c->gen2, c->gen));
  add_result(p, c, "y", c->elt.n, 0, x1);
}

static void binary_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_binary(be, (mb_binary_op)c->op, v[0], v[1], v[2], c->elt.n, c->elt.a, c->elt.b);
}

static void where_plan(const agree_case *c, agree_plan *p)
{
  agree_gen cond = {AGREE_GEN_COND, 0, 0};
  add_in(p, "cond", c->elt.n, cond);
  int x1 = add_in(p, "x1", c->elt.n, c->gen);
  add_in(p, "x2", c->elt.n, gen_or(c->gen2, c->gen));
  add_result(p, c, "y", c->elt.n, 0, x1);
}

static void where_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_where(be, v[0], v[1], v[2], v[3], c->elt.n);
}

static void bcast_plan(const agree_case *c, agree_plan *p)
{
  size_t n = c->d3.outer * c->d3.mid * c->d3.inner;
  int x = add_in(p, "x", n, c->gen);
  add_in(p, "v", c->d3.mid, gen_or(c->gen2, c->gen));
  add_result(p, c, "y", n, 0, x);
}

static void bcast_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_bcast(be, (mb_bcast_op)c->op, v[0], v[1], v[2], c->d3.outer, c->d3.mid, c->d3.inner);
}

static const agree_family fam_unary = {"unary", unary_plan, unary_run, NULL, NULL};
static const agree_family fam_binary = {"binary", binary_plan, binary_run, NULL, NULL};
static const agree_family fam_where = {"where", where_plan, where_run, NULL, NULL};
static const agree_family fam_bcast = {"bcast", bcast_plan, bcast_run, NULL, NULL};

/* ================================================================ reductions */

static void reduce_plan(const agree_case *c, agree_plan *p)
{
  add_in(p, "x", c->d3.outer * c->d3.mid * c->d3.inner, c->gen);
  add_out(p, "y", c->d3.outer * c->d3.inner, c->op == MB_RED_ARGMAX);
}

static void reduce_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_reduce(be, (mb_reduce_op)c->op, v[0], v[1], c->d3.outer, c->d3.mid, c->d3.inner);
}

/* The case's offsets, or nseg uniform segments built into *tmp (freed by the caller). */
static const size_t *seg_offsets(const agree_case *c, size_t **tmp)
{
  *tmp = NULL;
  if (c->seg.offs) return c->seg.offs;
  *tmp = malloc(((size_t)c->seg.nseg + 1) * sizeof **tmp);
  if (*tmp)
    for (int s = 0; s <= c->seg.nseg; s++) (*tmp)[s] = (size_t)s * c->seg.len;
  return *tmp;
}

static size_t seg_total(const agree_case *c)
{
  return c->seg.offs ? c->seg.offs[c->seg.nseg] : (size_t)c->seg.nseg * c->seg.len;
}

static void seg_reduce_plan(const agree_case *c, agree_plan *p)
{
  add_in(p, "x", seg_total(c), c->gen);
  add_out(p, "y", (size_t)c->seg.nseg, 0);
}

static void seg_reduce_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  size_t *tmp;
  const size_t *offs = seg_offsets(c, &tmp);
  if (offs) mb_seg_reduce(be, (mb_reduce_op)c->op, v[0], v[1], offs, c->seg.nseg);
  else mb_fail(be, MB_OOM, "seg_reduce case: no host memory for offsets");
  free(tmp);
}

static void seg_bcast_plan(const agree_case *c, agree_plan *p)
{
  int x = add_in(p, "x", seg_total(c), c->gen);
  add_in(p, "v", (size_t)c->seg.nseg, gen_or(c->gen2, c->gen));
  add_result(p, c, "y", seg_total(c), 0, x);
}

static void seg_bcast_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  size_t *tmp;
  const size_t *offs = seg_offsets(c, &tmp);
  if (offs) mb_seg_bcast(be, (mb_segbcast_op)c->op, v[0], v[1], v[2], offs, c->seg.nseg);
  else mb_fail(be, MB_OOM, "seg_bcast case: no host memory for offsets");
  free(tmp);
}

static const agree_family fam_reduce = {"reduce", reduce_plan, reduce_run, NULL, NULL};
static const agree_family fam_seg_reduce = {"seg_reduce", seg_reduce_plan, seg_reduce_run, NULL,
                                            NULL};
static const agree_family fam_seg_bcast = {"seg_bcast", seg_bcast_plan, seg_bcast_run, NULL,
                                           NULL};

/* ================================================================ softmax_xent */

/* Arguments: logits, labels, loss, dlogits, probs (absent ones are null views). */
static void xent_plan(const agree_case *c, agree_plan *p)
{
  const agree_xent_shape *s = &c->xent;
  size_t rc = (size_t)s->rows * (size_t)s->cols;
  agree_gen labels = {AGREE_GEN_INDEX, 0, (float)s->cols};
  int lg = add_in(p, "logits", rc, c->gen);
  add_in(p, "labels", (size_t)s->rows, labels);
  add_out(p, "loss", (size_t)s->rows, 0);
  int d = add_out(p, "dlogits", rc, 0);
  add_out(p, "probs", rc, 0);
  p->arg[2].none = !(s->outputs & AGREE_XENT_LOSS);
  p->arg[3].none = !(s->outputs & AGREE_XENT_DLOGITS);
  p->arg[4].none = !(s->outputs & AGREE_XENT_PROBS);
  if (c->flags & AGREE_ALIAS) p->arg[d].alias_of = lg;
}

static void xent_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_xent_args a = {
    .rows = c->xent.rows, .cols = c->xent.cols, .logits = v[0], .labels = v[1],
    .loss = v[2], .dlogits = v[3], .probs = v[4], .scale = c->xent.scale,
  };
  mb_softmax_xent(be, &a);
}

static const agree_family fam_xent = {"softmax_xent", xent_plan, xent_run, NULL, NULL};

/* ================================================================ gather_rows */

static void gather_plan(const agree_case *c, agree_plan *p)
{
  const agree_gather_shape *s = &c->gather;
  size_t src = (size_t)s->n_src_rows * (size_t)s->row_len;
  agree_gen bits = {AGREE_GEN_BITS, 0, 0};
  /* A few indices fall outside [0, n_src_rows) on both sides: zero rows. */
  agree_gen idx = {AGREE_GEN_INDEX, -2.0f, (float)s->n_src_rows + 2.0f};
  add_in(p, "src", s->src_u8 ? (src + 3) / 4 : src, bits);
  add_in(p, "idx", (size_t)s->n_rows, idx);
  add_out(p, "dst", (size_t)s->n_rows * (size_t)s->row_len, !s->src_u8);
}

static void gather_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  const agree_gather_shape *s = &c->gather;
  mb_gather_args a = {
    .src = v[0], .idx = v[1], .dst = v[2], .n_rows = s->n_rows, .row_len = s->row_len,
    .n_src_rows = s->n_src_rows, .src_u8 = s->src_u8, .scale = s->scale,
  };
  mb_gather_rows(be, &a);
}

static const agree_family fam_gather = {"gather_rows", gather_plan, gather_run, NULL, NULL};

/* ================================================================ optim */

/* Arguments w, g, m, v; SGD passes v as the null view. */
static void optim_plan(const agree_case *c, agree_plan *p)
{
  const agree_optim_shape *s = &c->optim;
  agree_gen g = {AGREE_GEN_NORMAL, 0.0f, 0.1f}, m = {AGREE_GEN_NORMAL, 0.0f, 0.01f};
  agree_gen v = {AGREE_GEN_UNIFORM, 0.0f, 1e-3f};
  int adam = c->op == MB_OPT_ADAM;
  int w = add_in(p, "w", s->n, c->gen);
  p->arg[w].out = 1;
  add_in(p, "g", s->n, g);
  /* The first SGD step must not read m: it starts as NaN. */
  add_arg(p, "m", s->n, !adam && s->first_step ? k_none : m, 1, 0);
  int vi = add_arg(p, "v", s->n, v, 1, 0);
  p->arg[vi].none = !adam;
}

static void optim_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  const agree_optim_shape *s = &c->optim;
  mb_optim_args a = {
    .kind = (mb_optim_kind)c->op, .w = v[0], .g = v[1], .m = v[2], .v = v[3], .n = s->n,
    .lr = s->lr, .weight_decay = s->wd, .momentum = s->momentum, .dampening = s->dampening,
    .first_step = s->first_step, .beta1 = s->beta1, .beta2 = s->beta2, .eps = s->eps, .t = s->t,
  };
  mb_optim(be, &a);
}

static const agree_family fam_optim = {"optim", optim_plan, optim_run, NULL, NULL};

/* ================================================================ rng */

static void rng_plan(const agree_case *c, agree_plan *p)
{
  add_out(p, "y", c->rng.n, c->op != MB_RNG_NORMAL);
}

/* The case seed keeps its high bits, so the key's upper word is exercised. */
static void rng_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  mb_rng(be, (mb_rng_dist)c->op, seed, c->rng.stream, v[0], c->rng.n, c->rng.p0, c->rng.p1);
}

/* philox.h's stream mapping, straight from the host functions. */
static float host_rng(const agree_case *c, uint64_t seed, size_t i, uint32_t *bits)
{
  const agree_rng_shape *s = &c->rng;
  if (c->op != MB_RNG_NORMAL) {
    uint32_t w = mb_philox_u32(seed, s->stream, i);
    *bits = w;
    float u = mb_u32_to_unit(w);
    float y = s->p0 + (s->p1 - s->p0) * u;
    if (c->op == MB_RNG_UNIFORM) memcpy(bits, &y, 4);
    return y;
  }
  uint32_t w[4];
  mb_philox_block(seed, s->stream, i / 2, w);
  size_t q = (i % 2) * 2;
  double u1 = ((double)(w[q] >> 8) + 1.0) * (1.0 / 16777216.0);
  double u2 = (double)(w[q + 1] >> 8) * (1.0 / 16777216.0);
  double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
  float y = (float)(s->p0 + s->p1 * z);
  memcpy(bits, &y, 4);
  return y;
}

static int rng_oracle(const agree_case *c, uint64_t seed, const agree_plan *p,
                      uint32_t *const *in, uint32_t *const *out, char *why, size_t len)
{
  (void)in;
  size_t n = p->arg[0].n;
  uint32_t *want = malloc(n * 4);
  if (!want) {
    snprintf(why, len, "no host memory");
    return 1;
  }
  for (size_t i = 0; i < n; i++) host_rng(c, seed, i, &want[i]);
  double nmse, max_rel;
  agree_tol tol = agree_tolerance(AGREE_TOL_TRANSC, NULL);
  int bad = agree_compare("y", want, out[0], n, c->op != MB_RNG_NORMAL, tol, &nmse, &max_rel,
                          why, len);
  free(want);
  return bad;
}

static const agree_family fam_rng = {"rng", rng_plan, rng_run, NULL, rng_oracle};

/* ================================================================ convolution */

static size_t conv_in_len(const mb_conv_geom *g) { return (size_t)g->n * g->c * g->h * g->w; }
static size_t conv_ckk(const mb_conv_geom *g) { return (size_t)g->c * g->kh * g->kw; }
static size_t conv_ohw(const mb_conv_geom *g) { return (size_t)g->oh * g->ow; }
static size_t conv_cols_len(const mb_conv_geom *g)
{
  return (size_t)g->n * conv_ckk(g) * conv_ohw(g);
}

static const char *need_im2col(const mb_backend_ops *ops, const agree_case *c)
{
  (void)c;
  return ops->im2col ? NULL : "im2col";
}

static const char *need_col2im(const mb_backend_ops *ops, const agree_case *c)
{
  (void)c;
  return ops->col2im ? NULL : "col2im";
}

static void im2col_plan(const agree_case *c, agree_plan *p)
{
  add_in(p, "x", conv_in_len(&c->conv.g), c->gen);
  add_out(p, "cols", conv_cols_len(&c->conv.g), 0);
}

static void im2col_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_im2col(be, &c->conv.g, v[0], v[1]);
}

/* col2im accumulates into dx, so dx starts with data. */
static void col2im_plan(const agree_case *c, agree_plan *p)
{
  add_in(p, "cols", conv_cols_len(&c->conv.g), c->gen);
  int dx = add_in(p, "dx", conv_in_len(&c->conv.g), gen_or(c->gen2, c->gen));
  p->arg[dx].out = 1;
}

static void col2im_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_col2im(be, &c->conv.g, v[0], v[1]);
}

/* A whole convolution the way a model runs it: im2col, then one batched GEMM
 * with the weights shared by every batch item (stride_a = 0). */
static void conv_plan(const agree_case *c, agree_plan *p)
{
  const mb_conv_geom *g = &c->conv.g;
  add_in(p, "x", conv_in_len(g), c->gen);
  add_in(p, "w", (size_t)c->conv.cout * conv_ckk(g), gen_or(c->gen2, c->gen));
  add_out(p, "cols", conv_cols_len(g), 0);
  add_out(p, "y", (size_t)g->n * (size_t)c->conv.cout * conv_ohw(g), 0);
}

static void conv_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  const mb_conv_geom *g = &c->conv.g;
  int ckk = (int)conv_ckk(g), ohw = (int)conv_ohw(g);
  mb_im2col(be, g, v[0], v[2]);
  mb_gemm_args a = {
    .m = c->conv.cout, .n = ohw, .k = ckk, .alpha = 1.0f, .beta = 0.0f,
    .a = v[1], .b = v[2], .c = v[3], .lda = ckk, .ldb = ohw, .ldc = ohw,
    .batch = g->n, .stride_a = 0, .stride_b = (long)ckk * ohw,
    .stride_c = (long)c->conv.cout * ohw,
  };
  mb_gemm(be, &a);
}

/* One output of a direct convolution, accumulated in f64. */
static double direct_conv1(const mb_conv_geom *g, const float *x, const float *w, int b, int co,
                           int oy, int ox)
{
  double acc = 0;
  for (int ci = 0; ci < g->c; ci++)
    for (int ki = 0; ki < g->kh; ki++)
      for (int kj = 0; kj < g->kw; kj++) {
        int iy = oy * g->stride - g->pad + ki, ix = ox * g->stride - g->pad + kj;
        if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
        size_t wi = (((size_t)co * g->c + ci) * g->kh + ki) * g->kw + kj;
        size_t xi = (((size_t)b * g->c + ci) * g->h + iy) * g->w + ix;
        acc += (double)w[wi] * x[xi];
      }
  return acc;
}

/* The oracle's im2col + GEMM must equal a direct convolution computed here. */
static int conv_oracle(const agree_case *c, uint64_t seed, const agree_plan *p,
                       uint32_t *const *in, uint32_t *const *out, char *why, size_t len)
{
  (void)seed;
  const mb_conv_geom *g = &c->conv.g;
  const float *x = (const float *)in[0], *w = (const float *)in[1];
  size_t ny = p->arg[3].n, yi = 0;
  float *y = malloc(ny * 4);
  if (!y) {
    snprintf(why, len, "no host memory");
    return 1;
  }
  for (int b = 0; b < g->n; b++)
    for (int co = 0; co < c->conv.cout; co++)
      for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++)
          y[yi++] = (float)direct_conv1(g, x, w, b, co, oy, ox);
  double nmse, max_rel;
  int bad = agree_compare("y", (const uint32_t *)y, out[3], ny, 0,
                          agree_tolerance(AGREE_TOL_GEMM, NULL), &nmse, &max_rel, why, len);
  free(y);
  return bad;
}

static const agree_family fam_im2col = {"im2col", im2col_plan, im2col_run, need_im2col, NULL};
static const agree_family fam_col2im = {"col2im", col2im_plan, col2im_run, need_col2im, NULL};
static const agree_family fam_conv = {"conv", conv_plan, conv_run, need_im2col, conv_oracle};

/* ================================================================ permute
 * Shape in d3: y[m][o][i] = x[o][m][i].  Raw bits in, compared bit for bit. */
static size_t permute_len(const agree_case *c) { return c->d3.outer * c->d3.mid * c->d3.inner; }

static const char *need_permute(const mb_backend_ops *ops, const agree_case *c)
{
  (void)c;
  return ops->permute ? NULL : "permute";
}

static void permute_plan(const agree_case *c, agree_plan *p)
{
  agree_gen bits = {AGREE_GEN_BITS, 0, 0};
  add_in(p, "x", permute_len(c), bits);
  add_out(p, "y", permute_len(c), 1);
}

static void permute_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_permute(be, v[0], v[1], c->d3.outer, c->d3.mid, c->d3.inner);
}

/* The oracle's result must be the permutation itself, indexed here the other way round
 * (over x, where ref loops over y). */
static int permute_oracle(const agree_case *c, uint64_t seed, const agree_plan *p,
                          uint32_t *const *in, uint32_t *const *out, char *why, size_t len)
{
  (void)seed;
  (void)p;
  const size_t O = c->d3.outer, M = c->d3.mid, I = c->d3.inner;
  for (size_t e = 0; e < O * M * I; e++) {
    size_t i = e % I, m = e / I % M, o = e / I / M;
    if (out[1][(m * O + o) * I + i] != in[0][e]) {
      snprintf(why, len, "oracle: y[%zu][%zu][%zu] is not x[%zu][%zu][%zu]", m, o, i, o, m, i);
      return 1;
    }
  }
  return 0;
}

static const agree_family fam_permute = {"permute", permute_plan, permute_run, need_permute,
                                         permute_oracle};

/* ================================================================ convolution via the core
 * (core/conv.c: im2col, permute and one GEMM per chunk of images forward, for the input
 * gradient (then col2im) and for the weight gradient), checked on the oracle against
 * direct loops in f64.  op: CONV2D_FWD / _DX / _DW; the workspace holds chunks of
 * CONV2D_WS_IMAGES images, fixed at 2 so that batches > 2 run in several chunks. */
enum { CONV2D_FWD, CONV2D_DX, CONV2D_DW, CONV2D_DX_ACC, CONV2D_DW_BETA };
#define CONV2D_BETA 0.5f   /* CONV2D_DW_BETA: dw = 0.5·dw + Σ …; CONV2D_DX_ACC: dx += … */
#define CONV2D_WS_IMAGES 2

static size_t conv_out_len(const agree_case *c)
{
  return (size_t)c->conv.g.n * (size_t)c->conv.cout * conv_ohw(&c->conv.g);
}

static size_t conv2d_ws(const agree_case *c)
{
  size_t n = mb_conv2d_ws_for(&c->conv.g, c->conv.cout, CONV2D_WS_IMAGES);
  return n ? n : 1;
}

/* Arguments: a (x or dy), w (or dy), the result, the workspace. */
static void conv2d_plan(const agree_case *c, agree_plan *p)
{
  const mb_conv_geom *g = &c->conv.g;
  size_t nw = (size_t)c->conv.cout * conv_ckk(g);
  if (c->op == CONV2D_FWD) {
    add_in(p, "x", conv_in_len(g), c->gen);
    add_in(p, "w", nw, gen_or(c->gen2, c->gen));
    add_out(p, "y", conv_out_len(c), 0);
  } else if (c->op == CONV2D_DX || c->op == CONV2D_DX_ACC) {
    add_in(p, "dy", conv_out_len(c), c->gen);
    add_in(p, "w", nw, gen_or(c->gen2, c->gen));
    if (c->op == CONV2D_DX) add_out(p, "dx", conv_in_len(g), 0);
    else add_arg(p, "dx", conv_in_len(g), c->gen, 1, 0);   /* read, then added to */
  } else {
    add_in(p, "x", conv_in_len(g), c->gen);
    add_in(p, "dy", conv_out_len(c), gen_or(c->gen2, c->gen));
    if (c->op == CONV2D_DW) add_out(p, "dw", nw, 0);
    else add_arg(p, "dw", nw, c->gen, 1, 0);
  }
  add_out(p, "ws", conv2d_ws(c), 0);
}

static void conv2d_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  const mb_conv_geom *g = &c->conv.g;
  size_t ws = conv2d_ws(c);
  if (c->op == CONV2D_FWD) mb_conv2d_fwd(be, g, c->conv.cout, v[0], v[1], v[2], v[3], ws);
  else if (c->op == CONV2D_DX || c->op == CONV2D_DX_ACC)
    mb_conv2d_bwd_data(be, g, c->conv.cout, v[0], v[1], v[2], c->op == CONV2D_DX_ACC, v[3], ws);
  else
    mb_conv2d_bwd_filter(be, g, c->conv.cout, v[0], v[1], v[2],
                         c->op == CONV2D_DW_BETA ? CONV2D_BETA : 0.0f, v[3], ws);
  /* the workspace is scratch, not a result (an optional conv op leaves it untouched) */
  mb_fill(be, v[3], ws, 0.0f);
}

static const char *need_conv2d(const mb_backend_ops *ops, const agree_case *c)
{
  (void)c;
  return !ops->im2col ? "im2col" : !ops->col2im ? "col2im" : !ops->permute ? "permute" : NULL;
}

/* Direct loops in f64: y = conv(x, w), dx = convᵀ(dy, w), dw = Σ dy ⊗ x. */
static int conv2d_oracle(const agree_case *c, uint64_t seed, const agree_plan *p,
                         uint32_t *const *in, uint32_t *const *out, char *why, size_t len)
{
  (void)seed;
  const mb_conv_geom *g = &c->conv.g;
  const int co_n = c->conv.cout;
  const float *a0 = (const float *)in[0], *a1 = (const float *)in[1];
  size_t nr = p->arg[2].n;
  double *acc = calloc(nr, sizeof *acc);
  float *want = malloc(nr * 4);
  if (!acc || !want) {
    free(acc);
    free(want);
    snprintf(why, len, "no host memory");
    return 1;
  }
  for (int b = 0; b < g->n; b++)
    for (int co = 0; co < co_n; co++)
      for (int ci = 0; ci < g->c; ci++)
        for (int ki = 0; ki < g->kh; ki++)
          for (int kj = 0; kj < g->kw; kj++)
            for (int oy = 0; oy < g->oh; oy++)
              for (int ox = 0; ox < g->ow; ox++) {
                int iy = oy * g->stride - g->pad + ki, ix = ox * g->stride - g->pad + kj;
                if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
                size_t xi = (((size_t)b * g->c + ci) * g->h + iy) * g->w + ix;
                size_t wi = (((size_t)co * g->c + ci) * g->kh + ki) * g->kw + kj;
                size_t yi = (((size_t)b * co_n + co) * g->oh + oy) * g->ow + ox;
                if (c->op == CONV2D_FWD) acc[yi] += (double)a0[xi] * a1[wi];
                else if (c->op == CONV2D_DX || c->op == CONV2D_DX_ACC)
                  acc[xi] += (double)a0[yi] * a1[wi];
                else acc[wi] += (double)a0[xi] * a1[yi];
              }
  const float *start = (const float *)in[2];   /* the result's initial content */
  for (size_t i = 0; i < nr; i++)
    want[i] = c->op == CONV2D_DX_ACC    ? (float)(acc[i] + start[i])
              : c->op == CONV2D_DW_BETA ? (float)(acc[i] + (double)CONV2D_BETA * start[i])
                                        : (float)acc[i];
  double nmse, max_rel;
  int bad = agree_compare(p->arg[2].name, (const uint32_t *)want, out[2], nr, 0,
                          agree_tolerance(AGREE_TOL_GEMM, NULL), &nmse, &max_rel, why, len);
  free(acc);
  free(want);
  return bad;
}

static const agree_family fam_conv2d = {"conv2d", conv2d_plan, conv2d_run, need_conv2d,
                                        conv2d_oracle};

/* ================================================================ batch norm
 * Shapes in conv.g (n, c, h·w); op is the mb_bn_mode; eps 1e-5, momentum 0.1 (§0.2). */
#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f

static size_t bn_len(const agree_case *c)
{
  return (size_t)c->conv.g.n * c->conv.g.c * c->conv.g.h * c->conv.g.w;
}

static const char *need_bn(const mb_backend_ops *ops, const agree_case *c)
{
  (void)c;
  return ops->batchnorm ? NULL : "batchnorm";
}

static const char *need_bn_bwd(const mb_backend_ops *ops, const agree_case *c)
{
  (void)c;
  return ops->batchnorm_bwd ? NULL : "batchnorm_bwd";
}

/* x, gamma, beta, run_mean, run_var (updated in TRAIN), y, save_mean, save_invstd. */
static void bn_plan(const agree_case *c, agree_plan *p)
{
  size_t n = bn_len(c), ch = (size_t)c->conv.g.c;
  agree_gen gam = {AGREE_GEN_UNIFORM, 0.5f, 1.5f}, bet = {AGREE_GEN_NORMAL, 0.0f, 0.5f};
  agree_gen rmu = {AGREE_GEN_NORMAL, 0.0f, 0.5f}, rvar = {AGREE_GEN_UNIFORM, 0.25f, 4.0f};
  int train = c->op == MB_BN_TRAIN;
  int x = add_in(p, "x", n, c->gen);
  add_in(p, "gamma", ch, gam);
  add_in(p, "beta", ch, bet);
  int rm = add_in(p, "run_mean", ch, rmu);
  int rv = add_in(p, "run_var", ch, rvar);
  p->arg[rm].out = p->arg[rv].out = train;
  add_result(p, c, "y", n, 0, x);
  int sm = add_out(p, "save_mean", ch, 0);
  int si = add_out(p, "save_invstd", ch, 0);
  p->arg[sm].none = p->arg[si].none = !train;
}

static void bn_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  const mb_conv_geom *g = &c->conv.g;
  mb_bn_args a = {
    .mode = (mb_bn_mode)c->op, .n = g->n, .c = g->c, .hw = g->h * g->w,
    .eps = BN_EPS, .momentum = BN_MOMENTUM, .x = v[0], .y = v[5], .gamma = v[1], .beta = v[2],
    .run_mean = v[3], .run_var = v[4], .save_mean = v[6], .save_invstd = v[7],
  };
  mb_batchnorm(be, &a);
}

/* x, dy, gamma, mean, invstd, dx (may alias dy), dgamma, dbeta. */
static void bn_bwd_plan(const agree_case *c, agree_plan *p)
{
  size_t n = bn_len(c), ch = (size_t)c->conv.g.c;
  agree_gen gam = {AGREE_GEN_UNIFORM, 0.5f, 1.5f}, mu = {AGREE_GEN_NORMAL, 0.5f, 0.2f};
  agree_gen is = {AGREE_GEN_UNIFORM, 0.4f, 0.6f};
  add_in(p, "x", n, c->gen);
  int dy = add_in(p, "dy", n, gen_or(c->gen2, c->gen));
  add_in(p, "gamma", ch, gam);
  add_in(p, "mean", ch, mu);
  add_in(p, "invstd", ch, is);
  add_result(p, c, "dx", n, 0, dy);
  add_out(p, "dgamma", ch, 0);
  add_out(p, "dbeta", ch, 0);
}

static void bn_bwd_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  const mb_conv_geom *g = &c->conv.g;
  mb_bn_bwd_args a = {
    .mode = (mb_bn_mode)c->op, .n = g->n, .c = g->c, .hw = g->h * g->w,
    .x = v[0], .dy = v[1], .gamma = v[2], .mean = v[3], .invstd = v[4],
    .dx = v[5], .dgamma = v[6], .dbeta = v[7],
  };
  mb_batchnorm_bwd(be, &a);
}

static const agree_family fam_bn = {"batchnorm", bn_plan, bn_run, need_bn, NULL};
static const agree_family fam_bn_bwd = {"batchnorm_bwd", bn_bwd_plan, bn_bwd_run, need_bn_bwd,
                                        NULL};

/* ================================================================ pooling
 * Window in conv.g; op is the mb_pool_kind; conv.cout is count_pad (AVG). */
static size_t pool_out_len(const agree_case *c)
{
  return (size_t)c->conv.g.n * c->conv.g.c * conv_ohw(&c->conv.g);
}

static const char *need_pool(const mb_backend_ops *ops, const agree_case *c)
{
  (void)c;
  return ops->pool ? NULL : "pool";
}

static const char *need_pool_bwd(const mb_backend_ops *ops, const agree_case *c)
{
  (void)c;
  return !ops->pool ? "pool" : !ops->pool_bwd ? "pool_bwd" : NULL;
}

static mb_pool_args pool_args(const agree_case *c)
{
  mb_pool_args a = {.kind = (mb_pool_kind)c->op, .g = c->conv.g, .count_pad = c->conv.cout};
  return a;
}

/* x, y, idx (MAX: i32, compared bit for bit; AVG: none). */
static void pool_plan(const agree_case *c, agree_plan *p)
{
  add_in(p, "x", conv_in_len(&c->conv.g), c->gen);
  add_out(p, "y", pool_out_len(c), 0);
  int idx = add_out(p, "idx", pool_out_len(c), 1);
  p->arg[idx].none = c->op != MB_POOL_MAX;
}

static void pool_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_pool_args a = pool_args(c);
  a.x = v[0];
  a.y = v[1];
  a.idx = v[2];
  mb_pool(be, &a);
}

/* MAX: x, y, idx from a forward pass (ties make one input the choice of several
 * overlapping windows), then dy → dx.  AVG: dy → dx only. */
static void pool_bwd_plan(const agree_case *c, agree_plan *p)
{
  int max = c->op == MB_POOL_MAX;
  int x = add_in(p, "x", conv_in_len(&c->conv.g), c->gen);
  int y = add_out(p, "y", pool_out_len(c), 0);
  int idx = add_out(p, "idx", pool_out_len(c), 1);
  p->arg[x].none = p->arg[y].none = p->arg[idx].none = !max;
  add_in(p, "dy", pool_out_len(c), gen_or(c->gen2, c->gen));
  add_out(p, "dx", conv_in_len(&c->conv.g), 0);
}

static void pool_bwd_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_pool_args a = pool_args(c);
  a.x = v[0];
  a.y = v[1];
  a.idx = v[2];
  a.dy = v[3];
  a.dx = v[4];
  if (c->op == MB_POOL_MAX) mb_pool(be, &a);
  mb_pool_bwd(be, &a);
}

static const agree_family fam_pool = {"pool", pool_plan, pool_run, need_pool, NULL};
static const agree_family fam_pool_bwd = {"pool_bwd", pool_bwd_plan, pool_bwd_run, need_pool_bwd,
                                          NULL};

/* ================================================================ forgetting update
 * mb_forget_update_auto (core/forget_mnemonic.c): the backend's optional forget_update
 * where it has one, else the op chain.  The oracle always runs the chain, so on ref
 * this checks the optional op against the generic composition.  Arguments: f_forget,
 * f_remain, w, then delta, plus, minus and the chain's scratch (zeroed after the run).
 * AGREE_ALIAS: delta shares f_forget and plus f_remain, as core/forget_mnemonic.c
 * calls it. */
static size_t forget_len(const agree_case *c) { return c->forget.offs[c->forget.nseg]; }

static void forget_plan(const agree_case *c, agree_plan *p)
{
  size_t n = forget_len(c);
  int ff = add_in(p, "f_forget", n, c->gen);
  int fr = add_in(p, "f_remain", n, gen_or(c->gen2, c->gen));
  agree_gen wgen = {AGREE_GEN_NORMAL, 0.0f, 0.1f};
  add_in(p, "w", n, wgen);
  int d = add_out(p, "delta", n, 0);
  int pl = add_out(p, "plus", n, 0);
  add_out(p, "minus", n, 0);
  add_out(p, "scratch", n, 0);
  if (c->flags & AGREE_ALIAS) {
    p->arg[d].alias_of = ff;
    p->arg[pl].alias_of = fr;
  }
}

static void forget_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  const mb_forget_args a = {
    .f_forget = v[0], .f_remain = v[1], .w = v[2], .delta = v[3], .plus = v[4], .minus = v[5],
    .offs = c->forget.offs, .nseg = c->forget.nseg,
    .lambda1 = c->forget.lambda1, .lambda2 = c->forget.lambda2,
  };
  mb_forget_update_auto(be, &a, v[6]);
  mb_fill(be, v[6], forget_len(c), 0.0f);   /* scratch, not a result: the optional op leaves it */
}

static const agree_family fam_forget = {"forget_update", forget_plan, forget_run, NULL, NULL};

/* ================================================================ the table */

/* Distributions travel through the macros as (kind, a, b) tuples; GEN makes the initializer. */
#define G(kind, a, b) (kind, a, b)
#define GEN_(kind, a, b) {AGREE_GEN_##kind, (a), (b)}
#define GEN(tuple) GEN_ tuple
#define N01 G(NORMAL, 0.0f, 1.0f)
#define NOGEN G(NONE, 0.0f, 0.0f)
#define EXACT AGREE_TOL_EXACT
#define ELT AGREE_TOL_ELT
#define TRANSC AGREE_TOL_TRANSC

#define MEM(name, op_, n_, bits_, shift_) \
  {.id = "mem/" name, .fam = &fam_mem, .op = op_, .tol = EXACT, .shift = shift_, \
   .mem = {.n = n_, .bits = bits_}}

/* alpha/beta, ld padding, batch count and padding between batch items */
#define GEMM(name, ta_, tb_, m_, n_, k_, alpha_, beta_, ldpad, batch_, spad) \
  {.id = "gemm/" name, .fam = &fam_gemm, .gen = GEN(N01), .gen2 = GEN(N01), .tol = AGREE_TOL_GEMM, \
   .gemm = {.ta = ta_, .tb = tb_, .m = m_, .n = n_, .k = k_, .ld_pad = ldpad, .batch = batch_, \
            .stride_pad = spad, .alpha = alpha_, .beta = beta_}}
#define MM(name, ta, tb, m, n, k) GEMM(name, ta, tb, m, n, k, 1.0f, 0.0f, 0, 1, 0)
#define MM4(shape, m, n, k) \
  MM("nn_" shape, 0, 0, m, n, k), MM("nt_" shape, 0, 1, m, n, k), \
  MM("tn_" shape, 1, 0, m, n, k), MM("tt_" shape, 1, 1, m, n, k)

#define ELTW(fam_, name, op_, n_, a_, b_, gen_, gen2_, tol_, flags_, shift_) \
  {.id = name, .fam = &fam_, .op = op_, .gen = GEN(gen_), .gen2 = GEN(gen2_), .tol = tol_, \
   .flags = flags_, .shift = shift_, .elt = {.n = n_, .a = a_, .b = b_}}
/* Every unary/binary op gets: a main case (odd n), a NaN/inf parity case and an
 * in-place case (y == x) at a misaligned offset. */
#define UN3(name, op, a, b, gen, tol) \
  ELTW(fam_unary, "unary/" name, op, 100003, a, b, gen, NOGEN, tol, 0, 0), \
  ELTW(fam_unary, "unary/" name "_special", op, 4099, a, b, G(SPECIAL, 0, 2), NOGEN, tol, 0, 0), \
  ELTW(fam_unary, "unary/" name "_inplace", op, 1001, a, b, gen, NOGEN, tol, AGREE_ALIAS, 1)
#define BIN3(name, op, a, b, gen, gen2, tol) \
  ELTW(fam_binary, "binary/" name, op, 100003, a, b, gen, gen2, tol, 0, 0), \
  ELTW(fam_binary, "binary/" name "_special", op, 4099, a, b, G(SPECIAL, 0, 2), \
       G(SPECIAL, 0, 2), tol, 0, 0), \
  ELTW(fam_binary, "binary/" name "_inplace", op, 1001, a, b, gen, gen2, tol, AGREE_ALIAS, 3)

#define D3(fam_, name, op_, o, m, i, gen_, gen2_, tol_, flags_) \
  {.id = name, .fam = &fam_, .op = op_, .gen = GEN(gen_), .gen2 = GEN(gen2_), .tol = tol_, \
   .flags = flags_, .d3 = {.outer = o, .mid = m, .inner = i}}
#define BC(name, op, o, m, i, gen2) D3(fam_bcast, "bcast/" name, op, o, m, i, N01, gen2, ELT, 0)
#define BC_SHAPES(name, op, gen2) \
  BC(name "_bias_128x1000", op, 128, 1000, 1, gen2), \
  BC(name "_nchw_2x64x1024", op, 2, 64, 1024, gen2), \
  BC(name "_odd_7x33x5", op, 7, 33, 5, gen2)
#define RED(name, op, o, m, i, gen, tol) \
  D3(fam_reduce, "reduce/" name, op, o, m, i, gen, NOGEN, tol, 0)
/* Row-wise (logits), one long row, a strided middle axis, odd, and 70000 rows. */
#define RED_SHAPES(name, op, gen, tol) \
  RED(name "_rows_128x10", op, 128, 10, 1, gen, tol), \
  RED(name "_long_100000", op, 1, 100000, 1, gen, tol), \
  RED(name "_strided_3x1000x7", op, 3, 1000, 7, gen, tol), \
  RED(name "_odd_5x33x257", op, 5, 33, 257, gen, tol), \
  RED(name "_rows_70000x3", op, 70000, 3, 1, gen, tol)

/* The MLP's flat parameter table (784→1000→10): W1, b1, W2, b2. */
static const size_t k_mlp_offs[] = {0, 784000, 785000, 795000, 795010};
/* Odd small segments, single elements included. */
static const size_t k_odd_offs[] = {0, 1, 4, 11, 44, 45, 301, 1000};

#define SEG(fam_, name, op_, offs_, nseg_, len_, gen_, gen2_, tol_, flags_) \
  {.id = name, .fam = &fam_, .op = op_, .gen = GEN(gen_), .gen2 = GEN(gen2_), .tol = tol_, \
   .flags = flags_, .seg = {.offs = offs_, .nseg = nseg_, .len = len_}}
#define SEG_TABLES(fam_, name, op, gen, gen2, tol) \
  SEG(fam_, name "_mlp", op, k_mlp_offs, 4, 0, gen, gen2, tol, 0), \
  SEG(fam_, name "_odd", op, k_odd_offs, 7, 0, gen, gen2, tol, 0)
#define SRED(name, op, gen, tol) SEG_TABLES(fam_seg_reduce, "seg_reduce/" name, op, gen, NOGEN, tol)
#define SBC(name, op, gen, gen2, tol) \
  SEG_TABLES(fam_seg_bcast, "seg_bcast/" name, op, gen, gen2, tol), \
  SEG(fam_seg_bcast, "seg_bcast/" name "_odd_inplace", op, k_odd_offs, 7, 0, gen, gen2, tol, \
      AGREE_ALIAS)

#define FORGET(name, offs_, nseg_, gen_, gen2_, l1, l2, flags_) \
  {.id = "forget_update/" name, .fam = &fam_forget, .gen = GEN(gen_), .gen2 = GEN(gen2_), \
   .tol = TRANSC, .flags = flags_, \
   .forget = {.offs = offs_, .nseg = nseg_, .lambda1 = l1, .lambda2 = l2}}

#define XALL (AGREE_XENT_LOSS | AGREE_XENT_DLOGITS | AGREE_XENT_PROBS)
#define XENT(name, r, c_, scale_, outs, gen_, flags_) \
  {.id = "softmax_xent/" name, .fam = &fam_xent, .gen = GEN(gen_), .tol = TRANSC, .flags = flags_, \
   .xent = {.rows = r, .cols = c_, .scale = scale_, .outputs = outs}}

#define GATHER(name, rows, len, src_rows, u8, scale_, shift_) \
  {.id = "gather_rows/" name, .fam = &fam_gather, .tol = u8 ? ELT : EXACT, .shift = shift_, \
   .gather = {.n_rows = rows, .row_len = len, .n_src_rows = src_rows, .src_u8 = u8, \
              .scale = scale_}}

#define SGD(name, n_, lr_, wd_, mom, damp, first) \
  {.id = "optim/" name, .fam = &fam_optim, .op = MB_OPT_SGD, .gen = GEN(N01), .tol = ELT, \
   .optim = {.n = n_, .lr = lr_, .wd = wd_, .momentum = mom, .dampening = damp, \
             .first_step = first}}
#define ADAM(name, n_, lr_, wd_, b1, b2, eps_, t_) \
  {.id = "optim/" name, .fam = &fam_optim, .op = MB_OPT_ADAM, .gen = GEN(N01), .tol = ELT, \
   .optim = {.n = n_, .lr = lr_, .wd = wd_, .beta1 = b1, .beta2 = b2, .eps = eps_, .t = t_}}

#define RNG(name, dist, n_, stream_, p0_, p1_, shift_) \
  {.id = "rng/" name, .fam = &fam_rng, .op = dist, .shift = shift_, \
   .tol = dist == MB_RNG_NORMAL ? TRANSC : EXACT, \
   .rng = {.n = n_, .stream = stream_, .p0 = p0_, .p1 = p1_}}

#define GEOM(n_, c_, h_, w_, k, s, p) \
  {.n = n_, .c = c_, .h = h_, .w = w_, .kh = k, .kw = k, .stride = s, .pad = p, \
   .oh = ((h_) + 2 * (p) - (k)) / (s) + 1, .ow = ((w_) + 2 * (p) - (k)) / (s) + 1}
#define CONVC(fam_, name, tol_, geom, cout_) \
  {.id = name, .fam = &fam_, .gen = GEN(N01), .gen2 = GEN(N01), .tol = tol_, \
   .conv = {.g = geom, .cout = cout_}}
/* ResNet-18 geometries (CIFAR 32 px stages, 1×1/2 shortcuts, the ImageNet stem),
 * all with batch > 1, plus odd ones (pad wider than the kernel reach, k=2/s=2
 * dropping the last row). */
#define CONV_GEOMS(fam_, prefix, tol) \
  CONVC(fam_, prefix "/c3_32x32_k3s1p1_b2", tol, GEOM(2, 3, 32, 32, 3, 1, 1), 0), \
  CONVC(fam_, prefix "/c64_32x32_k1s2p0_b2", tol, GEOM(2, 64, 32, 32, 1, 2, 0), 0), \
  CONVC(fam_, prefix "/c64_16x16_k3s2p1_b2", tol, GEOM(2, 64, 16, 16, 3, 2, 1), 0), \
  CONVC(fam_, prefix "/c32_4x4_k3s1p1_b3", tol, GEOM(3, 32, 4, 4, 3, 1, 1), 0), \
  CONVC(fam_, prefix "/stem_c3_224x224_k7s2p3_b2", tol, GEOM(2, 3, 224, 224, 7, 2, 3), 0), \
  CONVC(fam_, prefix "/odd_c3_7x5_k3s2p2_b3", tol, GEOM(3, 3, 7, 5, 3, 2, 2), 0), \
  CONVC(fam_, prefix "/odd_c2_9x7_k2s2p0_b2", tol, GEOM(2, 2, 9, 7, 2, 2, 0), 0)

/* permute over (outer, mid, inner); shift_ misaligns both views. */
#define PERM(name, o, m, i, shift_) \
  {.id = "permute/" name, .fam = &fam_permute, .gen = GEN(G(BITS, 0, 0)), .tol = EXACT, \
   .shift = shift_, .d3 = {.outer = o, .mid = m, .inner = i}}

/* Geometry with the window of a pooling op or a convolution given in full. */
#define WIN(n_, c_, h_, w_, kh_, kw_, s, p) \
  {.n = n_, .c = c_, .h = h_, .w = w_, .kh = kh_, .kw = kw_, .stride = s, .pad = p, \
   .oh = ((h_) + 2 * (p) - (kh_)) / (s) + 1, .ow = ((w_) + 2 * (p) - (kw_)) / (s) + 1}
/* conv2d through the core: forward, input gradient and weight gradient of one layer. */
#define CONV2D(name, geom, cout_) \
  {.id = "conv2d/fwd_" name, .fam = &fam_conv2d, .op = CONV2D_FWD, .gen = GEN(N01), \
   .gen2 = GEN(N01), .tol = AGREE_TOL_GEMM, .conv = {.g = geom, .cout = cout_}}, \
  {.id = "conv2d/dx_" name, .fam = &fam_conv2d, .op = CONV2D_DX, .gen = GEN(N01), \
   .gen2 = GEN(N01), .tol = AGREE_TOL_GEMM, .conv = {.g = geom, .cout = cout_}}, \
  {.id = "conv2d/dw_" name, .fam = &fam_conv2d, .op = CONV2D_DW, .gen = GEN(N01), \
   .gen2 = GEN(N01), .tol = AGREE_TOL_GEMM, .conv = {.g = geom, .cout = cout_}}
/* Batch norm over (n, c, h, w); tolerances: statistics are long sums, then a sqrt
 * and a division (AGREE_TOL_NORM). */
#define BNC(fam_, name, mode, n_, c_, h_, w_, gen_, flags_) \
  {.id = name, .fam = &fam_, .op = mode, .gen = GEN(gen_), .tol = AGREE_TOL_NORM, \
   .flags = flags_, .conv = {.g = {.n = n_, .c = c_, .h = h_, .w = w_}}}
/* Each shape list is expanded once per family, so a family's cases stay together. */
#define BN_FWD(name, n_, c_, h_, w_, gen_, flags_) \
  BNC(fam_bn, "batchnorm/train_" name, MB_BN_TRAIN, n_, c_, h_, w_, gen_, flags_), \
  BNC(fam_bn, "batchnorm/eval_" name, MB_BN_EVAL, n_, c_, h_, w_, gen_, flags_),
#define BN_BWD(name, n_, c_, h_, w_, gen_, flags_) \
  BNC(fam_bn_bwd, "batchnorm_bwd/train_" name, MB_BN_TRAIN, n_, c_, h_, w_, gen_, flags_), \
  BNC(fam_bn_bwd, "batchnorm_bwd/eval_" name, MB_BN_EVAL, n_, c_, h_, w_, gen_, flags_),
/* Pooling forward and backward; cp = count_pad (AVG). */
#define POOLC(fam_, name, kind, cp, gen_, tol_, ...) \
  {.id = name, .fam = &fam_, .op = kind, .gen = GEN(gen_), .gen2 = GEN(N01), .tol = tol_, \
   .conv = {.g = __VA_ARGS__, .cout = cp}}
/* The geometry comes last (a braced WIN(...) holds commas). */
#define MAX_FWD(name, gen_, ...) \
  POOLC(fam_pool, "pool/max_" name, MB_POOL_MAX, 0, gen_, EXACT, __VA_ARGS__),
#define MAX_BWD(name, gen_, ...) \
  POOLC(fam_pool_bwd, "pool_bwd/max_" name, MB_POOL_MAX, 0, gen_, ELT, __VA_ARGS__),
#define AVG_FWD(name, cp, gen_, ...) \
  POOLC(fam_pool, "pool/avg_" name, MB_POOL_AVG, cp, gen_, AGREE_TOL_REDUCE, __VA_ARGS__),
#define AVG_BWD(name, cp, gen_, ...) \
  POOLC(fam_pool_bwd, "pool_bwd/avg_" name, MB_POOL_AVG, cp, gen_, ELT, __VA_ARGS__),

/* ResNet-18 BN layers (CIFAR stages, the ImageNet stem at 112 px, the 1×1 head), a
 * large mean (E[x²] − E[x]² in f32 would lose the variance), odd and single-element
 * channels, in place, and NaN/inf parity with 6 elements per channel (some stay finite). */
#define BN_SHAPES(X) \
  X("c64_32x32_b4", 4, 64, 32, 32, G(NORMAL, 0.5f, 2.0f), 0) \
  X("c128_16x16_b4", 4, 128, 16, 16, G(NORMAL, 0.5f, 2.0f), 0) \
  X("c256_8x8_b4", 4, 256, 8, 8, G(NORMAL, 0.5f, 2.0f), 0) \
  X("c512_4x4_b8", 8, 512, 4, 4, G(NORMAL, 0.5f, 2.0f), 0) \
  X("imagenet_stem_c64_112x112_b2", 2, 64, 112, 112, N01, 0) \
  X("offset100_c16_33x7_b3", 3, 16, 33, 7, G(NORMAL, 100.0f, 1.0f), 0) \
  X("odd_c3_7x5_b3", 3, 3, 7, 5, N01, 0) \
  X("one_c5_1x1_b1", 1, 5, 1, 1, N01, 0) \
  X("head_c512_1x1_b7", 7, 512, 1, 1, N01, 0) \
  X("inplace_c32_8x8_b2", 2, 32, 8, 8, G(NORMAL, 0.5f, 2.0f), AGREE_ALIAS) \
  X("special_c16_1x3_b2", 2, 16, 1, 3, G(SPECIAL, 0, 2), 0)

/* The ImageNet stem max-pool 3×3/2 pad 1, ties (an input chosen by several overlapping
 * windows), odd windows, NaN/inf parity. */
#define MAX_SHAPES(X) \
  X("imagenet_c64_112x112_k3s2p1_b2", N01, WIN(2, 64, 112, 112, 3, 3, 2, 1)) \
  X("ties_c8_17x13_k3s2p1_b3", G(TIES, -2, 2), WIN(3, 8, 17, 13, 3, 3, 2, 1)) \
  X("ties_c4_9x9_k3s1p1_b2", G(TIES, -1, 1), WIN(2, 4, 9, 9, 3, 3, 1, 1)) \
  X("c16_32x32_k2s2p0_b2", N01, WIN(2, 16, 32, 32, 2, 2, 2, 0)) \
  X("odd_c3_7x5_k3x2s2p1_b3", N01, WIN(3, 3, 7, 5, 3, 2, 2, 1)) \
  X("special_c8_12x12_k3s2p1_b2", G(SPECIAL, 0, 2), WIN(2, 8, 12, 12, 3, 3, 2, 1)) \
  X("inf_c8_12x12_k3s2p1_b2", G(INF, 0, 2), WIN(2, 8, 12, 12, 3, 3, 2, 1))

/* The CIFAR head (avg-pool 4×4 of layer4, i.e. global) and the ImageNet 7×7 head,
 * padded windows with and without count_pad, NaN parity. */
#define AVG_SHAPES(X) \
  X("cifar_head_c512_4x4_k4s4_b8", 1, N01, WIN(8, 512, 4, 4, 4, 4, 4, 0)) \
  X("imagenet_head_c512_7x7_k7s1_b2", 1, N01, WIN(2, 512, 7, 7, 7, 7, 1, 0)) \
  X("c16_32x32_k2s2p0_b2", 1, N01, WIN(2, 16, 32, 32, 2, 2, 2, 0)) \
  X("pad_c8_17x13_k3s2p1_b3_countpad", 1, N01, WIN(3, 8, 17, 13, 3, 3, 2, 1)) \
  X("pad_c8_17x13_k3s2p1_b3_nocountpad", 0, N01, WIN(3, 8, 17, 13, 3, 3, 2, 1)) \
  X("special_c8_12x12_k3s2p1_b2", 1, G(SPECIAL, 0, 2), WIN(2, 8, 12, 12, 3, 3, 2, 1))

static const agree_case k_cases[] = {
  /* ---- memory ---- */
  MEM("fill_1", MEM_FILL, 1, 0x3f800000u, 0),
  MEM("fill_nan_100003", MEM_FILL, 100003, 0x7fc12345u, 1),
  MEM("copy_1", MEM_COPY, 1, 0, 0),
  MEM("copy_257", MEM_COPY, 257, 0, 3),
  MEM("copy_100003", MEM_COPY, 100003, 0, 0),
  MEM("roundtrip_1", MEM_ROUNDTRIP, 1, 0, 0),
  MEM("roundtrip_33", MEM_ROUNDTRIP, 33, 0, 1),
  MEM("roundtrip_100003", MEM_ROUNDTRIP, 100003, 0, 0),
  {.id = "timer/fill_1000003", .fam = &fam_timer, .op = MEM_FILL, .tol = EXACT,
   .mem = {.n = 1000003, .bits = 0x40490fdbu}},

  /* ---- gemm ---- */
  MM4("1x1x1", 1, 1, 1),
  MM4("7x33x127", 7, 33, 127),
  MM4("127x7x33", 127, 7, 33),
  MM4("33x257x7", 33, 257, 7),
  MM4("257x127x257", 257, 127, 257),
  /* The MLP 784→1000→10 at batch 128: forward x·Wᵀ, weight grads dYᵀ·X, input grads dY·W. */
  MM("nt_128x1000x784_mlp_fwd1", 0, 1, 128, 1000, 784),
  MM("nt_128x10x1000_mlp_fwd2", 0, 1, 128, 10, 1000),
  MM("tn_1000x784x128_mlp_dw1", 1, 0, 1000, 784, 128),
  MM("tn_10x1000x128_mlp_dw2", 1, 0, 10, 1000, 128),
  MM("nn_128x784x1000_mlp_dx1", 0, 0, 128, 784, 1000),
  MM("nn_128x1000x10_mlp_dx2", 0, 0, 128, 1000, 10),
  MM("nt_4x4x4608_longk", 0, 1, 4, 4, 4608),
  GEMM("tn_10x1000x128_accumulate", 1, 0, 10, 1000, 128, 1.0f, 1.0f, 0, 1, 0),
  GEMM("nt_65x33x17_alpha", 0, 1, 65, 33, 17, -2.0f, 0.0f, 0, 1, 0),
  GEMM("nn_33x65x17_beta", 0, 0, 33, 65, 17, 0.5f, 1.0f, 0, 1, 0),
  GEMM("tt_64x64x64_beta", 1, 1, 64, 64, 64, 2.0f, -0.5f, 0, 1, 0),
  GEMM("nn_33x17x9_ldpad", 0, 0, 33, 17, 9, 1.0f, 0.0f, 3, 1, 0),
  GEMM("nt_17x33x9_ldpad", 0, 1, 17, 33, 9, 1.0f, 0.0f, 5, 1, 0),
  GEMM("tn_9x17x33_ldpad", 1, 0, 9, 17, 33, 1.0f, 0.0f, 1, 1, 0),
  GEMM("tt_31x9x17_ldpad_beta", 1, 1, 31, 9, 17, -1.0f, 0.25f, 2, 1, 0),
  GEMM("nn_16x16x16_batch3", 0, 0, 16, 16, 16, 1.0f, 0.0f, 0, 3, 7),
  GEMM("nt_7x33x5_batch5_ldpad", 0, 1, 7, 33, 5, 1.0f, 0.0f, 2, 5, 1),
  GEMM("tn_33x7x65_batch2_beta", 1, 0, 33, 7, 65, 0.75f, 1.0f, 0, 2, 0),
  GEMM("tt_5x9x7_batch4_beta", 1, 1, 5, 9, 7, 1.0f, 0.5f, 1, 4, 3),
  /* Launch dimensions above 65535 in each grid axis. */
  MM("nn_70000x3x5", 0, 0, 70000, 3, 5),
  MM("nt_3x70000x5", 0, 1, 3, 70000, 5),
  GEMM("nn_2x2x2_batch70000", 0, 0, 2, 2, 2, 1.0f, 0.0f, 0, 70000, 0),

  /* ---- unary ---- */
  UN3("affine", MB_UN_AFFINE, 1.5f, -0.25f, G(MIXED, 0, 2), ELT),
  UN3("sqr", MB_UN_SQR, 0, 0, G(MIXED, 0, 2), ELT),
  UN3("sqrt", MB_UN_SQRT, 0, 0, G(UNIFORM, 0, 1000), ELT),
  UN3("exp", MB_UN_EXP, 0, 0, G(MIXED, 0, 8), TRANSC),
  UN3("log", MB_UN_LOG, 0, 0, G(UNIFORM, 1e-4f, 1e4f), TRANSC),
  UN3("recip", MB_UN_RECIP, 0, 0, G(AWAY, 1e-3f, 1e3f), ELT),
  UN3("sigmoid", MB_UN_SIGMOID, 0, 0, G(MIXED, 0, 8), TRANSC),
  UN3("relu", MB_UN_RELU, 0, 0, G(MIXED, 0, 2), EXACT),
  UN3("abs", MB_UN_ABS, 0, 0, G(MIXED, 0, 2), EXACT),
  UN3("clamp", MB_UN_CLAMP, -1.0f, 2.0f, G(MIXED, 0, 2), EXACT),
  UN3("min_s", MB_UN_MIN_S, 0.5f, 0, G(MIXED, 0, 2), EXACT),
  UN3("max_s", MB_UN_MAX_S, -0.5f, 0, G(MIXED, 0, 2), EXACT),
  UN3("nan_to", MB_UN_NAN_TO, 0.0f, 0, G(SPECIAL, 0, 2), EXACT),
  UN3("gt_s", MB_UN_GT_S, 0.1f, 0, G(MIXED, 0, 2), EXACT),
  /* > 65535·256 elements: 1-D launches need a second grid dimension (uniform: cheap to draw) */
  ELTW(fam_unary, "unary/relu_16776967", MB_UN_RELU, 16776967, 0, 0, G(UNIFORM, -1, 1), NOGEN,
       EXACT, 0, 0),

  /* ---- binary ---- */
  BIN3("axpby", MB_BIN_AXPBY, 0.75f, -1.25f, G(MIXED, 0, 2), NOGEN, ELT),
  BIN3("mul", MB_BIN_MUL, -1.5f, 0, G(MIXED, 0, 2), NOGEN, ELT),
  BIN3("div", MB_BIN_DIV, 0, 0, G(MIXED, 0, 2), G(AWAY, 1e-2f, 1e2f), ELT),
  BIN3("min", MB_BIN_MIN, 0, 0, G(TIES, -3, 3), NOGEN, EXACT),
  BIN3("max", MB_BIN_MAX, 0, 0, G(TIES, -3, 3), NOGEN, EXACT),
  BIN3("add_sqr", MB_BIN_ADD_SQR, 0.3f, 0, G(MIXED, 0, 2), NOGEN, ELT),
  BIN3("sigmoid_bwd", MB_BIN_SIGMOID_BWD, 0, 0, G(NORMAL, 0, 2), G(UNIFORM, 0, 1), ELT),
  BIN3("relu_bwd", MB_BIN_RELU_BWD, 0, 0, G(MIXED, 0, 2), NOGEN, EXACT),
  BIN3("gt", MB_BIN_GT, 0.5f, 0, G(MIXED, 0, 2), NOGEN, EXACT),

  /* ---- where ---- */
  ELTW(fam_where, "where/100003", 0, 100003, 0, 0, N01, N01, EXACT, 0, 0),
  ELTW(fam_where, "where/special", 0, 4099, 0, 0, G(SPECIAL, 0, 2), G(SPECIAL, 0, 2), EXACT, 0, 0),
  ELTW(fam_where, "where/inplace", 0, 1001, 0, 0, N01, N01, EXACT, AGREE_ALIAS, 1),

  /* ---- bcast ---- */
  BC_SHAPES("add", MB_BC_ADD, N01),
  BC_SHAPES("mul", MB_BC_MUL, N01),
  BC_SHAPES("sub", MB_BC_SUB, N01),
  BC_SHAPES("div", MB_BC_DIV, G(AWAY, 0.5f, 2.0f)),
  D3(fam_bcast, "bcast/add_bias_inplace", MB_BC_ADD, 128, 1000, 1, N01, N01, ELT, AGREE_ALIAS),
  D3(fam_bcast, "bcast/mul_nchw_inplace", MB_BC_MUL, 2, 64, 1024, N01, N01, ELT, AGREE_ALIAS),
  D3(fam_bcast, "bcast/div_special", MB_BC_DIV, 3, 17, 33, G(SPECIAL, 0, 2), G(SPECIAL, 0, 2),
     ELT, 0),

  /* ---- reduce ---- */
  /* Positive means keep the long sums well conditioned, so NMSE measures the order. */
  RED_SHAPES("sum", MB_RED_SUM, G(NORMAL, 0.5f, 1.0f), AGREE_TOL_REDUCE),
  RED_SHAPES("sumsq", MB_RED_SUMSQ, N01, AGREE_TOL_REDUCE),
  RED_SHAPES("max", MB_RED_MAX, N01, EXACT),
  RED_SHAPES("max_finite", MB_RED_MAX_FINITE, G(SPECIAL, 0, 1), EXACT),
  RED_SHAPES("argmax", MB_RED_ARGMAX, G(TIES, -2, 2), EXACT),
  RED("max_special_rows_128x10", MB_RED_MAX, 128, 10, 1, G(SPECIAL, 0, 1), EXACT),
  /* max_finite with whole rows of NaN/inf gives -inf */
  RED("max_finite_nonfinite_64x2", MB_RED_MAX_FINITE, 64, 2, 1, G(NONFINITE, 0, 1), EXACT),
  RED("argmax_inf_rows_128x10", MB_RED_ARGMAX, 128, 10, 1, G(INF, 0, 1), EXACT),
  /* NaN is never greater: a leading NaN is skipped, an all-NaN row gives 0 */
  RED("argmax_nan_rows_128x3", MB_RED_ARGMAX, 128, 3, 1, G(NONFINITE, 0, 1), EXACT),
  RED("sum_special_rows_128x10", MB_RED_SUM, 128, 10, 1, G(SPECIAL, 0, 1), AGREE_TOL_REDUCE),

  /* ---- seg_reduce / seg_bcast ---- */
  SRED("sum", MB_RED_SUM, N01, AGREE_TOL_REDUCE),
  SRED("sumsq", MB_RED_SUMSQ, N01, AGREE_TOL_REDUCE),
  SRED("max", MB_RED_MAX, N01, EXACT),
  SRED("max_finite", MB_RED_MAX_FINITE, G(SPECIAL, 0, 1), EXACT),
  SEG(fam_seg_reduce, "seg_reduce/max_special_odd", MB_RED_MAX, k_odd_offs, 7, 0,
      G(SPECIAL, 0, 1), NOGEN, EXACT, 0),
  /* more segments than a grid axis holds (one workgroup per segment is common) */
  SEG(fam_seg_reduce, "seg_reduce/sum_70000x3", MB_RED_SUM, NULL, 70000, 3, N01, NOGEN,
      AGREE_TOL_REDUCE, 0),
  SEG(fam_seg_reduce, "seg_reduce/max_finite_70000x3", MB_RED_MAX_FINITE, NULL, 70000, 3,
      G(SPECIAL, 0, 1), NOGEN, EXACT, 0),
  SBC("mul", MB_SEGBC_MUL, N01, N01, ELT),
  SBC("add", MB_SEGBC_ADD, N01, N01, ELT),
  SBC("inf_to", MB_SEGBC_INF_TO, G(SPECIAL, 0, 1), N01, EXACT),
  SEG(fam_seg_bcast, "seg_bcast/mul_70000x3", MB_SEGBC_MUL, NULL, 70000, 3, N01, N01, ELT, 0),

  /* ---- softmax_xent ---- */
  XENT("1x10", 1, 10, 1.0f, XALL, G(NORMAL, 0, 3), 0),
  XENT("7x10", 7, 10, 1.0f / 7, XALL, G(NORMAL, 0, 3), 0),
  XENT("128x10", 128, 10, 1.0f / 128, XALL, G(NORMAL, 0, 3), 0),
  XENT("257x10", 257, 10, 0.37f, XALL, G(NORMAL, 0, 3), 0),
  XENT("1x1000", 1, 1000, 1.0f, XALL, G(NORMAL, 0, 3), 0),
  XENT("7x1000", 7, 1000, 2.5f, XALL, G(NORMAL, 0, 3), 0),
  XENT("128x1000", 128, 1000, 1.0f / 128, XALL, G(NORMAL, 0, 3), 0),
  XENT("257x1000", 257, 1000, 1.0f / 257, XALL, G(NORMAL, 0, 3), 0),
  /* exp(100) overflows f32: only a max-subtracting kernel passes. */
  XENT("128x10_shift100", 128, 10, 1.0f / 128, XALL, G(NORMAL, 100, 4), 0),
  XENT("257x1000_shift100", 257, 1000, 1.0f, XALL, G(NORMAL, 100, 4), 0),
  XENT("128x10_loss_only", 128, 10, 1.0f, AGREE_XENT_LOSS, G(NORMAL, 0, 3), 0),
  XENT("128x10_dlogits_only", 128, 10, 0.5f, AGREE_XENT_DLOGITS, G(NORMAL, 0, 3), 0),
  XENT("128x10_probs_only", 128, 10, 1.0f, AGREE_XENT_PROBS, G(NORMAL, 0, 3), 0),
  XENT("128x10_inplace", 128, 10, 1.0f / 128, AGREE_XENT_LOSS | AGREE_XENT_DLOGITS,
       G(NORMAL, 0, 3), AGREE_ALIAS),
  XENT("257x1000_inplace_all", 257, 1000, 0.37f, XALL, G(NORMAL, 0, 3), AGREE_ALIAS),

  /* ---- gather_rows ---- */
  GATHER("f32_128x784", 128, 784, 1000, 0, 0.0f, 0),
  GATHER("i32_labels_128", 128, 1, 60000, 0, 0.0f, 1),
  GATHER("odd_33x7", 33, 7, 50, 0, 0.0f, 3),
  GATHER("rows_70000x3", 70000, 3, 100, 0, 0.0f, 0),
  GATHER("u8_128x784", 128, 784, 1000, 1, 1.0f / 255, 0),
  GATHER("u8_odd_17x33", 17, 33, 40, 1, 0.5f, 1),     /* rows start at unaligned bytes */
  GATHER("u8_1x1", 1, 1, 3, 1, 1.0f, 0),

  /* ---- optim ---- */
  SGD("sgd_first_100003", 100003, 0.01f, 5e-4f, 0.9f, 0.0f, 1),
  SGD("sgd_later_100003", 100003, 0.01f, 5e-4f, 0.9f, 0.0f, 0),
  SGD("sgd_dampening_1001", 1001, 0.1f, 0.0f, 0.9f, 0.1f, 0),
  SGD("sgd_first_dampening_1001", 1001, 0.1f, 1e-2f, 0.5f, 0.3f, 1),
  SGD("sgd_later_mlp", 795010, 0.01f, 0.0f, 0.9f, 0.0f, 0),
  ADAM("adam_t1_100003", 100003, 1e-3f, 1e-4f, 0.9f, 0.999f, 1e-8f, 1),
  ADAM("adam_t5_100003", 100003, 1e-3f, 1e-4f, 0.9f, 0.999f, 1e-8f, 5),
  ADAM("adam_t5_nowd_1001", 1001, 1e-2f, 0.0f, 0.8f, 0.99f, 1e-6f, 5),
  ADAM("adam_t1000_mlp", 795010, 1e-3f, 5e-4f, 0.9f, 0.999f, 1e-8f, 1000),

  /* ---- rng ---- */
  RNG("u32_1", MB_RNG_U32, 1, 0, 0, 0, 0),
  RNG("u32_1001", MB_RNG_U32, 1001, 7, 0, 0, 1),
  RNG("u32_16776963", MB_RNG_U32, 16776963, 0x100000005ull, 0, 0, 0),
  RNG("uniform_1003", MB_RNG_UNIFORM, 1003, 3, -1.0f, 3.0f, 0),
  /* p1 - p0 = 0.6 rounds: a contracted (FMA) p0 + (p1-p0)·u is not bit-identical. */
  RNG("uniform_0.1_0.7_4099", MB_RNG_UNIFORM, 4099, 5, 0.1f, 0.7f, 0),
  RNG("uniform_1000003", MB_RNG_UNIFORM, 1000003, 0xffffffff00000001ull, 0.0f, 1.0f, 2),
  RNG("normal_1", MB_RNG_NORMAL, 1, 0, 0.0f, 1.0f, 0),
  RNG("normal_1001", MB_RNG_NORMAL, 1001, 11, 0.5f, 2.0f, 1),
  RNG("normal_1000003", MB_RNG_NORMAL, 1000003, 0x200000000ull, 0.0f, 0.01f, 0),

  /* ---- convolution ---- */
  CONV_GEOMS(fam_im2col, "im2col", EXACT),
  CONV_GEOMS(fam_col2im, "col2im", ELT),
  CONVC(fam_conv, "conv/c3_32x32_k3s1p1_b2_cout16", AGREE_TOL_GEMM,
        GEOM(2, 3, 32, 32, 3, 1, 1), 16),
  CONVC(fam_conv, "conv/c64_32x32_k1s2p0_b2_cout32", AGREE_TOL_GEMM,
        GEOM(2, 64, 32, 32, 1, 2, 0), 32),
  CONVC(fam_conv, "conv/stem_c3_224x224_k7s2p3_b2_cout8", AGREE_TOL_GEMM,
        GEOM(2, 3, 224, 224, 7, 2, 3), 8),
  /* ---- permute: the regroupings of core/conv.c at ResNet-18's layers (columns
   * [n][c·k·k][oh·ow] -> [c·k·k][n][oh·ow], dy [n][cout][oh·ow] -> [cout][n][oh·ow] and
   * back from [cout][n][oh·ow]), a plain transpose (inner 1), short odd rows at a
   * misaligned offset, unit axes, and more elements than one grid axis holds ---- */
  PERM("cols_cifar_stem_b4_27x1024", 4, 27, 1024, 0),
  PERM("cols_layer1_b4_576x1024", 4, 576, 1024, 0),
  PERM("cols_layer2_b4_1152x256", 4, 1152, 256, 0),
  PERM("cols_layer3_b8_2304x64", 8, 2304, 64, 0),
  PERM("cols_layer4_b16_4608x16", 16, 4608, 16, 0),
  PERM("cols_fmnist_layer3_b8_2304x49", 8, 2304, 49, 0),
  PERM("cols_imagenet_layer4_b4_4608x49", 4, 4608, 49, 0),
  PERM("cols_shortcut_layer4_b16_256x16", 16, 256, 16, 0),
  PERM("dy_layer4_b16_512x16", 16, 512, 16, 0),
  PERM("y_layer4_512x16x16", 512, 16, 16, 0),
  PERM("transpose_33x257x1", 33, 257, 1, 0),
  PERM("odd_7x33x3", 7, 33, 3, 1),
  PERM("odd_5x3x17", 5, 3, 17, 3),
  PERM("outer1_1x5x7", 1, 5, 7, 0),
  PERM("mid1_6x1x5", 6, 1, 5, 0),
  PERM("big_2x4099x2047", 2, 4099, 2047, 0),

  /* ---- conv2d (core/conv.c over im2col/permute/col2im/gemm), ResNet-18 layers, batch > 1 ---- */
  CONV2D("cifar_stem_c3_32x32_k3s1p1_b3_cout64", GEOM(3, 3, 32, 32, 3, 1, 1), 64),
  CONV2D("c64_32x32_k3s1p1_b2_cout64", GEOM(2, 64, 32, 32, 3, 1, 1), 64),
  CONV2D("c64_32x32_k3s2p1_b2_cout128", GEOM(2, 64, 32, 32, 3, 2, 1), 128),
  CONV2D("short_c64_32x32_k1s2p0_b2_cout128", GEOM(2, 64, 32, 32, 1, 2, 0), 128),
  CONV2D("c128_16x16_k3s2p1_b2_cout256", GEOM(2, 128, 16, 16, 3, 2, 1), 256),
  CONV2D("c256_8x8_k3s1p1_b2_cout256", GEOM(2, 256, 8, 8, 3, 1, 1), 256),
  CONV2D("short_c256_8x8_k1s2p0_b3_cout512", GEOM(3, 256, 8, 8, 1, 2, 0), 512),
  CONV2D("c512_4x4_k3s1p1_b2_cout512", GEOM(2, 512, 4, 4, 3, 1, 1), 512),
  /* chunks of 2, 2 and a single image; the Fashion-MNIST stem has more outputs than rows */
  CONV2D("c512_4x4_k3s1p1_b5_cout512", GEOM(5, 512, 4, 4, 3, 1, 1), 512),
  CONV2D("fmnist_stem_c1_28x28_k3s1p1_b3_cout64", GEOM(3, 1, 28, 28, 3, 1, 1), 64),
  CONV2D("stem_c3_64x64_k7s2p3_b2_cout16", GEOM(2, 3, 64, 64, 7, 2, 3), 16),
  CONV2D("pointwise_c5_9x11_k1s1p0_b3_cout7", WIN(3, 5, 9, 11, 1, 1, 1, 0), 7),
  CONV2D("odd_c3_7x5_k3s2p2_b5_cout5", GEOM(5, 3, 7, 5, 3, 2, 2), 5),
  /* the input gradient added to dx, the weight gradient with beta (dw read) */
  {.id = "conv2d/dx_acc_c64_32x32_k3s2p1_b3_cout128", .fam = &fam_conv2d, .op = CONV2D_DX_ACC,
   .gen = GEN(N01), .tol = AGREE_TOL_GEMM, .conv = {.g = GEOM(3, 64, 32, 32, 3, 2, 1), .cout = 128}},
  {.id = "conv2d/dw_beta_c64_32x32_k3s2p1_b3_cout128", .fam = &fam_conv2d, .op = CONV2D_DW_BETA,
   .gen = GEN(N01), .tol = AGREE_TOL_GEMM, .conv = {.g = GEOM(3, 64, 32, 32, 3, 2, 1), .cout = 128}},
  {.id = "conv2d/dx_acc_pointwise_c5_9x11_k1s1p0_b3_cout7", .fam = &fam_conv2d,
   .op = CONV2D_DX_ACC, .gen = GEN(N01), .tol = AGREE_TOL_GEMM,
   .conv = {.g = WIN(3, 5, 9, 11, 1, 1, 1, 0), .cout = 7}},
  {.id = "conv2d/dw_beta_pointwise_c5_9x11_k1s1p0_b3_cout7", .fam = &fam_conv2d,
   .op = CONV2D_DW_BETA, .gen = GEN(N01), .tol = AGREE_TOL_GEMM,
   .conv = {.g = WIN(3, 5, 9, 11, 1, 1, 1, 0), .cout = 7}},

  /* ---- batchnorm / batchnorm_bwd: train (batch statistics) and eval ---- */
#define X BN_FWD
  BN_SHAPES(X)
#undef X
#define X BN_BWD
  BN_SHAPES(X)
#undef X

  /* ---- pool / pool_bwd ---- */
#define X MAX_FWD
  MAX_SHAPES(X)
#undef X
#define X AVG_FWD
  AVG_SHAPES(X)
#undef X
#define X MAX_BWD
  MAX_SHAPES(X)
#undef X
#define X AVG_BWD
  AVG_SHAPES(X)
#undef X

  /* ---- ReLU backward and the residual add at a ResNet activation (2×64×32×32) ---- */
  ELTW(fam_binary, "binary/relu_bwd_nchw_2x64x32x32", MB_BIN_RELU_BWD, 131072, 0, 0,
       G(MIXED, 0, 2), NOGEN, EXACT, 0, 0),
  ELTW(fam_binary, "binary/residual_add_nchw_2x64x32x32", MB_BIN_AXPBY, 131072, 1.0f, 1.0f,
       N01, N01, ELT, AGREE_ALIAS, 0),

  /* ---- the forgetting update (optional op, or the op chain), MLP table and odd segments:
   * Fisher values as the method makes them (positive, floored), then zeros, negatives and
   * non-finite values for the NaN and ±inf paths ---- */
  FORGET("mlp", k_mlp_offs, 4, G(UNIFORM, 1e-16f, 1e-2f), G(UNIFORM, 1e-16f, 1e-2f), 1e-3f, 10.0f, 0),
  FORGET("mlp_inplace", k_mlp_offs, 4, G(UNIFORM, 1e-16f, 1e-2f), G(UNIFORM, 1e-16f, 1e-2f),
         1e-3f, 10.0f, AGREE_ALIAS),
  FORGET("odd_alpha_lambda1", k_odd_offs, 7, G(UNIFORM, 1e-6f, 1.0f), G(UNIFORM, 1e-6f, 1.0f),
         1e-3f, 1e6f, 0),
  FORGET("odd_special", k_odd_offs, 7, G(SPECIAL, 0, 2), G(SPECIAL, 0, 2), 1e-3f, 10.0f, 0),
  FORGET("odd_nonfinite", k_odd_offs, 7, G(NONFINITE, 0, 2), G(MIXED, 0, 2), 1e-3f, 10.0f,
         AGREE_ALIAS),
};

int agree_cases(const agree_case **out)
{
  *out = k_cases;
  return (int)(sizeof k_cases / sizeof k_cases[0]);
}

const agree_case *agree_case_find(const char *id)
{
  for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++)
    if (strcmp(k_cases[i].id, id) == 0) return &k_cases[i];
  return NULL;
}
