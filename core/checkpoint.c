/* Checkpoint file: "MNEMOBCK", u32 version, u32 header length, header text
 * (key=value lines), u64 n_params, f32 params, u64 n_code_floats, f32 codes,
 * [version ≥ 2: u64 n_stats, f32 running means, f32 running variances],
 * (version 3 adds the data_kind and data_path header keys, version 4 the finetune_*
 * keys, version 5 model=resnext50_32x4d with groups and base_width, nothing binary;
 * model=swin_t adds its configuration keys to version 4 or later)
 * u64 FNV-1a of every byte before it.  Little-endian hosts only (checked). */
#include "core/checkpoint.h"
#include "util/atomic_file.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char k_magic[8] = {'M', 'N', 'E', 'M', 'O', 'B', 'C', 'K'};

typedef struct {
  FILE *f;
  uint64_t hash;
  int bad;
} ckfile;

static void hash_bytes(uint64_t *h, const void *p, size_t n)
{
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) { *h ^= b[i]; *h *= 1099511628211ull; }
}

/* The writer: the file appears whole under its name or not at all. */
typedef struct {
  mb_afile a;
  uint64_t hash;
} ckout;

static void put(ckout *o, const void *p, size_t n)
{
  mb_afile_write(&o->a, p, n);
  hash_bytes(&o->hash, p, n);
}

static int get(ckfile *o, void *p, size_t n)
{
  if (o->bad || fread(p, 1, n, o->f) != n) { o->bad = 1; return -1; }
  hash_bytes(&o->hash, p, n);
  return 0;
}

int mb_checkpoint_in_dim(const mb_checkpoint *c)
{
  if (c->kind == MB_MODEL_RESNET18) return c->rcfg.in_c * c->rcfg.in_h * c->rcfg.in_w;
  if (c->kind == MB_MODEL_SWIN_T) return c->scfg.in_c * c->scfg.in_h * c->scfg.in_w;
  return c->cfg.dims[0];
}

static void header_text(const mb_checkpoint *c, char *h, size_t len)
{
  char arch[256] = "";
  if (c->kind == MB_MODEL_SWIN_T) {
    const mb_swin_config *w = &c->scfg;
    snprintf(arch, sizeof arch,
             "model=swin_t\npatch=%d\nwindow=%d\nembed=%d\ndepths=%d,%d,%d,%d\n"
             "heads=%d,%d,%d,%d\nmlp_ratio=%d\nin_shape=%d,%d,%d\n",
             w->patch, w->window, w->embed, w->depths[0], w->depths[1], w->depths[2], w->depths[3],
             w->heads[0], w->heads[1], w->heads[2], w->heads[3], w->mlp_ratio, w->in_c, w->in_h,
             w->in_w);
  } else if (c->kind == MB_MODEL_RESNET18) {
    const mb_resnet_config *r = &c->rcfg;
    if (r->arch == MB_RN_RESNEXT50)
      snprintf(arch, sizeof arch,
               "model=resnext50_32x4d\nstem=%s\nwidth=%d\ngroups=%d\nbase_width=%d\n"
               "in_shape=%d,%d,%d\n", r->stem == MB_RN_IMAGENET ? "imagenet" : "cifar", r->width,
               r->groups > 0 ? r->groups : 32, r->base_width > 0 ? r->base_width : 4, r->in_c,
               r->in_h, r->in_w);
    else
      snprintf(arch, sizeof arch, "model=resnet18\nstem=%s\nwidth=%d\nin_shape=%d,%d,%d\n",
               r->stem == MB_RN_IMAGENET ? "imagenet" : "cifar", r->width, r->in_c, r->in_h,
               r->in_w);
  } else {
    char dims[128] = "";
    size_t o = 0;
    for (int i = 0; i <= c->cfg.n_layers; i++)
      o += (size_t)snprintf(dims + o, sizeof dims - o, i ? ",%d" : "%d", c->cfg.dims[i]);
    snprintf(arch, sizeof arch, "model=mlp\ndims=%s\nact=%s\nin_shape=%d,%d,%d\n", dims,
             c->cfg.act == MB_ACT_SIGMOID ? "sigmoid" : "relu", c->cfg.in_c, c->cfg.in_h, c->cfg.in_w);
  }
  snprintf(h, len,
           "%sclasses=%d\ncodes=%s\nhas_codes=%d\n"
           "t_mix=%.9g\nseed=%" PRIu64 "\nepochs=%d\nbatch=%d\nlr=%.9g\ndataset=%s\n"
           "dataset_checksum=%016" PRIx64 "\nbackend=%s\ndevice=%s\nforgotten=%s\n"
           "data_kind=%s\ndata_path=%s\n",
           arch, c->n_classes, mb_code_dist_name(c->code_dist), c->has_codes, c->t_mix,
           c->seed, c->epochs, c->batch, c->lr, c->dataset, c->dataset_checksum, c->backend,
           c->device, c->forgotten, c->data_kind, strchr(c->data_path, '\n') ? "" : c->data_path);
  if (c->finetune_steps > 0) {
    size_t o = strlen(h);
    snprintf(h + o, len - o,
             "finetune_steps=%d\nfinetune_batch=%d\nfinetune_lr=%.9g\nfinetune_weight_decay=%.9g\n"
             "finetune_t_mix=%.9g\nfinetune_seed=%" PRIu64 "\nfinetune_s=%.6f\nfinetune_base=%s\n"
             "finetune_base_checksum=%016" PRIx64 "\n",
             c->finetune_steps, c->finetune_batch, c->finetune_lr, c->finetune_weight_decay,
             c->finetune_t_mix, c->finetune_seed, c->finetune_s,
             strchr(c->finetune_base, '\n') ? "" : c->finetune_base, c->finetune_base_checksum);
  }
}

