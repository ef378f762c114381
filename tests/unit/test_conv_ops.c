/* The convolution-network ops (batch norm, pooling, conv2d composed in core/conv.c)
 * on the cpu and ref backends against naive double loops written here, and the
 * backward ops of the ref oracle against central finite differences of its own
 * forward ops (loss L = Σ r·y with fixed random r, so dy = r).  Backends are opened
 * inside the forked test processes (OpenBLAS/OpenMP pools do not survive a fork). */
#include <criterion/criterion.h>

#include "mb_config.h"
#include "mb/backend.h"
#include "mb/registry.h"
#include "core/conv.h"
#include "core/ops.h"
#include "philox.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern const mb_backend_ops mb_ref_ops;

/* ---------------------------------------------------------------- harness */

static mb_backend *open_be(const char *name)
{
  const mb_backend_entry *e = mb_backend_lookup(name);   /* loads the cpu module */
  if (!e || !e->ops) cr_skip_test("%s: %s", name, e ? e->unavailable : "unknown backend");
  const mb_backend_ops *ops = e->ops;
  char why[256] = "";
  mb_backend *be = NULL;
  cr_assert_eq(ops->abi, MB_ABI_VERSION);
  cr_assert_eq(ops->open(0, &be, why, sizeof why), MB_OK, "%s: %s", name, why);
  cr_assert(ops->batchnorm && ops->batchnorm_bwd && ops->pool && ops->pool_bwd,
            "%s lacks a conv-network op", name);
  return be;
}

static void ok(mb_backend *be) { cr_assert(mb_ok(be), "%s: %s", be->ops->name, mb_error(be)); }

/* Deterministic test data: a + b·N(0,1) from Philox stream `stream`. */
static float *randn(size_t n, uint64_t stream, float a, float b)
{
  float *v = malloc(n * sizeof *v);
  cr_assert_not_null(v);
  for (size_t i = 0; i < n; i++) {
    uint32_t w[4];
    mb_philox_block(77, stream, i, w);
    double u1 = ((double)(w[0] >> 8) + 1.0) / 16777216.0, u2 = (double)(w[1] >> 8) / 16777216.0;
    v[i] = (float)(a + b * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
  }
  return v;
}

/* A device copy of host data (n elements) at a small offset into its buffer. */
static mb_view dev(mb_backend *be, const float *h, size_t n)
{
  mb_view v = mb_at(mb_new(be, n + 8), 3);
  if (h) mb_upload(be, v, h, n);
  else mb_fill(be, v, n, NAN);
  ok(be);
  return v;
}

static float *host(mb_backend *be, mb_view v, size_t n)
{
  float *h = malloc(n * sizeof *h);
  cr_assert_not_null(h);
  mb_download(be, h, v, n);
  ok(be);
  return h;
}

/* max |a − b| ≤ tol · max(1, max |want|) */
static void near(const char *what, const float *got, const double *want, size_t n, double tol)
{
  double scale = 1.0, worst = 0.0;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - want[i]);
    if (!(d <= worst)) { worst = d; at = i; }
  }
  cr_assert(worst <= tol * scale, "%s[%zu]: got %.9g want %.9g (|err| %.3g > %.3g)", what, at,
            (double)got[at], want[at], worst, tol * scale);
}

/* ---------------------------------------------------------------- naive loops */

#define BN_EPS 1e-5

