/* Swin-T: configuration, parameter table, the host-built index tables, memory, init
 * and the forward pass (see swin.h; the backward is in swin_bwd.c). */
#include "core/swin.h"
#include "core/swin_steps.h"
#include "core/conv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MB_SW_STREAM_INIT 1000u   /* init streams: 1000 + tensor index, as mb_resnet_init */
#define MB_SW_PG_CAP ((size_t)1 << 24)   /* per-sample gradient workspace cap (elements) */

void mb_swin_config_imagenet(mb_swin_config *cfg, int classes, int size)
{
  static const int depths[4] = {2, 2, 6, 2}, heads[4] = {3, 6, 12, 24};
  memset(cfg, 0, sizeof *cfg);
  cfg->in_c = 3;
  cfg->in_h = cfg->in_w = size;
  cfg->classes = classes;
  cfg->patch = 4;
  cfg->window = 7;
  cfg->embed = 96;
  memcpy(cfg->depths, depths, sizeof depths);
  memcpy(cfg->heads, heads, sizeof heads);
  cfg->mlp_ratio = 4;
}

static int is_swin_t(const mb_swin_config *c)
{
  mb_swin_config t;
  mb_swin_config_imagenet(&t, c->classes, c->in_h);
  return c->in_c == 3 && c->in_w == c->in_h && memcmp(&t, c, sizeof t) == 0;
}

void mb_swin_describe(const mb_swin_config *cfg, char *out, size_t len)
{
  if (is_swin_t(cfg) && cfg->in_h == 224 && cfg->classes == 1000) snprintf(out, len, "swin_t-imagenet");
  else if (is_swin_t(cfg)) snprintf(out, len, "swin_t-%d-c%d", cfg->in_h, cfg->classes);
  else
    snprintf(out, len, "swin-%dx%dx%d-p%d-w%d-e%d-d%d%d%d%d-h%d%d%d%d-c%d", cfg->in_c, cfg->in_h,
             cfg->in_w, cfg->patch, cfg->window, cfg->embed, cfg->depths[0], cfg->depths[1],
             cfg->depths[2], cfg->depths[3], cfg->heads[0], cfg->heads[1], cfg->heads[2],
             cfg->heads[3], cfg->classes);
}

/* ---------------------------------------------------------------- the plan */

static void add_tensor(mb_sw_table *pt, const char *prefix, const char *name, mb_sw_kind kind,
                       int rows, int cols)
{
  mb_sw_tensor *t = &pt->t[pt->n++];
  snprintf(t->name, sizeof t->name, "%s%s", prefix, name);
  t->kind = kind;
  t->rows = rows;
  t->cols = cols;
  t->off = pt->total;
  t->n = (size_t)rows * (size_t)cols;
  pt->total += t->n;
}

static int cfg_ok(const mb_swin_config *c, char *err, size_t len)
{
  int nb = 0, ok = c->in_c >= 1 && c->in_c <= 64 && c->patch >= 1 && c->in_h >= c->patch &&
                   c->in_w >= c->patch && c->in_h <= 8192 && c->in_w <= 8192 && c->classes >= 1 &&
                   c->window >= 1 && c->window <= 32 && c->embed >= 1 && c->embed <= 4096 &&
                   c->mlp_ratio >= 1 && c->mlp_ratio <= 16;
  for (int s = 0; ok && s < 4; s++) {
    int C = c->embed << s;
    ok = c->depths[s] >= 1 && c->heads[s] >= 1 && C % c->heads[s] == 0;
    nb += c->depths[s];
  }
  if (!ok || nb > MB_SW_MAX_BLOCKS) {
    snprintf(err, len,
             "bad Swin configuration (%dx%dx%d, patch %d, window %d, embed %d, depths %d-%d-%d-%d, "
             "heads %d-%d-%d-%d, mlp ratio %d, %d classes)",
             c->in_c, c->in_h, c->in_w, c->patch, c->window, c->embed, c->depths[0], c->depths[1],
             c->depths[2], c->depths[3], c->heads[0], c->heads[1], c->heads[2], c->heads[3],
             c->mlp_ratio, c->classes);
    return -1;
  }
  return 0;
}

