/* The weights container (core/weights.h): the model's tensors by PyTorch name. */
#include "core/weights.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SPECS_RN (MB_RN_MAX_TENSORS + 2 * MB_RN_UNITS)
#define MAX_SPECS (MAX_SPECS_RN > MB_SW_MAX_TENSORS ? MAX_SPECS_RN : MB_SW_MAX_TENSORS)
#define MAX_HEADER (1 << 20)

static const char k_magic[] = "mnemobench-weights 1";

/* One tensor the model expects: where its elements go (params, running mean or
 * running variance) and its PyTorch shape. */
typedef struct {
  char name[64];
  int nd;
  long dims[4];
  int buf;            /* 0 params, 1 run_mean, 2 run_var */
  size_t off, n;
  int seen;
} spec;

static void add(spec *s, int *n, const char *name, const char *suffix, int buf, size_t off,
                int nd, long d0, long d1, long d2, long d3)
{
  spec *t = &s[(*n)++];
  memset(t, 0, sizeof *t);
  if (suffix) {
    /* "layer1.0.bn1.weight" -> "layer1.0.bn1.running_mean" */
    const char *dot = strrchr(name, '.');
    int stem = dot ? (int)(dot - name) : (int)strlen(name);
    snprintf(t->name, sizeof t->name, "%.*s.%s", stem, name, suffix);
  } else {
    snprintf(t->name, sizeof t->name, "%s", name);
  }
  t->nd = nd;
  t->dims[0] = d0; t->dims[1] = d1; t->dims[2] = d2; t->dims[3] = d3;
  t->buf = buf;
  t->off = off;
  t->n = 1;
  for (int i = 0; i < nd; i++) t->n *= (size_t)t->dims[i];
}

/* The tensors of c's model, in PyTorch's state_dict order; *total_params and
 * *total_stats receive the buffer sizes. */
static int expected(const mb_checkpoint *c, spec *s, int *n, size_t *total_params,
                    size_t *total_stats, char *err, size_t len)
{
  *n = 0;
  *total_stats = 0;
  if (c->kind == MB_MODEL_MLP) {
    mb_param_table pt;
    mb_param_table_build(&c->cfg, &pt);
    for (int i = 0; i < pt.n; i++) {
      const mb_tensor *t = &pt.t[i];
      int bias = strstr(t->name, ".bias") != NULL;
      add(s, n, t->name, NULL, 0, t->off, bias ? 1 : 2, t->rows, t->cols, 0, 0);
    }
    *total_params = pt.total;
    return 0;
  }
  if (c->kind == MB_MODEL_SWIN_T) {
    /* torchvision's swin_t names and shapes: the patch conv [C, in_c, p, p], linear
     * [out, in], the bias tables [(2w−1)², heads], vectors [c] */
    mb_sw_table *pt = malloc(sizeof *pt);
    if (!pt) { snprintf(err, len, "out of host memory"); return -1; }
    if (mb_swin_table_build(&c->scfg, pt, err, len) != 0) { free(pt); return -1; }
    const int p = c->scfg.patch;
    for (int i = 0; i < pt->n; i++) {
      const mb_sw_tensor *t = &pt->t[i];
      if (t->kind == MB_SW_CONV_W) add(s, n, t->name, NULL, 0, t->off, 4, t->rows, c->scfg.in_c, p, p);
      else if (t->kind == MB_SW_LIN_W || t->kind == MB_SW_REL_TABLE)
        add(s, n, t->name, NULL, 0, t->off, 2, t->rows, t->cols, 0, 0);
      else add(s, n, t->name, NULL, 0, t->off, 1, t->rows, 0, 0, 0);
    }
    *total_params = pt->total;
    free(pt);
    return 0;
  }
  mb_rn_table pt;
  if (mb_resnet_table_build(&c->rcfg, &pt, err, len) != 0) return -1;
  size_t soff = 0;
  for (int i = 0; i < pt.n; i++) {
    const mb_rn_tensor *t = &pt.t[i];
    switch (t->kind) {
    case MB_PT_CONV: {
      /* [cout, cin/groups, k, k]: the kernel side from resnet.c's plan */
      int k = t->k;
      add(s, n, t->name, NULL, 0, t->off, 4, t->rows, t->cols / (k * k), k, k);
      break;
    }
    case MB_PT_BN_WEIGHT:
      add(s, n, t->name, NULL, 0, t->off, 1, t->rows, 0, 0, 0);
      break;
    case MB_PT_BN_BIAS:
      add(s, n, t->name, NULL, 0, t->off, 1, t->rows, 0, 0, 0);
      /* PyTorch's state_dict order: weight, bias, running_mean, running_var */
      add(s, n, t->name, "running_mean", 1, soff, 1, t->rows, 0, 0, 0);
      add(s, n, t->name, "running_var", 2, soff, 1, t->rows, 0, 0, 0);
      soff += (size_t)t->rows;
      break;
    case MB_PT_FC_WEIGHT:
      add(s, n, t->name, NULL, 0, t->off, 2, t->rows, t->cols, 0, 0);
      break;
    case MB_PT_FC_BIAS:
      add(s, n, t->name, NULL, 0, t->off, 1, t->rows, 0, 0, 0);
      break;
    }
  }
  *total_params = pt.total;
  *total_stats = soff;
  return 0;
}

