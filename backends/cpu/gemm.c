/* GEMM through OpenBLAS cblas_sgemm (row-major); batches are a loop of calls.
 *
 * One shape has its own kernel: C = α·A·Bᵀ with β = 0, at most SMALL_M rows of A
 * against at least WIDE_N rows of B of at most LONG_K elements: the forward pass of a
 * few inputs (the 10 mnemonic codes) through a wide dense layer.  OpenBLAS packs all
 * of B (the layer's weights) for it on every call, which costs as much as the
 * multiplication; here each group of four rows of B is read once, from where it lies,
 * against every row of A (AVX2 + FMA, or AVX-512 with the same sums, chosen at run
 * time).  Each element is one fixed-order dot product, whatever the thread count.
 * Narrower B (a classifier head, a narrow conv's filter gradient) stays with OpenBLAS:
 * packing it is cheap. */
#include "cpu_backend.h"

#include <cblas.h>
#include <stdlib.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SMALL_KERNEL 1
#endif

/* The small kernel's shapes (the method's code count is 10; the MLP's layer is 1000 × 784). */
#define SMALL_M 16
#define WIDE_N 256
#define LONG_K 4096

#ifdef SMALL_KERNEL
__attribute__((target("avx2,fma"))) static inline float hsum8(__m256 v)
{
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* Pointers to rows j0 .. j0+3 of B (rows past nj repeat j0; their sums are dropped). */
static inline void rows4(const float *B, int ldb, int j0, int nj, const float *b[4])
{
  for (int t = 0; t < 4; t++) b[t] = B + (size_t)(j0 + (t < nj ? t : 0)) * (size_t)ldb;
}

/* C[i, j0+t] = α·(sum of the lanes of s[t], then the k % W tail in order). */
static inline void store4(float *C, int ldc, int i, int j0, int nj, const float r0[4],
                          const float *a, const float *const b[4], int kw, int k, float alpha)
{
  for (int t = 0; t < nj; t++) {
    float r = r0[t];
    for (int p = kw; p < k; p++) r = __builtin_fmaf(a[p], b[t][p], r);
    C[(size_t)i * (size_t)ldc + (size_t)(j0 + t)] = alpha * r;
  }
}

/* Rows j0 .. j0+nj-1 (nj ≤ 4) of B against every row of A, two rows of A at a time:
 * 8 lanes of FMAs along k per element, their sum, then the tail. */
__attribute__((target("avx2,fma"))) static void block_avx2(int m, int k, float alpha,
                                                          const float *A, int lda,
                                                          const float *B, int ldb, float *C,
                                                          int ldc, int j0, int nj)
{
  const float *b[4];
  rows4(B, ldb, j0, nj, b);
  const int kw = k & ~7;
  int i = 0;
  for (; i + 1 < m; i += 2) {
    const float *a0 = A + (size_t)i * (size_t)lda, *a1 = a0 + lda;
    __m256 s[8];
    for (int t = 0; t < 8; t++) s[t] = _mm256_setzero_ps();
    for (int p = 0; p < kw; p += 8) {
      const __m256 x0 = _mm256_loadu_ps(a0 + p), x1 = _mm256_loadu_ps(a1 + p);
      for (int t = 0; t < 4; t++) {
        const __m256 y = _mm256_loadu_ps(b[t] + p);
        s[t] = _mm256_fmadd_ps(x0, y, s[t]);
        s[4 + t] = _mm256_fmadd_ps(x1, y, s[4 + t]);
      }
    }
    const float r0[4] = {hsum8(s[0]), hsum8(s[1]), hsum8(s[2]), hsum8(s[3])};
    const float r1[4] = {hsum8(s[4]), hsum8(s[5]), hsum8(s[6]), hsum8(s[7])};
    store4(C, ldc, i, j0, nj, r0, a0, b, kw, k, alpha);
    store4(C, ldc, i + 1, j0, nj, r1, a1, b, kw, k, alpha);
  }
  for (; i < m; i++) {
    const float *a0 = A + (size_t)i * (size_t)lda;
    __m256 s[4];
    for (int t = 0; t < 4; t++) s[t] = _mm256_setzero_ps();
    for (int p = 0; p < kw; p += 8) {
      const __m256 x0 = _mm256_loadu_ps(a0 + p);
      for (int t = 0; t < 4; t++) s[t] = _mm256_fmadd_ps(x0, _mm256_loadu_ps(b[t] + p), s[t]);
    }
    const float r0[4] = {hsum8(s[0]), hsum8(s[1]), hsum8(s[2]), hsum8(s[3])};
    store4(C, ldc, i, j0, nj, r0, a0, b, kw, k, alpha);
  }
}

/* The same sums with AVX-512: two rows of B share a register (the low and the high 8
 * lanes), so every element still has the AVX2 kernel's 8 lanes, in the same order, and
 * the same bits; half the FMA instructions. */
__attribute__((target("avx512f,avx2,fma"))) static inline __m512 pair8(const float *lo,
                                                                     const float *hi)
{
  const __m256d h = _mm256_castps_pd(_mm256_loadu_ps(hi));
  return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(_mm256_loadu_ps(lo))), h, 1));
}