static void naive_bn(int n, int c, int hw, const float *x, const float *g, const float *b,
                     const float *rm, const float *rv, int train, double *y, double *mean,
                     double *invstd, double *rm2, double *rv2)
{
  size_t m = (size_t)n * hw;
  for (int ch = 0; ch < c; ch++) {
    double mu = 0, var = 0;
    for (int i = 0; i < n; i++)
      for (int j = 0; j < hw; j++) mu += x[((size_t)i * c + ch) * hw + j];
    mu /= (double)m;
    for (int i = 0; i < n; i++)
      for (int j = 0; j < hw; j++) {
        double d = x[((size_t)i * c + ch) * hw + j] - mu;
        var += d * d;
      }
    var /= (double)m;
    if (!train) {
      mu = rm[ch];
      var = rv[ch];
    } else {
      rm2[ch] = 0.9 * rm[ch] + 0.1 * mu;
      rv2[ch] = 0.9 * rv[ch] + 0.1 * var * (double)m / (double)(m - 1);
    }
    double is = 1.0 / sqrt(var + BN_EPS);
    mean[ch] = mu;
    invstd[ch] = is;
    for (int i = 0; i < n; i++)
      for (int j = 0; j < hw; j++) {
        size_t e = ((size_t)i * c + ch) * hw + j;
        y[e] = (x[e] - mu) * is * g[ch] + b[ch];
      }
  }
}

/* Window (oy, ox) of plane p: max (first maximum) or average (count_pad). */
static double naive_pool1(const mb_conv_geom *g, const float *x, int is_max, int count_pad, int oy,
                          int ox, int *arg)
{
  double s = 0, best = -INFINITY;
  int cnt = 0;
  for (int ki = 0; ki < g->kh; ki++)
    for (int kj = 0; kj < g->kw; kj++) {
      int iy = oy * g->stride - g->pad + ki, ix = ox * g->stride - g->pad + kj;
      if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
      double v = x[iy * g->w + ix];
      s += v;
      cnt++;
      if (v > best) { best = v; *arg = iy * g->w + ix; }
    }
  return is_max ? best : s / (count_pad ? g->kh * g->kw : cnt);
}

static mb_conv_geom geom(int n, int c, int h, int w, int kh, int kw, int s, int p)
{
  mb_conv_geom g = {.n = n, .c = c, .h = h, .w = w, .kh = kh, .kw = kw, .stride = s, .pad = p};
  mb_conv_geom_finish(&g);
  return g;
}

/* ---------------------------------------------------------------- batch norm */

static void bn_case(const char *name, int train)
{
  mb_backend *be = open_be(name);
  const int n = 3, c = 5, hw = 42;
  const size_t len = (size_t)n * c * hw;
  float *x = randn(len, 1, 0.7f, 2.0f), *g = randn(c, 2, 1.0f, 0.3f), *b = randn(c, 3, 0, 1);
  float *rm = randn(c, 4, 0, 1), *rv = randn(c, 5, 2.0f, 0.2f);
  double *y = malloc(len * sizeof *y), mean[5], invstd[5], rm2[5], rv2[5];
  naive_bn(n, c, hw, x, g, b, rm, rv, train, y, mean, invstd, rm2, rv2);
  mb_bn_args a = {
    .mode = train ? MB_BN_TRAIN : MB_BN_EVAL, .n = n, .c = c, .hw = hw, .eps = (float)BN_EPS,
    .momentum = 0.1f, .x = dev(be, x, len), .y = dev(be, NULL, len), .gamma = dev(be, g, c),
    .beta = dev(be, b, c), .run_mean = dev(be, rm, c), .run_var = dev(be, rv, c),
    .save_mean = dev(be, NULL, c), .save_invstd = dev(be, NULL, c),
  };
  mb_batchnorm(be, &a);
  near("y", host(be, a.y, len), y, len, 2e-6);
  if (train) {
    near("save_mean", host(be, a.save_mean, c), mean, c, 1e-6);
    near("save_invstd", host(be, a.save_invstd, c), invstd, c, 1e-6);
    near("run_mean", host(be, a.run_mean, c), rm2, c, 1e-6);
    near("run_var", host(be, a.run_var, c), rv2, c, 1e-6);
  }

  /* backward with dy = r, the saved statistics (train) or the running ones (eval) */
  float *dy = randn(len, 6, 0, 1), fm[5], fi[5];
  for (int ch = 0; ch < c; ch++) { fm[ch] = (float)mean[ch]; fi[ch] = (float)invstd[ch]; }
  double *dx = calloc(len, sizeof *dx), dg[5] = {0}, db[5] = {0};
  const double m = (double)n * hw;
  for (int ch = 0; ch < c; ch++) {
    for (int i = 0; i < n; i++)
      for (int j = 0; j < hw; j++) {
        size_t e = ((size_t)i * c + ch) * hw + j;
        db[ch] += dy[e];
        dg[ch] += dy[e] * ((x[e] - (double)fm[ch]) * fi[ch]);
      }
    for (int i = 0; i < n; i++)
      for (int j = 0; j < hw; j++) {
        size_t e = ((size_t)i * c + ch) * hw + j;
        double xh = (x[e] - (double)fm[ch]) * fi[ch];
        dx[e] = train ? g[ch] * (double)fi[ch] * (dy[e] - db[ch] / m - xh * dg[ch] / m)
                      : g[ch] * (double)fi[ch] * dy[e];
      }
  }
  mb_bn_bwd_args ba = {
    .mode = a.mode, .n = n, .c = c, .hw = hw, .x = a.x, .dy = dev(be, dy, len), .gamma = a.gamma,
    .mean = dev(be, fm, c), .invstd = dev(be, fi, c), .dx = dev(be, NULL, len),
    .dgamma = dev(be, NULL, c), .dbeta = dev(be, NULL, c),
  };
  mb_batchnorm_bwd(be, &ba);
  near("dx", host(be, ba.dx, len), dx, len, 2e-6);
  near("dgamma", host(be, ba.dgamma, c), dg, c, 1e-6);
  near("dbeta", host(be, ba.dbeta, c), db, c, 1e-6);
  be->ops->close(be);
}

