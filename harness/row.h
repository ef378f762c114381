/* The result row: one schema and one builder for every command that writes
 * rows (forget, eval, bench cells, bench-train, bench-scale), so the report
 * reads them all alike (docs/architecture.md, "how a row flows to a table").
 *
 * Every row starts with the same fields, in this order:
 *   schema command kind status reason
 *   backend device_index device device_type driver api
 *   dataset dataset_checksum model seed
 *   commit version build threads time
 * then the command's own: the method (mb_row_method), timings as statistics
 * (mb_row_stats: KEY, KEY_min, KEY_max, KEY_mean, KEY_std, KEY_samples), and
 * the measurements. */
#ifndef MB_ROW_H
#define MB_ROW_H

#include "core/model.h"  /* mb_model_name_resnet */
#include "core/method.h"
#include "core/ops.h"
#include "harness/json.h"
#include "harness/stats.h"

#include <stdint.h>

/* Older rows (mnemobench.result/1, mnemobench.bench/1, mnemobench.scale/1) are
 * still read by the report. */
#define MB_ROW_SCHEMA "mnemobench.result/2"

typedef struct {
  const char *command;          /* "forget", "eval", "bench", "bench-train", "bench-scale" */
  const char *kind;             /* main | tmix | lambda | fim | scale | throughput */
  const char *status, *reason;  /* ok | skipped | failed; why, when not ok */
  const char *backend;          /* name (also when the backend could not be opened) */
  int device_index;
  const mb_backend *be;         /* device, type, driver, API when opened (may be NULL) */
  const char *dataset;          /* "" when none */
  uint64_t dataset_checksum;    /* 0: none */
  const char *model;            /* from mb_model_name_* */
  uint64_t seed;
  const struct mb_row_sink *sink;   /* its extra fields follow the common ones (may be NULL) */
} mb_row_prov;

/* Where rows go: stdout (a command's --json), or a bench results file with the
 * bench's cell fields (spec, experiment, cell, ...) added to each row. */
typedef struct mb_row_sink {
  void (*extra)(void *ctx, mb_json *j);    /* fields after the common ones (NULL: none) */
  int (*put)(void *ctx, const char *row);  /* 0 or -1; NULL: one line on stdout */
  void *ctx;
} mb_row_sink;

/* Begins the row (mb_json_begin) with the common fields above, then the sink's extra fields. */
void mb_row_begin(mb_json *j, const mb_row_prov *p);
/* Ends the row, hands it to the sink (NULL: stdout) and frees it; 0 or -1. */
int mb_row_put(const mb_row_sink *sink, mb_json *j);

/* The method's facts, from its descriptor, so the report needs no method
 * table: method, method_needs (Table 1 "data needed"), method_target,
 * method_order (its place in the method list), method_uses_codes_model, and
 * params (the values, in the order of its parameter table; NULL: none). */
void mb_row_method(mb_json *j, const mb_method *me, const double *values);

/* lambda_source: where a method's λ1, λ2 came from, "user", "table" or "codes"
 * (docs/specification.md §2.4); "" for a method without them. */
void mb_row_lambda_source(mb_json *j, const char *source);

/* KEY (the median), KEY_min, KEY_max, KEY_mean, KEY_std and, when samples is
 * not NULL, KEY_samples. */
void mb_row_stats(mb_json *j, const char *key, const mb_stats *s, const double *samples, int n);
/* How a forgetting time was read: "host-only" (the backend has no device timer),
 * "host-fallback" (it has one but gave no usable reading), "device". */
const char *mb_row_timer_kind(const mb_backend *be, int have_dev, int zero_dev);
/* The device-timer fields of a forgetting row from n runs (host_s seconds, dev_ms
 * milliseconds, a negative value: no reading): timer, forget_device_ms (median,
 * _min, _max, _samples), device_host_ratio and timer_disagree (beyond 20 %). */
void mb_row_device_timing(mb_json *j, const mb_backend *be, const double *host_s, const double *dev_ms,
                          int n);

/* Model names, the same everywhere: "784-1000-10 sigmoid" (an MLP: its layer
 * sizes and activation); "resnet18-fmnist", "resnet18-cifar" (3x3 stem, 1 or
 * 3 input channels), "resnet18-imagenet" (7x7/2 stem), with "-wN" when the
 * stem width is not 64.  in_c 0: the input is not known ("resnet18"). */
void mb_model_name_mlp(const char *dims, const char *act, char *out, size_t len);

/* "D_f", "D_r", "D_f + D_r" or "none (codes)". */
const char *mb_row_needs_text(const mb_method *me);

#endif