__attribute__((target("avx512f,avx2,fma"))) static inline __m512 bcast8(const float *x)
{
  return _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(x))));
}

__attribute__((target("avx512f,avx2,fma"))) static inline void sums4(__m512 s01, __m512 s23,
                                                                    float r[4])
{
  r[0] = hsum8(_mm512_castps512_ps256(s01));
  r[1] = hsum8(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s01), 1)));
  r[2] = hsum8(_mm512_castps512_ps256(s23));
  r[3] = hsum8(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s23), 1)));
}

__attribute__((target("avx512f,avx2,fma"))) static void block_avx512(int m, int k, float alpha,
                                                                    const float *A, int lda,
                                                                    const float *B, int ldb,
                                                                    float *C, int ldc, int j0,
                                                                    int nj)
{
  const float *b[4];
  rows4(B, ldb, j0, nj, b);
  const int kw = k & ~7;
  int i = 0;
  for (; i + 1 < m; i += 2) {
    const float *a0 = A + (size_t)i * (size_t)lda, *a1 = a0 + lda;
    __m512 s01 = _mm512_setzero_ps(), s23 = s01, t01 = s01, t23 = s01;
    for (int p = 0; p < kw; p += 8) {
      const __m512 x0 = bcast8(a0 + p), x1 = bcast8(a1 + p);
      const __m512 y01 = pair8(b[0] + p, b[1] + p), y23 = pair8(b[2] + p, b[3] + p);
      s01 = _mm512_fmadd_ps(x0, y01, s01);
      s23 = _mm512_fmadd_ps(x0, y23, s23);
      t01 = _mm512_fmadd_ps(x1, y01, t01);
      t23 = _mm512_fmadd_ps(x1, y23, t23);
    }
    float r0[4], r1[4];
    sums4(s01, s23, r0);
    sums4(t01, t23, r1);
    store4(C, ldc, i, j0, nj, r0, a0, b, kw, k, alpha);
    store4(C, ldc, i + 1, j0, nj, r1, a1, b, kw, k, alpha);
  }
  for (; i < m; i++) {
    const float *a0 = A + (size_t)i * (size_t)lda;
    __m512 s01 = _mm512_setzero_ps(), s23 = s01;
    for (int p = 0; p < kw; p += 8) {
      const __m512 x0 = bcast8(a0 + p);
      s01 = _mm512_fmadd_ps(x0, pair8(b[0] + p, b[1] + p), s01);
      s23 = _mm512_fmadd_ps(x0, pair8(b[2] + p, b[3] + p), s23);
    }
    float r0[4];
    sums4(s01, s23, r0);
    store4(C, ldc, i, j0, nj, r0, a0, b, kw, k, alpha);
  }
}

static int have_avx512f(void)
{
  static int known = -1;
  if (known < 0) {
    __builtin_cpu_init();
    known = __builtin_cpu_supports("avx512f");
  }
  return known;
}

