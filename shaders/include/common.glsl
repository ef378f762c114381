/* Shared by every shader: op codes (the values of the enums in include/mb/backend.h)
 * and IEEE constants built from bits, so that no compiler folds them. */
#ifndef MB_COMMON_GLSL
#define MB_COMMON_GLSL

#define MB_NEG_INF uintBitsToFloat(0xff800000u)
#define MB_FLT_MIN uintBitsToFloat(0x00800000u)   /* smallest normal f32 */

/* The op codes (UN_*, BIN_*, BC_*, RED_*, SEGBC_*, OPT_*, RNG_*): generated at build
 * time from include/mb/op_codes.def, the list the C enums come from. */
#include "op_codes.h"

/* unary LOG: subnormal inputs are scaled into the normal range first (exact: a power of
 * two), since GPU logs may flush them to zero */
float mb_log(float v)
{
  return v > 0.0 && v < MB_FLT_MIN ? log(v * 16777216.0) - 16.635532333438687 : log(v);
}

/* The literal min/max of the op contract (NaN in the first operand survives). */
float mb_min(float x, float y) { return y < x ? y : x; }
float mb_max(float x, float y) { return y > x ? y : x; }

#endif
