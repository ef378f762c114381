/* Agreement families of the element-wise, reduction, loss, gather, optimiser, RNG,
 * memory, timer and GEMM ops: what each allocates and calls. */
#include "harness/agree_families.h"

#include "core/clock.h"
#include "core/conv.h"
#include "core/forget_mnemonic.h"
#include "core/gemm_sq.h"
#include "core/ops.h"
#include "philox.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================ memory */


static void mem_plan(const agree_case *c, agree_plan *p)
{
  agree_gen bits = {AGREE_GEN_BITS, 0, 0};
  if (c->op != MEM_FILL) agree_add_in(p, "x", c->mem.n, bits);
  agree_add_out(p, "y", c->mem.n, 1);
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

const agree_family fam_mem = {"mem", mem_plan, mem_run, NULL, NULL};

/* ================================================================ sync and timers */

/* A fill between two timer marks: after sync the time must be readable where the
 * backend claims a device timer, and no longer than the host clock around the same
 * synchronised region (marks inside it cannot span more). */
static void timer_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_sync(be);
  double h0 = mb_now();
  mb_timer *t = mb_timer_begin(be);
  mb_fill_u32(be, v[0], c->mem.n, c->mem.bits);
  mb_timer_end(be, t);
  mb_sync(be);
  double host_ms = 1e3 * (mb_now() - h0);
  double ms = mb_timer_ms(be, t);
  mb_timer_free(be, t);
  if (!mb_ok(be)) return;
  if (be->info.has_device_timer && !(ms >= 0.0))
    mb_fail(be, MB_DEVICE_ERROR, "timer: has_device_timer is set but timer_ms gave %g", ms);
  else if (ms > 60000.0)
    mb_fail(be, MB_DEVICE_ERROR, "timer: implausible %g ms for one fill", ms);
  else if (be->info.has_device_timer && ms > 1.05 * host_ms + 0.05)   /* 50 µs: clock granularity */
    mb_fail(be, MB_DEVICE_ERROR, "timer: %g ms on the device but %g ms on the host around it", ms,
            host_ms);
}

const agree_family fam_timer = {"timer", mem_plan, timer_run, NULL, NULL};

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
  agree_add_in(p, "A", l.na, c->gen);
  agree_add_in(p, "B", l.nb, c->gen2);
  /* beta == 0: C starts as NaN, which must not reach the result. */
  int ci = agree_add_out(p, "C", l.nc, 0);
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

const agree_family fam_gemm = {"gemm", gemm_plan, gemm_run, NULL, NULL};

/* ================================================================ gemm_sq_acc
 * mb_gemm_sq_acc_auto (core/gemm_sq.c): the backend's optional gemm_sq_acc where it has
 * one, else the batched GEMM into scratch and one SUMSQ reduce over the samples (ADD_SQR
 * for a case of one sample); the oracle always
 * composes.  Arguments: A, B, acc (accumulated onto Fisher-like values ≥ 0, or onto
 * the second distribution where the case names one) and the composition's scratch
 * (zeroed after the run: it is not a result, and the optional op leaves it). */
static int sq_groups(const agree_case *c) { return c->gemm.groups > 0 ? c->gemm.groups : 1; }

static void gemm_sq_plan(const agree_case *c, agree_plan *p)
{
  const agree_gemm_shape *g = &c->gemm;
  gemm_layout l = gemm_layout_of(g);
  const size_t mn = (size_t)g->m * (size_t)g->n;
  agree_add_in(p, "A", l.na, c->gen);
  agree_add_in(p, "B", l.nb, c->gen);
  int acc = agree_add_out(p, "acc", (size_t)sq_groups(c) * mn, 0);
  p->arg[acc].gen = agree_gen_or(c->gen2, (agree_gen){AGREE_GEN_UNIFORM, 0.0f, 1.0f});
  /* room for the sum of one sample's squares too: the composition's reduce path */
  agree_add_out(p, "scratch", ((size_t)g->batch + (size_t)sq_groups(c)) * mn, 0);
}

