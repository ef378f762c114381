/* Data sets as a whole: a directory of IDX files (the Fashion-MNIST / MNIST
 * distribution layout) or of CIFAR-10 batches, freeing, and the subsets the
 * methods need. */
#include "core/dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

static int is_file(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir/<stem>-<kind>-ubyte[.gz], or with '.' before <kind> as some mirrors name
 * them; raw first, so an unpacked copy wins over the archive beside it. */
static int find_file(const char *dir, const char *stem, const char *kind, char *path, size_t len)
{
  static const char seps[] = {'-', '.'};
  static const char *const exts[] = {"", ".gz"};
  int dlen = (int)strlen(dir);
  while (dlen > 1 && dir[dlen - 1] == '/') dlen--;   /* no "dir//file" in messages */
  for (int s = 0; s < 2; s++)
    for (int e = 0; e < 2; e++) {
      int w = snprintf(path, len, "%.*s/%s%c%s-ubyte%s", dlen, dir, stem, seps[s], kind, exts[e]);
      if (w > 0 && (size_t)w < len && is_file(path)) return 0;
    }
  return -1;
}

/* Last path component without trailing slashes ("data" for "/" or ""). */
static void dir_name(const char *dir, char *out, size_t len)
{
  size_t end = strlen(dir);
  while (end > 0 && dir[end - 1] == '/') end--;
  size_t start = end;
  while (start > 0 && dir[start - 1] != '/') start--;
  if (end == start) {
    snprintf(out, len, "data");
    return;
  }
  snprintf(out, len, "%.*s", (int)(end - start), dir + start);
}

static int load_split(const char *dir, const char *split, mb_dataset *d, char *err, size_t errlen)
{
  char stem[32], images[4096], labels[4096];
  snprintf(stem, sizeof stem, "%s-images", split);
  if (find_file(dir, stem, "idx3", images, sizeof images)) {
    snprintf(err, errlen, "%s: no %s-idx3-ubyte[.gz] file found", dir, stem);
    return -1;
  }
  snprintf(stem, sizeof stem, "%s-labels", split);
  if (find_file(dir, stem, "idx1", labels, sizeof labels)) {
    snprintf(err, errlen, "%s: no %s-idx1-ubyte[.gz] file found", dir, stem);
    return -1;
  }
  if (mb_idx_load(images, labels, d, err, errlen)) return -1;
  dir_name(dir, d->name, sizeof d->name);
  return 0;
}

static int load_idx_dir(const char *dir, mb_dataset *train, mb_dataset *test, char *err, size_t errlen)
{
  if (load_split(dir, "train", train, err, errlen)) return -1;
  if (load_split(dir, "t10k", test, err, errlen)) {
    mb_dataset_free(train);
    return -1;
  }
  if (train->c != test->c || train->h != test->h || train->w != test->w) {
    snprintf(err, errlen, "%s: train images are %dx%dx%d but test images are %dx%dx%d", dir, train->c,
             train->h, train->w, test->c, test->h, test->w);
    mb_dataset_free(train);
    mb_dataset_free(test);
    return -1;
  }
  /* A class missing from one split must not shrink its class count. */
  int k = train->n_classes > test->n_classes ? train->n_classes : test->n_classes;
  train->n_classes = test->n_classes = k;
  /* Every class needs training images (its code, its Fisher information): a label with
   * none below the largest is a corrupt byte or a misnumbered set, not an empty class. */
  int *counts = calloc((size_t)k, sizeof *counts);
  int missing = -1, oom = !counts;
  if (counts) {
    mb_dataset_class_counts(train, counts);
    for (int c = k - 1; c >= 0; c--)
      if (counts[c] == 0) missing = c;
  }
  free(counts);
  if (oom || missing >= 0) {
    if (oom) snprintf(err, errlen, "%s: out of memory", dir);
    else
      snprintf(err, errlen, "%s: no training image has label %d, but labels run to %d: classes must "
               "be numbered 0..N-1 without gaps (a corrupt label file?)", dir, missing, k - 1);
    mb_dataset_free(train);
    mb_dataset_free(test);
    return -1;
  }
  return 0;
}

static int has_idx(const char *dir)
{
  char path[4096];
  return find_file(dir, "train-images", "idx3", path, sizeof path) == 0 ||
         find_file(dir, "t10k-images", "idx3", path, sizeof path) == 0;
}

int mb_data_load_dir(const char *dir, mb_dataset *train, mb_dataset *test, char *err, size_t errlen)
{
  memset(train, 0, sizeof *train);
  memset(test, 0, sizeof *test);
  int cifar = mb_cifar10_has_files(dir), idx = has_idx(dir);
  if (cifar && idx) {
    snprintf(err, errlen, "%s: holds both CIFAR-10 batches and IDX files; use a folder with one kind", dir);
    return -1;
  }
  if (cifar) return mb_cifar10_load_dir(dir, train, test, err, errlen);
  /* The CIFAR-10 archive unpacks into cifar-10-batches-bin/: accept its parent. */
  char sub[4096];
  int w = snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", dir);
  if (!idx && w > 0 && (size_t)w < sizeof sub && mb_cifar10_has_files(sub))
    return mb_cifar10_load_dir(sub, train, test, err, errlen);
  if (!idx) {
    snprintf(err, errlen,
             "%s: no data set found: expected IDX files (train-images-idx3-ubyte[.gz] ...) or "
             "CIFAR-10 batches (data_batch_1..5.bin, test_batch.bin)", dir);
    return -1;
  }
  return load_idx_dir(dir, train, test, err, errlen);
}

const char *mb_data_default_dir(void)
{
  char path[512];
  return find_file(DEFAULT_DIR, "train-images", "idx3", path, sizeof path) == 0 ? DEFAULT_DIR : NULL;
}

void mb_dataset_free(mb_dataset *d)
{
  if (!d) return;
  free(d->x);
  free(d->y);
  memset(d, 0, sizeof *d);
}

uint64_t mb_dataset_hash_floats(uint64_t h, const float *x, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, &x[i], sizeof u);
    unsigned char b[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                          (unsigned char)(u >> 24)};
    h = mb_fnv1a64(h, b, sizeof b);
  }
  return h;
}

