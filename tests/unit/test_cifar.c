/* CIFAR-10 binary folders (valid, subsets, hostile), folder detection, the
 * device-side Normalize, and the §0.1 crop + flip against a hand-written
 * reference, deterministic and identical on ref and cpu.  Linked into
 * test_data (meson test data); fixtures are written into a temp dir. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700   /* nftw */
#endif
#include "core/augment.h"
#include "core/dataset.h"
#include "core/devdata.h"
#include "core/streams.h"
#include "mb/registry.h"
#include "mb_config.h"
#include "philox.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const mb_backend_ops mb_ref_ops;

#define REC 3073
#define PIXELS 3072

static char dir[64];
static char err[1024];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st; (void)flag; (void)ftw;
  chmod(path, 0700);
  return remove(path);
}

static void make_tmp(void)
{
  snprintf(dir, sizeof dir, "/tmp/mb_test_cifar.XXXXXX");
  cr_assert_not_null(mkdtemp(dir), "mkdtemp failed");
}

static void drop_tmp(void) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

TestSuite(cifar, .init = make_tmp, .fini = drop_tmp);

/* ---- fixtures ---------------------------------------------------------- */

static const char *FILES[6] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                               "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
static const int COUNTS[6] = {2, 1, 3, 3, 2, 2};   /* subsets: any whole number of records */

static const char *path_of(const char *d, const char *name)
{
  static char p[4][512];
  static int next;
  char *s = p[next++ % 4];
  snprintf(s, sizeof p[0], "%s/%s", d, name);
  return s;
}

static unsigned char label_of(int file, int i) { return (unsigned char)((file * 3 + i * 7) % 10); }
static unsigned char pixel_of(int file, int i, int j)
{
  return (unsigned char)((file * 31 + i * 17 + j * 13 + (j >> 8)) & 255);
}

/* Record i of file `file`: label byte, then 3072 pixels. */
static void record(int file, int i, unsigned char *r)
{
  r[0] = label_of(file, i);
  for (int j = 0; j < PIXELS; j++) r[1 + j] = pixel_of(file, i, j);
}

static void write_bytes(const char *path, const unsigned char *b, size_t n)
{
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "cannot create %s", path);
  if (n) cr_assert_eq(fwrite(b, 1, n, f), n);
  fclose(f);
}

/* The six files of a tiny CIFAR-10 folder; returns the train/test checksums. */
static void write_folder(const char *d, uint64_t *h_train, uint64_t *h_test)
{
  static unsigned char buf[3 * REC];
  uint64_t ht = MB_FNV1A64_INIT, hs = MB_FNV1A64_INIT;
  for (int f = 0; f < 6; f++) {
    for (int i = 0; i < COUNTS[f]; i++) record(f, i, buf + (size_t)i * REC);
    size_t n = (size_t)COUNTS[f] * REC;
    write_bytes(path_of(d, FILES[f]), buf, n);
    if (f < 5) ht = mb_fnv1a64(ht, buf, n);
    else hs = mb_fnv1a64(hs, buf, n);
  }
  if (h_train) *h_train = ht;
  if (h_test) *h_test = hs;
}

static void expect_error(int rc, const char *file, const char *problem)
{
  cr_assert_eq(rc, -1, "load succeeded, expected \"%s\"", problem);
  cr_log_info("%s", err);
  cr_assert_null(strchr(err, '\n'), "message is not one line: %s", err);
  if (file) cr_assert_not_null(strstr(err, file), "message does not name %s: %s", file, err);
  cr_assert_not_null(strstr(err, problem), "message lacks \"%s\": %s", problem, err);
}

