/* Checked wrappers around the op table (see ops.h). */
#include "core/ops.h"
#include "util/fault.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool mb_ok(const mb_backend *be) { return be && be->status == MB_OK; }

const char *mb_error(const mb_backend *be)
{
  if (!be) return "no backend";
  return be->status == MB_OK ? "" : be->err;
}

void mb_fail(mb_backend *be, mb_status st, const char *fmt, ...)
{
  if (!be || be->status != MB_OK) return;
  be->status = st;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(be->err, sizeof be->err, fmt, ap);
  va_end(ap);
}

/* The fault injector's op event (core/fault.h): the op fails as on a lost device. */
static bool injected(mb_backend *be, const char *op)
{
  if (!mb_fault_hit(MB_FAULT_OP)) return false;
  mb_fail(be, MB_DEVICE_ERROR, "%s: device lost (injected: MB_FAULT=%s)", op, mb_fault_spec());
  return true;
}

/* Every call into the backend's op table, checked, goes through here. */
#define DISPATCH(name, ...) do { if (!injected(be, #name)) be->ops->name(be, __VA_ARGS__); } while (0)
#define DISPATCH0(name) do { if (!injected(be, #name)) be->ops->name(be); } while (0)

size_t mb_view_len(mb_view v)
{
  if (!v.buf) return 0;
  size_t total = v.buf->bytes / 4;
  return v.off <= total ? total - v.off : 0;
}

/* A view holds n elements starting at its offset. */
static bool fits(mb_backend *be, const char *op, const char *what, mb_view v, size_t n)
{
  if (!mb_ok(be)) return false;
  if (n == 0) return true;
  if (!v.buf) {
    mb_fail(be, MB_BAD_ARG, "%s: %s is a null view", op, what);
    return false;
  }
  if (mb_view_len(v) < n) {
    mb_fail(be, MB_BAD_ARG, "%s: %s needs %zu elements at offset %zu, buffer holds %zu", op, what,
            n, v.off, v.buf->bytes / 4);
    return false;
  }
  return true;
}

/* Optional views may be none. */
static bool fits_opt(mb_backend *be, const char *op, const char *what, mb_view v, size_t n)
{
  return mb_is_none(v) ? mb_ok(be) : fits(be, op, what, v, n);
}

mb_view mb_new(mb_backend *be, size_t n)
{
  mb_view v = mb_none();
  if (!mb_ok(be)) return v;
  mb_buf *b = NULL;
  if (mb_fault_hit(MB_FAULT_ALLOC)) {
    mb_fail(be, MB_OOM, "out of memory: cannot allocate %zu bytes on %s (%s) (injected: MB_FAULT=%s)",
            n * 4, be->ops->name, be->info.name, mb_fault_spec());
    return v;
  }
  mb_status st = be->ops->alloc(be, (n ? n : 1) * 4, &b);
  if (st != MB_OK || !b) {
    mb_fail(be, st == MB_OK ? MB_OOM : st, "out of memory: cannot allocate %zu bytes on %s (%s)",
            n * 4, be->ops->name, be->info.name);
    return v;
  }
  v.buf = b;
  return v;
}

void mb_release(mb_backend *be, mb_view v)
{
  if (be && v.buf) be->ops->free(be, v.buf);
}

void mb_upload(mb_backend *be, mb_view dst, const void *src, size_t n)
{
  if (fits(be, "upload", "dst", dst, n) && n) DISPATCH(upload, dst, src, n * 4);
}

void mb_download(mb_backend *be, void *dst, mb_view src, size_t n)
{
  if (fits(be, "download", "src", src, n) && n) DISPATCH(download, dst, src, n * 4);
}

void mb_copy(mb_backend *be, mb_view dst, mb_view src, size_t n)
{
  if (fits(be, "copy", "dst", dst, n) && fits(be, "copy", "src", src, n) && n)
    DISPATCH(copy, dst, src, n);
}