static void shape_text(int nd, const long *d, char *out, size_t len)
{
  size_t o = (size_t)snprintf(out, len, "[");
  for (int i = 0; i < nd && o < len; i++)
    o += (size_t)snprintf(out + o, len - o, i ? ", %ld" : "%ld", d[i]);
  if (o < len) snprintf(out + o, len - o, "]");
}

static int little_endian(void)
{
  const uint32_t one = 1;
  return *(const unsigned char *)&one == 1;
}

/* Reads the whole file (a container is at most a few hundred MB). */
static unsigned char *slurp(const char *path, size_t *size, char *err, size_t len)
{
  FILE *f = fopen(path, "rb");
  if (!f) { snprintf(err, len, "%s: cannot open: %s", path, strerror(errno)); return NULL; }
  unsigned char *b = NULL;
  long sz = -1;
  if (fseek(f, 0, SEEK_END) == 0) sz = ftell(f);
  if (sz < 0 || fseek(f, 0, SEEK_SET) != 0) {
    snprintf(err, len, "%s: cannot read (not a regular file?)", path);
  } else if (!(b = malloc((size_t)sz + 1))) {
    snprintf(err, len, "%s: out of memory for %ld bytes", path, sz);
  } else if (fread(b, 1, (size_t)sz, f) != (size_t)sz) {
    snprintf(err, len, "%s: read failed", path);
    free(b);
    b = NULL;
  }
  fclose(f);
  if (b) { b[sz] = 0; *size = (size_t)sz; }
  return b;
}

/* "64,1,3,3" (or "-" for a scalar) into dims; -1 when malformed. */
static int parse_shape(const char *s, int *nd, long *dims, size_t *count)
{
  *nd = 0;
  *count = 1;
  if (strcmp(s, "-") == 0) return 0;
  for (const char *p = s;;) {
    char *e;
    long d = strtol(p, &e, 10);
    if (e == p || d < 0 || d > (1L << 31) || *nd == 8) return -1;
    if (*nd < 4) dims[*nd] = d;
    (*nd)++;
    if (d && *count > SIZE_MAX / (size_t)d) return -1;
    *count *= (size_t)d;
    if (*e == 0) return 0;
    if (*e != ',') return -1;
    p = e + 1;
  }
}

static int ends_with(const char *s, const char *tail)
{
  size_t a = strlen(s), b = strlen(tail);
  return a >= b && strcmp(s + a - b, tail) == 0;
}

/* A Swin block's relative_position_index entry: it belongs to a block of the model
 * (its bias table is expected) and holds torchvision's index for the window. */
static int check_rel_index(const mb_checkpoint *c, const spec *s, int ns, const char *name,
                           const unsigned char *data, size_t count, size_t esz, char *msg,
                           size_t len)
{
  char table[128];
  snprintf(table, sizeof table, "%.*s.relative_position_bias_table",
           (int)(strlen(name) - strlen(".relative_position_index")), name);
  int found = 0;
  for (int i = 0; i < ns && !found; i++) found = strcmp(s[i].name, table) == 0;
  const int ws = c->scfg.window;
  const size_t nn = (size_t)ws * ws * ws * ws;
  if (!found || count != nn) {
    snprintf(msg, len, "unexpected tensor '%.64s' (not a tensor of this model)", name);
    return -1;
  }
  int32_t *idx = malloc(nn * sizeof *idx);
  if (!idx) { snprintf(msg, len, "out of memory"); return -1; }
  mb_swin_rel_index(ws, idx);
  for (size_t j = 0; j < nn; j++) {
    double v;
    if (esz == 8) { int64_t q; memcpy(&q, data + 8 * j, 8); v = (double)q; }
    else { float q; memcpy(&q, data + 4 * j, 4); v = q; }
    if (v != idx[j]) {
      snprintf(msg, len, "tensor '%.64s' is not torchvision's relative position index (entry %zu: %g, "
               "expected %d)", name, j, v, (int)idx[j]);
      free(idx);
      return -1;
    }
  }
  free(idx);
  return 0;
}

