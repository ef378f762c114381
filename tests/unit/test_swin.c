/* Swin-T in core (core/swin.*): the parameter table of torchvision's swin_t (count, names,
 * order, shapes), the relative position index and shift mask against their definition,
 * the bias the forward builds from the table, central finite differences of a small
 * Swin on ref (every tensor and the input, with shifted windows, padding of the token
 * grid and odd patch merging all taking place), the per-sample squared gradients
 * against one backward per sample, cpu against ref, and a checkpoint round trip.
 * Cost: ~10-20 s on ref. */
#include "core/checkpoint.h"
#include "core/model.h"
#include "core/swin.h"
#include "core/weights.h"
#include "core/forget_batched.h"
#include "mb/registry.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static mb_backend *open_or_skip(const char *name)
{
  char why[512];
  mb_backend *be = mb_backend_open(name, 0, why, sizeof why);
  if (!be) cr_skip_test("%s: %s", name, why);
  return be;
}

static void ok(mb_backend *be) { cr_assert(mb_ok(be), "%s: %s", be->ops->name, mb_error(be)); }

/* ---------------------------------------------------------------- the table */

Test(swin, swin_t_table_is_torchvisions)
{
  mb_swin_config cfg;
  mb_swin_config_imagenet(&cfg, 1000, 224);
  mb_sw_table *pt = malloc(sizeof *pt);
  char err[320];
  cr_assert_eq(mb_swin_table_build(&cfg, pt, err, sizeof err), 0, "%s", err);
  /* sum(p.numel() for p in torchvision.models.swin_t().parameters()) */
  cr_assert_eq(pt->total, (size_t)28288354, "%zu parameters", pt->total);
  cr_assert_eq(pt->n, 4 + 13 * 12 + 3 * 3 + 4);
  static const struct { int i; const char *name; int rows, cols; } want[] = {
    {0, "features.0.0.weight", 96, 48},
    {1, "features.0.0.bias", 96, 1},
    {2, "features.0.2.weight", 96, 1},
    {3, "features.0.2.bias", 96, 1},
    {4, "features.1.0.norm1.weight", 96, 1},
    {5, "features.1.0.norm1.bias", 96, 1},
    {6, "features.1.0.attn.relative_position_bias_table", 169, 3},
    {7, "features.1.0.attn.qkv.weight", 288, 96},
    {8, "features.1.0.attn.qkv.bias", 288, 1},
    {9, "features.1.0.attn.proj.weight", 96, 96},
    {10, "features.1.0.attn.proj.bias", 96, 1},
    {11, "features.1.0.norm2.weight", 96, 1},
    {12, "features.1.0.norm2.bias", 96, 1},
    {13, "features.1.0.mlp.0.weight", 384, 96},
    {14, "features.1.0.mlp.0.bias", 384, 1},
    {15, "features.1.0.mlp.3.weight", 96, 384},
    {16, "features.1.0.mlp.3.bias", 96, 1},
    {17, "features.1.1.norm1.weight", 96, 1},
    {30, "features.2.reduction.weight", 192, 384},
    {31, "features.2.norm.weight", 384, 1},
    {32, "features.2.norm.bias", 384, 1},
    {33, "features.3.0.norm1.weight", 192, 1},
    {35, "features.3.0.attn.relative_position_bias_table", 169, 6},
    {59, "features.4.reduction.weight", 384, 768},
    {62 + 13 * 5 + 2, "features.5.5.attn.relative_position_bias_table", 169, 12},
    {62 + 13 * 6, "features.6.reduction.weight", 768, 1536},
    {62 + 13 * 6 + 3, "features.7.0.norm1.weight", 768, 1},
    {62 + 13 * 6 + 3 + 13 + 12, "features.7.1.mlp.3.bias", 768, 1},
    {169, "norm.weight", 768, 1},
    {170, "norm.bias", 768, 1},
    {171, "head.weight", 1000, 768},
    {172, "head.bias", 1000, 1},
  };
  for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
    const mb_sw_tensor *t = &pt->t[want[k].i];
    cr_assert_str_eq(t->name, want[k].name, "tensor %d", want[k].i);
    cr_assert(t->rows == want[k].rows && t->cols == want[k].cols, "%s: %dx%d", t->name, t->rows,
              t->cols);
  }
  /* every block holds its 13 tensors in named_parameters() order */
  static const char *blk[13] = {"norm1.weight", "norm1.bias", "attn.relative_position_bias_table",
                                "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight",
                                "attn.proj.bias", "norm2.weight", "norm2.bias", "mlp.0.weight",
                                "mlp.0.bias", "mlp.3.weight", "mlp.3.bias"};
  int i = 4;
  for (int st = 0; st < 4; st++) {
    for (int k = 0; k < cfg.depths[st]; k++)
      for (int j = 0; j < 13; j++, i++) {
        char nm[96];
        snprintf(nm, sizeof nm, "features.%d.%d.%s", 1 + 2 * st, k, blk[j]);
        cr_assert_str_eq(pt->t[i].name, nm);
      }
    if (st < 3) i += 3;
  }
  cr_assert_eq(i, 169);
  for (int k = 0; k < pt->n; k++) cr_assert_eq(pt->offs[k], pt->t[k].off);
  free(pt);

  /* 28,288,354 − 768·1000 − 1000 + 768·10 + 10 at 10 classes; a bad config is refused */
  mb_swin_config_imagenet(&cfg, 10, 32);
  pt = malloc(sizeof *pt);
  cr_assert_eq(mb_swin_table_build(&cfg, pt, err, sizeof err), 0, "%s", err);
  cr_assert_eq(pt->total, (size_t)28288354 - 769000 + 7690);
  cfg.heads[1] = 5;
  cr_assert_neq(mb_swin_table_build(&cfg, pt, err, sizeof err), 0);
  cr_assert(strstr(err, "bad Swin configuration") != NULL, "%s", err);
  free(pt);
  char name[96];
  mb_swin_config_imagenet(&cfg, 1000, 224);
  mb_swin_describe(&cfg, name, sizeof name);
  cr_assert_str_eq(name, "swin_t-imagenet");
}

