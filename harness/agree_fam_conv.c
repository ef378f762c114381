/* Agreement families of the convolution-network ops (im2col, col2im, permute, the
 * conv2d compositions and optional ops, batch norm, pooling) and of the fused
 * forgetting update: what each allocates and calls. */
#include "harness/agree_families.h"

#include "core/conv.h"
#include "core/forget_mnemonic.h"
#include "core/ops.h"
#include "philox.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  agree_add_in(p, "x", conv_in_len(&c->conv.g), c->gen);
  agree_add_out(p, "cols", conv_cols_len(&c->conv.g), 0);
}

static void im2col_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  mb_im2col(be, &c->conv.g, v[0], v[1]);
}

/* col2im accumulates into dx, so dx starts with data. */
static void col2im_plan(const agree_case *c, agree_plan *p)
{
  agree_add_in(p, "cols", conv_cols_len(&c->conv.g), c->gen);
  int dx = agree_add_in(p, "dx", conv_in_len(&c->conv.g), agree_gen_or(c->gen2, c->gen));
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
  agree_add_in(p, "x", conv_in_len(g), c->gen);
  agree_add_in(p, "w", (size_t)c->conv.cout * conv_ckk(g), agree_gen_or(c->gen2, c->gen));
  agree_add_out(p, "cols", conv_cols_len(g), 0);
  agree_add_out(p, "y", (size_t)g->n * (size_t)c->conv.cout * conv_ohw(g), 0);
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

const agree_family fam_im2col = {"im2col", im2col_plan, im2col_run, need_im2col, NULL};
const agree_family fam_col2im = {"col2im", col2im_plan, col2im_run, need_col2im, NULL};
const agree_family fam_conv = {"conv", conv_plan, conv_run, need_im2col, conv_oracle};

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
  agree_add_in(p, "x", permute_len(c), bits);
  agree_add_out(p, "y", permute_len(c), 1);
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

const agree_family fam_permute = {"permute", permute_plan, permute_run, need_permute,
                                         permute_oracle};

/* ================================================================ convolution via the core
 * (core/conv.c: im2col, permute and one GEMM per chunk of images forward, for the input
 * gradient (then col2im) and for the weight gradient), checked on the oracle against
 * direct loops in f64.  op: CONV2D_FWD / _DX / _DW; the workspace holds chunks of
 * CONV2D_WS_IMAGES images, fixed at 2 so that batches > 2 run in several chunks.
 * Grouped cases (conv.groups > 1, ResNeXt's 3×3 layers) run the generic composition on
 * every backend, the optional conv ops taking no groups. */
#define CONV2D_BETA 0.5f   /* CONV2D_DW_BETA: dw = 0.5·dw + Σ …; CONV2D_DX_ACC: dx += … */
#define CONV2D_WS_IMAGES 2

static size_t conv_out_len(const agree_case *c)
{
  return (size_t)c->conv.g.n * (size_t)c->conv.cout * conv_ohw(&c->conv.g);
}

static int conv_groups(const agree_case *c) { return c->conv.groups > 1 ? c->conv.groups : 1; }

static size_t conv2d_ws(const agree_case *c)
{
  size_t n = mb_conv2d_ws_for(&c->conv.g, c->conv.cout, CONV2D_WS_IMAGES);
  return n ? n : 1;
}

/* Arguments: a (x or dy), w (or dy), the result, the workspace. */
static void conv2d_plan(const agree_case *c, agree_plan *p)
{
  const mb_conv_geom *g = &c->conv.g;
  size_t nw = (size_t)c->conv.cout * conv_ckk(g) / (size_t)conv_groups(c);
  if (c->op == CONV2D_FWD) {
    agree_add_in(p, "x", conv_in_len(g), c->gen);
    agree_add_in(p, "w", nw, agree_gen_or(c->gen2, c->gen));
    agree_add_out(p, "y", conv_out_len(c), 0);
  } else if (c->op == CONV2D_DX || c->op == CONV2D_DX_ACC) {
    agree_add_in(p, "dy", conv_out_len(c), c->gen);
    agree_add_in(p, "w", nw, agree_gen_or(c->gen2, c->gen));
    if (c->op == CONV2D_DX) agree_add_out(p, "dx", conv_in_len(g), 0);
    else agree_add_arg(p, "dx", conv_in_len(g), c->gen, 1, 0);   /* read, then added to */
  } else {
    agree_add_in(p, "x", conv_in_len(g), c->gen);
    agree_add_in(p, "dy", conv_out_len(c), agree_gen_or(c->gen2, c->gen));
    if (c->op == CONV2D_DW) agree_add_out(p, "dw", nw, 0);
    else agree_add_arg(p, "dw", nw, c->gen, 1, 0);
  }
  agree_add_out(p, "ws", conv2d_ws(c), 0);
}

static void conv2d_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  const mb_conv_geom *g = &c->conv.g;
  size_t ws = conv2d_ws(c);
  const int G = conv_groups(c);
  if (c->op == CONV2D_FWD)
    mb_conv2d_grouped_fwd(be, g, c->conv.cout, G, v[0], v[1], v[2], v[3], ws);
  else if (c->op == CONV2D_DX || c->op == CONV2D_DX_ACC)
    mb_conv2d_grouped_bwd_data(be, g, c->conv.cout, G, v[0], v[1], v[2], c->op == CONV2D_DX_ACC,
                               v[3], ws);
  else
    mb_conv2d_grouped_bwd_filter(be, g, c->conv.cout, G, v[0], v[1], v[2],
                                 c->op == CONV2D_DW_BETA ? CONV2D_BETA : 0.0f, v[3], ws);
  /* the workspace is scratch, not a result (an optional conv op leaves it untouched) */
  mb_fill(be, v[3], ws, 0.0f);
}

