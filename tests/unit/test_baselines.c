/* The baselines (the files in baselines/): each method's arithmetic on tiny cases checked
 * by hand or against a definition written here (host loops in double, central
 * finite differences), and each method end to end on a small synthetic set on
 * ref and on every other backend with a device here (cpu at least), from
 * identical starting weights, agreeing with ref. */
#include "baselines/fastmu.h"
#include "baselines/mumis.h"
#include "baselines/plan.h"
#include "baselines/sfdn.h"
#include "baselines/ssd.h"
#include "core/eval.h"
#include "methods/methods.h"
#include "core/mlp_extra.h"
#include "mb/registry.h"
#include "core/train.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mb_backend *open_or_skip(const char *name)
{
  char why[512];
  mb_backend *be = mb_backend_open(name, 0, why, sizeof why);
  if (!be) cr_skip_test("%s: %s", name, why);
  return be;
}

static void check_ok(mb_backend *be) { cr_assert(mb_ok(be), "%s", mb_error(be)); }

static void tiny_mlp(mb_backend *be, mb_mlp *m, int L, const int *dims, mb_act act, int batch,
                     float scale)
{
  mb_mlp_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.n_layers = L;
  for (int l = 0; l <= L; l++) cfg.dims[l] = dims[l];
  cfg.act = act;
  cfg.in_c = 1; cfg.in_h = 1; cfg.in_w = dims[0];
  cr_assert_eq(mb_mlp_create(be, &cfg, batch, m), 0, "%s", mb_error(be));
  mb_mlp_init(m, 11);
  /* larger weights than the default init, so every derivative is well above rounding */
  mb_unary(be, MB_UN_AFFINE, m->w, m->w, m->pt.total, scale, 0.0f);
}

/* A hand-made data set of n images (1×1×D) with bytes from a formula. */
static void tiny_dataset(int n, int D, int K, mb_dataset *ds)
{
  memset(ds, 0, sizeof *ds);
  ds->n = n; ds->c = 1; ds->h = 1; ds->w = D; ds->n_classes = K;
  ds->x = malloc(sizeof(float) * (size_t)n * D);
  ds->y = malloc(sizeof(int32_t) * (size_t)n);
  for (int i = 0; i < n; i++) {
    ds->y[i] = (i * 7 + 3) % K;
    for (int j = 0; j < D; j++) ds->x[(size_t)i * D + j] = (float)((i * 37 + j * 91 + 13) % 256) / 255.0f;
  }
}

/* ---- host reference MLP in double ---- */

typedef struct {
  int L, dims[MB_MAX_LAYERS + 1];
  mb_act act;
  size_t woff[MB_MAX_LAYERS], boff[MB_MAX_LAYERS];
} host_mlp;

static host_mlp host_of(const mb_mlp *m)
{
  host_mlp h;
  h.L = m->cfg.n_layers;
  h.act = m->cfg.act;
  for (int l = 0; l <= h.L; l++) h.dims[l] = m->cfg.dims[l];
  for (int l = 0; l < h.L; l++) { h.woff[l] = m->pt.t[2 * l].off; h.boff[l] = m->pt.t[2 * l + 1].off; }
  return h;
}

#define HMAX 64   /* widest layer of the host tests */

/* Forward of one sample: pre[l][·] (l = 1..L) and post[l][·] (post[0] = x). */
static void host_forward(const host_mlp *h, const double *w, const double *x,
                         double pre[][HMAX], double post[][HMAX])
{
  for (int j = 0; j < h->dims[0]; j++) post[0][j] = x[j];
  for (int l = 1; l <= h->L; l++) {
    int in = h->dims[l - 1], out = h->dims[l];
    for (int o = 0; o < out; o++) {
      double s = w[h->boff[l - 1] + o];
      for (int i = 0; i < in; i++) s += w[h->woff[l - 1] + (size_t)o * in + i] * post[l - 1][i];
      pre[l][o] = s;
      post[l][o] = l == h->L ? s : h->act == MB_ACT_SIGMOID ? 1.0 / (1.0 + exp(-s)) : (s > 0 ? s : 0);
    }
  }
}

/* ‖∂z_k/∂x‖² (or ‖·‖ when l2) of one sample. */
static double host_sens(const host_mlp *h, const double *w, const double *x, int k, int l2)
{
  double pre[MB_MAX_LAYERS + 1][HMAX], post[MB_MAX_LAYERS + 1][HMAX], d[HMAX], u[HMAX];
  host_forward(h, w, x, pre, post);
  for (int o = 0; o < h->dims[h->L]; o++) d[o] = o == k;
  for (int l = h->L; l >= 1; l--) {
    int in = h->dims[l - 1], out = h->dims[l];
    for (int i = 0; i < in; i++) {
      double s = 0;
      for (int o = 0; o < out; o++) s += d[o] * w[h->woff[l - 1] + (size_t)o * in + i];
      u[i] = s;
    }
    if (l == 1) break;
    for (int i = 0; i < in; i++) {
      double a = post[l - 1][i];
      d[i] = u[i] * (h->act == MB_ACT_SIGMOID ? a * (1 - a) : (pre[l - 1][i] > 0 ? 1.0 : 0.0));
    }
  }
  double s = 0;
  for (int i = 0; i < h->dims[0]; i++) s += u[i] * u[i];
  return l2 ? sqrt(s) : s;
}