void mb_fill_u32(mb_backend *be, mb_view dst, size_t n, uint32_t bits)
{
  if (fits(be, "fill", "dst", dst, n) && n) DISPATCH(fill, dst, n, bits);
}

void mb_fill(mb_backend *be, mb_view dst, size_t n, float value)
{
  union { float f; uint32_t u; } c = { .f = value };
  mb_fill_u32(be, dst, n, c.u);
}

/* Elements spanned by a stored matrix of `rows` rows of `cols` used columns with row stride ld. */
static size_t span(long rows, long cols, long ld)
{
  return rows <= 0 || cols <= 0 ? 0 : (size_t)((rows - 1) * ld + cols);
}

/* Shape, leading dimensions and the extents of A and B (and C where check_c). */
static bool gemm_ok(mb_backend *be, const char *op, const mb_gemm_args *a, bool check_c)
{
  if (!mb_ok(be)) return false;
  if (a->m < 1 || a->n < 1 || a->k < 1 || a->batch < 1) {
    mb_fail(be, MB_BAD_ARG, "%s: bad shape M=%d N=%d K=%d batch=%d", op, a->m, a->n, a->k,
            a->batch);
    return false;
  }
  long ar = a->trans_a ? a->k : a->m, ac = a->trans_a ? a->m : a->k;
  long br = a->trans_b ? a->n : a->k, bc = a->trans_b ? a->k : a->n;
  if (a->lda < ac || a->ldb < bc || (check_c && a->ldc < a->n)) {
    mb_fail(be, MB_BAD_ARG, "%s: leading dimension too small (lda=%d ldb=%d ldc=%d)", op, a->lda,
            a->ldb, a->ldc);
    return false;
  }
  size_t last = (size_t)(a->batch - 1);
  return fits(be, op, "A", a->a, last * (size_t)a->stride_a + span(ar, ac, a->lda)) &&
         fits(be, op, "B", a->b, last * (size_t)a->stride_b + span(br, bc, a->ldb)) &&
         (!check_c ||
          fits(be, op, "C", a->c, last * (size_t)a->stride_c + span(a->m, a->n, a->ldc)));
}

void mb_gemm(mb_backend *be, const mb_gemm_args *a)
{
  if (gemm_ok(be, "gemm", a, true)) DISPATCH(gemm, a);
}

void mb_matmul(mb_backend *be, int ta, int tb, int m, int n, int k, float alpha, mb_view a,
               mb_view b, float beta, mb_view c)
{
  mb_gemm_args g = {
    .trans_a = ta, .trans_b = tb, .m = m, .n = n, .k = k, .alpha = alpha, .beta = beta,
    .a = a, .b = b, .c = c,
    .lda = ta ? m : k, .ldb = tb ? k : n, .ldc = n, .batch = 1,
  };
  mb_gemm(be, &g);
}

void mb_unary(mb_backend *be, mb_unary_op op, mb_view x, mb_view y, size_t n, float a, float b)
{
  if ((unsigned)op >= MB_UN__COUNT) { mb_fail(be, MB_BAD_ARG, "unary: bad op %d", (int)op); return; }
  if (fits(be, "unary", "x", x, n) && fits(be, "unary", "y", y, n) && n)
    DISPATCH(unary, op, x, y, n, a, b);
}

void mb_binary(mb_backend *be, mb_binary_op op, mb_view x1, mb_view x2, mb_view y, size_t n,
               float a, float b)
{
  if ((unsigned)op >= MB_BIN__COUNT) { mb_fail(be, MB_BAD_ARG, "binary: bad op %d", (int)op); return; }
  if (fits(be, "binary", "x1", x1, n) && fits(be, "binary", "x2", x2, n) &&
      fits(be, "binary", "y", y, n) && n)
    DISPATCH(binary, op, x1, x2, y, n, a, b);
}

