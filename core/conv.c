/* Convolution from im2col/col2im, permute and GEMM (see conv.h).
 *
 * A chunk of n images is one GEMM: the permute regroups its im2col columns
 * [n][ckk][ohw] into [ckk][n·ohw], so the GEMM's N (forward, input gradient) or K
 * (weight gradient) is n·ohw instead of ohw.  Per-image GEMMs read the whole weight
 * matrix (or dw) once per image, which is memory-bound where ohw is small (ResNet-18's
 * last stage: 512×4608 weights against 16 columns).
 *
 * Workspace of a chunk: region `a` of n·max(ckk, cout)·ohw elements (the columns
 * [n][ckk][ohw], or the output side [cout][n·ohw]), then region `b` of n·ckk·ohw (the
 * regrouped columns [ckk][n·ohw]).  A chunk of one image needs no regrouping, so it
 * runs in `a` alone, the layouts being the same.
 *
 * A backend's optional conv2d ops (mb/ops.def) replace all of this where present and
 * not forced off (mb_has_opt).  The workspace rule stays the same for every engine
 * (callers size it one way), though the optional ops do not use it. */
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

static size_t ckk_of(const mb_conv_geom *g) { return (size_t)g->c * g->kh * g->kw; }
static size_t ohw_of(const mb_conv_geom *g) { return (size_t)g->oh * g->ow; }

/* Elements per image of region a. */
static size_t wide_of(const mb_conv_geom *g, int cout)
{
  size_t ckk = ckk_of(g), co = (size_t)cout;
  return (ckk > co ? ckk : co) * ohw_of(g);
}

size_t mb_conv2d_ws_for(const mb_conv_geom *g, int cout, int images)
{
  if (direct(g) || images < 1) return 0;
  if (images == 1) return ckk_of(g) * ohw_of(g);
  return (size_t)images * (wide_of(g, cout) + ckk_of(g) * ohw_of(g));
}

size_t mb_conv2d_ws_per_image(const mb_conv_geom *g)
{
  return direct(g) ? 0 : 2 * ckk_of(g) * ohw_of(g);
}

/* Images per chunk; 0 after recording an error. */
static int chunk_of(mb_backend *be, const char *op, const mb_conv_geom *g, int cout, int groups,
                    size_t ws_n)
{
  if (!mb_ok(be)) return 0;
  if (g->n < 1 || g->c < 1 || cout < 1 || g->kh < 1 || g->kw < 1 || g->stride < 1 || g->pad < 0 ||
      g->oh < 1 || g->ow < 1 || g->oh != mb_conv_out(g->h, g->kh, g->stride, g->pad) ||
      g->ow != mb_conv_out(g->w, g->kw, g->stride, g->pad)) {
    mb_fail(be, MB_BAD_ARG, "%s: bad geometry (n=%d c=%d %dx%d k=%dx%d s=%d p=%d -> %dx%d, cout=%d)",
            op, g->n, g->c, g->h, g->w, g->kh, g->kw, g->stride, g->pad, g->oh, g->ow, cout);
    return 0;
  }
  if (groups < 1 || g->c % groups || cout % groups) {
    mb_fail(be, MB_BAD_ARG, "%s: %d groups do not divide %d input and %d output channels", op,
            groups, g->c, cout);
    return 0;
  }
  if (direct(g)) return g->n;
  size_t one = mb_conv2d_ws_for(g, cout, 1);
  if (ws_n < one) {
    mb_fail(be, MB_BAD_ARG, "%s: workspace of %zu elements, one image needs %zu", op, ws_n, one);
    return 0;
  }
  /* beyond one image, each takes its share of both regions */
  size_t k = ws_n / (wide_of(g, cout) + ckk_of(g) * ohw_of(g));
  if (k < 2) return 1;
  return k >= (size_t)g->n ? g->n : (int)k;
}

/* The images [b0, b0 + chunk) (fewer at the end of the batch) as a geometry. */
static mb_conv_geom chunk_geom(const mb_conv_geom *g, int b0, int chunk)
{
  mb_conv_geom sub = *g;
  sub.n = g->n - b0 < chunk ? g->n - b0 : chunk;
  return sub;
}

/* The backends' optional conv ops take no groups (mb/backend.h): grouped layers always
 * run the generic composition. */
static int use_opt(mb_backend *be, mb_op_id id, int groups)
{
  return groups == 1 && mb_has_opt(be, id);
}

/* One GEMM per group, batched: the groups' blocks of A, B and C lie at fixed strides
 * (for groups = 1 this is the plain matmul of the ungrouped layer). */
static void group_gemm(mb_backend *be, int ta, int tb, int m, int n, int k, mb_view a, int lda,
                       long sa, mb_view b, int ldb, long sb, float beta, mb_view c, int ldc, long sc,
                       int groups)
{
  mb_gemm_args x = {
    .trans_a = ta, .trans_b = tb, .m = m, .n = n, .k = k, .alpha = 1.0f, .beta = beta,
    .a = a, .b = b, .c = c, .lda = lda, .ldb = ldb, .ldc = ldc,
    .batch = groups, .stride_a = sa, .stride_b = sb, .stride_c = sc,
  };
  mb_gemm(be, &x);
}

