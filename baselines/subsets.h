/* Host-side index lists over the training set (labels in dd->host->y) that the
 * baselines build once per run and upload, so batches are gathered on the
 * device from index slices. */
#ifndef BL_SUBSETS_H
#define BL_SUBSETS_H

#include "core/devdata.h"

#include <stdint.h>

/* Samples whose label is in (in_set = 1) or not in (0) the class set, in data
 * set order.  Returns the count and a malloc'd array in *out (NULL and -1 with
 * a sticky MB_OOM on the backend when memory runs out). */
int bl_select(mb_backend *be, const mb_devdata *dd, const int *set, int n_set, int in_set,
              int32_t **out);

/* The first `per_class` samples (data set order) of every class not in the
 * set, class by class in increasing class order (all of a class when it has
 * fewer).  Same return convention. */
int bl_first_per_class(mb_backend *be, const mb_devdata *dd, const int *set, int n_set,
                       int per_class, int32_t **out);

/* Up to n samples of class c drawn uniformly without replacement (a partial
 * Fisher–Yates on stream `stream`), in draw order; n <= 0 takes the whole class.
 * Same return convention. */
int bl_sample_class(mb_backend *be, const mb_devdata *dd, int c, int n, uint64_t seed,
                    uint64_t stream, int32_t **out);

/* Fisher–Yates shuffle from the Philox stream (the same draw rule as training). */
void bl_shuffle(int32_t *a, int n, uint64_t seed, uint64_t stream);

/* Labels of the listed samples (host copy), into out[n]. */
void bl_labels_of(const mb_devdata *dd, const int32_t *idx, int n, int32_t *out);

#endif
