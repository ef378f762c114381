/* Swin-T backward and the batched per-sample squared gradients (docs/specification.md §2.1).
 *
 * The squared per-sample gradients are taken during the backward pass, while each
 * layer's output gradient is at hand (as core/resnet_bwd.c does):
 *  - linear W: g_n = Σ_{rows of n} dy xᵀ, acc += g_n² over a batch of samples
 *    (core/gemm_sq.c: the backend's gemm_sq_acc, or one batched GEMM into a capped
 *    workspace and a SUMSQ reduce over the samples); bias: per-sample row sums, squared;
 *  - LayerNorm γ, β: per-sample sums of dy·x̂ and dy, squared;
 *  - relative position bias table: the per-sample sum of the score gradient over the
 *    windows, times the one-hot index matrix (a GEMM), squared;
 *  - patch conv: per-image GEMMs of the token gradient with the image's patches.
 * Swin has no batch statistics, so every forward gives separable per-sample gradients. */
#include "core/conv.h"
#include "core/gemm_sq.h"
#include "core/swin.h"
#include "core/swin_steps.h"

#include <math.h>
#include <string.h>


static size_t toff(const mb_swin *s, int t) { return s->pt.t[t].off; }
static mb_view gw(mb_swin *s, int t) { return mb_at(s->g, toff(s, t)); }
static mb_view lw(mb_swin *s, int t) { return mb_at(s->last_w, toff(s, t)); }

/* sv [batch × c] per-sample values of a [c] tensor at acc offset off: acc += Σ_rows sv². */
static void add_sq_rows(mb_swin *s, mb_view sv, int batch, int c, size_t off,
                        const mb_sw_bwd_opts *o)
{
  mb_backend *be = s->be;
  mb_unary(be, MB_UN_SQR, sv, sv, (size_t)batch * c, 0, 0);
  for (int t = 0; t < o->n_sq; t++) {
    int r0 = o->sq[t].r0, r1 = o->sq[t].r1;
    if (r1 <= r0) continue;
    mb_view acc = mb_at(o->sq[t].acc, off);
    mb_reduce(be, MB_RED_SUM, mb_at(sv, (size_t)r0 * c), s->sq_c, 1, (size_t)(r1 - r0), (size_t)c);
    mb_binary(be, MB_BIN_AXPBY, acc, s->sq_c, acc, (size_t)c, 1.0f, 1.0f);
  }
}

/* Linear layer y = x Wᵀ (+ b) whose rows come `per` to a sample: gradients (when wanted)
 * and squared per-sample gradients.  tb < 0: no bias. */
static void lin_grads(mb_swin *s, mb_view x, mb_view dy, int B, int per, int in, int out, int tw,
                      int tb, const mb_sw_bwd_opts *o)
{
  mb_backend *be = s->be;
  const int rows = B * per;
  if (o->want_grads) {
    mb_matmul(be, 1, 0, out, in, rows, 1.0f, dy, x, 0.0f, gw(s, tw));
    if (tb >= 0) mb_reduce(be, MB_RED_SUM, dy, gw(s, tb), 1, (size_t)rows, (size_t)out);
  }
  if (!o->n_sq) return;
  const size_t P = (size_t)out * in;
  size_t chunk = mb_gemm_sq_samples(s->pg_n, P);
  size_t most = 0;   /* rows of the largest target */
  for (int t = 0; t < o->n_sq; t++)
    if (o->sq[t].r1 - o->sq[t].r0 > (int)most) most = (size_t)(o->sq[t].r1 - o->sq[t].r0);
  if (per == 1 && most * (size_t)(in + out) <= s->pg_n) {
    /* one row per sample (the head; a stage of one token): Σ_n (δ_n x_nᵀ)² = (δ²)ᵀ(x²),
     * as mb_mlp does.  The squares go to the per-sample workspace, which no caller's
     * x or dy lives in (a stage-4 MLP's x or dy is any of the token scratch buffers). */
    for (int t = 0; t < o->n_sq; t++) {
      int r0 = o->sq[t].r0, n = o->sq[t].r1 - r0;
      if (n <= 0) continue;
      mb_view xs = s->pg, ds = mb_at(s->pg, (size_t)n * in);
      mb_unary(be, MB_UN_SQR, mb_at(x, (size_t)r0 * in), xs, (size_t)n * in, 0, 0);
      mb_unary(be, MB_UN_SQR, mb_at(dy, (size_t)r0 * out), ds, (size_t)n * out, 0, 0);
      mb_matmul(be, 1, 0, out, in, n, 1.0f, ds, xs, 1.0f, mb_at(o->sq[t].acc, toff(s, tw)));
    }
    chunk = 0;
  }
  /* image n's weight gradient is dyₙᵀ xₙ over its `per` rows; the optional op takes a
   * whole target at once, the composition as many images as the workspace holds */
  const int whole = mb_has_opt(be, MB_OPID_gemm_sq_acc);
  for (int t = 0; t < o->n_sq && chunk && mb_ok(be); t++) {
    const int r1 = o->sq[t].r1, step = whole ? r1 - o->sq[t].r0 : (int)chunk;
    for (int b0 = o->sq[t].r0; b0 < r1 && mb_ok(be); b0 += step) {
      const mb_gemm_sq_args a = {
        .g = {.trans_a = 1, .m = out, .n = in, .k = per, .alpha = 1.0f,
              .a = mb_at(dy, (size_t)b0 * per * out), .b = mb_at(x, (size_t)b0 * per * in),
              .lda = out, .ldb = in, .batch = r1 - b0 < step ? r1 - b0 : step,
              .stride_a = (long)per * out, .stride_b = (long)per * in},
        .groups = 1, .acc = mb_at(o->sq[t].acc, toff(s, tw)),
      };
      mb_gemm_sq_acc_auto(be, &a, s->pg, s->pg_n);
    }
  }
  if (tb >= 0) {
    mb_reduce(be, MB_RED_SUM, dy, s->sq_s, (size_t)B, (size_t)per, (size_t)out);
    add_sq_rows(s, s->sq_s, B, out, toff(s, tb), o);
  }
}