Test(bn, ref_train) { bn_case("ref", 1); }
Test(bn, ref_eval) { bn_case("ref", 0); }
Test(bn, cpu_train) { bn_case("cpu", 1); }
Test(bn, cpu_eval) { bn_case("cpu", 0); }

/* ---------------------------------------------------------------- pooling */

static void pool_case(const char *name, mb_pool_kind kind, int count_pad, mb_conv_geom g)
{
  mb_backend *be = open_be(name);
  const size_t plane = (size_t)g.h * g.w, opl = (size_t)g.oh * g.ow, np = (size_t)g.n * g.c;
  float *x = randn(np * plane, 8, 0, 1), *dy = randn(np * opl, 9, 0, 1);
  /* ties: round to a coarse grid, so several window elements share the maximum */
  for (size_t i = 0; i < np * plane; i++) x[i] = roundf(x[i] * 2.0f) / 2.0f;
  double *y = malloc(np * opl * sizeof *y), *dx = calloc(np * plane, sizeof *dx);
  for (size_t p = 0; p < np; p++)
    for (int oy = 0; oy < g.oh; oy++)
      for (int ox = 0; ox < g.ow; ox++) {
        int arg = -1;
        size_t o = p * opl + (size_t)oy * g.ow + ox;
        y[o] = naive_pool1(&g, x + p * plane, kind == MB_POOL_MAX, count_pad, oy, ox, &arg);
        if (kind == MB_POOL_MAX) {
          dx[p * plane + (size_t)arg] += dy[o];
        } else {
          int dummy;
          double div = count_pad ? g.kh * g.kw : 0;
          if (!count_pad) {
            /* count the in-image elements of the window */
            float ones[4096];
            for (size_t i = 0; i < plane; i++) ones[i] = 1.0f;
            div = naive_pool1(&g, ones, 0, 1, oy, ox, &dummy) * g.kh * g.kw;
          }
          for (int ki = 0; ki < g.kh; ki++)
            for (int kj = 0; kj < g.kw; kj++) {
              int iy = oy * g.stride - g.pad + ki, ix = ox * g.stride - g.pad + kj;
              if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w)
                dx[p * plane + (size_t)iy * g.w + ix] += dy[o] / div;
            }
        }
      }
  mb_pool_args a = {.kind = kind, .g = g, .count_pad = count_pad, .x = dev(be, x, np * plane),
                    .y = dev(be, NULL, np * opl), .idx = dev(be, NULL, np * opl),
                    .dy = dev(be, dy, np * opl), .dx = dev(be, NULL, np * plane)};
  mb_pool(be, &a);
  mb_pool_bwd(be, &a);
  near("y", host(be, a.y, np * opl), y, np * opl, kind == MB_POOL_MAX ? 0.0 : 1e-6);
  near("dx", host(be, a.dx, np * plane), dx, np * plane, 1e-6);
  be->ops->close(be);
}