/* Fills everything of s but the device memory. */
static int plan(const mb_swin_config *cfg, mb_swin *s, char *err, size_t len)
{
  memset(s, 0, sizeof *s);
  s->cfg = *cfg;
  if (cfg_ok(cfg, err, len)) return -1;
  mb_sw_table *pt = &s->pt;
  const int ws = cfg->window, K0 = cfg->in_c * cfg->patch * cfg->patch, nrel = (2 * ws - 1) * (2 * ws - 1);
  s->N = ws * ws;
  s->th[0] = mb_conv_out(cfg->in_h, cfg->patch, cfg->patch, 0);
  s->tw[0] = mb_conv_out(cfg->in_w, cfg->patch, cfg->patch, 0);
  for (int st = 0; st < 4; st++) {
    s->C[st] = cfg->embed << st;
    if (st) { s->th[st] = (s->th[st - 1] + 1) / 2; s->tw[st] = (s->tw[st - 1] + 1) / 2; }
  }
  add_tensor(pt, "features.0.0.", "weight", MB_SW_CONV_W, cfg->embed, K0);
  add_tensor(pt, "features.0.0.", "bias", MB_SW_CONV_B, cfg->embed, 1);
  add_tensor(pt, "features.0.2.", "weight", MB_SW_LN_W, cfg->embed, 1);
  add_tensor(pt, "features.0.2.", "bias", MB_SW_LN_B, cfg->embed, 1);
  char p[40];
  for (int st = 0; st < 4; st++) {
    const int C = s->C[st], hid = C * cfg->mlp_ratio, nh = cfg->heads[st];
    for (int k = 0; k < cfg->depths[st]; k++) {
      mb_sw_block *b = &s->blk[s->n_blocks++];
      b->stage = st;
      b->shifted = k % 2;
      b->C = C;
      b->heads = nh;
      b->hidden = hid;
      b->t_n1 = pt->n;
      snprintf(p, sizeof p, "features.%d.%d.", 1 + 2 * st, k);
      add_tensor(pt, p, "norm1.weight", MB_SW_LN_W, C, 1);
      add_tensor(pt, p, "norm1.bias", MB_SW_LN_B, C, 1);
      add_tensor(pt, p, "attn.relative_position_bias_table", MB_SW_REL_TABLE, nrel, nh);
      add_tensor(pt, p, "attn.qkv.weight", MB_SW_LIN_W, 3 * C, C);
      add_tensor(pt, p, "attn.qkv.bias", MB_SW_LIN_B, 3 * C, 1);
      add_tensor(pt, p, "attn.proj.weight", MB_SW_LIN_W, C, C);
      add_tensor(pt, p, "attn.proj.bias", MB_SW_LIN_B, C, 1);
      add_tensor(pt, p, "norm2.weight", MB_SW_LN_W, C, 1);
      add_tensor(pt, p, "norm2.bias", MB_SW_LN_B, C, 1);
      add_tensor(pt, p, "mlp.0.weight", MB_SW_LIN_W, hid, C);
      add_tensor(pt, p, "mlp.0.bias", MB_SW_LIN_B, hid, 1);
      add_tensor(pt, p, "mlp.3.weight", MB_SW_LIN_W, C, hid);
      add_tensor(pt, p, "mlp.3.bias", MB_SW_LIN_B, C, 1);
    }
    if (st < 3) {
      mb_sw_merge *m = &s->mrg[st];
      m->C = C;
      m->h = s->th[st]; m->w = s->tw[st];
      m->oh = s->th[st + 1]; m->ow = s->tw[st + 1];
      m->t_red = pt->n;
      snprintf(p, sizeof p, "features.%d.", 2 + 2 * st);
      add_tensor(pt, p, "reduction.weight", MB_SW_LIN_W, 2 * C, 4 * C);
      add_tensor(pt, p, "norm.weight", MB_SW_LN_W, 4 * C, 1);
      add_tensor(pt, p, "norm.bias", MB_SW_LN_B, 4 * C, 1);
    }
  }
  const int C3 = s->C[3];
  add_tensor(pt, "", "norm.weight", MB_SW_LN_W, C3, 1);
  add_tensor(pt, "", "norm.bias", MB_SW_LN_B, C3, 1);
  add_tensor(pt, "", "head.weight", MB_SW_LIN_W, cfg->classes, C3);
  add_tensor(pt, "", "head.bias", MB_SW_LIN_B, cfg->classes, 1);
  for (int i = 0; i < pt->n; i++) pt->offs[i] = pt->t[i].off;
  pt->offs[pt->n] = pt->total;
  /* the attention grids: torchvision pads to multiples of the window and shifts by
   * window/2 on odd blocks, except along an axis where the window covers the padded grid */
  for (int st = 0; st < 4; st++)
    for (int sh = 0; sh < 2; sh++) {
      mb_sw_grid *g = &s->grid[2 * st + sh];
      g->h = s->th[st]; g->w = s->tw[st];
      g->ph = (g->h + ws - 1) / ws * ws;
      g->pw = (g->w + ws - 1) / ws * ws;
      g->sh = sh && ws < g->ph ? ws / 2 : 0;
      g->sw = sh && ws < g->pw ? ws / 2 : 0;
      g->nwin = (g->ph / ws) * (g->pw / ws);
    }
  return 0;
}