/* LayerNorm backward (x its input, dy its output gradient) into dx; gradients of γ (tg)
 * and β (tg + 1); squared per-sample gradients with x̂ in the scratch s_hid. */
static void ln_bwd(mb_swin *s, mb_view x, mb_view dy, mb_view dx, mb_view m, mb_view r, int B,
                   int per, int c, int tg, const mb_sw_bwd_opts *o)
{
  mb_backend *be = s->be;
  const int rows = B * per;
  if (o->n_sq) {
    mb_view xh = s->s_hid;
    mb_bcast(be, MB_BC_SUB, x, m, xh, 1, (size_t)rows, (size_t)c);
    mb_bcast(be, MB_BC_MUL, xh, r, xh, 1, (size_t)rows, (size_t)c);
    mb_binary(be, MB_BIN_MUL, xh, dy, xh, (size_t)rows * c, 1.0f, 0.0f);
    mb_reduce(be, MB_RED_SUM, xh, s->sq_s, (size_t)B, (size_t)per, (size_t)c);
    add_sq_rows(s, s->sq_s, B, c, toff(s, tg), o);
    mb_reduce(be, MB_RED_SUM, dy, s->sq_s, (size_t)B, (size_t)per, (size_t)c);
    add_sq_rows(s, s->sq_s, B, c, toff(s, tg + 1), o);
  }
  mb_ln_bwd_args a = {
    .rows = rows, .c = c, .x = x, .dy = dy, .gamma = lw(s, tg), .mean = m, .rstd = r, .dx = dx,
    .dgamma = o->want_grads ? gw(s, tg) : mb_none(),
    .dbeta = o->want_grads ? gw(s, tg + 1) : mb_none(),
  };
  mb_layernorm_bwd(be, &a);
}

