/* The fused forgetting update (the optional op forget_update) against the op chain it
 * replaces (core/forget_mnemonic.c, MB_ENGINE=generic) on the same backend, bit for bit:
 * ref, cuda, opencl and vulkan promise the chain's bits (include/mb/backend.h); cpu takes
 * η as a quotient and is checked against the oracle by the agreement suite instead.
 * Segments of 1 to 20000 elements cross every backend's chunk size (4096, 8192); inputs
 * hold zeros, negatives, infinities, NaNs and subnormals, and one segment has no finite
 * log-ratio at all.  Each backend runs: every output present, no delta, delta in place
 * of f_forget with minus in place of w, plus alone, minus alone in place of w (where the
 * intermediate values can only go to the backend's scratch), and the Fisher sums scaled
 * inside the op. */
#include "core/forget_mnemonic.h"
#include "core/ops.h"
#include "mb/registry.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define NSEG 8
static const size_t k_sizes[NSEG] = {1, 7, 4096, 4097, 8193, 20000, 300, 5000};

typedef struct {
  size_t offs[NSEG + 1];
  size_t n;
  float *ff, *fr, *w;
} inputs;

static uint64_t g_state = 0x9e3779b97f4a7c15ull;
static double uniform(void)
{
  g_state ^= g_state << 13;
  g_state ^= g_state >> 7;
  g_state ^= g_state << 17;
  return (double)(g_state >> 11) / 9007199254740992.0;
}

/* A Fisher diagonal: positive over many decades, with the special values at fixed
 * strides (different for the two inputs, so they also meet each other). */
static float fisher(size_t i, int which)
{
  const size_t p = which ? 7 : 0;
  if (i % (97 + p) == 0) return 0.0f;
  if (i % (89 + p) == 0) return -1.0f;
  if (i % (83 + p) == 0) return INFINITY;
  if (i % (79 + p) == 0) return 1e-40f;   /* subnormal */
  if (i % (73 + p) == 0) return NAN;
  return (float)exp(-20.0 + 25.0 * uniform());
}

static inputs make_inputs(void)
{
  inputs in;
  in.offs[0] = 0;
  for (int s = 0; s < NSEG; s++) in.offs[s + 1] = in.offs[s] + k_sizes[s];
  in.n = in.offs[NSEG];
  in.ff = malloc(in.n * sizeof(float));
  in.fr = malloc(in.n * sizeof(float));
  in.w = malloc(in.n * sizeof(float));
  cr_assert(in.ff && in.fr && in.w);
  for (size_t i = 0; i < in.n; i++) {
    in.ff[i] = fisher(i, 0);
    in.fr[i] = fisher(i, 1);
    in.w[i] = (float)(uniform() - 0.5);
  }
  /* segment 6: f_forget all zero, so every log-ratio is −inf or NaN */
  for (size_t i = in.offs[6]; i < in.offs[7]; i++) in.ff[i] = 0.0f;
  return in;
}

static void ok(mb_backend *be) { cr_assert(mb_ok(be), "%s: %s", be->ops->name, mb_error(be)); }

static mb_view with(mb_backend *be, const float *host, size_t n)
{
  mb_view v = mb_new(be, n);
  mb_upload(be, v, host, n);
  return v;
}

static float *fetch(mb_backend *be, mb_view v, size_t n)
{
  float *h = malloc(n * sizeof(float));
  cr_assert(h);
  mb_download(be, h, v, n);
  ok(be);
  return h;
}

static void same_bits(const char *be, const char *what, const float *want, const float *got, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    uint32_t a, b;
    memcpy(&a, &want[i], 4);
    memcpy(&b, &got[i], 4);
    cr_assert_eq(a, b, "%s %s[%zu]: chain %a (0x%08x), fused %a (0x%08x)", be, what, i, want[i], a,
                 got[i], b);
  }
}

/* The chain's delta, plus and minus for the inputs (fresh copies, delta separate). */
static void chain(mb_backend *be, const inputs *in, float sf, float sr, float **d, float **p,
                  float **m)
{
  mb_engine_force_generic(1);
  mb_view ff = with(be, in->ff, in->n), fr = with(be, in->fr, in->n), w = with(be, in->w, in->n);
  mb_view dv = mb_new(be, in->n), pv = mb_new(be, in->n), mv = mb_new(be, in->n);
  mb_view scratch = mb_new(be, in->n);
  const mb_forget_args a = {.f_forget = ff, .f_remain = fr, .w = w, .delta = dv, .plus = pv,
                            .minus = mv, .offs = in->offs, .nseg = NSEG, .lambda1 = 0.25f,
                            .lambda2 = 0.75f, .scale_forget = sf, .scale_remain = sr};
  mb_forget_update_auto(be, &a, scratch);
  ok(be);
  *d = fetch(be, dv, in->n);
  *p = fetch(be, pv, in->n);
  *m = fetch(be, mv, in->n);
  mb_view all[] = {ff, fr, w, dv, pv, mv, scratch};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) mb_release(be, all[i]);
  mb_engine_force_generic(0);
}

