/* The throughput measurements of `bench-train` (and of a bench spec's
 * `kind = throughput` experiments): training samples/s of the MLP at batch
 * 128, forgetting latency with mnemonic codes, SGEMM GFLOP/s at the MLP's
 * shapes, each the statistics of o->repeats runs after 2 warm-ups; with
 * o->model_kind == MB_MODEL_RESNET18 the ResNet-18 at batch 32 and its
 * forgetting, without GEMM rows. */
#ifndef MB_THROUGHPUT_H
#define MB_THROUGHPUT_H

#include "harness/options.h"
#include "harness/row.h"

/* Measures backend `name` (device o->device) and writes one row per figure to
 * sink (NULL: stdout), or, when sink is NULL and !o->json, a text line each.
 * An unavailable backend gives one skipped row; one that fails (the data cannot
 * be loaded, a device error) a failed row naming why.  Returns 0, or -1 if it
 * failed or the sink did. */
int mb_throughput_backend(const mb_opts *o, const char *name, const mb_row_sink *sink);

#endif
