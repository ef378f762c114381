/* IDX reader (core/data_idx.c), raw and gzip, through mb_idx_load as the
 * data folder loader calls it.  Input: u32 little-endian length L, then L
 * bytes of the image file (fewer if the input ends), then the label file.
 * A file starting 1f 8b is read as gzip, as in production. */
#include "fuzz_common.h"
#include "core/dataset.h"

#include <math.h>
#include <string.h>

static void check_loaded(const mb_dataset *d)
{
  if (d->n < 1 || d->c != 1 || d->h < 1 || d->h > MB_IDX_MAX_DIM || d->w < 1 || d->w > MB_IDX_MAX_DIM)
    fz_fail("loaded shape %d×%d×%d×%d outside the limits", d->n, d->c, d->h, d->w);
  if (d->n_classes < 1 || d->n_classes > MB_IDX_MAX_CLASSES) fz_fail("n_classes %d", d->n_classes);
  int top = 0;
  for (int i = 0; i < d->n; i++) {
    if (d->y[i] < 0 || d->y[i] >= d->n_classes) fz_fail("label %d of %d classes", d->y[i], d->n_classes);
    if (d->y[i] > top) top = d->y[i];
  }
  if (top + 1 != d->n_classes) fz_fail("n_classes %d but the largest label is %d", d->n_classes, top);
  size_t total = (size_t)d->n * d->h * d->w;
  for (size_t i = 0; i < total; i++) {
    float b = d->x[i] * 255.0f;   /* core/devdata.c recovers the byte from x */
    if (!(d->x[i] >= 0.0f && d->x[i] <= 1.0f) || (float)(int)lrintf(b) / 255.0f != d->x[i])
      fz_fail("pixel %zu = %.9g is not a byte / 255", i, d->x[i]);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char images[600], labels[600];
  if (!images[0]) {
    fz_path(images, sizeof images, "train-images-idx3-ubyte");
    fz_path(labels, sizeof labels, "train-labels-idx1-ubyte");
  }
  size_t ni = size;
  if (size >= 4) {
    ni = fz_le32(data);
    data += 4;
    size -= 4;
    if (ni > size) ni = size;
  }
  fz_write(images, data, ni);
  fz_write(labels, data + ni, size - ni);
  mb_dataset d;
  char err[512];
  if (mb_idx_load(images, labels, &d, err, sizeof err) == 0) {
    check_loaded(&d);
    mb_dataset_free(&d);
  } else {
    fz_check_error(err, fz_dir());
    if (d.x || d.y || d.n) fz_fail("a failed load left data behind");
  }
  return 0;
}