Test(pool, ref_max_3x3s2p1) { pool_case("ref", MB_POOL_MAX, 0, geom(2, 3, 11, 9, 3, 3, 2, 1)); }
Test(pool, cpu_max_3x3s2p1) { pool_case("cpu", MB_POOL_MAX, 0, geom(2, 3, 11, 9, 3, 3, 2, 1)); }
Test(pool, cpu_max_3x3s1p1) { pool_case("cpu", MB_POOL_MAX, 0, geom(2, 2, 7, 8, 3, 3, 1, 1)); }
Test(pool, cpu_avg_global) { pool_case("cpu", MB_POOL_AVG, 1, geom(3, 4, 4, 4, 4, 4, 4, 0)); }
Test(pool, cpu_avg_pad_count) { pool_case("cpu", MB_POOL_AVG, 1, geom(2, 3, 9, 7, 3, 3, 2, 1)); }
Test(pool, cpu_avg_pad_nocount) { pool_case("cpu", MB_POOL_AVG, 0, geom(2, 3, 9, 7, 3, 3, 2, 1)); }
Test(pool, ref_avg_pad_nocount) { pool_case("ref", MB_POOL_AVG, 0, geom(2, 3, 9, 7, 3, 3, 2, 1)); }

/* The core rejects windows whose padding could leave them empty. */
Test(pool, bad_padding_rejected)
{
  mb_backend *be = open_be("ref");
  mb_conv_geom g = geom(1, 1, 8, 8, 2, 2, 2, 2);
  mb_view x = dev(be, NULL, 64), y = dev(be, NULL, 64);
  mb_pool_args a = {.kind = MB_POOL_MAX, .g = g, .x = x, .y = y};
  mb_pool(be, &a);
  cr_assert_eq(be->status, MB_BAD_ARG);
  be->ops->close(be);
}

/* ---------------------------------------------------------------- conv2d (core) */

