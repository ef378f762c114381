/* The backend registry: ref linked in, cpu and the GPU backends loaded as
 * modules at run time, and the environment filters MB_BACKENDS=a,b and
 * MB_DISABLE_<NAME>=1. */
#include "mb/registry.h"
#include "mb_config.h"

#include <ctype.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MB_BACKEND_INSTALL_DIR   /* absolute module directory of an installed build */
#define MB_BACKEND_INSTALL_DIR "/usr/local/lib/mnemobench"
#endif
#ifndef MB_BACKEND_INSTALL_REL   /* the same, relative to the install prefix */
#define MB_BACKEND_INSTALL_REL "lib/mnemobench"
#endif

extern const mb_backend_ops mb_ref_ops;

typedef struct {
  mb_backend_entry e;
  int built;             /* its module was built with this binary */
  int tried;             /* the module load has been attempted */
  void *handle;          /* kept open for the life of the process */
  char why[768];         /* the load failure */
} slot;

static slot k_slots[] = {
  {{"ref", &mb_ref_ops, NULL, 0, 0}, 1, 1, NULL, ""},
  {{"cpu", NULL, "not built (OpenBLAS not found or -Dopenblas=disabled)", 1, 0}, MB_HAVE_CPU, 0, NULL, ""},
  {{"opencl", NULL, "not built (OpenCL/CLBlast not found or -Dopencl=disabled)", 1, 1}, MB_HAVE_OPENCL, 0, NULL, ""},
  {{"vulkan", NULL, "not built (Vulkan/glslangValidator not found or -Dvulkan=disabled)", 1, 1}, MB_HAVE_VULKAN, 0, NULL, ""},
  {{"cuda", NULL, "not built (nvcc not found or -Dcuda=disabled)", 1, 1}, MB_HAVE_CUDA, 0, NULL, ""},
};

#define N_SLOTS ((int)(sizeof k_slots / sizeof k_slots[0]))

static pthread_mutex_t g_load_lock = PTHREAD_MUTEX_INITIALIZER;
static mb_backend_entry g_entries[N_SLOTS];   /* what mb_backend_entries hands out */

/* The directory of the running program (no trailing slash), or "" if unknown. */
static void exe_dir(char *dir, size_t len)
{
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  dir[0] = 0;
  if (n <= 0) return;
  path[n] = 0;
  char *slash = strrchr(path, '/');
  if (!slash) return;
  *slash = 0;
  snprintf(dir, len, "%s", path);
}

/* Module file of `name` in directory `dir`: dir/mb-backend-NAME.so, or the build
 * tree's dir/NAME/mb-backend-NAME.so.  0 and the path when one exists. */
static int find_in(const char *dir, const char *name, char *path, size_t len)
{
  snprintf(path, len, "%s/mb-backend-%s.so", dir, name);
  if (access(path, F_OK) == 0) return 0;
  snprintf(path, len, "%s/%s/mb-backend-%s.so", dir, name, name);
  return access(path, F_OK) == 0 ? 0 : -1;
}

/* Where the module of `name` is: MB_BACKEND_DIR alone when set, else the build
 * tree (the program in build/harness or build/tests, modules in build/backends),
 * the install's module directory beside the program's bin/, then the configured
 * install directory.  -1 with the places looked in. */
static int find_module(const char *name, char *path, size_t len, char *why, size_t why_len)
{
  const char *env = getenv("MB_BACKEND_DIR");
  if (env && *env) {
    if (find_in(env, name, path, len) == 0) return 0;
    snprintf(why, why_len, "module mb-backend-%s.so not found in MB_BACKEND_DIR=%s", name, env);
    return -1;
  }
  char exe[PATH_MAX], dir[PATH_MAX + 64];
  exe_dir(exe, sizeof exe);
  if (exe[0]) {
    snprintf(dir, sizeof dir, "%s/../backends", exe);
    if (find_in(dir, name, path, len) == 0) return 0;
    snprintf(dir, sizeof dir, "%s/../%s", exe, MB_BACKEND_INSTALL_REL);
    if (find_in(dir, name, path, len) == 0) return 0;
  }
  if (find_in(MB_BACKEND_INSTALL_DIR, name, path, len) == 0) return 0;
  snprintf(why, why_len,
           "module mb-backend-%s.so not found (looked beside %s and in %s; set MB_BACKEND_DIR)",
           name, exe[0] ? exe : "the program", MB_BACKEND_INSTALL_DIR);
  return -1;
}

/* ---- the discovery probe ----
 * A broken driver (an ICD or Vulkan driver that aborts while it enumerates, e.g.
 * pocl's hwloc in a chroot without /sys) would take the whole process down, so a
 * GPU API module is first loaded and asked for its devices in a child process.
 * Only when the child comes back normally is the module loaded here. */

