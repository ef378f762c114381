/* Optional forgetting update (mb_forget_args): the op chain of the mnemonic method
 * fused into three OpenMP loops per segment (the log-ratio and its largest finite
 * value, η and its largest value, then δ and the candidates) instead of about
 * fifteen passes over memory.  Each step is written as this backend's own unary,
 * binary and segmented ops write it (logf, expf, f32 as written, -ffp-contract=off),
 * so the result is the chain's bit for bit; the maxima are exact whatever the split
 * between threads.  The log-ratio and then η are kept in one of the outputs, so
 * each element costs two logf and one expf (the transcendental calls are most of
 * the time); an output may alias an input element for element because each loop
 * reads an element's inputs before it writes that element. */
#include "cpu_backend.h"

#include <float.h>
#include <math.h>

/* The log-ratio after NAN_TO (±inf kept): LOG, LOG, AXPBY(1, −1), NAN_TO(0). */
static inline float log_ratio(const float *ff, const float *fr, size_t i)
{
  const float r = 1.0f * logf(ff[i]) + -1.0f * logf(fr[i]);
  return isnan(r) ? 0.0f : r;
}

void cpu_forget_update(mb_backend *be, const mb_forget_args *a)
{
  if (be->status != MB_OK) return;
  const float *ff = host_f32(a->f_forget), *fr = host_f32(a->f_remain), *w = host_f32(a->w);
  float *delta = cpu_is_none(a->delta) ? NULL : host_f32(a->delta);
  float *plus = cpu_is_none(a->plus) ? NULL : host_f32(a->plus);
  float *minus = cpu_is_none(a->minus) ? NULL : host_f32(a->minus);
  /* t holds r, then η: any output will do, since w is never an output */
  float *t = delta ? delta : plus ? plus : minus;
  if (!t) return;
  for (int s = 0; s < a->nseg; s++) {
    const size_t lo = a->offs[s], hi = a->offs[s + 1];
    const int team = hi - lo >= CPU_PAR_MIN_MATH;
    (void)team;
    float m = -INFINITY;   /* seg_reduce MAX_FINITE */
    CPU_OMP(omp parallel for if (team) schedule(static) reduction(max:m))
    for (size_t i = lo; i < hi; i++) {
      const float r = log_ratio(ff, fr, i);
      t[i] = r;
      m = fabsf(r) <= FLT_MAX && r > m ? r : m;
    }
    float top = -INFINITY;   /* seg_reduce MAX: η is never NaN */
    CPU_OMP(omp parallel for if (team) schedule(static) reduction(max:top))
    for (size_t i = lo; i < hi; i++) {
      const float r = t[i];
      const float eta = expf(isinf(r) ? m : r);                      /* INF_TO(m), EXP */
      t[i] = eta;
      top = eta > top ? eta : top;
    }
    const float inv = 1.0f / top;                                    /* RECIP */
    const float scaled = a->lambda2 * inv + 0.0f;                    /* AFFINE(λ2, 0) */
    const float alpha = a->lambda1 < scaled ? a->lambda1 : scaled;   /* MIN_S(λ1) */
    CPU_OMP(omp parallel for if (team) schedule(static))
    for (size_t i = lo; i < hi; i++) {
      const float d = t[i] * alpha;                                  /* seg_bcast MUL */
      const float wi = w[i];
      if (delta) delta[i] = d;
      if (plus) plus[i] = 1.0f * wi + 1.0f * d;                      /* AXPBY(1, 1) */
      if (minus) minus[i] = 1.0f * wi + -1.0f * d;                   /* AXPBY(1, −1) */
    }
  }
}