/* The bias table from the score gradient dS [B][nwin][heads][N²]. */
static void table_grads(mb_swin *s, const mb_sw_block *b, const mb_sw_grid *g, int B,
                        const mb_sw_bwd_opts *o)
{
  mb_backend *be = s->be;
  const int nh = b->heads, NN = s->N * s->N, tt = b->t_n1 + 2, nrel = s->pt.t[tt].rows;
  if (o->want_grads) {
    mb_reduce(be, MB_RED_SUM, s->s_p, s->bias, 1, (size_t)B * g->nwin, (size_t)nh * NN);
    mb_matmul(be, 0, 1, nrel, nh, NN, 1.0f, s->relp, s->bias, 0.0f, gw(s, tt));
  }
  if (!o->n_sq) return;
  /* per sample: dB_n [heads × N²] = Σ_windows dS, then dB_n · onehotᵀ = [heads × nrel] */
  mb_view per = s->s_tab, pt = mb_at(s->s_tab, (size_t)B * nh * NN);
  mb_reduce(be, MB_RED_SUM, s->s_p, per, (size_t)B, (size_t)g->nwin, (size_t)nh * NN);
  mb_matmul(be, 0, 1, B * nh, nrel, NN, 1.0f, per, s->relp, 0.0f, pt);
  mb_unary(be, MB_UN_SQR, pt, pt, (size_t)B * nh * nrel, 0, 0);
  for (int t = 0; t < o->n_sq; t++) {
    int r0 = o->sq[t].r0, r1 = o->sq[t].r1;
    if (r1 <= r0) continue;
    mb_view acc = mb_at(o->sq[t].acc, toff(s, tt));
    mb_reduce(be, MB_RED_SUM, mb_at(pt, (size_t)r0 * nh * nrel), s->sq_c, 1, (size_t)(r1 - r0),
              (size_t)nh * nrel);
    mb_permute(be, s->sq_c, s->sq_s, (size_t)nh, (size_t)nrel, 1);   /* [heads][nrel] → [nrel][heads] */
    mb_binary(be, MB_BIN_AXPBY, acc, s->sq_s, acc, (size_t)nh * nrel, 1.0f, 1.0f);
  }
}

/* Block backward: D holds d(out) on entry and d(in) on return. */
static void block_bwd(mb_swin *s, const mb_sw_block *b, mb_view D, int B, const mb_sw_bwd_opts *o)
{
  mb_backend *be = s->be;
  const mb_sw_grid *g = &s->grid[2 * b->stage + b->shifted];
  const int C = b->C, nh = b->heads, hd = C / nh, N = s->N, NN = N * N, t = b->t_n1, H = b->hidden;
  const int T = g->h * g->w, R = g->nwin * N, rows_t = B * T, nw = B * g->nwin, rows_w = nw * N;
  const float scale = 1.0f / sqrtf((float)hd);
  const size_t nt = (size_t)rows_t * C;
  /* MLP: out = x1 + GELU(ln2 W0ᵀ + b0) W3ᵀ + b3 */
  mb_unary(be, MB_UN_GELU, b->h, s->s_hid, (size_t)rows_t * H, 0, 0);
  lin_grads(s, s->s_hid, D, B, T, H, C, t + 11, t + 12, o);
  mb_matmul(be, 0, 0, rows_t, H, C, 1.0f, D, lw(s, t + 11), 0.0f, s->s_hid2);
  mb_binary(be, MB_BIN_GELU_BWD, s->s_hid2, b->h, s->s_hid2, (size_t)rows_t * H, 0, 0);
  lin_grads(s, b->ln2, s->s_hid2, B, T, C, H, t + 9, t + 10, o);
  mb_matmul(be, 0, 0, rows_t, C, H, 1.0f, s->s_hid2, lw(s, t + 9), 0.0f, s->s_tok);
  ln_bwd(s, b->x1, s->s_tok, s->s_tok2, b->m2, b->r2, B, T, C, t + 7, o);
  mb_binary(be, MB_BIN_AXPBY, D, s->s_tok2, D, nt, 1.0f, 1.0f);   /* D = d(x1) */
  /* attention: x1 = in + unpartition(proj(ctx)) */
  gather(be, D, rows_t, g->part, s->s_win, rows_w, C);           /* 0 on padding rows */
  lin_grads(s, b->ctx, s->s_win, B, R, C, C, t + 5, t + 6, o);
  mb_matmul(be, 0, 0, rows_w, C, C, 1.0f, s->s_win, lw(s, t + 5), 0.0f, s->s_win2);   /* dctx */
  const long s3 = (long)N * 3 * C, sp = (long)nh * NN, sc = (long)N * C;
  for (int h = 0; h < nh; h++) {
    /* dP = dctx vᵀ;  dv = Pᵀ dctx */
    head_gemm(be, 0, 1, N, N, hd, 1.0f, mb_at(s->s_win2, (size_t)h * hd), C, sc,
              mb_at(b->qkv, (size_t)2 * C + h * hd), 3 * C, s3, mb_at(s->s_p, (size_t)h * NN), N,
              sp, nw);
    head_gemm(be, 1, 0, N, hd, N, 1.0f, mb_at(b->p, (size_t)h * NN), N, sp,
              mb_at(s->s_win2, (size_t)h * hd), C, sc, mb_at(s->s_win3, (size_t)2 * C + h * hd),
              3 * C, s3, nw);
  }
  mb_softmax_args sa = {.rows = nw * nh * N, .cols = N, .y = b->p, .dy = s->s_p, .dx = s->s_p};
  mb_softmax_bwd(be, &sa);
  table_grads(s, b, g, B, o);
  for (int h = 0; h < nh; h++) {
    /* S = scale · q kᵀ:  dq = scale · dS k;  dk = scale · dSᵀ q */
    head_gemm(be, 0, 0, N, hd, N, scale, mb_at(s->s_p, (size_t)h * NN), N, sp,
              mb_at(b->qkv, (size_t)C + h * hd), 3 * C, s3, mb_at(s->s_win3, (size_t)h * hd),
              3 * C, s3, nw);
    head_gemm(be, 1, 0, N, hd, N, scale, mb_at(s->s_p, (size_t)h * NN), N, sp,
              mb_at(b->qkv, (size_t)h * hd), 3 * C, s3, mb_at(s->s_win3, (size_t)C + h * hd),
              3 * C, s3, nw);
  }
  lin_grads(s, b->xw, s->s_win3, B, R, C, 3 * C, t + 3, t + 4, o);
  mb_matmul(be, 0, 0, rows_w, C, 3 * C, 1.0f, s->s_win3, lw(s, t + 3), 0.0f, s->s_win);
  gather(be, s->s_win, rows_w, g->inv, s->s_tok, rows_t, C);      /* d(LN1 output) */
  ln_bwd(s, b->in, s->s_tok, s->s_tok2, b->m1, b->r1, B, T, C, t, o);
  mb_binary(be, MB_BIN_AXPBY, D, s->s_tok2, D, nt, 1.0f, 1.0f);   /* D = d(in) */
}

