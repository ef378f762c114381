/* A run's state on one backend: data and model resident on the device, and the
 * steps the commands share (train, timed forgetting, evaluation). */
#ifndef MB_SESSION_H
#define MB_SESSION_H

#include "core/checkpoint.h"
#include "core/devdata.h"
#include "core/eval.h"
#include "core/forget_mnemonic.h"
#include "methods/methods.h"
#include "core/mlp.h"
#include "core/model.h"
#include "core/resnet.h"
#include "core/train.h"
#include "harness/common.h"
#include "harness/options.h"

typedef struct {
  mb_backend *be;
  const char *backend_name;
  mb_dataset train, test;
  int have_train;
  mb_devdata dtrain, dtest;
  mb_model_kind kind;
  mb_mlp m;            /* kind == MB_MODEL_MLP (the bench commands use it directly) */
  mb_resnet rn;        /* kind == MB_MODEL_RESNET18 */
  mb_model md;         /* either, through the model interface */
  int in_dim;          /* D: elements of one input / code */
  float *codes_host;   /* K·D */
  mb_view codes;
  int n_classes;
  uint64_t seed;
  int epochs, batch;   /* the model's training recipe (0 when unknown) */
  float lr, t_mix;
  int error_said;      /* the backend's sticky error has been printed */
} mb_session;

typedef struct {
  double seconds;        /* host clock around the synchronised region */
  double device_ms;      /* device timer over the same region (< 0 if none) */
  long long n_forward, n_backward;
  mb_forget_outcome outcome;
} mb_forget_timing;

/* on: a failed phase prints nothing; the caller reports mb_error() itself, once,
 * with its context (the bench's "cell ... failed: ..." line).  Process-wide. */
void mb_session_quiet(int on);
/* Opens the backend and loads data (--train-limit / --test-limit: the first N of
 * each class); need_train = 0 uploads only the test set. */
int mb_session_open(mb_session *s, const mb_opts *o, int need_train);
/* New model of o->model_kind (random init from seed) with codes from the seed. */
int mb_session_new_model(mb_session *s, const mb_opts *o);
/* The data a checkpoint's model is evaluated on: --data / --synthetic when given,
 * else the set it was trained on, as the checkpoint records it (data: o with the
 * data fields, and the seed that keys the synthetic set, set). */
int mb_session_data_of(const mb_opts *o, const mb_checkpoint *c, mb_opts *data);
/* Model and codes from a checkpoint (checked against the data). */
int mb_session_load_model(mb_session *s, const mb_checkpoint *c);
/* The same, but a checkpoint without codes (an imported model) gets codes
 * generated from seed with dist, as a new model would (fine-tuning), and the model
 * has room for batches of `batch` rows (0: the checkpoint's training batch). */
int mb_session_load_model_codes(mb_session *s, const mb_checkpoint *c, uint64_t seed,
                                mb_code_dist dist, int batch);
/* Puts the checkpoint's weights (and BN statistics) back on the device, e.g.
 * after an untimed warm-up run of a method. */
int mb_session_restore_weights(mb_session *s, const mb_checkpoint *c);
int mb_session_train(mb_session *s, const mb_opts *o, mb_train_stats *st);
/* Fine-tunes the loaded model with its codes for o->steps SGD steps (batch, lr,
 * weight_decay, t_mix, seed from o) through the same training loop
 * (docs/specification.md §1.3); st->seconds: host clock around the synchronised loop. */
int mb_session_finetune(mb_session *s, const mb_opts *o, mb_train_stats *st);
/* Runs a forgetting method, timed as docs/specification.md §2.5 / §7.2 say: the clock
 * starts with model, codes and the data the method may use resident and the
 * device idle, and stops after the final weights are written and synced. */
int mb_session_forget(mb_session *s, const mb_method *me, const double *params,
                      const int *forget, int n_forget, mb_forget_timing *t);
/* warmups untimed runs, then repeats timed ones, the weights put back from c before
 * every run but the first; t: the last run (its weights stay), run_s / run_device_ms:
 * each timed run's host seconds and device ms (repeats entries each). */
/* The timed runs into r (arrays kept by the caller): forget_s, forget_device_ms their medians. */
void mb_result_set_runs(mb_result *r, const double *run_s, const double *run_device_ms, int n);
/* "median of N runs after W warm-ups [min, max]" or "one run, no warm-up", for text output. */
void mb_result_runs_text(const mb_result *r, char *out, size_t len);
int mb_session_forget_runs(mb_session *s, const mb_checkpoint *c, const mb_method *me,
                           const double *params, const int *forget, int n_forget, int warmups,
                           int repeats, mb_forget_timing *t, double *run_s, double *run_device_ms);
int mb_session_eval(mb_session *s, const int *forget, int n_forget, mb_eval_result *r);
/* Fills a checkpoint from the device model (params downloaded). */
int mb_session_to_checkpoint(mb_session *s, const mb_opts *o, mb_checkpoint *c);
/* The fields of a result row that describe the session: backend, device, data set
 * and model (described into model[len], which must outlive the row). */
/* "784-1000-10 sigmoid", "resnet18-fmnist", "resnet18-cifar" ("-w8" for a narrow one). */
void mb_session_model_name(const mb_session *s, char *model, size_t len);
void mb_session_result(const mb_session *s, const char *backend, char *model, size_t len,
                       mb_result *r);
/* The fields of one forgetting run: method and settings, metrics, time, passes. */
void mb_result_set_forgetting(mb_result *r, const mb_method *me, const double *params,
                              const mb_eval_result *before, const mb_eval_result *after,
                              const mb_forget_timing *t);
/* Frees the model and its codes (a session may then load another). */
void mb_session_unload_model(mb_session *s);
void mb_session_close(mb_session *s);

#endif