int mb_weights_read(const char *path, mb_checkpoint *c, char *err, size_t len)
{
  spec s[MAX_SPECS];
  int ns;
  size_t np, nstat, size = 0;
  char inner[256];
  if (!little_endian()) { snprintf(err, len, "%s: little-endian hosts only", path); return -1; }
  if (expected(c, s, &ns, &np, &nstat, inner, sizeof inner) != 0) {
    snprintf(err, len, "%s: %s", path, inner);
    return -1;
  }
  unsigned char *b = slurp(path, &size, err, len);
  if (!b) return -1;
  const char *why = NULL;
  char msg[512];
  /* the header: text lines up to "end" */
  size_t hdr_end = 0;
  const char *endl = NULL;
  for (size_t i = 0; i + 4 <= size && i < MAX_HEADER; i++)
    if ((i == 0 || b[i - 1] == '\n') && memcmp(b + i, "end\n", 4) == 0) {
      endl = (const char *)b + i;
      hdr_end = i + 4;
      break;
    }
  if (size < sizeof k_magic || memcmp(b, k_magic, sizeof k_magic - 1) != 0 ||
      b[sizeof k_magic - 1] != '\n')
    why = "not a mnemobench weights container (first line is not 'mnemobench-weights 1')";
  else if (!endl)
    why = "no 'end' line closing the header (truncated?)";
  float *params = calloc(np ? np : 1, sizeof(float));
  float *mean = nstat ? calloc(nstat, sizeof(float)) : NULL;
  float *var = nstat ? calloc(nstat, sizeof(float)) : NULL;
  if (!why && (!params || (nstat && (!mean || !var)))) why = "out of memory";
  size_t data_n = size - hdr_end;
  const unsigned char *data = b + hdr_end;
  int lineno = 1;
  for (const char *p = (const char *)b + sizeof k_magic; !why && p < endl; lineno++) {
    const char *e = memchr(p, '\n', (size_t)(endl - p));
    if (!e) e = endl;
    char line[512], name[128], dtype[16], shape[128];
    unsigned long long off;
    size_t ll = (size_t)(e - p);
    if (ll >= sizeof line) { snprintf(msg, sizeof msg, "header line %d is too long", lineno + 1); why = msg; break; }
    memcpy(line, p, ll);
    line[ll] = 0;
    p = e + 1;
    /* printable ASCII only, so a message quoting the line stays one clean line */
    size_t k = 0;
    while (k < ll && line[k] >= 0x20 && line[k] < 0x7f) k++;
    if (k < ll) {
      snprintf(msg, sizeof msg, "header line %d has a non-printable byte", lineno + 1);
      why = msg;
      break;
    }
    char extra[2];
    if (sscanf(line, "%127s %15s %127s %llu %1s", name, dtype, shape, &off, extra) != 4) {
      snprintf(msg, sizeof msg, "header line %d is not 'NAME DTYPE SHAPE OFFSET': '%.80s'", lineno + 1, line);
      why = msg;
      break;
    }
    int nd;
    long dims[4] = {0};
    size_t count;
    if (parse_shape(shape, &nd, dims, &count) != 0) {
      snprintf(msg, sizeof msg, "tensor '%.64s': bad shape '%.64s'", name, shape);
      why = msg;
      break;
    }
    size_t esz = strcmp(dtype, "f32") == 0 ? 4 : strcmp(dtype, "i64") == 0 ? 8 : 0;
    if (!esz) {
      snprintf(msg, sizeof msg, "tensor '%.64s': dtype '%.15s' is not f32", name, dtype);
      why = msg;
      break;
    }
    if (count > SIZE_MAX / esz || off > data_n || count * esz > data_n - off) {
      snprintf(msg, sizeof msg, "tensor '%.64s': its %zu bytes at offset %llu run past the data (%zu bytes)",
               name, count * esz, off, data_n);
      why = msg;
      break;
    }
    if (ends_with(name, ".num_batches_tracked")) continue;   /* PyTorch's BN step counter */
    if (c->kind == MB_MODEL_SWIN_T && ends_with(name, ".attn.relative_position_index")) {
      /* a constant buffer of torchvision's state_dict (i64, or f32 from
       * tools/export_state_dict.py): not stored, but it must be the index the model uses */
      if (check_rel_index(c, s, ns, name, data + off, count, esz, msg, sizeof msg) != 0) {
        why = msg;
        break;
      }
      continue;
    }
    spec *t = NULL;
    for (int i = 0; i < ns; i++)
      if (strcmp(s[i].name, name) == 0) t = &s[i];
    if (!t) {
      snprintf(msg, sizeof msg, "unexpected tensor '%.64s' (not a tensor of this model)", name);
      why = msg;
      break;
    }
    if (t->seen) { snprintf(msg, sizeof msg, "tensor '%.64s' appears twice", name); why = msg; break; }
    if (esz != 4) {
      snprintf(msg, sizeof msg, "tensor '%.64s': dtype '%.15s' is not f32", name, dtype);
      why = msg;
      break;
    }
    int same = nd == t->nd;
    for (int i = 0; same && i < nd; i++) same = dims[i] == t->dims[i];
    if (!same) {
      char got[96], want[96];
      shape_text(nd > 4 ? 4 : nd, dims, got, sizeof got);
      shape_text(t->nd, t->dims, want, sizeof want);
      snprintf(msg, sizeof msg, "tensor '%.64s' has shape %s%s but the model's is %s", name, got,
               nd > 4 ? "..." : "", want);
      why = msg;
      break;
    }
    float *dst = t->buf == 0 ? params : t->buf == 1 ? mean : var;
    memcpy(dst + t->off, data + off, t->n * sizeof(float));
    t->seen = 1;
  }
  for (int i = 0; !why && i < ns; i++)
    if (!s[i].seen) {
      char want[96];
      shape_text(s[i].nd, s[i].dims, want, sizeof want);
      snprintf(msg, sizeof msg, "missing tensor '%s' %s", s[i].name, want);
      why = msg;
    }
  free(b);
  if (why) {
    snprintf(err, len, "%s: %s", path, why);
    free(params);
    free(mean);
    free(var);
    return -1;
  }
  c->params = params;
  c->n_params = np;
  c->run_mean = mean;
  c->run_var = var;
  c->n_stats = nstat;
  return 0;
}