int mb_checkpoint_write(const char *path, const mb_checkpoint *c, char *err, size_t len)
{
  ckout o = {.hash = 1469598103934665603ull};
  if (mb_afile_open(&o.a, path, err, len) != 0) return -1;
  char h[16384];   /* two paths of up to 4 KiB each fit */
  header_text(c, h, sizeof h);
  /* the lowest version that holds the file: older readers still take every other model */
  uint32_t ver = c->kind == MB_MODEL_RESNET18 && c->rcfg.arch == MB_RN_RESNEXT50 ? 5 : 4;
  uint32_t hl = (uint32_t)strlen(h);
  uint64_t np = c->n_params, nc = c->codes ? (uint64_t)c->n_classes * mb_checkpoint_in_dim(c) : 0;
  uint64_t ns = c->run_mean && c->run_var ? c->n_stats : 0;
  put(&o, k_magic, 8);
  put(&o, &ver, 4);
  put(&o, &hl, 4);
  put(&o, h, hl);
  put(&o, &np, 8);
  put(&o, c->params, np * 4);
  put(&o, &nc, 8);
  if (nc) put(&o, c->codes, nc * 4);
  put(&o, &ns, 8);
  if (ns) { put(&o, c->run_mean, ns * 4); put(&o, c->run_var, ns * 4); }
  uint64_t sum = o.hash;
  mb_afile_write(&o.a, &sum, 8);
  return mb_afile_commit(&o.a, err, len);
}

void mb_checkpoint_set_data(mb_checkpoint *c, const mb_dataset *train, const char *dir)
{
  c->data_path[0] = 0;
  if (train->synthetic) {
    snprintf(c->data_kind, sizeof c->data_kind, "synthetic");
    return;
  }
  snprintf(c->data_kind, sizeof c->data_kind, "%s",
           strcmp(train->name, "cifar-10") == 0 ? "cifar-10" : "idx");
  if (!dir) dir = mb_data_default_dir();
  char *abs = dir ? realpath(dir, NULL) : NULL;
  if (abs && strlen(abs) < sizeof c->data_path && !strchr(abs, '\n'))
    memcpy(c->data_path, abs, strlen(abs) + 1);
  free(abs);
}

static const char *field(const char *h, const char *key, char *out, size_t len)
{
  size_t kl = strlen(key);
  for (const char *p = h; p && *p;) {
    if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
      const char *v = p + kl + 1, *e = strchr(v, '\n');
      size_t n = e ? (size_t)(e - v) : strlen(v);
      if (n >= len) n = len - 1;
      memcpy(out, v, n);
      out[n] = 0;
      return out;
    }
    p = strchr(p, '\n');
    if (p) p++;
  }
  out[0] = 0;
  return NULL;
}

