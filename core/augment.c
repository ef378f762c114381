/* §0.1 random crop + flip as a host-built pixel map and one device gather. */
#include "core/augment.h"
#include "core/streams.h"
#include "philox.h"

#include <stdlib.h>
#include <string.h>

mb_aug_draw mb_aug_draw_for(uint64_t seed, int epoch, int sample, int pad)
{
  uint32_t w[4];
  mb_philox_block(seed, MB_STREAM_AUGMENT + (uint64_t)epoch, (uint64_t)sample, w);
  uint64_t span = 2 * (uint64_t)pad + 1;
  mb_aug_draw d = {
    .oy = (int)(((uint64_t)w[0] * span) >> 32),
    .ox = (int)(((uint64_t)w[1] * span) >> 32),
    .flip = (int)(w[2] >> 31),
  };
  return d;
}

void mb_aug_pixel_map(uint64_t seed, int epoch, const int32_t *sample, int rows, int c, int h, int w,
                      int pad, int32_t *map)
{
  size_t hw = (size_t)h * w, d = (size_t)c * hw;
  for (int r = 0; r < rows; r++) {
    int32_t *m = map + (size_t)r * d;
    if (sample[r] < 0) {
      for (size_t e = 0; e < d; e++) m[e] = -1;
      continue;
    }
    mb_aug_draw a = mb_aug_draw_for(seed, epoch, sample[r], pad);
    int64_t base = (int64_t)sample[r] * (int64_t)d;
    for (int y = 0; y < h; y++) {
      int sy = a.oy + y - pad;   /* source row in the unpadded image */
      for (int x = 0; x < w; x++) {
        int sx = a.ox + (a.flip ? w - 1 - x : x) - pad;
        int in = sy >= 0 && sy < h && sx >= 0 && sx < w;
        for (int ch = 0; ch < c; ch++)
          m[(size_t)ch * hw + (size_t)y * w + x] =
            in ? (int32_t)(base + (int64_t)ch * (int64_t)hw + (int64_t)sy * w + sx) : -1;
      }
    }
  }
}

int mb_augment_init(mb_backend *be, mb_augment *a, const mb_devdata *dd, int max_rows)
{
  memset(a, 0, sizeof *a);
  size_t n = (size_t)(max_rows > 0 ? max_rows : 1) * (size_t)dd->d;
  if ((size_t)dd->n * dd->d > INT32_MAX || n > INT32_MAX) {
    mb_fail(be, MB_BAD_ARG, "augment: data set or batch too large for an i32 pixel map");
    return -1;
  }
  a->host = malloc(n * sizeof *a->host);
  if (!a->host) {
    mb_fail(be, MB_OOM, "out of memory: %zu bytes for the augmentation map", n * sizeof *a->host);
    return -1;
  }
  a->map = mb_new(be, n);
  a->max_rows = max_rows;
  a->pad = MB_AUG_PAD;
  return mb_ok(be) ? 0 : -1;
}

void mb_augment_free(mb_backend *be, mb_augment *a)
{
  mb_release(be, a->map);
  free(a->host);
  memset(a, 0, sizeof *a);
}

void mb_augment_gather(mb_backend *be, mb_augment *a, const mb_devdata *dd, uint64_t seed, int epoch,
                       const int32_t *host_idx, mb_view codes, int n_codes, mb_view data_idx,
                       mb_view code_idx, mb_view label_idx, int rows, mb_view dst, mb_view labels,
                       mb_view tmp)
{
  if (!mb_ok(be)) return;
  if (rows < 0 || rows > a->max_rows || !a->host) {
    mb_fail(be, MB_BAD_ARG, "augment: batch of %d rows, the map holds %d", rows, a->max_rows);
    return;
  }
  /* A sample index outside the data set would address a neighbour's pixels. */
  for (int r = 0; r < rows; r++)
    if (host_idx[r] >= dd->n) {
      mb_fail(be, MB_BAD_ARG, "augment: sample %d of row %d is outside the %d samples", host_idx[r], r,
              dd->n);
      return;
    }
  mb_aug_pixel_map(seed, epoch, host_idx, rows, dd->c, dd->h, dd->w, a->pad, a->host);
  mb_upload(be, a->map, a->host, (size_t)rows * dd->d);
  mb_devdata_gather_map(be, dd, a->map, codes, n_codes, data_idx, code_idx, label_idx, rows, dst,
                        labels, tmp);
}
