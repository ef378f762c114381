/* What the files of `mnemobench bench SPEC` share (cmd_bench_spec.c): the
 * plan of cells (bench_plan.c), the model cache and the runner that holds a
 * session and a loaded model (bench_models.c), the rows (bench_rows.c), the
 * cells' measurements (bench_cells.c) and the progress line (bench_progress.c). */
#ifndef MB_BENCH_INTERNAL_H
#define MB_BENCH_INTERNAL_H

#include "core/method.h"
#include "harness/json.h"
#include "harness/results.h"
#include "harness/session.h"
#include "harness/spec.h"

#include <stddef.h>
#include <stdint.h>

/* ----------------------------------------------------------------- models */

typedef struct {
  char key[17];
  char path[1100];
  const mb_spec_exp *e;
  double t_mix;
  uint64_t seed;
  char train_backend[32];
  int needed;
} model_desc;

typedef struct {
  int exp;
  const mb_method *me;           /* NULL: a FIM cell */
  char backend[32];
  int device, border;
  uint64_t seed;
  double t_mix;                  /* the mnemonic model's t_mix (the sweep value) */
  double model_t_mix;            /* t_mix of the model the method runs on */
  double params[MB_METHOD_MAX_PARAMS];
  char sweep_desc[256];
  int model[2], n_models;        /* indices into the model list; FIM: mnemonic, plain */
  char id[512], group[512];
  int done;
  int busy;                      /* claimed by another live writer when last tried */
} cell;

typedef struct {
  mb_spec spec;
  const char *results_path, *cache;
  int retry, list;
  int stage_train;               /* --stage train: train and cache the models, run no cell */
  int plan_only;                 /* the plan only (ids, counts): no backend probed for train_backend */
  int shard_i, shard_n;          /* --shard I/N: the cells whose index mod N is I (n 0: all) */
  const char *only_backends[16]; int n_only_backends;   /* --backend NAME... */
  const char *only_exps[16]; int n_only_exps;           /* --experiment NAME... */
  long long scan_off;            /* the results file is read up to here (whole lines) */
  int scanned;                   /* read once: later rows are other writers' */
  int n_elsewhere;               /* cells another writer ran or is running */
  model_desc *models; int n_models, cap_models;
  cell *cells; int n_cells, cap_cells;
  /* backend availability */
  struct { char name[32]; int devices; char why[512]; } avail[16];
  int n_avail;
  mb_results out;
  /* progress */
  int n_todo, n_done;
  double t_start;
  double spent_by_method[32]; int count_by_method[32];
  double spent_all; int count_all;
} bench;

/* A session on one backend with one model loaded (weights kept on the host for restores). */
typedef struct {
  mb_session s;
  int open;
  char backend[32];
  int device;
  char data[512];
  int per_class, test_per_class;
  int model;                     /* loaded model index, or -1 */
  mb_checkpoint ck;              /* it, on the host: weights and BN statistics for restores */
  mb_eval_result before;
  int have_before;
  double model_train_s, model_test_acc;
  unsigned warmed[2];            /* method slots warmed in this session */
  double last_median[32];
} runner;


/* bench_plan.c: the cells of the spec, in backend order, and which are done. */
int bp_is_resnet(const mb_spec_exp *e);
/* The performance kinds (scale, throughput): each cell runs bench-scale's or
 * bench-train's measurements on one backend; no trained model. */
int bp_is_perf(const mb_spec_exp *e);
int bp_backend_devices(bench *b, const char *name, const char **why);
int bp_enumerate(bench *b);
/* Keeps the cells of --backend, --experiment and --shard (round-robin over the
 * sorted plan, so the split depends on the spec and the options only). */
void bp_select(bench *b);
/* Rows of the results file that an other version of the spec (same name,
 * another spec_hash) wrote: -1 when some have cells the plan (before
 * bp_select) no longer has, i.e. a setting changed and the file would mix two
 * computations (msg: the one-line refusal); 1 when all are cells of this plan
 * (an added seed or experiment, an edited comment; msg: a note), also when
 * rows of this spec_hash have cells this plan lacks (another --data,
 * MB_ENGINE, train backend or an older id scheme: a note); 0 none. */
int bp_check_versions(bench *b, char *msg, size_t len);
/* The cells of spec s on the backends named (all when n_only is 0), as bench
 * would plan them; -1 when the spec cannot be planned (said on stderr). */
int bp_count_cells(const mb_spec *s, const char *const *only_backends, int n_only);
/* Reads the rows appended since the last call and marks their cells done.
 * The first read (nothing read yet) takes ok rows and, without --retry,
 * skipped ones; later reads see rows other writers appended during this run,
 * so a failed or skipped row there counts as done too (tried this run). */
void bp_mark_done(bench *b);
/* Takes cell c for this process (results.h: the mutex, the new rows, its
 * claim): 1 taken (release its claim after its row), 0 done by another
 * writer, 2 another writer holds it (c->busy set), -1 the lock failed. */
int bp_take_cell(bench *b, cell *c, int wait);

/* bench_progress.c */
int bp_method_slot(const cell *c);
void bp_fmt_dur(double s, char *out, size_t len);
void bp_progress(bench *b, int ci, const char *what);
void bp_progress_end(bench *b);

/* bench_rows.c: every row of a cell (harness/row.h plus the cell's fields). */
void bp_cell_fields(const bench *b, mb_json *j, const cell *c);
void bp_row_begin(bench *b, mb_json *j, const cell *c, const mb_session *s, const char *status,
                  const char *reason);
int bp_row_end(bench *b, mb_json *j);
int bp_write_status_row(bench *b, const cell *c, const mb_session *s, const char *status, const char *reason);

/* bench_models.c: the checkpoint cache and the runner. */
int bp_mkdir_p(const char *dir);
int bp_open_session(mb_session *s, const char *backend, int device, const mb_spec_exp *e);
int bp_train_model(bench *b, int mi, int k, int n, char *why, size_t len);
/* Model mi in the cache: trains it under the entry's lock (PATH.lock) unless
 * it is there; another process training it: with wait, waits and uses its
 * result, else returns 2.  0 ready, 1 trained here, -1 failed (why set). */
int bp_ensure_model(bench *b, int mi, int k, int n, int wait, char *why, size_t len);
void bp_runner_close(runner *r);
int bp_runner_open(runner *r, const cell *c, const mb_spec_exp *e, char *why, size_t len);
int bp_runner_load(bench *b, runner *r, int mi, char *why, size_t len);
/* The reference of cell c's quality metrics (specification §7.7): its experiment's
 * retrain cell of the same seed, run once on the train backend and cached as a
 * checkpoint (key: its model, forget classes, seed and parameters).  0 with the
 * checkpoint in *out and its key, or -1 with why. */
int bp_retrained(bench *b, const cell *c, mb_checkpoint *out, char key[17], char *why, size_t len);

/* bench_cells.c: one cell each; 0, -1 (why set; a failed row follows), -2 (the
 * results file cannot be written), -3 (a performance cell that wrote its own
 * failed rows). */
int bp_run_forget_cell(bench *b, runner *r, const cell *c, char *why, size_t len);
int bp_run_fim_cell(bench *b, runner *r, const cell *c, char *why, size_t len);
int bp_run_perf_cell(bench *b, const cell *c, char *why, size_t len);
void bp_cell_label(const bench *b, const cell *c, char *out, size_t len);

#endif
