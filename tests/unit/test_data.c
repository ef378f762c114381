/* Data layer: IDX reader (valid and hostile files, raw and gzip), data set
 * directories, subsets, the synthetic set, and the real Fashion-MNIST when
 * it is installed.  Fixtures are written at run time into a temp dir. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700   /* nftw */
#endif
#include "core/dataset.h"
#include "mb_config.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#if MB_HAVE_ZLIB
#include <zlib.h>
#endif

static char tmp_dir[64];
static char err[512];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st; (void)flag; (void)ftw;
  return remove(path);
}

static void make_tmp(void)
{
  snprintf(tmp_dir, sizeof tmp_dir, "/tmp/mb_test_data.XXXXXX");
  cr_assert_not_null(mkdtemp(tmp_dir), "mkdtemp failed");
}

static void drop_tmp(void)
{
  nftw(tmp_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(data, .init = make_tmp, .fini = drop_tmp);

/* ---- fixtures ---------------------------------------------------------- */

static const char *at(const char *name)
{
  static char paths[8][256];
  static int next;
  char *p = paths[next++ % 8];
  snprintf(p, sizeof paths[0], "%s/%s", tmp_dir, name);
  return p;
}

static size_t put_be32(unsigned char *p, uint32_t v)
{
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
  return 4;
}

/* Header (magic, dims) + data in one buffer; returns its length. */
static size_t idx_bytes(unsigned char *buf, uint32_t magic, const uint32_t *dims, int ndims,
                        const unsigned char *data, size_t len)
{
  size_t n = put_be32(buf, magic);
  for (int i = 0; i < ndims; i++) n += put_be32(buf + n, dims[i]);
  if (len) memcpy(buf + n, data, len);
  return n + len;
}

static void write_raw(const char *path, const unsigned char *buf, size_t len)
{
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "cannot create %s", path);
  cr_assert_eq(fwrite(buf, 1, len, f), len);
  fclose(f);
}

#if MB_HAVE_ZLIB
static void write_gz(const char *path, const unsigned char *buf, size_t len)
{
  gzFile gz = gzopen(path, "wb9");
  cr_assert_not_null(gz, "cannot create %s", path);
  cr_assert_eq(gzwrite(gz, buf, (unsigned)len), (int)len);
  gzclose(gz);
}

static size_t read_all(const char *path, unsigned char *buf, size_t cap)
{
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f);
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}
#endif

/* Three 2×3 images and their labels. */
static const unsigned char PIX[18] = {0, 1, 2, 3, 254, 255, 10, 20, 30, 40, 50, 60, 255, 0, 128, 7, 8, 9};
static const unsigned char LAB[3] = {0, 2, 1};
static const uint32_t IMG_DIMS[3] = {3, 2, 3};
static const uint32_t LAB_DIMS[1] = {3};

static size_t good_images(unsigned char *buf) { return idx_bytes(buf, 0x803, IMG_DIMS, 3, PIX, 18); }
static size_t good_labels(unsigned char *buf) { return idx_bytes(buf, 0x801, LAB_DIMS, 1, LAB, 3); }

static void write_pair(const char *img, const char *lab, int gz)
{
  unsigned char a[64], b[64];
  size_t na = good_images(a), nb = good_labels(b);
#if MB_HAVE_ZLIB
  if (gz) {
    write_gz(img, a, na);
    write_gz(lab, b, nb);
    return;
  }
#endif
  (void)gz;
  write_raw(img, a, na);
  write_raw(lab, b, nb);
}

/* The load must fail with a one-line message naming the file and the problem. */
static void expect_error(int rc, const char *file, const char *problem)
{
  cr_assert_eq(rc, -1, "load succeeded, expected \"%s\"", problem);
  cr_log_info("%s", err);
  cr_assert_str_not_empty(err);
  cr_assert_null(strchr(err, '\n'), "message is not one line: %s", err);
  if (file) cr_assert_not_null(strstr(err, file), "message does not name %s: %s", file, err);
  cr_assert_not_null(strstr(err, problem), "message lacks \"%s\": %s", problem, err);
}

static void expect_empty(const mb_dataset *d)
{
  cr_assert_null(d->x);
  cr_assert_null(d->y);
  cr_assert_eq(d->n, 0);
}

