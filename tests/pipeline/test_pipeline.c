/* Core pipeline tests: layer gradients against finite differences, the batched
 * squared-gradient pass against the per-code definition, and end-to-end
 * training + forgetting on the synthetic set. */
#include "core/codes.h"
#include "core/devdata.h"
#include "core/eval.h"
#include "core/forget_mnemonic.h"
#include "mb/registry.h"
#include "core/train.h"
#include "mb_config.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
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

static void tiny_model(mb_backend *be, mb_mlp *m, mb_act act, int batch)
{
  mb_mlp_config cfg = {.n_layers = 2, .dims = {12, 7, 5}, .act = act, .in_c = 1, .in_h = 3, .in_w = 4};
  cr_assert_eq(mb_mlp_create(be, &cfg, batch, m), 0, "%s", mb_error(be));
  mb_mlp_init(m, 3);
  /* larger weights than the default init, so every gradient is well above rounding */
  mb_unary(be, MB_UN_AFFINE, m->w, m->w, m->pt.total, 4.0f, 0.0f);
}

/* Mean CE of `rows` rows in act[0] (re-uploaded) with parameters w. */
static double loss_at(mb_mlp *m, const float *x, const int32_t *y, mb_view dy, int rows, const float *w)
{
  mb_backend *be = m->be;
  float l[16];
  mb_view dl = mb_new(be, 16);
  mb_upload(be, m->w, w, m->pt.total);
  mb_upload(be, m->act[0], x, (size_t)rows * m->cfg.dims[0]);
  mb_upload(be, dy, y, (size_t)rows);
  mb_mlp_forward(m, mb_none(), mb_none(), rows);
  mb_mlp_xent(m, dy, rows, 1.0f / rows, dl);
  mb_download(be, l, dl, (size_t)rows);
  mb_release(be, dl);
  double s = 0;
  for (int i = 0; i < rows; i++) s += l[i];
  return s / rows;
}

static void grad_check(mb_act act)
{
  mb_backend *be = open_or_skip("ref");
  mb_mlp m;
  tiny_model(be, &m, act, 4);
  int rows = 4;
  float x[48];
  int32_t y[4] = {0, 3, 4, 1};
  for (int i = 0; i < 48; i++) x[i] = (float)sin(1.7 * i) * 0.9f;
  size_t P = m.pt.total;
  float *w = malloc(P * sizeof *w), *g = malloc(P * sizeof *g);
  mb_download(be, w, m.w, P);
  mb_view dy = mb_new(be, 4);
  loss_at(&m, x, y, dy, rows, w);
  mb_mlp_backward(&m, rows, 1);
  mb_download(be, g, m.g, P);
  double worst = 0;
  for (size_t i = 0; i < P; i += 3) {
    float keep = w[i], h = 1e-2f;
    w[i] = keep + h;
    double lp = loss_at(&m, x, y, dy, rows, w);
    w[i] = keep - h;
    double lm = loss_at(&m, x, y, dy, rows, w);
    w[i] = keep;
    double fd = (lp - lm) / (2.0 * h);
    double err = fabs(fd - g[i]) / (fabs(fd) + 1e-3);
    if (err > worst) worst = err;
  }
  cr_assert_lt(worst, 2e-2, "finite differences disagree with backprop: worst rel err %g", worst);
  free(w); free(g);
  mb_mlp_destroy(&m);
  mb_backend_close(be);
}

Test(pipeline, gradients_match_finite_differences_sigmoid) { grad_check(MB_ACT_SIGMOID); }
Test(pipeline, gradients_match_finite_differences_relu) { grad_check(MB_ACT_RELU); }

