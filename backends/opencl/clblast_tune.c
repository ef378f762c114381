/* mnemobench-clblast-tune: measures CLBlast's GEMM kernel parameters on one OpenCL
 * device and writes the fastest set as a tuning file that the OpenCL backend
 * applies when it opens that device (clblast_tuning.h, docs/opencl-tuning.md).
 *
 * CLBlast ships tuned parameters only for the devices in its database; any other
 * device (pocl on a CPU, a new GPU) gets generic defaults.  The search is random
 * over valid parameter sets, in three phases within a time budget: the main GEMM
 * kernel (Xgemm, the routine forced onto its indirect path) on mnemobench's large
 * GEMM shapes, the direct kernel (XgemmDirect) on its small ones, then the size at
 * which the routine switches from direct to indirect.  Every candidate's result is
 * checked against an f64 host product with the agreement suite's GEMM tolerance;
 * a set that fails (or does not build) is dropped.  Times are whole CLBlastSgemm
 * calls (pad/transpose kernels included), host clock after clFinish, median of 3
 * after one warm-up call. */
#include "cl_backend.h"
#include "clblast_tuning.h"

#include <clblast_c.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* the agreement suite's GEMM class (harness/agree_tolerances.h): NMSE, max error / max |ref| */
#define TOL_NMSE 2e-11
#define TOL_MAX 3e-5
#define REPEATS 3
#define DIRECT_ALWAYS 100000   /* XGEMM_MIN_INDIRECT_SIZE: m·n·k < this³ runs direct */

typedef struct {
  int m, n, k, ta, tb;
  int small;              /* a shape for the direct kernel */
  const char *what;
  cl_mem a, b, c;
  double *ref;            /* f64 host product, m×n */
  float *out;
} shape;

static shape g_shapes[] = {
  {128, 1000, 784, 0, 1, 0, "MLP forward, batch 128", 0, 0, 0, 0, 0},
  {1000, 784, 128, 1, 0, 0, "MLP weight gradient", 0, 0, 0, 0, 0},
  {128, 784, 1000, 0, 0, 0, "MLP input gradient", 0, 0, 0, 0, 0},
  {64, 784, 576, 0, 0, 0, "3x3 conv, 64 channels, 28x28 (im2col)", 0, 0, 0, 0, 0},
  {10, 1000, 784, 0, 1, 1, "MLP forward of 10 codes", 0, 0, 0, 0, 0},
  {1000, 784, 10, 1, 0, 1, "squared gradients of 10 codes", 0, 0, 0, 0, 0},
  {32, 10, 1000, 0, 1, 1, "MLP output layer, batch 32", 0, 0, 0, 0, 0},
};
enum { NSHAPES = sizeof g_shapes / sizeof g_shapes[0] };

static cl_context g_ctx;
static cl_command_queue g_q;
static cl_device_id g_dev;
static size_t g_maxwg, g_local_mem;
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_u64(void)
{
  g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
  return g_rng;
}

static double now_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int setup_shape(shape *s)
{
  size_t na = (size_t)s->m * s->k, nb = (size_t)s->k * s->n, nc = (size_t)s->m * s->n;
  float *a = malloc(na * 4), *b = malloc(nb * 4);
  s->ref = calloc(nc, sizeof *s->ref);
  s->out = malloc(nc * 4);
  if (!a || !b || !s->ref || !s->out) return -1;
  for (size_t i = 0; i < na; i++) a[i] = (float)((int)(next_u64() % 2001) - 1000) / 1000.0f;
  for (size_t i = 0; i < nb; i++) b[i] = (float)((int)(next_u64() % 2001) - 1000) / 1000.0f;
  for (int i = 0; i < s->m; i++)
    for (int j = 0; j < s->n; j++) {
      double acc = 0;
      for (int p = 0; p < s->k; p++) {
        double x = s->ta ? a[(size_t)p * s->m + i] : a[(size_t)i * s->k + p];
        double y = s->tb ? b[(size_t)j * s->k + p] : b[(size_t)p * s->n + j];
        acc += x * y;
      }
      s->ref[(size_t)i * s->n + j] = acc;
    }
  cl_int e1, e2, e3;
  s->a = clCreateBuffer(g_ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, na * 4, a, &e1);
  s->b = clCreateBuffer(g_ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, nb * 4, b, &e2);
  s->c = clCreateBuffer(g_ctx, CL_MEM_READ_WRITE, nc * 4, NULL, &e3);
  free(a);
  free(b);
  return e1 || e2 || e3 ? -1 : 0;
}

