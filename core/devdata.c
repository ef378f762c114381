/* Device-resident data sets and batch assembly. */
#include "core/devdata.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The §0.1 constants and a byte of 1 per sample for the row mask. */
static int upload_norm(mb_backend *be, const mb_dataset *ds, mb_devdata *dd)
{
  if (ds->c < 1 || ds->c > MB_DATASET_MAX_CH) {
    mb_fail(be, MB_BAD_ARG, "%s: normalisation for %d channels (at most %d)", ds->name, ds->c,
            MB_DATASET_MAX_CH);
    return -1;
  }
  float ms[2 * MB_DATASET_MAX_CH];
  memcpy(ms, ds->norm_mean, (size_t)ds->c * sizeof *ms);
  memcpy(ms + ds->c, ds->norm_std, (size_t)ds->c * sizeof *ms);
  size_t words = ((size_t)dd->n + 3) / 4;
  uint8_t *ones = malloc(words * 4);
  if (!ones) {
    mb_fail(be, MB_OOM, "out of memory: %zu bytes for the row mask", words * 4);
    return -1;
  }
  memset(ones, 1, words * 4);
  dd->norm = mb_new(be, 2 * (size_t)ds->c);
  dd->ones_u8 = mb_new(be, words ? words : 1);
  mb_upload(be, dd->norm, ms, 2 * (size_t)ds->c);
  mb_upload(be, dd->ones_u8, ones, words);
  free(ones);
  return mb_ok(be) ? 0 : -1;
}

int mb_devdata_upload(mb_backend *be, const mb_dataset *ds, mb_devdata *dd)
{
  memset(dd, 0, sizeof *dd);
  dd->n = ds->n;
  dd->c = ds->c;
  dd->h = ds->h;
  dd->w = ds->w;
  dd->hw = ds->h * ds->w;
  dd->d = ds->c * dd->hw;
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
  if (ds->norm && upload_norm(be, ds, dd)) return -1;
  return mb_ok(be) ? 0 : -1;
}

void mb_devdata_free(mb_backend *be, mb_devdata *dd)
{
  mb_release(be, dd->x_u8);
  mb_release(be, dd->y);
  if (!mb_is_none(dd->norm)) mb_release(be, dd->norm);
  if (!mb_is_none(dd->ones_u8)) mb_release(be, dd->ones_u8);
  memset(dd, 0, sizeof *dd);
}

/* (x − mean[c]) / std[c] as torchvision's Normalize: a subtraction, then a
 * division, each rounded in f32; then, with tmp, code rows back to 0. */
static void normalise(mb_backend *be, const mb_devdata *dd, mb_view data_idx, int rows, mb_view dst,
                      mb_view tmp)
{
  size_t c = (size_t)dd->c;
  mb_bcast(be, MB_BC_SUB, dst, dd->norm, dst, (size_t)rows, c, (size_t)dd->hw);
  mb_bcast(be, MB_BC_DIV, dst, mb_at(dd->norm, c), dst, (size_t)rows, c, (size_t)dd->hw);
  if (mb_is_none(tmp)) return;
  /* mask[r] = data_idx[r] valid ? 1 : 0, by gathering a byte of 1 per sample. */
  mb_gather_args m = {
    .src = dd->ones_u8, .idx = data_idx, .dst = tmp, .n_rows = rows, .row_len = 1,
    .n_src_rows = dd->n, .src_u8 = 1, .scale = 1.0f,
  };
  mb_gather_rows(be, &m);
  mb_bcast(be, MB_BC_MUL, dst, tmp, dst, 1, (size_t)rows, (size_t)dd->d);
}

void mb_devdata_gather_map(mb_backend *be, const mb_devdata *dd, mb_view pix_map, mb_view codes,
                           int n_codes, mb_view data_idx, mb_view code_idx, mb_view label_idx,
                           int rows, mb_view dst, mb_view labels, mb_view tmp)
{
  if (mb_is_none(pix_map)) {
    mb_gather_args g = {
      .src = dd->x_u8, .idx = data_idx, .dst = dst, .n_rows = rows, .row_len = dd->d,
      .n_src_rows = dd->n, .src_u8 = 1, .scale = 1.0f / 255.0f,
    };
    mb_gather_rows(be, &g);
  } else {
    /* One byte per "row": an element gather over the whole data set. */
    size_t all = (size_t)dd->n * dd->d;
    if (all > INT32_MAX || (size_t)rows * dd->d > INT32_MAX) {
      mb_fail(be, MB_BAD_ARG, "devdata: %zu pixels or a batch of %d rows too large for an i32 pixel map",
              all, rows);
      return;
    }
    mb_gather_args g = {
      .src = dd->x_u8, .idx = pix_map, .dst = dst, .n_rows = rows * dd->d, .row_len = 1,
      .n_src_rows = (int)all, .src_u8 = 1, .scale = 1.0f / 255.0f,
    };
    mb_gather_rows(be, &g);
  }
  if (!mb_is_none(dd->norm)) normalise(be, dd, data_idx, rows, dst, tmp);
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

void mb_devdata_gather(mb_backend *be, const mb_devdata *dd, mb_view codes, int n_codes,
                       mb_view data_idx, mb_view code_idx, mb_view label_idx, int rows,
                       mb_view dst, mb_view labels, mb_view tmp)
{
  mb_devdata_gather_map(be, dd, mb_none(), codes, n_codes, data_idx, code_idx, label_idx, rows, dst,
                        labels, tmp);
}
