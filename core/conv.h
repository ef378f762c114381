/* 2-D convolution (NCHW, no bias, one stride and padding for both axes) composed from
 * the op table: im2col, then the columns of a chunk of images regrouped by permute so
 * that each pass is one GEMM over the whole chunk (forward; input gradient, which
 * ends in col2im; weight gradient, a sum over n·oh·ow per chunk).  Weights are
 * [cout][c·kh·kw] (PyTorch's [cout][c][kh][kw]).
 *
 * The workspace `ws` (ws_n elements) bounds memory: images are processed in chunks of
 * as many as fit (mb_conv2d_ws_for(); at least one must fit).  A 1×1 stride-1
 * unpadded convolution is GEMMs on x and dy directly and needs none (pass mb_none(),
 * 0).  Errors are sticky on the backend, as for every op.
 *
 * Grouped convolution (ResNeXt's 3×3 layers): `groups` divides c and cout; output
 * channel block gi (cout/groups of them) sees only input channel block gi.  Weights are
 * [cout][(c/groups)·kh·kw] (PyTorch's layout), so each group's weights are contiguous,
 * and so are its rows of the im2col columns of all c channels and its block of output
 * channels: each GEMM above becomes one batched GEMM over the groups (mb_gemm's batch
 * and stride fields).  The workspace rule is the same as for groups = 1.  The backends'
 * optional conv2d ops take no groups (mb/backend.h), so a grouped layer always runs this
 * generic composition; groups = 1 may run an optional op. */
#ifndef MB_CONV_H
#define MB_CONV_H

#include "core/ops.h"

/* Fills oh/ow of g from the rest. */
void mb_conv_geom_finish(mb_conv_geom *g);
/* Workspace elements for chunks of `images` images with cout output channels (0 for a
 * 1×1/1 unpadded convolution): images·(max(c·kh·kw, cout) + c·kh·kw)·oh·ow, except
 * c·kh·kw·oh·ow for a single image, whose columns need no regrouping. */
size_t mb_conv2d_ws_for(const mb_conv_geom *g, int cout, int images);
/* Workspace elements per image, 2·c·kh·kw·oh·ow (0 for a 1×1/1 unpadded convolution):
 * exact where cout <= c·kh·kw; a layer with more outputs than column rows (a stem on
 * few channels, a 1×1 shortcut) fits proportionally fewer images per chunk. */
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

/* The same with `groups` groups (1: the functions above, bit for bit). */
void mb_conv2d_grouped_fwd(mb_backend *be, const mb_conv_geom *g, int cout, int groups, mb_view x,
                           mb_view w, mb_view y, mb_view ws, size_t ws_n);
void mb_conv2d_grouped_bwd_data(mb_backend *be, const mb_conv_geom *g, int cout, int groups,
                                mb_view dy, mb_view w, mb_view dx, int accumulate, mb_view ws,
                                size_t ws_n);
void mb_conv2d_grouped_bwd_filter(mb_backend *be, const mb_conv_geom *g, int cout, int groups,
                                  mb_view x, mb_view dy, mb_view dw, float beta, mb_view ws,
                                  size_t ws_n);

#endif
