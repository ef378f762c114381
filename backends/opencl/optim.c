/* Optimizer launches (kernels/opencl/optim.cl). */
#include "cl_backend.h"

#include <math.h>

void mb_opencl_optim(mb_backend *be, const mb_optim_args *a)
{
  mb_cl *cl = mb_cl_of(be);
  if (!mb_cl_ok(cl) || !a->n) return;
  int adam = a->kind == MB_OPT_ADAM;
  if (!adam && a->kind != MB_OPT_SGD) {
    mb_cl_fail(cl, MB_BAD_ARG, "optim: bad kind %d", (int)a->kind);
    return;
  }
  mb_cl_args k = mb_cl_begin(cl, MB_CL_OPTIM, adam ? "optim_adam" : "optim_sgd");
  if (!k.ks) return;
  mb_cl_arg_view(&k, a->w);
  mb_cl_arg_view(&k, a->g);
  mb_cl_arg_view(&k, a->m);
  if (adam) mb_cl_arg_view(&k, a->v);
  mb_cl_arg_u64(&k, a->n);
  mb_cl_arg_f32(&k, a->lr);
  mb_cl_arg_f32(&k, a->weight_decay);
  if (adam) {
    mb_cl_arg_f32(&k, a->beta1);
    mb_cl_arg_f32(&k, a->beta2);
    mb_cl_arg_f32(&k, a->eps);
    /* bias corrections in double, like the ref oracle */
    mb_cl_arg_f32(&k, (float)(1.0 - pow((double)a->beta1, (double)a->t)));
    mb_cl_arg_f32(&k, (float)(1.0 - pow((double)a->beta2, (double)a->t)));
  } else {
    mb_cl_arg_f32(&k, a->momentum);
    mb_cl_arg_f32(&k, a->dampening);
    mb_cl_arg_i32(&k, a->first_step != 0);
  }
  mb_cl_launch(&k, "optim", mb_cl_groups(cl, a->n, k.ks->local), 0);
}