int mb_swin_table_build(const mb_swin_config *cfg, mb_sw_table *pt, char *err, size_t len)
{
  mb_swin *s = malloc(sizeof *s);   /* the plan only (large for the stack) */
  if (!s) { snprintf(err, len, "swin: out of host memory"); return -1; }
  int rc = plan(cfg, s, err, len);
  if (!rc) *pt = s->pt;
  free(s);
  return rc;
}

/* ---------------------------------------------------------------- index tables */

void mb_swin_rel_index(int ws, int32_t *idx)
{
  const int N = ws * ws;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      int dy = i / ws - j / ws + ws - 1, dx = i % ws - j % ws + ws - 1;
      idx[(size_t)i * N + j] = dy * (2 * ws - 1) + dx;
    }
}

/* Python's slice(a, b) of a length-L axis as [lo, hi) (b = INT32_MIN: None). */
static void py_slice(int a, int b, int L, int *lo, int *hi)
{
  if (a < 0) a += L;
  if (b == INT32_MIN) b = L;
  else if (b < 0) b += L;
  *lo = a < 0 ? 0 : a > L ? L : a;
  *hi = b < 0 ? 0 : b > L ? L : b;
}

void mb_swin_mask_labels(int ph, int pw, int ws, int sh, int sw, int32_t *lab)
{
  /* torchvision: h_slices ((0, −ws), (−ws, −sh), (−sh, None)), the same for w, each pair
   * assigned `count` in order (a later slice overwrites an earlier one, as in Python) */
  const int hs[3][2] = {{0, -ws}, {-ws, -sh}, {-sh, INT32_MIN}};
  const int wsl[3][2] = {{0, -ws}, {-ws, -sw}, {-sw, INT32_MIN}};
  int count = 0;
  memset(lab, 0, sizeof(int32_t) * (size_t)ph * pw);
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++, count++) {
      int y0, y1, x0, x1;
      py_slice(hs[a][0], hs[a][1], ph, &y0, &y1);
      py_slice(wsl[b][0], wsl[b][1], pw, &x0, &x1);
      for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) lab[(size_t)y * pw + x] = count;
    }
}

/* Every device buffer of the model goes through here: counted, and allocated unless
 * this is the dry run of mb_swin_device_elems (no backend). */
static mb_view nw(mb_swin *s, size_t n)
{
  s->dev_elems += n;
  return s->be ? mb_new(s->be, n) : mb_none();
}

static mb_view upload_i32(mb_swin *s, const int32_t *h, size_t n)
{
  mb_view v = nw(s, n);
  if (s->be && mb_ok(s->be)) mb_upload(s->be, v, h, n);
  return v;
}

static mb_view upload_f32(mb_swin *s, const float *h, size_t n)
{
  mb_view v = nw(s, n);
  if (s->be && mb_ok(s->be)) mb_upload(s->be, v, h, n);
  return v;
}

static int build_grid(mb_swin *s, mb_sw_grid *g, int heads)
{
  const int ws = s->cfg.window, N = s->N, nwx = g->pw / ws, MB = s->max_batch;
  const size_t T = (size_t)g->h * g->w, R = (size_t)g->nwin * N;
  int32_t *part = malloc(sizeof(int32_t) * MB * R), *inv = malloc(sizeof(int32_t) * MB * T);
  int32_t *hrow = malloc(sizeof(int32_t) * (size_t)g->nwin * heads);
  if (!part || !inv || !hrow) { free(part); free(inv); free(hrow); return -1; }
  for (int b = 0; b < MB; b++)
    for (size_t r = 0; r < R; r++) {
      int win = (int)(r / N), i = (int)(r % N);
      int py = win / nwx * ws + i / ws, px = win % nwx * ws + i % ws;
      /* torch.roll(x, −shift): window position p holds padded position p + shift */
      int sy = (py + g->sh) % g->ph, sx = (px + g->sw) % g->pw;
      size_t row = (size_t)b * R + r;
      if (sy < g->h && sx < g->w) {
        size_t t = (size_t)b * T + (size_t)sy * g->w + sx;
        part[row] = (int32_t)t;
        inv[t] = (int32_t)row;
      } else {
        part[row] = -1;
      }
    }
  for (int i = 0; i < g->nwin * heads; i++) hrow[i] = i % heads;
  g->part = upload_i32(s, part, (size_t)MB * R);
  g->inv = upload_i32(s, inv, (size_t)MB * T);
  g->hrow = upload_i32(s, hrow, (size_t)g->nwin * heads);
  free(part); free(inv); free(hrow);
  if (g->sh == 0 && g->sw == 0) return 0;
  /* the −100 mask between tokens of different regions of the rolled grid, per window,
   * repeated over the heads: [nwin][heads][N][N] */
  int32_t *lab = malloc(sizeof(int32_t) * (size_t)g->ph * g->pw);
  size_t NN = (size_t)N * N;
  float *m = malloc(sizeof(float) * (size_t)g->nwin * heads * NN);
  if (!lab || !m) { free(lab); free(m); return -1; }
  mb_swin_mask_labels(g->ph, g->pw, ws, g->sh, g->sw, lab);
  for (int win = 0; win < g->nwin; win++)
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++) {
        int yi = win / nwx * ws + i / ws, xi = win % nwx * ws + i % ws;
        int yj = win / nwx * ws + j / ws, xj = win % nwx * ws + j % ws;
        float v = lab[(size_t)yi * g->pw + xi] != lab[(size_t)yj * g->pw + xj] ? -100.0f : 0.0f;
        for (int h = 0; h < heads; h++) m[((size_t)win * heads + h) * NN + (size_t)i * N + j] = v;
      }
  g->mask = upload_f32(s, m, (size_t)g->nwin * heads * NN);
  free(lab); free(m);
  return 0;
}