/* ---- valid files ------------------------------------------------------- */

static void check_tiny(const mb_dataset *d, const char *img)
{
  cr_assert_eq(d->n, 3);
  cr_assert_eq(d->c, 1);
  cr_assert_eq(d->h, 2);
  cr_assert_eq(d->w, 3);
  cr_assert_eq(d->n_classes, 3);
  for (int i = 0; i < 18; i++) cr_assert_eq(d->x[i], (float)PIX[i] / 255.0f, "pixel %d", i);
  for (int i = 0; i < 3; i++) cr_assert_eq(d->y[i], LAB[i]);
  cr_assert_eq(d->synthetic, 0);
  cr_assert_str_eq(d->source, img);
  unsigned char a[64], b[64];
  size_t na = good_images(a), nb = good_labels(b);
  uint64_t want = mb_fnv1a64(mb_fnv1a64(MB_FNV1A64_INIT, a, na), b, nb);
  cr_assert_eq(d->checksum, want, "checksum %016llx, want %016llx", (unsigned long long)d->checksum,
               (unsigned long long)want);
}

Test(data, idx_raw_round_trip)
{
  const char *img = at("img"), *lab = at("lab");
  write_pair(img, lab, 0);
  mb_dataset d;
  cr_assert_eq(mb_idx_load(img, lab, &d, err, sizeof err), 0, "%s", err);
  check_tiny(&d, img);
  mb_dataset_free(&d);
  expect_empty(&d);
}