static void check_set(const mb_dataset *d, int first, int nfiles, uint64_t checksum)
{
  int n = 0;
  for (int f = first; f < first + nfiles; f++) n += COUNTS[f];
  cr_assert_eq(d->n, n);
  cr_assert(d->c == 3 && d->h == 32 && d->w == 32 && d->n_classes == 10);
  cr_assert_str_eq(d->name, "cifar-10");
  cr_assert_eq(d->synthetic, 0);
  cr_assert_eq(d->checksum, checksum, "checksum %016llx", (unsigned long long)d->checksum);
  cr_assert_eq(d->norm, 1);
  for (int c = 0; c < 3; c++) {
    cr_assert_eq(d->norm_mean[c], mb_cifar10_mean[c]);
    cr_assert_eq(d->norm_std[c], mb_cifar10_std[c]);
  }
  cr_assert_eq(d->norm_mean[0], 0.4914f);
  cr_assert_eq(d->norm_std[2], 0.2010f);
  int s = 0;
  for (int f = first; f < first + nfiles; f++)
    for (int i = 0; i < COUNTS[f]; i++, s++) {
      cr_assert_eq(d->y[s], label_of(f, i), "label of sample %d", s);
      for (int j = 0; j < PIXELS; j += 97)
        cr_assert_eq(d->x[(size_t)s * PIXELS + j], (float)pixel_of(f, i, j) / 255.0f);
    }
}

/* ---- reader ------------------------------------------------------------ */

Test(cifar, valid_folder_and_detection)
{
  uint64_t ht, hs;
  write_folder(dir, &ht, &hs);
  mb_dataset tr, te;
  cr_assert_eq(mb_cifar10_load_dir(dir, &tr, &te, err, sizeof err), 0, "%s", err);
  check_set(&tr, 0, 5, ht);
  check_set(&te, 5, 1, hs);
  mb_dataset_free(&tr);
  mb_dataset_free(&te);
  /* --data DIR goes through mb_data_load_dir, which must pick CIFAR-10 here. */
  cr_assert(mb_cifar10_has_files(dir));
  cr_assert_eq(mb_data_load_dir(dir, &tr, &te, err, sizeof err), 0, "%s", err);
  check_set(&tr, 0, 5, ht);
  check_set(&te, 5, 1, hs);
  /* Subsets keep the normalisation. */
  mb_dataset h;
  cr_assert_eq(mb_dataset_head(&tr, 3, &h), 0);
  cr_assert_eq(h.norm, 1);
  cr_assert_eq(h.norm_std[1], 0.1994f);
  mb_dataset_free(&h);
  mb_dataset_free(&tr);
  mb_dataset_free(&te);
}

Test(cifar, archive_subfolder)
{
  char parent[128], sub[192];
  snprintf(parent, sizeof parent, "%s/cifar-10-binary", dir);
  snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", parent);
  cr_assert_eq(mkdir(parent, 0700), 0);
  cr_assert_eq(mkdir(sub, 0700), 0);
  uint64_t ht;
  write_folder(sub, &ht, NULL);
  mb_dataset tr, te;
  cr_assert_eq(mb_data_load_dir(parent, &tr, &te, err, sizeof err), 0, "%s", err);
  check_set(&tr, 0, 5, ht);
  mb_dataset_free(&tr);
  mb_dataset_free(&te);
}

Test(cifar, truncated_and_wrong_size)
{
  write_folder(dir, NULL, NULL);
  static unsigned char buf[2 * REC + 1];   /* + 1: the "one byte too many" file below */
  record(2, 0, buf);
  record(2, 1, buf + REC);
  mb_dataset tr, te;
  write_bytes(path_of(dir, FILES[2]), buf, 2 * REC - 100);   /* cut off in record 1 */
  expect_error(mb_cifar10_load_dir(dir, &tr, &te, err, sizeof err), path_of(dir, FILES[2]),
               "size 6046 bytes is not a whole number of 3073-byte records (1 records and 2973 bytes");
  cr_assert_null(tr.x);
  cr_assert_null(te.x);
  write_bytes(path_of(dir, FILES[5]), buf, 100);   /* not CIFAR at all */
  write_bytes(path_of(dir, FILES[2]), buf, REC);
  expect_error(mb_data_load_dir(dir, &tr, &te, err, sizeof err), path_of(dir, FILES[5]),
               "size 100 bytes is not a whole number");
  write_bytes(path_of(dir, FILES[5]), buf, 2 * REC + 1);   /* one byte too many */
  expect_error(mb_data_load_dir(dir, &tr, &te, err, sizeof err), path_of(dir, FILES[5]),
               "(2 records and 1 bytes left over");
}