static void conv_case(const char *name, mb_conv_geom g, int cout, int ws_images)
{
  mb_backend *be = open_be(name);
  const size_t nx = (size_t)g.n * g.c * g.h * g.w, ohw = (size_t)g.oh * g.ow;
  const size_t ny = (size_t)g.n * cout * ohw, nw = (size_t)cout * g.c * g.kh * g.kw;
  float *x = randn(nx, 10, 0, 1), *w = randn(nw, 11, 0, 0.3f), *dy = randn(ny, 12, 0, 1);
  double *y = calloc(ny, sizeof *y), *dx = calloc(nx, sizeof *dx), *dw = calloc(nw, sizeof *dw);
  for (int b = 0; b < g.n; b++)
    for (int co = 0; co < cout; co++)
      for (int ci = 0; ci < g.c; ci++)
        for (int ki = 0; ki < g.kh; ki++)
          for (int kj = 0; kj < g.kw; kj++)
            for (int oy = 0; oy < g.oh; oy++)
              for (int ox = 0; ox < g.ow; ox++) {
                int iy = oy * g.stride - g.pad + ki, ix = ox * g.stride - g.pad + kj;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                size_t xi = (((size_t)b * g.c + ci) * g.h + iy) * g.w + ix;
                size_t wi = (((size_t)co * g.c + ci) * g.kh + ki) * g.kw + kj;
                size_t yi = ((size_t)b * cout + co) * ohw + (size_t)oy * g.ow + ox;
                y[yi] += (double)x[xi] * w[wi];
                dx[xi] += (double)dy[yi] * w[wi];
                dw[wi] += (double)dy[yi] * x[xi];
              }
  size_t wsn = mb_conv2d_ws_per_image(&g) * (size_t)ws_images;
  mb_view ws = wsn ? dev(be, NULL, wsn) : mb_none();
  mb_view vx = dev(be, x, nx), vw = dev(be, w, nw), vdy = dev(be, dy, ny);
  mb_view vy = dev(be, NULL, ny), vdx = dev(be, NULL, nx), vdw = dev(be, NULL, nw);
  mb_conv2d_fwd(be, &g, cout, vx, vw, vy, ws, wsn);
  mb_conv2d_bwd_data(be, &g, cout, vdy, vw, vdx, 0, ws, wsn);
  mb_conv2d_bwd_filter(be, &g, cout, vx, vdy, vdw, 0.0f, ws, wsn);
  near("y", host(be, vy, ny), y, ny, 1e-5);
  near("dx", host(be, vdx, nx), dx, nx, 1e-5);
  near("dw", host(be, vdw, nw), dw, nw, 1e-5);
  /* accumulate: dx += again, dw = 1·dw + again */
  mb_conv2d_bwd_data(be, &g, cout, vdy, vw, vdx, 1, ws, wsn);
  mb_conv2d_bwd_filter(be, &g, cout, vx, vdy, vdw, 1.0f, ws, wsn);
  for (size_t i = 0; i < nx; i++) dx[i] *= 2;
  for (size_t i = 0; i < nw; i++) dw[i] *= 2;
  near("dx accumulated", host(be, vdx, nx), dx, nx, 1e-5);
  near("dw accumulated", host(be, vdw, nw), dw, nw, 1e-5);
  be->ops->close(be);
}

/* ws_images · mb_conv2d_ws_per_image(): chunks of that many images where cout <= c·kh·kw,
 * fewer where cout is wider (the shortcut: 2 of 3; the one-channel stem: 2, then 1). */
Test(conv2d, cpu_3x3s1p1) { conv_case("cpu", geom(3, 4, 8, 8, 3, 3, 1, 1), 6, 2); }
Test(conv2d, cpu_3x3s2p1_odd) { conv_case("cpu", geom(3, 3, 9, 7, 3, 3, 2, 1), 5, 1); }
Test(conv2d, cpu_1x1s2_shortcut) { conv_case("cpu", geom(2, 8, 8, 8, 1, 1, 2, 0), 16, 3); }
Test(conv2d, cpu_1x1s1_direct) { conv_case("cpu", geom(2, 5, 6, 7, 1, 1, 1, 0), 3, 0); }
Test(conv2d, cpu_7x7s2p3_stem) { conv_case("cpu", geom(2, 3, 20, 20, 7, 7, 2, 3), 4, 2); }
Test(conv2d, cpu_3x3s1p1_wide_stem) { conv_case("cpu", geom(3, 1, 9, 9, 3, 3, 1, 1), 16, 3); }
Test(conv2d, cpu_3x3s1p1_one_chunk) { conv_case("cpu", geom(4, 8, 4, 4, 3, 3, 1, 1), 8, 4); }
Test(conv2d, ref_3x3s2p1) { conv_case("ref", geom(2, 3, 9, 7, 3, 3, 2, 1), 5, 1); }
Test(conv2d, ref_3x3s1p1_chunked) { conv_case("ref", geom(3, 4, 8, 8, 3, 3, 1, 1), 6, 2); }

/* The workspace a chunk uses: one image needs only its columns; more images need both
 * regions, the first as wide as the wider of c·kh·kw and cout. */