Test(data, idx_gzip_round_trip)
{
#if MB_HAVE_ZLIB
  const char *img = at("img.gz"), *lab = at("lab.gz");
  write_pair(img, lab, 1);
  mb_dataset d;
  cr_assert_eq(mb_idx_load(img, lab, &d, err, sizeof err), 0, "%s", err);
  check_tiny(&d, img);
  mb_dataset_free(&d);
#else
  const unsigned char gz[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
  write_raw(at("img.gz"), gz, sizeof gz);
  write_pair(at("unused"), at("lab"), 0);
  mb_dataset d;
  expect_error(mb_idx_load(at("img.gz"), at("lab"), &d, err, sizeof err), "img.gz",
               "gzip file but built without zlib");
#endif
}

Test(data, label_255_gives_256_classes)
{
  unsigned char a[64], b[64];
  const unsigned char lab[3] = {255, 0, 3};
  write_raw(at("img"), a, good_images(a));
  write_raw(at("lab"), b, idx_bytes(b, 0x801, LAB_DIMS, 1, lab, 3));
  mb_dataset d;
  cr_assert_eq(mb_idx_load(at("img"), at("lab"), &d, err, sizeof err), 0, "%s", err);
  cr_assert_eq(d.n_classes, 256);
  mb_dataset_free(&d);
}

/* ---- hostile files ----------------------------------------------------- */

Test(data, truncated_images)
{
  unsigned char a[64], b[64];
  write_raw(at("img"), a, good_images(a) - 5);
  write_raw(at("lab"), b, good_labels(b));
  mb_dataset d;
  expect_error(mb_idx_load(at("img"), at("lab"), &d, err, sizeof err), at("img"),
               "truncated: expected 18 bytes of pixel data, found 13");
  expect_empty(&d);
}

Test(data, truncated_labels)
{
  unsigned char a[64], b[64];
  write_raw(at("img"), a, good_images(a));
  write_raw(at("lab"), b, good_labels(b) - 1);
  mb_dataset d;
  expect_error(mb_idx_load(at("img"), at("lab"), &d, err, sizeof err), at("lab"),
               "truncated: expected 3 bytes of label data, found 2");
}

Test(data, truncated_header)
{
  unsigned char a[64], b[64];
  good_images(a);
  write_raw(at("img"), a, 7);
  write_raw(at("lab"), b, good_labels(b));
  mb_dataset d;
  expect_error(mb_idx_load(at("img"), at("lab"), &d, err, sizeof err), at("img"),
               "truncated header: expected 16 bytes, found 7");
  write_raw(at("img"), a, 2);
  expect_error(mb_idx_load(at("img"), at("lab"), &d, err, sizeof err), at("img"),
               "truncated header: expected 16 bytes, found 2");
  write_raw(at("img"), a, 0);
  expect_error(mb_idx_load(at("img"), at("lab"), &d, err, sizeof err), at("img"),
               "truncated header: expected 16 bytes, found 0");
}

Test(data, wrong_magic)
{
  unsigned char a[64], b[64];
  size_t nb = good_labels(b);
  write_raw(at("lab"), b, nb);
  mb_dataset d;
  write_raw(at("img"), a, idx_bytes(a, 0x12345678, IMG_DIMS, 3, PIX, 18));
  expect_error(mb_idx_load(at("img"), at("lab"), &d, err, sizeof err), at("img"), "bad magic 0x12345678");
  write_raw(at("img"), a, idx_bytes(a, 0x0d03, IMG_DIMS, 3, PIX, 18));
  expect_error(mb_idx_load(at("img"), at("lab"), &d, err, sizeof err), at("img"),
               "unsupported IDX data type 0x0d");
  /* The two files swapped: a label file where images belong. */
  expect_error(mb_idx_load(at("lab"), at("lab"), &d, err, sizeof err), at("lab"), "wrong IDX rank");
}

/* With the address space capped, a reader that trusted the header's size
 * would fail to allocate and say "out of memory" instead of "truncated". */
static void cap_memory(void)
{
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define MB_TEST_SANITIZED 1   /* sanitizers reserve terabytes of shadow memory */
#endif
#endif
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(MB_TEST_SANITIZED)
  struct rlimit r = {(rlim_t)1 << 30, (rlim_t)1 << 30};
  setrlimit(RLIMIT_AS, &r);
#endif
}

Test(data, huge_dimensions_rejected)
{
  cap_memory();
  unsigned char a[64], b[64];
  write_raw(at("lab"), b, good_labels(b));
  mb_dataset d;
  const uint32_t count[3] = {(uint32_t)1 << 31, 28, 28};
  write_raw(at("img"), a, idx_bytes(a, 0x803, count, 3, PIX, 18));
  expect_error(mb_idx_load(at("img"), at("lab"), &d, err, sizeof err), at("img"),
               "sample count 2147483648 exceeds the limit");
  const uint32_t rows[3] = {3, 1u << 31, 3};
  write_raw(at("img"), a, idx_bytes(a, 0x803, rows, 3, PIX, 18));
  expect_error(mb_idx_load(at("img"), at("lab"), &d, err, sizeof err), at("img"),
               "image dimension 1 is 2147483648");
  const uint32_t zero[3] = {3, 0, 3};
  write_raw(at("img"), a, idx_bytes(a, 0x803, zero, 3, PIX, 18));
  expect_error(mb_idx_load(at("img"), at("lab"), &d, err, sizeof err), at("img"), "dimension 1 is 0");
  /* Within the limits but claiming 2 GiB of pixels: only what is there is read. */
  const uint32_t big[3] = {128, 4096, 4096};
  const uint32_t big_lab[1] = {128};
  unsigned char labs[128] = {0};
  write_raw(at("img"), a, idx_bytes(a, 0x803, big, 3, PIX, 18));
  unsigned char lb[256];
  write_raw(at("lab"), lb, idx_bytes(lb, 0x801, big_lab, 1, labs, 128));
  expect_error(mb_idx_load(at("img"), at("lab"), &d, err, sizeof err), at("img"),
               "truncated: expected 2147483648 bytes of pixel data, found 18");
}

Test(data, count_mismatch)
{
  unsigned char a[64], b[64];
  const uint32_t two[1] = {2};
  write_raw(at("img"), a, good_images(a));
  write_raw(at("lab"), b, idx_bytes(b, 0x801, two, 1, LAB, 2));
  mb_dataset d;
  expect_error(mb_idx_load(at("img"), at("lab"), &d, err, sizeof err), at("img"), "has 3 images");
  cr_assert_not_null(strstr(err, at("lab")), "%s", err);
  cr_assert_not_null(strstr(err, "has 2 labels"), "%s", err);
}

Test(data, label_out_of_range)
{
  unsigned char a[64], b[64];
  const unsigned char lab[3] = {9, 10, 0};
  write_raw(at("img"), a, good_images(a));
  write_raw(at("lab"), b, idx_bytes(b, 0x801, LAB_DIMS, 1, lab, 3));
  mb_dataset d;
  expect_error(mb_idx_load_limit(at("img"), at("lab"), 10, &d, err, sizeof err), at("lab"),
               "label 10 at index 1 is out of range (limit 10 classes)");
  expect_empty(&d);
  /* u8 labels never reach MB_IDX_MAX_CLASSES; the limit itself is checked. */
  expect_error(mb_idx_load_limit(at("img"), at("lab"), MB_IDX_MAX_CLASSES + 1, &d, err, sizeof err),
               NULL, "class limit 1001 outside 1..1000");
}

Test(data, trailing_bytes)
{
  unsigned char a[64], b[64];
  size_t na = good_images(a);
  memcpy(a + na, "xyz", 3);
  write_raw(at("img"), a, na + 3);
  write_raw(at("lab"), b, good_labels(b));
  mb_dataset d;
  expect_error(mb_idx_load(at("img"), at("lab"), &d, err, sizeof err), at("img"),
               "trailing data: 3 extra bytes after the expected 34");
#if MB_HAVE_ZLIB
  write_gz(at("img.gz"), a, na + 3);
  expect_error(mb_idx_load(at("img.gz"), at("lab"), &d, err, sizeof err), at("img.gz"),
               "trailing data: 3 extra bytes");
#endif
}

Test(data, corrupt_gzip)
{
#if MB_HAVE_ZLIB
  unsigned char a[64], b[64], z[256];
  write_raw(at("lab"), b, good_labels(b));
  write_gz(at("good.gz"), a, good_images(a));
  size_t nz = read_all(at("good.gz"), z, sizeof z);
  cr_assert_gt(nz, 20);
  mb_dataset d;
  /* Cut off mid-stream. */
  write_raw(at("cut.gz"), z, nz / 2);
  expect_error(mb_idx_load(at("cut.gz"), at("lab"), &d, err, sizeof err), at("cut.gz"), "corrupt gzip");
  /* Damaged deflate data or checksum. */
  for (size_t i = 10; i < nz; i++) {
    unsigned char bad[256];
    memcpy(bad, z, nz);
    bad[i] ^= 0x55;
    write_raw(at("bad.gz"), bad, nz);
    int rc = mb_idx_load(at("bad.gz"), at("lab"), &d, err, sizeof err);
    if (i >= nz - 8) expect_error(rc, at("bad.gz"), "corrupt gzip");  /* CRC32 / ISIZE */
    else if (rc == 0) mb_dataset_free(&d);  /* deflate can survive a flip; the CRC then catches it */
    else cr_assert_null(strchr(err, '\n'));
  }
  /* Gzip magic followed by garbage. */
  const unsigned char junk[] = {0x1f, 0x8b, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42};
  write_raw(at("junk.gz"), junk, sizeof junk);
  expect_error(mb_idx_load(at("junk.gz"), at("lab"), &d, err, sizeof err), at("junk.gz"), "corrupt gzip");
#else
  cr_skip_test("built without zlib");
#endif
}

Test(data, missing_file)
{
  write_pair(at("img"), at("lab"), 0);
  mb_dataset d;
  expect_error(mb_idx_load(at("nope"), at("lab"), &d, err, sizeof err), at("nope"),
               "cannot open: No such file or directory");
  expect_error(mb_idx_load(at("img"), at("nope"), &d, err, sizeof err), at("nope"), "cannot open");
  expect_empty(&d);
}

/* Mutated valid files: any outcome but a crash, and errors stay one line. */
Test(data, mutations_never_crash)
{
  unsigned char a[64], b[64], m[64];
  size_t na = good_images(a);
  write_raw(at("lab"), b, good_labels(b));
  uint64_t s = 12345;
  for (int iter = 0; iter < 600; iter++) {
    memcpy(m, a, na);
    size_t len = na;
    for (int k = 0; k < 3; k++) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      m[(s >> 33) % na] = (unsigned char)(s >> 20);
    }
    if (iter % 3 == 0) len = (s >> 40) % (na + 1);
    write_raw(at("img"), m, len);
    mb_dataset d;
    if (mb_idx_load(at("img"), at("lab"), &d, err, sizeof err) == 0) {
      cr_assert_eq((size_t)d.n * d.c * d.h * d.w, (size_t)18);
      mb_dataset_free(&d);
    } else {
      cr_assert_null(strchr(err, '\n'));
      cr_assert_not_null(strstr(err, at("img")), "%s", err);
    }
  }
}

