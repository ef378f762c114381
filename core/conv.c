/* Convolution from im2col/col2im and GEMM (see conv.h). */
#include "core/conv.h"

void mb_conv_geom_finish(mb_conv_geom *g)
{
  g->oh = mb_conv_out(g->h, g->kh, g->stride, g->pad);
  g->ow = mb_conv_out(g->w, g->kw, g->stride, g->pad);
}

static int direct(const mb_conv_geom *g)
{
  return g->kh == 1 && g->kw == 1 && g->stride == 1 && g->pad == 0;
}

size_t mb_conv2d_ws_per_image(const mb_conv_geom *g)
{
  return direct(g) ? 0 : (size_t)g->c * g->kh * g->kw * g->oh * g->ow;
}

/* Images per chunk; 0 after recording an error. */
static int chunk_of(mb_backend *be, const char *op, const mb_conv_geom *g, int cout, size_t ws_n)
{
  if (!mb_ok(be)) return 0;
  if (g->n < 1 || g->c < 1 || cout < 1 || g->kh < 1 || g->kw < 1 || g->stride < 1 || g->pad < 0 ||
      g->oh < 1 || g->ow < 1 || g->oh != mb_conv_out(g->h, g->kh, g->stride, g->pad) ||
      g->ow != mb_conv_out(g->w, g->kw, g->stride, g->pad)) {
    mb_fail(be, MB_BAD_ARG, "%s: bad geometry (n=%d c=%d %dx%d k=%dx%d s=%d p=%d -> %dx%d, cout=%d)",
            op, g->n, g->c, g->h, g->w, g->kh, g->kw, g->stride, g->pad, g->oh, g->ow, cout);
    return 0;
  }
  size_t per = mb_conv2d_ws_per_image(g);
  if (per == 0) return g->n;
  if (ws_n < per) {
    mb_fail(be, MB_BAD_ARG, "%s: workspace of %zu elements, one image needs %zu", op, ws_n, per);
    return 0;
  }
  size_t k = ws_n / per;
  return k >= (size_t)g->n ? g->n : (int)k;
}

/* The im2col columns of a chunk of images: x itself for a 1×1/1 convolution,
 * else unfolded into ws. */
static mb_view chunk_columns(mb_backend *be, const mb_conv_geom *sub, mb_view x, mb_view ws)
{
  if (direct(sub)) return x;
  mb_im2col(be, sub, x, ws);
  return ws;
}

void mb_conv2d_fwd(mb_backend *be, const mb_conv_geom *g, int cout, mb_view x, mb_view w,
                   mb_view y, mb_view ws, size_t ws_n)
{
  int chunk = chunk_of(be, "conv2d_fwd", g, cout, ws_n);
  if (!chunk) return;
  const size_t chw = (size_t)g->c * g->h * g->w, ohw = (size_t)g->oh * g->ow;
  const int ckk = g->c * g->kh * g->kw;
  for (int b0 = 0; b0 < g->n && mb_ok(be); b0 += chunk) {
    mb_conv_geom sub = *g;
    sub.n = g->n - b0 < chunk ? g->n - b0 : chunk;
    mb_view cols = chunk_columns(be, &sub, mb_at(x, (size_t)b0 * chw), ws);
    mb_gemm_args a = {
      .m = cout, .n = (int)ohw, .k = ckk, .alpha = 1.0f, .beta = 0.0f,
      .a = w, .b = cols, .c = mb_at(y, (size_t)b0 * cout * ohw),
      .lda = ckk, .ldb = (int)ohw, .ldc = (int)ohw,
      .batch = sub.n, .stride_a = 0, .stride_b = (long)ckk * (long)ohw,
      .stride_c = (long)cout * (long)ohw,
    };
    mb_gemm(be, &a);
  }
}

void mb_conv2d_bwd_data(mb_backend *be, const mb_conv_geom *g, int cout, mb_view dy, mb_view w,
                        mb_view dx, int accumulate, mb_view ws, size_t ws_n)
{
  int chunk = chunk_of(be, "conv2d_bwd_data", g, cout, ws_n);
  if (!chunk) return;
  const size_t chw = (size_t)g->c * g->h * g->w, ohw = (size_t)g->oh * g->ow;
  const int ckk = g->c * g->kh * g->kw;
  if (!accumulate && !direct(g)) mb_fill(be, dx, (size_t)g->n * chw, 0.0f);
  for (int b0 = 0; b0 < g->n && mb_ok(be); b0 += chunk) {
    mb_conv_geom sub = *g;
    sub.n = g->n - b0 < chunk ? g->n - b0 : chunk;
    /* 1×1/1: the columns are dx itself, so the GEMM writes (or adds to) it directly */
    mb_view cols = direct(g) ? mb_at(dx, (size_t)b0 * chw) : ws;
    mb_gemm_args a = {
      .trans_a = 1, .m = ckk, .n = (int)ohw, .k = cout, .alpha = 1.0f,
      .beta = direct(g) && accumulate ? 1.0f : 0.0f,
      .a = w, .b = mb_at(dy, (size_t)b0 * cout * ohw), .c = cols,
      .lda = ckk, .ldb = (int)ohw, .ldc = (int)ohw,
      .batch = sub.n, .stride_a = 0, .stride_b = (long)cout * (long)ohw,
      .stride_c = (long)ckk * (long)ohw,
    };
    mb_gemm(be, &a);
    if (!direct(g)) mb_col2im(be, &sub, ws, mb_at(dx, (size_t)b0 * chw));
  }
}

void mb_conv2d_bwd_filter(mb_backend *be, const mb_conv_geom *g, int cout, mb_view x, mb_view dy,
                          mb_view dw, float beta, mb_view ws, size_t ws_n)
{
  int chunk = chunk_of(be, "conv2d_bwd_filter", g, cout, ws_n);
  if (!chunk) return;
  const size_t chw = (size_t)g->c * g->h * g->w, ohw = (size_t)g->oh * g->ow;
  const int ckk = g->c * g->kh * g->kw;
  for (int b0 = 0; b0 < g->n && mb_ok(be); b0 += chunk) {
    mb_conv_geom sub = *g;
    sub.n = g->n - b0 < chunk ? g->n - b0 : chunk;
    mb_view cols = chunk_columns(be, &sub, mb_at(x, (size_t)b0 * chw), ws);
    /* one GEMM per image, accumulating into dw in image order */
    for (int i = 0; i < sub.n; i++) {
      mb_gemm_args a = {
        .trans_b = 1, .m = cout, .n = ckk, .k = (int)ohw, .alpha = 1.0f,
        .beta = b0 + i == 0 ? beta : 1.0f,
        .a = mb_at(dy, (size_t)(b0 + i) * cout * ohw), .b = mb_at(cols, (size_t)i * ckk * ohw),
        .c = dw, .lda = (int)ohw, .ldb = (int)ohw, .ldc = ckk, .batch = 1,
      };
      mb_gemm(be, &a);
    }
  }
}
