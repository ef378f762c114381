/* Device-resident data sets and batch assembly. */
#include "core/devdata.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int mb_devdata_upload(mb_backend *be, const mb_dataset *ds, mb_devdata *dd)
{
  memset(dd, 0, sizeof *dd);
  dd->n = ds->n;
  dd->d = ds->c * ds->h * ds->w;
  dd->n_classes = ds->n_classes;
  dd->host = ds;
  size_t bytes = (size_t)dd->n * dd->d;
  /* The host copy holds pixel/255 exactly; rounding recovers the bytes. */
  uint8_t *raw = malloc(bytes + 4);
  if (!raw) {
    mb_fail(be, MB_OOM, "out of memory: %zu bytes for the data set on the host", bytes);
    return -1;
  }
  memset(raw + bytes, 0, 4);
  for (size_t i = 0; i < bytes; i++) raw[i] = (uint8_t)lrintf(ds->x[i] * 255.0f);
  size_t words = (bytes + 3) / 4;
  dd->x_u8 = mb_new(be, words);
  dd->y = mb_new(be, (size_t)dd->n);
  mb_upload(be, dd->x_u8, raw, words);
  mb_upload(be, dd->y, ds->y, (size_t)dd->n);
  free(raw);
  return mb_ok(be) ? 0 : -1;
}

void mb_devdata_free(mb_backend *be, mb_devdata *dd)
{
  mb_release(be, dd->x_u8);
  mb_release(be, dd->y);
  memset(dd, 0, sizeof *dd);
}

void mb_devdata_gather(mb_backend *be, const mb_devdata *dd, mb_view codes, int n_codes,
                       mb_view data_idx, mb_view code_idx, mb_view label_idx, int rows,
                       mb_view dst, mb_view labels, mb_view tmp)
{
  mb_gather_args g = {
    .src = dd->x_u8, .idx = data_idx, .dst = dst, .n_rows = rows, .row_len = dd->d,
    .n_src_rows = dd->n, .src_u8 = 1, .scale = 1.0f / 255.0f,
  };
  mb_gather_rows(be, &g);
  if (!mb_is_none(codes)) {
    mb_gather_args c = {
      .src = codes, .idx = code_idx, .dst = tmp, .n_rows = rows, .row_len = dd->d,
      .n_src_rows = n_codes,
    };
    mb_gather_rows(be, &c);
    mb_binary(be, MB_BIN_AXPBY, dst, tmp, dst, (size_t)rows * dd->d, 1.0f, 1.0f);
  }
  if (!mb_is_none(labels)) {
    mb_gather_args l = {
      .src = dd->y, .idx = label_idx, .dst = labels, .n_rows = rows, .row_len = 1,
      .n_src_rows = dd->n,
    };
    mb_gather_rows(be, &l);
  }
}