/* ---- directories ------------------------------------------------------- */

Test(data, load_dir_with_mirror_names)
{
  char dir[128];
  snprintf(dir, sizeof dir, "%s/tiny-set", tmp_dir);
  cr_assert_eq(mkdir(dir, 0700), 0);
  char p[4][200];
  snprintf(p[0], sizeof p[0], "%s/train-images.idx3-ubyte", dir);
  snprintf(p[1], sizeof p[1], "%s/train-labels-idx1-ubyte", dir);
#if MB_HAVE_ZLIB
  snprintf(p[2], sizeof p[2], "%s/t10k-images-idx3-ubyte.gz", dir);
  snprintf(p[3], sizeof p[3], "%s/t10k-labels.idx1-ubyte.gz", dir);
#else
  snprintf(p[2], sizeof p[2], "%s/t10k-images-idx3-ubyte", dir);
  snprintf(p[3], sizeof p[3], "%s/t10k-labels.idx1-ubyte", dir);
#endif
  write_pair(p[0], p[1], 0);
  write_pair(p[2], p[3], 1);
  mb_dataset tr, te;
  strcat(dir, "/");  /* a trailing slash does not change the name */
  cr_assert_eq(mb_data_load_dir(dir, &tr, &te, err, sizeof err), 0, "%s", err);
  cr_assert_str_eq(tr.name, "tiny-set");
  cr_assert_str_eq(te.name, "tiny-set");
  check_tiny(&tr, p[0]);
  check_tiny(&te, p[2]);
  mb_dataset_free(&tr);
  mb_dataset_free(&te);
  remove(p[3]);
  expect_error(mb_data_load_dir(dir, &tr, &te, err, sizeof err), dir, "no t10k-labels-idx1-ubyte");
  expect_empty(&tr);
  expect_empty(&te);
}