/* torchvision's relative_position_index, the −100 mask and the 32×32 grids, by hand. */
Test(swin, index_and_mask_match_their_definition)
{
  int32_t idx[49 * 49];
  mb_swin_rel_index(7, idx);
  cr_assert_eq(idx[0], 6 * 13 + 6);            /* i = j: (0 + 6)·13 + (0 + 6) */
  cr_assert_eq(idx[0 * 49 + 48], 0);           /* i = (0,0), j = (6,6): (−6 + 6)·13 + (−6 + 6) */
  cr_assert_eq(idx[48 * 49 + 0], 168);         /* i = (6,6), j = (0,0) */
  cr_assert_eq(idx[1 * 49 + 7], 5 * 13 + 7);   /* i = (0,1), j = (1,0): dy −1, dx +1 */
  /* 14×14 grid, window 7, shift 3: the bottom-right window has 4 regions (4×4, 4×3, 3×4,
   * 3×3 tokens) so 49² − (16² + 12² + 12² + 9²) = 1776 pairs are masked; top-left none */
  int32_t lab[14 * 14];
  mb_swin_mask_labels(14, 14, 7, 3, 3, lab);
  int masked[4] = {0};
  for (int w = 0; w < 4; w++)
    for (int i = 0; i < 49; i++)
      for (int j = 0; j < 49; j++) {
        int yi = w / 2 * 7 + i / 7, xi = w % 2 * 7 + i % 7, yj = w / 2 * 7 + j / 7, xj = w % 2 * 7 + j % 7;
        masked[w] += lab[yi * 14 + xi] != lab[yj * 14 + xj];
      }
  cr_assert_eq(masked[0], 0);
  cr_assert_eq(masked[1], 49 * 49 - (28 * 28 + 21 * 21));
  cr_assert_eq(masked[2], 49 * 49 - (28 * 28 + 21 * 21));
  cr_assert_eq(masked[3], 1776);
  /* a zero shift along one axis: Python's slice (−0, None) covers the whole axis, so
   * only the other axis splits (labels 6, 7, 8 by column) */
  int32_t lab2[7 * 14];
  mb_swin_mask_labels(7, 14, 7, 0, 3, lab2);
  for (int y = 0; y < 7; y++)
    for (int x = 0; x < 14; x++)
      cr_assert_eq(lab2[y * 14 + x], 6 + (x < 7 ? 0 : x < 11 ? 1 : 2), "(%d,%d)", y, x);

  /* bench-scale --quick's 32×32 swin_t: 8×8 tokens padded to 14×14 (shift 3), then
   * 4×4, 2×2, 1×1 padded to 7×7 (window ≥ padded size: no shift) */
  mb_backend *be = open_or_skip("ref");
  mb_swin_config cfg;
  mb_swin_config_imagenet(&cfg, 10, 32);
  mb_swin *s = calloc(1, sizeof *s);
  cr_assert_eq(mb_swin_create(be, &cfg, 1, s), 0, "%s", mb_error(be));
  const int want[4][5] = {{8, 14, 3, 4, 1}, {4, 7, 0, 1, 0}, {2, 7, 0, 1, 0}, {1, 7, 0, 1, 0}};
  for (int st = 0; st < 4; st++) {
    const mb_sw_grid *g = &s->grid[2 * st + 1];
    cr_assert(g->h == want[st][0] && g->w == want[st][0] && g->ph == want[st][1] &&
              g->pw == want[st][1] && g->sh == want[st][2] && g->sw == want[st][2] &&
              g->nwin == want[st][3] && mb_is_none(g->mask) == !want[st][4],
              "stage %d: %dx%d padded %dx%d shift %d,%d, %d windows", st, g->h, g->w, g->ph, g->pw,
              g->sh, g->sw, g->nwin);
  }
  /* the device mask of stage 1 (3 heads): the counts above, repeated per head */
  float *m = malloc(sizeof(float) * 4 * 3 * 2401);
  mb_download(be, m, s->grid[1].mask, 4 * 3 * 2401);
  ok(be);
  for (int w = 0; w < 4; w++)
    for (int h = 0; h < 3; h++) {
      int n = 0;
      for (int k = 0; k < 2401; k++) n += m[(w * 3 + h) * 2401 + k] == -100.0f;
      cr_assert_eq(n, w == 0 ? 0 : w == 3 ? 1776 : 2401 - 28 * 28 - 21 * 21, "window %d head %d", w, h);
    }
  free(m);
  /* the bias the forward builds (tableᵀ · one-hot) is table[index[i·N + j]][head] */
  mb_swin_init(s, 3);
  mb_view x = mb_new(be, 3 * 32 * 32);
  mb_rng(be, MB_RNG_NORMAL, 1, 2, x, 3 * 32 * 32, 0, 1);
  mb_swin_forward(s, mb_none(), x, 1);
  const mb_sw_tensor *tt = &s->pt.t[s->blk[s->n_blocks - 1].t_n1 + 2];
  float *tab = malloc(sizeof(float) * tt->n), *bias = malloc(sizeof(float) * 24 * 2401);
  mb_download(be, tab, mb_at(s->w, tt->off), tt->n);
  mb_download(be, bias, s->bias, 24 * 2401);
  ok(be);
  for (int h = 0; h < 24; h++)
    for (int ij = 0; ij < 2401; ij++)
      cr_assert_eq(bias[h * 2401 + ij], tab[idx[ij] * 24 + h]);
  free(tab); free(bias);
  mb_release(be, x);
  mb_swin_destroy(s);
  free(s);
  mb_backend_close(be);
}

