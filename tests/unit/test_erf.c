/* The f32 erf/erfc/GELU of the Vulkan shaders (GLSL has no erf) and the OpenCL kernels
 * (kernels/common/erf_f32.h), compiled here as C from the very same file and checked
 * against the C library's double erf/erfc: special values, and the error in ulps over a
 * sample of every binade plus the neighbourhoods of the pieces' edges.  The bounds are
 * the maxima of an exhaustive run (docs/architecture.md §4.1), so a changed fit or
 * formula that loses accuracy fails.  Unfused f32 arithmetic, as `precise` and
 * FP_CONTRACT OFF make it in the kernels (-ffp-contract=off). */
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uint32_t uint;
#define MB_ERF_C
#define MB_FN static inline
#define precise
static inline uint f2u(float x)
{
  uint u;
  memcpy(&u, &x, 4);
  return u;
}
static inline float u2f(uint u)
{
  float x;
  memcpy(&x, &u, 4);
  return x;
}
#define MB_F2U(x) f2u(x)
#define MB_U2F(u) u2f(u)
#define MB_FLOOR(x) floorf(x)
#define MB_LDEXP(x, n) ldexpf(x, n)
#define MB_INT(x) ((int)(x))
#define MB_ABS(x) fabsf(x)
#define MB_ISNAN(x) isnan(x)
#include "erf_f32.h"

#define FLT_MIN_NORMAL 1.1754943508222875e-38

/* f32 ulp at v (> 0): the spacing of floats around v, subnormal spacing below. */
static double ulp_of(double v)
{
  int e;
  frexp(v, &e);
  return ldexp(1.0, e - 24 < -149 ? -149 : e - 24);
}

typedef struct {
  double erf, erfc, cdf, gelu, grad;   /* worst error in ulps */
  float at_erf, at_erfc, at_cdf, at_gelu, at_grad;
} worst;

static void upd(double *w, float *at, double e, float x)
{
  if (e > *w) {
    *w = e;
    *at = x;
  }
}

/* Errors at x, in ulps of the true value (erf, erfc, Phi and GELU where the value is
 * a normal f32) and, for GELU's derivative Phi + x·phi, in ulps of |Phi| + |x·phi|
 * (the sum cancels near x = -0.75). */
static void check(float x, worst *w)
{
  if (!isfinite(x)) return;
  const double xd = x, phi_t = 0.5 * erfc(-xd * M_SQRT1_2);
  const double tz = xd * exp(-0.5 * xd * xd) * 0.3989422804014327;
  double v = erf(xd);
  if (fabs(v) >= FLT_MIN_NORMAL)
    upd(&w->erf, &w->at_erf, fabs(mb_erf(x) - v) / ulp_of(fabs(v)), x);
  v = erfc(xd);
  if (v >= FLT_MIN_NORMAL) upd(&w->erfc, &w->at_erfc, fabs(mb_erfc(x) - v) / ulp_of(v), x);
  if (phi_t >= FLT_MIN_NORMAL) {
    upd(&w->cdf, &w->at_cdf, fabs(mb_norm_cdf(x) - phi_t) / ulp_of(phi_t), x);
    v = xd * phi_t;
    if (fabs(v) >= FLT_MIN_NORMAL && fabs(v) < 3e38)
      upd(&w->gelu, &w->at_gelu, fabs(mb_gelu(x) - v) / ulp_of(fabs(v)), x);
  }
  /* where e^(-x²/2) is itself normal (|x| < 13.2): below, phi is subnormal */
  const double scale = phi_t + fabs(tz);
  if (exp(-0.5 * xd * xd) >= FLT_MIN_NORMAL)
    upd(&w->grad, &w->at_grad, fabs(mb_gelu_grad(x) - (phi_t + tz)) / ulp_of(scale), x);
}

