/* A synthetic stand-in for Fashion-MNIST when the real files are absent.
 *
 * Each class is three smooth Gaussian blobs placed on one line of a 3×3 grid
 * (the 12 lines of the affine plane over Z3, so two classes share at most one
 * blob position: partly overlapping, never identical, equally hard for every
 * seed).  Blob sizes, elongation and peak are random per class.  A sample is
 * its class prototype with per-blob intensity jitter, shifted by up to ±2 px,
 * scaled in brightness, plus uniform noise, clamped and quantised to multiples
 * of 1/255 like real 8-bit images.
 * Every draw is Philox (seed, stream, index), so the data depends only on the
 * seed; train and test use separate streams, so the test set does not change
 * with n_train.
 */
#include "core/dataset.h"
#include "philox.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIDE 28
#define PIX (SIDE * SIDE)
#define CLASSES 10
#define LINES 12         /* lines of the 3×3 grid (rows, columns, two diagonal families) */
#define BLOBS 3          /* per class: the three grid points of its line */
#define GRID0 8.0f       /* grid point coordinates: GRID0 + GRID_STEP·{0,1,2} */
#define GRID_STEP 6.0f
#define PLACE_JITTER 1.0f  /* ± px around a grid point, per class */
#define SHIFT 2          /* max translation per sample in px */
#define PAD (SIDE + 2 * SHIFT)
#define NOISE 0.15f      /* uniform noise amplitude */
#define BRIGHT_LO 0.85f  /* brightness scale range */
#define BRIGHT_HI 1.0f
#define JITTER_LO 0.6f   /* per-blob intensity range */
#define JITTER_HI 1.2f
#define SIGMA_LO 2.0f    /* blob radius range in px (per axis) */
#define SIGMA_HI 3.5f
#define AMP_LO 0.8f      /* blob peak range, up to 1 */

/* Streams far above core/streams.h's ids, so a data seed equal to a run seed
 * still gives independent numbers. */
#define STREAM_DATA ((uint64_t)1 << 40)
enum { S_BLOBS, S_TRAIN, S_TEST, S_TRAIN_ORDER, S_TEST_ORDER, S_LINES };

/* Per sample: 2 control blocks (shift, brightness, jitter), then the noise. */
#define CTRL_BLOCKS 2
#define NOISE_BLOCKS (PIX / 4)
#define SAMPLE_BLOCKS (CTRL_BLOCKS + NOISE_BLOCKS)

typedef struct {
  float img[BLOBS][PAD * PAD];   /* each blob rendered on the padded canvas */
} class_proto;

static float unit(uint64_t seed, uint64_t stream, uint64_t i)
{
  return mb_u32_to_unit(mb_philox_u32(seed, STREAM_DATA + stream, i));
}

/* Grid point t (0..2) of line l: y = c, x = c, y = x + c, y = 2x + c (mod 3). */
static void line_point(int l, int t, int *gx, int *gy)
{
  int c = l % 3;
  switch (l / 3) {
  case 0: *gx = t; *gy = c; break;
  case 1: *gx = c; *gy = t; break;
  case 2: *gx = t; *gy = (t + c) % 3; break;
  default: *gx = t; *gy = (2 * t + c) % 3; break;
  }
}

/* Blob b of class k: an axis-aligned Gaussian near grid point (gx, gy). */
static void render_blob(uint64_t seed, int k, int b, int gx, int gy, float *img)
{
  uint64_t i = ((uint64_t)k * BLOBS + (uint64_t)b) * 8;
  float cx = GRID0 + GRID_STEP * (float)gx + PLACE_JITTER * (2.0f * unit(seed, S_BLOBS, i) - 1.0f);
  float cy = GRID0 + GRID_STEP * (float)gy + PLACE_JITTER * (2.0f * unit(seed, S_BLOBS, i + 1) - 1.0f);
  float sx = SIGMA_LO + (SIGMA_HI - SIGMA_LO) * unit(seed, S_BLOBS, i + 2);
  float sy = SIGMA_LO + (SIGMA_HI - SIGMA_LO) * unit(seed, S_BLOBS, i + 3);
  float amp = AMP_LO + (1.0f - AMP_LO) * unit(seed, S_BLOBS, i + 4);
  for (int y = 0; y < PAD; y++)
    for (int x = 0; x < PAD; x++) {
      float dx = ((float)(x - SHIFT) - cx) / sx, dy = ((float)(y - SHIFT) - cy) / sy;
      img[y * PAD + x] = amp * expf(-0.5f * (dx * dx + dy * dy));
    }
}