static int build_tables(mb_swin *s)
{
  const int MB = s->max_batch, ws = s->cfg.window, N = s->N, nrel = (2 * ws - 1) * (2 * ws - 1);
  for (int st = 0; st < 4; st++)
    for (int sh = 0; sh < 2; sh++)
      if (build_grid(s, &s->grid[2 * st + sh], s->cfg.heads[st]) != 0) return -1;
  for (int k = 0; k < 3; k++) {
    mb_sw_merge *m = &s->mrg[k];
    size_t T = (size_t)m->h * m->w, oT = (size_t)m->oh * m->ow;
    int32_t *idx = malloc(sizeof(int32_t) * MB * oT * 4), *inv = malloc(sizeof(int32_t) * MB * T);
    if (!idx || !inv) { free(idx); free(inv); return -1; }
    /* x0 = x[0::2, 0::2], x1 = x[1::2, 0::2], x2 = x[0::2, 1::2], x3 = x[1::2, 1::2] */
    static const int dy[4] = {0, 1, 0, 1}, dx[4] = {0, 0, 1, 1};
    for (int b = 0; b < MB; b++)
      for (int i = 0; i < m->oh; i++)
        for (int j = 0; j < m->ow; j++)
          for (int q = 0; q < 4; q++) {
            int y = 2 * i + dy[q], x = 2 * j + dx[q];
            size_t slot = (((size_t)b * m->oh + i) * m->ow + j) * 4 + q;
            if (y < m->h && x < m->w) {
              size_t t = (size_t)b * T + (size_t)y * m->w + x;
              idx[slot] = (int32_t)t;
              inv[t] = (int32_t)slot;
            } else {
              idx[slot] = -1;   /* F.pad's zero row/column of an odd grid */
            }
          }
    m->idx = upload_i32(s, idx, (size_t)MB * oT * 4);
    m->inv = upload_i32(s, inv, (size_t)MB * T);
    free(idx); free(inv);
  }
  size_t T3 = (size_t)s->th[3] * s->tw[3];
  int32_t *pool = malloc(sizeof(int32_t) * MB * T3);
  int32_t *rel = malloc(sizeof(int32_t) * (size_t)N * N);
  float *onehot = calloc((size_t)nrel * N * N, sizeof(float));
  if (!pool || !rel || !onehot) { free(pool); free(rel); free(onehot); return -1; }
  for (size_t r = 0; r < (size_t)MB * T3; r++) pool[r] = (int32_t)(r / T3);
  mb_swin_rel_index(ws, rel);
  for (size_t ij = 0; ij < (size_t)N * N; ij++) onehot[(size_t)rel[ij] * N * N + ij] = 1.0f;
  s->pool_idx = upload_i32(s, pool, (size_t)MB * T3);
  s->relp = upload_f32(s, onehot, (size_t)nrel * N * N);
  free(pool); free(rel); free(onehot);
  return 0;
}

/* ---------------------------------------------------------------- memory */

static size_t zmax(size_t a, size_t b) { return a > b ? a : b; }