Test(erf, special_values)
{
  cr_assert(mb_erf(0.0f) == 0.0f && !signbit(mb_erf(0.0f)) && signbit(mb_erf(-0.0f)));
  cr_assert(mb_erf(INFINITY) == 1.0f && mb_erf(-INFINITY) == -1.0f);
  cr_assert(mb_erfc(0.0f) == 1.0f && mb_erfc(INFINITY) == 0.0f && mb_erfc(-INFINITY) == 2.0f);
  cr_assert(isnan(mb_erf(NAN)) && isnan(mb_erfc(NAN)));
  cr_assert(mb_erf(4.0f) == 1.0f && mb_erfc(10.1f) == 0.0f && mb_erfc(-10.1f) == 2.0f);
  cr_assert(mb_norm_cdf(0.0f) == 0.5f && mb_norm_cdf(INFINITY) == 1.0f &&
            mb_norm_cdf(-INFINITY) == 0.0f);
  /* GELU as the contract's formulas: x·Phi(x), Phi + x·phi (inf·0 is NaN) */
  cr_assert(mb_gelu(0.0f) == 0.0f && mb_gelu(INFINITY) == INFINITY && isnan(mb_gelu(-INFINITY)));
  cr_assert(isnan(mb_gelu(NAN)) && isnan(mb_gelu_grad(NAN)));
  cr_assert(isnan(mb_gelu_grad(INFINITY)) && isnan(mb_gelu_grad(-INFINITY)));
  cr_assert(mb_gelu_grad(0.0f) == 0.5f && mb_gelu_grad(20.0f) == 1.0f &&
            mb_gelu_grad(-20.0f) == 0.0f);
  cr_assert(mb_gelu(-20.0f) == 0.0f && mb_gelu(20.0f) == 20.0f);
}

/* The worst errors over every f32 with 2^-14 <= |x| < 16 (MB_ERF_EXHAUSTIVE=1, 87 s here)
 * and the sample: erf 1.730 ulp at 0.547512949, erfc 2.875 at 2.8354938, Phi 3.396 at
 * -11.5453606, GELU 4.292 at -11.7546625, GELU' 3.962 at -13.1877851 (ulps of |Phi| +
 * |x·phi|), where the true values are normal f32.  Every run must stay within them. */
#define MAX_ERF 1.75
#define MAX_ERFC 2.9
#define MAX_CDF 3.4
#define MAX_GELU 4.3
#define MAX_GRAD 4.0

Test(erf, accuracy)
{
  worst w = {0};
  /* every 4099th bit pattern: all binades, both signs (~1M inputs) */
  for (uint64_t u = 0; u < ((uint64_t)1 << 32); u += 4099) check(u2f((uint)u), &w);
  /* MB_ERF_EXHAUSTIVE=1: every f32 with 2^-14 <= |x| < 16, where all the pieces are
   * (~300M inputs, minutes); beyond, erf is x·2/sqrt(pi) or +-1 within rounding */
  const char *ex = getenv("MB_ERF_EXHAUSTIVE");
  if (ex && strcmp(ex, "1") == 0)
    for (uint u = f2u(0x1p-14f); u < f2u(16.0f); u++) {
      check(u2f(u), &w);
      check(-u2f(u), &w);
    }
  /* every float near the edges of the pieces, of erf's small branch, of the CDF's
   * (|x|/sqrt2 = 0.25) and of the zero of GELU' */
  static const float edges[] = {0.25f, 0.5f, 0.75f, 1.5f, 3.0f, 5.0f, 7.0f, 10.1f, 0.353553391f,
                                0.707106781f, 1.06066017f, 2.12132034f, 4.24264069f, 7.07106781f,
                                9.89949494f, 14.2835570f, 0.751791624f};
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
    for (int s = -1; s <= 1; s += 2) {
      uint c = f2u(edges[i]);
      for (uint u = c - 2000; u <= c + 2000; u++) check((float)s * u2f(u), &w);
    }
  cr_log_info("erf %.3f ulp at %.9g, erfc %.3f at %.9g, Phi %.3f at %.9g, GELU %.3f at %.9g, "
              "GELU' %.3f at %.9g", w.erf, w.at_erf, w.erfc, w.at_erfc, w.cdf, w.at_cdf, w.gelu,
              w.at_gelu, w.grad, w.at_grad);
  cr_expect(w.erf <= MAX_ERF, "erf: %.3f ulp at %.9g", w.erf, w.at_erf);
  cr_expect(w.erfc <= MAX_ERFC, "erfc: %.3f ulp at %.9g", w.erfc, w.at_erfc);
  cr_expect(w.cdf <= MAX_CDF, "Phi: %.3f ulp at %.9g", w.cdf, w.at_cdf);
  cr_expect(w.gelu <= MAX_GELU, "GELU: %.3f ulp at %.9g", w.gelu, w.at_gelu);
  cr_expect(w.grad <= MAX_GRAD, "GELU': %.3f ulp at %.9g", w.grad, w.at_grad);
}