/* MB_PROBE_TIMEOUT: seconds a probe may take (default 30); 0 turns the probe off. */
static double probe_timeout_s(void)
{
  const char *v = getenv("MB_PROBE_TIMEOUT");
  if (!v || !*v) return 30.0;
  char *end;
  double t = strtod(v, &end);
  return (*end || t < 0) ? 30.0 : t;
}

/* In the child: the same steps as load_module and a device count, then _exit
 * (no atexit handlers, no stdio flush of the parent's buffers). */
static void probe_child(const char *path)
{
  int null = open("/dev/null", O_WRONLY);
  if (null >= 0) dup2(null, STDOUT_FILENO);   /* a driver's chatter must not reach stdout */
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) _exit(0);                            /* the parent reports the loader's message */
  mb_backend_module_fn entry;
  *(void **)&entry = dlsym(h, MB_BACKEND_MODULE_ENTRY);
  const mb_backend_ops *ops = entry ? entry() : NULL;
  char why[256];
  if (ops && ops->abi == MB_ABI_VERSION) ops->device_count(why, sizeof why);
  _exit(0);
}

/* Runs the probe of module `path`: 0 when the child came back normally, else -1
 * and the reason in why. */
static int probe_module(const char *path, char *why, size_t why_len)
{
  double limit = probe_timeout_s();
  if (limit <= 0) return 0;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return 0;                       /* no probe possible: load as before */
  if (pid == 0) probe_child(path);
  struct timespec t0, now, nap = {0, 2000000};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int st;
  for (;;) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) break;
    if (r < 0) return 0;                       /* reaped elsewhere: nothing to judge */
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt = (double)(now.tv_sec - t0.tv_sec) + 1e-9 * (double)(now.tv_nsec - t0.tv_nsec);
    if (dt >= limit) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      snprintf(why, why_len, "driver discovery timed out after %g s (MB_PROBE_TIMEOUT)", limit);
      return -1;
    }
    if (nap.tv_nsec < 50000000) nap.tv_nsec *= 2;   /* 2, 4, ... 64 ms between looks */
    nanosleep(&nap, NULL);
  }
  if (WIFSIGNALED(st)) {
    snprintf(why, why_len, "driver crashed during discovery (signal %d: %s)", WTERMSIG(st),
             strsignal(WTERMSIG(st)));
    return -1;
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) != 0) {
    snprintf(why, why_len, "driver exited the process during discovery (status %d)",
             WEXITSTATUS(st));
    return -1;
  }
  return 0;
}

/* libgomp reads its waiting policy once, when it loads, and that is when the cpu module
 * loads.  Its default (workers spinning about 3 ms after each parallel region) loses
 * their time slices on a shared or busy machine (the cpu backend ran ~2x slower), and
 * pure passive waiting pays a futex wake-up for each of the hundreds of small parallel
 * loops of a training step.  So, unless the user chose either: a short spin (5000
 * spins, ~50 us by libgomp's estimate), then sleep; PASSIVE also makes a process with
 * more threads than the CPUs it may use never spin. */
static void omp_wait_defaults(void)
{
  if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
  setenv("GOMP_SPINCOUNT", "5000", 0);
}

/* dlopen()s the module of s; on failure s->e.unavailable says why (the loader's
 * message names the missing library, e.g. libcublas.so.13). */
static void load_module(slot *s)
{
  char path[PATH_MAX + 128];
  const char *name = s->e.name;
  s->tried = 1;
  if (!s->built) return;
  if (find_module(name, path, sizeof path, s->why, sizeof s->why) != 0) {
    s->e.unavailable = s->why;
    return;
  }
  omp_wait_defaults();
  if (s->e.gpu_api && probe_module(path, s->why, sizeof s->why) != 0) {
    s->e.unavailable = s->why;
    return;
  }
  /* RTLD_NOW: an unresolved symbol fails here, not at the first op;
   * RTLD_LOCAL: modules do not see each other's symbols. */
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *err = dlerror();
    snprintf(s->why, sizeof s->why, "cannot load the %s module: %.500s", name, err ? err : path);
    s->e.unavailable = s->why;
    return;
  }
  mb_backend_module_fn entry;
  *(void **)&entry = dlsym(h, MB_BACKEND_MODULE_ENTRY);
  const mb_backend_ops *ops = entry ? entry() : NULL;
  if (!ops) {
    snprintf(s->why, sizeof s->why, "%.500s: no %s() in it", path, MB_BACKEND_MODULE_ENTRY);
  } else if (ops->abi != MB_ABI_VERSION) {
    snprintf(s->why, sizeof s->why, "%.500s: backend ABI %d, core expects %d", path, ops->abi,
             MB_ABI_VERSION);
  } else {
    s->handle = h;
    s->e.ops = ops;
    s->e.unavailable = NULL;
    return;
  }
  dlclose(h);
  s->e.unavailable = s->why;
}