/* Classes take 10 of the 12 lines in a seeded order. */
static void make_protos(uint64_t seed, class_proto *p)
{
  int line[LINES];
  for (int l = 0; l < LINES; l++) line[l] = l;
  for (int l = LINES - 1; l > 0; l--) {
    int j = (int)(((uint64_t)mb_philox_u32(seed, STREAM_DATA + S_LINES, (uint64_t)l) * (uint64_t)(l + 1)) >> 32);
    int t = line[l];
    line[l] = line[j];
    line[j] = t;
  }
  for (int k = 0; k < CLASSES; k++) {
    for (int b = 0; b < BLOBS; b++) {
      int gx, gy;
      line_point(line[k], b, &gx, &gy);
      render_blob(seed, k, b, gx, gy, p[k].img[b]);
    }
    /* Peak of the plain prototype = 1, so brightness means the same per class. */
    float peak = 0.0f;
    for (int i = 0; i < PAD * PAD; i++) {
      float v = 0.0f;
      for (int b = 0; b < BLOBS; b++) v += p[k].img[b][i];
      peak = v > peak ? v : peak;
    }
    for (int b = 0; b < BLOBS; b++)
      for (int i = 0; i < PAD * PAD; i++) p[k].img[b][i] /= peak;
  }
}

/* Sample i of a stream: prototype of class k, jittered, shifted, noised. */
static void render_sample(uint64_t seed, uint64_t stream, uint64_t i, const class_proto *p,
                          float *out)
{
  uint32_t c[4 * CTRL_BLOCKS];
  uint64_t base = i * SAMPLE_BLOCKS;
  for (int b = 0; b < CTRL_BLOCKS; b++) mb_philox_block(seed, STREAM_DATA + stream, base + b, c + 4 * b);
  /* Window offset into the padded canvas; SHIFT means no translation. */
  int ox = (int)(c[0] % (2 * SHIFT + 1)), oy = (int)(c[1] % (2 * SHIFT + 1));
  float bright = BRIGHT_LO + (BRIGHT_HI - BRIGHT_LO) * mb_u32_to_unit(c[2]);
  float jit[BLOBS];
  for (int s = 0; s < BLOBS; s++)
    jit[s] = bright * (JITTER_LO + (JITTER_HI - JITTER_LO) * mb_u32_to_unit(c[3 + s]));
  for (int q = 0; q < NOISE_BLOCKS; q++) {
    uint32_t w[4];
    mb_philox_block(seed, STREAM_DATA + stream, base + CTRL_BLOCKS + q, w);
    for (int j = 0; j < 4; j++) {
      int pix = 4 * q + j, y = pix / SIDE, x = pix % SIDE;
      int at = (y + oy) * PAD + x + ox;
      float v = NOISE * (2.0f * mb_u32_to_unit(w[j]) - 1.0f);
      for (int s = 0; s < BLOBS; s++) v += jit[s] * p->img[s][at];
      v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
      out[pix] = (float)(int)(v * 255.0f + 0.5f) / 255.0f;  /* v >= 0: rounds half up */
    }
  }
}

/* Balanced labels (i mod CLASSES), then a Fisher–Yates shuffle. */
static void make_labels(uint64_t seed, uint64_t stream, int n, int32_t *y)
{
  for (int i = 0; i < n; i++) y[i] = i % CLASSES;
  for (int i = n - 1; i > 0; i--) {
    uint32_t r = mb_philox_u32(seed, STREAM_DATA + stream, (uint64_t)i);
    int j = (int)(((uint64_t)r * (uint64_t)(i + 1)) >> 32);
    int32_t t = y[i];
    y[i] = y[j];
    y[j] = t;
  }
}

static void make_set(uint64_t seed, int n, uint64_t stream, uint64_t order, const class_proto *p,
                     mb_dataset *d)
{
  memset(d, 0, sizeof *d);
  if (n <= 0) n = 0;
  d->x = malloc((n ? (size_t)n : 1) * PIX * sizeof *d->x);
  d->y = malloc((n ? (size_t)n : 1) * sizeof *d->y);
  if (!d->x || !d->y) {
    mb_dataset_free(d);
    return;
  }
  make_labels(seed, order, n, d->y);
  for (int i = 0; i < n; i++) render_sample(seed, stream, (uint64_t)i, &p[d->y[i]], d->x + (size_t)i * PIX);
  d->n = n;
  d->c = 1;
  d->h = d->w = SIDE;
  d->n_classes = CLASSES;
  d->synthetic = 1;
  snprintf(d->name, sizeof d->name, "synthetic");
  snprintf(d->source, sizeof d->source, "synthetic blobs, seed %llu, %s", (unsigned long long)seed,
           stream == S_TRAIN ? "train" : "test");
  d->checksum = mb_dataset_hash_floats(MB_FNV1A64_INIT, d->x, (size_t)n * PIX);
}

void mb_data_synthetic(uint64_t seed, int n_train, int n_test, mb_dataset *train, mb_dataset *test)
{
  memset(train, 0, sizeof *train);
  memset(test, 0, sizeof *test);
  class_proto *p = malloc(CLASSES * sizeof *p);
  if (!p) return;
  make_protos(seed, p);
  make_set(seed, n_train, S_TRAIN, S_TRAIN_ORDER, p, train);
  make_set(seed, n_test, S_TEST, S_TEST_ORDER, p, test);
  free(p);
  if (!train->x || !test->x) {
    mb_dataset_free(train);
    mb_dataset_free(test);
  }
}
