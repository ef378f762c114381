/* OpenCL discovery: every device of every platform under one flat, stable index
 * (platforms in ICD order, devices in platform order).  Never aborts or prints. */
#include "cl_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *mb_cl_errstr(cl_int err)
{
  switch (err) {
#define E(c) case c: return #c
  E(CL_SUCCESS); E(CL_DEVICE_NOT_FOUND); E(CL_DEVICE_NOT_AVAILABLE); E(CL_COMPILER_NOT_AVAILABLE);
  E(CL_MEM_OBJECT_ALLOCATION_FAILURE); E(CL_OUT_OF_RESOURCES); E(CL_OUT_OF_HOST_MEMORY);
  E(CL_PROFILING_INFO_NOT_AVAILABLE); E(CL_MEM_COPY_OVERLAP); E(CL_BUILD_PROGRAM_FAILURE);
  E(CL_MISALIGNED_SUB_BUFFER_OFFSET); E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST);
  E(CL_INVALID_VALUE); E(CL_INVALID_DEVICE_TYPE); E(CL_INVALID_PLATFORM); E(CL_INVALID_DEVICE);
  E(CL_INVALID_CONTEXT); E(CL_INVALID_QUEUE_PROPERTIES); E(CL_INVALID_COMMAND_QUEUE);
  E(CL_INVALID_HOST_PTR); E(CL_INVALID_MEM_OBJECT); E(CL_INVALID_BINARY);
  E(CL_INVALID_BUILD_OPTIONS); E(CL_INVALID_PROGRAM); E(CL_INVALID_PROGRAM_EXECUTABLE);
  E(CL_INVALID_KERNEL_NAME); E(CL_INVALID_KERNEL_DEFINITION); E(CL_INVALID_KERNEL);
  E(CL_INVALID_ARG_INDEX); E(CL_INVALID_ARG_VALUE); E(CL_INVALID_ARG_SIZE);
  E(CL_INVALID_KERNEL_ARGS); E(CL_INVALID_WORK_DIMENSION); E(CL_INVALID_WORK_GROUP_SIZE);
  E(CL_INVALID_WORK_ITEM_SIZE); E(CL_INVALID_GLOBAL_OFFSET); E(CL_INVALID_EVENT_WAIT_LIST);
  E(CL_INVALID_EVENT); E(CL_INVALID_OPERATION); E(CL_INVALID_BUFFER_SIZE);
  E(CL_INVALID_GLOBAL_WORK_SIZE); E(CL_INVALID_PROPERTY);
#undef E
  case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
  default: return "unknown OpenCL error";
  }
}

/* The platform list, or NULL with a reason. */
static cl_platform_id *platforms(cl_uint *np, char *why, size_t why_len)
{
  cl_uint n = 0;
  cl_int err = clGetPlatformIDs(0, NULL, &n);
  if (err == -1001) {   /* CL_PLATFORM_NOT_FOUND_KHR: the ICD loader found no driver */
    snprintf(why, why_len, "no OpenCL platform (clGetPlatformIDs: -1001, no ICD found)");
    return NULL;
  }
  if (err != CL_SUCCESS) {
    snprintf(why, why_len, "no OpenCL platform (clGetPlatformIDs: %d, %s)", (int)err,
             mb_cl_errstr(err));
    return NULL;
  }
  if (n == 0) {
    snprintf(why, why_len, "no OpenCL platform (clGetPlatformIDs found none)");
    return NULL;
  }
  cl_platform_id *p = calloc(n, sizeof *p);
  if (!p) {
    snprintf(why, why_len, "out of host memory listing OpenCL platforms");
    return NULL;
  }
  err = clGetPlatformIDs(n, p, NULL);
  if (err != CL_SUCCESS) {
    snprintf(why, why_len, "no OpenCL platform (clGetPlatformIDs: %d, %s)", (int)err,
             mb_cl_errstr(err));
    free(p);
    return NULL;
  }
  *np = n;
  return p;
}

static cl_uint devices_of(cl_platform_id p)
{
  cl_uint n = 0;
  if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, NULL, &n) != CL_SUCCESS) return 0;
  return n;
}

int mb_cl_device_count(char *why, size_t why_len)
{
  cl_uint np = 0;
  cl_platform_id *p = platforms(&np, why, why_len);
  if (!p) return 0;
  long total = 0;
  for (cl_uint i = 0; i < np; i++) total += devices_of(p[i]);
  free(p);
  if (total == 0) snprintf(why, why_len, "no OpenCL device on %u platform(s)", (unsigned)np);
  return (int)total;
}

