/* λ from the codes (docs/specification.md §2.4): the rule, checked against
 * one forgetting run per grid pair, and where a run's λ comes from. */
#include "core/codes.h"
#include "core/devdata.h"
#include "core/forget_explain.h"
#include "core/forget_mnemonic.h"
#include "core/lambda_codes.h"
#include "core/train.h"
#include "harness/lambda_choice.h"
#include "methods/methods.h"
#include "mb/registry.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define K 10
#define D 784

typedef struct {
  mb_backend *be;
  mb_mlp mlp;
  mb_resnet rn;
  mb_model md;
  mb_view codes;
  float *w0;
} toy;

/* A 784-64-10 sigmoid MLP with codes, trained `epochs` on the synthetic set (0: untrained). */
static void make(toy *t, int epochs)
{
  char why[512];
  t->be = mb_backend_open("cpu", 0, why, sizeof why);
  if (!t->be) cr_skip_test("cpu: %s", why);
  mb_model_config cfg;
  char err[256];
  cr_assert_eq(mb_model_config_make(MB_MODEL_MLP, "784-64-10", "sigmoid", 64, 1, 28, 28, 10, &cfg,
                                    err, sizeof err), 0, "%s", err);
  cr_assert_eq(mb_model_create(t->be, &cfg, 128, &t->mlp, &t->rn, &t->md), 0, "%s", mb_error(t->be));
  mb_model_init(&t->md, 3);
  float *codes = malloc(sizeof(float) * K * D);
  mb_codes_generate(3, K, D, MB_CODES_UNIFORM01, codes);
  t->codes = mb_new(t->be, K * D);
  mb_upload(t->be, t->codes, codes, K * D);
  free(codes);
  if (epochs) {
    mb_dataset tr, te;
    mb_devdata dtr;
    mb_data_synthetic(3, 3000, 100, &tr, &te);
    mb_devdata_upload(t->be, &tr, &dtr);
    mb_train_opts o;
    mb_train_defaults(&o);
    o.epochs = epochs;
    o.seed = 3;
    mb_train_stats st;
    cr_assert_eq(mb_model_train(&t->md, &dtr, t->codes, &o, &st), 0, "%s", mb_error(t->be));
    mb_devdata_free(t->be, &dtr);
    mb_dataset_free(&tr);
    mb_dataset_free(&te);
  }
  t->w0 = malloc(sizeof(float) * t->md.total);
  mb_download(t->be, t->w0, t->md.w, t->md.total);
}

static void drop(toy *t)
{
  free(t->w0);
  mb_release(t->be, t->codes);
  mb_model_destroy(&t->md);
  mb_backend_close(t->be);
}

/* The best code score of one forgetting run at (λ1, λ2), from the original weights. */
static double run_score(toy *t, double l1, double l2)
{
  int forget[1] = {0};
  mb_sign_choice c;
  mb_upload(t->be, t->md.w, t->w0, t->md.total);
  cr_assert_eq(mb_model_forget_mnemonic(&t->md, t->codes, K, forget, 1, (float)l1, (float)l2, &c), 0,
               "%s", mb_error(t->be));
  return c.score_plus > c.score_minus ? c.score_plus : c.score_minus;
}

/* The choice is what the rule says, pair by pair; returns 1 if the codes were separated. */
static int check_rule(toy *t)
{
  int forget[1] = {0};
  mb_lambda_choice ch;
  cr_assert_eq(mb_lambda_from_codes(&t->md, t->codes, K, forget, 1, &ch), 0, "%s", mb_error(t->be));
  float *w = malloc(sizeof(float) * t->md.total);
  mb_download(t->be, w, t->md.w, t->md.total);
  cr_assert_eq(memcmp(w, t->w0, sizeof(float) * t->md.total), 0, "the search changed the weights");
  free(w);
  double best = -1, bl1 = 0, bl2 = 0;
  int n = 0;
  for (int i = 0; i < MB_LAMBDA_GRID_N; i++)
    for (int j = 0; j < MB_LAMBDA_GRID_N; j++) {
      double l1 = mb_lambda1_grid[i], l2 = mb_lambda2_grid[j], s = run_score(t, l1, l2);
      n++;
      if (s > best) { best = s; bl1 = l1; bl2 = l2; }
      if (s < 2.0) continue;
      /* the first separating pair, then λ1 a decade up if the codes stay separated */
      cr_assert_eq(ch.first_lambda1, l1);
      cr_assert_eq(ch.first_lambda2, l2);
      cr_assert_eq(ch.score, 2.0);
      double up = i + 1 < MB_LAMBDA_GRID_N && run_score(t, mb_lambda1_grid[i + 1], l2) >= 2.0
                      ? mb_lambda1_grid[i + 1] : l1;
      cr_assert_eq(ch.lambda1, up, "lambda1 %g, expected %g", ch.lambda1, up);
      cr_assert_eq(ch.lambda2, l2);
      cr_assert_eq(ch.tried, n + (i + 1 < MB_LAMBDA_GRID_N));
      return 1;
    }
  /* nothing separates: the first pair with the highest score */
  cr_assert_eq(ch.score, best);
  cr_assert_eq(ch.lambda1, bl1);
  cr_assert_eq(ch.lambda2, bl2);
  cr_assert_eq(ch.tried, MB_LAMBDA_GRID_N * MB_LAMBDA_GRID_N);
  return 0;
}

