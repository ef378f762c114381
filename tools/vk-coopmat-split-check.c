/* Host emulation of the split-f16 cooperative-matrix GEMM (shaders/gemm_coopmat.comp
 * with -DCM_F16) against an f64 reference, in the agreement suite's measures (NMSE,
 * max|a−r|/max|r|; limits 2e-11 and 3e-5 for GEMM, harness/agree_tolerances.h).
 * Each input x is split as hi = f16(x), lo = f16(x − hi); every 16-deep slice adds
 * Alo·Bhi, Ahi·Blo, Ahi·Bhi into an f32 accumulator (products of f16 values are exact
 * in f32), summed either one product at a time in f32 or exactly per slice and
 * rounded once; plain f16 inputs for comparison.  N(0,1) inputs, the agreement
 * suite's distribution.  Needs a compiler with _Float16 (GCC 12 on x86-64):
 *   cc -O2 tools/vk-coopmat-split-check.c -lm -o /tmp/split && /tmp/split */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double gauss(void)
{
  double u = (rand() + 1.0) / (RAND_MAX + 2.0), v = (rand() + 1.0) / (RAND_MAX + 2.0);
  return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* split: 0 plain f16 inputs, 1 hi/lo; exact: 0 f32 sum per product, 1 per slice */
static void run(size_t m, size_t n, size_t k, int split, int exact)
{
  float *a = malloc(sizeof *a * m * k), *b = malloc(sizeof *b * k * n);
  _Float16 *ah = malloc(sizeof *ah * m * k), *al = malloc(sizeof *al * m * k);
  _Float16 *bh = malloc(sizeof *bh * k * n), *bl = malloc(sizeof *bl * k * n);
  if (!a || !b || !ah || !al || !bh || !bl) exit(1);
  for (size_t i = 0; i < m * k; i++) {
    a[i] = (float)gauss();
    ah[i] = (_Float16)a[i];
    al[i] = (_Float16)(a[i] - (float)ah[i]);
  }
  for (size_t i = 0; i < k * n; i++) {
    b[i] = (float)gauss();
    bh[i] = (_Float16)b[i];
    bl[i] = (_Float16)(b[i] - (float)bh[i]);
  }
  double se = 0, sr = 0, maxe = 0, maxr = 0;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double r = 0;
      for (size_t q = 0; q < k; q++) r += (double)a[i * k + q] * b[q * n + j];
      float acc = 0;
      for (size_t k0 = 0; k0 < k; k0 += 16)
        for (int t = split ? 0 : 2; t < 3; t++) {   /* Alo·Bhi, Ahi·Blo, Ahi·Bhi */
          double s = 0;
          float sf = acc;
          for (size_t q = k0; q < k0 + 16 && q < k; q++) {
            float x = (float)(t == 0 ? al[i * k + q] : ah[i * k + q]);
            float y = (float)(t == 1 ? bl[q * n + j] : bh[q * n + j]);
            if (exact) s += (double)(x * y);
            else sf += x * y;
          }
          acc = exact ? (float)((double)acc + s) : sf;
        }
      double e = (double)acc - r;
      se += e * e;
      sr += r * r;
      maxe = fmax(maxe, fabs(e));
      maxr = fmax(maxr, fabs(r));
    }
  printf("%-5s %-13s %5zux%4zux%4zu  NMSE %.2e  max %.2e\n", split ? "split" : "f16",
         exact ? "slice-exact" : "f32-per-term", m, n, k, se / sr, maxe / maxr);
  free(a); free(b); free(ah); free(al); free(bh); free(bl);
}

int main(void)
{
  /* the MLP's shapes, the longest K and odd shapes of harness/agree_cases.c */
  static const size_t s[][3] = {{128, 1000, 784}, {4, 4, 4608}, {257, 127, 257},
                                {128, 10, 1000}, {1000, 784, 128}, {7, 33, 127}};
  srand(20231);
  for (int exact = 0; exact < 2; exact++)
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) run(s[i][0], s[i][1], s[i][2], 1, exact);
  run(128, 1000, 784, 0, 0);
  return 0;
}