/* ---------------------------------------------------------------- small models */

/* 3×24×20, patch 2 → 12×10 tokens; window 4: stage 1 padded to 12×12 with shift 2,
 * stage 2 (6×5) padded to 8×8 with shift 2, odd merges 6×5 → 3×3 → 2×2, stages 3-4
 * padded to 4×4 without shift.  The second shape (3×24×8 → 12×4) shifts along one
 * axis only. */
static mb_swin_config small(int w)
{
  mb_swin_config c = {.in_c = 3, .in_h = 24, .in_w = w, .classes = 5, .patch = 2, .window = 4,
                      .embed = 8, .depths = {2, 2, 2, 2}, .heads = {1, 2, 2, 4}, .mlp_ratio = 4};
  return c;
}

typedef struct {
  mb_backend *be;
  mb_swin s;
  mb_view labels, loss;
  int batch;
  size_t in_n;
} fixture;

/* Weights N(0, 0.15²) (LN γ around 1), so that attention is far from uniform; N(0,1) input. */
static void fix_open(fixture *f, const char *be_name, const mb_swin_config *cfg, int batch)
{
  memset(f, 0, sizeof *f);
  f->be = open_or_skip(be_name);
  f->batch = batch;
  cr_assert_eq(mb_swin_create(f->be, cfg, batch, &f->s), 0, "%s", mb_error(f->be));
  mb_rng(f->be, MB_RNG_NORMAL, 11, 5, f->s.w, f->s.pt.total, 0.0f, 0.15f);
  for (int i = 0; i < f->s.pt.n; i++)
    if (f->s.pt.t[i].kind == MB_SW_LN_W) {
      mb_view v = mb_at(f->s.w, f->s.pt.t[i].off);
      mb_unary(f->be, MB_UN_AFFINE, v, v, f->s.pt.t[i].n, 1.0f, 1.0f);
    }
  f->in_n = (size_t)batch * cfg->in_c * cfg->in_h * cfg->in_w;
  mb_rng(f->be, MB_RNG_NORMAL, 5, 77, f->s.in, f->in_n, 0.0f, 1.0f);
  int32_t lab[16];
  for (int i = 0; i < batch; i++) lab[i] = (i * 3 + 1) % cfg->classes;
  f->labels = mb_new(f->be, (size_t)batch);
  mb_upload(f->be, f->labels, lab, (size_t)batch);
  f->loss = mb_new(f->be, (size_t)batch);
  ok(f->be);
}

static void fix_close(fixture *f)
{
  mb_release(f->be, f->labels);
  mb_release(f->be, f->loss);
  mb_swin_destroy(&f->s);
  mb_backend_close(f->be);
}