/* PatchMerging backward: D = d(out) [B·oT × 2C] → E = d(in) [B·T × C]. */
static void merge_bwd(mb_swin *s, const mb_sw_merge *m, mb_view D, mb_view E, int B,
                      const mb_sw_bwd_opts *o)
{
  mb_backend *be = s->be;
  const int oT = m->oh * m->ow, rows_o = B * oT, C4 = 4 * m->C;
  lin_grads(s, m->ln, D, B, oT, C4, 2 * m->C, m->t_red, -1, o);
  mb_matmul(be, 0, 0, rows_o, C4, 2 * m->C, 1.0f, D, lw(s, m->t_red), 0.0f, s->s_tok);
  ln_bwd(s, m->cat, s->s_tok, s->s_tok2, m->m, m->r, B, oT, C4, m->t_red + 1, o);
  gather(be, s->s_tok2, rows_o * 4, m->inv, E, B * m->h * m->w, m->C);
}

static int bwd_ok(mb_swin *s, int batch, const mb_sw_bwd_opts *o)
{
  mb_backend *be = s->be;
  if (!mb_ok(be)) return 0;
  if (batch != s->last_batch || batch < 1) {
    mb_fail(be, MB_BAD_ARG, "swin backward: batch %d, the last forward had %d", batch,
            s->last_batch);
    return 0;
  }
  for (int t = 0; t < o->n_sq; t++)
    if (o->sq[t].r0 < 0 || o->sq[t].r1 > batch || mb_is_none(o->sq[t].acc)) {
      mb_fail(be, MB_BAD_ARG, "swin backward: bad per-sample target %d (rows %d..%d of %d)", t,
              o->sq[t].r0, o->sq[t].r1, batch);
      return 0;
    }
  if (o->n_sq && mb_is_none(s->pg)) {
    mb_swin_sq_sizes(s, &s->pg_n, &s->s_tab_n);
    s->pg = mb_new(be, s->pg_n);
    s->s_tab = mb_new(be, s->s_tab_n);
  }
  return mb_ok(be);
}

