/* The quality metrics (core/quality.h, docs/specification.md §7.7): the per-row
 * distances on hand-made probabilities against closed forms, the attack's logistic
 * fit on separable toy numbers, and the whole metrics on a tiny MLP agreeing
 * between ref (the f64 oracle) and cpu.  About a second. */
#include "core/eval.h"
#include "core/quality.h"
#include "mb/registry.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static mb_backend *open_or_skip(const char *name)
{
  char why[512];
  mb_backend *be = mb_backend_open(name, 0, why, sizeof why);
  if (!be) cr_skip_test("%s: %s", name, why);
  return be;
}

/* JS in nats from the definition, in double. */
static double js_host(const double *p, const double *q, int k)
{
  double s = 0;
  for (int j = 0; j < k; j++) {
    double m = 0.5 * (p[j] + q[j]);
    if (p[j] > 0) s += 0.5 * p[j] * log(p[j] / m);
    if (q[j] > 0) s += 0.5 * q[j] * log(q[j] / m);
  }
  return s;
}

static void prob_rows_on(const char *name)
{
  mb_backend *be = open_or_skip(name);
  enum { R = 4, K = 3 };
  /* rows: identical; disjoint one-hot; a general pair; one with a zero entry */
  const double p[R][K] = {{0.2, 0.3, 0.5}, {1, 0, 0}, {0.7, 0.2, 0.1}, {0.5, 0.5, 0}};
  const double q[R][K] = {{0.2, 0.3, 0.5}, {0, 1, 0}, {0.1, 0.3, 0.6}, {0.25, 0.25, 0.5}};
  float pf[R * K], qf[R * K], l2[R], js[R];
  for (int r = 0; r < R; r++)
    for (int j = 0; j < K; j++) { pf[r * K + j] = (float)p[r][j]; qf[r * K + j] = (float)q[r][j]; }
  mb_view P = mb_new(be, R * K), Q = mb_new(be, R * K), S = mb_new(be, 3 * R * K);
  mb_view dl2 = mb_new(be, R), djs = mb_new(be, R);
  mb_upload(be, P, pf, R * K);
  mb_upload(be, Q, qf, R * K);
  mb_quality_prob_rows(be, P, Q, R, K, S, dl2, djs);
  mb_download(be, l2, dl2, R);
  mb_download(be, js, djs, R);
  cr_assert(mb_ok(be), "%s", mb_error(be));
  cr_expect_eq(l2[0], 0.0f, "%s: identical rows, L2 %g", name, l2[0]);
  cr_expect_eq(js[0], 0.0f, "%s: identical rows, JS %g", name, js[0]);
  cr_expect_float_eq(l2[1], sqrt(2.0), 1e-6, "%s: one-hot L2 %g", name, l2[1]);
  cr_expect_float_eq(js[1], log(2.0), 1e-6, "%s: disjoint JS %g, want ln 2", name, js[1]);
  for (int r = 2; r < R; r++) {
    double d = 0;
    for (int j = 0; j < K; j++) d += (p[r][j] - q[r][j]) * (p[r][j] - q[r][j]);
    /* inputs are rounded to f32 (relative 6e-8) and the op runs in f32: 1e-6 relative */
    cr_expect_float_eq(l2[r], sqrt(d), 1e-6 * sqrt(d), "%s row %d: L2 %g want %g", name, r, l2[r], sqrt(d));
    double want = js_host(p[r], q[r], K);
    cr_expect_float_eq(js[r], want, 1e-6 * want + 1e-7, "%s row %d: JS %g want %g", name, r, js[r], want);
  }
  mb_release(be, P); mb_release(be, Q); mb_release(be, S); mb_release(be, dl2); mb_release(be, djs);
  mb_backend_close(be);
}

Test(quality, prob_rows_ref) { prob_rows_on("ref"); }
Test(quality, prob_rows_cpu) { prob_rows_on("cpu"); }