int mb_swin_create(mb_backend *be, const mb_swin_config *cfg, int max_batch, mb_swin *s)
{
  char err[320];
  if (plan(cfg, s, err, sizeof err) || max_batch < 1) {
    if (max_batch < 1) snprintf(err, sizeof err, "swin: max_batch %d < 1", max_batch);
    if (be) mb_fail(be, MB_BAD_ARG, "%s", err);
    memset(s, 0, sizeof *s);
    return -1;
  }
  s->be = be;
  s->max_batch = max_batch;
  const size_t B = (size_t)max_batch, N = (size_t)s->N;
  const size_t K0 = (size_t)cfg->in_c * cfg->patch * cfg->patch, T0 = (size_t)s->th[0] * s->tw[0];
  const size_t in_n = B * cfg->in_c * cfg->in_h * cfg->in_w;
  s->w = nw(s, s->pt.total);
  s->g = nw(s, s->pt.total);
  s->in = nw(s, in_n);
  s->dx = nw(s, in_n);
  s->cols = nw(s, B * K0 * T0);
  s->colsp = nw(s, B * K0 * T0);
  const size_t C0 = (size_t)s->C[0];
  s->emb = nw(s, B * T0 * C0);
  s->x0 = nw(s, B * T0 * C0);
  s->e_m = nw(s, B * T0);
  s->e_r = nw(s, B * T0);
  /* scratch sizes per image: tokens (×C, merged ×4C, embedding), hidden, windows */
  size_t tok = T0 * C0, hid = zmax(T0 * C0, K0 * T0), win = 0, win3 = 0, pr = 0, bias = 0, bm = 0;
  size_t widest = zmax((size_t)cfg->classes, (size_t)s->C[3] * cfg->mlp_ratio);
  for (int i = 0; i < s->n_blocks; i++) {
    mb_sw_block *b = &s->blk[i];
    const mb_sw_grid *g = &s->grid[2 * b->stage + b->shifted];
    const size_t T = (size_t)g->h * g->w, R = (size_t)g->nwin * N, C = (size_t)b->C;
    const size_t P = (size_t)g->nwin * b->heads * N * N;
    b->x1 = nw(s, B * T * C);
    b->out = nw(s, B * T * C);
    b->xw = nw(s, B * R * C);
    b->qkv = nw(s, B * R * 3 * C);
    b->p = nw(s, B * P);
    b->ctx = nw(s, B * R * C);
    b->ln2 = nw(s, B * T * C);
    b->h = nw(s, B * T * b->hidden);
    b->m1 = nw(s, B * T); b->r1 = nw(s, B * T);
    b->m2 = nw(s, B * T); b->r2 = nw(s, B * T);
    tok = zmax(tok, T * C);
    hid = zmax(hid, T * (size_t)b->hidden);
    win = zmax(win, R * C);
    win3 = zmax(win3, R * 3 * C);
    pr = zmax(pr, P);
    bias = zmax(bias, (size_t)b->heads * N * N);
    bm = zmax(bm, P);
    widest = zmax(widest, zmax((size_t)b->hidden, (size_t)b->heads * (2 * cfg->window - 1) * (2 * cfg->window - 1)));
  }
  for (int k = 0; k < 3; k++) {
    mb_sw_merge *m = &s->mrg[k];
    const size_t oT = (size_t)m->oh * m->ow, C4 = 4 * (size_t)m->C;
    m->cat = nw(s, B * oT * C4);
    m->ln = nw(s, B * oT * C4);
    m->out = nw(s, B * oT * 2 * m->C);
    m->m = nw(s, B * oT);
    m->r = nw(s, B * oT);
    tok = zmax(tok, oT * C4);
    hid = zmax(hid, oT * C4);
    widest = zmax(widest, C4);
  }
  const size_t T3 = (size_t)s->th[3] * s->tw[3], C3 = (size_t)s->C[3];
  s->lnf = nw(s, B * T3 * C3);
  s->f_m = nw(s, B * T3);
  s->f_r = nw(s, B * T3);
  s->feat = nw(s, B * C3);
  s->dfeat = nw(s, B * C3);
  s->logits = nw(s, B * cfg->classes);
  s->dlogits = nw(s, B * cfg->classes);
  s->bias = nw(s, bias);
  s->bmask = nw(s, bm);
  s->s_tok = nw(s, B * tok);
  s->s_tok2 = nw(s, B * tok);
  s->s_hid = nw(s, B * hid);
  s->s_hid2 = nw(s, B * hid);
  s->s_win = nw(s, B * win);
  s->s_win2 = nw(s, B * win);
  s->s_win3 = nw(s, B * win3);
  s->s_p = nw(s, B * pr);
  s->d_a = nw(s, B * tok);
  s->d_b = nw(s, B * tok);
  s->widest = widest;
  s->sq_s = nw(s, B * widest);
  s->sq_c = nw(s, widest);
  for (int i = 0; i < s->n_blocks; i++) {
    mb_sw_block *b = &s->blk[i];
    b->in = i == 0 ? s->x0
            : s->blk[i - 1].stage != b->stage ? s->mrg[s->blk[i - 1].stage].out
                                              : s->blk[i - 1].out;
  }
  if (be && !mb_ok(be)) return -1;
  if (build_tables(s) != 0) {
    if (be) mb_fail(be, MB_OOM, "swin: out of host memory building the index tables");
    return -1;
  }
  return !be || mb_ok(be) ? 0 : -1;
}

