/* Host-side image classification data sets: IDX files (MNIST / Fashion-MNIST
 * layout, raw or gzip), CIFAR-10 binary batches, a directory of either, and a
 * deterministic synthetic set.
 *
 * Pixels are stored as pixel/255 in [0,1], NCHW row-major, so every value is
 * an exact multiple of 1/255 (core/devdata.c relies on this to recover bytes).
 * Functions that can fail return 0 or -1 and write a one-line message naming
 * the file and the problem into err; on failure the output is zeroed.
 */
#ifndef MB_DATASET_H
#define MB_DATASET_H

#include <stddef.h>
#include <stdint.h>

#define MB_DATASET_MAX_CH 4   /* channels a normalisation can describe */

typedef struct {
  int n, c, h, w, n_classes;
  float *x;          /* n·c·h·w values, pixel/255 */
  int32_t *y;        /* n labels in [0, n_classes) */
  char name[64];     /* "fashion-mnist", "synthetic", ... */
  char source[512];  /* the images file read, or a description of the generator */
  int synthetic;
  uint64_t checksum; /* FNV-1a 64: IDX: decompressed file bytes, images then labels;
                        CIFAR-10: the file bytes, data_batch_1..5 (train) / test_batch;
                        synthetic: the floats of x, each as its little-endian bits */
  /* Per-channel Normalize of the model input, (x − mean[c]) / std[c] with x =
   * pixel/255 (docs/specification.md §0.1).  norm = 0: ToTensor only (IDX, synthetic).
   * Applied on the device by core/devdata.c, never to the host copy. */
  int norm;
  float norm_mean[MB_DATASET_MAX_CH], norm_std[MB_DATASET_MAX_CH];
} mb_dataset;

/* Limits the IDX reader enforces before it allocates anything. */
#define MB_IDX_MAX_DIM 4096          /* rows, columns */
#define MB_IDX_MAX_COUNT 100000000   /* samples */
#define MB_IDX_MAX_CLASSES 1000      /* n_classes = max label + 1 */

/* Reads an IDX3 u8 image file (magic 0x00000803) and an IDX1 u8 label file
 * (0x00000801), each raw or gzip.  c = 1; n_classes = max label + 1. */
int mb_idx_load(const char *images, const char *labels, mb_dataset *out, char *err, size_t errlen);
/* As mb_idx_load with a caller-chosen class limit (1..MB_IDX_MAX_CLASSES). */
int mb_idx_load_limit(const char *images, const char *labels, int max_classes, mb_dataset *out,
                      char *err, size_t errlen);

/* CIFAR-10 binary: dir/data_batch_1..5.bin (train, in that order) and
 * dir/test_batch.bin, each any whole number of 3073-byte records (label 0..9,
 * then 3×32×32 bytes, channel-major).  c = 3, 32×32, n_classes = 10, name
 * "cifar-10", norm = 1 with the §0.1 constants.  A missing, unreadable, empty
 * or partial file, or a bad label, fails with one line naming the file. */
int mb_cifar10_load_dir(const char *dir, mb_dataset *train, mb_dataset *test, char *err, size_t errlen);
/* 1 if dir holds any of the six CIFAR-10 batch files. */
int mb_cifar10_has_files(const char *dir);
extern const float mb_cifar10_mean[3], mb_cifar10_std[3];

/* Loads a data set folder: CIFAR-10 when it holds CIFAR-10 batch files (also
 * in a cifar-10-batches-bin subfolder, as the archive unpacks), else IDX:
 * train-{images-idx3,labels-idx1}-ubyte and t10k-... from dir, each raw
 * or .gz, with '-' or '.' before "idx".  Both IDX sets get name = basename(dir)
 * and the larger of the two n_classes; their image shapes must agree.  A folder
 * holding both kinds is an error (which one was meant is unclear). */
int mb_data_load_dir(const char *dir, mb_dataset *train, mb_dataset *test, char *err, size_t errlen);
/* "/usr/share/datasets/fashion-mnist" if its train image file exists, else NULL. */
const char *mb_data_default_dir(void);

/* 1×28×28, 10 classes, name "synthetic": per-class prototypes made of smooth
 * blobs, shifted, distorted and noised per sample.  Deterministic in seed;
 * the test set does not depend on n_train.  Labels are balanced and shuffled.
 * Out of memory leaves both sets zeroed (x == NULL). */
void mb_data_synthetic(uint64_t seed, int n_train, int n_test, mb_dataset *train, mb_dataset *test);

void mb_dataset_free(mb_dataset *d);

/* Copies of part of a data set (name and source kept, checksum recomputed over
 * the kept floats; 0 ok, -1 out of memory or bad argument, dst zeroed). */
int mb_dataset_head(const mb_dataset *src, int n, mb_dataset *dst);            /* first n samples */
int mb_dataset_head_per_class(const mb_dataset *src, int n_per_class, mb_dataset *dst);
                                          /* first n_per_class of each class, in data set order */
/* counts[k] = samples of class k, k < n_classes (counts holds n_classes ints). */
void mb_dataset_class_counts(const mb_dataset *d, int *counts);

/* FNV-1a 64, continued from h (start with MB_FNV1A64_INIT). */
#define MB_FNV1A64_INIT 0xcbf29ce484222325ull
static inline uint64_t mb_fnv1a64(uint64_t h, const void *p, size_t n)
{
  const unsigned char *b = (const unsigned char *)p;
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= 0x100000001b3ull;
  }
  return h;
}
uint64_t mb_dataset_hash_floats(uint64_t h, const float *x, size_t n);

#endif