void mb_where(mb_backend *be, mb_view cond, mb_view x1, mb_view x2, mb_view y, size_t n)
{
  if (fits(be, "where", "cond", cond, n) && fits(be, "where", "x1", x1, n) &&
      fits(be, "where", "x2", x2, n) && fits(be, "where", "y", y, n) && n)
    DISPATCH(where, cond, x1, x2, y, n);
}

void mb_bcast(mb_backend *be, mb_bcast_op op, mb_view x, mb_view v, mb_view y, size_t outer,
              size_t mid, size_t inner)
{
  size_t n = outer * mid * inner;
  if ((unsigned)op >= MB_BC__COUNT) { mb_fail(be, MB_BAD_ARG, "bcast: bad op %d", (int)op); return; }
  if (fits(be, "bcast", "x", x, n) && fits(be, "bcast", "v", v, mid) &&
      fits(be, "bcast", "y", y, n) && n)
    DISPATCH(bcast, op, x, v, y, outer, mid, inner);
}

void mb_reduce(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y, size_t outer, size_t mid,
               size_t inner)
{
  if ((unsigned)op >= MB_RED__COUNT) { mb_fail(be, MB_BAD_ARG, "reduce: bad op %d", (int)op); return; }
  if (mid == 0 && mb_ok(be)) { mb_fail(be, MB_BAD_ARG, "reduce: empty reduction axis"); return; }
  if (fits(be, "reduce", "x", x, outer * mid * inner) && fits(be, "reduce", "y", y, outer * inner) &&
      outer * inner != 0)
    DISPATCH(reduce, op, x, y, outer, mid, inner);
}

static bool segs_ok(mb_backend *be, const char *op, const size_t *offs, int nseg)
{
  if (!mb_ok(be)) return false;
  if (nseg < 1 || !offs) { mb_fail(be, MB_BAD_ARG, "%s: no segments", op); return false; }
  for (int s = 0; s < nseg; s++)
    if (offs[s + 1] <= offs[s]) {
      mb_fail(be, MB_BAD_ARG, "%s: segment %d is empty or reversed", op, s);
      return false;
    }
  return true;
}

void mb_seg_reduce(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y, const size_t *offs,
                   int nseg)
{
  if (op == MB_RED_ARGMAX || (unsigned)op >= MB_RED__COUNT) {
    mb_fail(be, MB_BAD_ARG, "seg_reduce: op %d is not a segmented reduction", (int)op);
    return;
  }
  if (segs_ok(be, "seg_reduce", offs, nseg) && fits(be, "seg_reduce", "x", x, offs[nseg]) &&
      fits(be, "seg_reduce", "y", y, (size_t)nseg))
    DISPATCH(seg_reduce, op, x, y, offs, nseg);
}

void mb_seg_bcast(mb_backend *be, mb_segbcast_op op, mb_view x, mb_view v, mb_view y,
                  const size_t *offs, int nseg)
{
  if ((unsigned)op >= MB_SEGBC__COUNT) { mb_fail(be, MB_BAD_ARG, "seg_bcast: bad op %d", (int)op); return; }
  if (segs_ok(be, "seg_bcast", offs, nseg) && fits(be, "seg_bcast", "x", x, offs[nseg]) &&
      fits(be, "seg_bcast", "v", v, (size_t)nseg) && fits(be, "seg_bcast", "y", y, offs[nseg]))
    DISPATCH(seg_bcast, op, x, v, y, offs, nseg);
}

void mb_softmax_xent(mb_backend *be, const mb_xent_args *a)
{
  size_t rc = (size_t)a->rows * (size_t)a->cols;
  if (a->rows < 1 || a->cols < 1) {
    mb_fail(be, MB_BAD_ARG, "softmax_xent: bad shape %dx%d", a->rows, a->cols);
    return;
  }
  if (fits(be, "softmax_xent", "logits", a->logits, rc) &&
      fits(be, "softmax_xent", "labels", a->labels, (size_t)a->rows) &&
      fits_opt(be, "softmax_xent", "loss", a->loss, (size_t)a->rows) &&
      fits_opt(be, "softmax_xent", "dlogits", a->dlogits, rc) &&
      fits_opt(be, "softmax_xent", "probs", a->probs, rc))
    DISPATCH(softmax_xent, a);
}