/* The batched (δ²)ᵀ(x²) pass equals K separate per-code backward passes. */
static void batched_sq_grads(const char *backend)
{
  mb_backend *be = open_or_skip(backend);
  mb_mlp m;
  tiny_model(be, &m, MB_ACT_SIGMOID, 8);
  int K = 5, D = 12, forget[2] = {3, 1}, nf = 2;
  float codes[60];
  mb_codes_generate(9, K, D, MB_CODES_UNIFORM01, codes);
  mb_view dcodes = mb_new(be, 60);
  mb_upload(be, dcodes, codes, 60);
  size_t P = m.pt.total;
  mb_view fF = mb_new(be, P), fR = mb_new(be, P);
  mb_fisher_from_codes(&m, dcodes, K, forget, nf, fF, fR);
  float *bf = malloc(P * 4), *br = malloc(P * 4), *g = malloc(P * 4);
  double *ef = calloc(P, 8), *er = calloc(P, 8);
  mb_download(be, bf, fF, P);
  mb_download(be, br, fR, P);
  mb_view lab = mb_new(be, 1);
  for (int c = 0; c < K; c++) {
    int32_t y = c;
    mb_upload(be, lab, &y, 1);
    mb_upload(be, m.act[0], codes + c * D, (size_t)D);
    mb_mlp_forward(&m, mb_none(), mb_none(), 1);
    mb_mlp_xent(&m, lab, 1, 1.0f, mb_none());
    mb_mlp_backward(&m, 1, 1);
    mb_download(be, g, m.g, P);
    double *acc = mb_class_in(forget, nf, c) ? ef : er;
    for (size_t i = 0; i < P; i++) acc[i] += (double)g[i] * g[i];
  }
  cr_assert(mb_ok(be), "%s", mb_error(be));
  for (size_t i = 0; i < P; i++) {
    double want_f = (1e-16 + ef[i]) / nf, want_r = (1e-16 + er[i]) / (K - nf);
    cr_assert_float_eq(bf[i], want_f, 1e-5 * want_f + 1e-20, "f_F[%zu] %g vs %g", i, bf[i], want_f);
    cr_assert_float_eq(br[i], want_r, 1e-5 * want_r + 1e-20, "f_R[%zu] %g vs %g", i, br[i], want_r);
  }
  free(bf); free(br); free(g); free(ef); free(er);
  mb_mlp_destroy(&m);
  mb_backend_close(be);
}

Test(pipeline, batched_squared_gradients_ref) { batched_sq_grads("ref"); }
Test(pipeline, batched_squared_gradients_cpu) { batched_sq_grads("cpu"); }

/* --- end to end on the synthetic set --- */

typedef struct {
  double acc, A_R_before, E_F_before, A_R, E_F;
  int sign;
  float *trained;   /* parameters after training */
  float *params;    /* after forgetting */
  size_t n_params;
} e2e_result;

static void run_e2e(const char *backend, int n_train, int epochs, e2e_result *out)
{
  mb_backend *be = open_or_skip(backend);
  mb_dataset train, test;
  mb_data_synthetic(5, n_train, 1000, &train, &test);
  mb_devdata dtr, dte;
  mb_devdata_upload(be, &train, &dtr);
  mb_devdata_upload(be, &test, &dte);
  mb_mlp_config cfg;
  mb_mlp_config_paper(&cfg);
  mb_mlp m;
  mb_mlp_create(be, &cfg, 1000, &m);
  mb_mlp_init(&m, 5);
  float *codes = malloc(10 * 784 * sizeof(float));
  mb_codes_generate(5, 10, 784, MB_CODES_UNIFORM01, codes);
  mb_view dcodes = mb_new(be, 10 * 784);
  mb_upload(be, dcodes, codes, 10 * 784);
  mb_train_opts o;
  mb_train_defaults(&o);
  o.epochs = epochs;
  o.seed = 5;
  mb_train_stats st;
  cr_assert_eq(mb_train(&m, &dtr, dcodes, &o, &st), 0, "%s", mb_error(be));
  out->trained = malloc(m.pt.total * sizeof(float));
  mb_download(be, out->trained, m.w, m.pt.total);
  int forget[1] = {0};
  mb_eval_result before, after;
  cr_assert_eq(mb_evaluate(&m, mb_none(), &dte, forget, 1, &before), 0, "%s", mb_error(be));
  mb_sign_choice ch;
  cr_assert_eq(mb_forget_mnemonic(&m, dcodes, 10, forget, 1, 1e-3f, 10.0f, &ch), 0, "%s", mb_error(be));
  cr_assert_eq(mb_evaluate(&m, mb_none(), &dte, forget, 1, &after), 0, "%s", mb_error(be));
  out->acc = before.acc;
  out->A_R_before = before.A_R;
  out->E_F_before = before.E_F;
  out->A_R = after.A_R;
  out->E_F = after.E_F;
  out->sign = ch.sign;
  out->n_params = m.pt.total;
  out->params = malloc(m.pt.total * sizeof(float));
  mb_download(be, out->params, m.w, m.pt.total);
  cr_assert(mb_ok(be), "%s", mb_error(be));
  free(codes);
  mb_mlp_destroy(&m);
  mb_devdata_free(be, &dtr);
  mb_devdata_free(be, &dte);
  mb_dataset_free(&train);
  mb_dataset_free(&test);
  mb_backend_close(be);
}