static int have_avx2_fma(void)
{
  static int known = -1;
  if (known < 0) {
    __builtin_cpu_init();
    known = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
  return known;
}

static void small_gemm(int m, int n, int k, float alpha, const float *A, int lda, const float *B,
                       int ldb, float *C, int ldc)
{
  const int blocks = (n + 3) / 4;
  /* a team from about a million multiply-adds (the forward GEMM of 10 codes is 7.8 M) */
  const int team = (size_t)m * (size_t)n * (size_t)k >= ((size_t)1 << 20);
  (void)team;
  const int wide = have_avx512f();
  CPU_OMP(omp parallel for if (team) schedule(static))
  for (int blk = 0; blk < blocks; blk++) {
    const int j0 = 4 * blk, nj = n - j0 < 4 ? n - j0 : 4;
    if (wide) block_avx512(m, k, alpha, A, lda, B, ldb, C, ldc, j0, nj);
    else block_avx2(m, k, alpha, A, lda, B, ldb, C, ldc, j0, nj);
  }
}
#endif

/* The small kernel takes this GEMM (decided on the whole shape, so that a block of rows
 * gets the bits the whole call would give). */
static int takes_small(const mb_gemm_args *a)
{
#ifdef SMALL_KERNEL
  return !a->trans_a && a->trans_b && a->beta == 0.0f && a->m <= SMALL_M && a->n >= WIDE_N &&
         a->k > 0 && a->k <= LONG_K && have_avx2_fma();
#else
  (void)a;
  return 0;
#endif
}

/* Rows i0 .. i0 + rows − 1 of item bi of a into C (row stride ldc).  Inside a parallel
 * region OpenBLAS runs on the calling thread, and the small kernel's team is not nested. */
static void gemm_rows(const mb_gemm_args *a, int small, int bi, int i0, int rows, float *C,
                      int ldc)
{
  const float *A = host_f32(a->a) + (size_t)bi * (size_t)a->stride_a;
  const float *B = host_f32(a->b) + (size_t)bi * (size_t)a->stride_b;
  A += a->trans_a ? (size_t)i0 : (size_t)i0 * (size_t)a->lda;
#ifdef SMALL_KERNEL
  if (small) {
    small_gemm(rows, a->n, a->k, a->alpha, A, a->lda, B, a->ldb, C, ldc);
    return;
  }
#else
  (void)small;
#endif
  /* OpenBLAS scales C by beta before accumulating; with beta == 0 it writes zeros
   * without reading C, so NaN there does not propagate (checked by the unit tests). */
  cblas_sgemm(CblasRowMajor, a->trans_a ? CblasTrans : CblasNoTrans,
              a->trans_b ? CblasTrans : CblasNoTrans, rows, a->n, a->k, a->alpha, A, a->lda, B,
              a->ldb, a->beta, C, ldc);
}

void cpu_gemm(mb_backend *be, const mb_gemm_args *a)
{
  if (be->status != MB_OK) return;
  const int small = takes_small(a);
  for (int bi = 0; bi < a->batch; bi++)
    gemm_rows(a, small, bi, 0, a->m, host_f32(a->c) + (size_t)bi * (size_t)a->stride_c, a->ldc);
}

/* Squares of the items into acc, element order as the generic composition's: each
 * element of an item is the same GEMM sum (same kernel, same K blocking), squared,
 * rounded, added in sample order.  Two ways:
 *  - tiles (short K, the per-sample gradients of late conv layers and of transformer
 *    linears over few tokens): a tile of acc of TILE_BYTES and the same rows of one item
 *    stay in L2 while every sample's rows are made and squared into it, one tile per
 *    thread, where the composition writes each item whole (zeroed first by OpenBLAS),
 *    reads it back, and reads and writes acc once per sample.  Each tile packs op(B)
 *    again, k·n per sample: cheap only while k is short against the tile's rows.
 *  - whole items (long K): each item by one threaded GEMM into scratch, then squared
 *    into acc; the item is small against its GEMM's work. */
#define TILE_BYTES (64 * 1024)

static void sq_add(float *y, const float *c, size_t len)
{
  CPU_OMP(omp parallel for simd if (len >= CPU_PAR_MIN) schedule(static))
  for (size_t i = 0; i < len; i++) y[i] = y[i] + 1.0f * (c[i] * c[i]);
}

static int sq_tiles(const mb_gemm_args *g, int small, int groups, int rows, float *acc)
{
  const int samples = g->batch / groups, n = g->n;
  const int per_group = (g->m + rows - 1) / rows, tiles = per_group * groups;
  int failed = 0;
  CPU_OMP(omp parallel if (tiles > 1))
  {
    float *c = malloc((size_t)rows * (size_t)n * sizeof *c);
    if (!c) {
      CPU_OMP(omp atomic write)
      failed = 1;
    }
    CPU_OMP(omp for schedule(dynamic))
    for (int t = 0; t < tiles; t++) {
      if (!c) continue;
      const int grp = t / per_group, i0 = (t % per_group) * rows;
      const int nr = g->m - i0 < rows ? g->m - i0 : rows;
      float *y = acc + ((size_t)grp * (size_t)g->m + (size_t)i0) * (size_t)n;
      for (int smp = 0; smp < samples; smp++) {
        gemm_rows(g, small, smp * groups + grp, i0, nr, c, n);
        for (size_t i = 0; i < (size_t)nr * (size_t)n; i++) y[i] = y[i] + 1.0f * (c[i] * c[i]);
      }
    }
    free(c);
  }
  return failed ? -1 : 0;
}

void cpu_gemm_sq_acc(mb_backend *be, const mb_gemm_sq_args *s)
{
  if (be->status != MB_OK) return;
  mb_gemm_args g = s->g;
  g.beta = 0.0f;
  const int small = takes_small(&g), threads = ((cpu_backend *)be)->threads;
  const size_t mn = (size_t)g.m * (size_t)g.n;
  float *acc = host_f32(s->acc);
  /* rows per tile: within TILE_BYTES, and two tiles per thread where m allows */
  int rows = (int)(TILE_BYTES / sizeof(float) / (size_t)g.n);
  const int spread = (g.m * s->groups + 2 * threads - 1) / (2 * threads);
  if (rows > spread) rows = spread;
  if (rows > g.m) rows = g.m;
  if (rows < 1) rows = 1;
  size_t need = (size_t)rows * (size_t)g.n;
  if (g.k <= 4 * rows) {
    if (sq_tiles(&g, small, s->groups, rows, acc) == 0) return;
  } else {
    need = mn;
    float *c = malloc(mn * sizeof *c);
    for (int bi = 0; c && bi < g.batch; bi++) {
      gemm_rows(&g, small, bi, 0, g.m, c, g.n);
      sq_add(acc + (size_t)(bi % s->groups) * mn, c, mn);
    }
    if (c) {
      free(c);
      return;
    }
  }
  host_fail(be, MB_OOM, "gemm_sq_acc: cannot allocate %zu bytes of scratch", need * sizeof(float));
}