Test(conv2d, workspace_sizes)
{
  mb_conv_geom g = geom(2, 3, 8, 8, 3, 3, 1, 1), pw = geom(2, 3, 8, 8, 1, 1, 1, 0);
  const size_t ckk = 27, ohw = 64;
  cr_assert_eq(mb_conv2d_ws_for(&g, 16, 1), ckk * ohw);
  cr_assert_eq(mb_conv2d_ws_for(&g, 16, 3), 3 * (ckk + ckk) * ohw);
  cr_assert_eq(mb_conv2d_ws_for(&g, 64, 3), 3 * (64 + ckk) * ohw);
  cr_assert_eq(mb_conv2d_ws_per_image(&g), 2 * ckk * ohw);
  cr_assert_eq(mb_conv2d_ws_for(&pw, 16, 3), 0);
  cr_assert_eq(mb_conv2d_ws_per_image(&pw), 0);
}

Test(conv2d, workspace_too_small)
{
  mb_backend *be = open_be("ref");
  mb_conv_geom g = geom(2, 3, 8, 8, 3, 3, 1, 1);
  mb_view x = dev(be, NULL, 400), w = dev(be, NULL, 100), y = dev(be, NULL, 800);
  mb_view ws = dev(be, NULL, 10);
  mb_conv2d_fwd(be, &g, 2, x, w, y, ws, 10);
  cr_assert_eq(be->status, MB_BAD_ARG);
  be->ops->close(be);
}

/* ---------------------------------------------------------------- finite differences (ref) */

/* L = Σ r·y in double from the f32 outputs of one forward pass. */
typedef double (*loss_fn)(mb_backend *be, void *ctx);

static double dot(const float *a, const float *b, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
  return s;
}

/* Central differences of L in each element of the host array p (uploaded to v before
 * each evaluation) against the analytic gradient `grad`. */
static void fd_check(const char *what, mb_backend *be, loss_fn L, void *ctx, float *p, mb_view v,
                     size_t n, const float *grad, float h, double tol)
{
  double scale = 0;
  for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(grad[i]));
  for (size_t i = 0; i < n; i++) {
    float keep = p[i];
    p[i] = keep + h;
    mb_upload(be, v, p, n);
    double lp = L(be, ctx);
    p[i] = keep - h;
    mb_upload(be, v, p, n);
    double lm = L(be, ctx);
    p[i] = keep;
    mb_upload(be, v, p, n);
    double fd = (lp - lm) / ((double)(keep + h) - (double)(keep - h));
    cr_assert(fabs(fd - grad[i]) <= tol * fmax(scale, 1e-3), "%s[%zu]: finite difference %.7g, "
              "backward %.7g (scale %.3g)", what, i, fd, (double)grad[i], scale);
  }
  ok(be);
}

typedef struct {
  mb_bn_args a;
  size_t len;
  const float *r;
  float *y;
} bn_fd;

static double bn_loss(mb_backend *be, void *p)
{
  bn_fd *c = p;
  mb_batchnorm(be, &c->a);
  mb_download(be, c->y, c->a.y, c->len);
  return dot(c->y, c->r, c->len);
}

