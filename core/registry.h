/* The backends compiled into this binary, and how to open one by name. */
#ifndef MB_REGISTRY_H
#define MB_REGISTRY_H

#include "mb/backend.h"

typedef struct {
  const char *name;             /* "ref", "cpu", "opencl", "vulkan", "cuda" */
  const mb_backend_ops *ops;    /* NULL when not built */
  const char *not_built;        /* why it is missing from this binary */
} mb_backend_entry;

/* Every backend the project knows, built or not, in a fixed order. */
int mb_backend_entries(const mb_backend_entry **out);
const mb_backend_entry *mb_backend_lookup(const char *name);

/* Counts devices of a backend; 0 with a reason when it has none, is not built,
 * or is filtered out by MB_BACKENDS / MB_DISABLE_<NAME>. */
int mb_backend_devices(const char *name, char *why, size_t why_len);

/* Opens device `device` of backend `name`.  On failure returns NULL and a
 * one-line reason (unknown name, not built, disabled, no device, API error). */
mb_backend *mb_backend_open(const char *name, int device, char *why, size_t why_len);
void mb_backend_close(mb_backend *be);

/* Comma-separated list of the known backend names (for messages). */
const char *mb_backend_names(void);

#endif