Test(cifar, empty_file)
{
  write_folder(dir, NULL, NULL);
  write_bytes(path_of(dir, FILES[4]), NULL, 0);
  mb_dataset tr, te;
  expect_error(mb_data_load_dir(dir, &tr, &te, err, sizeof err), path_of(dir, FILES[4]), "empty file");
}

Test(cifar, bad_label)
{
  write_folder(dir, NULL, NULL);
  static unsigned char buf[3 * REC];
  for (int i = 0; i < 3; i++) record(2, i, buf + (size_t)i * REC);
  buf[REC] = 10;
  write_bytes(path_of(dir, FILES[2]), buf, 3 * REC);
  mb_dataset tr, te;
  expect_error(mb_data_load_dir(dir, &tr, &te, err, sizeof err), path_of(dir, FILES[2]),
               "label 10 in record 1 is out of range (CIFAR-10 labels are 0..9)");
  cr_assert_null(tr.x);
  buf[REC] = 1;
  write_bytes(path_of(dir, FILES[2]), buf, 3 * REC);
  buf[2 * REC] = 255;
  write_bytes(path_of(dir, FILES[5]), buf, 3 * REC);
  expect_error(mb_data_load_dir(dir, &tr, &te, err, sizeof err), path_of(dir, FILES[5]),
               "label 255 in record 2");
}

Test(cifar, missing_files)
{
  write_folder(dir, NULL, NULL);
  mb_dataset tr, te;
  remove(path_of(dir, FILES[5]));
  expect_error(mb_data_load_dir(dir, &tr, &te, err, sizeof err), path_of(dir, "test_batch.bin"),
               "missing (a CIFAR-10 folder needs data_batch_1..5.bin and test_batch.bin)");
  cr_assert_null(tr.x);
  cr_assert_null(te.x);
  write_folder(dir, NULL, NULL);
  remove(path_of(dir, FILES[2]));
  expect_error(mb_data_load_dir(dir, &tr, &te, err, sizeof err), path_of(dir, FILES[2]), "missing");
}

Test(cifar, unreadable_files)
{
  write_folder(dir, NULL, NULL);
  mb_dataset tr, te;
  remove(path_of(dir, FILES[1]));
  cr_assert_eq(mkdir(path_of(dir, FILES[1]), 0700), 0);
  expect_error(mb_data_load_dir(dir, &tr, &te, err, sizeof err), path_of(dir, FILES[1]),
               "not a regular file");
  remove(path_of(dir, FILES[1]));
  write_folder(dir, NULL, NULL);
  if (geteuid() == 0) return;   /* root reads a 000 file anyway */
  chmod(path_of(dir, FILES[3]), 0);
  expect_error(mb_data_load_dir(dir, &tr, &te, err, sizeof err), path_of(dir, FILES[3]),
               "cannot open: Permission denied");
}

Test(cifar, folder_kinds)
{
  mb_dataset tr, te;
  expect_error(mb_data_load_dir(dir, &tr, &te, err, sizeof err), dir, "no data set found");
  write_folder(dir, NULL, NULL);
  write_bytes(path_of(dir, "train-images-idx3-ubyte"), (const unsigned char *)"x", 1);
  expect_error(mb_data_load_dir(dir, &tr, &te, err, sizeof err), dir, "holds both CIFAR-10 batches and IDX");
}

/* ---- augmentation and normalisation on the device ---------------------- */