/* ---- subsets ----------------------------------------------------------- */

Test(data, subsets)
{
  mb_dataset tr, te, h, pc;
  mb_data_synthetic(3, 200, 10, &tr, &te);
  cr_assert_eq(mb_dataset_head(&tr, 7, &h), 0);
  cr_assert_eq(h.n, 7);
  cr_assert_eq(memcmp(h.x, tr.x, 7 * 784 * sizeof(float)), 0);
  cr_assert_eq(memcmp(h.y, tr.y, 7 * sizeof(int32_t)), 0);
  cr_assert_eq(mb_dataset_head(&tr, 201, &pc), -1);
  cr_assert_eq(mb_dataset_head_per_class(&tr, 5, &pc), 0);
  cr_assert_eq(pc.n, 50);
  int counts[10];
  mb_dataset_class_counts(&pc, counts);
  for (int k = 0; k < 10; k++) cr_assert_eq(counts[k], 5);
  /* In data set order: the first kept sample is the first sample. */
  cr_assert_eq(pc.y[0], tr.y[0]);
  cr_assert_eq(memcmp(pc.x, tr.x, 784 * sizeof(float)), 0);
  mb_dataset_free(&h);
  mb_dataset_free(&pc);
  mb_dataset_free(&tr);
  mb_dataset_free(&te);
}

/* ---- synthetic --------------------------------------------------------- */

