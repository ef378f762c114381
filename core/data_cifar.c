/* CIFAR-10 binary reader (the "binary version" of the distribution):
 * data_batch_1..5.bin (train) and test_batch.bin (test), each a sequence of
 * 3073-byte records: 1 label byte, then 3×32×32 pixels, channel-major.
 * Any number of records per file is accepted (subsets), but every file must
 * exist, be a regular non-empty file holding whole records, and every label
 * must be 0..9.  Sizes are checked before anything is allocated. */
#include "core/dataset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SIDE 32
#define PIXELS (3 * SIDE * SIDE)
#define RECORD (1 + PIXELS)
#define N_TRAIN_FILES 5

const float mb_cifar10_mean[3] = {0.4914f, 0.4822f, 0.4465f};
const float mb_cifar10_std[3] = {0.2023f, 0.1994f, 0.2010f};

/* One line naming the file (a newline in a path must not split it). */
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
  if (!err || errlen == 0) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  for (char *p = err; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  return -1;
}

/* dir/name without "dir//name" when dir ends in '/'. */
static int join(const char *dir, const char *name, char *out, size_t len)
{
  int dlen = (int)strlen(dir);
  while (dlen > 1 && dir[dlen - 1] == '/') dlen--;
  int w = snprintf(out, len, "%.*s/%s", dlen, dir, name);
  return w > 0 && (size_t)w < len ? 0 : -1;
}

static void file_name(int i, char *out, size_t len)
{
  if (i < N_TRAIN_FILES) snprintf(out, len, "data_batch_%d.bin", i + 1);
  else snprintf(out, len, "test_batch.bin");
}

int mb_cifar10_has_files(const char *dir)
{
  char name[32], path[4096];
  struct stat st;
  for (int i = 0; i <= N_TRAIN_FILES; i++) {
    file_name(i, name, sizeof name);
    if (join(dir, name, path, sizeof path) == 0 && stat(path, &st) == 0) return 1;
  }
  return 0;
}

/* Opens path and returns its record count; the stream is left open in *f. */
static int open_records(const char *path, FILE **f, size_t *n, char *err, size_t errlen)
{
  *f = fopen(path, "rb");
  if (!*f) return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(*f), &st) != 0) return fail(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode)) return fail(err, errlen, "%s: not a regular file", path);
  size_t size = (size_t)st.st_size;
  if (size == 0) return fail(err, errlen, "%s: empty file (expected 3073-byte CIFAR-10 records)", path);
  if (size % RECORD)
    return fail(err, errlen,
                "%s: size %zu bytes is not a whole number of 3073-byte records "
                "(%zu records and %zu bytes left over: truncated or not CIFAR-10 binary)",
                path, size, size / RECORD, size % RECORD);
  *n = size / RECORD;
  return 0;
}

/* Reads the records of one file into x/y from sample `at` on, hashing the bytes. */
static int read_records(FILE *f, const char *path, size_t n, size_t at, mb_dataset *d, uint64_t *h,
                        char *err, size_t errlen)
{
  unsigned char rec[RECORD];
  for (size_t i = 0; i < n; i++) {
    size_t got = fread(rec, 1, RECORD, f);
    if (got < RECORD) {
      if (ferror(f)) return fail(err, errlen, "%s: read error: %s", path, strerror(errno));
      return fail(err, errlen, "%s: truncated while reading: record %zu has %zu of 3073 bytes", path, i, got);
    }
    if (rec[0] > 9)
      return fail(err, errlen, "%s: label %d in record %zu is out of range (CIFAR-10 labels are 0..9)",
                  path, rec[0], i);
    *h = mb_fnv1a64(*h, rec, RECORD);
    d->y[at + i] = rec[0];
    float *x = d->x + (at + i) * PIXELS;
    /* pixel/255 as torchvision's ToTensor computes it. */
    for (int j = 0; j < PIXELS; j++) x[j] = (float)rec[1 + j] / 255.0f;
  }
  return 0;
}

/* Loads files first..last (indices into file_name) as one set. */
static int load_set(const char *dir, int first, int last, mb_dataset *d, char *err, size_t errlen)
{
  enum { MAXF = N_TRAIN_FILES + 1 };
  char paths[MAXF][4096], name[32];
  FILE *f[MAXF] = {0};
  size_t counts[MAXF] = {0}, total = 0;
  int rc = -1, nf = last - first + 1;
  for (int i = 0; i < nf; i++) {
    file_name(first + i, name, sizeof name);
    if (join(dir, name, paths[i], sizeof paths[i])) {
      fail(err, errlen, "%s: path too long", dir);
      goto done;
    }
    struct stat st;
    if (stat(paths[i], &st) != 0 && errno == ENOENT) {
      fail(err, errlen, "%s: missing (a CIFAR-10 folder needs data_batch_1..5.bin and test_batch.bin)",
           paths[i]);
      goto done;
    }
    if (open_records(paths[i], &f[i], &counts[i], err, errlen)) goto done;
    total += counts[i];
  }
  if (total > MB_IDX_MAX_COUNT) {
    fail(err, errlen, "%s: %zu records exceed the limit of %d", dir, total, MB_IDX_MAX_COUNT);
    goto done;
  }
  d->x = malloc(total * PIXELS * sizeof *d->x);
  d->y = malloc(total * sizeof *d->y);
  if (!d->x || !d->y) {
    fail(err, errlen, "%s: out of memory (%zu records)", dir, total);
    goto done;
  }
  uint64_t h = MB_FNV1A64_INIT;
  size_t at = 0;
  for (int i = 0; i < nf; i++) {
    if (read_records(f[i], paths[i], counts[i], at, d, &h, err, errlen)) goto done;
    at += counts[i];
  }
  d->n = (int)total;
  d->c = 3;
  d->h = d->w = SIDE;
  d->n_classes = 10;
  d->checksum = h;
  d->norm = 1;
  memcpy(d->norm_mean, mb_cifar10_mean, sizeof mb_cifar10_mean);
  memcpy(d->norm_std, mb_cifar10_std, sizeof mb_cifar10_std);
  snprintf(d->name, sizeof d->name, "cifar-10");
  int dlen = (int)strlen(dir);
  while (dlen > 1 && dir[dlen - 1] == '/') dlen--;
  snprintf(d->source, sizeof d->source, "%.*s/%s", dlen, dir,
           first == 0 ? "data_batch_1..5.bin" : "test_batch.bin");
  rc = 0;
done:
  for (int i = 0; i < nf; i++)
    if (f[i]) fclose(f[i]);
  if (rc) mb_dataset_free(d);
  return rc;
}

int mb_cifar10_load_dir(const char *dir, mb_dataset *train, mb_dataset *test, char *err, size_t errlen)
{
  memset(train, 0, sizeof *train);
  memset(test, 0, sizeof *test);
  if (err && errlen) err[0] = '\0';
  if (load_set(dir, 0, N_TRAIN_FILES - 1, train, err, errlen)) return -1;
  if (load_set(dir, N_TRAIN_FILES, N_TRAIN_FILES, test, err, errlen)) {
    mb_dataset_free(train);
    return -1;
  }
  return 0;
}
