/* The cpu backend: GEMM through OpenBLAS, every other op an OpenMP loop on host
 * memory.  Lifecycle, memory, ordering, timers and the op table. */
#include "cpu_backend.h"

#include <cblas.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef MB_HAVE_DNNL
/* The op table less the oneDNN conv ops, for an instance where libdnnl did not load. */
static const mb_backend_ops *cpu_ops_without_dnn(void)
{
  static mb_backend_ops t;
  t = mb_cpu_ops;
  t.conv2d_fwd = NULL;
  t.conv2d_bwd_data = NULL;
  t.conv2d_bwd_filter = NULL;
  t.engine = "cpu-fused";
  return &t;
}
#endif

static int cpu_device_count(char *why, size_t why_len)
{
  if (why && why_len) why[0] = '\0';
  return 1;
}

/* MB_THREADS, else every core this process may run on.  0 means a bad MB_THREADS. */
static int thread_count(void)
{
  const char *e = getenv("MB_THREADS");
  if (e && *e) {
    char *end;
    long v = strtol(e, &end, 10);
    return *end == '\0' && v >= 1 && v <= 4096 ? (int)v : 0;
  }
#ifdef _OPENMP
  return omp_get_num_procs();
#else
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
#endif
}

/* "model name" from /proc/cpuinfo (x86), else a generic label. */
#ifdef _OPENMP
/* How libgomp's idle workers wait, as rows record it (it changes timings, never
 * results): "spin N" from GOMP_SPINCOUNT (the registry sets 5000 unless the user chose
 * a policy), else "wait POLICY", else "wait default". */
static void omp_wait(char *buf, size_t len)
{
  const char *spin = getenv("GOMP_SPINCOUNT"), *policy = getenv("OMP_WAIT_POLICY");
  if (spin && *spin)
    snprintf(buf, len, "spin %.10s", spin);
  else
    snprintf(buf, len, "wait %.10s", policy && *policy ? policy : "default");
}
#endif

static void cpu_model(char *out, size_t len)
{
  snprintf(out, len, "unknown CPU");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) != 0) continue;
    char *p = strchr(line, ':');
    if (!p) break;
    p++;
    while (*p == ' ' || *p == '\t') p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == '\n' || p[n - 1] == ' ')) p[--n] = '\0';
    if (n) snprintf(out, len, "%s", p);
    break;
  }
  fclose(f);
}