static float *dl(mb_backend *be, mb_view v, size_t n)
{
  float *h = malloc((n ? n : 1) * sizeof *h);
  cr_assert_not_null(h);
  mb_download(be, h, v, n);
  ok(be);
  return h;
}

/* Mean CE of the batch at the current weights and input. */
static double loss_now(fixture *f)
{
  mb_swin_forward(&f->s, mb_none(), mb_none(), f->batch);
  mb_swin_xent(&f->s, f->labels, f->batch, 1.0f / f->batch, f->loss);
  float l[16];
  mb_download(f->be, l, f->loss, (size_t)f->batch);
  ok(f->be);
  double sum = 0;
  for (int i = 0; i < f->batch; i++) sum += l[i];
  return sum / f->batch;
}

static double sgn(size_t j) { return ((j * 2654435761u) >> 7) & 1 ? 1.0 : -1.0; }

/* Directional derivative of the loss along a ±1 direction on one tensor (or the
 * input), central differences against the analytic gradient. */
static void fd_check(const mb_swin_config *cfg)
{
  fixture f;
  fix_open(&f, "ref", cfg, 2);
  mb_swin *s = &f.s;
  loss_now(&f);
  mb_sw_bwd_opts o = {.want_grads = 1, .want_input = 1};
  mb_swin_backward(s, f.batch, &o);
  float *w = dl(f.be, s->w, s->pt.total), *g = dl(f.be, s->g, s->pt.total);
  float *x = dl(f.be, s->in, f.in_n), *dx = dl(f.be, s->dx, f.in_n);
  double worst = 0;
  const char *worst_name = "";
  for (int i = 0; i <= s->pt.n; i++) {
    int input = i == s->pt.n;
    size_t n = input ? f.in_n : s->pt.t[i].n, off = input ? 0 : s->pt.t[i].off;
    float *base = input ? x : w + off, *grad = input ? dx : g + off;
    mb_view dev = input ? s->in : mb_at(s->w, off);
    /* central differences at h and h/2, Richardson-combined: the O(h²) term cancels */
    const double h = 4e-3;
    double q[2];
    float *p = malloc(n * sizeof *p);
    double an = 0;
    for (size_t j = 0; j < n; j++) an += sgn(j) * grad[j];
    for (int k = 0; k < 2; k++) {
      float e = (float)(h / (1 << k));
      double l[2];
      for (int sd = 0; sd < 2; sd++) {
        for (size_t j = 0; j < n; j++) p[j] = base[j] + (sd ? -e : e) * (float)sgn(j);
        mb_upload(f.be, dev, p, n);
        l[sd] = loss_now(&f);
      }
      /* the step actually taken is the rounded difference of the f32 weights; take it ±1 */
      q[k] = (l[0] - l[1]) / (2.0 * e);
    }
    mb_upload(f.be, dev, base, n);
    free(p);
    double fd = (4.0 * q[1] - q[0]) / 3.0;
    /* f32 forward: the loss (≈1.6) carries ~1e-7 relative rounding, a few 1e-5 on the
     * difference quotient at h/2 = 2e-3; what remains of the truncation is O(h⁴) */
    double err = fabs(fd - an), tol = 2e-3 * fabs(an) + 2e-4;
    const char *nm = input ? "input" : s->pt.t[i].name;
    if (err / (fabs(an) + 1e-3) > worst) { worst = err / (fabs(an) + 1e-3); worst_name = nm; }
    cr_expect(err <= tol, "%s: finite difference %.7g, backward %.7g (|diff| %.3g > %.3g)", nm, fd,
              an, err, tol);
  }
  cr_log_info("worst relative FD error %.3g (%s)", worst, worst_name);
  printf("# swin FD %dx%dx%d: worst |fd - g·d| / (|g·d| + 1e-3) = %.3g (%s)\n", cfg->in_c,
         cfg->in_h, cfg->in_w, worst, worst_name);
  free(w); free(g); free(x); free(dx);
  fix_close(&f);
}

Test(swin, finite_differences_every_tensor_and_input, .timeout = 120)
{
  mb_swin_config c = small(20);
  fd_check(&c);
}

Test(swin, finite_differences_one_axis_shift, .timeout = 120)
{
  mb_swin_config c = small(8);
  c.depths[2] = 1;
  c.depths[3] = 1;
  fd_check(&c);
}

/* The batched per-sample squared gradients equal Σ over samples of (one backward)²,
 * added onto what the accumulators held. */