static int parse_resnet(const char *h, mb_checkpoint *c, int resnext, char *err, size_t len)
{
  char v[256];
  mb_resnet_config *r = &c->rcfg;
  memset(r, 0, sizeof *r);
  if (resnext) {
    r->arch = MB_RN_RESNEXT50;
    r->groups = atoi(field(h, "groups", v, sizeof v) ? v : "0");
    r->base_width = atoi(field(h, "base_width", v, sizeof v) ? v : "0");
    if (r->groups < 1 || r->groups > 4096 || r->base_width < 1 || r->base_width > 4096) {
      snprintf(err, len, "bad resnext50_32x4d groups or base_width in header");
      return -1;
    }
  }
  field(h, "stem", v, sizeof v);
  r->stem = strcmp(v, "imagenet") == 0 ? MB_RN_IMAGENET : MB_RN_CIFAR;
  r->width = atoi(field(h, "width", v, sizeof v) ? v : "0");
  r->classes = atoi(field(h, "classes", v, sizeof v) ? v : "0");
  field(h, "in_shape", v, sizeof v);
  if (sscanf(v, "%d,%d,%d", &r->in_c, &r->in_h, &r->in_w) != 3 || r->in_c < 1 || r->in_c > 4 ||
      r->in_h < 1 || r->in_h > 4096 || r->in_w < 1 || r->in_w > 4096 || r->width < 1 ||
      r->width > 4096 || r->classes < 2 || r->classes > 100000) {
    snprintf(err, len, "bad resnet18 configuration in header");
    return -1;
  }
  c->n_classes = r->classes;
  return 0;
}

static int parse_swin(const char *h, mb_checkpoint *c, char *err, size_t len)
{
  char v[256];
  mb_swin_config *w = &c->scfg;
  memset(w, 0, sizeof *w);
  w->patch = atoi(field(h, "patch", v, sizeof v) ? v : "0");
  w->window = atoi(field(h, "window", v, sizeof v) ? v : "0");
  w->embed = atoi(field(h, "embed", v, sizeof v) ? v : "0");
  w->mlp_ratio = atoi(field(h, "mlp_ratio", v, sizeof v) ? v : "0");
  w->classes = atoi(field(h, "classes", v, sizeof v) ? v : "0");
  int ok = 1;
  field(h, "depths", v, sizeof v);
  ok &= sscanf(v, "%d,%d,%d,%d", &w->depths[0], &w->depths[1], &w->depths[2], &w->depths[3]) == 4;
  field(h, "heads", v, sizeof v);
  ok &= sscanf(v, "%d,%d,%d,%d", &w->heads[0], &w->heads[1], &w->heads[2], &w->heads[3]) == 4;
  field(h, "in_shape", v, sizeof v);
  ok &= sscanf(v, "%d,%d,%d", &w->in_c, &w->in_h, &w->in_w) == 3;
  /* the table build checks every field's range; classes as for the ResNet */
  mb_sw_table *pt = ok && w->classes >= 2 && w->classes <= 100000 ? malloc(sizeof *pt) : NULL;
  char inner[320];
  if (!pt || mb_swin_table_build(w, pt, inner, sizeof inner) != 0) {
    snprintf(err, len, "bad swin_t configuration in header");
    free(pt);
    return -1;
  }
  free(pt);
  c->n_classes = w->classes;
  return 0;
}

static int parse_mlp(const char *h, mb_checkpoint *c, char *err, size_t len)
{
  char v[256];
  field(h, "dims", v, sizeof v);
  int n = 0;
  for (char *p = v, *e; *p && n <= MB_MAX_LAYERS; p = *e ? e + 1 : e) {
    long d = strtol(p, &e, 10);
    if (e == p || d < 1 || d > 100000) { snprintf(err, len, "bad dims in header"); return -1; }
    c->cfg.dims[n++] = (int)d;
  }
  if (n < 2 || n > MB_MAX_LAYERS + 1) { snprintf(err, len, "bad dims in header"); return -1; }
  c->cfg.n_layers = n - 1;
  field(h, "act", v, sizeof v);
  c->cfg.act = strcmp(v, "relu") == 0 ? MB_ACT_RELU : MB_ACT_SIGMOID;
  field(h, "in_shape", v, sizeof v);
  if (sscanf(v, "%d,%d,%d", &c->cfg.in_c, &c->cfg.in_h, &c->cfg.in_w) != 3 ||
      (long)c->cfg.in_c * c->cfg.in_h * c->cfg.in_w != c->cfg.dims[0]) {
    snprintf(err, len, "bad in_shape in header");
    return -1;
  }
  c->n_classes = c->cfg.dims[c->cfg.n_layers];
  return 0;
}