static mb_backend *open_be(const char *name)
{
  const mb_backend_entry *e = mb_backend_lookup(name);   /* loads the cpu module */
  if (!e || !e->ops) cr_skip_test("%s: %s", name, e ? e->unavailable : "unknown backend");
  const mb_backend_ops *ops = e->ops;
  char why[256] = "";
  mb_backend *be = NULL;
  cr_assert_eq(ops->open(0, &be, why, sizeof why), MB_OK, "%s: %s", name, why);
  return be;
}

static void ok(mb_backend *be) { cr_assert(mb_ok(be), "%s: %s", be->ops->name, mb_error(be)); }

/* Hand-written §0.1: pad to 40×40 with zeros, cut the 32×32 window at (oy, ox),
 * mirror it, then ToTensor as the device does (byte · 1/255) and Normalize. */
static void reference_sample(const mb_dataset *d, int s, uint64_t seed, int epoch, float *out)
{
  uint32_t w[4];
  mb_philox_block(seed, (4u << 20) + (uint64_t)epoch, (uint64_t)s, w);
  int oy = (int)(((uint64_t)w[0] * 9) >> 32), ox = (int)(((uint64_t)w[1] * 9) >> 32), flip = (int)(w[2] >> 31);
  static unsigned char padded[3][40][40];
  memset(padded, 0, sizeof padded);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < 32; y++)
      for (int x = 0; x < 32; x++)
        padded[c][y + 4][x + 4] = (unsigned char)lrintf(d->x[(size_t)s * PIXELS + c * 1024 + y * 32 + x] * 255.0f);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < 32; y++)
      for (int x = 0; x < 32; x++) {
        unsigned char b = padded[c][oy + y][ox + (flip ? 31 - x : x)];
        float v = (float)b * (1.0f / 255.0f);
        out[c * 1024 + y * 32 + x] = (v - mb_cifar10_mean[c]) / mb_cifar10_std[c];
      }
}

Test(cifar, draws_cover_the_range)
{
  int seen[9] = {0}, flips = 0;
  for (int s = 0; s < 2000; s++) {
    mb_aug_draw a = mb_aug_draw_for(5, 3, s, MB_AUG_PAD);
    cr_assert(a.oy >= 0 && a.oy <= 8 && a.ox >= 0 && a.ox <= 8 && (a.flip == 0 || a.flip == 1));
    seen[a.oy]++;
    seen[a.ox]++;
    flips += a.flip;
  }
  for (int k = 0; k < 9; k++) cr_assert_gt(seen[k], 300, "offset %d drawn %d times", k, seen[k]);
  cr_assert(flips > 900 && flips < 1100, "%d flips of 2000", flips);
  cr_assert_eq(MB_STREAM_AUGMENT, 4u << 20);
}

typedef struct {
  float *x;        /* rows·3072 */
  int32_t *labels; /* rows */
} batch;

enum { ROWS = 7 };
static const int32_t DATA_IDX[ROWS] = {3, 0, -1, 10, 6, -1, 3};   /* -1: a code row */
static const int32_t CODE_IDX[ROWS] = {-1, -1, 4, -1, -1, 9, -1};
static const int32_t LABEL_IDX[ROWS] = {3, 0, 2, 10, 6, 4, 3};

/* Loads the tiny folder on backend `name` and builds one augmented batch with
 * codes (c·3072 + j → a fixed pattern) on it. */