Test(swin, per_sample_squares_match_single_backwards, .timeout = 120)
{
  mb_swin_config c = small(20);
  fixture f;
  const int B = 3;
  fix_open(&f, "ref", &c, B);
  mb_swin *s = &f.s;
  const size_t P = s->pt.total;
  mb_view acc0 = mb_new(f.be, P), acc1 = mb_new(f.be, P);
  mb_fill(f.be, acc0, P, 0.5f);
  mb_fill(f.be, acc1, P, 0.0f);
  mb_sw_sq_target sq[2] = {{0, 2, acc0}, {2, 3, acc1}};
  mb_sw_bwd_opts o = {.want_grads = 0, .n_sq = 2, .sq = sq};
  /* a first pass allocates the workspace; shrinking it to the largest weight forces the
   * per-sample GEMMs into chunks (one sample at a time for the largest) */
  mb_view scratch = mb_new(f.be, P);
  mb_sw_sq_target sq0 = {0, B, scratch};
  mb_sw_bwd_opts o0 = {.n_sq = 1, .sq = &sq0};
  mb_swin_forward(s, mb_none(), mb_none(), B);
  mb_swin_xent(s, f.labels, B, 1.0f, mb_none());
  mb_swin_backward(s, B, &o0);
  size_t pmax = 0;
  for (int i = 0; i < s->pt.n; i++)
    if (s->pt.t[i].kind == MB_SW_LIN_W || s->pt.t[i].kind == MB_SW_CONV_W)
      pmax = pmax > s->pt.t[i].n ? pmax : s->pt.t[i].n;
  mb_release(f.be, s->pg);
  s->pg_n = pmax;
  s->pg = mb_new(f.be, pmax);
  mb_release(f.be, scratch);
  mb_swin_forward(s, mb_none(), mb_none(), B);
  mb_swin_xent(s, f.labels, B, 1.0f, mb_none());
  mb_swin_backward(s, B, &o);
  ok(f.be);
  float *a0 = dl(f.be, acc0, P), *a1 = dl(f.be, acc1, P);
  double *r0 = calloc(P, sizeof(double)), *r1 = calloc(P, sizeof(double));
  float *x = dl(f.be, s->in, f.in_n);
  int32_t lab[3];
  mb_download(f.be, lab, f.labels, 3);
  const size_t per = f.in_n / B;
  mb_view one = mb_new(f.be, 1);
  for (int n = 0; n < B; n++) {
    mb_upload(f.be, s->in, x + n * per, per);
    mb_upload(f.be, one, &lab[n], 1);
    mb_swin_forward(s, mb_none(), mb_none(), 1);
    mb_swin_xent(s, one, 1, 1.0f, mb_none());
    mb_swin_backward(s, 1, NULL);
    float *g = dl(f.be, s->g, P);
    for (size_t j = 0; j < P; j++) (n < 2 ? r0 : r1)[j] += (double)g[j] * g[j];
    free(g);
  }
  double worst = 0;
  for (int i = 0; i < s->pt.n; i++) {
    const mb_sw_tensor *t = &s->pt.t[i];
    double mx = 0;
    for (size_t j = 0; j < t->n; j++) mx = fmax(mx, fmax(r0[t->off + j], r1[t->off + j]));
    for (size_t j = t->off; j < t->off + t->n; j++) {
      double e0 = fabs(a0[j] - 0.5 - r0[j]), e1 = fabs(a1[j] - r1[j]);
      double tol = 1e-4 * mx + 1e-4 * fmax(r0[j], r1[j]) + 1e-6;
      worst = fmax(worst, e1 / (mx + 1e-30));   /* e0 also carries the rounding of 0.5 + x */
      cr_assert(e0 <= tol && e1 <= tol, "%s[%zu]: batched %.7g / %.7g, single %.7g / %.7g",
                t->name, j - t->off, a0[j] - 0.5, a1[j], r0[j], r1[j]);
    }
  }
  printf("# swin per-sample squares (rows 2..3): worst |batched - single| / tensor max = %.3g\n", worst);
  free(a0); free(a1); free(r0); free(r1); free(x);
  mb_release(f.be, one);
  mb_release(f.be, acc0);
  mb_release(f.be, acc1);
  fix_close(&f);
}

/* ---------------------------------------------------------------- backends */

