/* A broken GPU driver for the `modules` suite: an OpenCL ICD and a Vulkan ICD
 * whose discovery entry points misbehave the way real broken drivers do (pocl's
 * hwloc aborting in a chroot without /sys, a driver that never returns).
 * FAKE_DRIVER_MODE chooses how: abort (default), segv, hang, exit.  No API
 * headers: the loaders only look the symbols up by name. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

static void misbehave(void)
{
  const char *m = getenv("FAKE_DRIVER_MODE");
  if (m && strcmp(m, "hang") == 0)
    for (;;) pause();
  if (m && strcmp(m, "segv") == 0) raise(SIGSEGV);
  if (m && strcmp(m, "exit") == 0) exit(3);
  abort();
}

/* ---- OpenCL (ocl-icd asks clGetExtensionFunctionAddress for this one) ---- */
EXPORT int clIcdGetPlatformIDsKHR(unsigned n, void **platforms, unsigned *n_out)
{
  (void)n; (void)platforms; (void)n_out;
  misbehave();
  return -1001;   /* CL_PLATFORM_NOT_FOUND_KHR */
}

EXPORT void *clGetExtensionFunctionAddress(const char *name)
{
  if (name && strcmp(name, "clIcdGetPlatformIDsKHR") == 0) return (void *)clIcdGetPlatformIDsKHR;
  return NULL;
}

/* never reached: discovery dies first; ocl-icd wants it present to take the ICD */
EXPORT int clGetPlatformInfo(void *platform, unsigned name, size_t size, void *value, size_t *size_ret)
{
  (void)platform; (void)name; (void)size; (void)value; (void)size_ret;
  return -32;   /* CL_INVALID_PLATFORM */
}

EXPORT int clGetPlatformIDs(unsigned n, void **platforms, unsigned *n_out)
{
  return clIcdGetPlatformIDsKHR(n, platforms, n_out);
}

/* ---- Vulkan (the loader negotiates, then asks for entry points) ---- */
EXPORT int vk_icdNegotiateLoaderICDInterfaceVersion(unsigned *version)
{
  if (*version > 5) *version = 5;
  return 0;   /* VK_SUCCESS */
}

EXPORT void *vk_icdGetInstanceProcAddr(void *instance, const char *name)
{
  (void)instance; (void)name;
  misbehave();
  return NULL;
}

EXPORT int vkCreateInstance(const void *info, const void *alloc, void **instance)
{
  (void)info; (void)alloc; (void)instance;
  misbehave();
  return -3;   /* VK_ERROR_INITIALIZATION_FAILED */
}