static int run_gemm(shape *s)
{
  size_t lda = s->ta ? (size_t)s->m : (size_t)s->k, ldb = s->tb ? (size_t)s->k : (size_t)s->n;
  CLBlastStatusCode st = CLBlastSgemm(
      CLBlastLayoutRowMajor, s->ta ? CLBlastTransposeYes : CLBlastTransposeNo,
      s->tb ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)s->m, (size_t)s->n, (size_t)s->k,
      1.0f, s->a, 0, lda, s->b, 0, ldb, 0.0f, s->c, 0, (size_t)s->n, &g_q, NULL);
  return st == CLBlastSuccess && clFinish(g_q) == CL_SUCCESS ? 0 : -1;
}

static int verify(shape *s)
{
  size_t nc = (size_t)s->m * s->n;
  if (clEnqueueReadBuffer(g_q, s->c, CL_TRUE, 0, nc * 4, s->out, 0, NULL, NULL)) return -1;
  double se = 0, sr = 0, emax = 0, rmax = 0;
  for (size_t i = 0; i < nc; i++) {
    double d = (double)s->out[i] - s->ref[i];
    if (!isfinite(s->out[i])) return -1;
    se += d * d, sr += s->ref[i] * s->ref[i];
    if (fabs(d) > emax) emax = fabs(d);
    if (fabs(s->ref[i]) > rmax) rmax = fabs(s->ref[i]);
  }
  return se <= TOL_NMSE * sr && emax <= TOL_MAX * rmax ? 0 : -1;
}

