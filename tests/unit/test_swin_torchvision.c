/* Swin-T against torchvision itself: a small Swin Transformer of torchvision's own class
 * (tests/fixtures/swin-small*.weights, made by tools/torchvision_reference.py: patch 4,
 * window 7, embed 8, depths 2-2-2-2, heads 1-2-2-4, 5 classes, seeded weights) loaded by
 * tensor name into core/swin.c's table, then on every backend here:
 *  - logits of 3 images at 32×32 (8×8 tokens padded to 14×14, shifted windows) and of
 *    2 images at 56×56 (four windows, a 7×7 stage that patch merging pads);
 *  - the gradient of their mean cross-entropy, tensor by tensor;
 *  - the per-image squared gradients summed over the images (the FIM sum, §2.1).
 * Both sides compute in f32 with different summation orders, so a tensor agrees when
 * its largest difference is within 1e-4 of its largest value (the log says what it was); a wrong
 * index, mask, order or transpose gives differences of the order of the values.
 * The fixture directory comes from MB_FIXTURE_DIR (tests/meson.build). */
#include "core/swin.h"
#include "mb/registry.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the weights container (tools/export_state_dict.py), f32 entries only ---- */

typedef struct {
  char name[96];
  size_t n;
  const float *v;
} entry;

typedef struct {
  unsigned char *data;
  entry *e;
  int n;
} container;