void mb_swin_backward(mb_swin *s, int B, const mb_sw_bwd_opts *opts)
{
  mb_backend *be = s->be;
  const mb_sw_bwd_opts plain = {.want_grads = 1};
  const mb_sw_bwd_opts *o = opts ? opts : &plain;
  if (!bwd_ok(s, B, o)) return;
  const mb_swin_config *cfg = &s->cfg;
  const int nt = s->pt.n, K = cfg->classes, C3 = s->C[3], T3 = s->th[3] * s->tw[3];
  /* head: logits = feat Wᵀ + b */
  lin_grads(s, s->feat, s->dlogits, B, 1, C3, K, nt - 2, nt - 1, o);
  mb_matmul(be, 0, 0, B, C3, K, 1.0f, s->dlogits, lw(s, nt - 2), 0.0f, s->dfeat);
  /* mean over tokens: every token row of image b gets dfeat[b] / T3 */
  gather(be, s->dfeat, B, s->pool_idx, s->s_tok, B * T3, C3);
  mb_unary(be, MB_UN_AFFINE, s->s_tok, s->s_tok, (size_t)B * T3 * C3, 1.0f / (float)T3, 0.0f);
  mb_view D = s->d_a, E = s->d_b, tmp;
  ln_bwd(s, s->blk[s->n_blocks - 1].out, s->s_tok, D, s->f_m, s->f_r, B, T3, C3, nt - 4, o);
  for (int i = s->n_blocks - 1; i >= 0 && mb_ok(be); i--) {
    const mb_sw_block *b = &s->blk[i];
    block_bwd(s, b, D, B, o);
    if (i > 0 && s->blk[i - 1].stage != b->stage) {
      merge_bwd(s, &s->mrg[s->blk[i - 1].stage], D, E, B, o);
      tmp = D; D = E; E = tmp;
    }
  }
  /* patch embedding: x0 = LN(colsᵀ Wᵀ + b) */
  const int K0 = s->pt.t[0].cols, T0 = s->th[0] * s->tw[0], C0 = s->C[0];
  ln_bwd(s, s->emb, D, s->s_tok, s->e_m, s->e_r, B, T0, C0, 2, o);
  if (o->want_grads) {
    mb_matmul(be, 1, 1, C0, K0, B * T0, 1.0f, s->s_tok, s->colsp, 0.0f, gw(s, 0));
    mb_reduce(be, MB_RED_SUM, s->s_tok, gw(s, 1), 1, (size_t)B * T0, (size_t)C0);
  }
  if (o->n_sq) {
    /* image n's conv weight gradient: its token gradients against its own columns
     * (colsp is [K0][B·T0], so image n's block starts at column n·T0) */
    const int whole = mb_has_opt(be, MB_OPID_gemm_sq_acc);
    const int chunk = (int)mb_gemm_sq_samples(s->pg_n, (size_t)C0 * K0);
    for (int t = 0; t < o->n_sq && mb_ok(be); t++) {
      const int r1 = o->sq[t].r1, step = whole ? r1 - o->sq[t].r0 : chunk;
      for (int b0 = o->sq[t].r0; b0 < r1 && mb_ok(be); b0 += step) {
        const mb_gemm_sq_args a = {
          .g = {.trans_a = 1, .trans_b = 1, .m = C0, .n = K0, .k = T0, .alpha = 1.0f,
                .a = mb_at(s->s_tok, (size_t)b0 * T0 * C0), .b = mb_at(s->colsp, (size_t)b0 * T0),
                .lda = C0, .ldb = B * T0, .batch = r1 - b0 < step ? r1 - b0 : step,
                .stride_a = (long)T0 * C0, .stride_b = T0},
          .groups = 1, .acc = mb_at(o->sq[t].acc, toff(s, 0)),
        };
        mb_gemm_sq_acc_auto(be, &a, s->pg, s->pg_n);
      }
    }
    mb_reduce(be, MB_RED_SUM, s->s_tok, s->sq_s, (size_t)B, (size_t)T0, (size_t)C0);
    add_sq_rows(s, s->sq_s, B, C0, toff(s, 1), o);
  }
  if (o->want_input) {
    /* d cols [K0][B·T0] = W ᵀ d tokensᵀ, back to [B][K0][T0], then col2im */
    mb_conv_geom cg = {.n = B, .c = cfg->in_c, .h = cfg->in_h, .w = cfg->in_w, .kh = cfg->patch,
                       .kw = cfg->patch, .stride = cfg->patch, .pad = 0};
    mb_conv_geom_finish(&cg);
    mb_matmul(be, 1, 1, K0, B * T0, C0, 1.0f, lw(s, 0), s->s_tok, 0.0f, s->cols);
    mb_permute(be, s->cols, s->s_hid, (size_t)K0, (size_t)B, (size_t)T0);
    mb_fill(be, s->dx, (size_t)B * cfg->in_c * cfg->in_h * cfg->in_w, 0.0f);
    mb_col2im(be, &cg, s->s_hid, s->dx);
  }
  s->passes.backward += B;
}
