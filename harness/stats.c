/* One statistics helper for every timing (see stats.h). */
#include "harness/stats.h"

#include <math.h>
#include <stdlib.h>

static int cmp_d(const void *x, const void *y)
{
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

mb_stats mb_stats_of(const double *v, int n)
{
  mb_stats s = {NAN, NAN, NAN, NAN, NAN, 0};
  double *t = n > 0 ? malloc(sizeof *t * (size_t)n) : NULL;
  if (!t) return s;
  int k = 0;
  for (int i = 0; i < n; i++)
    if (isfinite(v[i])) t[k++] = v[i];
  if (k) {
    /* mean and std summed in the given order (the digits do not depend on the sort) */
    double sum = 0;
    for (int i = 0; i < k; i++) sum += t[i];
    s.mean = sum / k;
    double q = 0;
    for (int i = 0; i < k; i++) q += (t[i] - s.mean) * (t[i] - s.mean);
    s.std = sqrt(q / k);
    qsort(t, (size_t)k, sizeof *t, cmp_d);
    s.n = k;
    s.med = k % 2 ? t[k / 2] : 0.5 * (t[k / 2 - 1] + t[k / 2]);
    s.min = t[0];
    s.max = t[k - 1];
  }
  free(t);
  return s;
}