int mb_swin_device_elems(const mb_swin_config *cfg, int batch, size_t *elems, char *err, size_t len)
{
  mb_swin *s = calloc(1, sizeof *s);
  if (!s) { snprintf(err, len, "swin: out of host memory"); return -1; }
  int rc = 0;
  if (batch < 1) { snprintf(err, len, "swin: batch %d < 1", batch); rc = -1; }
  else if (plan(cfg, s, err, len) != 0) rc = -1;
  else if (mb_swin_create(NULL, cfg, batch, s) != 0) {
    snprintf(err, len, "swin: out of host memory building the index tables");
    rc = -1;
  } else {
    size_t pg, tab;
    mb_swin_sq_sizes(s, &pg, &tab);
    *elems = s->dev_elems + pg + tab;
  }
  free(s);
  return rc;
}

void mb_swin_sq_sizes(const mb_swin *s, size_t *pg_n, size_t *tab_n)
{
  size_t pmax = 0, tab = 0;
  for (int i = 0; i < s->pt.n; i++)
    if (s->pt.t[i].kind == MB_SW_LIN_W || s->pt.t[i].kind == MB_SW_CONV_W)
      pmax = pmax > s->pt.t[i].n ? pmax : s->pt.t[i].n;
  for (int i = 0; i < s->n_blocks; i++) {
    size_t nh = (size_t)s->blk[i].heads, nrel = (size_t)s->pt.t[s->blk[i].t_n1 + 2].rows;
    size_t need = nh * ((size_t)s->N * s->N + nrel);
    tab = tab > need ? tab : need;
  }
  size_t cap = MB_SW_PG_CAP > pmax ? MB_SW_PG_CAP : pmax, want = (size_t)s->max_batch * pmax;
  *pg_n = want < cap ? want : cap;
  *tab_n = (size_t)s->max_batch * tab;
}

void mb_swin_destroy(mb_swin *s)
{
  mb_backend *be = s->be;
  if (!be) return;
  mb_view v[] = {s->w, s->g, s->in, s->dx, s->cols, s->colsp, s->emb, s->x0, s->e_m, s->e_r,
                 s->lnf, s->f_m, s->f_r, s->pool_idx, s->feat, s->dfeat, s->logits, s->dlogits,
                 s->bias, s->bmask, s->s_tok, s->s_tok2, s->s_hid, s->s_hid2, s->s_win, s->s_win2,
                 s->s_win3, s->s_p, s->d_a, s->d_b, s->pg, s->sq_s, s->sq_c, s->s_tab, s->relp};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) mb_release(be, v[i]);
  for (int i = 0; i < s->n_blocks; i++) {
    mb_sw_block *b = &s->blk[i];
    mb_view bv[] = {b->x1, b->out, b->xw, b->qkv, b->p, b->ctx, b->ln2, b->h,
                    b->m1, b->r1, b->m2, b->r2};
    for (size_t j = 0; j < sizeof bv / sizeof bv[0]; j++) mb_release(be, bv[j]);
  }
  for (int k = 0; k < 3; k++) {
    mb_sw_merge *m = &s->mrg[k];
    mb_view mv[] = {m->idx, m->inv, m->cat, m->ln, m->out, m->m, m->r};
    for (size_t j = 0; j < sizeof mv / sizeof mv[0]; j++) mb_release(be, mv[j]);
  }
  for (int i = 0; i < 8; i++) {
    mb_sw_grid *g = &s->grid[i];
    mb_view gv[] = {g->part, g->inv, g->hrow, g->mask};
    for (size_t j = 0; j < sizeof gv / sizeof gv[0]; j++) mb_release(be, gv[j]);
  }
  memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------- init */

void mb_swin_init(mb_swin *s, uint64_t seed)
{
  for (int i = 0; i < s->pt.n; i++) {
    const mb_sw_tensor *t = &s->pt.t[i];
    mb_view v = mb_at(s->w, t->off);
    uint64_t stream = MB_SW_STREAM_INIT + (uint64_t)i;
    switch (t->kind) {
    case MB_SW_LN_W: mb_fill(s->be, v, t->n, 1.0f); break;
    case MB_SW_LN_B:
    case MB_SW_LIN_B: mb_fill(s->be, v, t->n, 0.0f); break;
    case MB_SW_LIN_W:
    case MB_SW_REL_TABLE:
      /* trunc_normal_(std=0.02) truncates at ±2 absolute: 100σ, never reached */
      mb_rng(s->be, MB_RNG_NORMAL, seed, stream, v, t->n, 0.0f, 0.02f);
      break;
    case MB_SW_CONV_W:
    case MB_SW_CONV_B: {
      /* Conv2d's default: U(±1/√fan_in) for weight and bias */
      int fan_in = s->pt.t[0].cols;
      float bound = 1.0f / sqrtf((float)fan_in);
      mb_rng(s->be, MB_RNG_UNIFORM, seed, stream, v, t->n, -bound, bound);
      break;
    }
    }
  }
}