void mb_gather_rows(mb_backend *be, const mb_gather_args *a)
{
  size_t nr = (size_t)a->n_rows, rl = (size_t)a->row_len;
  size_t src_elems = a->src_u8 ? ((size_t)a->n_src_rows * rl + 3) / 4 : (size_t)a->n_src_rows * rl;
  if (fits(be, "gather_rows", "src", a->src, src_elems) &&
      fits(be, "gather_rows", "idx", a->idx, nr) &&
      fits(be, "gather_rows", "dst", a->dst, nr * rl) && nr * rl != 0)
    DISPATCH(gather_rows, a);
}

void mb_optim(mb_backend *be, const mb_optim_args *a)
{
  bool adam = a->kind == MB_OPT_ADAM;
  if (adam && a->t < 1) { mb_fail(be, MB_BAD_ARG, "optim: Adam step t must be >= 1"); return; }
  if (fits(be, "optim", "w", a->w, a->n) && fits(be, "optim", "g", a->g, a->n) &&
      fits(be, "optim", "m", a->m, a->n) && (!adam || fits(be, "optim", "v", a->v, a->n)) && a->n)
    DISPATCH(optim, a);
}

void mb_rng(mb_backend *be, mb_rng_dist d, uint64_t seed, uint64_t stream, mb_view y, size_t n,
            float p0, float p1)
{
  if (fits(be, "rng", "y", y, n) && n) DISPATCH(rng, d, seed, stream, y, n, p0, p1);
}

static size_t conv_in(const mb_conv_geom *g) { return (size_t)g->n * g->c * g->h * g->w; }
static size_t conv_cols(const mb_conv_geom *g)
{
  return (size_t)g->n * g->c * g->kh * g->kw * g->oh * g->ow;
}

static bool conv_ok(mb_backend *be, const char *op, const mb_conv_geom *g, bool have)
{
  if (!mb_ok(be)) return false;
  if (!have) {
    mb_fail(be, MB_UNSUPPORTED, "%s: not implemented by the %s backend", op, be->ops->name);
    return false;
  }
  if (g->oh != (g->h + 2 * g->pad - g->kh) / g->stride + 1 ||
      g->ow != (g->w + 2 * g->pad - g->kw) / g->stride + 1 || g->stride < 1) {
    mb_fail(be, MB_BAD_ARG, "%s: inconsistent geometry", op);
    return false;
  }
  return true;
}

void mb_im2col(mb_backend *be, const mb_conv_geom *g, mb_view x, mb_view cols)
{
  if (conv_ok(be, "im2col", g, be->ops->im2col != NULL) &&
      fits(be, "im2col", "x", x, conv_in(g)) && fits(be, "im2col", "cols", cols, conv_cols(g)))
    DISPATCH(im2col, g, x, cols);
}

void mb_col2im(mb_backend *be, const mb_conv_geom *g, mb_view cols, mb_view dx)
{
  if (conv_ok(be, "col2im", g, be->ops->col2im != NULL) &&
      fits(be, "col2im", "cols", cols, conv_cols(g)) && fits(be, "col2im", "dx", dx, conv_in(g)))
    DISPATCH(col2im, g, cols, dx);
}

static bool have_op(mb_backend *be, const char *op, bool have)
{
  if (!mb_ok(be)) return false;
  if (!have) mb_fail(be, MB_UNSUPPORTED, "%s: not implemented by the %s backend", op, be->ops->name);
  return have;
}

