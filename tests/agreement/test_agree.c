/* Op agreement: every case of harness/agree_cases.c on each backend against ref,
 * plus proof that the checks bite (a sabotaged copy of ref must fail them).
 * Backends are opened inside the tests: Criterion forks, and CUDA does not
 * survive a fork after initialisation. */
#include "harness/agree.h"

#include "core/ops.h"
#include "mb/registry.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- whole table */

/* Every case whose id starts with `family` (all when NULL). */
static void agree_backend_family(const char *name, const char *family)
{
  char why[320];
  if (mb_backend_devices(name, why, sizeof why) == 0) cr_skip_test("%s: %s", name, why);
  agree_session *s = agree_open(name, 0, why, sizeof why);
  if (!s) cr_skip_test("%s: %s", name, why);
  const agree_case *cases;
  int n = agree_cases(&cases), fails = 0, skips = 0, ran = 0;
  uint64_t seed = agree_base_seed();
  for (int i = 0; i < n; i++) {
    if (family && strncmp(cases[i].id, family, strlen(family)) != 0) continue;
    ran++;
    agree_result r;
    agree_run(s, &cases[i], seed, &r);
    if (r.status == AGREE_SKIP) {
      skips++;
      snprintf(why, sizeof why, "%s", r.reason);
    }
    if (r.status != AGREE_FAIL) continue;
    fails++;
    fprintf(stderr, "FAIL %s %s: %s (MB_SEED=%" PRIu64 ")\n", name, cases[i].id, r.reason, seed);
  }
  agree_close(s);
  fprintf(stderr, "%s: %d cases, %d fail, %d skip (seed %" PRIu64 ")\n", name, ran, fails, skips,
          seed);
  cr_assert_gt(ran, 0, "no case matched");
  /* nothing ran on the device (e.g. a forced design it lacks): a skip, not a pass */
  if (skips == ran) cr_skip_test("%s: all %d cases skip: %s", name, ran, why);
  cr_assert_eq(fails, 0, "%s: %d of %d cases disagree with ref (MB_SEED=%" PRIu64 ")", name,
               fails, ran, seed);
}

static void agree_backend(const char *name) { agree_backend_family(name, NULL); }

/* Every registered backend but the oracle itself; one that is not built or has no
 * device skips with its reason (agree_open). */
ParameterizedTestParameters(agree, backend)
{
  static int idx[16];
  const mb_backend_entry *e;
  int n = 0, ne = mb_backend_entries(&e);
  for (int i = 0; i < ne && n < 16; i++)
    if (strcmp(e[i].name, "ref") != 0) idx[n++] = i;
  return cr_make_param_array(int, idx, (size_t)n);
}

ParameterizedTest(int *entry, agree, backend, .timeout = 600)
{
  const mb_backend_entry *e;
  mb_backend_entries(&e);
  agree_backend(e[*entry].name);
}

/* The optional ops against the generic composition: the oracle always composes them
 * (im2col + GEMM, the op chain), the ref target runs its own direct loops. */
Test(agree, ref_optional_conv2d, .timeout = 600) { agree_backend_family("ref", "conv2d/"); }
Test(agree, ref_optional_forget_update) { agree_backend_family("ref", "forget_update/"); }
Test(agree, ref_optional_gemm_sq_acc) { agree_backend_family("ref", "gemm_sq_acc/"); }

/* MB_ENGINE=generic: every backend composes the optional ops (the fused updates too). */
Test(agree, cpu_engine_generic, .timeout = 600)
{
  setenv("MB_ENGINE", "generic", 1);
  agree_backend_family("cpu", "forget_update/");
  agree_backend_family("cpu", "gemm_sq_acc/");
}

Test(agree, opencl_engine_generic, .timeout = 600)
{
  setenv("MB_ENGINE", "generic", 1);
  agree_backend_family("opencl", "forget_update/");
}

