/* Private declarations shared by the files of the ref backend (the oracle). */
#ifndef MB_REF_BACKEND_H
#define MB_REF_BACKEND_H

#include "host_backend.h"

#include <stdint.h>

typedef struct {
  mb_backend base;
} ref_backend;

static inline int ref_is_none(mb_view v) { return v.buf == NULL; }

extern const mb_backend_ops mb_ref_ops;

/* The required ops of mb/ops.def, as ref_<op>. */
#define MB_OPS_PREFIX ref_
#include "mb/ops_impl.h"
/* Optional ops (the oracle of the optional path: direct loops, f64 sums). */
void ref_conv2d_fwd(mb_backend *be, const mb_conv_args *a);
void ref_conv2d_bwd_data(mb_backend *be, const mb_conv_args *a);
void ref_conv2d_bwd_filter(mb_backend *be, const mb_conv_args *a);
void ref_forget_update(mb_backend *be, const mb_forget_args *a);
void ref_gemm_sq_acc(mb_backend *be, const mb_gemm_sq_args *a);


#endif