static double host_mumis_loss(const host_mlp *h, const double *w, const double *x, int rows,
                              const int32_t *seeds, int l2)
{
  double s = 0;
  for (int n = 0; n < rows; n++)
    s += host_sens(h, w, x + (size_t)n * h->dims[0], seeds[n], l2) -
         host_sens(h, w, x + (size_t)n * h->dims[0], seeds[rows + n], l2);
  return s;
}

/* CE of one sample with label y. */
static double host_ce(const host_mlp *h, const double *w, const double *x, int y)
{
  double pre[MB_MAX_LAYERS + 1][HMAX], post[MB_MAX_LAYERS + 1][HMAX];
  host_forward(h, w, x, pre, post);
  int K = h->dims[h->L];
  double mx = -INFINITY, s = 0;
  for (int k = 0; k < K; k++) mx = fmax(mx, post[h->L][k]);
  for (int k = 0; k < K; k++) s += exp(post[h->L][k] - mx);
  return mx + log(s) - post[h->L][y];
}

static double *to_double(const float *f, size_t n)
{
  double *d = malloc(n * sizeof *d);
  for (size_t i = 0; i < n; i++) d[i] = f[i];
  return d;
}

/* ---- SSD ---- */

Test(ssd, selection_and_dampening_by_hand)
{
  mb_backend *be = open_or_skip("ref");
  /* α = 10, λ = 1:  i0 5 > 1 → β = 0.02;  i1 5 > 5 is false;  i2 0 > 0 is false;
   * i3 1e-3 > 1e-4 → β = 0.01;  i4 2.5 > 2.5 is false;  i5 1 > 0.1 → β = 0.01 */
  float w[6] = {2, 7, -1, -3, 4, 1};
  float fi[6] = {5, 5, 0, 1e-3f, 2.5f, 1};
  float di[6] = {0.1f, 0.5f, 0, 1e-5f, 0.25f, 0.01f};
  float want[6] = {0.04f, 7, -1, -0.03f, 4, 0.01f};
  mb_view dw = mb_new(be, 6), df = mb_new(be, 6), dd = mb_new(be, 6), cond = mb_new(be, 6);
  mb_upload(be, dw, w, 6); mb_upload(be, df, fi, 6); mb_upload(be, dd, di, 6);
  double n = bl_ssd_dampen(be, dw, df, dd, cond, 6, 10.0f, 1.0f);
  float got[6];
  mb_download(be, got, dw, 6);
  check_ok(be);
  cr_assert_eq(n, 3.0, "selected %g, want 3", n);
  for (int i = 0; i < 6; i++) cr_assert_float_eq(got[i], want[i], 1e-6, "w[%d] = %g, want %g", i, got[i], want[i]);

  /* λ = 50: β = min(50·I_D/I_f, 1) never lets a weight grow */
  float w2[2] = {3, 8}, f2[2] = {1, 1}, d2[2] = {0.05f, 0.01f}, want2[2] = {3, 4};
  mb_upload(be, dw, w2, 2); mb_upload(be, df, f2, 2); mb_upload(be, dd, d2, 2);
  n = bl_ssd_dampen(be, dw, df, dd, cond, 2, 10.0f, 50.0f);
  mb_download(be, got, dw, 2);
  check_ok(be);
  cr_assert_eq(n, 2.0);
  for (int i = 0; i < 2; i++) cr_assert_float_eq(got[i], want2[i], 1e-6, "w[%d] = %g, want %g", i, got[i], want2[i]);
  mb_release(be, dw); mb_release(be, df); mb_release(be, dd); mb_release(be, cond);
  mb_backend_close(be);
}

