/* The MLP and ResNet-18 adapters of the model interface: passes, creation,
 * naming and checkpoints, so callers never branch on the kind. */
#include "core/model.h"
#include "core/checkpoint.h"
#include "core/mlp_extra.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Downloads n floats of v into a new host array at *out; -1 when out of memory. */
static int download_new(mb_backend *be, mb_view v, size_t n, float **out)
{
  *out = malloc((n ? n : 1) * sizeof(float));
  if (!*out) return -1;
  mb_download(be, *out, v, n);
  return 0;
}

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

static void mlp_destroy(mb_model *md) { mb_mlp_destroy(md->mlp); }

static void mlp_describe(const mb_model *md, char *name, size_t len)
{
  mb_mlp_describe(&md->mlp->cfg, name, len);
}

static int mlp_save(mb_model *md, mb_checkpoint *c)
{
  c->kind = MB_MODEL_MLP;
  c->cfg = md->mlp->cfg;
  c->n_params = md->total;
  return download_new(md->be, md->w, md->total, &c->params);
}

static int mlp_load(mb_model *md, const mb_checkpoint *c, char *err, size_t len)
{
  if (c->kind != MB_MODEL_MLP || c->n_params != md->total) {
    snprintf(err, len, "checkpoint does not hold this model's %zu weights", md->total);
    return -1;
  }
  mb_upload(md->be, md->w, c->params, c->n_params);
  return 0;
}

static const mb_model_ops k_mlp_ops = {mlp_forward, mlp_xent, mlp_backward, mlp_init,
                                       mlp_sens_create, mlp_sens_grad, mlp_sens_destroy,
                                       mlp_destroy, mlp_describe, mlp_save, mlp_load, 0};

/* The view every kind makes of its model: buffers, segment table, sizes, counters. */
static void wrap(mb_model *md, mb_model_kind kind, const mb_model_ops *ops, mb_backend *be,
                 mb_view w, mb_view g, const size_t *offs, int nseg, size_t total, mb_view in,
                 mb_view dlogits, int in_dim, int classes, int max_batch, mb_pass_count *passes)
{
  *md = (mb_model){.kind = kind, .ops = ops, .be = be, .w = w, .g = g, .offs = offs,
                   .nseg = nseg, .total = total, .in = in, .dlogits = dlogits, .in_dim = in_dim,
                   .classes = classes, .max_batch = max_batch, .passes = passes};
}