void mb_conv2d_grouped_fwd(mb_backend *be, const mb_conv_geom *g, int cout, int groups, mb_view x,
                           mb_view w, mb_view y, mb_view ws, size_t ws_n)
{
  int chunk = chunk_of(be, "conv2d_fwd", g, cout, groups, ws_n);
  if (!chunk) return;
  if (use_opt(be, MB_OPID_conv2d_fwd, groups)) {
    mb_conv_args c = {.g = *g, .cout = cout, .x = x, .w = w, .y = y};
    mb_conv2d_opt(be, MB_OPID_conv2d_fwd, &c);
    return;
  }
  const size_t chw = (size_t)g->c * g->h * g->w, ohw = ohw_of(g);
  const int ckk = (int)ckk_of(g), G = groups, cog = cout / G, gk = ckk / G, cg = g->c / G;
  if (direct(g)) {
    /* x is its own column matrix: one batched GEMM per group, no workspace */
    for (int gi = 0; gi < G && mb_ok(be); gi++) {
      mb_gemm_args a = {
        .m = cog, .n = (int)ohw, .k = gk, .alpha = 1.0f, .beta = 0.0f,
        .a = mb_at(w, (size_t)gi * cog * gk), .b = mb_at(x, (size_t)gi * cg * ohw),
        .c = mb_at(y, (size_t)gi * cog * ohw), .lda = gk, .ldb = (int)ohw, .ldc = (int)ohw,
        .batch = g->n, .stride_a = 0, .stride_b = (long)chw, .stride_c = (long)cout * (long)ohw,
      };
      mb_gemm(be, &a);
    }
    return;
  }
  for (int b0 = 0; b0 < g->n && mb_ok(be); b0 += chunk) {
    const mb_conv_geom sub = chunk_geom(g, b0, chunk);
    const int n = sub.n;
    mb_view a = ws, b = mb_at(ws, (size_t)n * wide_of(g, cout));
    mb_view y_b0 = mb_at(y, (size_t)b0 * cout * ohw), cols_t = a, y_t = y_b0;
    mb_im2col(be, &sub, mb_at(x, (size_t)b0 * chw), a);
    if (n > 1) {
      mb_permute(be, a, b, (size_t)n, (size_t)ckk, ohw);   /* [ckk][n·ohw] */
      cols_t = b;
      y_t = a;   /* free again */
    }
    /* y_t [cout][n·ohw] = W·cols_t per group (group gi: rows gi·gk.. of cols_t, gi·cog.. of
     * y_t), then back to [n][cout][ohw] */
    const long nohw = (long)n * (long)ohw;
    group_gemm(be, 0, 0, cog, (int)nohw, gk, w, gk, (long)cog * gk, cols_t, (int)nohw, gk * nohw,
               0.0f, y_t, (int)nohw, cog * nohw, G);
    if (n > 1) mb_permute(be, a, y_b0, (size_t)cout, (size_t)n, ohw);
  }
}

void mb_conv2d_grouped_bwd_data(mb_backend *be, const mb_conv_geom *g, int cout, int groups,
                                mb_view dy, mb_view w, mb_view dx, int accumulate, mb_view ws,
                                size_t ws_n)
{
  int chunk = chunk_of(be, "conv2d_bwd_data", g, cout, groups, ws_n);
  if (!chunk) return;
  if (use_opt(be, MB_OPID_conv2d_bwd_data, groups)) {
    mb_conv_args c = {.g = *g, .cout = cout, .dy = dy, .w = w, .dx = dx, .accumulate = accumulate};
    mb_conv2d_opt(be, MB_OPID_conv2d_bwd_data, &c);
    return;
  }
  const size_t chw = (size_t)g->c * g->h * g->w, ohw = ohw_of(g);
  const int ckk = (int)ckk_of(g), G = groups, cog = cout / G, gk = ckk / G, cg = g->c / G;
  if (direct(g)) {
    /* the columns are dx itself, so the GEMMs write (or add to) it directly */
    for (int gi = 0; gi < G && mb_ok(be); gi++) {
      mb_gemm_args a = {
        .trans_a = 1, .m = gk, .n = (int)ohw, .k = cog, .alpha = 1.0f,
        .beta = accumulate ? 1.0f : 0.0f, .a = mb_at(w, (size_t)gi * cog * gk),
        .b = mb_at(dy, (size_t)gi * cog * ohw), .c = mb_at(dx, (size_t)gi * cg * ohw),
        .lda = gk, .ldb = (int)ohw, .ldc = (int)ohw,
        .batch = g->n, .stride_a = 0, .stride_b = (long)cout * (long)ohw, .stride_c = (long)chw,
      };
      mb_gemm(be, &a);
    }
    return;
  }
  if (!accumulate) mb_fill(be, dx, (size_t)g->n * chw, 0.0f);
  for (int b0 = 0; b0 < g->n && mb_ok(be); b0 += chunk) {
    const mb_conv_geom sub = chunk_geom(g, b0, chunk);
    const int n = sub.n;
    mb_view a = ws, b = mb_at(ws, (size_t)n * wide_of(g, cout));
    mb_view dy_t = mb_at(dy, (size_t)b0 * cout * ohw), dcols_t = a;
    if (n > 1) {
      mb_permute(be, dy_t, a, (size_t)n, (size_t)cout, ohw);   /* [cout][n·ohw] */
      dy_t = a;
      dcols_t = b;
    }
    /* dcols_t [ckk][n·ohw] = Wᵀ·dy_t per group, then back to [n][ckk][ohw] in a for col2im */
    const long nohw = (long)n * (long)ohw;
    group_gemm(be, 1, 0, gk, (int)nohw, cog, w, gk, (long)cog * gk, dy_t, (int)nohw, cog * nohw,
               0.0f, dcols_t, (int)nohw, gk * nohw, G);
    if (n > 1) mb_permute(be, b, a, (size_t)ckk, (size_t)n, ohw);
    mb_col2im(be, &sub, a, mb_at(dx, (size_t)b0 * chw));
  }
}