/* I = (1/B)·Σ_batches (∇ mean CE)², against one backward per batch here. */
Test(ssd, importance_is_the_batch_mean_of_squared_gradients)
{
  mb_backend *be = open_or_skip("ref");
  mb_dataset ds;
  tiny_dataset(7, 6, 3, &ds);
  mb_devdata dd;
  mb_devdata_upload(be, &ds, &dd);
  int dims[3] = {6, 5, 3};
  mb_mlp m;
  tiny_mlp(be, &m, 2, dims, MB_ACT_SIGMOID, 8, 3.0f);
  int32_t order[7] = {6, 0, 5, 1, 4, 2, 3};
  bl_plan p;
  bl_plan_upload(be, &dd, order, NULL, NULL, 7, &p);
  size_t P = m.pt.total;
  mb_view imp = mb_new(be, P);
  bl_ssd_importance(&m, &dd, &p, 3, imp);
  float *got = malloc(P * 4), *g = malloc(P * 4);
  double *want = calloc(P, sizeof(double));
  mb_download(be, got, imp, P);
  mb_view lab = mb_new(be, 3);
  for (int r0 = 0; r0 < 7; r0 += 3) {
    int rows = 7 - r0 < 3 ? 7 - r0 : 3;
    int32_t y[3];
    for (int i = 0; i < rows; i++) {
      y[i] = ds.y[order[r0 + i]];
      mb_upload(be, mb_at(m.act[0], (size_t)i * 6), ds.x + (size_t)order[r0 + i] * 6, 6);
    }
    mb_upload(be, lab, y, (size_t)rows);
    mb_mlp_forward(&m, mb_none(), mb_none(), rows);
    mb_mlp_xent(&m, lab, rows, 1.0f / rows, mb_none());
    mb_mlp_backward(&m, rows, 1);
    mb_download(be, g, m.g, P);
    for (size_t i = 0; i < P; i++) want[i] += (double)g[i] * g[i] / 3.0;
  }
  check_ok(be);
  for (size_t i = 0; i < P; i++)
    cr_assert_float_eq(got[i], want[i], 1e-5 * want[i] + 1e-12, "I[%zu] %g vs %g", i, got[i], want[i]);
  free(got); free(g); free(want);
  mb_release(be, imp); mb_release(be, lab);
  bl_plan_free(be, &p);
  mb_mlp_destroy(&m);
  mb_devdata_free(be, &dd);
  mb_dataset_free(&ds);
  mb_backend_close(be);
}

/* ---- SFDN ---- */

Test(sfdn, variances_and_forget_row_reset)
{
  mb_backend *be = open_or_skip("ref");
  /* 3-2-2: fc1.weight 2×3 @0, fc1.bias 2 @6, fc2.weight 2×2 @8, fc2.bias 2 @12 */
  int dims[3] = {3, 2, 2};
  mb_mlp m;
  tiny_mlp(be, &m, 2, dims, MB_ACT_SIGMOID, 4, 1.0f);
  float F[14] = {0, 1e-2f, 1e2f, 4e-3f, 1, 1e4f,   /* fc1.weight */
                 0, 5e-3f,                          /* fc1.bias */
                 1e-3f, 0.5f, 2e-2f, 0,             /* fc2.weight */
                 1e-3f, 0};                         /* fc2.bias */
  float w0[14], w[14], var[14];
  mb_download(be, w0, m.w, 14);
  mb_view dF = mb_new(be, 14);
  mb_upload(be, dF, F, 14);
  int forget[1] = {1};
  bl_sfdn_variance(&m, dF, forget, 1, 1e-6f, -1.0f);
  mb_download(be, var, dF, 14);
  mb_download(be, w, m.w, 14);
  check_ok(be);
  /* hand values: v(F) = min(1/(F + 1e-8), 1e3) */
  double v[14];
  for (int i = 0; i < 14; i++) v[i] = fmin(1.0 / (F[i] + 1e-8), 1e3);
  /* fc1.weight rows: α × mean over the row */
  double r0 = 1e-6 * (v[0] + v[1] + v[2]) / 3, r1 = 1e-6 * (v[3] + v[4] + v[5]) / 3;
  double want[14] = {r0, r0, r0, r1, r1, r1,
                     1e-2, 1e-5 * v[7],                           /* bias: α·v·10; v(0) = 1e3 */
                     10 * 1e-6 * (fmin(v[8], 1e2) + fmin(v[9], 1e2)) / 2,
                     10 * 1e-6 * (fmin(v[8], 1e2) + fmin(v[9], 1e2)) / 2,
                     1e-3, 1e-3,                                  /* forget row: 1e-4 × 10 */
                     10 * 1e-6 * fmin(v[12], 1e2), 1e-3};
  cr_assert_float_eq(want[6], 10 * 1e-6 * v[6], 1e-12);
  for (int i = 0; i < 14; i++)
    cr_assert_float_eq(var[i], want[i], 1e-5 * want[i], "var[%d] = %g, want %g", i, var[i], want[i]);
  /* means: the final layer's row 1 (weight row and bias element) reset to 0, the rest kept */
  for (int i = 0; i < 14; i++) {
    int reset = i == 10 || i == 11 || i == 13;
    cr_assert_eq(w[i], reset ? 0.0f : w0[i], "w[%d] = %g", i, w[i]);
  }
  mb_release(be, dF);
  mb_mlp_destroy(&m);
  mb_backend_close(be);
}