/* Logits, gradients, input gradient and per-sample squares of `name` against ref. */
static void against_ref(const char *name)
{
  mb_swin_config c = small(20);
  fixture f[2];
  const int B = 3;
  fix_open(&f[0], "ref", &c, B);
  fix_open(&f[1], name, &c, B);
  float *out[2][4];
  size_t P = f[0].s.pt.total;
  for (int k = 0; k < 2; k++) {
    mb_swin *s = &f[k].s;
    /* the same weights and input on both (each backend's RNG is the same Philox) */
    mb_view acc = mb_new(f[k].be, P);
    mb_fill(f[k].be, acc, P, 0.0f);
    mb_swin_forward(s, mb_none(), mb_none(), B);
    mb_swin_xent(s, f[k].labels, B, 1.0f / B, mb_none());
    mb_sw_bwd_opts o = {.want_grads = 1, .want_input = 1};
    mb_swin_backward(s, B, &o);
    out[k][0] = dl(f[k].be, s->logits, (size_t)B * c.classes);
    out[k][1] = dl(f[k].be, s->g, P);
    out[k][2] = dl(f[k].be, s->dx, f[k].in_n);
    mb_swin_forward(s, mb_none(), mb_none(), B);
    mb_swin_xent(s, f[k].labels, B, 1.0f, mb_none());
    mb_sw_sq_target sq = {0, B, acc};
    mb_sw_bwd_opts q = {.n_sq = 1, .sq = &sq};
    mb_swin_backward(s, B, &q);
    out[k][3] = dl(f[k].be, acc, P);
    mb_release(f[k].be, acc);
  }
  const char *what[4] = {"logits", "gradient", "input gradient", "per-sample squares"};
  size_t n[4] = {(size_t)B * c.classes, P, f[0].in_n, P};
  for (int q = 0; q < 4; q++) {
    /* per tensor for the parameter vectors: relative to the tensor's largest value */
    int nseg = q == 1 || q == 3 ? f[0].s.pt.n : 1;
    double worst = 0;
    for (int i = 0; i < nseg; i++) {
      size_t o0 = nseg > 1 ? f[0].s.pt.t[i].off : 0, o1 = nseg > 1 ? o0 + f[0].s.pt.t[i].n : n[q];
      double mx = 0;
      for (size_t j = o0; j < o1; j++) mx = fmax(mx, fabs(out[0][q][j]));
      for (size_t j = o0; j < o1; j++) {
        double e = fabs(out[1][q][j] - out[0][q][j]);
        worst = fmax(worst, e / (mx + 1e-30));
        cr_expect(e <= 1e-4 * mx + 1e-7, "%s %s[%zu]: %s %.7g, ref %.7g", what[q],
                  nseg > 1 ? f[0].s.pt.t[i].name : "", j - o0, name, out[1][q][j], out[0][q][j]);
      }
    }
    printf("# swin %s vs ref, %s: worst |diff| / max = %.3g\n", name, what[q], worst);
  }
  for (int k = 0; k < 2; k++)
    for (int q = 0; q < 4; q++) free(out[k][q]);
  fix_close(&f[1]);
  fix_close(&f[0]);
}

Test(swin, cpu_matches_ref, .timeout = 120) { against_ref("cpu"); }
Test(swin, opencl_matches_ref, .timeout = 300) { against_ref("opencl"); }
Test(swin, vulkan_matches_ref, .timeout = 300) { against_ref("vulkan"); }

/* ---------------------------------------------------------------- the model interface */

Test(swin, model_wrap_and_checkpoint_round_trip, .timeout = 120)
{
  mb_backend *be = open_or_skip("ref");
  mb_model_config cfg;
  char err[320];
  cr_assert_eq(mb_model_config_make(MB_MODEL_SWIN_T, NULL, NULL, 0, 3, 32, 32, 10, &cfg, err,
                                    sizeof err), 0, "%s", err);
  mb_model md;
  cr_assert_eq(mb_model_create(be, &cfg, 2, NULL, NULL, &md), 0, "%s", mb_error(be));
  cr_assert_eq(md.kind, MB_MODEL_SWIN_T);
  cr_assert_eq(md.total, (size_t)28288354 - 769000 + 7690);
  cr_assert_str_eq(mb_model_tensor_name(&md, 6), "features.1.0.attn.relative_position_bias_table");
  cr_assert_str_eq(mb_model_kind_name(md.kind), "swin_t");
  char name[96];
  mb_model_describe(&md, name, sizeof name);
  cr_assert_str_eq(name, "swin_t-32-c10");
  mb_model_init(&md, 7);
  /* at init the features are LayerNorm outputs (unit variance, one token at 32×32) and the
   * head weights N(0, 0.02²): logits of std 0.02·√768 ≈ 0.55, so the loss is ln 10 plus
   * a fraction of a nat, never far off */
  mb_rng(be, MB_RNG_NORMAL, 1, 2, md.in, 2 * 3 * 32 * 32, 0, 1);
  mb_view lab = mb_new(be, 2), loss = mb_new(be, 2);
  int32_t l[2] = {3, 7};
  mb_upload(be, lab, l, 2);
  mb_model_forward(&md, mb_none(), mb_none(), 2, 1);
  mb_model_xent(&md, lab, 2, 0.5f, loss);
  float lv[2];
  mb_download(be, lv, loss, 2);
  ok(be);
  for (int i = 0; i < 2; i++) cr_assert(lv[i] > logf(10.0f) - 1.0f && lv[i] < logf(10.0f) + 1.5f, "loss %g", lv[i]);
  /* MU-Mis is refused with a reason */
  mb_model_sens ws;
  cr_assert_eq(mb_model_sens_create(&md, 4, &ws), -1);
  cr_assert(strstr(mb_error(be), "Swin") != NULL, "%s", mb_error(be));
  be->status = MB_OK;   /* the refusal is the only error here */
  be->err[0] = 0;
  /* checkpoint: write, read, load into a fresh model: the same weights */
  mb_checkpoint c = {0};
  cr_assert_eq(mb_model_save(&md, &c), 0);
  c.n_classes = 10;
  snprintf(c.backend, sizeof c.backend, "ref");
  char path[] = "/tmp/mb_swin_ckpt_XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  close(fd);
  cr_assert_eq(mb_checkpoint_write(path, &c, err, sizeof err), 0, "%s", err);
  mb_checkpoint back;
  cr_assert_eq(mb_checkpoint_read(path, &back, err, sizeof err), 0, "%s", err);
  unlink(path);
  cr_assert_eq(back.kind, MB_MODEL_SWIN_T);
  cr_assert_eq(memcmp(&back.scfg, &cfg.sw, sizeof cfg.sw), 0);
  cr_assert_eq(back.n_params, md.total);
  cr_assert_eq(memcmp(back.params, c.params, md.total * sizeof(float)), 0);
  mb_model_config cfg2;
  mb_model_config_of(&back, &cfg2);
  mb_model md2;
  cr_assert_eq(mb_model_create(be, &cfg2, 1, NULL, NULL, &md2), 0, "%s", mb_error(be));
  cr_assert_eq(mb_model_load(&md2, &back, err, sizeof err), 0, "%s", err);
  float *w2 = dl(be, md2.w, md2.total);
  cr_assert_eq(memcmp(w2, c.params, md.total * sizeof(float)), 0);
  free(w2);
  mb_checkpoint_free(&back);
  mb_checkpoint_free(&c);
  mb_release(be, lab);
  mb_release(be, loss);
  mb_model_destroy(&md2);
  mb_model_destroy(&md);
  mb_backend_close(be);
}

