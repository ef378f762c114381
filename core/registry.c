/* Compiled-in backends and the environment filters MB_BACKENDS=a,b and MB_DISABLE_<NAME>=1. */
#include "core/registry.h"
#include "mb_config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const mb_backend_ops mb_ref_ops;
#if MB_HAVE_CPU
extern const mb_backend_ops mb_cpu_ops;
#endif
#if MB_HAVE_OPENCL
extern const mb_backend_ops mb_opencl_ops;
#endif
#if MB_HAVE_VULKAN
extern const mb_backend_ops mb_vulkan_ops;
#endif
#if MB_HAVE_CUDA
extern const mb_backend_ops mb_cuda_ops;
#endif

static const mb_backend_entry k_entries[] = {
  {"ref", &mb_ref_ops, NULL},
#if MB_HAVE_CPU
  {"cpu", &mb_cpu_ops, NULL},
#else
  {"cpu", NULL, "not built (OpenBLAS not found or -Dopenblas=disabled)"},
#endif
#if MB_HAVE_OPENCL
  {"opencl", &mb_opencl_ops, NULL},
#else
  {"opencl", NULL, "not built (OpenCL/CLBlast not found or -Dopencl=disabled)"},
#endif
#if MB_HAVE_VULKAN
  {"vulkan", &mb_vulkan_ops, NULL},
#else
  {"vulkan", NULL, "not built (Vulkan/glslangValidator not found or -Dvulkan=disabled)"},
#endif
#if MB_HAVE_CUDA
  {"cuda", &mb_cuda_ops, NULL},
#else
  {"cuda", NULL, "not built (nvcc not found or -Dcuda=disabled)"},
#endif
};

#define N_ENTRIES ((int)(sizeof k_entries / sizeof k_entries[0]))

int mb_backend_entries(const mb_backend_entry **out)
{
  *out = k_entries;
  return N_ENTRIES;
}

const mb_backend_entry *mb_backend_lookup(const char *name)
{
  for (int i = 0; i < N_ENTRIES; i++)
    if (name && strcmp(k_entries[i].name, name) == 0) return &k_entries[i];
  return NULL;
}

const char *mb_backend_names(void)
{
  return "ref, cpu, opencl, vulkan, cuda";
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
    snprintf(why, why_len, "%s", e->not_built);
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
