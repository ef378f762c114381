/* A data set resident on the device (pixels as bytes, labels as i32) and the
 * gather that builds a batch from it, optionally replacing samples by codes. */
#ifndef MB_DEVDATA_H
#define MB_DEVDATA_H

#include "core/dataset.h"
#include "core/ops.h"

typedef struct {
  mb_view x_u8;       /* n·d bytes */
  mb_view y;          /* n labels (i32) */
  mb_view norm;       /* host->norm: c means then c stds (f32); none otherwise */
  mb_view ones_u8;    /* host->norm: n bytes of 1, the row-mask source; none otherwise */
  int n, d, c, h, w, hw, n_classes;   /* d = c·h·w, hw = h·w */
  const mb_dataset *host;
} mb_devdata;

int mb_devdata_upload(mb_backend *be, const mb_dataset *ds, mb_devdata *dd);
void mb_devdata_free(mb_backend *be, mb_devdata *dd);

/* Row r of dst = data row data_idx[r] / 255, plus code row code_idx[r] of codes
 * (an index of -1 contributes zeros, so each row takes exactly one of the two).
 * labels[r] = y[label_idx[r]].  Index views are i32 on the device; codes and
 * tmp may be none when no row is replaced.
 * A normalised set (host->norm) gives (x/255 − mean[c]) / std[c] for data rows;
 * with tmp given, rows whose data_idx is -1 are zero before the codes are added
 * (codes are never normalised, §1.1), otherwise they hold the normalised 0. */
void mb_devdata_gather(mb_backend *be, const mb_devdata *dd, mb_view codes, int n_codes,
                       mb_view data_idx, mb_view code_idx, mb_view label_idx, int rows,
                       mb_view dst, mb_view labels, mb_view tmp);

/* As mb_devdata_gather, but the pixels come from pix_map (i32 [rows·d]): element
 * e of the batch = byte pix_map[e] of the whole data set (sample·d + offset),
 * -1 = a pixel of value 0 (padding, normalised like any other pixel).
 * core/augment.h builds such maps for the §0.1 crop and flip. */
void mb_devdata_gather_map(mb_backend *be, const mb_devdata *dd, mb_view pix_map, mb_view codes,
                           int n_codes, mb_view data_idx, mb_view code_idx, mb_view label_idx,
                           int rows, mb_view dst, mb_view labels, mb_view tmp);

#endif
