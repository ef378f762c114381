/* Shared pieces of the mnemobench commands: opening a backend, loading data,
 * result rows, progress display. */
#ifndef MB_HARNESS_COMMON_H
#define MB_HARNESS_COMMON_H

#include "core/dataset.h"
#include "core/method.h"
#include "core/ops.h"
#include "core/quality.h"

#include <stdint.h>
#include <stdio.h>

#define MB_MAX_FORGET 64

/* Prints "mnemobench: <msg>" on stderr. */
void mb_die_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The last message mb_die_msg printed ("" after mb_last_msg_clear). */
const char *mb_last_msg(void);
void mb_last_msg_clear(void);

/* Opens a backend or prints a one-line reason; NULL on failure. */
mb_backend *mb_open_or_explain(const char *name, int device);

/* --data DIR, else the default Fashion-MNIST, else the built-in synthetic set
 * (announced on stderr).  synthetic_n > 0 forces the synthetic set. */
int mb_load_data(const char *dir, int force_synthetic, uint64_t seed, mb_dataset *train,
                 mb_dataset *test);

/* "0,3" → classes; checks range [0, n_classes). */
int mb_parse_classes(const char *s, int n_classes, int *out, int max, int *n);

typedef struct {
  const char *command;          /* the row's command; NULL: forget with a method, else eval */
  const char *method, *status, *reason;
  const mb_method *me;          /* the method of a forgetting row (NULL: an eval row) */
  const char *backend;          /* name (also when the backend could not be opened) */
  const mb_backend *be;         /* device and driver, when opened */
  const char *dataset, *model;
  uint64_t dataset_checksum;
  const int *forget; int n_forget;
  uint64_t seed;
  double A_R_before, E_F_before, A_R, E_F;
  double forget_s, forget_device_ms;
  long long n_forward, n_backward;
  int sign;
  double t_mix;
  const mb_method_param *method_params;  /* the method's settings, recorded in the row */
  const double *method_values;
  int n_method_params;
  int epochs;
  int finetune_steps;           /* steps the model was fine-tuned with codes (0: none) */
  /* This command's own settings that change the row's numbers (docs/architecture.md §8.1) */
  int batch;                    /* SGD batch it trained or fine-tuned with (0: it trains nothing) */
  double lr, weight_decay;      /* its learning rate; its weight decay where one can be set (NaN: none) */
  const char *codes;            /* distribution of the codes it generated (NULL: it generated none) */
  int train_per_class, test_per_class;   /* --train-limit, --test-limit (0: every sample) */
  int width;                    /* the ResNet's stem width (0: the model has none) */
  const mb_checkpoint *ckpt;    /* the checkpoint the model came from: its recipe as ckpt_* (NULL: none) */
  double train_s, test_acc;
  int warmups;                  /* untimed runs before the timed ones */
  int n_runs;                   /* timed runs of the method (forget_s: their median) */
  const double *run_s, *run_device_ms;   /* each run's host seconds and device ms (<0: none) */
  const char *note;             /* the method's own account, e.g. what it selected */
  const char *lambda_source;    /* "user", "table", "codes"; "" (NULL) for a method without λ */
  unsigned metrics;             /* quality metrics computed (harness/quality_run.h); 0: none */
  const mb_quality *quality;    /* the metrics' values when metrics != 0 */
} mb_result;

void mb_result_init(mb_result *r);
/* The shortest decimal that reads back as f (0.1f → 0.1, not 0.1000000015). */
double mb_float_decimal(float f);
/* One JSON object on one line (the row of harness/row.h). */
void mb_result_write_json(FILE *f, const mb_result *r);

/* Progress bar for training on a terminal (stderr); silent otherwise. */
void mb_progress_bar(void *ctx, int epoch, int epochs, int step, int steps, double loss);

int mb_threads_in_use(void);

#endif