/* F = (1/n)·Σ_x Σ_y p_y(x)·(∇ CE(x, y))², against a per-sample, per-class loop;
 * generic: through the model interface (the ResNet path) on the wrapped MLP. */
static void sfdn_fisher_case(mb_act act, int generic)
{
  mb_backend *be = open_or_skip("ref");
  int n = 5, D = 6, K = 3;
  mb_dataset ds;
  tiny_dataset(n, D, K, &ds);
  mb_devdata dd;
  mb_devdata_upload(be, &ds, &dd);
  int dims[4] = {6, 5, 4, 3};
  mb_mlp m;
  tiny_mlp(be, &m, 3, dims, act, 4, 2.0f);
  int32_t idx[5] = {0, 1, 2, 3, 4};
  bl_plan p;
  bl_plan_upload(be, &dd, idx, NULL, NULL, n, &p);
  size_t P = m.pt.total;
  mb_view F = mb_new(be, P);
  mb_model md;
  mb_model_from_mlp(&m, &md);
  if (generic) bl_sfdn_fisher_md(&md, &dd, &p, 2, F);
  else bl_sfdn_fisher(&m, &dd, &p, 2, F);   /* chunks of 2, 2, 1 */
  float *got = malloc(P * 4), *g = malloc(P * 4), z[3];
  double *want = calloc(P, sizeof(double));
  mb_download(be, got, F, P);
  cr_assert_eq(m.passes.backward, (long long)n * K, "backward passes %lld", m.passes.backward);
  mb_view lab = mb_new(be, 1);
  for (int i = 0; i < n; i++) {
    for (int y = 0; y < K; y++) {
      mb_upload(be, m.act[0], ds.x + (size_t)i * D, (size_t)D);
      mb_upload(be, lab, &y, 1);
      mb_view logits = mb_mlp_forward(&m, mb_none(), mb_none(), 1);
      mb_download(be, z, logits, 3);
      double mx = fmax(z[0], fmax(z[1], z[2])), s = 0;
      for (int k = 0; k < K; k++) s += exp(z[k] - mx);
      double py = exp(z[y] - mx) / s;
      mb_mlp_xent(&m, lab, 1, 1.0f, mb_none());
      mb_mlp_backward(&m, 1, 1);
      mb_download(be, g, m.g, P);
      for (size_t j = 0; j < P; j++) want[j] += py * g[j] * g[j] / n;
    }
  }
  check_ok(be);
  double top = 0;
  for (size_t j = 0; j < P; j++) top = fmax(top, want[j]);
  for (size_t j = 0; j < P; j++)
    cr_assert_float_eq(got[j], want[j], 1e-4 * want[j] + 1e-7 * top, "F[%zu] %g vs %g", j, got[j], want[j]);
  free(got); free(g); free(want);
  mb_release(be, F); mb_release(be, lab);
  bl_plan_free(be, &p);
  mb_mlp_destroy(&m);
  mb_devdata_free(be, &dd);
  mb_dataset_free(&ds);
  mb_backend_close(be);
}

Test(sfdn, true_fisher_matches_per_class_loop_sigmoid) { sfdn_fisher_case(MB_ACT_SIGMOID, 0); }
Test(sfdn, true_fisher_matches_per_class_loop_relu) { sfdn_fisher_case(MB_ACT_RELU, 0); }
Test(sfdn, model_interface_fisher_matches_per_class_loop) { sfdn_fisher_case(MB_ACT_RELU, 1); }

/* ---- UNSIR ---- */

/* One noise step: the gradient against central differences of
 * −mean CE + reg·mean_b Σ N² (host, double), and Adam's first step
 * N ← N − lr·g/(|g| + ε). */