void mb_permute(mb_backend *be, mb_view x, mb_view y, size_t outer, size_t mid, size_t inner)
{
  const char *op = "permute";
  size_t n = outer * mid * inner;
  if (!have_op(be, op, be->ops->permute != NULL) || !fits(be, op, "x", x, n) ||
      !fits(be, op, "y", y, n) || !n)
    return;
  /* elements move between rows, so an in-place or overlapping call would read overwritten data */
  if (x.buf == y.buf && x.off < y.off + n && y.off < x.off + n) {
    mb_fail(be, MB_BAD_ARG, "%s: y [%zu, %zu) overlaps x [%zu, %zu)", op, y.off, y.off + n, x.off,
            x.off + n);
    return;
  }
  DISPATCH(permute, x, y, outer, mid, inner);
}

static bool bn_shape_ok(mb_backend *be, const char *op, int mode, int n, int c, int hw)
{
  if (mode != MB_BN_TRAIN && mode != MB_BN_EVAL) {
    mb_fail(be, MB_BAD_ARG, "%s: bad mode %d", op, mode);
    return false;
  }
  if (n < 1 || c < 1 || hw < 1) {
    mb_fail(be, MB_BAD_ARG, "%s: bad shape n=%d c=%d hw=%d", op, n, c, hw);
    return false;
  }
  return true;
}

void mb_batchnorm(mb_backend *be, const mb_bn_args *a)
{
  const char *op = "batchnorm";
  if (!have_op(be, op, be->ops->batchnorm != NULL) ||
      !bn_shape_ok(be, op, (int)a->mode, a->n, a->c, a->hw))
    return;
  size_t n = (size_t)a->n * a->c * a->hw, c = (size_t)a->c;
  bool eval = a->mode == MB_BN_EVAL;
  if (eval && (mb_is_none(a->run_mean) || mb_is_none(a->run_var))) {
    mb_fail(be, MB_BAD_ARG, "%s: eval mode needs run_mean and run_var", op);
    return;
  }
  if (fits(be, op, "x", a->x, n) && fits(be, op, "y", a->y, n) &&
      fits(be, op, "gamma", a->gamma, c) && fits(be, op, "beta", a->beta, c) &&
      fits_opt(be, op, "run_mean", a->run_mean, c) && fits_opt(be, op, "run_var", a->run_var, c) &&
      (eval || (fits_opt(be, op, "save_mean", a->save_mean, c) &&
                fits_opt(be, op, "save_invstd", a->save_invstd, c))))
    DISPATCH(batchnorm, a);
}

void mb_batchnorm_bwd(mb_backend *be, const mb_bn_bwd_args *a)
{
  const char *op = "batchnorm_bwd";
  if (!have_op(be, op, be->ops->batchnorm_bwd != NULL) ||
      !bn_shape_ok(be, op, (int)a->mode, a->n, a->c, a->hw))
    return;
  size_t n = (size_t)a->n * a->c * a->hw, c = (size_t)a->c;
  if (fits(be, op, "x", a->x, n) && fits(be, op, "dy", a->dy, n) &&
      fits(be, op, "gamma", a->gamma, c) && fits(be, op, "mean", a->mean, c) &&
      fits(be, op, "invstd", a->invstd, c) && fits_opt(be, op, "dx", a->dx, n) &&
      fits_opt(be, op, "dgamma", a->dgamma, c) && fits_opt(be, op, "dbeta", a->dbeta, c) &&
      !(mb_is_none(a->dx) && mb_is_none(a->dgamma) && mb_is_none(a->dbeta)))
    DISPATCH(batchnorm_bwd, a);
}

static bool rows_ok(mb_backend *be, const char *op, bool have, int rows, int c)
{
  if (!have_op(be, op, have)) return false;
  if (rows < 1 || c < 1) {
    mb_fail(be, MB_BAD_ARG, "%s: bad shape rows=%d cols=%d", op, rows, c);
    return false;
  }
  return true;
}