static void gemm_sq_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  const agree_gemm_shape *g = &c->gemm;
  gemm_layout l = gemm_layout_of(g);
  const mb_gemm_sq_args a = {
    .g = {.trans_a = g->ta, .trans_b = g->tb, .m = g->m, .n = g->n, .k = g->k, .alpha = g->alpha,
          .a = v[0], .b = v[1], .lda = l.lda, .ldb = l.ldb, .batch = g->batch,
          .stride_a = l.sa, .stride_b = l.sb},
    .groups = sq_groups(c), .acc = v[2],
  };
  const size_t scratch_n = ((size_t)g->batch + (size_t)sq_groups(c)) * (size_t)g->m * (size_t)g->n;
  mb_gemm_sq_acc_auto(be, &a, v[3], scratch_n);
  mb_fill(be, v[3], scratch_n, 0.0f);
}

const agree_family fam_gemm_sq = {"gemm_sq_acc", gemm_sq_plan, gemm_sq_run, NULL, NULL};

/* ================================================================ elementwise */

static void unary_plan(const agree_case *c, agree_plan *p)
{
  int x = agree_add_in(p, "x", c->elt.n, c->gen);
  agree_add_result(p, c, "y", c->elt.n, 0, x);
}

static void unary_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_unary(be, (mb_unary_op)c->op, v[0], v[1], c->elt.n, c->elt.a, c->elt.b);
}

static void binary_plan(const agree_case *c, agree_plan *p)
{
  int x1 = agree_add_in(p, "x1", c->elt.n, c->gen);
  agree_add_in(p, "x2", c->elt.n, agree_gen_or(c->gen2, c->gen));
  agree_add_result(p, c, "y", c->elt.n, 0, x1);
}

static void binary_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_binary(be, (mb_binary_op)c->op, v[0], v[1], v[2], c->elt.n, c->elt.a, c->elt.b);
}

static void where_plan(const agree_case *c, agree_plan *p)
{
  agree_gen cond = {AGREE_GEN_COND, 0, 0};
  agree_add_in(p, "cond", c->elt.n, cond);
  int x1 = agree_add_in(p, "x1", c->elt.n, c->gen);
  agree_add_in(p, "x2", c->elt.n, agree_gen_or(c->gen2, c->gen));
  agree_add_result(p, c, "y", c->elt.n, 0, x1);
}

static void where_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_where(be, v[0], v[1], v[2], v[3], c->elt.n);
}

static void bcast_plan(const agree_case *c, agree_plan *p)
{
  size_t n = c->d3.outer * c->d3.mid * c->d3.inner;
  int x = agree_add_in(p, "x", n, c->gen);
  agree_add_in(p, "v", c->d3.mid, agree_gen_or(c->gen2, c->gen));
  agree_add_result(p, c, "y", n, 0, x);
}

static void bcast_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_bcast(be, (mb_bcast_op)c->op, v[0], v[1], v[2], c->d3.outer, c->d3.mid, c->d3.inner);
}

const agree_family fam_unary = {"unary", unary_plan, unary_run, NULL, NULL};
const agree_family fam_binary = {"binary", binary_plan, binary_run, NULL, NULL};
const agree_family fam_where = {"where", where_plan, where_run, NULL, NULL};
const agree_family fam_bcast = {"bcast", bcast_plan, bcast_run, NULL, NULL};

/* ================================================================ reductions */