Test(unsir, noise_step_gradient_and_adam_update)
{
  mb_backend *be = open_or_skip("ref");
  int dims[3] = {5, 4, 3}, B = 2, D = 5;
  float reg = 0.1f, lr = 0.1f;
  mb_mlp m;
  tiny_mlp(be, &m, 2, dims, MB_ACT_SIGMOID, 4, 3.0f);
  host_mlp h = host_of(&m);
  size_t P = m.pt.total, n = (size_t)B * D;
  float *wf = malloc(P * 4);
  mb_download(be, wf, m.w, P);
  double *w = to_double(wf, P);
  float N[10], N1[10], g[10];
  for (int i = 0; i < 10; i++) N[i] = (float)sin(1.3 * i + 0.4);
  mb_view dN = mb_new(be, n), mom = mb_new(be, n), var = mb_new(be, n), grad = mb_new(be, n);
  mb_view lab = mb_new(be, (size_t)B);
  mb_upload(be, dN, N, n);
  mb_fill(be, mom, n, 0.0f);
  mb_fill(be, var, n, 0.0f);
  mb_fill_u32(be, lab, (size_t)B, 2);
  bl_unsir_noise_step(&m, dN, lab, B, reg, lr, mom, var, grad, 1, mb_none());
  mb_download(be, N1, dN, n);
  mb_download(be, g, grad, n);
  check_ok(be);
  for (size_t i = 0; i < n; i++) {
    double x[10], e = 1e-5, f[2];
    for (int s = 0; s < 2; s++) {
      for (size_t j = 0; j < n; j++) x[j] = N[j];
      x[i] += s ? -e : e;
      double ce = 0, sq = 0;
      for (int b = 0; b < B; b++) ce += host_ce(&h, w, x + b * D, 2) / B;
      for (size_t j = 0; j < n; j++) sq += x[j] * x[j] / B;
      f[s] = -ce + reg * sq;
    }
    double fd = (f[0] - f[1]) / (2 * e);
    cr_assert_float_eq(g[i], fd, 1e-4 + 1e-4 * fabs(fd), "dN[%zu] %g vs finite differences %g", i, g[i], fd);
    double step = lr * g[i] / (fabs(g[i]) + 1e-8);
    cr_assert_float_eq(N1[i], N[i] - step, 1e-6, "N'[%zu] %g, want %g", i, N1[i], N[i] - step);
  }
  free(wf); free(w);
  mb_release(be, dN); mb_release(be, mom); mb_release(be, var); mb_release(be, grad);
  mb_release(be, lab);
  mb_mlp_destroy(&m);
  mb_backend_close(be);
}

/* ---- MU-Mis ---- */

/* ∇_w Σ_n φ(∂z_c/∂x) − φ(∂z_c′/∂x) from the double backward against central
 * differences of the input-gradient norms computed here in double. */
static void mumis_grad_case(int L, const int *dims, mb_act act, int l2)
{
  mb_backend *be = open_or_skip("ref");
  int h = 3, D = dims[0], K = dims[L];
  mb_mlp m;
  tiny_mlp(be, &m, L, dims, act, 2 * h, 2.5f);
  host_mlp hm = host_of(&m);
  size_t P = m.pt.total;
  float x[3 * 8], loss = 0, *wf = malloc(P * 4), *G = malloc(P * 4);
  for (int i = 0; i < h * D; i++) x[i] = (float)cos(0.7 * i + 0.3);
  int32_t seeds[6] = {0, 2 % K, 1, 1, 0, (K - 1)};
  mb_sens_ws ws;
  cr_assert_eq(mb_sens_ws_create(&m, 2 * h, &ws), 0, "%s", mb_error(be));
  mb_view dseeds = mb_new(be, 6), dloss = mb_new(be, 1);
  mb_upload(be, dseeds, seeds, 6);
  mb_upload(be, m.act[0], x, (size_t)h * D);
  mb_fill(be, m.g, P, 0.0f);
  mb_fill(be, dloss, 1, 0.0f);
  mb_mlp_forward(&m, mb_none(), mb_none(), h);
  mb_mlp_sens_grad(&m, &ws, dseeds, h, l2, m.g, dloss);
  mb_download(be, G, m.g, P);
  mb_download(be, &loss, dloss, 1);
  mb_download(be, wf, m.w, P);
  check_ok(be);
  double *w = to_double(wf, P), xd[24];
  for (int i = 0; i < h * D; i++) xd[i] = x[i];
  double want_loss = host_mumis_loss(&hm, w, xd, h, seeds, l2);
  cr_assert_float_eq(loss, want_loss, 1e-4 * fabs(want_loss) + 1e-6, "loss %g vs %g", loss, want_loss);
  double *fd = malloc(P * sizeof(double)), top = 0;
  for (size_t i = 0; i < P; i++) {
    double keep = w[i], e = 1e-6;
    w[i] = keep + e;
    double lp = host_mumis_loss(&hm, w, xd, h, seeds, l2);
    w[i] = keep - e;
    double lm = host_mumis_loss(&hm, w, xd, h, seeds, l2);
    w[i] = keep;
    fd[i] = (lp - lm) / (2 * e);
    top = fmax(top, fabs(fd[i]));
  }
  cr_assert_gt(top, 1e-3, "degenerate case: all gradients ~0");
  for (size_t i = 0; i < P; i++)
    cr_assert_float_eq(G[i], fd[i], 2e-4 * top + 1e-3 * fabs(fd[i]), "dℓ/dw[%zu] %g vs finite differences %g (max %g)",
                       i, G[i], fd[i], top);
  mb_sens_ws_destroy(&m, &ws);
  mb_release(be, dseeds); mb_release(be, dloss);
  free(wf); free(G); free(w); free(fd);
  mb_mlp_destroy(&m);
  mb_backend_close(be);
}