Test(quality, mia_separable)
{
  /* members' confidences in [0.8, 1], non-members' in [0, 0.4]: any fitted threshold
   * lies between, so targets at 0.95 are members and at 0.1 are not */
  double in[50], out[50], t[10], w0, w1, pct;
  for (int i = 0; i < 50; i++) { in[i] = 0.8 + 0.2 * i / 49.0; out[i] = 0.4 * i / 49.0; }
  for (int i = 0; i < 10; i++) t[i] = i < 3 ? 0.95 : 0.1;
  cr_assert_eq(mb_mia_logistic(in, 50, out, 50, t, 10, &w0, &w1, &pct), 0);
  cr_expect_eq(pct, 30.0, "%% members %g (w0 %g, w1 %g)", pct, w0, w1);
  cr_expect(w1 > 0 && isfinite(w0) && isfinite(w1), "w0 %g, w1 %g", w0, w1);
  double thr = -w0 / w1;
  cr_expect(thr > 0.4 && thr < 0.8, "threshold %g not between the classes", thr);
  /* the fit is symmetric: swapping the sides flips the slope's sign */
  double v0, v1;
  cr_assert_eq(mb_mia_logistic(out, 50, in, 50, t, 10, &v0, &v1, &pct), 0);
  cr_expect_float_eq(v1, -w1, 1e-9 * fabs(w1), "slopes %g and %g", v1, w1);
  cr_expect_eq(pct, 70.0);
  cr_expect_eq(mb_mia_logistic(in, 0, out, 50, t, 10, &w0, &w1, &pct), -1, "empty side accepted");
}

Test(quality, mia_overlap_is_chance)
{
  /* the same confidences on both sides: the fit is flat (w1 = 0, w0 = 0) */
  double x[40], t[4] = {0.1, 0.3, 0.6, 0.9}, w0, w1, pct;
  for (int i = 0; i < 40; i++) x[i] = (double)(i % 20) / 19.0;
  cr_assert_eq(mb_mia_logistic(x, 40, x, 40, t, 4, &w0, &w1, &pct), 0);
  cr_expect(fabs(w0) < 1e-12 && fabs(w1) < 1e-12, "w0 %g, w1 %g", w0, w1);
  cr_expect(pct >= 0 && pct <= 100, "%% %g", pct);
}

/* ---- the metrics of a tiny model on ref and on cpu ---- */

static void tiny_dataset(int n, int D, int K, int salt, mb_dataset *ds)
{
  memset(ds, 0, sizeof *ds);
  ds->n = n; ds->c = 1; ds->h = 1; ds->w = D; ds->n_classes = K;
  ds->x = malloc(sizeof(float) * (size_t)n * D);
  ds->y = malloc(sizeof(int32_t) * (size_t)n);
  for (int i = 0; i < n; i++) {
    int y = (i * 7 + 3 + salt) % K;
    ds->y[i] = y;
    /* class-dependent pattern plus a per-sample jitter, so the model can learn it */
    for (int j = 0; j < D; j++)
      ds->x[(size_t)i * D + j] = (float)(((j % K == y) ? 160 : 40) + (i * 37 + j * 91 + salt) % 60) / 255.0f;
  }
}

typedef struct {
  double conf[64];
  mb_quality q;
} metrics;