static void bn_fd_case(int train)
{
  mb_backend *be = open_be("ref");
  const int n = 2, c = 3, hw = 5;
  const size_t len = (size_t)n * c * hw;
  float *x = randn(len, 20, 0.3f, 1.5f), *g = randn(c, 21, 1, 0.3f), *b = randn(c, 22, 0, 1);
  float *rm = randn(c, 23, 0, 0.5f), *rv = randn(c, 24, 1.5f, 0.2f), *r = randn(len, 25, 0, 1);
  bn_fd f = {.len = len, .r = r, .y = malloc(len * 4)};
  f.a = (mb_bn_args){
    .mode = train ? MB_BN_TRAIN : MB_BN_EVAL, .n = n, .c = c, .hw = hw, .eps = 1e-5f,
    .momentum = 0.1f, .x = dev(be, x, len), .y = dev(be, NULL, len), .gamma = dev(be, g, c),
    .beta = dev(be, b, c), .run_mean = dev(be, rm, c), .run_var = dev(be, rv, c),
    .save_mean = dev(be, NULL, c), .save_invstd = dev(be, NULL, c),
  };
  mb_view mean = f.a.save_mean, invstd = f.a.save_invstd;
  if (train) {
    /* the loss must not move the running statistics between evaluations */
    mb_batchnorm(be, &f.a);
    f.a.run_mean = f.a.run_var = mb_none();
  } else {
    /* eval: the backward takes run_mean and 1/sqrt(run_var + eps) */
    float is[3];
    for (int ch = 0; ch < c; ch++) is[ch] = (float)(1.0 / sqrt((double)rv[ch] + 1e-5));
    mean = f.a.run_mean;
    invstd = dev(be, is, c);
    mb_batchnorm(be, &f.a);
  }
  mb_bn_bwd_args ba = {.mode = f.a.mode, .n = n, .c = c, .hw = hw, .x = f.a.x,
                       .dy = dev(be, r, len), .gamma = f.a.gamma, .mean = mean, .invstd = invstd,
                       .dx = dev(be, NULL, len), .dgamma = dev(be, NULL, c),
                       .dbeta = dev(be, NULL, c)};
  mb_batchnorm_bwd(be, &ba);
  float *dx = host(be, ba.dx, len), *dg = host(be, ba.dgamma, c), *db = host(be, ba.dbeta, c);
  fd_check("dx", be, bn_loss, &f, x, f.a.x, len, dx, 1e-2f, 2e-3);
  fd_check("dgamma", be, bn_loss, &f, g, f.a.gamma, c, dg, 1e-2f, 2e-3);
  fd_check("dbeta", be, bn_loss, &f, b, f.a.beta, c, db, 1e-2f, 2e-3);
  be->ops->close(be);
}

Test(finite_diff, bn_train) { bn_fd_case(1); }
Test(finite_diff, bn_eval) { bn_fd_case(0); }

typedef struct {
  mb_pool_args a;
  size_t ny;
  const float *r;
  float *y;
} pool_fd;

static double pool_loss(mb_backend *be, void *p)
{
  pool_fd *c = p;
  mb_pool(be, &c->a);
  mb_download(be, c->y, c->a.y, c->ny);
  return dot(c->y, c->r, c->ny);
}

static void pool_fd_case(mb_pool_kind kind, int count_pad)
{
  mb_backend *be = open_be("ref");
  mb_conv_geom g = geom(2, 2, 7, 6, 3, 3, 2, 1);
  const size_t nx = (size_t)g.n * g.c * g.h * g.w, ny = (size_t)g.n * g.c * g.oh * g.ow;
  /* distinct values 0.1 apart (a random permutation): no ties within 2h */
  float *x = malloc(nx * 4), *r = randn(ny, 31, 0, 1);
  for (size_t i = 0; i < nx; i++) x[i] = (float)(0.1 * (double)((i * 37) % nx)) - 3.0f;
  pool_fd f = {.ny = ny, .r = r, .y = malloc(ny * 4)};
  f.a = (mb_pool_args){.kind = kind, .g = g, .count_pad = count_pad, .x = dev(be, x, nx),
                       .y = dev(be, NULL, ny), .idx = dev(be, NULL, ny), .dy = dev(be, r, ny),
                       .dx = dev(be, NULL, nx)};
  mb_pool(be, &f.a);
  mb_pool_bwd(be, &f.a);
  float *dx = host(be, f.a.dx, nx);
  fd_check("dx", be, pool_loss, &f, x, f.a.x, nx, dx, 1e-2f, 1e-3);
  be->ops->close(be);
}

Test(finite_diff, maxpool) { pool_fd_case(MB_POOL_MAX, 0); }
Test(finite_diff, avgpool) { pool_fd_case(MB_POOL_AVG, 0); }

typedef struct {
  mb_conv_geom g;
  int cout;
  mb_view x, w, y, ws;
  size_t wsn, ny;
  const float *r;
  float *yh;
} conv_fd;