Test(pipeline, forget_class0_end_to_end_cpu, .timeout = 300)
{
  e2e_result r;
  run_e2e("cpu", 12000, 2, &r);
  cr_log_info("cpu: acc %.2f A_R %.2f -> %.2f E_F %.2f -> %.2f sign %d", r.acc, r.A_R_before,
              r.A_R, r.E_F_before, r.E_F, r.sign);
  cr_assert_gt(r.acc, 85.0, "model did not learn the synthetic set: %.2f%%", r.acc);
  cr_assert_geq(r.E_F, 95.0, "forgetting left E_F at %.2f", r.E_F);
  cr_assert_geq(r.A_R, r.A_R_before - 3.0, "A_R fell from %.2f to %.2f", r.A_R_before, r.A_R);
  free(r.params);
  free(r.trained);
}

Test(pipeline, ref_and_cpu_agree_end_to_end, .timeout = 600)
{
  e2e_result a, b;
  run_e2e("ref", 3000, 1, &a);
  run_e2e("cpu", 3000, 1, &b);
  cr_assert_eq(a.sign, b.sign, "± choice differs: ref %d, cpu %d", a.sign, b.sign);
  cr_assert_lt(fabs(a.A_R - b.A_R), 0.1 + 1e-9, "A_R ref %.2f cpu %.2f", a.A_R, b.A_R);
  cr_assert_lt(fabs(a.E_F - b.E_F), 0.1 + 1e-9, "E_F ref %.2f cpu %.2f", a.E_F, b.E_F);
  free(a.params); free(b.params);
  free(a.trained); free(b.trained);
}

Test(pipeline, same_seed_bit_identical_on_ref, .timeout = 600)
{
  e2e_result a, b;
  run_e2e("ref", 1000, 1, &a);
  run_e2e("ref", 1000, 1, &b);
  cr_assert_eq(a.n_params, b.n_params);
  cr_assert(memcmp(a.params, b.params, a.n_params * sizeof(float)) == 0,
            "two runs with the same seed differ");
  free(a.params); free(b.params);
  free(a.trained); free(b.trained);
}

/* Issue-level agreement: each GPU-API backend trains one epoch and forgets
 * class 0 like the oracle: same ± choice, A_R and E_F within 0.1 point,
 * trained-parameter NMSE ≤ 1e-6. */
static void agree_with_ref(const char *backend)
{
  char why[512];
  mb_backend *probe = mb_backend_open(backend, 0, why, sizeof why);
  if (!probe) cr_skip_test("%s: %s", backend, why);
  mb_backend_close(probe);
  e2e_result a, b;
  run_e2e("ref", 3000, 1, &a);
  run_e2e(backend, 3000, 1, &b);
  double num = 0, den = 0;
  for (size_t i = 0; i < a.n_params; i++) {
    double d = (double)b.trained[i] - a.trained[i];
    num += d * d;
    den += (double)a.trained[i] * a.trained[i];
  }
  double nmse = num / den;
  cr_log_info("%s vs ref: param NMSE %.3g, sign %d/%d, A_R %.2f/%.2f, E_F %.2f/%.2f", backend, nmse,
              b.sign, a.sign, b.A_R, a.A_R, b.E_F, a.E_F);
  cr_assert_leq(nmse, 1e-6, "%s: trained parameters differ from ref, NMSE %g", backend, nmse);
  cr_assert_eq(a.sign, b.sign, "%s: ± choice %d, ref %d", backend, b.sign, a.sign);
  cr_assert_leq(fabs(a.A_R - b.A_R), 0.1 + 1e-9, "%s: A_R %.2f, ref %.2f", backend, b.A_R, a.A_R);
  cr_assert_leq(fabs(a.E_F - b.E_F), 0.1 + 1e-9, "%s: E_F %.2f, ref %.2f", backend, b.E_F, a.E_F);
  free(a.params); free(b.params); free(a.trained); free(b.trained);
}

/* One case per GPU-API backend in the registry, built or not: one that cannot
 * open a device reports a skip with the reason. */
ParameterizedTestParameters(pipeline, gpu_api_agrees_with_ref_end_to_end)
{
  static int idx[16];
  const mb_backend_entry *e;
  int n = 0, ne = mb_backend_entries(&e);
  for (int i = 0; i < ne && n < 16; i++)
    if (e[i].gpu_api) idx[n++] = i;
  return cr_make_param_array(int, idx, (size_t)n);
}

ParameterizedTest(int *entry, pipeline, gpu_api_agrees_with_ref_end_to_end, .timeout = 600)
{
  const mb_backend_entry *e;
  mb_backend_entries(&e);
  agree_with_ref(e[*entry].name);
}
