/* Programs, kernels and launches.
 *
 * Each kernel family (eltwise.cl, reduce.cl, ...) is one program, built the
 * first time one of its kernels is needed and kept for the instance's life.
 * Sources are embedded at build time (cl_kernels.h, made by tools/embed.py);
 * with MB_CL_KERNEL_DIR=<dir> they are read from <dir>/<stem>.cl instead, for
 * quick kernel edits (headers from <dir> or <dir>/../common, else embedded).
 * op_codes.h (the enum values, generated from include/mb/op_codes.def) is a header
 * like kernels/common/philox.h.
 * Embedded sources cannot rely on -I, so a line `#include "philox.h"` is blanked
 * and the header is passed as its own string ahead of the kernel text.
 * Options: -cl-std=CL1.2, plus -cl-fp32-correctly-rounded-divide-sqrt where the
 * device offers it (IEEE / and sqrt, as the ref oracle); never fast-relaxed-math. */
#include "cl_backend.h"
#include "cl_kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  const char *stem;
  const char *text;
} k_sources[MB_CL_NFAMILY] = {
#define MB_CL_SOURCE(id, stem) [MB_CL_##id] = {#stem, mb_cl_##stem},
  MB_CL_FAMILIES(MB_CL_SOURCE)
#undef MB_CL_SOURCE
};

/* Headers the kernels may include (kernels/common). */
static const struct {
  const char *name;
  const char *text;
} k_headers[] = {{"philox.h", mb_cl_philox}, {"op_codes.h", mb_cl_op_codes},
                 {"erf_f32.h", mb_cl_erf_f32}};

#define MAX_INCLUDES 4

static char *read_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long n = ftell(f);
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
      if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
      } else {
        buf[n] = 0;
      }
    }
  }
  fclose(f);
  return buf;
}

