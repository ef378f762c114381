/* The entry of a run-time-loaded backend module (mb-backend-NAME.so): compiled
 * once per module with -DMB_MODULE_OPS=<the backend's op table>.  It is the
 * module's only exported symbol; the registry dlopen()s the module and calls it. */
#include "mb/registry.h"

#ifndef MB_MODULE_OPS
#error "compile with -DMB_MODULE_OPS=mb_<name>_ops"
#endif

extern const mb_backend_ops MB_MODULE_OPS;

__attribute__((visibility("default"))) const mb_backend_ops *mb_backend_module_ops(void);

const mb_backend_ops *mb_backend_module_ops(void)
{
  return &MB_MODULE_OPS;
}