static double conv_loss(mb_backend *be, void *p)
{
  conv_fd *c = p;
  mb_conv2d_fwd(be, &c->g, c->cout, c->x, c->w, c->y, c->ws, c->wsn);
  mb_download(be, c->yh, c->y, c->ny);
  return dot(c->yh, c->r, c->ny);
}

/* ws_images per chunk: 1 runs on the columns as they are, 2 (the whole batch)
 * through the regrouped columns. */
static void conv_fd_case(int ws_images)
{
  mb_backend *be = open_be("ref");
  conv_fd f = {.g = geom(2, 2, 6, 5, 3, 3, 2, 1), .cout = 3};
  const size_t nx = (size_t)f.g.n * f.g.c * f.g.h * f.g.w, nw = (size_t)f.cout * f.g.c * 9;
  f.ny = (size_t)f.g.n * f.cout * f.g.oh * f.g.ow;
  f.wsn = mb_conv2d_ws_for(&f.g, f.cout, ws_images);
  float *x = randn(nx, 40, 0, 1), *w = randn(nw, 41, 0, 0.5f), *r = randn(f.ny, 42, 0, 1);
  f.r = r;
  f.yh = malloc(f.ny * 4);
  f.x = dev(be, x, nx);
  f.w = dev(be, w, nw);
  f.y = dev(be, NULL, f.ny);
  f.ws = dev(be, NULL, f.wsn);
  mb_view dy = dev(be, r, f.ny), dx = dev(be, NULL, nx), dw = dev(be, NULL, nw);
  mb_conv2d_bwd_data(be, &f.g, f.cout, dy, f.w, dx, 0, f.ws, f.wsn);
  mb_conv2d_bwd_filter(be, &f.g, f.cout, f.x, dy, dw, 0.0f, f.ws, f.wsn);
  float *gx = host(be, dx, nx), *gw = host(be, dw, nw);
  fd_check("dx", be, conv_loss, &f, x, f.x, nx, gx, 1e-2f, 1e-3);
  fd_check("dw", be, conv_loss, &f, w, f.w, nw, gw, 1e-2f, 1e-3);
  be->ops->close(be);
}

Test(finite_diff, conv2d) { conv_fd_case(1); }
Test(finite_diff, conv2d_one_chunk) { conv_fd_case(2); }

/* ---------------------------------------------------------------- permute (core checks) */

/* Views out of bounds or overlapping are rejected before the backend sees them, and a
 * backend without the op reports MB_UNSUPPORTED. */
Test(permute, core_checks)
{
  mb_backend *be = open_be("ref");
  mb_view buf = mb_new(be, 100);
  mb_permute(be, buf, mb_at(buf, 40), 2, 3, 10);   /* 60 elements from 40: past the end */
  cr_assert_eq(be->status, MB_BAD_ARG, "%s", mb_error(be));
  be->status = MB_OK;
  mb_permute(be, buf, mb_at(buf, 20), 2, 3, 5);    /* [20, 50) overlaps [0, 30) */
  cr_assert_eq(be->status, MB_BAD_ARG, "%s", mb_error(be));
  cr_assert(strstr(mb_error(be), "overlaps"), "%s", mb_error(be));
  be->status = MB_OK;
  mb_permute(be, buf, mb_at(buf, 30), 2, 3, 5);    /* adjacent: fine */
  ok(be);
  mb_release(be, buf);
  be->ops->close(be);

  mb_backend_ops no_permute = mb_ref_ops;
  no_permute.permute = NULL;
  char why[256] = "";
  cr_assert_eq(no_permute.open(0, &be, why, sizeof why), MB_OK, "%s", why);
  be->ops = &no_permute;
  mb_view v = mb_new(be, 60);
  mb_permute(be, v, mb_at(v, 30), 2, 3, 5);
  cr_assert_eq(be->status, MB_UNSUPPORTED, "%s", mb_error(be));
  cr_assert(strstr(mb_error(be), "permute"), "%s", mb_error(be));
  mb_release(be, v);
  be->ops->close(be);
}