static batch run_batch(const char *name, const mb_dataset *tr, uint64_t seed, int epoch)
{
  mb_backend *be = open_be(name);
  mb_devdata dd;
  cr_assert_eq(mb_devdata_upload(be, tr, &dd), 0, "%s", mb_error(be));
  float *codes = malloc(10 * PIXELS * sizeof *codes);
  for (int i = 0; i < 10 * PIXELS; i++) codes[i] = (float)(i % 251) / 256.0f;
  mb_view dcodes = mb_new(be, 10 * PIXELS), didx = mb_new(be, 3 * ROWS);
  mb_view dst = mb_new(be, ROWS * PIXELS), tmp = mb_new(be, ROWS * PIXELS), lab = mb_new(be, ROWS);
  mb_upload(be, dcodes, codes, 10 * PIXELS);
  mb_upload(be, didx, DATA_IDX, ROWS);
  mb_upload(be, mb_at(didx, ROWS), CODE_IDX, ROWS);
  mb_upload(be, mb_at(didx, 2 * ROWS), LABEL_IDX, ROWS);
  mb_augment aug;
  cr_assert_eq(mb_augment_init(be, &aug, &dd, 8), 0);
  mb_augment_gather(be, &aug, &dd, seed, epoch, DATA_IDX, dcodes, 10, didx, mb_at(didx, ROWS),
                    mb_at(didx, 2 * ROWS), ROWS, dst, lab, tmp);
  batch b = {malloc(ROWS * PIXELS * sizeof(float)), malloc(ROWS * sizeof(int32_t))};
  mb_download(be, b.x, dst, ROWS * PIXELS);
  mb_download(be, b.labels, lab, ROWS);
  ok(be);
  /* Code rows are the codes exactly: never cropped, flipped or normalised. */
  for (int r = 0; r < ROWS; r++)
    if (DATA_IDX[r] < 0)
      cr_assert_eq(memcmp(b.x + (size_t)r * PIXELS, codes + (size_t)CODE_IDX[r] * PIXELS,
                          PIXELS * sizeof(float)), 0, "%s: code row %d", name, r);
  mb_augment_free(be, &aug);
  mb_release(be, dcodes);
  mb_release(be, didx);
  mb_release(be, dst);
  mb_release(be, tmp);
  mb_release(be, lab);
  mb_devdata_free(be, &dd);
  be->ops->close(be);
  free(codes);
  return b;
}

static void load_tiny(mb_dataset *tr, mb_dataset *te)
{
  write_folder(dir, NULL, NULL);
  cr_assert_eq(mb_data_load_dir(dir, tr, te, err, sizeof err), 0, "%s", err);
  cr_assert_eq(tr->n, 11);
}

Test(cifar, augment_matches_reference)
{
  mb_dataset tr, te;
  load_tiny(&tr, &te);
  batch b = run_batch("ref", &tr, 42, 2);
  static float want[PIXELS];
  int flipped = 0, shifted = 0;
  for (int r = 0; r < ROWS; r++) {
    if (DATA_IDX[r] < 0) continue;
    reference_sample(&tr, DATA_IDX[r], 42, 2, want);
    for (int j = 0; j < PIXELS; j++)
      cr_assert_eq(b.x[(size_t)r * PIXELS + j], want[j], "row %d element %d: %.9g, want %.9g", r, j,
                   b.x[(size_t)r * PIXELS + j], want[j]);
    mb_aug_draw a = mb_aug_draw_for(42, 2, DATA_IDX[r], MB_AUG_PAD);
    flipped += a.flip;
    shifted += a.ox != 4 || a.oy != 4;
  }
  /* The fixture exercises both branches of the flip and real shifts. */
  cr_assert(flipped > 0 && flipped < 5, "%d of 5 rows flipped", flipped);
  cr_assert_gt(shifted, 0);
  /* A padding pixel is the normalised zero: (0 − mean)/std. */
  int pads = 0;
  for (int j = 0; j < PIXELS; j++) pads += b.x[j] == (0.0f - mb_cifar10_mean[j / 1024]) / mb_cifar10_std[j / 1024];
  mb_aug_draw a0 = mb_aug_draw_for(42, 2, DATA_IDX[0], MB_AUG_PAD);
  int exp_pad = 3 * (32 * 32 - (32 - abs(a0.oy - 4)) * (32 - abs(a0.ox - 4)));
  cr_assert_geq(pads, exp_pad);
  for (int r = 0; r < ROWS; r++) cr_assert_eq(b.labels[r], tr.y[LABEL_IDX[r]]);
  free(b.x);
  free(b.labels);
  mb_dataset_free(&tr);
  mb_dataset_free(&te);
}

