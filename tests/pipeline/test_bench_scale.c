/* bench-scale's routine in a quick form: the ImageNet-stem ResNet-18 at width 16 on
 * 32×32 inputs with 12 classes, the code passes in batches of 5 (5 + 5 + 2 rows, so
 * the forget/remain split and a partial batch are both exercised).  Checks the pass
 * counts of §2.3 (K forward+backward for the FIM, 2K forward for the ± choice), that
 * the batched method gives the one-batch core method's δ, and that cpu and ref choose
 * the same sign with the same δ.  λ = (1e-3, 1) so δ is well above float rounding.
 * The same cpu/ref check on ResNeXt-50 at width 16 (grouped 3×3 convs of 32 groups), and
 * that the auto batch sees ResNeXt's larger activations. */
#include "core/forget_mnemonic.h"
#include "mb/registry.h"
#include "harness/bench_scale.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K 12
#define BATCH 5

static mb_backend *open_or_skip(const char *name)
{
  char why[512];
  mb_backend *be = mb_backend_open(name, 0, why, sizeof why);
  if (!be) cr_skip_test("%s: %s", name, why);
  return be;
}

static int g_model;   /* the model of quick_cfg (0: resnet18) */

static void quick_cfg(mb_scale_cfg *c, int batch)
{
  mb_scale_defaults(c);
  c->model = g_model;
  c->classes = K;
  c->size = 32;
  c->width = 16;
  c->batch = batch;
  c->ssd_batch = 4;
  c->seed = 5;
  c->lambda1 = 1e-3f;
  c->lambda2 = 1.0f;
}

/* δ = w_after − w_before on the host (caller frees). */
static float *delta_of(mb_scale *s)
{
  size_t P = s->md.total;
  float *d = malloc(P * sizeof *d);
  mb_download(s->be, d, s->md.w, P);
  for (size_t i = 0; i < P; i++) d[i] -= s->w0[i];
  return d;
}

static double rel_l2(const float *a, const float *b, size_t n)
{
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    den += (double)b[i] * b[i];
  }
  return sqrt(num / (den > 0 ? den : 1));
}

/* One batched forgetting on `name`; returns δ and the sign. */
static float *run_batched(const char *name, mb_sign_choice *ch, size_t *P)
{
  mb_backend *be = open_or_skip(name);
  mb_scale_cfg c;
  quick_cfg(&c, BATCH);
  mb_scale s;
  cr_assert_eq(mb_scale_open(be, &c, &s), 0, "%s: %s", name, mb_error(be));
  cr_assert_eq(s.batch, BATCH);
  mb_scale_forget_run r;
  cr_assert_eq(mb_scale_forget(&s, K, &r, NULL, NULL), 0, "%s: %s", name, mb_error(be));
  cr_expect_eq(r.n_backward, K, "%s: FIM backward passes %lld, want %d", name, r.n_backward, K);
  cr_expect_eq(r.n_forward, 3 * K, "%s: forward passes %lld, want K + 2K = %d", name, r.n_forward,
               3 * K);
  cr_expect(r.choice.sign == 1 || r.choice.sign == -1);
  cr_expect(r.seconds > 0);
  *ch = r.choice;
  *P = s.md.total;
  float *d = delta_of(&s);
  double n2 = 0;
  for (size_t i = 0; i < s.md.total; i++) n2 += (double)d[i] * d[i];
  cr_expect(n2 > 0, "%s: the weights did not change", name);
  mb_scale_close(&s);
  mb_backend_close(be);
  return d;
}

/* The batched forgetting of the point (batches of BATCH codes) against the core method's one
 * batch of all K codes, on cpu, for the model of g_model; returns its parameter count. */