void mb_layernorm(mb_backend *be, const mb_ln_args *a)
{
  const char *op = "layernorm";
  if (!rows_ok(be, op, be->ops->layernorm != NULL, a->rows, a->c)) return;
  size_t n = (size_t)a->rows * a->c, c = (size_t)a->c, r = (size_t)a->rows;
  if (!(a->eps >= 0.0f)) {
    mb_fail(be, MB_BAD_ARG, "%s: eps %g is not >= 0", op, (double)a->eps);
    return;
  }
  if (fits(be, op, "x", a->x, n) && fits(be, op, "y", a->y, n) &&
      fits(be, op, "gamma", a->gamma, c) && fits(be, op, "beta", a->beta, c) &&
      fits_opt(be, op, "save_mean", a->save_mean, r) &&
      fits_opt(be, op, "save_rstd", a->save_rstd, r))
    DISPATCH(layernorm, a);
}

void mb_layernorm_bwd(mb_backend *be, const mb_ln_bwd_args *a)
{
  const char *op = "layernorm_bwd";
  if (!rows_ok(be, op, be->ops->layernorm_bwd != NULL, a->rows, a->c)) return;
  size_t n = (size_t)a->rows * a->c, c = (size_t)a->c, r = (size_t)a->rows;
  if (fits(be, op, "x", a->x, n) && fits(be, op, "dy", a->dy, n) &&
      fits(be, op, "gamma", a->gamma, c) && fits(be, op, "mean", a->mean, r) &&
      fits(be, op, "rstd", a->rstd, r) && fits_opt(be, op, "dx", a->dx, n) &&
      fits_opt(be, op, "dgamma", a->dgamma, c) && fits_opt(be, op, "dbeta", a->dbeta, c) &&
      !(mb_is_none(a->dx) && mb_is_none(a->dgamma) && mb_is_none(a->dbeta)))
    DISPATCH(layernorm_bwd, a);
}

void mb_softmax(mb_backend *be, const mb_softmax_args *a)
{
  const char *op = "softmax";
  if (!rows_ok(be, op, be->ops->softmax != NULL, a->rows, a->cols)) return;
  size_t n = (size_t)a->rows * a->cols;
  if (fits(be, op, "x", a->x, n) && fits(be, op, "y", a->y, n)) DISPATCH(softmax, a);
}

void mb_softmax_bwd(mb_backend *be, const mb_softmax_args *a)
{
  const char *op = "softmax_bwd";
  if (!rows_ok(be, op, be->ops->softmax_bwd != NULL, a->rows, a->cols)) return;
  size_t n = (size_t)a->rows * a->cols;
  if (fits(be, op, "y", a->y, n) && fits(be, op, "dy", a->dy, n) && fits(be, op, "dx", a->dx, n))
    DISPATCH(softmax_bwd, a);
}

static bool pool_ok(mb_backend *be, const char *op, const mb_pool_args *a, bool have)
{
  const mb_conv_geom *g = &a->g;
  if (!have_op(be, op, have)) return false;
  if (a->kind != MB_POOL_MAX && a->kind != MB_POOL_AVG) {
    mb_fail(be, MB_BAD_ARG, "%s: bad kind %d", op, (int)a->kind);
    return false;
  }
  if (g->n < 1 || g->c < 1 || g->h < 1 || g->w < 1 || g->kh < 1 || g->kw < 1 || g->stride < 1 ||
      g->pad < 0 || 2 * g->pad > g->kh || 2 * g->pad > g->kw || g->kh > g->h + 2 * g->pad ||
      g->kw > g->w + 2 * g->pad) {
    mb_fail(be, MB_BAD_ARG, "%s: bad window %dx%d/%d pad %d over %dx%d", op, g->kh, g->kw,
            g->stride, g->pad, g->h, g->w);
    return false;
  }
  if (g->oh != mb_conv_out(g->h, g->kh, g->stride, g->pad) ||
      g->ow != mb_conv_out(g->w, g->kw, g->stride, g->pad)) {
    mb_fail(be, MB_BAD_ARG, "%s: inconsistent geometry", op);
    return false;
  }
  return true;
}