Test(agree, vulkan_engine_generic, .timeout = 600)
{
  setenv("MB_ENGINE", "generic", 1);
  agree_backend_family("vulkan", "forget_update/");
}

/* lavapipe takes the TEXEL GEMM; GPUs take COOPMAT, SUBGROUP or TILED by their
 * features: each is checked here too, through the switch the backend reads when it
 * opens.  A design the device lacks makes every GEMM case skip with the reason. */
Test(agree, vulkan_tiled_gemm, .timeout = 600)
{
  setenv("MB_VK_GEMM", "tiled", 1);
  agree_backend_family("vulkan", "gemm/");
}

Test(agree, vulkan_subgroup_gemm, .timeout = 600)
{
  setenv("MB_VK_GEMM", "subgroup", 1);
  agree_backend_family("vulkan", "gemm/");
}

Test(agree, vulkan_coopmat_gemm, .timeout = 600)
{
  setenv("MB_VK_GEMM", "coopmat", 1);
  agree_backend_family("vulkan", "gemm/");
}

/* ---------------------------------------------------------------- the checker */

static uint32_t bits_of(float f)
{
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

#define N 1000

static void ramp(uint32_t *a, size_t n)
{
  for (size_t i = 0; i < n; i++) a[i] = bits_of((float)(i % 97) - 48.5f);
}

Test(checker, equal_arrays_pass)
{
  static uint32_t ref[N], got[N];
  ramp(ref, N);
  memcpy(got, ref, sizeof got);
  char why[256] = "";
  double nmse, max_rel;
  agree_tol tol = agree_tolerance(AGREE_TOL_EXACT, NULL);
  cr_assert_eq(agree_compare("y", ref, got, N, 0, tol, &nmse, &max_rel, why, sizeof why), 0, "%s",
               why);
  cr_assert_eq(nmse, 0.0);
}

Test(checker, perturbed_copy_fails)
{
  static uint32_t ref[N], got[N];
  ramp(ref, N);
  memcpy(got, ref, sizeof got);
  /* One element off by 1e-5 relative: NMSE averages it away (~1e-13), max error does not. */
  float f;
  memcpy(&f, &got[500], 4);
  got[500] = bits_of(f * (1.0f + 1e-5f));
  char why[256] = "";
  double nmse, max_rel;
  agree_tol tol = agree_tolerance(AGREE_TOL_ELT, NULL);
  cr_assert_eq(agree_compare("y", ref, got, N, 0, tol, &nmse, &max_rel, why, sizeof why), 1);
  cr_assert(nmse <= tol.nmse, "NMSE %g should stay under %g here", nmse, tol.nmse);
  cr_assert(max_rel > tol.max_rel);
  cr_assert(strstr(why, "y[500]"), "reason names the worst element: %s", why);
  /* A uniformly biased copy fails NMSE. */
  for (size_t i = 0; i < N; i++) {
    memcpy(&f, &ref[i], 4);
    got[i] = bits_of(f * 1.001f);
  }
  cr_assert_eq(agree_compare("y", ref, got, N, 0, tol, &nmse, &max_rel, why, sizeof why), 1);
  cr_assert(strstr(why, "NMSE"), "%s", why);
}

Test(checker, integer_bits_must_match)
{
  static uint32_t ref[N], got[N];
  for (size_t i = 0; i < N; i++) ref[i] = got[i] = (uint32_t)i;
  got[7] = 8;
  char why[256] = "";
  double nmse, max_rel;
  agree_tol loose = {1.0, 1.0};
  cr_assert_eq(agree_compare("idx", ref, got, N, 1, loose, &nmse, &max_rel, why, sizeof why), 1);
  cr_assert(strstr(why, "idx[7]"), "%s", why);
}

Test(checker, nan_parity)
{
  static uint32_t ref[N], got[N];
  ramp(ref, N);
  memcpy(got, ref, sizeof got);
  agree_tol loose = {1.0, 1.0};
  char why[256] = "";
  double nmse, max_rel;
  /* NaN where ref has a number, however loose the tolerance */
  got[3] = bits_of(NAN);
  cr_assert_eq(agree_compare("y", ref, got, N, 0, loose, &nmse, &max_rel, why, sizeof why), 1);
  cr_assert(strstr(why, "NaN/inf"), "%s", why);
  /* a number where ref has NaN */
  memcpy(got, ref, sizeof got);
  ref[9] = bits_of(NAN);
  cr_assert_eq(agree_compare("y", ref, got, N, 0, loose, &nmse, &max_rel, why, sizeof why), 1);
  /* -inf where ref has +inf */
  ref[9] = bits_of(INFINITY);
  got[9] = bits_of(-INFINITY);
  cr_assert_eq(agree_compare("y", ref, got, N, 0, loose, &nmse, &max_rel, why, sizeof why), 1);
  /* NaN against NaN (any payload) and inf against inf agree */
  got[9] = ref[9];
  ref[3] = bits_of(NAN);
  got[3] = 0x7fc00001u;
  cr_assert_eq(agree_compare("y", ref, got, N, 0, loose, &nmse, &max_rel, why, sizeof why), 0,
               "%s", why);
}

Test(checker, guard_corruption)
{
  enum { PRE = AGREE_GUARD + 1, LEN = 10, POST = AGREE_GUARD };
  static uint32_t img[PRE + LEN + POST];
  for (size_t i = 0; i < PRE + LEN + POST; i++) img[i] = AGREE_CANARY;
  char why[256] = "";
  cr_assert_eq(agree_check_guards(img, PRE, LEN, POST, "y", why, sizeof why), 0);
  img[PRE + LEN] = 0;   /* one element past the end */
  cr_assert_eq(agree_check_guards(img, PRE, LEN, POST, "y", why, sizeof why), 1);
  cr_assert(strstr(why, "1 element(s) past the end"), "%s", why);
  img[PRE + LEN] = AGREE_CANARY;
  img[PRE - 1] = 0;     /* one element before the view */
  cr_assert_eq(agree_check_guards(img, PRE, LEN, POST, "y", why, sizeof why), 1);
  cr_assert(strstr(why, "1 element(s) before"), "%s", why);
  img[PRE - 1] = AGREE_CANARY;
  img[0] = 0;           /* far before */
  cr_assert_eq(agree_check_guards(img, PRE, LEN, POST, "y", why, sizeof why), 1);
}

/* ---------------------------------------------------------------- end to end */

/* A copy of the ref op table with one op broken at a time: the engine must
 * report every such backend as failing. */
extern const mb_backend_ops mb_ref_ops;
static mb_backend_ops g_bad;

static void unary_nudged(mb_backend *be, mb_unary_op op, mb_view x, mb_view y, size_t n, float a,
                         float b)
{
  mb_ref_ops.unary(be, op, x, y, n, a, b);
  /* element n/2 off by 1e-3 (sigmoid outputs are at most 1) */
  mb_ref_ops.unary(be, MB_UN_AFFINE, mb_at(y, n / 2), mb_at(y, n / 2), 1, 1.0f, 1e-3f);
}

static void fill_one_too_many(mb_backend *be, mb_view dst, size_t n, uint32_t bits)
{
  mb_ref_ops.fill(be, dst, n + 1, bits);   /* the buffer has room: only the canary sees it */
}

static void unary_writes_nan(mb_backend *be, mb_unary_op op, mb_view x, mb_view y, size_t n,
                             float a, float b)
{
  mb_ref_ops.unary(be, op, x, y, n, a, b);
  mb_ref_ops.fill(be, mb_at(y, n - 1), 1, 0x7fc00000u);
}

static void unary_skips_last(mb_backend *be, mb_unary_op op, mb_view x, mb_view y, size_t n,
                             float a, float b)
{
  if (n > 1) mb_ref_ops.unary(be, op, x, y, n - 1, a, b);
}

static int g_calls;
static void reduce_drifts(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y, size_t outer,
                          size_t mid, size_t inner)
{
  mb_ref_ops.reduce(be, op, x, y, outer, mid, inner);
  /* every other call differs by one ulp-ish: as atomics would */
  if (g_calls++ % 2) mb_ref_ops.unary(be, MB_UN_AFFINE, y, y, 1, 1.0f + 1e-7f, 0.0f);
}

static void argmax_off_by_one(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y,
                              size_t outer, size_t mid, size_t inner)
{
  mb_ref_ops.reduce(be, op, x, y, outer, mid, inner);
  int32_t i;
  mb_ref_ops.download(be, &i, y, 4);
  i = (i + 1) % (int32_t)mid;
  mb_ref_ops.upload(be, y, &i, 4);
}

static void binary_touches_input(mb_backend *be, mb_binary_op op, mb_view x1, mb_view x2,
                                 mb_view y, size_t n, float a, float b)
{
  mb_ref_ops.binary(be, op, x1, x2, y, n, a, b);
  mb_ref_ops.fill(be, x2, 1, 0x7f800001u);   /* a NaN the generator never draws */
}

static void rng_fails_loudly(mb_backend *be, mb_rng_dist d, uint64_t seed, uint64_t stream,
                             mb_view y, size_t n, float p0, float p1)
{
  (void)d; (void)seed; (void)stream; (void)y; (void)n; (void)p0; (void)p1;
  mb_fail(be, MB_DEVICE_ERROR, "rng: simulated device error");
}

/* Swaps the first two rows of y after a correct permute: a plausible indexing slip. */
static void permute_rows_swapped(mb_backend *be, mb_view x, mb_view y, size_t outer, size_t mid,
                                 size_t inner)
{
  mb_ref_ops.permute(be, x, y, outer, mid, inner);
  uint32_t *rows = malloc(2 * inner * 4);
  if (!rows) return;
  mb_ref_ops.download(be, rows, y, 2 * inner * 4);
  mb_ref_ops.upload(be, mb_at(y, inner), rows, inner * 4);
  mb_ref_ops.upload(be, y, rows + inner, inner * 4);
  free(rows);
}

/* Runs case `id` against the sabotaged table; returns its result. */
static agree_result run_bad(const char *id)
{
  g_bad.name = "sabotaged";
  char why[256];
  agree_session *s = agree_open_ops(&g_bad, 0, why, sizeof why);
  cr_assert_not_null(s, "%s", why);
  const agree_case *c = agree_case_find(id);
  cr_assert_not_null(c, "no case %s", id);
  agree_result r;
  agree_run(s, c, agree_base_seed(), &r);
  agree_close(s);
  return r;
}

static void expect_fail(const char *id, const char *needle)
{
  agree_result r = run_bad(id);
  cr_assert_eq(r.status, AGREE_FAIL, "%s should fail, got %s (%s)", id,
               agree_status_name(r.status), r.reason);
  cr_assert(strstr(r.reason, needle), "%s: reason '%s' lacks '%s'", id, r.reason, needle);
}

/* ref with its optional ops taken out: the sabotage below breaks required ops, which a
 * direct convolution or fused update would route around (those ops have their own). */
static void restore(void)
{
  g_bad = mb_ref_ops;
  g_bad.conv2d_fwd = g_bad.conv2d_bwd_data = g_bad.conv2d_bwd_filter = NULL;
  g_bad.forget_update = NULL;
  g_bad.gemm_sq_acc = NULL;
  g_bad.engine = NULL;
}

/* Optional ops that slip: one output element nudged, or a sign lost. */
static void conv2d_fwd_nudged(mb_backend *be, const mb_conv_args *a)
{
  mb_ref_ops.conv2d_fwd(be, a);
  float v;
  mb_ref_ops.download(be, &v, a->y, 4);
  v *= 1.01f;
  mb_ref_ops.upload(be, a->y, &v, 4);
}

static void forget_update_minus_is_plus(mb_backend *be, const mb_forget_args *a)
{
  mb_forget_args b = *a;
  b.minus = mb_none();
  mb_ref_ops.forget_update(be, &b);
  if (!mb_is_none(a->minus)) mb_ref_ops.copy(be, a->minus, a->plus, a->offs[a->nseg]);
}

/* The last sample's squares left out. */
static void gemm_sq_acc_drops_a_sample(mb_backend *be, const mb_gemm_sq_args *a)
{
  mb_gemm_sq_args b = *a;
  if (b.g.batch > b.groups) b.g.batch -= b.groups;
  mb_ref_ops.gemm_sq_acc(be, &b);
}

TestSuite(sabotage, .init = restore);

Test(sabotage, untouched_ref_passes)
{
  agree_result r = run_bad("unary/exp");
  cr_assert_eq(r.status, AGREE_PASS, "%s", r.reason);
  cr_assert_eq(r.deterministic, 1);
}

Test(sabotage, wrong_value)
{
  g_bad.unary = unary_nudged;
  expect_fail("unary/sigmoid", "max error");
}

Test(sabotage, canary_overwrite)
{
  g_bad.fill = fill_one_too_many;
  expect_fail("mem/fill_nan_100003", "past the end");
}

Test(sabotage, nan_parity)
{
  g_bad.unary = unary_writes_nan;
  expect_fail("unary/sqr", "NaN/inf positions differ");
}

Test(sabotage, unwritten_output)
{
  g_bad.unary = unary_skips_last;
  expect_fail("unary/relu", "NaN/inf positions differ");
}

Test(sabotage, nondeterminism)
{
  g_bad.reduce = reduce_drifts;
  expect_fail("reduce/sum_long_100000", "not deterministic");
}

Test(sabotage, integer_output)
{
  g_bad.reduce = argmax_off_by_one;
  expect_fail("reduce/argmax_rows_128x10", "y[0]");
}

Test(sabotage, input_modified)
{
  g_bad.binary = binary_touches_input;
  expect_fail("binary/mul", "input modified");
}

Test(sabotage, sticky_error_then_recovery)
{
  g_bad.rng = rng_fails_loudly;
  g_bad.name = "sabotaged";
  char why[256];
  agree_session *s = agree_open_ops(&g_bad, 0, why, sizeof why);
  cr_assert_not_null(s, "%s", why);
  agree_result r;
  agree_run(s, agree_case_find("rng/u32_1001"), agree_base_seed(), &r);
  cr_assert_eq(r.status, AGREE_FAIL);
  cr_assert(strstr(r.reason, "simulated device error"), "%s", r.reason);
  /* the backend was reopened: the next case runs normally */
  agree_run(s, agree_case_find("unary/exp"), agree_base_seed(), &r);
  cr_assert_eq(r.status, AGREE_PASS, "%s", r.reason);
  agree_close(s);
}

Test(sabotage, missing_op_is_a_skip)
{
  g_bad.im2col = NULL;
  agree_result r = run_bad("im2col/c3_32x32_k3s1p1_b2");
  cr_assert_eq(r.status, AGREE_SKIP, "%s", r.reason);
  cr_assert(strstr(r.reason, "im2col"), "%s", r.reason);
}

/* conv2d needs permute (core/conv.c regroups the columns with it) */
Test(sabotage, missing_permute_skips_conv2d)
{
  g_bad.permute = NULL;
  agree_result r = run_bad("conv2d/dw_c512_4x4_k3s1p1_b2_cout512");
  cr_assert_eq(r.status, AGREE_SKIP, "%s", r.reason);
  cr_assert(strstr(r.reason, "permute"), "%s", r.reason);
}

Test(sabotage, optional_ops_are_checked)
{
  g_bad.conv2d_fwd = conv2d_fwd_nudged;
  g_bad.engine = "sabotaged-direct";
  expect_fail("conv2d/fwd_c64_32x32_k3s1p1_b2_cout64", "y");
  g_bad.forget_update = forget_update_minus_is_plus;
  expect_fail("forget_update/odd_alpha_lambda1", "minus");
  g_bad.gemm_sq_acc = gemm_sq_acc_drops_a_sample;
  expect_fail("gemm_sq_acc/odd_tt_9x11x7_g3_b6", "acc");
}

Test(sabotage, permute_rows_swapped)
{
  g_bad.permute = permute_rows_swapped;
  expect_fail("permute/odd_7x33x3", "y[0]");
  expect_fail("conv2d/fwd_c512_4x4_k3s1p1_b2_cout512", "y[");
}

/* ---------------------------------------------------------------- the table itself */

Test(table, ids_unique_and_named_after_family)
{
  const agree_case *c;
  int n = agree_cases(&c);
  cr_assert_gt(n, 100);
  for (int i = 0; i < n; i++) {
    size_t fl = strlen(c[i].fam->name);
    cr_assert(strncmp(c[i].id, c[i].fam->name, fl) == 0 && c[i].id[fl] == '/',
              "case %s is not under %s/", c[i].id, c[i].fam->name);
    for (int j = 0; j < i; j++) cr_assert_str_neq(c[i].id, c[j].id, "duplicate case id");
  }
}

/* ---------------------------------------------------------------- the op list */

Test(ops, built_tables_have_every_required_op)
{
  const mb_backend_entry *e;
  int n = mb_backend_entries(&e);
  for (int i = 0; i < n; i++) {
    if (!e[i].ops) continue;
    const char *miss = mb_ops_missing(e[i].ops);
    cr_assert_null(miss, "%s lacks %s", e[i].name, miss ? miss : "");
    cr_assert_eq(e[i].ops->abi, MB_ABI_VERSION, "%s", e[i].name);
  }
  mb_backend_ops t = mb_ref_ops;
  t.permute = NULL;
  cr_assert_str_eq(mb_ops_missing(&t), "permute");
  t.permute = mb_ref_ops.permute;
  t.forget_update = NULL;   /* optional */
  cr_assert_null(mb_ops_missing(&t));
  cr_assert_str_eq(mb_op_name(MB_OPID_gemm), "gemm");
  cr_assert(mb_op_is_optional(MB_OPID_conv2d_fwd) && !mb_op_is_optional(MB_OPID_im2col));
}

Test(ops, engine_switches)
{
  char why[256];
  mb_backend *be = mb_backend_open("ref", 0, why, sizeof why);
  cr_assert_not_null(be, "%s", why);
  unsetenv("MB_ENGINE");
  /* the oracle composes by default: its results are the generic path's */
  cr_assert_str_eq(mb_engine_name(be), "generic");
  cr_assert(!mb_has_opt(be, MB_OPID_conv2d_fwd));
  be->engine_generic = 0;
  cr_assert_str_eq(mb_engine_name(be), "ref-direct");
  cr_assert(mb_has_opt(be, MB_OPID_conv2d_fwd) && !mb_has_opt(be, MB_OPID_gemm));
  setenv("MB_ENGINE", "generic", 1);
  cr_assert_str_eq(mb_engine_name(be), "generic");
  cr_assert(!mb_has_opt(be, MB_OPID_conv2d_fwd));
  unsetenv("MB_ENGINE");
  mb_engine_force_generic(1);
  cr_assert_str_eq(mb_engine_name(be), "generic");
  mb_engine_force_generic(0);
  be->engine_generic = 1;
  cr_assert_str_eq(mb_engine_name(be), "generic");
  be->engine_generic = 0;
  cr_assert_str_eq(mb_engine_name(be), "ref-direct");
  mb_backend_close(be);
}