Test(lambda, trained_model_smallest_separating_pair_then_a_decade, .timeout = 300)
{
  toy t;
  make(&t, 10);
  cr_assert(check_rule(&t), "the codes of a trained model were never separated");
  drop(&t);
}

Test(lambda, untrained_model_follows_the_rule, .timeout = 300)
{
  toy t;
  make(&t, 0);
  check_rule(&t);
  drop(&t);
}

Test(lambda, where_lambda_comes_from)
{
  mb_opts o;
  mb_opts_defaults(&o);
  const mb_method *me = mb_method_find("mnemonic"), *ssd = mb_method_find("ssd");
  cr_assert(me && ssd);
  cr_assert_str_eq(mb_lambda_source(&o, me, "fashion-mnist", "mlp", 64), "table");
  cr_assert_str_eq(mb_lambda_source(&o, me, "mnist", "mlp", 64), "table");
  cr_assert_str_eq(mb_lambda_source(&o, me, "my-digits", "mlp", 64), "codes");
  cr_assert_str_eq(mb_lambda_source(&o, me, "fashion-mnist", "resnet18", 64), "table");
  cr_assert_str_eq(mb_lambda_source(&o, me, "fashion-mnist", "resnet18", 8), "codes");
  cr_assert_str_eq(mb_lambda_source(&o, me, "cifar-10", "resnet18", 16), "codes");
  cr_assert_str_eq(mb_lambda_source(&o, ssd, "my-digits", "mlp", 64), "");
  /* models the table has no row for: the codes, and --lambda-from table is refused */
  cr_assert_str_eq(mb_hparams_model(MB_MODEL_RESNET18, MB_RN_RESNEXT50), "resnext50_32x4d");
  cr_assert_str_eq(mb_hparams_model(MB_MODEL_SWIN_T, MB_RN_RESNET18), "swin_t");
  cr_assert_str_eq(mb_lambda_source(&o, me, "cifar-10", "resnext50_32x4d", 64), "codes");
  cr_assert_str_eq(mb_lambda_source(&o, me, "cifar-10", "swin_t", 64), "codes");
  cr_assert_str_eq(mb_lambda_source(&o, me, "fashion-mnist", "swin_t", 64), "codes");
  o.lambda_from = "table";
  cr_assert_null(mb_lambda_source(&o, me, "cifar-10", "swin_t", 64));
  cr_assert_null(mb_lambda_source(&o, me, "cifar-10", "resnext50_32x4d", 64));
  cr_assert_str_eq(mb_lambda_source(&o, me, "my-digits", "resnet18", 64), "table");
  o.lambda_from = NULL;
  /* t_mix of a model without a row: 0.1; λ's left for the codes to choose */
  mb_opts d;
  mb_opts_defaults(&d);
  d.t_mix = 0.7;
  mb_opts_model_defaults(&d, "swin_t", "cifar-10");
  cr_assert_float_eq(d.t_mix, 0.1, 1e-12);
  mb_opts_model_defaults(&d, "resnet18", "cifar-10");
  cr_assert_float_eq(d.t_mix, 0.3, 1e-12);
  o.params[o.n_params++] = "lambda2=3";
  cr_assert_str_eq(mb_lambda_source(&o, me, "my-digits", "mlp", 64), "user");
  o.n_params = 0;
  o.set_lambda1 = 1;
  cr_assert_str_eq(mb_lambda_source(&o, me, "fashion-mnist", "mlp", 64), "user");
}

/* forget --explain's numbers (core/forget_explain.h): per tensor, max δ is
 * min(λ1·max η, λ2) as §2.2 says, the bound is named right, the counts add up,
 * and the weights are left as they were. */
Test(lambda, explain_matches_the_update_rule, .timeout = 300)
{
  toy t;
  make(&t, 2);
  const double pairs[3][2] = {{1e-3, 0.1}, {1e-5, 1e4}, {1.0, 1.0}};
  int forget[1] = {3};
  mb_tensor_update *u = calloc((size_t)t.md.nseg, sizeof *u);
  float *w = malloc(sizeof(float) * t.md.total);
  for (int p = 0; p < 3; p++) {
    const double l1 = pairs[p][0], l2 = pairs[p][1];
    cr_assert_eq(mb_forget_explain(&t.md, t.codes, K, forget, 1, (float)l1, (float)l2, u), 0, "%s",
                 mb_error(t.be));
    size_t n = 0;
    for (int s = 0; s < t.md.nseg; s++) {
      n += u[s].n;
      cr_assert_gt(u[s].max_eta, 0.0, "%s", u[s].name);
      const double want = fmin(l1 * u[s].max_eta, l2);
      cr_assert_float_eq(u[s].max_delta, want, 1e-4 * want, "%s at (%g, %g): max δ %g, want %g",
                         u[s].name, l1, l2, u[s].max_delta, want);
      cr_assert_eq(u[s].capped, l1 * u[s].max_eta > l2, "%s: bound", u[s].name);
      cr_assert_leq(u[s].n_over, u[s].n);
    }
    cr_assert_eq(n, t.md.total);
    mb_download(t.be, w, t.md.w, t.md.total);
    cr_assert_eq(memcmp(w, t.w0, sizeof(float) * t.md.total), 0, "explain changed the weights");
  }
  cr_assert_str_eq(u[0].name, "fc1.weight");
  free(w);
  free(u);
  drop(&t);
}