void mb_model_from_mlp(mb_mlp *m, mb_model *md)
{
  wrap(md, MB_MODEL_MLP, &k_mlp_ops, m->be, m->w, m->g, m->pt.offs, m->pt.n, m->pt.total,
       m->act[0], m->delta[m->cfg.n_layers], m->cfg.dims[0], m->cfg.dims[m->cfg.n_layers],
       m->max_batch, &m->passes);
  md->mlp = m;
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

static void rn_backward(mb_model *md, int batch, const mb_bwd_opts *o)
{
  int want_input = o && !mb_is_none(o->dx);
  mb_rn_bwd_opts ro = {.want_grads = o ? o->want_grads : 1, .want_input = want_input,
                       .n_sq = o ? o->n_sq : 0, .sq = o ? o->sq : NULL};
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

static void rn_destroy(mb_model *md) { mb_resnet_destroy(md->rn); }

static void rn_describe(const mb_model *md, char *name, size_t len)
{
  mb_model_name_rn(&md->rn->cfg, name, len);
}

/* BN running statistics are model state: eval mode needs them. */
static int rn_save(mb_model *md, mb_checkpoint *c)
{
  mb_resnet *r = md->rn;
  c->kind = MB_MODEL_RESNET18;
  c->rcfg = r->cfg;
  c->n_params = md->total;
  c->n_stats = r->n_stats;
  if (download_new(md->be, md->w, md->total, &c->params) != 0) return -1;
  if (download_new(md->be, r->run_mean, r->n_stats, &c->run_mean) != 0) return -1;
  return download_new(md->be, r->run_var, r->n_stats, &c->run_var);
}

static int rn_load(mb_model *md, const mb_checkpoint *c, char *err, size_t len)
{
  mb_resnet *r = md->rn;
  if (c->kind != MB_MODEL_RESNET18 || c->n_params != md->total) {
    snprintf(err, len, "checkpoint does not hold this model's %zu weights", md->total);
    return -1;
  }
  mb_upload(md->be, md->w, c->params, c->n_params);
  if (c->n_stats != r->n_stats || !c->run_mean || !c->run_var) {
    snprintf(err, len, "checkpoint lacks the model's BN running statistics");
    return -1;
  }
  mb_upload(md->be, r->run_mean, c->run_mean, c->n_stats);
  mb_upload(md->be, r->run_var, c->run_var, c->n_stats);
  return 0;
}

static const mb_model_ops k_rn_ops = {rn_forward, rn_xent, rn_backward, rn_init,
                                      rn_sens_create, rn_sens_grad, rn_sens_destroy,
                                      rn_destroy, rn_describe, rn_save, rn_load, 1};

void mb_model_from_resnet(mb_resnet *r, mb_model *md)
{
  wrap(md, MB_MODEL_RESNET18, &k_rn_ops, r->be, r->w, r->g, r->pt.offs, r->pt.n, r->pt.total,
       r->in, r->dlogits, r->cfg.in_c * r->cfg.in_h * r->cfg.in_w, r->cfg.classes, r->max_batch,
       &r->passes);
  md->rn = r;
}

/* ---------------------------------------------------------------- Swin-T */

static mb_view sw_forward(mb_model *md, mb_view w, mb_view x, int batch, int train)
{
  (void)train;   /* no batch statistics; dropout and stochastic depth are identity */
  return mb_swin_forward(md->sw, w, x, batch);
}

static void sw_xent(mb_model *md, mb_view labels, int batch, float scale, mb_view loss)
{
  mb_swin_xent(md->sw, labels, batch, scale, loss);
}

static void sw_backward(mb_model *md, int batch, const mb_bwd_opts *o)
{
  int want_input = o && !mb_is_none(o->dx);
  mb_sw_bwd_opts so = {.want_grads = o ? o->want_grads : 1, .want_input = want_input,
                       .n_sq = o ? o->n_sq : 0, .sq = o ? o->sq : NULL};
  mb_swin_backward(md->sw, batch, &so);
  if (want_input) mb_copy(md->be, o->dx, md->sw->dx, (size_t)batch * md->in_dim);
}

static void sw_init(mb_model *md, uint64_t seed) { mb_swin_init(md->sw, seed); }

static int sw_sens_create(mb_model *md, int rows, mb_model_sens *ws)
{
  (void)rows;
  memset(ws, 0, sizeof *ws);
  mb_fail(md->be, MB_UNSUPPORTED,
          "mumis: the input-sensitivity double backward is not written for Swin-T");
  return -1;
}

static void sw_sens_grad(mb_model *md, mb_model_sens *ws, mb_view seeds, int h, int l2,
                         mb_view grad, mb_view loss)
{
  (void)ws; (void)seeds; (void)h; (void)l2; (void)grad; (void)loss;
  mb_fail(md->be, MB_UNSUPPORTED, "mumis: the input-sensitivity double backward is not written for Swin-T");
}

static void sw_sens_destroy(mb_model *md, mb_model_sens *ws) { (void)md; (void)ws; }

static void sw_destroy(mb_model *md)
{
  mb_swin_destroy(md->sw);
  if (md->sw_owned) free(md->sw);
  md->sw = NULL;
  md->sw_owned = 0;
}

static void sw_describe(const mb_model *md, char *name, size_t len)
{
  mb_swin_describe(&md->sw->cfg, name, len);
}

static int sw_save(mb_model *md, mb_checkpoint *c)
{
  c->kind = MB_MODEL_SWIN_T;
  c->scfg = md->sw->cfg;
  c->n_params = md->total;
  c->n_stats = 0;
  return download_new(md->be, md->w, md->total, &c->params);
}

static int sw_load(mb_model *md, const mb_checkpoint *c, char *err, size_t len)
{
  if (c->kind != MB_MODEL_SWIN_T || c->n_params != md->total ||
      memcmp(&c->scfg, &md->sw->cfg, sizeof c->scfg) != 0) {
    snprintf(err, len, "checkpoint does not hold this model's %zu weights", md->total);
    return -1;
  }
  mb_upload(md->be, md->w, c->params, c->n_params);
  return 0;
}

static const mb_model_ops k_sw_ops = {sw_forward, sw_xent, sw_backward, sw_init,
                                      sw_sens_create, sw_sens_grad, sw_sens_destroy,
                                      sw_destroy, sw_describe, sw_save, sw_load, 0};

void mb_model_from_swin(mb_swin *s, mb_model *md)
{
  wrap(md, MB_MODEL_SWIN_T, &k_sw_ops, s->be, s->w, s->g, s->pt.offs, s->pt.n, s->pt.total, s->in,
       s->dlogits, s->cfg.in_c * s->cfg.in_h * s->cfg.in_w, s->cfg.classes, s->max_batch,
       &s->passes);
  md->sw = s;
}

const char *mb_model_tensor_name(const mb_model *md, int i)
{
  if (md->kind == MB_MODEL_SWIN_T) return md->sw->pt.t[i].name;
  return md->kind == MB_MODEL_RESNET18 ? md->rn->pt.t[i].name : md->mlp->pt.t[i].name;
}

const char *mb_model_kind_name(mb_model_kind k)
{
  return k == MB_MODEL_RESNET18 ? "resnet18" : k == MB_MODEL_SWIN_T ? "swin_t" : "mlp";
}

int mb_model_kind_parse(const char *s, mb_model_kind *k)
{
  if (strcmp(s, "mlp") == 0) *k = MB_MODEL_MLP;
  else if (strcmp(s, "resnet18") == 0) *k = MB_MODEL_RESNET18;
  else if (strcmp(s, "swin_t") == 0) *k = MB_MODEL_SWIN_T;
  else return -1;
  return 0;
}

/* ---------------------------------------------------------------- creation */

int mb_model_config_make(mb_model_kind kind, const char *mlp_spec, const char *act, int width,
                         int c, int h, int w, int n_classes, mb_model_config *cfg, char *err,
                         size_t len)
{
  memset(cfg, 0, sizeof *cfg);
  cfg->kind = kind;
  if (kind == MB_MODEL_SWIN_T) {
    /* torchvision's swin_t geometry on the data's input shape */
    mb_swin_config_imagenet(&cfg->sw, n_classes > 0 ? n_classes : 1000, h);
    cfg->sw.in_c = c;
    cfg->sw.in_w = w;
    mb_sw_table *pt = malloc(sizeof *pt);
    if (!pt) { snprintf(err, len, "swin: out of host memory"); return -1; }
    int rc = mb_swin_table_build(&cfg->sw, pt, err, len);
    free(pt);
    return rc;
  }
  if (kind == MB_MODEL_RESNET18) {
    /* CIFAR's §0.2 network with the data's input shape (the 1×28×28 variant for
     * Fashion-MNIST) */
    if (c == 1 && h == 28 && w == 28) mb_resnet_config_fmnist(&cfg->rn);
    else mb_resnet_config_cifar(&cfg->rn);
    cfg->rn.in_c = c;
    cfg->rn.in_h = h;
    cfg->rn.in_w = w;
    cfg->rn.width = width;
    if (n_classes > 0) cfg->rn.classes = n_classes;
    return 0;
  }
  if (mb_mlp_config_parse(mlp_spec, act, &cfg->mlp, err, len) != 0) return -1;
  /* No sizes given (or the paper's model by name): the paper's hidden layer
   * (§0.2) between the data's input and class count. */
  if (!mlp_spec || strcmp(mlp_spec, "mlp") == 0) {
    cfg->mlp.dims[0] = c * h * w;
    if (n_classes > 0) cfg->mlp.dims[cfg->mlp.n_layers] = n_classes;
  }
  cfg->mlp.in_c = c; cfg->mlp.in_h = h; cfg->mlp.in_w = w;
  return 0;
}

void mb_model_config_of(const mb_checkpoint *c, mb_model_config *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  cfg->kind = c->kind;
  cfg->mlp = c->cfg;
  cfg->rn = c->rcfg;
  cfg->sw = c->scfg;
}

int mb_model_config_in_dim(const mb_model_config *cfg)
{
  if (cfg->kind == MB_MODEL_RESNET18) return cfg->rn.in_c * cfg->rn.in_h * cfg->rn.in_w;
  if (cfg->kind == MB_MODEL_SWIN_T) return cfg->sw.in_c * cfg->sw.in_h * cfg->sw.in_w;
  return cfg->mlp.dims[0];
}

int mb_model_config_classes(const mb_model_config *cfg)
{
  if (cfg->kind == MB_MODEL_SWIN_T) return cfg->sw.classes;
  return cfg->kind == MB_MODEL_RESNET18 ? cfg->rn.classes : cfg->mlp.dims[cfg->mlp.n_layers];
}

/* Rows the methods' default batches need at once: FastMU's 256 noise images (in BN
 * train mode, so they cannot be split), MU-Mis's 2 × 128 seeds. */
#define MB_METHOD_ROWS 256

int mb_model_create(mb_backend *be, const mb_model_config *cfg, int batch, mb_mlp *mlp,
                    mb_resnet *rn, mb_model *md)
{
  int classes = mb_model_config_classes(cfg);
  int ws = batch > classes ? batch : classes;
  if (cfg->kind == MB_MODEL_SWIN_T) {
    /* activations dominate (110 MB per 224×224 image): room for the batch and the codes
     * (one row per class), not the methods' default rows; bench-scale's 1000-class model
     * is made with mb_swin_create at its own batch and forgets with the batched code passes */
    mb_swin *s = calloc(1, sizeof *s);
    if (!s) {
      mb_fail(be, MB_OOM, "swin: out of host memory");
      memset(md, 0, sizeof *md);
      return -1;
    }
    int rc = mb_swin_create(be, &cfg->sw, ws > 0 ? ws : 1, s);
    mb_model_from_swin(s, md);   /* wrapped even on failure, so destroy frees the rest */
    md->sw_owned = 1;
    return rc != 0 || !mb_ok(be) ? -1 : 0;
  }
  if (cfg->kind == MB_MODEL_RESNET18) {
    /* The ResNet's workspace is sized by the training batch and the methods'
     * batches: its activations dominate memory (~6 MB per row at width 64 on
     * 32×32), so evaluation runs at that batch too. */
    if (ws < MB_METHOD_ROWS) ws = MB_METHOD_ROWS;
    int rc = mb_resnet_create(be, &cfg->rn, ws, rn);
    mb_model_from_resnet(rn, md);   /* wrapped even on failure, so destroy frees the rest */
    if (rc != 0) return -1;
  } else {
    if (ws < 1000) ws = 1000;   /* evaluation batches */
    mb_mlp_create(be, &cfg->mlp, ws, mlp);
    mb_model_from_mlp(mlp, md);
  }
  return mb_ok(be) ? 0 : -1;
}

/* The one name of a ResNet-18 variant in result rows and tables. */
void mb_model_name_resnet(int imagenet_stem, int in_c, int in_h, int width, char *out, size_t len)
{
  const char *v = imagenet_stem ? "-imagenet"
                  : in_c == 1    ? "-fmnist"
                  : in_c == 3 && in_h == 32 ? "-cifar"
                  : in_c == 0    ? ""
                                 : "-custom";
  if (width == 64) snprintf(out, len, "resnet18%s", v);
  else snprintf(out, len, "resnet18%s-w%d", v, width);   /* a narrow test variant */
}

void mb_model_name_rn(const mb_resnet_config *c, char *out, size_t len)
{
  if (c->arch != MB_RN_RESNEXT50) {
    mb_model_name_resnet(c->stem == MB_RN_IMAGENET, c->in_c, c->in_h, c->width, out, len);
    return;
  }
  char base[64];
  /* the ResNet-18 name's variant suffix, on the ResNeXt's stem */
  mb_model_name_resnet(c->stem == MB_RN_IMAGENET, c->in_c, c->in_h, c->width, base, sizeof base);
  int g = c->groups > 0 ? c->groups : 32, bw = c->base_width > 0 ? c->base_width : 4;
  snprintf(out, len, "resnext50_%dx%dd%s", g, bw, base + strlen("resnet18"));
}