static int cmp_dbl(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median ms of one shape with the parameters in force; < 0: failed or wrong. */
static double time_shape(shape *s)
{
  if (run_gemm(s) || verify(s)) return -1;
  double t[REPEATS];
  for (int r = 0; r < REPEATS; r++) {
    double t0 = now_s();
    if (run_gemm(s)) return -1;
    t[r] = (now_s() - t0) * 1e3;
  }
  qsort(t, REPEATS, sizeof t[0], cmp_dbl);
  return t[REPEATS / 2];
}

/* Geometric mean over the selected shapes of time / base time (ms[] gets each time);
 * < 0 when a shape fails. */
static double score(int which, const double *base, double *ms)
{
  double lsum = 0;
  int n = 0;
  for (int i = 0; i < NSHAPES; i++) {
    if (which >= 0 && g_shapes[i].small != which) continue;
    double t = time_shape(&g_shapes[i]);
    if (t < 0) return -1;
    if (ms) ms[i] = t;
    lsum += log(t / base[i]);
    n++;
  }
  return exp(lsum / n);
}

static int apply(const mb_clt_kernel *k)
{
  mb_clt_file f = {.nkernels = 1};
  f.kernels[0] = *k;
  char why[256];
  return mb_clt_apply(g_dev, &f, why, sizeof why);
}

static int routine(size_t min_indirect)
{
  mb_clt_kernel k = {.kernel = "GemmRoutine"};
  mb_clt_set(&k, "XGEMM_MIN_INDIRECT_SIZE", min_indirect);
  return apply(&k);
}

/* Back to CLBlast's own parameters, then the chosen sets (overrides live in
 * CLBlast's cache, which ClearCache empties). */
static void reset_to(const mb_clt_kernel *x, const mb_clt_kernel *d)
{
  CLBlastClearCache();
  if (x && x->nparams) apply(x);
  if (d && d->nparams) apply(d);
}

static size_t pick(const size_t *v, int n) { return v[next_u64() % (uint64_t)n]; }
#define PICK(arr) pick(arr, (int)(sizeof arr / sizeof arr[0]))

static int multiple(size_t x, size_t of) { return of && x % of == 0; }

/* Xgemm's parameters, in the order of the value lists below. */
static const char *const k_xgemm_names[16] = {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC",
                                              "MWG", "NDIMB", "NDIMC", "NWG", "SA", "SB",
                                              "STRM", "STRN", "VWM", "VWN"};

/* A random valid Xgemm set (kernel 0 of CLBlast's two GEMM kernels). */
static int random_xgemm(mb_clt_kernel *k)
{
  static const size_t wg[] = {16, 32, 64, 128}, kwg[] = {16, 32}, dim[] = {8, 16, 32},
                      kwi[] = {2, 8}, vw[] = {1, 2, 4, 8}, bit[] = {0, 1};
  for (int tries = 0; tries < 100000; tries++) {
    size_t mwg = PICK(wg), nwg = PICK(wg), kw = PICK(kwg), mdimc = PICK(dim), ndimc = PICK(dim);
    size_t mdima = PICK(dim), ndimb = PICK(dim), ki = PICK(kwi), vwm = PICK(vw), vwn = PICK(vw);
    size_t sa = PICK(bit), sb = PICK(bit), strm = PICK(bit), strn = PICK(bit);
    if (!multiple(mwg, mdimc * vwm) || !multiple(nwg, ndimc * vwn) ||
        !multiple(mwg, mdima * vwm) || !multiple(nwg, ndimb * vwn) ||
        !multiple(kw, mdimc * ndimc / mdima) || !multiple(kw, mdimc * ndimc / ndimb) ||
        !multiple(kw, ki) || mdimc * ndimc > g_maxwg ||
        (sa * kw * mwg + sb * kw * nwg) * 4 > g_local_mem)
      continue;
    *k = (mb_clt_kernel){.kernel = "Xgemm"};
    size_t vals[] = {0, 1, kw, ki, mdima, mdimc, mwg, ndimb, ndimc, nwg, sa, sb, strm, strn, vwm,
                     vwn};
    for (int i = 0; i < 16; i++) mb_clt_set(k, k_xgemm_names[i], vals[i]);
    return 0;
  }
  return -1;
}

/* A random valid XgemmDirect set. */
static int random_direct(mb_clt_kernel *k)
{
  static const size_t wgd[] = {8, 16, 32, 64}, dim[] = {8, 16, 32}, kwi[] = {2, 8},
                      vw[] = {1, 2, 4, 8}, bit[] = {0, 1};
  for (int tries = 0; tries < 100000; tries++) {
    size_t w = PICK(wgd), mdimc = PICK(dim), ndimc = PICK(dim), mdima = PICK(dim);
    size_t ndimb = PICK(dim), ki = PICK(kwi), vwm = PICK(vw), vwn = PICK(vw);
    size_t pa = PICK(bit), pb = PICK(bit);
    if (!multiple(w, mdimc * vwm) || !multiple(w, ndimc * vwn) || !multiple(w, mdima * vwm) ||
        !multiple(w, ndimb * vwn) || !multiple(w, ki) || !multiple(w, mdimc * ndimc / mdima) ||
        !multiple(w, mdimc * ndimc / ndimb) || mdimc * ndimc > g_maxwg ||
        (w * (w + pa) + w * (w + pb)) * 4 > g_local_mem)
      continue;
    *k = (mb_clt_kernel){.kernel = "XgemmDirect"};
    const char *names[] = {"KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD", "PADA", "PADB",
                           "VWMD", "VWND", "WGD"};
    size_t vals[] = {ki, mdima, mdimc, ndimb, ndimc, pa, pb, vwm, vwn, w};
    for (int i = 0; i < 10; i++) mb_clt_set(k, names[i], vals[i]);
    return 0;
  }
  return -1;
}

/* Sets that suit CPUs under pocl (wide work per item, no local memory) and the
 * usual GPU shape (16×16 items, local memory), tried before the random ones. */
static void seeded_xgemm(int i, mb_clt_kernel *k)
{
  static const size_t sets[][16] = {
    /* GEMMK KREG KWG KWI MDIMA MDIMC MWG NDIMB NDIMC NWG SA SB STRM STRN VWM VWN */
    {0, 1, 32, 2, 8, 8, 64, 8, 8, 128, 0, 0, 0, 0, 2, 8},
    {0, 1, 16, 2, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 4, 4},
    {0, 1, 16, 2, 16, 16, 64, 16, 16, 64, 1, 1, 0, 0, 2, 2},
    {0, 1, 32, 2, 16, 16, 128, 16, 16, 128, 1, 1, 1, 1, 4, 4},
  };
  *k = (mb_clt_kernel){.kernel = "Xgemm"};
  for (int p = 0; p < 16; p++) mb_clt_set(k, k_xgemm_names[p], sets[i][p]);
}
enum { NSEEDED = 4 };

static void usage(FILE *f)
{
  fprintf(f,
          "usage: mnemobench-clblast-tune [--device N] [--seconds S] [--out FILE] [--seed N]\n"
          "  Measures CLBlast's GEMM parameters on OpenCL device N (as `mnemobench devices`\n"
          "  numbers them; default 0) for about S seconds (default 300; then the switch between\n"
          "  CLBlast's direct and indirect GEMM is measured at 5 sizes) and writes the fastest\n"
          "  set to FILE (default: the path the OpenCL backend looks in,\n"
          "  ${XDG_CACHE_HOME:-~/.cache}/mnemobench/clblast/DEVICE-DRIVER.tune).  Writes nothing\n"
          "  when CLBlast's own parameters are as fast.  MB_CLBLAST_TUNING=none turns a file off.\n");
}

int main(int argc, char **argv)
{
  int device = 0;
  double budget = 300;
  const char *out = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--device") && v) {
      device = (int)strtol(v, &end, 10), i++;
    } else if (!strcmp(a, "--seconds") && v) {
      budget = strtod(v, &end), i++;
      if (!(budget > 0)) end = (char *)v;
    } else if (!strcmp(a, "--seed") && v) {
      g_rng ^= strtoull(v, &end, 10) * 0x2545F4914F6CDD1Dull, i++;
    } else if (!strcmp(a, "--out") && v) {
      out = v, i++;
      end = (char *)"";
    } else {
      fprintf(stderr, "mnemobench-clblast-tune: unknown or incomplete option '%s'\n", a);
      usage(stderr);
      return 2;
    }
    if (!end || *end) {
      fprintf(stderr, "mnemobench-clblast-tune: bad value '%s' for %s\n", v, a);
      return 2;
    }
  }
  if (!g_rng) g_rng = 1;

  char why[512];
  cl_platform_id plat;
  if (mb_cl_find_device(device, &plat, &g_dev, why, sizeof why) != MB_OK) {
    fprintf(stderr, "mnemobench-clblast-tune: %s\n", why);
    return 1;
  }
  mb_device_info info;
  memset(&info, 0, sizeof info);
  mb_cl_device_info(plat, g_dev, &info);
  char path[1024];
  if (out) snprintf(path, sizeof path, "%s", out);
  else if (!mb_clt_default_path(&info, path, sizeof path)) {
    fprintf(stderr, "mnemobench-clblast-tune: no HOME or XDG_CACHE_HOME; give --out FILE\n");
    return 2;
  }
  cl_ulong lmem = 0;
  clGetDeviceInfo(g_dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof g_maxwg, &g_maxwg, NULL);
  clGetDeviceInfo(g_dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof lmem, &lmem, NULL);
  g_local_mem = (size_t)lmem;
  cl_int err;
  g_ctx = clCreateContext(NULL, 1, &g_dev, NULL, NULL, &err);
  if (err == CL_SUCCESS) g_q = clCreateCommandQueue(g_ctx, g_dev, 0, &err);
  if (err != CL_SUCCESS) {
    fprintf(stderr, "mnemobench-clblast-tune: %s: cannot create a context/queue: %s (%d)\n",
            info.name, mb_cl_errstr(err), (int)err);
    return 1;
  }
  for (int i = 0; i < NSHAPES; i++)
    if (setup_shape(&g_shapes[i])) {
      fprintf(stderr, "mnemobench-clblast-tune: out of memory setting up the shapes\n");
      return 1;
    }
  printf("device %s, driver %s; budget %.0f s\n", info.name, info.driver, budget);

  /* CLBlast's own parameters (database entry or defaults), its own routine choice */
  double t_start = now_s(), base[NSHAPES], best_ms[NSHAPES], def_ms[NSHAPES];
  for (int i = 0; i < NSHAPES; i++) base[i] = 1.0;
  if (score(-1, base, def_ms) < 0) {
    fprintf(stderr, "mnemobench-clblast-tune: CLBlast's own parameters fail on %s\n", info.name);
    return 1;
  }
  memcpy(base, def_ms, sizeof base);

  /* phase 1: Xgemm on the large shapes, indirect path forced */
  mb_clt_kernel best_x = {0}, best_d = {0}, cand;
  double best = 1e300;
  int tried = 0, failed = 0;
  if (!routine(0)) {
    double until = t_start + budget * 0.55;
    best = score(0, base, NULL);   /* CLBlast's own Xgemm parameters */
    if (best < 0) best = 1e300;
    for (int i = 0; now_s() < until || i == 0; i++) {
      if (i < NSEEDED) seeded_xgemm(i, &cand);
      else if (random_xgemm(&cand)) break;
      tried++;
      double sc = apply(&cand) ? -1 : score(0, base, NULL);
      if (sc < 0) failed++;
      else if (sc < best) best = sc, best_x = cand;
    }
  }
  printf("Xgemm: %d sets tried (%d failed or wrong); best %.3f of CLBlast's time%s\n", tried, failed,
         best < 1e300 ? best : NAN, best_x.nparams ? "" : " (CLBlast's own set)");
  reset_to(&best_x, NULL);

  /* phase 2: XgemmDirect on the small shapes, direct path forced */
  best = 1e300, tried = failed = 0;
  if (!routine(DIRECT_ALWAYS)) {
    double until = t_start + budget * 0.85;
    best = score(1, base, NULL);   /* CLBlast's own XgemmDirect parameters */
    if (best < 0) best = 1e300;
    for (int i = 0; now_s() < until || i == 0; i++) {
      if (random_direct(&cand)) break;
      tried++;
      double sc = apply(&cand) ? -1 : score(1, base, NULL);
      if (sc < 0) failed++;
      else if (sc < best) best = sc, best_d = cand;
    }
  }
  printf("XgemmDirect: %d sets tried (%d failed or wrong); best %.3f of CLBlast's time%s\n",
         tried, failed, best < 1e300 ? best : NAN, best_d.nparams ? "" : " (CLBlast's own set)");
  reset_to(&best_x, &best_d);

  /* phase 3: where the routine switches, over all shapes */
  static const size_t switch_at[] = {0, 128, 256, 384, DIRECT_ALWAYS};
  size_t best_switch = 0;
  best = 1e300;
  for (size_t i = 0; i < sizeof switch_at / sizeof switch_at[0]; i++) {
    double ms[NSHAPES];
    double sc = routine(switch_at[i]) ? -1 : score(-1, base, ms);
    if (sc >= 0 && sc < best) best = sc, best_switch = switch_at[i], memcpy(best_ms, ms, sizeof ms);
  }
  if (best >= 1e300) {
    fprintf(stderr, "mnemobench-clblast-tune: no tuned set passed on %s\n", info.name);
    return 1;
  }

  char lines[NSHAPES + 1][200];
  const char *measured[NSHAPES + 1];
  printf("%-40s %8s %8s %7s\n", "shape (M×N×K)", "CLBlast", "tuned", "speed-up");
  for (int i = 0; i < NSHAPES; i++) {
    const shape *s = &g_shapes[i];
    snprintf(lines[i], sizeof lines[i], "%dx%dx%d%s%s %.3f ms -> %.3f ms (%s)", s->m, s->n, s->k,
             s->ta ? " A^T" : "", s->tb ? " B^T" : "", def_ms[i], best_ms[i], s->what);
    measured[i] = lines[i];
    printf("%5dx%5dx%5d%-4s%-4s %-20.20s %8.3f %8.3f %6.2fx\n", s->m, s->n, s->k, s->ta ? " A^T" : "",
           s->tb ? " B^T" : "", s->what, def_ms[i], best_ms[i], def_ms[i] / best_ms[i]);
  }
  printf("geometric mean: tuned takes %.3f of CLBlast's time (%.0f s of tuning)\n", best,
         now_s() - t_start);
  if (best > 0.98) {
    printf("CLBlast's own parameters are as fast here: no tuning file written\n");
    return 0;
  }
  snprintf(lines[NSHAPES], sizeof lines[NSHAPES],
           "geometric mean %.3f of CLBlast's time; whole CLBlastSgemm calls, host clock, median of %d",
           best, REPEATS);
  measured[NSHAPES] = lines[NSHAPES];

  mb_clt_file f = {0};
  snprintf(f.device, sizeof f.device, "%s", info.name);
  snprintf(f.driver, sizeof f.driver, "%s", info.driver);
  if (best_x.nparams) f.kernels[f.nkernels++] = best_x;
  if (best_d.nparams) f.kernels[f.nkernels++] = best_d;
  mb_clt_kernel r = {.kernel = "GemmRoutine"};
  mb_clt_set(&r, "XGEMM_MIN_INDIRECT_SIZE", best_switch);
  f.kernels[f.nkernels++] = r;
  if (mb_clt_write(path, &f, measured, NSHAPES + 1, why, sizeof why)) {
    fprintf(stderr, "mnemobench-clblast-tune: %s\n", why);
    return 1;
  }
  printf("wrote %s\n", path);
  return 0;
}