static const int k_dims2[3] = {5, 4, 3};
static const int k_dims3[4] = {6, 5, 4, 3};
Test(mumis, gradient_matches_finite_differences_sigmoid_1_hidden) { mumis_grad_case(2, k_dims2, MB_ACT_SIGMOID, 0); }
Test(mumis, gradient_matches_finite_differences_sigmoid_2_hidden) { mumis_grad_case(3, k_dims3, MB_ACT_SIGMOID, 0); }
Test(mumis, gradient_matches_finite_differences_relu_2_hidden) { mumis_grad_case(3, k_dims3, MB_ACT_RELU, 0); }
Test(mumis, gradient_matches_finite_differences_sigmoid_l2_norm) { mumis_grad_case(3, k_dims3, MB_ACT_SIGMOID, 1); }

/* ---- end to end: ref and cpu from identical weights ---- */

typedef struct {
  double A_R0, E_F0, A_R, E_F;
  int sign;
  long long fwd, bwd;
  char note[128];
} e2e;

#define E2E_SEED 7
#define E2E_TRAIN 2000
#define E2E_TEST 1000

/* A small sigmoid MLP trained on ref on the synthetic set (same weights every run). */
static float *base_weights(const mb_dataset *train, const mb_mlp_config *cfg, size_t *P)
{
  mb_backend *be = open_or_skip("ref");
  mb_devdata dd;
  mb_devdata_upload(be, train, &dd);
  mb_mlp m;
  mb_mlp_create(be, cfg, 512, &m);
  mb_mlp_init(&m, E2E_SEED);
  mb_train_opts o;
  mb_train_defaults(&o);
  o.epochs = 5;
  o.lr = 0.05f;   /* the synthetic set is small: a faster rate gives a usable model */
  o.t_mix = 0;
  o.seed = E2E_SEED;
  mb_train_stats st;
  cr_assert_eq(mb_train(&m, &dd, mb_none(), &o, &st), 0, "%s", mb_error(be));
  *P = m.pt.total;
  float *w = malloc(*P * sizeof(float));
  mb_download(be, w, m.w, *P);
  check_ok(be);
  mb_mlp_destroy(&m);
  mb_devdata_free(be, &dd);
  mb_backend_close(be);
  return w;
}

/* 0, or -1 when the backend has no device here (then nothing ran). */
static int run_method(const char *backend, const char *method, const char *const *kv,
                      const mb_dataset *train, const mb_dataset *test, const mb_mlp_config *cfg,
                      const float *w0, e2e *r)
{
  char why[512];
  mb_backend *be = mb_backend_open(backend, 0, why, sizeof why);
  if (!be) {
    cr_log_info("%s: not run on %s: %s", method, backend, why);
    return -1;
  }
  const mb_method *me = mb_method_find(method);
  cr_assert_not_null(me, "method %s is not registered", method);
  double params[MB_METHOD_MAX_PARAMS];
  char err[256];
  mb_method_defaults(me, params);
  for (; kv && *kv; kv++) cr_assert_eq(mb_method_set_param(me, params, *kv, err, sizeof err), 0, "%s", err);
  mb_devdata dtr, dte;
  mb_devdata_upload(be, train, &dtr);
  mb_devdata_upload(be, test, &dte);
  mb_mlp m;
  mb_mlp_create(be, cfg, 512, &m);
  mb_upload(be, m.w, w0, m.pt.total);
  int forget[1] = {0};
  mb_eval_result before, after;
  cr_assert_eq(mb_evaluate(&m, mb_none(), &dte, forget, 1, &before), 0, "%s", mb_error(be));
  mb_forget_request rq = {
    .m = &m, .codes = mb_none(), .n_classes = 10, .forget = forget, .n_forget = 1,
    .train = &dtr, .seed = E2E_SEED, .params = params,
  };
  mb_forget_outcome out;
  memset(&out, 0, sizeof out);
  mb_pass_count p0 = m.passes;
  cr_assert_eq(me->forget(&rq, &out), 0, "%s on %s: %s", method, backend, mb_error(be));
  r->fwd = m.passes.forward - p0.forward;
  r->bwd = m.passes.backward - p0.backward;
  cr_assert_eq(mb_evaluate(&m, mb_none(), &dte, forget, 1, &after), 0, "%s", mb_error(be));
  r->A_R0 = before.A_R; r->E_F0 = before.E_F;
  r->A_R = after.A_R; r->E_F = after.E_F;
  r->sign = out.sign;
  memcpy(r->note, out.note, sizeof r->note);
  cr_log_info("%s on %s: A_R %.2f -> %.2f, E_F %.2f -> %.2f, %lld fwd / %lld bwd (%s)", method,
              backend, r->A_R0, r->A_R, r->E_F0, r->E_F, r->fwd, r->bwd, r->note);
  mb_mlp_destroy(&m);
  mb_devdata_free(be, &dtr);
  mb_devdata_free(be, &dte);
  mb_backend_close(be);
  return 0;
}

