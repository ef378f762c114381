/* 2-D convolution (NCHW, no bias, one stride and padding for both axes) composed from
 * the op table: im2col + batched GEMM forward, GEMM + col2im for the input gradient,
 * im2col + GEMM per image for the weight gradient.  Weights are [cout][c·kh·kw]
 * (PyTorch's [cout][c][kh][kw]).
 *
 * The column workspace `ws` (ws_n elements) bounds memory: images are processed in
 * chunks of as many as fit (mb_conv2d_ws_per_image() each; at least one must fit).
 * A 1×1 stride-1 unpadded convolution needs none (pass mb_none(), 0).  Errors are
 * sticky on the backend, as for every op. */
#ifndef MB_CONV_H
#define MB_CONV_H

#include "core/ops.h"

/* Fills oh/ow of g from the rest. */
void mb_conv_geom_finish(mb_conv_geom *g);
/* Workspace elements per image (0 for a 1×1/1 unpadded convolution). */
size_t mb_conv2d_ws_per_image(const mb_conv_geom *g);

/* y[n][cout][oh·ow] = conv(x, w). */
void mb_conv2d_fwd(mb_backend *be, const mb_conv_geom *g, int cout, mb_view x, mb_view w,
                   mb_view y, mb_view ws, size_t ws_n);
/* dx[n][c][h·w] = (accumulate ? dx : 0) + convᵀ(dy, w)   (the input gradient). */
void mb_conv2d_bwd_data(mb_backend *be, const mb_conv_geom *g, int cout, mb_view dy, mb_view w,
                        mb_view dx, int accumulate, mb_view ws, size_t ws_n);
/* dw[cout][c·kh·kw] = beta·dw + Σ_images dy_b · cols(x_b)ᵀ   (beta 0: dw is not read). */
void mb_conv2d_bwd_filter(mb_backend *be, const mb_conv_geom *g, int cout, mb_view x, mb_view dy,
                          mb_view dw, float beta, mb_view ws, size_t ws_n);

#endif
