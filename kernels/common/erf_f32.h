/* f32 erf and erfc, and the normal CDF and density that GELU needs: the Vulkan shaders'
 * (GLSL has no erf) and the OpenCL kernels' (OpenCL allows its erfc 16 ulp).
 * Made by tools/gen_erf_f32.py (our own Chebyshev fits); edit that, not this file.
 *
 * Written in the subset of GLSL that is also C and OpenCL C: tests/unit/test_erf.c
 * compiles this very file (MB_ERF_C) and checks it against the C library's double
 * erf/erfc.  Only +, -, *, floor, ldexp and bit masks: no division and no exp builtin
 * (Vulkan allows exp an error of 3 + 2|x| ulp); `precise` (GLSL) and FP_CONTRACT OFF
 * (OpenCL) keep every operation unfused, as the C build does.
 *
 *   |x| < 0.5:         erf(x) = x + x·Q(x²), Q of degree 6 (fit error 1.0e-13)
 *   0.25 <= |x| < 10.1: erfc(|x|) = e^(-x²)·E(|x|), E(x) = e^(x²)·erfc(x) in 6 pieces of
 *                      degree 9 in |x| - centre (fit error <= 1.8e-09 relative);
 *                      e^(-x²) from x² split exactly (the top 12 bits of |x| square
 *                      exactly), Cody-Waite reduction and a degree-7 e^r (fit 4.2e-11)
 *   |x| >= 10.1:       erfc(|x|) = 0 (below the smallest f32 subnormal), erf = +-1
 *   (erf, and erfc for |x| < 0.5, use the first; the normal CDF from |x|/sqrt2 >= 0.25 on
 *   the second)
 *
 * Accuracy with round-to-nearest, unfused f32 arithmetic, measured on every f32 with
 * 2^-14 <= |x| < 16 (all the pieces; tests/unit/test_erf.c with MB_ERF_EXHAUSTIVE=1) and
 * a sample of the rest, in ulps of the true value where it is a normal f32:
 *   erf <= 1.73, erfc <= 2.88, Phi <= 3.40, GELU <= 4.29 ulp;
 *   GELU' = Phi + x·phi <= 3.96 ulp of |Phi| + |x·phi| (the sum cancels near x = -0.75).
 * The test holds every build to these bounds on a sample.  mb_norm_cdf takes e^(-x²/2)
 * from x itself, so the rounding of x/sqrt2 does not reach the far tail. */
#ifndef MB_ERF_F32_H
#define MB_ERF_F32_H

#if defined(__OPENCL_VERSION__)
#pragma OPENCL FP_CONTRACT OFF
#define MB_FN static
#define precise
#define MB_F2U(x) as_uint(x)
#define MB_U2F(u) as_float(u)
#define MB_FLOOR(x) floor(x)
#define MB_LDEXP(x, n) ldexp(x, n)
#define MB_INT(x) ((int)(x))
#define MB_ABS(x) fabs(x)
#define MB_ISNAN(x) isnan(x)
#elif !defined(MB_ERF_C)   /* GLSL */
#define MB_FN
#define MB_F2U(x) floatBitsToUint(x)
#define MB_U2F(u) uintBitsToFloat(u)
#define MB_FLOOR(x) floor(x)
#define MB_LDEXP(x, n) ldexp(x, n)
#define MB_INT(x) int(x)
#define MB_ABS(x) abs(x)
#define MB_ISNAN(x) isnan(x)
#endif

/* e^(-(hi + lo)) for an exact hi >= 0 and |lo| much smaller: n = round(hi/ln 2),
 * r = (n·ln2_hi - hi) + (n·ln2_lo - lo) (the first difference is exact: ln2_hi has 16
 * bits and n < 256), e^r by a polynomial on |r| <= ln 2 / 2, then 2^-n. */
MB_FN float mb_exp_neg(float hi, float lo)
{
  if (!(hi < 104.0f)) return 0.0f;   /* below the smallest subnormal */
  precise float n = MB_FLOOR(hi * 1.44269504f + 0.5f);
  precise float r = (n * 0.693145752f - hi) + (n * 1.428606765e-06f - lo);
  precise float p = 1.000000000f + r * (1.000000000f + r * (5.000000000e-1f +
      r * (1.666666716e-1f + r * (4.166621715e-2f + r * (8.333283477e-3f + r * (1.394858700e-3f +
      r * (1.990757883e-4f)))))));
  return MB_LDEXP(p, -MB_INT(n));
}

/* erf(x) for |x| < 0.5: x + x·Q(x²), the final sum carrying one rounding */
MB_FN float mb_erf_small(float x)
{
  precise float s = x * x;
  precise float q = 1.283791661e-1f + s * (-3.761263788e-1f + s * (1.128379107e-1f +
      s * (-2.686611004e-2f + s * (5.223275628e-3f + s * (-8.506765007e-4f +
      s * (1.082277522e-4f))))));
  precise float y = x + x * q;
  return y;
}