/* ---------------------------------------------------------------- forward */

static mb_view tw_(mb_swin *s, mb_view w, int t) { return mb_at(w, s->pt.t[t].off); }

static void layernorm(mb_backend *be, mb_view x, mb_view y, mb_view gamma, mb_view beta, int rows,
                      int c, mb_view m, mb_view r)
{
  mb_ln_args a = {.rows = rows, .c = c, .eps = 1e-5f, .x = x, .y = y, .gamma = gamma, .beta = beta,
                  .save_mean = m, .save_rstd = r};
  mb_layernorm(be, &a);
}

/* y [rows × out] = x [rows × in] · Wᵀ (+ b) */
static void linear(mb_backend *be, mb_view x, mb_view W, mb_view b, mb_view y, int rows, int in,
                   int out)
{
  mb_matmul(be, 0, 1, rows, out, in, 1.0f, x, W, 0.0f, y);
  if (!mb_is_none(b)) mb_bcast(be, MB_BC_ADD, y, b, y, (size_t)rows, (size_t)out, 1);
}

static void block_fwd(mb_swin *s, mb_sw_block *b, mb_view w, int B)
{
  mb_backend *be = s->be;
  const mb_sw_grid *g = &s->grid[2 * b->stage + b->shifted];
  const int C = b->C, nh = b->heads, hd = C / nh, N = s->N, NN = N * N, t = b->t_n1;
  const int rows_t = B * g->h * g->w, nw = B * g->nwin, rows_w = nw * N;
  const int nrel = s->pt.t[t + 2].rows;
  const float scale = 1.0f / sqrtf((float)hd);
  layernorm(be, b->in, s->s_tok, tw_(s, w, t), tw_(s, w, t + 1), rows_t, C, b->m1, b->r1);
  gather(be, s->s_tok, rows_t, g->part, b->xw, rows_w, C);   /* pad, roll, partition */
  linear(be, b->xw, tw_(s, w, t + 3), tw_(s, w, t + 4), b->qkv, rows_w, C, 3 * C);
  /* bias [heads × N²] = tableᵀ · onehot, one row per (window, head), plus the mask */
  mb_matmul(be, 1, 0, nh, NN, nrel, 1.0f, tw_(s, w, t + 2), s->relp, 0.0f, s->bias);
  gather(be, s->bias, nh, g->hrow, s->bmask, g->nwin * nh, NN);
  if (!mb_is_none(g->mask))
    mb_binary(be, MB_BIN_AXPBY, s->bmask, g->mask, s->bmask, (size_t)g->nwin * nh * NN, 1.0f, 1.0f);
  /* scores [B·nwin][heads][N][N] = scale · q kᵀ (+ bias and mask), softmax over keys */
  const long s3 = (long)N * 3 * C, sp = (long)nh * NN;
  for (int h = 0; h < nh; h++)
    head_gemm(be, 0, 1, N, N, hd, scale, mb_at(b->qkv, (size_t)h * hd), 3 * C, s3,
              mb_at(b->qkv, (size_t)C + h * hd), 3 * C, s3, mb_at(b->p, (size_t)h * NN), N, sp, nw);
  mb_bcast(be, MB_BC_ADD, b->p, s->bmask, b->p, (size_t)B, (size_t)g->nwin * nh * NN, 1);
  mb_softmax_args sa = {.rows = nw * nh * N, .cols = N, .x = b->p, .y = b->p};
  mb_softmax(be, &sa);
  /* context [window row][head·hd + d] (torchvision's transpose(1, 2).reshape) */
  for (int h = 0; h < nh; h++)
    head_gemm(be, 0, 0, N, hd, N, 1.0f, mb_at(b->p, (size_t)h * NN), N, sp,
              mb_at(b->qkv, (size_t)2 * C + h * hd), 3 * C, s3, mb_at(b->ctx, (size_t)h * hd), C,
              (long)N * C, nw);
  linear(be, b->ctx, tw_(s, w, t + 5), tw_(s, w, t + 6), s->s_win, rows_w, C, C);
  gather(be, s->s_win, rows_w, g->inv, s->s_tok, rows_t, C);   /* reverse, unroll, unpad */
  mb_binary(be, MB_BIN_AXPBY, b->in, s->s_tok, b->x1, (size_t)rows_t * C, 1.0f, 1.0f);
  layernorm(be, b->x1, b->ln2, tw_(s, w, t + 7), tw_(s, w, t + 8), rows_t, C, b->m2, b->r2);
  linear(be, b->ln2, tw_(s, w, t + 9), tw_(s, w, t + 10), b->h, rows_t, C, b->hidden);
  mb_unary(be, MB_UN_GELU, b->h, s->s_hid, (size_t)rows_t * b->hidden, 0, 0);
  linear(be, s->s_hid, tw_(s, w, t + 11), tw_(s, w, t + 12), b->out, rows_t, b->hidden, C);
  mb_binary(be, MB_BIN_AXPBY, b->out, b->x1, b->out, (size_t)rows_t * C, 1.0f, 1.0f);
}