/* The weights container (specification §1.4) with a Swin: export → import gives the same
 * weights under torchvision's names and shapes; a relative_position_index buffer (as in
 * torchvision's state_dict) is accepted when it is torchvision's index, refused otherwise. */
static void write_with_index(const char *src, const char *dst, int64_t poke)
{
  FILE *f = fopen(src, "rb");
  cr_assert_not_null(f);
  static char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  char *end = strstr(buf, "\nend\n");
  cr_assert_not_null(end);
  size_t hdr = (size_t)(end - buf) + 1, data = n - hdr - 4;
  int64_t idx[256];
  int32_t ref[256];
  mb_swin_rel_index(4, ref);
  for (int j = 0; j < 256; j++) idx[j] = ref[j];
  idx[17] += poke;
  FILE *o = fopen(dst, "wb");
  fwrite(buf, 1, hdr, o);
  fprintf(o, "features.3.1.attn.relative_position_index i64 256 %zu\nend\n", data);
  fwrite(buf + hdr + 4, 1, data, o);
  fwrite(idx, 8, 256, o);
  fclose(o);
}

Test(swin, weights_container_round_trip, .timeout = 60)
{
  mb_backend *be = open_or_skip("ref");
  mb_swin_config cfg = small(20);
  mb_swin *s = calloc(1, sizeof *s);
  cr_assert_eq(mb_swin_create(be, &cfg, 1, s), 0, "%s", mb_error(be));
  mb_swin_init(s, 9);
  mb_checkpoint c = {.kind = MB_MODEL_SWIN_T, .scfg = cfg, .n_classes = cfg.classes,
                     .n_params = s->pt.total};
  c.params = dl(be, s->w, s->pt.total);
  char path[] = "/tmp/mb_swin_w_XXXXXX", path2[] = "/tmp/mb_swin_w2_XXXXXX", err[512];
  close(mkstemp(path));
  close(mkstemp(path2));
  cr_assert_eq(mb_weights_write(path, &c, err, sizeof err), 0, "%s", err);
  mb_checkpoint r = {.kind = MB_MODEL_SWIN_T, .scfg = cfg, .n_classes = cfg.classes};
  cr_assert_eq(mb_weights_read(path, &r, err, sizeof err), 0, "%s", err);
  cr_assert_eq(r.n_params, c.n_params);
  cr_assert_eq(memcmp(r.params, c.params, c.n_params * sizeof(float)), 0);
  mb_checkpoint_free(&r);
  /* the header names torchvision's tensors with PyTorch's shapes */
  FILE *f = fopen(path, "rb");
  char line[256];
  cr_assert_not_null(fgets(line, sizeof line, f));
  cr_assert_not_null(fgets(line, sizeof line, f));
  cr_assert_str_eq(line, "features.0.0.weight f32 8,3,2,2 0\n");
  fclose(f);
  write_with_index(path, path2, 0);
  r = (mb_checkpoint){.kind = MB_MODEL_SWIN_T, .scfg = cfg, .n_classes = cfg.classes};
  cr_assert_eq(mb_weights_read(path2, &r, err, sizeof err), 0, "%s", err);
  cr_assert_eq(memcmp(r.params, c.params, c.n_params * sizeof(float)), 0);
  mb_checkpoint_free(&r);
  write_with_index(path, path2, 1);
  r = (mb_checkpoint){.kind = MB_MODEL_SWIN_T, .scfg = cfg, .n_classes = cfg.classes};
  cr_assert_eq(mb_weights_read(path2, &r, err, sizeof err), -1);
  cr_assert(strstr(err, "not torchvision's relative position index (entry 17") != NULL, "%s", err);
  unlink(path);
  unlink(path2);
  mb_checkpoint_free(&c);
  mb_swin_destroy(s);
  free(s);
  mb_backend_close(be);
}