static void reduce_plan(const agree_case *c, agree_plan *p)
{
  agree_add_in(p, "x", c->d3.outer * c->d3.mid * c->d3.inner, c->gen);
  agree_add_out(p, "y", c->d3.outer * c->d3.inner, c->op == MB_RED_ARGMAX);
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
  agree_add_in(p, "x", seg_total(c), c->gen);
  agree_add_out(p, "y", (size_t)c->seg.nseg, 0);
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
  int x = agree_add_in(p, "x", seg_total(c), c->gen);
  agree_add_in(p, "v", (size_t)c->seg.nseg, agree_gen_or(c->gen2, c->gen));
  agree_add_result(p, c, "y", seg_total(c), 0, x);
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

const agree_family fam_reduce = {"reduce", reduce_plan, reduce_run, NULL, NULL};
const agree_family fam_seg_reduce = {"seg_reduce", seg_reduce_plan, seg_reduce_run, NULL,
                                            NULL};
const agree_family fam_seg_bcast = {"seg_bcast", seg_bcast_plan, seg_bcast_run, NULL,
                                           NULL};

/* ================================================================ softmax_xent */

/* Arguments: logits, labels, loss, dlogits, probs (absent ones are null views). */
static void xent_plan(const agree_case *c, agree_plan *p)
{
  const agree_xent_shape *s = &c->xent;
  size_t rc = (size_t)s->rows * (size_t)s->cols;
  agree_gen labels = {AGREE_GEN_INDEX, 0, (float)s->cols};
  int lg = agree_add_in(p, "logits", rc, c->gen);
  agree_add_in(p, "labels", (size_t)s->rows, labels);
  agree_add_out(p, "loss", (size_t)s->rows, 0);
  int d = agree_add_out(p, "dlogits", rc, 0);
  agree_add_out(p, "probs", rc, 0);
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

const agree_family fam_xent = {"softmax_xent", xent_plan, xent_run, NULL, NULL};

/* ================================================================ layernorm, softmax
 * Rows × cols in c->rows; outputs (AGREE_LN_*) picks which optional outputs are passed. */

/* x, gamma, beta, y (may alias x), save_mean, save_rstd. */
static void ln_plan(const agree_case *c, agree_plan *p)
{
  const agree_rows_shape *s = &c->rows;
  size_t n = (size_t)s->rows * (size_t)s->cols, cols = (size_t)s->cols, rows = (size_t)s->rows;
  agree_gen gam = {AGREE_GEN_UNIFORM, 0.5f, 1.5f}, bet = {AGREE_GEN_NORMAL, 0.0f, 0.5f};
  int x = agree_add_in(p, "x", n, c->gen);
  agree_add_in(p, "gamma", cols, gam);
  agree_add_in(p, "beta", cols, bet);
  agree_add_result(p, c, "y", n, 0, x);
  int sm = agree_add_out(p, "save_mean", rows, 0);
  int sr = agree_add_out(p, "save_rstd", rows, 0);
  p->arg[sm].none = !(s->outputs & AGREE_LN_MEAN);
  p->arg[sr].none = !(s->outputs & AGREE_LN_RSTD);
}

static void ln_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_ln_args a = {
    .rows = c->rows.rows, .c = c->rows.cols, .eps = c->rows.eps, .x = v[0], .gamma = v[1],
    .beta = v[2], .y = v[3], .save_mean = v[4], .save_rstd = v[5],
  };
  mb_layernorm(be, &a);
}

/* x, dy, gamma, mean, rstd (inputs drawn as a forward would leave them), dx (may alias
 * dy), dgamma, dbeta. */
static void ln_bwd_plan(const agree_case *c, agree_plan *p)
{
  const agree_rows_shape *s = &c->rows;
  size_t n = (size_t)s->rows * (size_t)s->cols, cols = (size_t)s->cols, rows = (size_t)s->rows;
  agree_gen gam = {AGREE_GEN_UNIFORM, 0.5f, 1.5f}, mu = {AGREE_GEN_NORMAL, 0.5f, 0.2f};
  agree_gen rs = {AGREE_GEN_UNIFORM, 0.4f, 0.6f};
  agree_add_in(p, "x", n, c->gen);
  int dy = agree_add_in(p, "dy", n, agree_gen_or(c->gen2, c->gen));
  agree_add_in(p, "gamma", cols, gam);
  agree_add_in(p, "mean", rows, mu);
  agree_add_in(p, "rstd", rows, rs);
  int dx = agree_add_result(p, c, "dx", n, 0, dy);
  int dg = agree_add_out(p, "dgamma", cols, 0);
  int db = agree_add_out(p, "dbeta", cols, 0);
  p->arg[dx].none = !(s->outputs & AGREE_LN_DX);
  p->arg[dg].none = !(s->outputs & AGREE_LN_DGAMMA);
  p->arg[db].none = !(s->outputs & AGREE_LN_DBETA);
}

static void ln_bwd_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_ln_bwd_args a = {
    .rows = c->rows.rows, .c = c->rows.cols, .x = v[0], .dy = v[1], .gamma = v[2],
    .mean = v[3], .rstd = v[4], .dx = v[5], .dgamma = v[6], .dbeta = v[7],
  };
  mb_layernorm_bwd(be, &a);
}

