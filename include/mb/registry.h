/* The backends this binary knows, and how to open one by name.
 *
 * ref is linked in.  cpu and the GPU backends (opencl, vulkan, cuda) are
 * modules loaded at run time (mb-backend-NAME.so), so a host without one API's
 * runtime library (or OpenBLAS) still starts and reports that backend unavailable
 * with the loader's reason; the cpu module also brings libgomp only after the
 * registry has set its wait policy.  Modules are looked up in $MB_BACKEND_DIR when it is set,
 * else next to the program: the build tree's backends/NAME/ and the install's
 * module directory (see docs/architecture.md). */
#ifndef MB_REGISTRY_H
#define MB_REGISTRY_H

#include "mb/backend.h"

typedef struct {
  const char *name;             /* "ref", "cpu", "opencl", "vulkan", "cuda" */
  const mb_backend_ops *ops;    /* NULL when not built or its module did not load */
  const char *unavailable;      /* why ops is NULL */
  int module;                   /* loaded at run time (every backend but ref) */
  int gpu_api;                  /* a GPU compute API: opencl, vulkan, cuda */
} mb_backend_entry;

/* Every backend the project knows, built or not, in a fixed order.  Loads the
 * modules of all of them (once). */
int mb_backend_entries(const mb_backend_entry **out);
/* One entry (its module loaded once), or NULL for an unknown name. */
const mb_backend_entry *mb_backend_lookup(const char *name);

/* Counts devices of a backend; 0 with a reason when it has none, is not built,
 * its module does not load, or it is filtered out by MB_BACKENDS / MB_DISABLE_<NAME>. */
int mb_backend_devices(const char *name, char *why, size_t why_len);

/* Opens device `device` of backend `name`.  On failure returns NULL and a
 * one-line reason (unknown name, not built, not loadable, disabled, no device,
 * API error). */
mb_backend *mb_backend_open(const char *name, int device, char *why, size_t why_len);
void mb_backend_close(mb_backend *be);

/* The position of `name` in the fixed order of mb_backend_entries, or -1; loads
 * nothing (no module, no driver probe). */
int mb_backend_index(const char *name);

/* Comma-separated list of the known backend names (for messages). */
const char *mb_backend_names(void);

/* A backend module exports this function; it returns the module's op table. */
#define MB_BACKEND_MODULE_ENTRY "mb_backend_module_ops"
typedef const mb_backend_ops *(*mb_backend_module_fn)(void);

#endif