/* Forgetting with mnemonic codes through the model interface (§2: the per-sample
 * squared gradients of the codes, δ per tensor, the ± choice), all-at-once and in
 * batches of 2 codes: the same update, finite, and the weights move. */
Test(swin, mnemonic_forgetting_runs_through_the_model, .timeout = 120)
{
  fixture f;
  mb_swin_config c = small(20);
  fix_open(&f, "ref", &c, c.classes);
  mb_model md;
  mb_model_from_swin(&f.s, &md);
  const size_t P = md.total, in = (size_t)md.in_dim;
  mb_view codes = mb_new(f.be, (size_t)c.classes * in), w0 = mb_new(f.be, P);
  mb_rng(f.be, MB_RNG_UNIFORM, 3, 9, codes, (size_t)c.classes * in, 0.0f, 1.0f);
  mb_copy(f.be, w0, md.w, P);
  int forget[1] = {2};
  mb_sign_choice ch;
  cr_assert_eq(mb_model_forget_mnemonic(&md, codes, c.classes, forget, 1, 1e-2f, 1e-1f, &ch), 0,
               "%s", mb_error(f.be));
  float *a = dl(f.be, md.w, P);
  mb_copy(f.be, md.w, w0, P);
  cr_assert_eq(mb_model_forget_mnemonic_batched(&md, codes, c.classes, forget, 1, 2, 1e-2f, 1e-1f,
                                                &ch, NULL, NULL), 0, "%s", mb_error(f.be));
  float *b = dl(f.be, md.w, P), *w = dl(f.be, w0, P);
  size_t moved = 0;
  double worst = 0;
  for (size_t j = 0; j < P; j++) {
    cr_assert(isfinite(a[j]) && isfinite(b[j]), "weight %zu: %g / %g", j, a[j], b[j]);
    moved += a[j] != w[j];
    worst = fmax(worst, fabs((double)a[j] - b[j]) / (fabs((double)a[j] - w[j]) + 1e-6));
  }
  cr_assert(moved > P / 2, "%zu of %zu weights moved", moved, P);
  cr_assert(worst < 1e-2, "batched and all-at-once updates differ by %g of the step", worst);
  free(a); free(b); free(w);
  mb_release(f.be, codes);
  mb_release(f.be, w0);
  fix_close(&f);
}

/* mb_swin_device_elems: the dry run counts what mb_swin_create allocates, grows linearly
 * with the batch while the per-sample workspace is under its cap, and refuses a bad config. */
Test(swin, device_elems_count_the_allocations)
{
  mb_backend *be = open_or_skip("ref");
  mb_swin_config c = small(20);
  size_t e[4];
  char err[320];
  for (int b = 1; b <= 3; b++)
    cr_assert_eq(mb_swin_device_elems(&c, b, &e[b], err, sizeof err), 0, "%s", err);
  cr_assert_eq(e[3] - e[2], e[2] - e[1]);
  mb_swin *s = calloc(1, sizeof *s);
  cr_assert_eq(mb_swin_create(be, &c, 3, s), 0, "%s", mb_error(be));
  size_t pg, tab;
  mb_swin_sq_sizes(s, &pg, &tab);
  cr_assert_eq(s->dev_elems + pg + tab, e[3]);
  mb_swin_destroy(s);
  free(s);
  mb_swin_config t;
  mb_swin_config_imagenet(&t, 1000, 224);
  cr_assert_eq(mb_swin_device_elems(&t, 1, &e[1], err, sizeof err), 0, "%s", err);
  cr_assert_eq(mb_swin_device_elems(&t, 2, &e[2], err, sizeof err), 0, "%s", err);
  printf("# swin_t-imagenet device memory: %.1f MB at batch 1, +%.1f MB per image\n", 4e-6 * e[1],
         4e-6 * (e[2] - e[1]));
  t.window = 0;
  cr_assert_eq(mb_swin_device_elems(&t, 1, &e[1], err, sizeof err), -1);
  cr_assert(strstr(err, "bad Swin configuration") != NULL, "%s", err);
  mb_backend_close(be);
}
