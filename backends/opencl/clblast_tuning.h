/* CLBlast tuning files: kernel parameters measured on one device by
 * mnemobench-clblast-tune, applied with CLBlastOverrideParameters when the
 * OpenCL backend opens that device (docs/opencl-tuning.md).
 *
 * Format (text, one item per line, '#' starts a comment):
 *   mnemobench-clblast-tuning 1
 *   device <the backend's device name>
 *   driver <the driver version string>
 *   kernel <CLBlast kernel> NAME=VALUE ...      (any number of lines)
 *   measured <free text>                        (ignored when read) */
#ifndef MB_CLBLAST_TUNING_H
#define MB_CLBLAST_TUNING_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stddef.h>

#include "mb/backend.h"

#define MB_CLT_MAX_KERNELS 8
#define MB_CLT_MAX_PARAMS 24

typedef struct {
  char kernel[32];
  int nparams;
  char names[MB_CLT_MAX_PARAMS][24];
  size_t values[MB_CLT_MAX_PARAMS];
} mb_clt_kernel;

typedef struct {
  char device[128];
  char driver[96];
  int nkernels;
  mb_clt_kernel kernels[MB_CLT_MAX_KERNELS];
} mb_clt_file;

/* Where the tuning of a device lives when MB_CLBLAST_TUNING is unset:
 * ${XDG_CACHE_HOME:-$HOME/.cache}/mnemobench/clblast/<device>-<driver>.tune
 * (unsafe characters become '_').  0 when no home directory is known. */
int mb_clt_default_path(const mb_device_info *info, char *path, size_t len);

/* Reads a tuning file; 0 on success, else -1 with a one-line reason in why. */
int mb_clt_read(const char *path, mb_clt_file *t, char *why, size_t why_len);

/* Writes a tuning file atomically (a temporary file renamed into place, the
 * directories made as needed); `measured` lines are appended as given. */
int mb_clt_write(const char *path, const mb_clt_file *t, const char *const *measured, int nmeasured,
                 char *why, size_t why_len);

/* Applies every kernel's parameters to the device; 0 on success, else -1 with why. */
int mb_clt_apply(cl_device_id device, const mb_clt_file *t, char *why, size_t why_len);

/* Sets one parameter of a kernel entry (added when missing). */
void mb_clt_set(mb_clt_kernel *k, const char *name, size_t value);

/* The OpenCL backend at open: finds the device's tuning (MB_CLBLAST_TUNING: a file,
 * or "none"; unset: the default path, if that file exists), checks it was made for
 * this device and driver, applies it, and describes what it did in info->tuning
 * ("clblast default" or "clblast tuned: FILE").  A named or found file that cannot
 * be read, or belongs to another device, is an error (-1, why). */
int mb_clt_open(cl_device_id device, mb_device_info *info, char *why, size_t why_len);

#endif