void mb_conv2d_grouped_bwd_filter(mb_backend *be, const mb_conv_geom *g, int cout, int groups,
                                  mb_view x, mb_view dy, mb_view dw, float beta, mb_view ws,
                                  size_t ws_n)
{
  int chunk = chunk_of(be, "conv2d_bwd_filter", g, cout, groups, ws_n);
  if (!chunk) return;
  if (use_opt(be, MB_OPID_conv2d_bwd_filter, groups)) {
    mb_conv_args c = {.g = *g, .cout = cout, .x = x, .dy = dy, .dw = dw, .beta = beta};
    mb_conv2d_opt(be, MB_OPID_conv2d_bwd_filter, &c);
    return;
  }
  const size_t chw = (size_t)g->c * g->h * g->w, ohw = ohw_of(g);
  const int ckk = (int)ckk_of(g), G = groups, cog = cout / G, gk = ckk / G;
  if (direct(g)) {
    /* x is its own column matrix but not regrouped: one GEMM per image (batched over the
     * groups), accumulating into dw in image order */
    for (int i = 0; i < g->n && mb_ok(be); i++)
      group_gemm(be, 0, 1, cog, gk, (int)ohw, mb_at(dy, (size_t)i * cout * ohw), (int)ohw,
                 (long)cog * (long)ohw, mb_at(x, (size_t)i * chw), (int)ohw, (long)gk * (long)ohw,
                 i == 0 ? beta : 1.0f, dw, gk, (long)cog * gk, G);
    return;
  }
  for (int b0 = 0; b0 < g->n && mb_ok(be); b0 += chunk) {
    const mb_conv_geom sub = chunk_geom(g, b0, chunk);
    const int n = sub.n;
    mb_view a = ws, b = mb_at(ws, (size_t)n * wide_of(g, cout));
    mb_view cols_t = a, dy_t = mb_at(dy, (size_t)b0 * cout * ohw);
    mb_im2col(be, &sub, mb_at(x, (size_t)b0 * chw), a);
    if (n > 1) {
      mb_permute(be, a, b, (size_t)n, (size_t)ckk, ohw);       /* [ckk][n·ohw] */
      mb_permute(be, dy_t, a, (size_t)n, (size_t)cout, ohw);   /* [cout][n·ohw], a is free */
      cols_t = b;
      dy_t = a;
    }
    /* dw (+)= dy_t · cols_tᵀ per group: one sum over K = n·ohw per chunk */
    const long nohw = (long)n * (long)ohw;
    group_gemm(be, 0, 1, cog, gk, (int)nohw, dy_t, (int)nohw, cog * nohw, cols_t, (int)nohw,
               gk * nohw, b0 == 0 ? beta : 1.0f, dw, gk, (long)cog * gk, G);
  }
}

void mb_conv2d_fwd(mb_backend *be, const mb_conv_geom *g, int cout, mb_view x, mb_view w,
                   mb_view y, mb_view ws, size_t ws_n)
{
  mb_conv2d_grouped_fwd(be, g, cout, 1, x, w, y, ws, ws_n);
}

void mb_conv2d_bwd_data(mb_backend *be, const mb_conv_geom *g, int cout, mb_view dy, mb_view w,
                        mb_view dx, int accumulate, mb_view ws, size_t ws_n)
{
  mb_conv2d_grouped_bwd_data(be, g, cout, 1, dy, w, dx, accumulate, ws, ws_n);
}

void mb_conv2d_bwd_filter(mb_backend *be, const mb_conv_geom *g, int cout, mb_view x, mb_view dy,
                          mb_view dw, float beta, mb_view ws, size_t ws_n)
{
  mb_conv2d_grouped_bwd_filter(be, g, cout, 1, x, dy, dw, beta, ws, ws_n);
}