static const char *need_conv2d(const mb_backend_ops *ops, const agree_case *c)
{
  (void)c;
  return !ops->im2col ? "im2col" : !ops->col2im ? "col2im" : !ops->permute ? "permute" : NULL;
}

/* Direct loops in f64: y = conv(x, w), dx = convᵀ(dy, w), dw = Σ dy ⊗ x; with groups,
 * output channel co sees the input channels of its group only, w [cout][c/G][kh][kw]. */
static int conv2d_oracle(const agree_case *c, uint64_t seed, const agree_plan *p,
                         uint32_t *const *in, uint32_t *const *out, char *why, size_t len)
{
  (void)seed;
  const mb_conv_geom *g = &c->conv.g;
  const int co_n = c->conv.cout, G = conv_groups(c), cg = g->c / G, cog = co_n / G;
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
      for (int cj = 0; cj < cg; cj++)
        for (int ki = 0; ki < g->kh; ki++)
          for (int kj = 0; kj < g->kw; kj++)
            for (int oy = 0; oy < g->oh; oy++)
              for (int ox = 0; ox < g->ow; ox++) {
                int iy = oy * g->stride - g->pad + ki, ix = ox * g->stride - g->pad + kj;
                if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
                int ci = co / cog * cg + cj;   /* channel cj of the output's group */
                size_t xi = (((size_t)b * g->c + ci) * g->h + iy) * g->w + ix;
                size_t wi = (((size_t)co * cg + cj) * g->kh + ki) * g->kw + kj;
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

const agree_family fam_conv2d = {"conv2d", conv2d_plan, conv2d_run, need_conv2d,
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
  int x = agree_add_in(p, "x", n, c->gen);
  agree_add_in(p, "gamma", ch, gam);
  agree_add_in(p, "beta", ch, bet);
  int rm = agree_add_in(p, "run_mean", ch, rmu);
  int rv = agree_add_in(p, "run_var", ch, rvar);
  p->arg[rm].out = p->arg[rv].out = train;
  agree_add_result(p, c, "y", n, 0, x);
  int sm = agree_add_out(p, "save_mean", ch, 0);
  int si = agree_add_out(p, "save_invstd", ch, 0);
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
  agree_add_in(p, "x", n, c->gen);
  int dy = agree_add_in(p, "dy", n, agree_gen_or(c->gen2, c->gen));
  agree_add_in(p, "gamma", ch, gam);
  agree_add_in(p, "mean", ch, mu);
  agree_add_in(p, "invstd", ch, is);
  agree_add_result(p, c, "dx", n, 0, dy);
  agree_add_out(p, "dgamma", ch, 0);
  agree_add_out(p, "dbeta", ch, 0);
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

const agree_family fam_bn = {"batchnorm", bn_plan, bn_run, need_bn, NULL};
const agree_family fam_bn_bwd = {"batchnorm_bwd", bn_bwd_plan, bn_bwd_run, need_bn_bwd,
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
  agree_add_in(p, "x", conv_in_len(&c->conv.g), c->gen);
  agree_add_out(p, "y", pool_out_len(c), 0);
  int idx = agree_add_out(p, "idx", pool_out_len(c), 1);
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
  int x = agree_add_in(p, "x", conv_in_len(&c->conv.g), c->gen);
  int y = agree_add_out(p, "y", pool_out_len(c), 0);
  int idx = agree_add_out(p, "idx", pool_out_len(c), 1);
  p->arg[x].none = p->arg[y].none = p->arg[idx].none = !max;
  agree_add_in(p, "dy", pool_out_len(c), agree_gen_or(c->gen2, c->gen));
  agree_add_out(p, "dx", conv_in_len(&c->conv.g), 0);
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

const agree_family fam_pool = {"pool", pool_plan, pool_run, need_pool, NULL};
const agree_family fam_pool_bwd = {"pool_bwd", pool_bwd_plan, pool_bwd_run, need_pool_bwd,
                                          NULL};

/* ================================================================ forgetting update
 * mb_forget_update_auto (core/forget_mnemonic.c): the backend's optional forget_update
 * where it has one, else the op chain.  The oracle always runs the chain, so on ref
 * this checks the optional op against the generic composition.  Arguments: f_forget,
 * f_remain, w, then delta, plus, minus and the chain's scratch (zeroed after the run).
 * AGREE_ALIAS: delta shares f_forget, plus f_remain and minus w, as core/forget_mnemonic.c
 * calls it. */
static size_t forget_len(const agree_case *c) { return c->forget.offs[c->forget.nseg]; }

static void forget_plan(const agree_case *c, agree_plan *p)
{
  size_t n = forget_len(c);
  int ff = agree_add_in(p, "f_forget", n, c->gen);
  int fr = agree_add_in(p, "f_remain", n, agree_gen_or(c->gen2, c->gen));
  agree_gen wgen = {AGREE_GEN_NORMAL, 0.0f, 0.1f};
  int w = agree_add_in(p, "w", n, wgen);
  int d = agree_add_out(p, "delta", n, 0);
  int pl = agree_add_out(p, "plus", n, 0);
  int mi = agree_add_out(p, "minus", n, 0);
  agree_add_out(p, "scratch", n, 0);
  if (c->flags & AGREE_ALIAS) {
    p->arg[d].alias_of = ff;
    p->arg[pl].alias_of = fr;
    p->arg[mi].alias_of = w;
  }
}

static void forget_run(mb_backend *be, const agree_case *c, const mb_view *v, uint64_t seed)
{
  (void)seed;
  const mb_forget_args a = {
    .f_forget = v[0], .f_remain = v[1], .w = v[2], .delta = v[3], .plus = v[4], .minus = v[5],
    .offs = c->forget.offs, .nseg = c->forget.nseg,
    .lambda1 = c->forget.lambda1, .lambda2 = c->forget.lambda2,
    .scale_forget = c->forget.scale_forget, .scale_remain = c->forget.scale_remain,
  };
  mb_forget_update_auto(be, &a, v[6]);
  mb_fill(be, v[6], forget_len(c), 0.0f);   /* scratch, not a result: the optional op leaves it */
}

const agree_family fam_forget = {"forget_update", forget_plan, forget_run, NULL, NULL};