void mb_dataset_class_counts(const mb_dataset *d, int *counts)
{
  memset(counts, 0, (size_t)d->n_classes * sizeof *counts);
  for (int i = 0; i < d->n; i++)
    if (d->y[i] >= 0 && d->y[i] < d->n_classes) counts[d->y[i]]++;
}

/* dst = the samples of src whose keep[] flag is set, in order. */
static int copy_kept(const mb_dataset *src, const unsigned char *keep, int n_keep, mb_dataset *dst)
{
  size_t d = (size_t)src->c * src->h * src->w;
  *dst = *src;
  dst->n = n_keep;
  dst->x = malloc((n_keep ? (size_t)n_keep : 1) * d * sizeof *dst->x);
  dst->y = malloc((n_keep ? (size_t)n_keep : 1) * sizeof *dst->y);
  if (!dst->x || !dst->y) {
    mb_dataset_free(dst);
    return -1;
  }
  int j = 0;
  for (int i = 0; i < src->n; i++) {
    if (!keep[i]) continue;
    memcpy(dst->x + (size_t)j * d, src->x + (size_t)i * d, d * sizeof *dst->x);
    dst->y[j++] = src->y[i];
  }
  dst->checksum = mb_dataset_hash_floats(MB_FNV1A64_INIT, dst->x, (size_t)n_keep * d);
  return 0;
}

int mb_dataset_head(const mb_dataset *src, int n, mb_dataset *dst)
{
  memset(dst, 0, sizeof *dst);
  if (n < 0 || n > src->n) return -1;
  unsigned char *keep = calloc(src->n ? (size_t)src->n : 1, 1);
  if (!keep) return -1;
  memset(keep, 1, (size_t)n);
  int rc = copy_kept(src, keep, n, dst);
  free(keep);
  return rc;
}

int mb_dataset_head_per_class(const mb_dataset *src, int n_per_class, mb_dataset *dst)
{
  memset(dst, 0, sizeof *dst);
  if (n_per_class < 0 || src->n_classes < 1) return -1;
  unsigned char *keep = calloc(src->n ? (size_t)src->n : 1, 1);
  int *taken = calloc((size_t)src->n_classes, sizeof *taken);
  int n_keep = 0, rc = -1;
  if (keep && taken) {
    for (int i = 0; i < src->n; i++) {
      int k = src->y[i];
      if (k >= 0 && k < src->n_classes && taken[k] < n_per_class) {
        taken[k]++;
        keep[i] = 1;
        n_keep++;
      }
    }
    rc = copy_kept(src, keep, n_keep, dst);
  }
  free(keep);
  free(taken);
  return rc;
}
