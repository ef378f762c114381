/* IDX data folder (core/data_dir.c) through mb_data_load_dir, what `--data DIR`
 * calls: the file-name lookup (raw or .gz, '-' or '.' before idx3/idx1), both
 * splits read by core/data_idx.c, then the train/test shape check and the class
 * count merge.  The input describes train-images, train-labels, t10k-images and
 * t10k-labels in turn, each as one kind byte:
 *   0 absent, 1 STEM-KIND-ubyte, 2 STEM-KIND-ubyte.gz, 3 STEM.KIND-ubyte,
 *   4 a folder named STEM-KIND-ubyte, 5 STEM-KIND-ubyte and a .gz beside it
 *   holding the same bytes less the last (the raw file wins: a valid one loads);
 * for 1, 2, 3 and 5 a u32 little-endian length L, then L bytes (fewer if the
 * input ends).  A missing kind byte (the input ended) means absent. */
#include "fuzz_common.h"
#include "core/dataset.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#define NFILES 4

static int largest_label(const mb_dataset *d)
{
  int top = -1;
  for (int i = 0; i < d->n; i++)
    if (d->y[i] > top) top = d->y[i];
  return top;
}

static void check_split(const mb_dataset *d, const char *which)
{
  if (d->n < 1 || d->c != 1 || d->h < 1 || d->h > MB_IDX_MAX_DIM || d->w < 1 || d->w > MB_IDX_MAX_DIM)
    fz_fail("%s: shape %d×%d×%d×%d outside the limits", which, d->n, d->c, d->h, d->w);
  if (d->n_classes < 1 || d->n_classes > MB_IDX_MAX_CLASSES) fz_fail("%s: n_classes %d", which, d->n_classes);
  if (strcmp(d->name, "idx")) fz_fail("%s: data set named '%s', not the folder's name", which, d->name);
  for (int i = 0; i < d->n; i++)
    if (d->y[i] < 0 || d->y[i] >= d->n_classes) fz_fail("%s: label %d of %d classes", which, d->y[i], d->n_classes);
  size_t total = (size_t)d->n * d->h * d->w;
  for (size_t i = 0; i < total; i++)
    if (!(d->x[i] >= 0.0f && d->x[i] <= 1.0f) || (float)(int)lrintf(d->x[i] * 255.0f) / 255.0f != d->x[i])
      fz_fail("%s: pixel %zu = %.9g is not a byte / 255", which, i, d->x[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *const stems[NFILES][2] = {
    {"train-images", "idx3"}, {"train-labels", "idx1"}, {"t10k-images", "idx3"}, {"t10k-labels", "idx1"}};
  static char dir[600], names[NFILES][3][700];   /* -KIND-ubyte, -KIND-ubyte.gz, .KIND-ubyte */
  if (!dir[0]) {
    fz_path(dir, sizeof dir, "idx");
    if (mkdir(dir, 0700) != 0) fz_fail("cannot make %s: %s", dir, strerror(errno));
    for (int i = 0; i < NFILES; i++) {
      snprintf(names[i][0], sizeof names[i][0], "%s/%s-%s-ubyte", dir, stems[i][0], stems[i][1]);
      snprintf(names[i][1], sizeof names[i][1], "%s/%s-%s-ubyte.gz", dir, stems[i][0], stems[i][1]);
      snprintf(names[i][2], sizeof names[i][2], "%s/%s.%s-ubyte", dir, stems[i][0], stems[i][1]);
    }
  }
  int present = 1;
  for (int i = 0; i < NFILES; i++) {
    for (int k = 0; k < 3; k++) fz_remove(names[i][k]);
    int kind = size ? data[0] % 6 : 0;
    if (size) { data++; size--; }
    if (kind == 0) { present = 0; continue; }
    if (kind == 4) {
      if (mkdir(names[i][0], 0700) != 0) fz_fail("cannot make %s: %s", names[i][0], strerror(errno));
      present = 0;
      continue;
    }
    size_t n = size;
    if (size >= 4) {
      n = fz_le32(data);
      data += 4;
      size -= 4;
      if (n > size) n = size;
    }
    const char *path = kind == 2 ? names[i][1] : kind == 3 ? names[i][2] : names[i][0];
    fz_write(path, data, n);
    if (kind == 5) fz_write(names[i][1], data, n ? n - 1 : 0);
    data += n;
    size -= n;
  }
  mb_dataset train, test;
  char err[512];
  if (mb_data_load_dir(dir, &train, &test, err, sizeof err) == 0) {
    if (!present) fz_fail("a folder without its four IDX files loaded");
    check_split(&train, "train");
    check_split(&test, "test");
    if (train.c != test.c || train.h != test.h || train.w != test.w) fz_fail("train and test shapes differ");
    int top = largest_label(&train), t2 = largest_label(&test);
    if (t2 > top) top = t2;
    if (train.n_classes != test.n_classes || train.n_classes != top + 1)
      fz_fail("n_classes %d (train), %d (test); the largest label of both is %d", train.n_classes,
              test.n_classes, top);
    mb_dataset_free(&train);
    mb_dataset_free(&test);
  } else {
    fz_check_error(err, dir);
    if (train.x || train.y || train.n || test.x || test.y || test.n) fz_fail("a failed load left data behind");
  }
  return 0;
}