static mb_status cpu_open(int device, mb_backend **out, char *why, size_t why_len)
{
  *out = NULL;
  if (device != 0) {
    if (why && why_len) snprintf(why, why_len, "cpu has one device (asked for %d)", device);
    return MB_NO_DEVICE;
  }
  int nt = thread_count();
  if (nt < 1) {
    if (why && why_len)
      snprintf(why, why_len, "cpu: MB_THREADS='%s' is not a thread count (1..4096)",
               getenv("MB_THREADS"));
    return MB_DEVICE_ERROR;
  }
  char isa_why[160];
  const cpu_norm_runs *norm = cpu_norm_runs_pick(isa_why, sizeof isa_why);
  if (!norm) {
    if (why && why_len) snprintf(why, why_len, "%s", isa_why);
    return MB_DEVICE_ERROR;
  }
  cpu_backend *cb = calloc(1, sizeof *cb);
  if (!cb) {
    if (why && why_len) snprintf(why, why_len, "cpu: out of host memory");
    return MB_OOM;
  }
  cb->norm = norm;
  /* Set both pools here, in the process that will use them: Criterion forks test
   * processes, and OpenBLAS rebuilds its thread pool for the new count. */
  cb->threads = nt;
  openblas_set_num_threads(nt);
#ifdef _OPENMP
  omp_set_num_threads(nt);
#endif
  mb_backend *be = &cb->base;
  be->ops = &mb_cpu_ops;
  be->device_index = 0;
  be->status = MB_OK;
#ifdef MB_HAVE_DNNL
  /* after omp_set_num_threads: oneDNN's OpenMP build sizes its work for the team.  Without
   * it this instance takes the table without the conv ops (the core composes them). */
  char dnn_why[128];
  if (!cpu_dnn_open(cb, dnn_why, sizeof dnn_why)) be->ops = cpu_ops_without_dnn();
#endif
  mb_device_info *in = &be->info;
  const char *conf = openblas_get_config();
  if (!conf) conf = "unknown";
  const char *ver = strncmp(conf, "OpenBLAS ", 9) == 0 ? conf + 9 : conf;
  char model[96];
  cpu_model(model, sizeof model);
  char name[512];   /* cut to the 127 characters mb_device_info holds */
  snprintf(name, sizeof name, "CPU: %s (%d threads, OpenBLAS %s)", model, nt, ver);
  size_t nl = strlen(name);
  if (nl >= sizeof in->name) nl = sizeof in->name - 1;
  memcpy(in->name, name, nl);
  in->name[nl] = '\0';
  snprintf(in->vendor, sizeof in->vendor, "host");
  snprintf(in->driver, sizeof in->driver, "%s", conf);
#if defined MB_HAVE_DNNL && defined _OPENMP
  char dv[24], wait[20];
  omp_wait(wait, sizeof wait);
  if (cpu_dnn_version(dv, sizeof dv))
    snprintf(in->api, sizeof in->api, "OpenBLAS + oneDNN %.8s + OpenMP %d %s", dv, _OPENMP, wait);
  else
    snprintf(in->api, sizeof in->api, "OpenBLAS + OpenMP %d %s", _OPENMP, wait);
#elif defined _OPENMP
  char wait[20];
  omp_wait(wait, sizeof wait);
  snprintf(in->api, sizeof in->api, "OpenBLAS + OpenMP %d %s", _OPENMP, wait);
#else
  snprintf(in->api, sizeof in->api, "OpenBLAS");
#endif
  snprintf(in->type, sizeof in->type, "cpu");
  in->mem_bytes = host_mem_bytes();
  in->has_device_timer = 0;
  *out = be;
  if (why && why_len) why[0] = '\0';
  return MB_OK;
}

static void cpu_close(mb_backend *be)
{
#ifdef MB_HAVE_DNNL
  cpu_dnn_close((cpu_backend *)be);
#endif
  free(be);
}

static void cpu_copy(mb_backend *be, mb_view dst, mb_view src, size_t n)
{
  if (be->status != MB_OK || !n) return;
  uint32_t *d = host_u32(dst);
  const uint32_t *s = host_u32(src);
  if (d == s) return;
  const uintptr_t pd = (uintptr_t)d, ps = (uintptr_t)s;
  if (n < CPU_PAR_MIN || (pd < ps + n * 4 && ps < pd + n * 4)) {   /* small, or overlapping */
    memmove(d, s, n * 4);
    return;
  }
  CPU_OMP(omp parallel for simd schedule(static))
  for (size_t i = 0; i < n; i++) d[i] = s[i];
}

static void cpu_fill(mb_backend *be, mb_view dst, size_t n, uint32_t bits)
{
  if (be->status != MB_OK) return;
  uint32_t *y = host_u32(dst);
  CPU_OMP(omp parallel for simd if (n >= CPU_PAR_MIN) schedule(static))
  for (size_t i = 0; i < n; i++) y[i] = bits;
}

const mb_backend_ops mb_cpu_ops = {
  .name = "cpu",
  .abi = MB_ABI_VERSION,
  .device_count = cpu_device_count,
  .open = cpu_open,
  .close = cpu_close,
  .alloc = host_alloc,
  .free = host_free,
  .upload = host_upload,
  .download = host_download,
  .copy = cpu_copy,
  .fill = cpu_fill,
#include "mb/ops_table.inc"
  .forget_update = cpu_forget_update,
  .gemm_sq_acc = cpu_gemm_sq_acc,
#ifdef MB_HAVE_DNNL
  .conv2d_fwd = cpu_conv2d_fwd,
  .conv2d_bwd_data = cpu_conv2d_bwd_data,
  .conv2d_bwd_filter = cpu_conv2d_bwd_filter,
  .engine = "cpu-onednn",
#else
  .engine = "cpu-fused",
#endif
  .sync = host_sync,
  .timer_begin = host_timer_begin,
  .timer_end = host_timer_end,
  .timer_ms = host_timer_ms,
  .timer_free = host_timer_free,
};