static int parse_header(const char *h, mb_checkpoint *c, char *err, size_t len)
{
  char v[256];
  memset(&c->cfg, 0, sizeof c->cfg);
  field(h, "model", v, sizeof v);
  int resnext = strcmp(v, "resnext50_32x4d") == 0;
  if (strcmp(v, "mlp") == 0) c->kind = MB_MODEL_MLP;
  else if (strcmp(v, "resnet18") == 0 || resnext) c->kind = MB_MODEL_RESNET18;
  else if (strcmp(v, "swin_t") == 0) c->kind = MB_MODEL_SWIN_T;
  else { snprintf(err, len, "unsupported model '%s'", v); return -1; }
  int rc = c->kind == MB_MODEL_MLP      ? parse_mlp(h, c, err, len)
           : c->kind == MB_MODEL_SWIN_T ? parse_swin(h, c, err, len)
                                        : parse_resnet(h, c, resnext, err, len);
  if (rc != 0) return -1;
  field(h, "codes", v, sizeof v);
  if (mb_code_dist_parse(v, &c->code_dist) != 0) c->code_dist = MB_CODES_UNIFORM01;
  c->has_codes = atoi(field(h, "has_codes", v, sizeof v) ? v : "0");
  c->t_mix = (float)atof(field(h, "t_mix", v, sizeof v) ? v : "0");
  c->seed = strtoull(field(h, "seed", v, sizeof v) ? v : "0", NULL, 10);
  c->epochs = atoi(field(h, "epochs", v, sizeof v) ? v : "0");
  /* the training batch also sizes the loaded model's buffers: the range training allows */
  long batch = strtol(field(h, "batch", v, sizeof v) ? v : "0", NULL, 10);
  if (batch < 0 || batch > 65536) {
    snprintf(err, len, "bad batch %s in header (0 to 65536)", v);
    return -1;
  }
  c->batch = (int)batch;
  c->lr = (float)atof(field(h, "lr", v, sizeof v) ? v : "0");
  field(h, "dataset", c->dataset, sizeof c->dataset);
  c->dataset_checksum = strtoull(field(h, "dataset_checksum", v, sizeof v) ? v : "0", NULL, 16);
  field(h, "backend", c->backend, sizeof c->backend);
  field(h, "device", c->device, sizeof c->device);
  field(h, "forgotten", c->forgotten, sizeof c->forgotten);
  field(h, "data_kind", c->data_kind, sizeof c->data_kind);   /* absent before version 3 */
  field(h, "data_path", c->data_path, sizeof c->data_path);
  /* absent before version 4 and in a model never fine-tuned */
  c->finetune_steps = atoi(field(h, "finetune_steps", v, sizeof v) ? v : "0");
  if (c->finetune_steps < 0) { snprintf(err, len, "bad finetune_steps in header"); return -1; }
  c->finetune_batch = atoi(field(h, "finetune_batch", v, sizeof v) ? v : "0");
  c->finetune_lr = (float)atof(field(h, "finetune_lr", v, sizeof v) ? v : "0");
  c->finetune_weight_decay = (float)atof(field(h, "finetune_weight_decay", v, sizeof v) ? v : "0");
  c->finetune_t_mix = (float)atof(field(h, "finetune_t_mix", v, sizeof v) ? v : "0");
  c->finetune_seed = strtoull(field(h, "finetune_seed", v, sizeof v) ? v : "0", NULL, 10);
  c->finetune_s = atof(field(h, "finetune_s", v, sizeof v) ? v : "0");
  field(h, "finetune_base", c->finetune_base, sizeof c->finetune_base);
  c->finetune_base_checksum =
    strtoull(field(h, "finetune_base_checksum", v, sizeof v) ? v : "0", NULL, 16);
  return 0;
}

/* Parameters and BN channels of the checkpoint's model. */
static int model_size(const mb_checkpoint *c, size_t *total, size_t *n_stats, char *err, size_t len)
{
  if (c->kind == MB_MODEL_MLP) {
    mb_param_table pt;
    mb_param_table_build(&c->cfg, &pt);
    *total = pt.total;
    *n_stats = 0;
    return 0;
  }
  if (c->kind == MB_MODEL_SWIN_T) {   /* no running statistics */
    mb_sw_table *st = malloc(sizeof *st);
    if (!st) { snprintf(err, len, "out of host memory"); return -1; }
    int rc = mb_swin_table_build(&c->scfg, st, err, len);
    *total = rc ? 0 : st->total;
    *n_stats = 0;
    free(st);
    return rc;
  }
  mb_rn_table pt;
  if (mb_resnet_table_build(&c->rcfg, &pt, err, len) != 0) return -1;
  *total = pt.total;
  size_t s = 0;
  for (int i = 0; i < pt.n; i++)
    if (pt.t[i].kind == MB_PT_BN_WEIGHT) s += pt.t[i].n;   /* one statistic per BN channel */
  *n_stats = s;
  return 0;
}