int mb_weights_check_values(const char *path, const mb_checkpoint *c, char *err, size_t len)
{
  for (size_t i = 0; i < c->n_params; i++)
    if (c->params[i] != c->params[i] || c->params[i] - c->params[i] != 0.0f) {
      snprintf(err, len, "%s: a non-finite weight (parameter %zu)", path, i);
      return -1;
    }
  for (size_t i = 0; i < c->n_stats; i++)
    if (!(c->run_var[i] >= 0.0f) || c->run_mean[i] != c->run_mean[i]) {
      snprintf(err, len, "%s: a BN running statistic is NaN or a variance negative (channel %zu)", path, i);
      return -1;
    }
  return 0;
}

int mb_weights_write(const char *path, const mb_checkpoint *c, char *err, size_t len)
{
  spec s[MAX_SPECS];
  int ns;
  size_t np, nstat;
  char inner[256];
  if (!little_endian()) { snprintf(err, len, "%s: little-endian hosts only", path); return -1; }
  if (expected(c, s, &ns, &np, &nstat, inner, sizeof inner) != 0) {
    snprintf(err, len, "%s: %s", path, inner);
    return -1;
  }
  if (!c->params || c->n_params != np || (nstat && (c->n_stats != nstat || !c->run_mean || !c->run_var))) {
    snprintf(err, len, "%s: the checkpoint does not hold its model's weights and statistics", path);
    return -1;
  }
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f) { snprintf(err, len, "%s: cannot create: %s", tmp, strerror(errno)); return -1; }
  int bad = fprintf(f, "%s\n", k_magic) < 0;
  size_t off = 0;
  for (int i = 0; i < ns && !bad; i++) {
    char shape[96] = "";
    size_t o = 0;
    for (int d = 0; d < s[i].nd; d++)
      o += (size_t)snprintf(shape + o, sizeof shape - o, d ? ",%ld" : "%ld", s[i].dims[d]);
    bad = fprintf(f, "%s f32 %s %zu\n", s[i].name, shape, off) < 0;
    off += s[i].n * sizeof(float);
  }
  if (!bad) bad = fputs("end\n", f) < 0;
  for (int i = 0; i < ns && !bad; i++) {
    const float *src = s[i].buf == 0 ? c->params : s[i].buf == 1 ? c->run_mean : c->run_var;
    bad = fwrite(src + s[i].off, sizeof(float), s[i].n, f) != s[i].n;
  }
  if (fclose(f) != 0) bad = 1;
  if (bad || rename(tmp, path) != 0) {
    snprintf(err, len, "%s: write failed: %s", path, strerror(errno ? errno : EIO));
    remove(tmp);
    return -1;
  }
  return 0;
}
