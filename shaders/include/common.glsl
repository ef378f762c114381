/* Shared by every shader: op codes (the values of the enums in include/mb/backend.h)
 * and IEEE constants built from bits, so that no compiler folds them. */
#ifndef MB_COMMON_GLSL
#define MB_COMMON_GLSL

#define MB_NEG_INF uintBitsToFloat(0xff800000u)
#define MB_FLT_MIN uintBitsToFloat(0x00800000u)   /* smallest normal f32 */

/* mb_unary_op */
#define UN_AFFINE 0
#define UN_SQR 1
#define UN_SQRT 2
#define UN_EXP 3
#define UN_LOG 4
#define UN_RECIP 5
#define UN_SIGMOID 6
#define UN_RELU 7
#define UN_ABS 8
#define UN_CLAMP 9
#define UN_MIN_S 10
#define UN_MAX_S 11
#define UN_NAN_TO 12
#define UN_GT_S 13

/* mb_binary_op */
#define BIN_AXPBY 0
#define BIN_MUL 1
#define BIN_DIV 2
#define BIN_MIN 3
#define BIN_MAX 4
#define BIN_ADD_SQR 5
#define BIN_SIGMOID_BWD 6
#define BIN_RELU_BWD 7
#define BIN_GT 8

/* mb_bcast_op */
#define BC_ADD 0
#define BC_MUL 1
#define BC_SUB 2
#define BC_DIV 3

/* mb_reduce_op */
#define RED_SUM 0
#define RED_SUMSQ 1
#define RED_MAX 2
#define RED_MAX_FINITE 3
#define RED_ARGMAX 4

/* mb_segbcast_op */
#define SEGBC_MUL 0
#define SEGBC_ADD 1
#define SEGBC_INF_TO 2

/* mb_optim_kind, mb_rng_dist */
#define OPT_SGD 0
#define OPT_ADAM 1
#define RNG_U32 0
#define RNG_UNIFORM 1
#define RNG_NORMAL 2

/* The literal min/max of the op contract (NaN in the first operand survives). */
float mb_min(float x, float y) { return y < x ? y : x; }
float mb_max(float x, float y) { return y > x ? y : x; }

#endif
