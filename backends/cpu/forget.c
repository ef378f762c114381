/* Optional forgetting update (mb_forget_args) in two passes over memory per segment,
 * with η computed as a quotient instead of through logf/expf.
 *
 * The identity (docs/specification.md §2.2): for finite positive f_forget and
 * f_remain, η = exp(log f_forget − log f_remain) = f_forget / f_remain.  The op chain
 * rounds the log-ratio to f32 before exp, so its η carries an error of about |r| ulp;
 * the quotient is correctly rounded, so the two agree within the transcendental
 * tolerance of the agreement suite, not bit for bit.  The special cases follow the
 * chain exactly, element by element:
 *   - either input NaN or negative (log is NaN), or both 0 or both +inf (r = NaN):
 *     r becomes 0, so η = 1;
 *   - otherwise one input is 0 or +inf (r = ±inf): r becomes the segment's largest
 *     finite r, the 0s of the first case included, so η = exp of it = the largest η
 *     of the other two cases (0 when there are none: exp(−inf)), which is also the
 *     segment's largest η;
 *   - both finite positive: η = the quotient (it overflows to inf or underflows to 0
 *     where exp(r) does, up to the rounding at the limits).
 * The inputs are first scaled as the contract says (AFFINE(s, 0), in f32 as unary does).
 * Pass 1 finds the segment's largest quotient and which special cases occur; pass 2
 * recomputes η and writes δ and the candidates.  Nothing is stored between the
 * passes, so an output may alias an input element for element.  The generic op chain
 * (core/forget_mnemonic.c, MB_ENGINE=generic) stays the reference path. */
#include "cpu_backend.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Finite and positive (subnormals included): log is finite. */
static inline int regular(float x) { return (x > 0.0f) & (x <= FLT_MAX); }

/* Not regular: r = NaN (→ η = 1) unless exactly one log is ±inf or they differ in
 * sign of infinity, i.e. both inputs are ≥ 0 (not NaN) and differ (0 and −0 are equal). */
static inline int nan_case(float a, float b) { return ((a >= 0.0f) & (b >= 0.0f) & (a != b)) == 0; }

/* c ? a : b on the bits: GCC keeps a conditional choice between float values
 * that may trap (the quotient) as a branch under -ftrapping-math, which stops
 * the loop from vectorising. */
static inline float pick(int c, float a, float b)
{
  uint32_t ua, ub;
  memcpy(&ua, &a, sizeof ua);
  memcpy(&ub, &b, sizeof ub);
  const uint32_t m = 0u - (uint32_t)c, u = (ua & m) | (ub & ~m);
  float r;
  memcpy(&r, &u, sizeof r);
  return r;
}

/* η of an element (see above) given the segment's largest η, top. */
static inline float eta_of(float x, float y, float top)
{
  return pick(regular(x) & regular(y), x / y, pick(nan_case(x, y), 1.0f, top));
}

/* The inputs and outputs of one call; an output is NULL when not wanted. */
typedef struct {
  const float *ff, *fr, *w;
  float *delta, *plus, *minus;
  float sf, sr;   /* the inputs' AFFINE scales (1: none) */
} fg_io;

/* The loops are compiled for AVX2 too and chosen at load time: the division is most of
 * their arithmetic, and a wider one halves it.  IEEE division and the comparisons give
 * the same bits at every width. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FG_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define FG_CLONES
#endif

/* Pass 1 over [b, e): the largest quotient of the regular elements (0 if none) and the
 * number of elements whose η is 1. */
FG_CLONES static void pass1(const fg_io *io, size_t b, size_t e, float *qmax_out, int *n_one_out)
{
  const float *ff = io->ff, *fr = io->fr;
  const float sf = io->sf, sr = io->sr;
  float qmax = 0.0f;
  int n_one = 0;
  CPU_OMP(omp simd reduction(max:qmax) reduction(+:n_one))
  for (size_t i = b; i < e; i++) {
    const float x = sf * ff[i] + 0.0f, y = sr * fr[i] + 0.0f;   /* AFFINE(s, 0) */
    const int reg = regular(x) & regular(y);
    const float q = pick(reg, x / y, 0.0f);   /* ≥ 0 */
    qmax = q > qmax ? q : qmax;
    n_one += (reg == 0) & nan_case(x, y);
  }
  *qmax_out = qmax;
  *n_one_out = n_one;
}