int mb_checkpoint_read(const char *path, mb_checkpoint *c, char *err, size_t len)
{
  memset(c, 0, sizeof *c);
  ckfile o = {fopen(path, "rb"), 1469598103934665603ull, 0};
  if (!o.f) { snprintf(err, len, "%s: cannot open: %s", path, strerror(errno)); return -1; }
  char magic[8], *h = NULL;
  uint32_t ver = 0, hl = 0;
  uint64_t np = 0, nc = 0, sum = 0;
  const char *why = NULL;
  if (get(&o, magic, 8) || memcmp(magic, k_magic, 8) != 0) why = "not a mnemobench checkpoint (bad magic)";
  else if (get(&o, &ver, 4) || ver < 1 || ver > MB_CKPT_VERSION)
    why = "unsupported checkpoint version (this build reads versions 1 to 5)";
  else if (get(&o, &hl, 4) || hl == 0 || hl > 65536 || !(h = calloc(hl + 1, 1)) || get(&o, h, hl))
    why = "truncated or corrupt header";
  else if (parse_header(h, c, err, len)) why = "";
  if (!why && ver < 2 && c->kind != MB_MODEL_MLP) why = "a version 1 checkpoint holds an MLP only";
  if (!why && ver < 4 && c->kind == MB_MODEL_SWIN_T) why = "a Swin-T checkpoint needs version 4";
  if (!why && ver < 5 && c->kind == MB_MODEL_RESNET18 && c->rcfg.arch != MB_RN_RESNET18)
    why = "a ResNeXt needs checkpoint version 5";
  size_t total = 0, n_stats = 0;
  if (!why && model_size(c, &total, &n_stats, err, len) != 0) why = "";
  if (!why) {
    uint64_t ns = 0;
    if (get(&o, &np, 8) || np != total) why = "parameter count does not match the model";
    else if (!(c->params = malloc(np * 4)) || get(&o, c->params, np * 4)) why = "truncated parameters";
    else if (get(&o, &nc, 8) || (nc && nc != (uint64_t)c->n_classes * mb_checkpoint_in_dim(c)))
      why = "code size does not match the model";
    else if (nc && (!(c->codes = malloc(nc * 4)) || get(&o, c->codes, nc * 4))) why = "truncated codes";
    else if (ver >= 2 && (get(&o, &ns, 8) || (ns && ns != n_stats)))
      why = "BN statistics do not match the model";
    else if (ns && (!(c->run_mean = malloc(ns * 4)) || !(c->run_var = malloc(ns * 4)) ||
                    get(&o, c->run_mean, ns * 4) || get(&o, c->run_var, ns * 4)))
      why = "truncated BN statistics";
    c->n_stats = ns;
  }
  uint64_t expect = o.hash;
  if (!why && (fread(&sum, 8, 1, o.f) != 1 || sum != expect)) why = "checksum mismatch (corrupt file)";
  if (!why && fgetc(o.f) != EOF) why = "trailing bytes after the checksum";
  c->checksum = sum;
  c->n_params = np;
  fclose(o.f);
  free(h);
  if (why) {
    if (*why) snprintf(err, len, "%s: %s", path, why);
    else {
      char inner[256];
      snprintf(inner, sizeof inner, "%s", err);
      snprintf(err, len, "%s: %s", path, inner);
    }
    /* one line even when it quotes a header value holding a CR (or the path a newline) */
    for (char *p = err; *p; p++)
      if (*p == '\n' || *p == '\r') *p = ' ';
    mb_checkpoint_free(c);
    return -1;
  }
  return 0;
}

void mb_checkpoint_free(mb_checkpoint *c)
{
  free(c->params);
  free(c->codes);
  free(c->run_mean);
  free(c->run_var);
  c->params = NULL;
  c->codes = NULL;
  c->run_mean = NULL;
  c->run_var = NULL;
}