static const mb_backend_entry *entry_of(slot *s)
{
  pthread_mutex_lock(&g_load_lock);
  if (!s->tried) load_module(s);
  int i = (int)(s - k_slots);
  g_entries[i] = s->e;
  pthread_mutex_unlock(&g_load_lock);
  return &g_entries[i];
}

int mb_backend_entries(const mb_backend_entry **out)
{
  for (int i = 0; i < N_SLOTS; i++) entry_of(&k_slots[i]);
  *out = g_entries;
  return N_SLOTS;
}

const mb_backend_entry *mb_backend_lookup(const char *name)
{
  for (int i = 0; i < N_SLOTS; i++)
    if (name && strcmp(k_slots[i].e.name, name) == 0) return entry_of(&k_slots[i]);
  return NULL;
}

int mb_backend_index(const char *name)
{
  for (int i = 0; i < N_SLOTS; i++)
    if (name && strcmp(k_slots[i].e.name, name) == 0) return i;
  return -1;
}

const char *mb_backend_names(void)
{
  static char names[128];
  pthread_mutex_lock(&g_load_lock);
  if (!names[0])
    for (int i = 0; i < N_SLOTS; i++)
      snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
               k_slots[i].e.name);
  pthread_mutex_unlock(&g_load_lock);
  return names;
}

/* Why the environment filters this backend out, or NULL. */
static const char *env_filter(const char *name)
{
  static char why[128];
  const char *list = getenv("MB_BACKENDS");
  if (list && *list) {
    size_t len = strlen(name);
    const char *p = list;
    int found = 0;
    while (*p) {
      const char *end = strchr(p, ',');
      size_t n = end ? (size_t)(end - p) : strlen(p);
      if (n == len && strncmp(p, name, n) == 0) found = 1;
      p += n + (end ? 1 : 0);
    }
    if (!found) {
      snprintf(why, sizeof why, "disabled (not in MB_BACKENDS=%s)", list);
      return why;
    }
  }
  char var[64] = "MB_DISABLE_";
  for (size_t i = 0; name[i] && i < 40; i++) var[11 + i] = (char)toupper((unsigned char)name[i]);
  const char *v = getenv(var);
  if (v && *v && strcmp(v, "0") != 0) {
    snprintf(why, sizeof why, "disabled (%s=%s)", var, v);
    return why;
  }
  return NULL;
}

static const mb_backend_entry *usable(const char *name, char *why, size_t why_len)
{
  const mb_backend_entry *e = mb_backend_lookup(name);
  if (!e) {
    snprintf(why, why_len, "unknown backend '%s' (known: %s)", name ? name : "", mb_backend_names());
    return NULL;
  }
  if (!e->ops) {
    snprintf(why, why_len, "%s", e->unavailable);
    return NULL;
  }
  const char *f = env_filter(name);
  if (f) {
    snprintf(why, why_len, "%s", f);
    return NULL;
  }
  return e;
}

int mb_backend_devices(const char *name, char *why, size_t why_len)
{
  const mb_backend_entry *e = usable(name, why, why_len);
  if (!e) return 0;
  why[0] = 0;
  int n = e->ops->device_count(why, why_len);
  if (n <= 0 && !why[0]) snprintf(why, why_len, "no device");
  return n > 0 ? n : 0;
}

mb_backend *mb_backend_open(const char *name, int device, char *why, size_t why_len)
{
  const mb_backend_entry *e = usable(name, why, why_len);
  if (!e) return NULL;
  if (e->ops->abi != MB_ABI_VERSION) {
    snprintf(why, why_len, "%s: backend ABI %d, core expects %d", name, e->ops->abi, MB_ABI_VERSION);
    return NULL;
  }
  int n = e->ops->device_count(why, why_len);
  if (n <= 0) return NULL;
  if (device < 0 || device >= n) {
    snprintf(why, why_len, "%s: no device %d (it has %d: 0..%d)", name, device, n, n - 1);
    return NULL;
  }
  mb_backend *be = NULL;
  why[0] = 0;
  mb_status st = e->ops->open(device, &be, why, why_len);
  if (st != MB_OK || !be) {
    if (!why[0]) snprintf(why, why_len, "%s: cannot open device %d", name, device);
    return NULL;
  }
  be->device_index = device;
  return be;
}

void mb_backend_close(mb_backend *be)
{
  if (be) be->ops->close(be);
}
