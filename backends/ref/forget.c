/* Optional forgetting update of the oracle (mb_forget_args): the op chain of the
 * mnemonic method in three passes per segment, each step rounded to f32 exactly as
 * ref's own unary, binary and segmented ops round it, so the result is the chain's
 * bit for bit.  Pass 1 finds the largest finite log-ratio, pass 2 the largest η,
 * pass 3 writes; the log-ratio is recomputed in each pass instead of stored, so
 * the outputs may alias the inputs element for element. */
#include "ref_backend.h"

#include <math.h>

/* Input x after the optional AFFINE(s, 0) (s == 0: none), as ref's unary op rounds it. */
static float scaled(float x, float s) { return s != 0.0f ? s * x + 0.0f : x; }

/* The log-ratio r of element i after NAN_TO (±inf left as they are). */
static float log_ratio(const mb_forget_args *a, const float *ff, const float *fr, size_t i)
{
  const float lf = (float)log((double)scaled(ff[i], a->scale_forget));
  const float lr = (float)log((double)scaled(fr[i], a->scale_remain));
  const float r = 1.0f * lf + -1.0f * lr;   /* binary AXPBY(1, −1) */
  return isnan(r) ? 0.0f : r;
}

/* η of element i given the segment's largest finite log-ratio m. */
static float eta_of(const mb_forget_args *a, const float *ff, const float *fr, size_t i, float m)
{
  float r = log_ratio(a, ff, fr, i);
  if (isinf(r)) r = m;                      /* seg_bcast INF_TO */
  return (float)exp((double)r);             /* unary EXP */
}

void ref_forget_update(mb_backend *be, const mb_forget_args *a)
{
  if (be->status != MB_OK) return;
  const float *ff = host_f32(a->f_forget), *fr = host_f32(a->f_remain), *w = host_f32(a->w);
  float *delta = ref_is_none(a->delta) ? NULL : host_f32(a->delta);
  float *plus = ref_is_none(a->plus) ? NULL : host_f32(a->plus);
  float *minus = ref_is_none(a->minus) ? NULL : host_f32(a->minus);
  for (int s = 0; s < a->nseg; s++) {
    const size_t b = a->offs[s], e = a->offs[s + 1];
    float m = -INFINITY;                    /* seg_reduce MAX_FINITE */
    for (size_t i = b; i < e; i++) {
      const float r = log_ratio(a, ff, fr, i);
      if (isfinite(r) && r > m) m = r;
    }
    float top = -INFINITY;                  /* seg_reduce MAX (η is never NaN) */
    for (size_t i = b; i < e; i++) {
      const float eta = eta_of(a, ff, fr, i, m);
      if (eta > top) top = eta;
    }
    const float inv = 1.0f / top;                        /* RECIP */
    const float capped = a->lambda2 * inv + 0.0f;        /* AFFINE(λ2, 0) */
    const float alpha = a->lambda1 < capped ? a->lambda1 : capped;   /* MIN_S(λ1) */
    for (size_t i = b; i < e; i++) {
      const float d = eta_of(a, ff, fr, i, m) * alpha;      /* seg_bcast MUL */
      const float wi = w[i];
      if (delta) delta[i] = d;
      if (plus) plus[i] = 1.0f * wi + 1.0f * d;          /* AXPBY(1, 1) */
      if (minus) minus[i] = 1.0f * wi + -1.0f * d;       /* AXPBY(1, −1) */
    }
  }
}