static void container_load(const char *file, container *c)
{
  char path[1024];
  const char *dir = getenv("MB_FIXTURE_DIR");
  cr_assert(dir, "MB_FIXTURE_DIR is not set");
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen(path, "rb");
  cr_assert(f, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  c->data = malloc((size_t)size + 1);
  cr_assert(c->data && fread(c->data, 1, (size_t)size, f) == (size_t)size, "cannot read %s", path);
  fclose(f);
  c->data[size] = 0;
  char *end = strstr((char *)c->data, "\nend\n");
  cr_assert(end && !strncmp((char *)c->data, "mnemobench-weights 1\n", 21), "%s: not a container", path);
  const unsigned char *body = (unsigned char *)end + 5;
  c->e = calloc(1024, sizeof *c->e);
  c->n = 0;
  char *line = (char *)c->data + 21;
  while (line < end + 1) {
    char *nl = strchr(line, '\n');
    *nl = 0;
    char name[96], dtype[8], shape[64];
    long off;
    cr_assert(sscanf(line, "%95s %7s %63s %ld", name, dtype, shape, &off) == 4, "bad line %s", line);
    size_t n = 1;   /* "D0,D1,...", or "-" for a scalar */
    for (char *s = shape, *next; strcmp(shape, "-") && *s; s = *next ? next + 1 : next)
      n *= (size_t)strtoul(s, &next, 10);
    cr_assert(c->n < 1024 && !strcmp(dtype, "f32"));
    entry *e = &c->e[c->n++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->n = n;
    e->v = (const float *)(body + off);   /* little-endian f32, 4-aligned by construction */
    cr_assert((const unsigned char *)(e->v + n) <= c->data + size, "%s runs past the file", name);
    line = nl + 1;
  }
}

static const entry *find(const container *c, const char *name)
{
  for (int i = 0; i < c->n; i++)
    if (!strcmp(c->e[i].name, name)) return &c->e[i];
  cr_assert_fail("fixture has no tensor %s", name);
  return NULL;
}

static void container_free(container *c)
{
  free(c->e);
  free(c->data);
}

/* ---- the comparison ---- */

static double g_worst;   /* largest |difference| / largest |value| of a tensor so far */

static void check_close(const char *what, const char *bk, const float *got, const float *want,
                        size_t n)
{
  double scale = 0.0, diff = 0.0;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    cr_assert(isfinite(got[i]), "%s on %s: element %zu is %g", what, bk, i, (double)got[i]);
    if (fabs((double)want[i]) > scale) scale = fabs((double)want[i]);
    double d = fabs((double)got[i] - (double)want[i]);
    if (d > diff) { diff = d; at = i; }
  }
  if (scale > 0 && diff / scale > g_worst) g_worst = diff / scale;
  cr_assert(diff <= 1e-4 * scale, "%s on %s: element %zu is %.9g, torchvision %.9g (largest |value| %g)",
            what, bk, at, (double)got[at], (double)want[at], scale);
}

static void small_config(mb_swin_config *cfg, int size)
{
  memset(cfg, 0, sizeof *cfg);
  *cfg = (mb_swin_config){.in_c = 3, .in_h = size, .in_w = size, .classes = 5, .patch = 4,
                          .window = 7, .embed = 8, .depths = {2, 2, 2, 2}, .heads = {1, 2, 2, 4},
                          .mlp_ratio = 4};
}

static void load_weights(mb_swin *s, const container *w)
{
  float *host = malloc(s->pt.total * sizeof *host);
  cr_assert(host);
  cr_assert_eq(w->n, s->pt.n, "fixture has %d tensors, the table %d", w->n, s->pt.n);
  for (int i = 0; i < s->pt.n; i++) {
    const mb_sw_tensor *t = &s->pt.t[i];
    const entry *e = &w->e[i];   /* same order as named_parameters() */
    cr_assert_str_eq(e->name, t->name, "tensor %d", i);
    cr_assert_eq(e->n, t->n, "%s: %zu values, the table %zu", t->name, e->n, t->n);
    memcpy(host + t->off, e->v, t->n * sizeof *host);
  }
  mb_upload(s->be, s->w, host, s->pt.total);
  free(host);
}

static void run_backend(const char *name)
{
  char why[512];
  mb_backend *be = mb_backend_open(name, 0, why, sizeof why);
  if (!be) cr_skip_test("%s: %s", name, why);
  g_worst = 0;
  container w, ref;
  container_load("swin-small.weights", &w);
  container_load("swin-small-ref.weights", &ref);

  for (int size = 32; size <= 56; size += 24) {
    mb_swin_config cfg;
    small_config(&cfg, size);
    const int batch = size == 32 ? 3 : 2;
    mb_swin *s = calloc(1, sizeof *s);
    cr_assert_eq(mb_swin_create(be, &cfg, batch, s), 0, "%s: %s", name, mb_error(be));
    load_weights(s, &w);
    char key[32];
    snprintf(key, sizeof key, "input.%d", size);
    const entry *x = find(&ref, key);
    cr_assert_eq(x->n, (size_t)batch * 3 * size * size);
    mb_upload(be, s->in, x->v, x->n);
    mb_view logits = mb_swin_forward(s, mb_none(), mb_none(), batch);
    float got[15];
    mb_download(be, got, logits, (size_t)batch * 5);
    cr_assert(mb_ok(be), "%s: %s", name, mb_error(be));
    snprintf(key, sizeof key, "logits.%d", size);
    check_close(key, name, got, find(&ref, key)->v, (size_t)batch * 5);

    if (size == 32) {
      /* mean cross-entropy gradient, then the per-image squares of a second backward */
      const entry *lab = find(&ref, "labels.32");
      int32_t labels[3];
      for (int i = 0; i < 3; i++) labels[i] = (int32_t)lab->v[i];
      mb_view lv = mb_new(be, 3), acc = mb_new(be, s->pt.total);
      mb_upload(be, lv, labels, 3);
      mb_swin_xent(s, lv, batch, 1.0f / 3.0f, mb_none());
      mb_swin_backward(s, batch, NULL);
      float *host = malloc(s->pt.total * sizeof *host);
      mb_download(be, host, s->g, s->pt.total);
      cr_assert(mb_ok(be), "%s: %s", name, mb_error(be));
      char what[128];
      for (int i = 0; i < s->pt.n; i++) {
        const mb_sw_tensor *t = &s->pt.t[i];
        snprintf(what, sizeof what, "grad.%s", t->name);
        check_close(what, name, host + t->off, find(&ref, what)->v, t->n);
      }
      /* per-sample gradients need the loss of each image on its own: scale 1 */
      mb_fill(be, acc, s->pt.total, 0.0f);
      mb_swin_forward(s, mb_none(), mb_none(), batch);
      mb_swin_xent(s, lv, batch, 1.0f, mb_none());
      const mb_sw_sq_target tg = {.r0 = 0, .r1 = batch, .acc = acc};
      const mb_sw_bwd_opts o = {.n_sq = 1, .sq = &tg};
      mb_swin_backward(s, batch, &o);
      mb_download(be, host, acc, s->pt.total);
      cr_assert(mb_ok(be), "%s: %s", name, mb_error(be));
      for (int i = 0; i < s->pt.n; i++) {
        const mb_sw_tensor *t = &s->pt.t[i];
        snprintf(what, sizeof what, "sq.%s", t->name);
        check_close(what, name, host + t->off, find(&ref, what)->v, t->n);
      }
      free(host);
      mb_release(be, lv);
      mb_release(be, acc);
    }
    mb_swin_destroy(s);
    free(s);
  }
  cr_log_info("%s: worst difference %.2g of a tensor's largest value (logits, gradients, squares)",
              name, g_worst);
  container_free(&w);
  container_free(&ref);
  mb_backend_close(be);
}

Test(swin_torchvision, ref) { run_backend("ref"); }
Test(swin_torchvision, cpu) { run_backend("cpu"); }
Test(swin_torchvision, opencl) { run_backend("opencl"); }
Test(swin_torchvision, vulkan) { run_backend("vulkan"); }
Test(swin_torchvision, cuda) { run_backend("cuda"); }
