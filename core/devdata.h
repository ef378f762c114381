/* A data set resident on the device (pixels as bytes, labels as i32) and the
 * gather that builds a batch from it, optionally replacing samples by codes. */
#ifndef MB_DEVDATA_H
#define MB_DEVDATA_H

#include "core/dataset.h"
#include "core/ops.h"

typedef struct {
  mb_view x_u8;       /* n·d bytes */
  mb_view y;          /* n labels (i32) */
  int n, d, n_classes;
  const mb_dataset *host;
} mb_devdata;

int mb_devdata_upload(mb_backend *be, const mb_dataset *ds, mb_devdata *dd);
void mb_devdata_free(mb_backend *be, mb_devdata *dd);

/* Row r of dst = data row data_idx[r] / 255, plus code row code_idx[r] of codes
 * (an index of -1 contributes zeros, so each row takes exactly one of the two).
 * labels[r] = y[label_idx[r]].  Index views are i32 on the device; codes and
 * tmp may be none when no row is replaced. */
void mb_devdata_gather(mb_backend *be, const mb_devdata *dd, mb_view codes, int n_codes,
                       mb_view data_idx, mb_view code_idx, mb_view label_idx, int rows,
                       mb_view dst, mb_view labels, mb_view tmp);

#endif