void mb_pool(mb_backend *be, const mb_pool_args *a)
{
  const char *op = "pool";
  if (!pool_ok(be, op, a, be->ops->pool != NULL)) return;
  const mb_conv_geom *g = &a->g;
  size_t in = (size_t)g->n * g->c * g->h * g->w, out = (size_t)g->n * g->c * g->oh * g->ow;
  if (fits(be, op, "x", a->x, in) && fits(be, op, "y", a->y, out) &&
      (a->kind != MB_POOL_MAX || fits_opt(be, op, "idx", a->idx, out)))
    DISPATCH(pool, a);
}

void mb_pool_bwd(mb_backend *be, const mb_pool_args *a)
{
  const char *op = "pool_bwd";
  if (!pool_ok(be, op, a, be->ops->pool_bwd != NULL)) return;
  const mb_conv_geom *g = &a->g;
  size_t in = (size_t)g->n * g->c * g->h * g->w, out = (size_t)g->n * g->c * g->oh * g->ow;
  if (fits(be, op, "dy", a->dy, out) && fits(be, op, "dx", a->dx, in) &&
      (a->kind != MB_POOL_MAX || fits(be, op, "idx", a->idx, out)))
    DISPATCH(pool_bwd, a);
}

/* ---- the op list ---- */

static const char *const k_op_names[] = {
#define MB_OP(name, params) #name,
#define MB_OP_OPT(name, params) #name,
#include "mb/ops.def"
};
_Static_assert(sizeof k_op_names / sizeof k_op_names[0] == MB_OP_COUNT, "one name per op");

/* Where each op's function pointer sits in the table, and whether it may be NULL. */
static const struct {
  size_t off;
  int optional;
} k_op_slots[] = {
#define MB_OP(name, params) {offsetof(mb_backend_ops, name), 0},
#define MB_OP_OPT(name, params) {offsetof(mb_backend_ops, name), 1},
#include "mb/ops.def"
};
_Static_assert(sizeof k_op_slots / sizeof k_op_slots[0] == MB_OP_COUNT, "one slot per op");

const char *mb_op_name(mb_op_id id)
{
  return (unsigned)id < MB_OP_COUNT ? k_op_names[id] : "?";
}

int mb_op_is_optional(mb_op_id id)
{
  return (unsigned)id < MB_OP_COUNT && k_op_slots[id].optional;
}

static int op_present(const mb_backend_ops *ops, mb_op_id id)
{
  void (*fn)(void);
  memcpy(&fn, (const char *)ops + k_op_slots[id].off, sizeof fn);
  return fn != NULL;
}

const char *mb_ops_missing(const mb_backend_ops *ops)
{
  for (int id = 0; id < MB_OP_COUNT; id++)
    if (!k_op_slots[id].optional && !op_present(ops, (mb_op_id)id)) return k_op_names[id];
  return NULL;
}

/* ---- optional ops and the engine switch ---- */

static int g_force_generic;

void mb_engine_force_generic(int on) { g_force_generic = on != 0; }

int mb_engine_generic(const mb_backend *be)
{
  if (g_force_generic || (be && be->engine_generic)) return 1;
  const char *e = getenv("MB_ENGINE");
  return e && strcmp(e, "generic") == 0;
}

int mb_has_opt(const mb_backend *be, mb_op_id id)
{
  return be && mb_op_is_optional(id) && op_present(be->ops, id) && !mb_engine_generic(be);
}

const char *mb_engine_name(const mb_backend *be)
{
  if (!be || mb_engine_generic(be) || !be->ops->engine) return "generic";
  for (int id = 0; id < MB_OP_COUNT; id++)
    if (k_op_slots[id].optional && op_present(be->ops, (mb_op_id)id)) return be->ops->engine;
  return "generic";
}