/* x, y (may alias x). */
static void softmax_plan(const agree_case *c, agree_plan *p)
{
  size_t n = (size_t)c->rows.rows * (size_t)c->rows.cols;
  int x = agree_add_in(p, "x", n, c->gen);
  agree_add_result(p, c, "y", n, 0, x);
}

static void softmax_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_softmax_args a = {.rows = c->rows.rows, .cols = c->rows.cols, .x = v[0], .y = v[1]};
  mb_softmax(be, &a);
}

/* y (the forward's output), dy, dx (may alias dy). */
static void softmax_bwd_plan(const agree_case *c, agree_plan *p)
{
  size_t n = (size_t)c->rows.rows * (size_t)c->rows.cols;
  agree_add_in(p, "y", n, c->gen);
  int dy = agree_add_in(p, "dy", n, agree_gen_or(c->gen2, c->gen));
  agree_add_result(p, c, "dx", n, 0, dy);
}

static void softmax_bwd_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_softmax_args a = {
    .rows = c->rows.rows, .cols = c->rows.cols, .y = v[0], .dy = v[1], .dx = v[2],
  };
  mb_softmax_bwd(be, &a);
}

const agree_family fam_ln = {"layernorm", ln_plan, ln_run, NULL, NULL};
const agree_family fam_ln_bwd = {"layernorm_bwd", ln_bwd_plan, ln_bwd_run, NULL, NULL};
const agree_family fam_softmax = {"softmax", softmax_plan, softmax_run, NULL, NULL};
const agree_family fam_softmax_bwd = {"softmax_bwd", softmax_bwd_plan, softmax_bwd_run, NULL,
                                      NULL};

/* ================================================================ gather_rows */

static void gather_plan(const agree_case *c, agree_plan *p)
{
  const agree_gather_shape *s = &c->gather;
  size_t src = (size_t)s->n_src_rows * (size_t)s->row_len;
  agree_gen bits = {AGREE_GEN_BITS, 0, 0};
  /* A few indices fall outside [0, n_src_rows) on both sides: zero rows. */
  agree_gen idx = {AGREE_GEN_INDEX, -2.0f, (float)s->n_src_rows + 2.0f};
  agree_add_in(p, "src", s->src_u8 ? (src + 3) / 4 : src, bits);
  agree_add_in(p, "idx", (size_t)s->n_rows, idx);
  agree_add_out(p, "dst", (size_t)s->n_rows * (size_t)s->row_len, !s->src_u8);
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

const agree_family fam_gather = {"gather_rows", gather_plan, gather_run, NULL, NULL};

/* ================================================================ optim */

/* Arguments w, g, m, v; SGD passes v as the null view. */
static void optim_plan(const agree_case *c, agree_plan *p)
{
  const agree_optim_shape *s = &c->optim;
  agree_gen g = {AGREE_GEN_NORMAL, 0.0f, 0.1f}, m = {AGREE_GEN_NORMAL, 0.0f, 0.01f};
  agree_gen v = {AGREE_GEN_UNIFORM, 0.0f, 1e-3f};
  int adam = c->op == MB_OPT_ADAM;
  int w = agree_add_in(p, "w", s->n, c->gen);
  p->arg[w].out = 1;
  agree_add_in(p, "g", s->n, g);
  /* The first SGD step must not read m: it starts as NaN. */
  agree_add_arg(p, "m", s->n, !adam && s->first_step ? agree_gen_none : m, 1, 0);
  int vi = agree_add_arg(p, "v", s->n, v, 1, 0);
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

const agree_family fam_optim = {"optim", optim_plan, optim_run, NULL, NULL};

/* ================================================================ rng */

static void rng_plan(const agree_case *c, agree_plan *p)
{
  agree_add_out(p, "y", c->rng.n, c->op != MB_RNG_NORMAL);
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

const agree_family fam_rng = {"rng", rng_plan, rng_run, NULL, rng_oracle};