static size_t batched_equals_one_batch(void)
{
  mb_backend *be = open_or_skip("cpu");
  mb_scale_cfg c;
  quick_cfg(&c, K);   /* one batch holds every code: the core method's precondition */
  mb_scale s;
  cr_assert_eq(mb_scale_open(be, &c, &s), 0, "%s", mb_error(be));
  int forget[1] = {0};
  mb_sign_choice ch;
  cr_assert_eq(mb_model_forget_mnemonic(&s.md, s.codes, K, forget, 1, c.lambda1, c.lambda2, &ch), 0,
               "%s", mb_error(be));
  float *d_core = delta_of(&s);
  size_t P = s.md.total;
  mb_scale_close(&s);
  mb_backend_close(be);

  mb_sign_choice cb;
  size_t P2;
  float *d_b = run_batched("cpu", &cb, &P2);
  cr_assert_eq(P, P2);
  cr_expect_eq(cb.sign, ch.sign);
  cr_expect_float_eq(cb.score_plus, ch.score_plus, 1e-12);
  cr_expect_float_eq(cb.score_minus, ch.score_minus, 1e-12);
  double e = rel_l2(d_b, d_core, P);
  cr_expect(e < 1e-3, "batched δ differs from the one-batch core δ: relative L2 %.3g", e);
  free(d_core);
  free(d_b);
  return P;
}

Test(bench_scale, batched_equals_one_batch_core_method) { batched_equals_one_batch(); }

static int model_index(const char *name)
{
  char why[200];
  int m = mb_scale_model_find(name, why, sizeof why);
  cr_assert(m >= 0, "%s", why);
  return m;
}

/* Swin-T through the point's model table: the batched forgetting equals the core method's
 * one batch, at torchvision's parameter count (ref is too slow for a 27.5 M-parameter
 * network in a test; the model itself is checked against ref and torchvision in 'swin'). */
Test(bench_scale, swin_batched_equals_one_batch)
{
  g_model = model_index("swin_t");
  size_t P = batched_equals_one_batch();
  /* torchvision's swin_t: 28,288,354 at 1000 classes, the head being 769 × 1000 of it */
  cr_expect_eq(P, (size_t)28288354 - 769 * 1000 + 769 * K, "%zu parameters", P);
}

Test(bench_scale, cpu_matches_ref)
{
  mb_sign_choice cr, cc;
  size_t Pr, Pc;
  float *dr = run_batched("ref", &cr, &Pr);
  float *dc = run_batched("cpu", &cc, &Pc);
  cr_assert_eq(Pr, Pc);
  cr_expect_eq(cc.sign, cr.sign, "cpu chose %+d, ref %+d", cc.sign, cr.sign);
  double e = rel_l2(dc, dr, Pr);
  cr_expect(e < 1e-2, "cpu δ differs from ref: relative L2 %.3g", e);
  free(dr);
  free(dc);
}

Test(bench_scale, ssd_pass_counts)
{
  mb_backend *be = open_or_skip("cpu");
  mb_scale_cfg c;
  quick_cfg(&c, BATCH);
  mb_scale s;
  cr_assert_eq(mb_scale_open(be, &c, &s), 0, "%s", mb_error(be));
  mb_scale_ssd_run r;
  /* 3 forget-class images, 10 in D (cycling through 6 distinct), batch 4 */
  cr_assert_eq(mb_scale_ssd(&s, 3, 10, 6, &r, NULL, NULL), 0, "%s", mb_error(be));
  cr_expect_eq(r.n_forward, 13);
  cr_expect_eq(r.n_backward, 13);
  cr_expect(r.if_s > 0 && r.id_s > 0 && r.seconds >= r.if_s + r.id_s);
  mb_scale_close(&s);
  mb_backend_close(be);
}

/* The rows of the point (bench-scale --json, a bench spec's kind = scale): one
 * per method in the one result schema, with provenance and the pass counts. */
typedef struct { char rows[4][8192]; int n; } row_capture;

static int capture(void *ctx, const char *row)
{
  row_capture *c = ctx;
  if (c->n < 4) snprintf(c->rows[c->n++], sizeof c->rows[0], "%s", row);
  return 0;
}