mb_status mb_cl_find_device(int index, cl_platform_id *platform, cl_device_id *device, char *why,
                            size_t why_len)
{
  cl_uint np = 0;
  cl_platform_id *p = platforms(&np, why, why_len);
  if (!p) return MB_NO_DEVICE;
  int seen = 0;
  for (cl_uint i = 0; i < np; i++) {
    cl_uint nd = devices_of(p[i]);
    if (index >= 0 && index < seen + (int)nd) {
      cl_device_id *d = calloc(nd, sizeof *d);
      cl_int err = d ? clGetDeviceIDs(p[i], CL_DEVICE_TYPE_ALL, nd, d, NULL)
                     : CL_OUT_OF_HOST_MEMORY;
      if (err != CL_SUCCESS) {
        snprintf(why, why_len, "clGetDeviceIDs: %d (%s)", (int)err, mb_cl_errstr(err));
        free(d);
        free(p);
        return MB_DEVICE_ERROR;
      }
      *platform = p[i];
      *device = d[index - seen];
      free(d);
      free(p);
      return MB_OK;
    }
    seen += (int)nd;
  }
  free(p);
  snprintf(why, why_len, "no OpenCL device %d (%d found)", index, seen);
  return MB_NO_DEVICE;
}

/* String info, truncated to len (the API refuses buffers shorter than the
 * string, so read it whole first); "" when unreadable. */
static void dev_str(cl_device_id d, cl_device_info what, char *out, size_t len)
{
  size_t n = 0;
  char *buf = NULL;
  out[0] = 0;
  if (clGetDeviceInfo(d, what, 0, NULL, &n) == CL_SUCCESS && n && (buf = malloc(n)) &&
      clGetDeviceInfo(d, what, n, buf, NULL) == CL_SUCCESS) {
    buf[n - 1] = 0;
    snprintf(out, len, "%s", buf);
  }
  free(buf);
}

static void plat_str(cl_platform_id p, cl_platform_info what, char *out, size_t len)
{
  size_t n = 0;
  char *buf = NULL;
  out[0] = 0;
  if (clGetPlatformInfo(p, what, 0, NULL, &n) == CL_SUCCESS && n && (buf = malloc(n)) &&
      clGetPlatformInfo(p, what, n, buf, NULL) == CL_SUCCESS) {
    buf[n - 1] = 0;
    snprintf(out, len, "%s", buf);
  }
  free(buf);
}

int mb_cl_device_version(cl_device_id device)
{
  char v[128];
  int major = 0, minor = 0;
  dev_str(device, CL_DEVICE_VERSION, v, sizeof v);
  if (sscanf(v, "OpenCL %d.%d", &major, &minor) != 2) return 0;
  return 10 * major + minor;
}

static void trim(char *s)
{
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\n')) s[--n] = 0;
  size_t k = strspn(s, " ");
  if (k) memmove(s, s + k, n - k + 1);
}

/* Words [from, to) of src, single-spaced, without a trailing ','. */
static void words(char *dst, size_t len, const char *src, int from, int to)
{
  char tmp[256], *save = NULL;
  size_t o = 0;
  int w = 0;
  snprintf(tmp, sizeof tmp, "%s", src);
  dst[0] = 0;
  for (char *t = strtok_r(tmp, " \t\n", &save); t && w < to;
       t = strtok_r(NULL, " \t\n", &save), w++) {
    if (w < from) continue;
    int k = snprintf(dst + o, len - o, "%s%s", o ? " " : "", t);
    if (k < 0 || (size_t)k >= len - o) break;
    o += (size_t)k;
  }
  if (o && dst[o - 1] == ',') dst[o - 1] = 0;
}

void mb_cl_device_info(cl_platform_id platform, cl_device_id device, mb_device_info *info)
{
  char dname[256], pname[256], dver[256], pver[256], tail[128];
  memset(info, 0, sizeof *info);
  dev_str(device, CL_DEVICE_NAME, dname, sizeof dname);
  plat_str(platform, CL_PLATFORM_NAME, pname, sizeof pname);
  trim(dname);
  trim(pname);
  snprintf(info->name, sizeof info->name, "%.80s (%.40s)", dname, pname);  /* fits 128 */
  dev_str(device, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
  trim(info->vendor);
  dev_str(device, CL_DRIVER_VERSION, info->driver, sizeof info->driver);
  trim(info->driver);

  /* "OpenCL 3.0" from the device, then the platform's implementation words
   * ("PoCL 3.1+debian", "CUDA 12.4.99", "AMD-APP (3590.0)"). */
  dev_str(device, CL_DEVICE_VERSION, dver, sizeof dver);
  plat_str(platform, CL_PLATFORM_VERSION, pver, sizeof pver);
  words(info->api, sizeof info->api, dver, 0, 2);
  words(tail, sizeof tail, pver, 2, 4);
  if (tail[0]) {
    size_t n = strlen(info->api);
    snprintf(info->api + n, sizeof info->api - n, " %s", tail);
  }

  cl_device_type type = 0;
  if (clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof type, &type, NULL) != CL_SUCCESS) type = 0;
  snprintf(info->type, sizeof info->type, "%s",
           (type & CL_DEVICE_TYPE_GPU) ? "gpu" : (type & CL_DEVICE_TYPE_CPU) ? "cpu" : "other");
  cl_ulong mem = 0;
  if (clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL) != CL_SUCCESS)
    mem = 0;
  info->mem_bytes = mem;
  info->has_device_timer = 1;   /* profiling events on the queue */
}