Test(data, synthetic_deterministic)
{
  mb_dataset a, at_, b, bt, c, ct, d, dt;
  mb_data_synthetic(7, 500, 100, &a, &at_);
  mb_data_synthetic(7, 500, 100, &b, &bt);
  mb_data_synthetic(8, 500, 100, &c, &ct);
  mb_data_synthetic(7, 300, 100, &d, &dt);
  cr_assert_eq(a.checksum, b.checksum);
  cr_assert_eq(at_.checksum, bt.checksum);
  cr_assert_eq(memcmp(a.x, b.x, (size_t)500 * 784 * sizeof(float)), 0);
  cr_assert_eq(memcmp(a.y, b.y, 500 * sizeof(int32_t)), 0);
  cr_assert_neq(a.checksum, c.checksum);
  cr_assert_neq(at_.checksum, ct.checksum);
  cr_assert_neq(a.checksum, at_.checksum);
  cr_assert_eq(at_.checksum, dt.checksum, "test set must not depend on n_train");
  cr_assert_eq(a.checksum, mb_dataset_hash_floats(MB_FNV1A64_INIT, a.x, (size_t)500 * 784));
  mb_dataset *all[] = {&a, &at_, &b, &bt, &c, &ct, &d, &dt};
  for (int i = 0; i < 8; i++) mb_dataset_free(all[i]);
}

Test(data, synthetic_shape_and_values)
{
  mb_dataset tr, te;
  mb_data_synthetic(1, 1003, 20, &tr, &te);
  cr_assert_eq(tr.n, 1003);
  cr_assert_eq(te.n, 20);
  cr_assert(tr.c == 1 && tr.h == 28 && tr.w == 28 && tr.n_classes == 10);
  cr_assert_str_eq(tr.name, "synthetic");
  cr_assert_eq(tr.synthetic, 1);
  int counts[10];
  mb_dataset_class_counts(&tr, counts);
  for (int k = 0; k < 10; k++) cr_assert(counts[k] == 100 || counts[k] == 101, "class %d: %d", k, counts[k]);
  /* Shuffled: not simply i mod 10. */
  int in_order = 0;
  for (int i = 0; i < tr.n; i++) in_order += tr.y[i] == i % 10;
  cr_assert_lt(in_order, tr.n / 2);
  /* Values are 8-bit pixels / 255, so the devices can store them as bytes. */
  double mean = 0.0;
  for (size_t i = 0; i < (size_t)tr.n * 784; i++) {
    float v = tr.x[i];
    cr_assert(v >= 0.0f && v <= 1.0f);
    long q = lrintf(v * 255.0f);
    cr_assert_eq(v, (float)q / 255.0f, "x[%zu] = %.9g is not a byte / 255", i, v);
    mean += v;
  }
  mean /= (double)tr.n * 784;
  cr_assert(mean > 0.05 && mean < 0.5, "mean pixel %.3f", mean);
  mb_dataset_free(&tr);
  mb_dataset_free(&te);
}

/* ---- the real data set ------------------------------------------------- */

Test(data, fashion_mnist_if_installed, .timeout = 120)
{
  const char *dir = mb_data_default_dir();
  if (!dir) cr_skip_test("/usr/share/datasets/fashion-mnist is not installed");
  mb_dataset tr, te;
  int rc = mb_data_load_dir(dir, &tr, &te, err, sizeof err);
  if (rc && !MB_HAVE_ZLIB && strstr(err, "without zlib")) cr_skip_test("%s", err);
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert_str_eq(tr.name, "fashion-mnist");
  cr_assert_eq(tr.n, 60000);
  cr_assert_eq(te.n, 10000);
  cr_assert(tr.c == 1 && tr.h == 28 && tr.w == 28);
  cr_assert(te.c == 1 && te.h == 28 && te.w == 28);
  cr_assert_eq(tr.n_classes, 10);
  cr_assert_eq(te.n_classes, 10);
  int counts[10];
  mb_dataset_class_counts(&tr, counts);
  for (int k = 0; k < 10; k++) cr_assert_eq(counts[k], 6000);
  mb_dataset_class_counts(&te, counts);
  for (int k = 0; k < 10; k++) cr_assert_eq(counts[k], 1000);
  /* FNV-1a 64 of the published files' decompressed bytes. */
  cr_assert_eq(tr.checksum, 0xfb08d0e5d3c88590ull, "train checksum %016llx", (unsigned long long)tr.checksum);
  cr_assert_eq(te.checksum, 0x7fcf19f9567e8d65ull, "test checksum %016llx", (unsigned long long)te.checksum);
  mb_dataset_free(&tr);
  mb_dataset_free(&te);
}
