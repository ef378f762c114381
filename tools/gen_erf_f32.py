#!/usr/bin/env python3
"""Writes kernels/common/erf_f32.h: the f32 erf/erfc that the Vulkan shaders (GLSL has
no erf) and the OpenCL kernels use, with our own Chebyshev fits (mpmath.chebyfit,
near-minimax).  Needs mpmath (apt-get install python3-mpmath) only to regenerate; the
build uses the committed file.

    python3 tools/gen_erf_f32.py > kernels/common/erf_f32.h

tests/unit/test_erf.c compiles the output as C and checks its accuracy."""
import re
import struct
import sys

import mpmath as mp

mp.mp.dps = 40
EDGES = [0.25, 0.75, 1.5, 3, 5, 7, 10.1]   # pieces of e^(x²)·erfc(x)
DEG_E, DEG_SMALL, DEG_EXP = 9, 6, 7


def f32(x):
    return struct.unpack('f', struct.pack('f', float(x)))[0]


def f32_bits(x):
    return struct.unpack('I', struct.pack('f', x))[0]


def bits_f32(b):
    return struct.unpack('f', struct.pack('I', b))[0]


def lit(c):
    m, e = ('%.9e' % f32(c)).split('e')
    return (m + 'f') if int(e) == 0 else '%se%df' % (m, int(e))


def horner(var, poly):
    """poly: highest degree first (chebyfit's order)."""
    low = [lit(c) for c in reversed(poly)]
    s = low[-1]
    for c in reversed(low[:-1]):
        s = '%s + %s * (%s)' % (c, var, s)
    return s


def fit(f, lo, hi, deg):
    poly, err = mp.chebyfit(f, [lo, hi], deg + 1, error=True)
    return poly, float(err)


def erf_q(s):   # erf(a)/a − 1 as a function of s = a²
    if s == 0:
        return 2 / mp.sqrt(mp.pi) - 1
    a = mp.sqrt(s)
    return mp.erf(a) / a - 1


def main():
    small, err_small = fit(erf_q, 0, 0.25, DEG_SMALL)
    expp, err_exp = fit(mp.exp, -0.3466, 0.3466, DEG_EXP)
    ln2 = mp.log(2)
    ln2_hi = bits_f32(f32_bits(float(ln2)) & 0xffffff00)   # 16 bits: n·ln2_hi exact for n < 256
    ln2_lo = f32(ln2 - ln2_hi)
    branches, worst = [], 0.0
    pieces = list(zip(EDGES[:-1], EDGES[1:]))
    for i, (lo, hi) in enumerate(pieces):
        mid = (lo + hi) / 2
        poly, err = fit(lambda t: mp.exp((mid + t) ** 2) * mp.erfc(mid + t), lo - mid, hi - mid, DEG_E)
        worst = max(worst, err / float(mp.exp(hi * hi) * mp.erfc(hi)))
        head = '  if (a < %gf) {' % hi if i == 0 else \
               ('  } else if (a < %gf) {' % hi if i < len(pieces) - 1 else '  } else {')
        # the constant term as hi + lo: its f32 rounding (up to 0.5 ulp of E) is not kept
        c0 = poly[-1]
        c0_hi = f32(c0)
        c0_lo = f32(c0 - mp.mpf(c0_hi))
        branches += [head, '    t = a - %gf;' % mid,
                     '    p = %s;' % horner('t', poly[:-1] + [c0_lo]), '    p = %s + p;' % lit(c0_hi)]
    branches.append('  }')
    text = TEMPLATE % {
        'LN2HI': '%.9gf' % ln2_hi, 'LN2LO': '%.9ef' % ln2_lo, 'EXP': horner('r', expp),
        'SMALL': horner('s', small), 'BRANCHES': '\n'.join(branches),
        'ERR_E': '%.1e' % worst, 'ERR_SMALL': '%.1e' % err_small, 'ERR_EXP': '%.1e' % err_exp,
        'NPIECE': len(pieces), 'DEG_E': DEG_E, 'DEG_SMALL': DEG_SMALL, 'DEG_EXP': DEG_EXP,
    }
    text = re.sub(r'(?<![\d.eE+\-])(\d+)f\b', r'\1.0f', text)   # 1f is no literal: 1.0f
    out = []
    for line in text.split('\n'):   # wrap the long Horner lines at ' + '
        if len(line) <= 96:
            out.append(line)
            continue
        ind = len(line) - len(line.lstrip())
        parts = line.split(' + ')
        cur = parts[0]
        for part in parts[1:]:
            if len(cur) + 3 + len(part) > 96:
                out.append(cur + ' +')
                cur = ' ' * (ind + 4) + part
            else:
                cur += ' + ' + part
        out.append(cur)
    sys.stdout.write('\n'.join(out))


TEMPLATE = '''/* f32 erf and erfc, and the normal CDF and density that GELU needs: the Vulkan shaders'
 * (GLSL has no erf) and the OpenCL kernels' (OpenCL allows its erfc 16 ulp).
 * Made by tools/gen_erf_f32.py (our own Chebyshev fits); edit that, not this file.
 *
 * Written in the subset of GLSL that is also C and OpenCL C: tests/unit/test_erf.c
 * compiles this very file (MB_ERF_C) and checks it against the C library's double
 * erf/erfc.  Only +, -, *, floor, ldexp and bit masks: no division and no exp builtin
 * (Vulkan allows exp an error of 3 + 2|x| ulp); `precise` (GLSL) and FP_CONTRACT OFF
 * (OpenCL) keep every operation unfused, as the C build does.
 *
 *   |x| < 0.5:         erf(x) = x + x·Q(x²), Q of degree %(DEG_SMALL)d (fit error %(ERR_SMALL)s)
 *   0.25 <= |x| < 10.1: erfc(|x|) = e^(-x²)·E(|x|), E(x) = e^(x²)·erfc(x) in %(NPIECE)d pieces of
 *                      degree %(DEG_E)d in |x| - centre (fit error <= %(ERR_E)s relative);
 *                      e^(-x²) from x² split exactly (the top 12 bits of |x| square
 *                      exactly), Cody-Waite reduction and a degree-%(DEG_EXP)d e^r (fit %(ERR_EXP)s)
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
  precise float r = (n * %(LN2HI)s - hi) + (n * %(LN2LO)s - lo);
  precise float p = %(EXP)s;
  return MB_LDEXP(p, -MB_INT(n));
}

/* erf(x) for |x| < 0.5: x + x·Q(x²), the final sum carrying one rounding */
MB_FN float mb_erf_small(float x)
{
  precise float s = x * x;
  precise float q = %(SMALL)s;
  precise float y = x + x * q;
  return y;
}

/* e^(x²)·erfc(x) for 0.25 <= x < 10.1; t = x - centre is exact (Sterbenz). */
MB_FN float mb_erfcx_mid(float a)
{
  precise float t, p;
%(BRANCHES)s
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
'''

if __name__ == '__main__':
    main()