/* e^(x²)·erfc(x) for 0.25 <= x < 10.1; t = x - centre is exact (Sterbenz). */
MB_FN float mb_erfcx_mid(float a)
{
  precise float t, p;
  if (a < 0.75f) {
    t = a - 0.5f;
    p = -6.337804948e-9f + t * (-5.126888156e-1f + t * (3.593459427e-1f + t * (-2.220105678e-1f +
        t * (1.241705045e-1f + t * (-6.397023052e-2f + t * (3.072017618e-2f +
        t * (-1.388433203e-2f + t * (6.096152589e-3f + t * (-2.481579082e-3f)))))))));
    p = 6.156903505e-1f + p;
  } else if (a < 1.5f) {
    t = a - 1.125f;
    p = 9.036291715e-9f + t * (-2.380584925e-1f + t * (1.278822720e-1f + t * (-6.279394776e-2f +
        t * (2.861973457e-2f + t * (-1.223884709e-2f + t * (4.946530331e-3f +
        t * (-1.904386678e-3f + t * (7.320537698e-4f + t * (-2.580716973e-4f)))))))));
    p = 3.956980705e-1f + p;
  } else if (a < 3.0f) {
    t = a - 2.25f;
    p = 6.499504046e-9f + t * (-8.848650008e-2f + t * (3.199260309e-2f + t * (-1.100205444e-2f +
        t * (3.619330935e-3f + t * (-1.143816626e-3f + t * (3.468791547e-4f +
        t * (-1.022861979e-4f + t * (3.265270789e-5f + t * (-9.017391676e-6f)))))))));
    p = 2.310872525e-1f + p;
  } else if (a < 5.0f) {
    t = a - 4.0f;
    p = -3.887236366e-10f + t * (-3.238350525e-2f + t * (7.465430070e-3f + t * (-1.681181486e-3f +
        t * (3.703766561e-4f + t * (-7.991356688e-5f + t * (1.683846494e-5f +
        t * (-3.497347279e-6f + t * (7.913642435e-7f + t * (-1.582003506e-7f)))))))));
    p = 1.369994581e-1f + p;
  } else if (a < 7.0f) {
    t = a - 6.0f;
    p = 1.058137689e-9f + t * (-1.506035309e-2f + t * (2.414446790e-3f + t * (-3.824481973e-4f +
        t * (5.987942859e-5f + t * (-9.270122973e-6f + t * (1.417927592e-6f +
        t * (-2.148514682e-7f + t * (3.407805949e-8f + t * (-5.054394681e-9f)))))))));
    p = 9.277656674e-2f + p;
  } else {
    t = a - 8.55f;
    p = 2.152607870e-9f + t * (-7.564596832e-3f + t * (8.674088749e-4f + t * (-9.883350867e-5f +
        t * (1.119144872e-5f + t * (-1.259503051e-6f + t * (1.406138779e-7f +
        t * (-1.563794960e-8f + t * (1.863314170e-9f + t * (-2.046697950e-10f)))))))));
    p = 6.554470956e-2f + p;
  }
  return p;
}

/* erfc(|x|) for |x| >= 0.25, from the exact split of x²; 0 from 10.1 on. */
MB_FN float mb_erfc_tail(float a)
{
  if (!(a < 10.1f)) return 0.0f;
  float ah = MB_U2F(MB_F2U(a) & 0xfffff000u);   /* 12 bits: ah² is exact */
  precise float hi = ah * ah;
  precise float lo = (a - ah) * (a + ah);
  precise float q = mb_exp_neg(hi, lo) * mb_erfcx_mid(a);
  return q;
}

MB_FN float mb_erfc(float x)
{
  if (MB_ISNAN(x)) return x;
  float a = MB_ABS(x);
  if (a < 0.5f) {
    precise float y = 1.0f - mb_erf_small(x);
    return y;
  }
  precise float q = mb_erfc_tail(a);
  precise float y = x < 0.0f ? 2.0f - q : q;
  return y;
}

MB_FN float mb_erf(float x)
{
  if (MB_ISNAN(x)) return x;
  float a = MB_ABS(x);
  if (a < 0.5f) return mb_erf_small(x);
  precise float y = 1.0f - mb_erfc_tail(a);
  return x < 0.0f ? -y : y;
}

/* e^(-x²/2) from x itself (its top 12 bits square exactly): no rounding of x/sqrt2 in
 * the exponent.  0 for |x| >= 14.3 and for NaN (callers carry NaN through x). */
MB_FN float mb_exp_half_sq(float x)
{
  float a = MB_ABS(x);
  if (!(a < 14.3f)) return 0.0f;
  float ah = MB_U2F(MB_F2U(a) & 0xfffff000u);
  precise float hi = 0.5f * (ah * ah);
  precise float lo = 0.5f * ((a - ah) * (a + ah));
  return mb_exp_neg(hi, lo);
}

/* Phi(x) = erfc(-x/sqrt2)/2 given e = e^(-x²/2) (mb_exp_half_sq).  From |x|/sqrt2 = 0.25
 * on, the tail e·E(|x|/sqrt2)/2: E varies slowly, so the rounded x/sqrt2 costs ~1 ulp,
 * and 0.5 + erf/2 never cancels below 0.4. */
MB_FN float mb_norm_cdf_e(float x, float e)
{
  precise float z = x * 0.707106781f;
  float a = MB_ABS(z);
  if (a < 0.25f) {
    precise float y = 0.5f + 0.5f * mb_erf_small(z);
    return y;
  }
  precise float q = a < 10.1f ? 0.5f * e * mb_erfcx_mid(a) : 0.0f;
  precise float y = x < 0.0f ? q : 1.0f - q;
  return y;
}

MB_FN float mb_norm_cdf(float x) { return mb_norm_cdf_e(x, mb_exp_half_sq(x)); }

/* GELU = x·Phi(x) and its derivative Phi(x) + x·phi(x), phi(x) = e^(-x²/2)/sqrt(2 pi).
 * NaN propagates; x = -inf gives -inf·0 = NaN and the derivative at +-inf inf·0 = NaN,
 * as the contract's formulas do. */
MB_FN float mb_gelu(float x)
{
  precise float y = x * mb_norm_cdf(x);
  return y;
}

MB_FN float mb_gelu_grad(float x)
{
  float e = mb_exp_half_sq(x);
  precise float y = mb_norm_cdf_e(x, e) + x * (e * 0.398942280f);
  return y;
}

#endif