static void merge_fwd(mb_swin *s, mb_sw_merge *m, mb_view x, mb_view w, int B)
{
  mb_backend *be = s->be;
  const int rows_o = B * m->oh * m->ow, C4 = 4 * m->C;
  gather(be, x, B * m->h * m->w, m->idx, m->cat, rows_o * 4, m->C);
  layernorm(be, m->cat, m->ln, tw_(s, w, m->t_red + 1), tw_(s, w, m->t_red + 2), rows_o, C4, m->m,
            m->r);
  linear(be, m->ln, tw_(s, w, m->t_red), mb_none(), m->out, rows_o, C4, 2 * m->C);
}

mb_view mb_swin_forward(mb_swin *s, mb_view w, mb_view x, int B)
{
  mb_backend *be = s->be;
  if (mb_is_none(w)) w = s->w;
  if (B < 1 || B > s->max_batch) {
    mb_fail(be, MB_BAD_ARG, "swin forward: batch %d outside 1..%d", B, s->max_batch);
    return s->logits;
  }
  const mb_swin_config *cfg = &s->cfg;
  if (!mb_is_none(x)) mb_copy(be, s->in, x, (size_t)B * cfg->in_c * cfg->in_h * cfg->in_w);
  /* patch embedding: im2col [B][K0][T0] → [K0][B·T0] → tokens [B·T0 × C0] */
  const int K0 = s->pt.t[0].cols, T0 = s->th[0] * s->tw[0], C0 = s->C[0];
  mb_conv_geom cg = {.n = B, .c = cfg->in_c, .h = cfg->in_h, .w = cfg->in_w, .kh = cfg->patch,
                     .kw = cfg->patch, .stride = cfg->patch, .pad = 0};
  mb_conv_geom_finish(&cg);
  mb_im2col(be, &cg, s->in, s->cols);
  mb_permute(be, s->cols, s->colsp, (size_t)B, (size_t)K0, (size_t)T0);
  mb_matmul(be, 1, 1, B * T0, C0, K0, 1.0f, s->colsp, tw_(s, w, 0), 0.0f, s->emb);
  mb_bcast(be, MB_BC_ADD, s->emb, tw_(s, w, 1), s->emb, (size_t)B * T0, (size_t)C0, 1);
  layernorm(be, s->emb, s->x0, tw_(s, w, 2), tw_(s, w, 3), B * T0, C0, s->e_m, s->e_r);
  for (int i = 0; i < s->n_blocks; i++) {
    mb_sw_block *b = &s->blk[i];
    if (i > 0 && s->blk[i - 1].stage != b->stage) {
      int st = s->blk[i - 1].stage;
      merge_fwd(s, &s->mrg[st], s->blk[i - 1].out, w, B);
    }
    block_fwd(s, b, w, B);
  }
  /* final LayerNorm, mean over tokens, head */
  const int T3 = s->th[3] * s->tw[3], C3 = s->C[3], nt = s->pt.n;
  layernorm(be, s->blk[s->n_blocks - 1].out, s->lnf, tw_(s, w, nt - 4), tw_(s, w, nt - 3), B * T3,
            C3, s->f_m, s->f_r);
  mb_reduce(be, MB_RED_SUM, s->lnf, s->feat, (size_t)B, (size_t)T3, (size_t)C3);
  mb_unary(be, MB_UN_AFFINE, s->feat, s->feat, (size_t)B * C3, 1.0f / (float)T3, 0.0f);
  linear(be, s->feat, tw_(s, w, nt - 2), tw_(s, w, nt - 1), s->logits, B, C3, cfg->classes);
  s->last_w = w;
  s->last_batch = B;
  s->passes.forward += B;
  return s->logits;
}

void mb_swin_xent(mb_swin *s, mb_view labels, int batch, float scale, mb_view loss)
{
  mb_xent_args a = {
    .rows = batch, .cols = s->cfg.classes, .logits = s->logits, .labels = labels, .loss = loss,
    .dlogits = s->dlogits, .probs = mb_none(), .scale = scale,
  };
  mb_softmax_xent(s->be, &a);
}