/* Pass 2 over [b, e): d = η·α (seg_bcast MUL) of the scaled inputs, wi = w[i]; the
 * body writes the outputs (w + d and w − d are AXPBY(1, ±1): 1·x is exact). */
#define WRITE(...)                                                                \
  do {                                                                            \
    CPU_OMP(omp simd)                                                             \
    for (size_t i = b; i < e; i++) {                                              \
      const float d = eta_of(sf * ff[i] + 0.0f, sr * fr[i] + 0.0f, top) * alpha; \
      const float wi = w[i];                                                      \
      (void)wi;                                                                   \
      __VA_ARGS__;                                                                \
    }                                                                             \
  } while (0)

FG_CLONES static void pass2(const fg_io *io, size_t b, size_t e, float top, float alpha)
{
  const float *ff = io->ff, *fr = io->fr, *w = io->w;
  float *delta = io->delta, *plus = io->plus, *minus = io->minus;
  const float sf = io->sf, sr = io->sr;
  /* one loop per set of outputs, so that each vectorises */
  if (delta && plus && minus) WRITE(delta[i] = d; plus[i] = wi + d; minus[i] = wi - d);
  else if (plus && minus) WRITE(plus[i] = wi + d; minus[i] = wi - d);
  else if (delta && !plus && !minus) WRITE(delta[i] = d);
  else WRITE(if (delta) delta[i] = d; if (plus) plus[i] = wi + d; if (minus) minus[i] = wi - d);
}

/* This thread's share [*b, *e) of [lo, hi) (all of it outside a team). */
static void share(size_t lo, size_t hi, size_t *b, size_t *e)
{
#ifdef _OPENMP
  const size_t nt = (size_t)omp_get_num_threads(), t = (size_t)omp_get_thread_num();
#else
  const size_t nt = 1, t = 0;
#endif
  const size_t n = hi - lo, q = n / nt, r = n % nt;
  *b = lo + t * q + (t < r ? t : r);
  *e = *b + q + (t < r ? 1 : 0);
}

void cpu_forget_update(mb_backend *be, const mb_forget_args *a)
{
  if (be->status != MB_OK) return;
  fg_io io = {
    .ff = host_f32(a->f_forget), .fr = host_f32(a->f_remain), .w = host_f32(a->w),
    .delta = cpu_is_none(a->delta) ? NULL : host_f32(a->delta),
    .plus = cpu_is_none(a->plus) ? NULL : host_f32(a->plus),
    .minus = cpu_is_none(a->minus) ? NULL : host_f32(a->minus),
    /* AFFINE(s, 0) as unary writes it; scale 1 for "none" changes only −0 to +0,
     * which are the same input here (log is −inf for both) */
    .sf = a->scale_forget != 0.0f ? a->scale_forget : 1.0f,
    .sr = a->scale_remain != 0.0f ? a->scale_remain : 1.0f,
  };
  if (!io.delta && !io.plus && !io.minus) return;
  for (int s = 0; s < a->nseg; s++) {
    const size_t lo = a->offs[s], hi = a->offs[s + 1];
    const int team = hi - lo >= CPU_PAR_MIN;
    (void)team;
    float qmax = 0.0f;   /* largest quotient of the regular elements (exp(−inf) = 0 if none) */
    int n_one = 0;       /* elements whose η is 1 */
    CPU_OMP(omp parallel if (team) reduction(max:qmax) reduction(+:n_one))
    {
      size_t b, e;
      share(lo, hi, &b, &e);
      float q;
      int n;
      pass1(&io, b, e, &q, &n);
      qmax = q > qmax ? q : qmax;
      n_one += n;
    }
    /* exp(MAX_FINITE r), the ±inf elements' η, is also the largest η (seg_reduce MAX) */
    float top = hi > lo ? qmax : -INFINITY;
    if (n_one && 1.0f > top) top = 1.0f;
    const float inv = 1.0f / top;                                    /* RECIP */
    const float scaled = a->lambda2 * inv + 0.0f;                    /* AFFINE(λ2, 0) */
    const float alpha = a->lambda1 < scaled ? a->lambda1 : scaled;   /* MIN_S(λ1) */
    CPU_OMP(omp parallel if (team))
    {
      size_t b, e;
      share(lo, hi, &b, &e);
      pass2(&io, b, e, top, alpha);
    }
  }
}