/* Runs `method` on ref and on every other backend with a device here; each must
 * agree with ref within 0.1 points (≤ 1 test sample) and count the same passes. */
static void e2e_both(const char *method, const char *const *kv, e2e *ref)
{
  mb_dataset train, test;
  mb_data_synthetic(E2E_SEED, E2E_TRAIN, E2E_TEST, &train, &test);
  mb_mlp_config cfg;
  char err[128];
  cr_assert_eq(mb_mlp_config_parse("784-64-10", "sigmoid", &cfg, err, sizeof err), 0, "%s", err);
  size_t P;
  float *w0 = base_weights(&train, &cfg, &P);
  cr_assert_eq(run_method("ref", method, kv, &train, &test, &cfg, w0, ref), 0, "ref did not open");
  cr_assert(isfinite(ref->A_R) && isfinite(ref->E_F));
  const mb_backend_entry *be_list;
  int n_be = mb_backend_entries(&be_list);
  for (int i = 0; i < n_be; i++) {
    e2e o;
    const char *b = be_list[i].name;
    if (strcmp(b, "ref") == 0 || run_method(b, method, kv, &train, &test, &cfg, w0, &o) != 0) continue;
    cr_expect_eq(ref->sign, o.sign, "%s: ± choice ref %d, %s %d", method, ref->sign, b, o.sign);
    cr_expect_eq(ref->fwd, o.fwd, "%s: forward passes differ on %s", method, b);
    cr_expect_eq(ref->bwd, o.bwd, "%s: backward passes differ on %s", method, b);
    cr_expect_leq(fabs(ref->A_R - o.A_R), 0.1 + 1e-9, "%s: A_R ref %.2f %s %.2f", method, ref->A_R, b, o.A_R);
    cr_expect_leq(fabs(ref->E_F - o.E_F), 0.1 + 1e-9, "%s: E_F ref %.2f %s %.2f", method, ref->E_F, b, o.E_F);
  }
  free(w0);
  mb_dataset_free(&train);
  mb_dataset_free(&test);
}

/* Class 0 has 200 of the 2000 training samples; 1800 retain samples. */

/* SSD's I is a mean over batches, so a parameter that only class 0 moves has
 * I_f/I_D <= B_D/B_f (baselines/ssd.c).  Here that is ⌈2000/64⌉/⌈200/64⌉ =
 * 32/4 = 8: SSD's own α = 10 selects nothing class-specific and E_F stays 0
 * (measured), and the default α = 8 sits on the bound.  So the run here takes
 * α = 7, below it; then class 0 must go. */
Test(e2e, ssd, .timeout = 300)
{
  const char *kv[] = {"alpha=7", NULL};
  e2e r;
  e2e_both("ssd", kv, &r);
  /* one forward and backward per sample of D_f and of D */
  cr_assert_eq(r.fwd, 200 + 2000);
  cr_assert_eq(r.bwd, 200 + 2000);
  cr_assert_gt(r.E_F, r.E_F0 + 50.0, "dampening did not remove class 0: E_F %.2f", r.E_F);
  cr_assert_gt(r.A_R, 85.0, "dampening hit the remaining classes: A_R %.2f", r.A_R);
}

Test(e2e, fastmu, .timeout = 300)
{
  const char *kv[] = {"noise_batch=64", "copies=5", "retain_per_class=50", "impair_batch=64",
                      "repair_batch=64", NULL};
  e2e r;
  e2e_both("fastmu", kv, &r);
  /* 40 noise steps of 64; impair 5·64 + 9·50 rows; repair 450 rows */
  cr_assert_eq(r.fwd, 40 * 64 + 320 + 450 + 450);
  cr_assert_gt(r.E_F, r.E_F0, "impair did not reduce the forget-class accuracy");
}

Test(e2e, sfdn, .timeout = 300)
{
  e2e r;
  e2e_both("sfdn", NULL, &r);
  cr_assert_eq(r.fwd, 1800);
  cr_assert_eq(r.bwd, 1800 * 10);
  cr_assert_gt(r.E_F, r.E_F0);
}

/* The descent itself, without the stopping rule: 4 iterations at a step
 * large enough for this small model (the default grid tops out at 1e-3). */
