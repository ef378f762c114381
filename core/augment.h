/* The CIFAR-10 training augmentation of docs/specification.md §0.1: RandomCrop(32,
 * padding 4, zero fill) then RandomHorizontalFlip(0.5), written once for every
 * backend.  The draws of a sample depend only on (seed, epoch, sample index),
 * from one Philox block of stream MB_STREAM_AUGMENT + epoch (block = sample):
 *   oy   = (w0 · (2·pad + 1)) >> 32   top offset into the padded image, 0..2·pad
 *   ox   = (w1 · (2·pad + 1)) >> 32   left offset
 *   flip = w2 >> 31
 * so out[c][y][x] = padded[c][oy + y][ox + (flip ? w−1−x : x)], padded pixels 0
 * (zero before Normalize, as torchvision pads the PIL image).
 *
 * The host turns a batch's draws into a pixel map (i32 per output element: the
 * source byte in the device data set, −1 for padding), uploads it, and one
 * element gather (gather_rows with row_len 1 on the u8 data) builds the batch:
 * no new backend op, identical bits on every backend.
 */
#ifndef MB_AUGMENT_H
#define MB_AUGMENT_H

#include "core/devdata.h"

#include <stdint.h>

#define MB_AUG_PAD 4   /* §0.1: 4-pixel padding, offsets uniform in 0..8 */

typedef struct {
  int oy, ox, flip;
} mb_aug_draw;

mb_aug_draw mb_aug_draw_for(uint64_t seed, int epoch, int sample, int pad);

/* map[r·c·h·w + ...] for rows samples (sample[r] < 0: the whole row is −1);
 * map values index a data set of c×h×w byte images. */
void mb_aug_pixel_map(uint64_t seed, int epoch, const int32_t *sample, int rows, int c, int h, int w,
                      int pad, int32_t *map);

/* Device side: a pixel-map buffer for batches of up to max_rows. */
typedef struct {
  mb_view map;      /* i32 [max_rows·d] */
  int32_t *host;    /* host staging of the same size */
  int max_rows, pad;
} mb_augment;

int mb_augment_init(mb_backend *be, mb_augment *a, const mb_devdata *dd, int max_rows);
void mb_augment_free(mb_backend *be, mb_augment *a);

/* One augmented, normalised batch, as mb_devdata_gather does it (codes replace
 * rows whose data index is −1; they are neither cropped nor normalised):
 * host_idx is the host copy of data_idx (rows entries, the samples of the
 * batch), data_idx/code_idx/label_idx the device index views. */
void mb_augment_gather(mb_backend *be, mb_augment *a, const mb_devdata *dd, uint64_t seed, int epoch,
                       const int32_t *host_idx, mb_view codes, int n_codes, mb_view data_idx,
                       mb_view code_idx, mb_view label_idx, int rows, mb_view dst, mb_view labels,
                       mb_view tmp);

#endif
