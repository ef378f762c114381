/* Index lists over the training set, built on the host from its labels. */
#include "baselines/subsets.h"
#include "core/eval.h"
#include "philox.h"

#include <stdlib.h>

static int32_t *alloc_idx(mb_backend *be, size_t n)
{
  int32_t *p = malloc(sizeof(int32_t) * (n ? n : 1));
  if (!p) mb_fail(be, MB_OOM, "out of memory for an index list of %zu samples", n);
  return p;
}

int bl_select(mb_backend *be, const mb_devdata *dd, const int *set, int n_set, int in_set,
              int32_t **out)
{
  *out = alloc_idx(be, (size_t)dd->n);
  if (!*out) return -1;
  int k = 0;
  for (int i = 0; i < dd->n; i++)
    if (mb_class_in(set, n_set, dd->host->y[i]) == in_set) (*out)[k++] = i;
  return k;
}

int bl_first_per_class(mb_backend *be, const mb_devdata *dd, const int *set, int n_set,
                       int per_class, int32_t **out)
{
  *out = alloc_idx(be, (size_t)dd->n);
  if (!*out) return -1;
  int k = 0;
  for (int c = 0; c < dd->n_classes; c++) {
    if (mb_class_in(set, n_set, c)) continue;
    int taken = 0;
    for (int i = 0; i < dd->n && taken < per_class; i++)
      if (dd->host->y[i] == c) { (*out)[k++] = i; taken++; }
  }
  return k;
}

/* r uniform in [0, n) from a 32-bit word (multiply-shift, as training's shuffle). */
static int below(uint32_t r, int n) { return (int)((uint64_t)r * (uint64_t)n >> 32); }

int bl_sample_class(mb_backend *be, const mb_devdata *dd, int c, int n, uint64_t seed,
                    uint64_t stream, int32_t **out)
{
  int one = c, total;
  total = bl_select(be, dd, &one, 1, 1, out);
  if (total < 0) return -1;
  int take = n <= 0 || n > total ? total : n;
  /* partial Fisher–Yates: position i swaps with a uniform pick from [i, total) */
  for (int i = 0; i < take; i++) {
    int j = i + below(mb_philox_u32(seed, stream, (uint64_t)i), total - i);
    int32_t t = (*out)[i]; (*out)[i] = (*out)[j]; (*out)[j] = t;
  }
  return take;
}

void bl_shuffle(int32_t *a, int n, uint64_t seed, uint64_t stream)
{
  for (int i = n - 1; i > 0; i--) {
    int j = below(mb_philox_u32(seed, stream, (uint64_t)i), i + 1);
    int32_t t = a[i]; a[i] = a[j]; a[j] = t;
  }
}

void bl_labels_of(const mb_devdata *dd, const int32_t *idx, int n, int32_t *out)
{
  for (int i = 0; i < n; i++) out[i] = dd->host->y[idx[i]];
}