void mb_conv2d_opt(mb_backend *be, mb_op_id id, const mb_conv_args *a)
{
  const char *op = mb_op_name(id);
  if (id != MB_OPID_conv2d_fwd && id != MB_OPID_conv2d_bwd_data && id != MB_OPID_conv2d_bwd_filter) {
    mb_fail(be, MB_BAD_ARG, "conv2d: %s is not a convolution op", op);
    return;
  }
  if (!have_op(be, op, op_present(be->ops, id))) return;
  const mb_conv_geom *g = &a->g;
  if (g->n < 1 || g->c < 1 || a->cout < 1 || g->kh < 1 || g->kw < 1 || g->stride < 1 ||
      g->pad < 0 || g->oh < 1 || g->ow < 1 ||
      g->oh != mb_conv_out(g->h, g->kh, g->stride, g->pad) ||
      g->ow != mb_conv_out(g->w, g->kw, g->stride, g->pad)) {
    mb_fail(be, MB_BAD_ARG, "%s: bad geometry", op);
    return;
  }
  size_t in = conv_in(g), out = (size_t)g->n * a->cout * g->oh * g->ow;
  size_t nw = (size_t)a->cout * g->c * g->kh * g->kw;
  if (id == MB_OPID_conv2d_fwd) {
    if (fits(be, op, "x", a->x, in) && fits(be, op, "w", a->w, nw) && fits(be, op, "y", a->y, out))
      DISPATCH(conv2d_fwd, a);
  } else if (id == MB_OPID_conv2d_bwd_data) {
    if (fits(be, op, "dy", a->dy, out) && fits(be, op, "w", a->w, nw) &&
        fits(be, op, "dx", a->dx, in))
      DISPATCH(conv2d_bwd_data, a);
  } else if (fits(be, op, "x", a->x, in) && fits(be, op, "dy", a->dy, out) &&
             fits(be, op, "dw", a->dw, nw)) {
    DISPATCH(conv2d_bwd_filter, a);
  }
}

void mb_forget_update(mb_backend *be, const mb_forget_args *a)
{
  const char *op = "forget_update";
  if (!have_op(be, op, be && be->ops->forget_update != NULL) ||
      !segs_ok(be, op, a->offs, a->nseg))
    return;
  size_t n = a->offs[a->nseg];
  if (fits(be, op, "f_forget", a->f_forget, n) && fits(be, op, "f_remain", a->f_remain, n) &&
      fits(be, op, "w", a->w, n) && fits_opt(be, op, "delta", a->delta, n) &&
      fits_opt(be, op, "plus", a->plus, n) && fits_opt(be, op, "minus", a->minus, n))
    DISPATCH(forget_update, a);
}

bool mb_gemm_sq_args_ok(mb_backend *be, const mb_gemm_sq_args *a)
{
  const char *op = "gemm_sq_acc";
  if (!gemm_ok(be, op, &a->g, false)) return false;
  if (a->groups < 1 || a->g.batch % a->groups) {
    mb_fail(be, MB_BAD_ARG, "%s: batch %d is not a multiple of groups %d", op, a->g.batch,
            a->groups);
    return false;
  }
  return fits(be, op, "acc", a->acc, (size_t)a->groups * (size_t)a->g.m * (size_t)a->g.n);
}

void mb_gemm_sq_acc(mb_backend *be, const mb_gemm_sq_args *a)
{
  if (have_op(be, "gemm_sq_acc", be && be->ops->gemm_sq_acc != NULL) && mb_gemm_sq_args_ok(be, a))
    DISPATCH(gemm_sq_acc, a);
}

void mb_sync(mb_backend *be)
{
  if (mb_ok(be)) DISPATCH0(sync);
}

mb_timer *mb_timer_begin(mb_backend *be)
{
  return mb_ok(be) ? be->ops->timer_begin(be) : NULL;
}

void mb_timer_end(mb_backend *be, mb_timer *t)
{
  if (mb_ok(be) && t) be->ops->timer_end(be, t);
}

double mb_timer_ms(mb_backend *be, mb_timer *t)
{
  return mb_ok(be) && t ? be->ops->timer_ms(be, t) : -1.0;
}

void mb_timer_free(mb_backend *be, mb_timer *t)
{
  if (be && t) be->ops->timer_free(be, t);
}
