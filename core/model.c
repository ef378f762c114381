/* The MLP and ResNet-18 adapters of the model interface. */
#include "core/model.h"
#include "core/mlp_extra.h"

#include <string.h>

/* ---------------------------------------------------------------- MLP */

static mb_view mlp_forward(mb_model *md, mb_view w, mb_view x, int batch, int train)
{
  (void)train;   /* no batch statistics in an MLP */
  return mb_mlp_forward(md->mlp, w, x, batch);
}

static void mlp_xent(mb_model *md, mb_view labels, int batch, float scale, mb_view loss)
{
  mb_mlp_xent(md->mlp, labels, batch, scale, loss);
}

static void mlp_backward(mb_model *md, int batch, const mb_bwd_opts *o)
{
  mb_mlp_backward(md->mlp, batch, o ? o->want_grads : 1);
  /* the per-sample squares come from the deltas and activations just computed */
  for (int t = 0; o && t < o->n_sq; t++)
    mb_mlp_accumulate_sq_grads(md->mlp, o->sq[t].r0, o->sq[t].r1, o->sq[t].acc);
  if (o && !mb_is_none(o->dx)) mb_mlp_input_grad(md->mlp, batch, o->dx);   /* from the deltas */
}

static void mlp_init(mb_model *md, uint64_t seed) { mb_mlp_init(md->mlp, seed); }

static int mlp_sens_create(mb_model *md, int rows, mb_model_sens *ws)
{
  memset(ws, 0, sizeof *ws);
  return mb_sens_ws_create(md->mlp, rows, &ws->mlp);
}

static void mlp_sens_grad(mb_model *md, mb_model_sens *ws, mb_view seeds, int h, int l2,
                          mb_view grad, mb_view loss)
{
  mb_mlp_sens_grad(md->mlp, &ws->mlp, seeds, h, l2, grad, loss);
}

static void mlp_sens_destroy(mb_model *md, mb_model_sens *ws) { mb_sens_ws_destroy(md->mlp, &ws->mlp); }

static const mb_model_ops k_mlp_ops = {mlp_forward, mlp_xent, mlp_backward, mlp_init,
                                       mlp_sens_create, mlp_sens_grad, mlp_sens_destroy};

void mb_model_from_mlp(mb_mlp *m, mb_model *md)
{
  memset(md, 0, sizeof *md);
  md->kind = MB_MODEL_MLP;
  md->ops = &k_mlp_ops;
  md->be = m->be;
  md->mlp = m;
  md->w = m->w;
  md->g = m->g;
  md->offs = m->pt.offs;
  md->nseg = m->pt.n;
  md->total = m->pt.total;
  md->in = m->act[0];
  md->dlogits = m->delta[m->cfg.n_layers];
  md->in_dim = m->cfg.dims[0];
  md->classes = m->cfg.dims[m->cfg.n_layers];
  md->max_batch = m->max_batch;
  md->passes = &m->passes;
}

/* ---------------------------------------------------------------- ResNet-18 */

static mb_view rn_forward(mb_model *md, mb_view w, mb_view x, int batch, int train)
{
  return mb_resnet_forward(md->rn, w, x, batch, train);
}

static void rn_xent(mb_model *md, mb_view labels, int batch, float scale, mb_view loss)
{
  mb_resnet_xent(md->rn, labels, batch, scale, loss);
}

#define MB_MODEL_MAX_SQ 8

static void rn_backward(mb_model *md, int batch, const mb_bwd_opts *o)
{
  mb_rn_sq_target sq[MB_MODEL_MAX_SQ];
  int want_input = o && !mb_is_none(o->dx);
  mb_rn_bwd_opts ro = {.want_grads = o ? o->want_grads : 1, .want_input = want_input, .n_sq = 0,
                       .sq = sq};
  if (o && o->n_sq > MB_MODEL_MAX_SQ) {
    mb_fail(md->be, MB_BAD_ARG, "model backward: %d squared-gradient targets (at most %d)",
            o->n_sq, MB_MODEL_MAX_SQ);
    return;
  }
  for (int t = 0; o && t < o->n_sq; t++) {
    sq[t] = (mb_rn_sq_target){o->sq[t].r0, o->sq[t].r1, o->sq[t].acc};
    ro.n_sq++;
  }
  mb_resnet_backward(md->rn, batch, &ro);
  if (want_input) mb_copy(md->be, o->dx, md->rn->dx, (size_t)batch * md->in_dim);
}

static void rn_init(mb_model *md, uint64_t seed) { mb_resnet_init(md->rn, seed); }

static int rn_sens_create(mb_model *md, int rows, mb_model_sens *ws)
{
  memset(ws, 0, sizeof *ws);
  return mb_rn_sens_ws_create(md->rn, rows, &ws->rn);
}

static void rn_sens_grad(mb_model *md, mb_model_sens *ws, mb_view seeds, int h, int l2,
                         mb_view grad, mb_view loss)
{
  mb_resnet_sens_grad(md->rn, &ws->rn, seeds, h, l2, grad, loss);
}

static void rn_sens_destroy(mb_model *md, mb_model_sens *ws) { mb_rn_sens_ws_destroy(md->rn, &ws->rn); }

static const mb_model_ops k_rn_ops = {rn_forward, rn_xent, rn_backward, rn_init,
                                      rn_sens_create, rn_sens_grad, rn_sens_destroy};

void mb_model_from_resnet(mb_resnet *r, mb_model *md)
{
  memset(md, 0, sizeof *md);
  md->kind = MB_MODEL_RESNET18;
  md->ops = &k_rn_ops;
  md->be = r->be;
  md->rn = r;
  md->w = r->w;
  md->g = r->g;
  md->offs = r->pt.offs;
  md->nseg = r->pt.n;
  md->total = r->pt.total;
  md->in = r->in;
  md->dlogits = r->dlogits;
  md->in_dim = r->cfg.in_c * r->cfg.in_h * r->cfg.in_w;
  md->classes = r->cfg.classes;
  md->max_batch = r->max_batch;
  md->passes = &r->passes;
}

const char *mb_model_kind_name(mb_model_kind k)
{
  return k == MB_MODEL_RESNET18 ? "resnet18" : "mlp";
}

int mb_model_kind_parse(const char *s, mb_model_kind *k)
{
  if (strcmp(s, "mlp") == 0) *k = MB_MODEL_MLP;
  else if (strcmp(s, "resnet18") == 0) *k = MB_MODEL_RESNET18;
  else return -1;
  return 0;
}