Test(cifar, augment_deterministic)
{
  mb_dataset tr, te;
  load_tiny(&tr, &te);
  batch a = run_batch("ref", &tr, 42, 2), b = run_batch("ref", &tr, 42, 2);
  batch c = run_batch("ref", &tr, 42, 3), d = run_batch("ref", &tr, 43, 2);
  size_t bytes = ROWS * PIXELS * sizeof(float);
  cr_assert_eq(memcmp(a.x, b.x, bytes), 0, "same seed and epoch must give the same batch");
  cr_assert_neq(memcmp(a.x, c.x, bytes), 0, "another epoch must draw again");
  cr_assert_neq(memcmp(a.x, d.x, bytes), 0, "another seed must draw again");
  /* Rows 0 and 6 are the same sample in the same epoch: the same draw. */
  cr_assert_eq(memcmp(a.x, a.x + 6 * PIXELS, PIXELS * sizeof(float)), 0);
  batch *all[] = {&a, &b, &c, &d};
  for (int i = 0; i < 4; i++) {
    free(all[i]->x);
    free(all[i]->labels);
  }
  mb_dataset_free(&tr);
  mb_dataset_free(&te);
}

Test(cifar, augment_ref_and_cpu_identical)
{
  mb_dataset tr, te;
  load_tiny(&tr, &te);
  batch a = run_batch("ref", &tr, 7, 0), b = run_batch("cpu", &tr, 7, 0);
  for (int e = 0; e < ROWS * PIXELS; e++)
    cr_assert_eq(a.x[e], b.x[e], "element %d: ref %.9g, cpu %.9g", e, a.x[e], b.x[e]);
  cr_assert_eq(memcmp(a.labels, b.labels, ROWS * sizeof(int32_t)), 0);
  free(a.x);
  free(a.labels);
  free(b.x);
  free(b.labels);
  mb_dataset_free(&tr);
  mb_dataset_free(&te);
}

/* The test transform: ToTensor + Normalize only, through the plain gather (the
 * eval path, no tmp), the same on ref and cpu. */
Test(cifar, plain_gather_normalises)
{
  mb_dataset tr, te;
  load_tiny(&tr, &te);
  const char *names[2] = {"ref", "cpu"};
  float *got[2];
  for (int k = 0; k < 2; k++) {
    mb_backend *be = open_be(names[k]);
    mb_devdata dd;
    cr_assert_eq(mb_devdata_upload(be, &te, &dd), 0, "%s", mb_error(be));
    const int32_t idx[2] = {1, 0};
    mb_view didx = mb_new(be, 2), dst = mb_new(be, 2 * PIXELS);
    mb_upload(be, didx, idx, 2);
    mb_devdata_gather(be, &dd, mb_none(), 0, didx, mb_none(), mb_none(), 2, dst, mb_none(), mb_none());
    got[k] = malloc(2 * PIXELS * sizeof(float));
    mb_download(be, got[k], dst, 2 * PIXELS);
    ok(be);
    for (int r = 0; r < 2; r++)
      for (int j = 0; j < PIXELS; j++) {
        float v = (float)pixel_of(5, idx[r], j) * (1.0f / 255.0f);
        float want = (v - mb_cifar10_mean[j / 1024]) / mb_cifar10_std[j / 1024];
        cr_assert_eq(got[k][r * PIXELS + j], want, "%s row %d element %d", names[k], r, j);
      }
    mb_release(be, didx);
    mb_release(be, dst);
    mb_devdata_free(be, &dd);
    be->ops->close(be);
  }
  cr_assert_eq(memcmp(got[0], got[1], 2 * PIXELS * sizeof(float)), 0);
  free(got[0]);
  free(got[1]);
  mb_dataset_free(&tr);
  mb_dataset_free(&te);
}