/* The kernel text of a family (malloc'd copy), from MB_CL_KERNEL_DIR or embedded. */
static char *family_source(mb_cl *cl, mb_cl_family_id fam, const char *dir)
{
  if (!dir) {
    char *s = strdup(k_sources[fam].text);
    if (!s) mb_cl_fail(cl, MB_OOM, "opencl: out of host memory for %s.cl", k_sources[fam].stem);
    return s;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.cl", dir, k_sources[fam].stem);
  char *s = read_file(path);
  if (!s) mb_cl_fail(cl, MB_DEVICE_ERROR, "opencl: cannot read %s (MB_CL_KERNEL_DIR)", path);
  return s;
}

/* Header text: from the kernel dir or its ../common when set, else embedded.
 * *owned is set when the result must be freed. */
static const char *header_text(const char *name, const char *dir, char **owned)
{
  *owned = NULL;
  if (dir) {
    const char *tries[] = {"%s/%s", "%s/../common/%s"};
    for (int i = 0; i < 2; i++) {
      char path[4096];
      snprintf(path, sizeof path, tries[i], dir, name);
      if ((*owned = read_file(path))) return *owned;
    }
  }
  for (size_t i = 0; i < sizeof k_headers / sizeof k_headers[0]; i++)
    if (strcmp(k_headers[i].name, name) == 0) return k_headers[i].text;
  return NULL;
}

/* Finds `#include "name"` lines, blanks them in src (line numbers stay right)
 * and returns their header texts in order.  Returns the count, or -1 on error. */
static int take_includes(mb_cl *cl, const char *stem, char *src, const char *dir,
                         const char **texts, char (*names)[64], char **owned)
{
  int n = 0;
  for (char *line = src; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    char *p = line + strspn(line, " \t");
    if (*p != '#') continue;
    p += 1 + strspn(p + 1, " \t");
    if (strncmp(p, "include", 7) != 0) continue;
    p += 7 + strspn(p + 7, " \t");
    char *end = *p == '"' ? strchr(p + 1, '"') : NULL;
    char *eol = strchr(line, '\n');
    if (!end || (eol && end > eol)) {
      mb_cl_fail(cl, MB_DEVICE_ERROR, "opencl: %s.cl: only #include \"header\" is supported", stem);
      return -1;
    }
    if (n == MAX_INCLUDES) {
      mb_cl_fail(cl, MB_DEVICE_ERROR, "opencl: %s.cl: too many #include lines", stem);
      return -1;
    }
    snprintf(names[n], sizeof names[n], "%.*s", (int)(end - p - 1), p + 1);
    texts[n] = header_text(names[n], dir, &owned[n]);
    if (!texts[n]) {
      mb_cl_fail(cl, MB_DEVICE_ERROR, "opencl: %s.cl includes unknown header %s", stem, names[n]);
      return -1;
    }
    n++;
    for (char *q = line; *q && *q != '\n'; q++) *q = ' ';
  }
  return n;
}

/* One line from the build log for the error message: the first line that
 * mentions "error" (else the first non-empty one), as "file:line: message".
 * The #line marks make "file" the .cl or .h name rather than a temporary path. */
static void log_excerpt(const char *log, char *out, size_t len)
{
  const char *pick = strstr(log, "error");
  if (pick) {
    while (pick > log && pick[-1] != '\n') pick--;
  } else {
    pick = log + strspn(log, " \n\r\t");
  }
  int n = (int)strcspn(pick, "\n");
  const char *msg = strstr(pick, "error: ");
  if (!msg || msg - pick >= n) {
    snprintf(out, len, "%.*s", n, pick);
    return;
  }
  msg += 7;
  /* Most compilers print "file:line:col: error: msg"; pocl prints
   * "error: file:line:col <Spelling=...>: msg". */
  const char *loc = pick;
  const char *sp = msg + strcspn(msg, " \n");
  if (memchr(msg, ':', (size_t)(sp - msg))) {
    loc = msg;
    const char *c = strstr(msg, ": ");
    if (c && c - pick < n) msg = c + 2;
  }
  const char *c1 = strchr(loc, ':');
  int line = c1 ? atoi(c1 + 1) : 0;
  int rest = (int)(pick + n - msg);
  if (line > 0 && c1 - loc < 64)
    snprintf(out, len, "%.*s:%d: %.*s", (int)(c1 - loc), loc, line, rest, msg);
  else
    snprintf(out, len, "%.*s", rest, msg);
}

static void build_failed(mb_cl *cl, const char *stem, cl_program prog, cl_int err)
{
  size_t n = 0;
  char *log = NULL;
  if (clGetProgramBuildInfo(prog, cl->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) == CL_SUCCESS &&
      (log = malloc(n + 1)) &&
      clGetProgramBuildInfo(prog, cl->device, CL_PROGRAM_BUILD_LOG, n, log, NULL) == CL_SUCCESS) {
    log[n] = 0;
  } else if (log) {
    log[0] = 0;
  }
  char line[200] = "";
  if (log) log_excerpt(log, line, sizeof line);
  mb_cl_fail(cl, MB_DEVICE_ERROR, "opencl: building %s.cl: %s (%d): %s", stem, mb_cl_errstr(err),
             (int)err, line[0] ? line : "(no build log)");
  free(log);
}

static int build_family(mb_cl *cl, mb_cl_family_id fam)
{
  mb_cl_family *f = &cl->fam[fam];
  const char *stem = k_sources[fam].stem;
  const char *dir = getenv("MB_CL_KERNEL_DIR");
  if (dir && !*dir) dir = NULL;
  f->built = 1;   /* one attempt per instance; a failure sticks anyway */

  char *src = family_source(cl, fam, dir);
  if (!src) return 0;
  /* each header after its #line mark, then the kernel's mark and text */
  const char *strings[2 * MAX_INCLUDES + 2];
  char marks[MAX_INCLUDES + 1][96];
  char *owned[MAX_INCLUDES] = {0};
  const char *headers[MAX_INCLUDES];
  char names[MAX_INCLUDES][64];
  int nh = take_includes(cl, stem, src, dir, headers, names, owned);
  cl_int err = CL_SUCCESS;
  if (nh >= 0) {
    /* The strings are concatenated: #line marks keep build-log locations right. */
    cl_uint ns = 0;
    for (int i = 0; i < nh; i++) {
      snprintf(marks[i], sizeof marks[i], "#line 1 \"%s\"\n", names[i]);
      strings[ns++] = marks[i];
      strings[ns++] = headers[i];
    }
    snprintf(marks[nh], sizeof marks[nh], "\n#line 1 \"%s.cl\"\n", stem);
    strings[ns++] = marks[nh];
    strings[ns++] = src;
    f->program = clCreateProgramWithSource(cl->ctx, ns, strings, NULL, &err);
    mb_cl_check(cl, err, stem, "clCreateProgramWithSource");
  }
  for (int i = 0; i < MAX_INCLUDES; i++) free(owned[i]);
  free(src);
  if (!mb_cl_ok(cl)) return 0;

  const char *opts = cl->fp32_div_sqrt_cr ? "-cl-std=CL1.2 -cl-fp32-correctly-rounded-divide-sqrt"
                                          : "-cl-std=CL1.2";
  err = clBuildProgram(f->program, 1, &cl->device, opts, NULL, NULL);
  if (err != CL_SUCCESS) {
    build_failed(cl, stem, f->program, err);
    clReleaseProgram(f->program);
    f->program = NULL;
    return 0;
  }
  return 1;
}

size_t mb_cl_pow2_floor(size_t v)
{
  size_t p = 1;
  while (p <= v / 2) p *= 2;
  return p;
}

const mb_cl_kernel_slot *mb_cl_kernel(mb_cl *cl, mb_cl_family_id fam, const char *name)
{
  if (!mb_cl_ok(cl)) return NULL;
  mb_cl_family *f = &cl->fam[fam];
  for (int i = 0; i < f->nkernels; i++)
    if (strcmp(f->kernels[i].name, name) == 0) return &f->kernels[i];
  if (!f->built && !build_family(cl, fam)) return NULL;
  if (!f->program) return NULL;
  if (f->nkernels == MB_CL_MAX_KERNELS) {
    mb_cl_fail(cl, MB_DEVICE_ERROR, "opencl: kernel table of %s.cl is full", k_sources[fam].stem);
    return NULL;
  }
  cl_int err;
  cl_kernel k = clCreateKernel(f->program, name, &err);
  if (!mb_cl_check(cl, err, name, "clCreateKernel")) return NULL;
  size_t kmax = 0;
  err = clGetKernelWorkGroupInfo(k, cl->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kmax, &kmax,
                                 NULL);
  if (!mb_cl_check(cl, err, name, "clGetKernelWorkGroupInfo")) {
    clReleaseKernel(k);
    return NULL;
  }
  mb_cl_kernel_slot *s = &f->kernels[f->nkernels++];
  s->name = name;   /* names are string literals */
  s->kernel = k;
  s->local = mb_cl_pow2_floor(kmax < cl->wg ? kmax : cl->wg);
  return s;
}

void mb_cl_release_programs(mb_cl *cl)
{
  for (int fam = 0; fam < MB_CL_NFAMILY; fam++) {
    mb_cl_family *f = &cl->fam[fam];
    for (int i = 0; i < f->nkernels; i++) clReleaseKernel(f->kernels[i].kernel);
    if (f->program) clReleaseProgram(f->program);
    memset(f, 0, sizeof *f);
  }
}

/* ---- launches ---- */

mb_cl_args mb_cl_begin(mb_cl *cl, mb_cl_family_id fam, const char *name)
{
  mb_cl_args a = {cl, mb_cl_kernel(cl, fam, name), 0, CL_SUCCESS};
  return a;
}

void mb_cl_arg(mb_cl_args *a, size_t size, const void *value)
{
  if (!a->ks || a->err != CL_SUCCESS) return;
  a->err = clSetKernelArg(a->ks->kernel, a->next++, size, value);
}

void mb_cl_arg_mem(mb_cl_args *a, cl_mem m) { mb_cl_arg(a, sizeof m, &m); }
void mb_cl_arg_u64(mb_cl_args *a, uint64_t v) { cl_ulong u = v; mb_cl_arg(a, sizeof u, &u); }
void mb_cl_arg_i32(mb_cl_args *a, int v) { cl_int i = v; mb_cl_arg(a, sizeof i, &i); }
void mb_cl_arg_f32(mb_cl_args *a, float v) { cl_float f = v; mb_cl_arg(a, sizeof f, &f); }
void mb_cl_arg_local(mb_cl_args *a, size_t bytes) { mb_cl_arg(a, bytes, NULL); }

void mb_cl_arg_view(mb_cl_args *a, mb_view v)
{
  mb_cl_arg_mem(a, mb_cl_mem(v));   /* a none view passes a NULL buffer (allowed by OpenCL) */
  mb_cl_arg_u64(a, v.off);
}

size_t mb_cl_groups(const mb_cl *cl, size_t n, size_t local)
{
  size_t g = (n + local - 1) / local;
  return g < 1 ? 1 : g > cl->max_groups ? cl->max_groups : g;
}

void mb_cl_launch(mb_cl_args *a, const char *op, size_t groups, size_t local)
{
  mb_cl *cl = a->cl;
  if (!a->ks || !mb_cl_ok(cl)) return;
  if (!mb_cl_check(cl, a->err, op, "clSetKernelArg")) return;
  if (!local) local = a->ks->local;
  size_t global = groups * local;
  cl_int err = clEnqueueNDRangeKernel(cl->queue, a->ks->kernel, 1, NULL, &global, &local, 0, NULL,
                                      NULL);
  mb_cl_check(cl, err, op, "clEnqueueNDRangeKernel");
}