Test(e2e, mumis, .timeout = 300)
{
  const char *kv[] = {"stop=2", "iters=4", "lr=1", "batch=128", NULL};
  e2e r;
  e2e_both("mumis", kv, &r);
  /* per iteration and sample: 1 forward + 2 linearised forwards, 2 input backwards + 2 curvature backwards */
  cr_assert_eq(r.fwd, 4 * 3 * 200, "forward passes %lld", r.fwd);
  cr_assert_eq(r.bwd, 4 * 4 * 200, "backward passes %lld", r.bwd);
  cr_assert_gt(r.E_F, r.E_F0 + 50.0, "sensitivity minimisation did not touch the forget class");
}

/* The defaults (§6.2): δ = L̃_0/|D_f|.  On this sigmoid model, as on the
 * Fashion-MNIST one, the target logit is already the less input-sensitive one
 * (L̃_0 < 0), so the rule holds at once and exactly one step is taken. */
Test(e2e, mumis_default_rule, .timeout = 300)
{
  const char *kv[] = {"batch=128", NULL};
  e2e r;
  e2e_both("mumis", kv, &r);
  double L0 = NAN;
  const char *ml = strstr(r.note, "mean loss ");
  cr_assert(ml && sscanf(ml, "mean loss %lf", &L0) == 1, "note: %s", r.note);
  cr_assert_lt(L0, 0.0, "this model's mean gap L0/|D_f| is %g: the case below needs it negative", L0);
  cr_assert_eq(r.fwd, 3 * 200, "L0 <= 0 must stop after the first iteration: %lld forward passes", r.fwd);
  cr_assert_eq(r.bwd, 4 * 200);
}

Test(mumis, stopping_rule_by_hand)
{
  /* default: δ = L0/n, i.e. stop once the pre-step loss Lt is <= 0 */
  cr_assert_eq(bl_mumis_stop(BL_MUMIS_STOP_GAP, 12.0, 12.0, 4, 0), 0);
  cr_assert_eq(bl_mumis_stop(BL_MUMIS_STOP_GAP, 12.0, 0.5, 4, 0), 0);
  cr_assert_eq(bl_mumis_stop(BL_MUMIS_STOP_GAP, 12.0, 0.0, 4, 0), 1);
  cr_assert_eq(bl_mumis_stop(BL_MUMIS_STOP_GAP, 12.0, -3.0, 4, 0), 1);
  cr_assert_eq(bl_mumis_stop(BL_MUMIS_STOP_GAP, -2.0, -2.0, 4, 0), 1);   /* L0 <= 0: at once */
  /* explicit δ: (12 − 4)/4 = 2 */
  cr_assert_eq(bl_mumis_stop(BL_MUMIS_STOP_DELTA, 12.0, 4.0, 4, 2.0), 1);
  cr_assert_eq(bl_mumis_stop(BL_MUMIS_STOP_DELTA, 12.0, 4.5, 4, 2.0), 0);
  cr_assert_eq(bl_mumis_stop(BL_MUMIS_STOP_NONE, 12.0, -100.0, 4, 0), 0);
}

Test(e2e, retrain, .timeout = 300)
{
  const char *kv[] = {"epochs=10", "lr=0.05", NULL};
  e2e r;
  e2e_both("retrain", kv, &r);
  cr_assert_eq(r.fwd, 10 * 1800);
  cr_assert_eq(r.E_F, 100.0, "a model that never saw class 0 predicts it: E_F %.2f", r.E_F);
  cr_assert_gt(r.A_R, 80.0);
}

Test(e2e, ours_w_data, .timeout = 300)
{
  e2e r;
  e2e_both("ours-w-data", NULL, &r);
  cr_assert(r.sign == 1 || r.sign == -1);
  /* 100 samples: one forward+backward each for the FIM, two forwards for the ± choice */
  cr_assert_eq(r.fwd, 3 * 100);
  cr_assert_eq(r.bwd, 100);
}

Test(methods, every_baseline_is_registered_with_defaults)
{
  const char *names[] = {"mnemonic", "ours-w-data", "ssd", "fastmu", "unsir", "sfdn", "mumis", "retrain"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const mb_method *me = mb_method_find(names[i]);
    cr_assert_not_null(me, "%s missing", names[i]);
    cr_assert_leq(me->n_params, MB_METHOD_MAX_PARAMS);
    cr_assert_not_null(me->forget);
  }
  cr_assert_eq(mb_method_find("unsir"), mb_method_find("fastmu"));
  double v[MB_METHOD_MAX_PARAMS];
  const mb_method *ssd = mb_method_find("ssd");
  mb_method_defaults(ssd, v);
  cr_assert_eq(v[0], 8.0);   /* below B_D/B_f ≈ 10 of one class in ten (baselines/ssd.c) */
  cr_assert_eq(v[1], 1.0);
}
