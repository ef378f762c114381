/* A synthetic stand-in for Fashion-MNIST when the real files are absent.
 *
 * Each class has a prototype made of a few smooth Gaussian blobs.  Classes
 * share half their blobs with a neighbouring class, so they are learnable but
 * not trivially separable; a sample is its prototype with per-blob intensity
 * jitter, shifted by up to ±2 px, scaled in brightness, plus uniform noise,
 * clamped and quantised to multiples of 1/255 like real 8-bit images.
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
#define BLOBS 4          /* per class; the first SHARED come from the neighbour */
#define SHARED 2
#define SHIFT 2          /* max translation in px */
#define PAD (SIDE + 2 * SHIFT)
#define NOISE 0.25f      /* uniform noise amplitude */
#define BRIGHT_LO 0.7f   /* brightness scale range */
#define BRIGHT_HI 1.0f
#define JITTER_LO 0.7f   /* per-blob intensity range */
#define JITTER_HI 1.2f

/* Streams far above core/streams.h's ids, so a data seed equal to a run seed
 * still gives independent numbers. */
#define STREAM_DATA ((uint64_t)1 << 40)
enum { S_BLOBS, S_TRAIN, S_TEST, S_TRAIN_ORDER, S_TEST_ORDER };

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

/* Blob b of the pool: an axis-aligned Gaussian inside the central 16×16. */
static void render_blob(uint64_t seed, int b, float *img)
{
  uint64_t i = (uint64_t)b * 8;
  float cx = 6.0f + 16.0f * unit(seed, S_BLOBS, i);
  float cy = 6.0f + 16.0f * unit(seed, S_BLOBS, i + 1);
  float sx = 1.2f + 2.8f * unit(seed, S_BLOBS, i + 2);
  float sy = 1.2f + 2.8f * unit(seed, S_BLOBS, i + 3);
  float amp = 0.5f + 0.5f * unit(seed, S_BLOBS, i + 4);
  for (int y = 0; y < PAD; y++)
    for (int x = 0; x < PAD; x++) {
      float dx = ((float)(x - SHIFT) - cx) / sx, dy = ((float)(y - SHIFT) - cy) / sy;
      img[y * PAD + x] = amp * expf(-0.5f * (dx * dx + dy * dy));
    }
}

/* Class k uses pool blobs: the neighbour's own blobs as its shared part, and
 * its own ones (pool index CLASSES·s + k) for the rest. */
static void make_protos(uint64_t seed, class_proto *p)
{
  for (int k = 0; k < CLASSES; k++) {
    for (int s = 0; s < BLOBS; s++) {
      int owner = s < SHARED ? (k + 1) % CLASSES : k;
      int slot = s < SHARED ? s + SHARED : s;
      render_blob(seed, slot * CLASSES + owner, p[k].img[s]);
    }
    /* Peak of the plain prototype = 1, so brightness means the same per class. */
    float peak = 0.0f;
    for (int i = 0; i < PAD * PAD; i++) {
      float v = 0.0f;
      for (int s = 0; s < BLOBS; s++) v += p[k].img[s][i];
      peak = v > peak ? v : peak;
    }
    for (int s = 0; s < BLOBS; s++)
      for (int i = 0; i < PAD * PAD; i++) p[k].img[s][i] /= peak;
  }
}

/* Sample i of a stream: prototype of class k, jittered, shifted, noised. */
static void render_sample(uint64_t seed, uint64_t stream, uint64_t i, const class_proto *p,
                          float *out)
{
  uint32_t c[4 * CTRL_BLOCKS];
  uint64_t base = i * SAMPLE_BLOCKS;
  for (int b = 0; b < CTRL_BLOCKS; b++) mb_philox_block(seed, STREAM_DATA + stream, base + b, c + 4 * b);
  int ox = (int)(c[0] % (2 * SHIFT + 1)), oy = (int)(c[1] % (2 * SHIFT + 1));  /* SHIFT = none */
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