Test(bench_scale, rows_in_the_result_schema)
{
  char why[512];
  if (mb_backend_devices("cpu", why, sizeof why) == 0) cr_skip_test("cpu: %s", why);
  mb_scale_opts o;
  mb_scale_opts_defaults(&o);
  quick_cfg(&o.cfg, BATCH);
  o.repeats = 1;
  o.warmups = 0;
  o.ssd_n = 10;
  o.ssd_f = 3;
  static row_capture cap;
  cap.n = 0;
  mb_row_sink sink = {NULL, capture, &cap};
  cr_assert_eq(mb_scale_backend(&o, "cpu", &sink), 0);
  cr_assert_eq(cap.n, 2, "rows: %d (mnemonic, ssd)", cap.n);
  static const char *const common[] = {"\"schema\": \"mnemobench.result/2\"", "\"command\": \"bench-scale\"",
                                       "\"kind\": \"scale\"", "\"status\": \"ok\"", "\"commit\": ", "\"build\": ",
                                       "\"model\": \"resnet18-imagenet-w16\"", "\"forget_s_min\": ", "\"forget_s_samples\": ["};
  for (int r = 0; r < 2; r++)
    for (size_t k = 0; k < sizeof common / sizeof common[0]; k++)
      cr_expect(strstr(cap.rows[r], common[k]), "row %d has no %s:\n%s", r, common[k], cap.rows[r]);
  cr_expect(strstr(cap.rows[0], "\"method\": \"mnemonic\"") && strstr(cap.rows[0], "\"n_forward\": 36"),
            "%s", cap.rows[0]);
  cr_expect(strstr(cap.rows[1], "\"method\": \"ssd\"") && strstr(cap.rows[1], "\"n_forward\": 13"), "%s", cap.rows[1]);
}

Test(bench_scale, resnext_cpu_matches_ref)
{
  g_model = model_index("resnext50");
  mb_sign_choice cr, cc;
  size_t Pr, Pc;
  float *dr = run_batched("ref", &cr, &Pr);
  float *dc = run_batched("cpu", &cc, &Pc);
  cr_assert_eq(Pr, Pc);
  /* width 16: planes·4/64·32 = 32·{1,2,4,8} channels in the grouped 3×3s, 12 classes
   * (torchvision's formula, which gives 25,028,904 at width 64 and 1000 classes) */
  cr_assert_eq(Pr, 1456956, "%zu parameters", Pr);
  cr_expect_eq(cc.sign, cr.sign, "cpu chose %+d, ref %+d", cc.sign, cr.sign);
  double e = rel_l2(dc, dr, Pr);
  cr_expect(e < 1e-2, "cpu δ differs from ref: relative L2 %.3g", e);
  free(dr);
  free(dc);
}

/* 8 GB reported on the cpu device at 224 px: ResNeXt-50's rows cost about three times
 * ResNet-18's, so its batch is the smaller one (ResNet-18 reaches the CPU cap of 32). */
Test(bench_scale, auto_batch_follows_the_activations)
{
  mb_backend *be = open_or_skip("cpu");
  const mb_scale_model *t;
  mb_scale_models(&t);
  mb_scale_cfg c;
  mb_scale_defaults(&c);
  int b[2];
  double row[2];
  be->info.mem_bytes = 8ull << 30;
  for (int k = 0; k < 2; k++) {
    c.model = model_index(k ? "resnext50" : "resnet18");
    row[k] = t[c.model].row_bytes(be, &c);
    b[k] = mb_scale_auto_batch(be, &c);
  }
  cr_assert(mb_ok(be), "%s", mb_error(be));
  cr_log_info("bytes per row: resnet18 %.0f, resnext50 %.0f; batches %d, %d", row[0], row[1], b[0], b[1]);
  cr_expect(row[1] > 2.0 * row[0], "bytes per row: resnext50 %.0f, resnet18 %.0f", row[1], row[0]);
  cr_expect_eq(b[0], 32, "resnet18 batch %d", b[0]);
  cr_expect(b[1] < 32 && b[1] >= 8, "resnext50 batch %d", b[1]);
  mb_backend_close(be);
}
