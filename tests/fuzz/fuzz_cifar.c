/* CIFAR-10 reader (core/data_cifar.c) through mb_data_load_dir, the data
 * folder loader `--data DIR` calls.  The input describes the six batch files
 * data_batch_1..5.bin and test_batch.bin in turn, each as one kind byte:
 *   0 absent, 1 a regular file (u32 little-endian length L, then L bytes,
 *   fewer if the input ends), 2 a folder in its place, 3 an empty file;
 * a missing kind byte (the input ended) means absent. */
#include "fuzz_common.h"
#include "core/dataset.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#define RECORD 3073
#define NFILES 6

static void check_set(const mb_dataset *d, size_t records, const char *which)
{
  if ((size_t)d->n != records || d->c != 3 || d->h != 32 || d->w != 32 || d->n_classes != 10 || !d->norm)
    fz_fail("%s: %d×%d×%d×%d, %d classes from %zu records", which, d->n, d->c, d->h, d->w,
            d->n_classes, records);
  for (int i = 0; i < d->n; i++)
    if (d->y[i] < 0 || d->y[i] > 9) fz_fail("%s: label %d", which, d->y[i]);
  size_t total = (size_t)d->n * 3 * 32 * 32;
  for (size_t i = 0; i < total; i++)
    if (!(d->x[i] >= 0.0f && d->x[i] <= 1.0f) || (float)(int)lrintf(d->x[i] * 255.0f) / 255.0f != d->x[i])
      fz_fail("%s: pixel %zu = %.9g is not a byte / 255", which, i, d->x[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *const names[NFILES] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                            "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
  static char dir[600], paths[NFILES][700];
  if (!dir[0]) {
    fz_path(dir, sizeof dir, "cifar");
    if (mkdir(dir, 0700) != 0) fz_fail("cannot make %s: %s", dir, strerror(errno));
    for (int i = 0; i < NFILES; i++) snprintf(paths[i], sizeof paths[i], "%s/%s", dir, names[i]);
  }
  size_t records[NFILES] = {0};
  int whole = 1;   /* every file present and whole records: the load must succeed but for labels */
  for (int i = 0; i < NFILES; i++) {
    fz_remove(paths[i]);
    int kind = size ? data[0] % 4 : 0;
    if (size) { data++; size--; }
    if (kind == 1) {
      size_t n = size;
      if (size >= 4) {
        n = fz_le32(data);
        data += 4;
        size -= 4;
        if (n > size) n = size;
      }
      fz_write(paths[i], data, n);
      data += n;
      size -= n;
      records[i] = n / RECORD;
      if (n == 0 || n % RECORD) whole = 0;
    } else if (kind == 2) {
      if (mkdir(paths[i], 0700) != 0) fz_fail("cannot make %s: %s", paths[i], strerror(errno));
      whole = 0;
    } else if (kind == 3) {
      fz_write(paths[i], "", 0);
      whole = 0;
    } else {
      whole = 0;
    }
  }
  mb_dataset train, test;
  char err[512];
  if (mb_data_load_dir(dir, &train, &test, err, sizeof err) == 0) {
    if (!whole) fz_fail("a folder with a missing, empty or partial batch file loaded");
    check_set(&train, records[0] + records[1] + records[2] + records[3] + records[4], "train");
    check_set(&test, records[5], "test");
    mb_dataset_free(&train);
    mb_dataset_free(&test);
  } else {
    fz_check_error(err, dir);
    if (train.x || train.y || train.n || test.x || test.y || test.n) fz_fail("a failed load left data behind");
  }
  return 0;
}
