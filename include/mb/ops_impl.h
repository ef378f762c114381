/* For a backend's private header: declares <prefix><op> for every required op of
 * include/mb/ops.def; mb/ops_table.inc, included inside the backend's mb_backend_ops
 * initialiser, sets .<op> = <prefix><op> for each.  A required op the backend does
 * not define is then an undefined symbol at link time, never a NULL entry at run
 * time.
 *
 *   #define MB_OPS_PREFIX ref_
 *   #include "mb/ops_impl.h"
 *   ...
 *   const mb_backend_ops mb_ref_ops = {
 *     .name = "ref", ...
 *   #include "mb/ops_table.inc"
 *     ...
 *   };
 *
 * Optional ops are declared and set by hand, where a backend has them. */
#ifndef MB_OPS_IMPL_H
#define MB_OPS_IMPL_H

#include "mb/backend.h"

#ifndef MB_OPS_PREFIX
#error "define MB_OPS_PREFIX (the backend's function prefix) before including mb/ops_impl.h"
#endif

#define MB_OPS_CAT_(a, b) a##b
#define MB_OPS_CAT(a, b) MB_OPS_CAT_(a, b)

#define MB_OP(name, params) void MB_OPS_CAT(MB_OPS_PREFIX, name) params;
#include "mb/ops.def"

#endif