static void metrics_on(const char *name, metrics *out)
{
  mb_backend *be = open_or_skip(name);
  enum { D = 16, K = 4, NTR = 160, NTE = 64 };
  mb_dataset tr, te;
  tiny_dataset(NTR, D, K, 0, &tr);
  tiny_dataset(NTE, D, K, 5, &te);
  mb_devdata dtr, dte;
  cr_assert_eq(mb_devdata_upload(be, &tr, &dtr), 0, "%s", mb_error(be));
  cr_assert_eq(mb_devdata_upload(be, &te, &dte), 0, "%s", mb_error(be));
  mb_mlp_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.n_layers = 2;
  cfg.dims[0] = D; cfg.dims[1] = 12; cfg.dims[2] = K;
  cfg.act = MB_ACT_SIGMOID;
  cfg.in_c = 1; cfg.in_h = 1; cfg.in_w = D;
  mb_mlp a, b;
  cr_assert_eq(mb_mlp_create(be, &cfg, 64, &a), 0, "%s", mb_error(be));
  cr_assert_eq(mb_mlp_create(be, &cfg, 64, &b), 0, "%s", mb_error(be));
  mb_mlp_init(&a, 3);
  mb_mlp_init(&b, 4);
  /* larger weights than the init, so the two models' outputs differ well above rounding */
  mb_unary(be, MB_UN_AFFINE, a.w, a.w, a.pt.total, 4.0f, 0.0f);
  mb_unary(be, MB_UN_AFFINE, b.w, b.w, b.pt.total, 4.0f, 0.0f);
  /* a's class-0 logit pushed down, so it starts below the relearn target */
  size_t b_last = a.pt.t[2 * cfg.n_layers - 1].off;
  mb_fill(be, mb_at(a.w, b_last), 1, -6.0f);
  mb_model ma, mb;
  mb_model_from_mlp(&a, &ma);
  mb_model_from_mlp(&b, &mb);
  int forget[1] = {0};
  mb_quality_init(&out->q);
  int32_t idx[64];
  for (int i = 0; i < 64; i++) idx[i] = i;
  cr_assert_eq(mb_quality_confidence(&ma, mb_none(), &dte, idx, 64, out->conf), 0, "%s", mb_error(be));
  cr_assert_eq(mb_quality_mia(&ma, &dtr, &dte, forget, 1, 7, &out->q), 0, "%s", mb_error(be));
  cr_assert_eq(mb_quality_distance(&ma, &mb, &dte, forget, 1, &out->q), 0, "%s", mb_error(be));
  /* a model's distance to itself is exactly 0 */
  mb_quality self;
  mb_quality_init(&self);
  cr_assert_eq(mb_quality_distance(&ma, &ma, &dte, forget, 1, &self), 0, "%s", mb_error(be));
  cr_expect(self.act_forget == 0 && self.act_retain == 0 && self.js_forget == 0 && self.js_retain == 0,
            "%s: self-distance %g %g %g %g", name, self.act_forget, self.act_retain, self.js_forget,
            self.js_retain);
  cr_assert_eq(mb_quality_relearn(&ma, &dtr, &dte, forget, 1, 100.0, 7, &out->q), 0, "%s", mb_error(be));
  mb_mlp_destroy(&a);
  mb_mlp_destroy(&b);
  mb_devdata_free(be, &dtr);
  mb_devdata_free(be, &dte);
  mb_dataset_free(&tr);
  mb_dataset_free(&te);
  mb_backend_close(be);
}

Test(quality, ref_and_cpu_agree)
{
  metrics r, c;
  metrics_on("ref", &r);
  metrics_on("cpu", &c);
  for (int i = 0; i < 64; i++)
    cr_expect_float_eq(c.conf[i], r.conf[i], 1e-5, "confidence %d: cpu %g ref %g", i, c.conf[i], r.conf[i]);
  cr_expect_eq(c.q.mia_n_shadow, r.q.mia_n_shadow);
  cr_expect_eq(c.q.mia_n_target, r.q.mia_n_target);
  cr_expect_eq(c.q.mia, r.q.mia, "MIA: cpu %g%% ref %g%%", c.q.mia, r.q.mia);
  cr_expect_float_eq(c.q.mia_w1, r.q.mia_w1, 1e-3 * fabs(r.q.mia_w1), "slope cpu %g ref %g", c.q.mia_w1, r.q.mia_w1);
  cr_expect(r.q.act_forget > 0.01 && r.q.js_retain > 1e-4, "distances too small to compare: %g %g",
            r.q.act_forget, r.q.js_retain);
  cr_expect_float_eq(c.q.act_forget, r.q.act_forget, 1e-5 * r.q.act_forget, "act_forget cpu %g ref %g", c.q.act_forget, r.q.act_forget);
  cr_expect_float_eq(c.q.act_retain, r.q.act_retain, 1e-5 * r.q.act_retain, "act_retain cpu %g ref %g", c.q.act_retain, r.q.act_retain);
  cr_expect_float_eq(c.q.js_forget, r.q.js_forget, 1e-4 * r.q.js_forget, "js_forget cpu %g ref %g", c.q.js_forget, r.q.js_forget);
  cr_expect_float_eq(c.q.js_retain, r.q.js_retain, 1e-4 * r.q.js_retain, "js_retain cpu %g ref %g", c.q.js_retain, r.q.js_retain);
  cr_expect_eq(c.q.n_dist_forget, 16);
  cr_expect_eq(c.q.n_dist_retain, 48);
  cr_expect(r.q.relearn_reached && r.q.relearn_steps > 0, "ref relearn: %ld steps, reached %d (acc %g)",
            r.q.relearn_steps, r.q.relearn_reached, r.q.relearn_acc);
  cr_expect_eq(c.q.relearn_steps, r.q.relearn_steps, "relearn steps cpu %ld ref %ld", c.q.relearn_steps, r.q.relearn_steps);
}