/* Runs the fused update and compares one output with the chain's, bit for bit. */
static void update_and_compare(mb_backend *be, const mb_forget_args *a, mb_view out,
                               const float *want, size_t n, const char *name, const char *what)
{
  mb_forget_update(be, a);
  float *got = fetch(be, out, n);
  same_bits(name, what, want, got, n);
  free(got);
}

static void check_backend(const char *name)
{
  char why[512];
  mb_backend *be = mb_backend_open(name, 0, why, sizeof why);
  if (!be) cr_skip_test("%s: %s", name, why);
  be->engine_generic = 0;   /* the oracle composes by default; its direct op is under test */
  if (!mb_has_opt(be, MB_OPID_forget_update))
    cr_skip_test("%s: no fused forgetting update (engine %s)", name, mb_engine_name(be));
  inputs in = make_inputs();
  const size_t n = in.n;

  for (int scaled = 0; scaled < 2; scaled++) {
    const float sf = scaled ? 1.0f / 3.0f : 0.0f, sr = scaled ? 1.0f / 7.0f : 0.0f;
    float *cd, *cp, *cm;
    chain(be, &in, sf, sr, &cd, &cp, &cm);
    mb_view ff = with(be, in.ff, n), fr = with(be, in.fr, n), w = with(be, in.w, n);
    mb_view dv = mb_new(be, n), pv = mb_new(be, n), mv = mb_new(be, n);
    mb_forget_args a = {.f_forget = ff, .f_remain = fr, .w = w, .delta = dv, .plus = pv,
                        .minus = mv, .offs = in.offs, .nseg = NSEG, .lambda1 = 0.25f,
                        .lambda2 = 0.75f, .scale_forget = sf, .scale_remain = sr};

    /* every output present */
    mb_forget_update(be, &a);
    float *d = fetch(be, dv, n), *p = fetch(be, pv, n), *m = fetch(be, mv, n);
    same_bits(name, "delta", cd, d, n);
    same_bits(name, "plus", cp, p, n);
    same_bits(name, "minus", cm, m, n);
    free(d), free(p), free(m);

    /* no delta: the ratio is recomputed in each pass */
    mb_fill(be, pv, n, 0.0f);
    mb_fill(be, mv, n, 0.0f);
    a.delta = mb_none();
    mb_forget_update(be, &a);
    p = fetch(be, pv, n), m = fetch(be, mv, n);
    same_bits(name, "plus (no delta)", cp, p, n);
    same_bits(name, "minus (no delta)", cm, m, n);
    free(p), free(m);

    /* in place: delta over f_forget, minus over w, no plus */
    a.delta = ff;
    a.minus = w;
    a.plus = mb_none();
    mb_forget_update(be, &a);
    d = fetch(be, ff, n), m = fetch(be, w, n);
    same_bits(name, "delta (in place)", cd, d, n);
    same_bits(name, "minus (in place)", cm, m, n);
    free(d), free(m);

    /* plus alone carries r and η between the passes */
    mb_upload(be, ff, in.ff, n);
    mb_upload(be, w, in.w, n);
    a.delta = mb_none();
    a.minus = mb_none();
    a.plus = pv;
    update_and_compare(be, &a, pv, cp, n, name, "plus (alone)");

    /* minus alone, over w: the backend's scratch carries them */
    a.plus = mb_none();
    a.minus = w;
    update_and_compare(be, &a, w, cm, n, name, "minus (alone, in place)");

    mb_view all[] = {ff, fr, w, dv, pv, mv};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) mb_release(be, all[i]);
    free(cd), free(cp), free(cm);
  }
  free(in.ff), free(in.fr), free(in.w);
  mb_backend_close(be);
}

Test(forget_fused, ref) { check_backend("ref"); }
Test(forget_fused, opencl, .timeout = 120) { check_backend("opencl"); }
Test(forget_fused, vulkan, .timeout = 120) { check_backend("vulkan"); }
Test(forget_fused, cuda, .timeout = 120) { check_backend("cuda"); }
