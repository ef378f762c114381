/* Shared pieces of the mnemobench commands. */
#define _GNU_SOURCE   /* sched_getaffinity, CPU_COUNT */
#include "harness/common.h"
#include "harness/quality_run.h"
#include "core/checkpoint.h"
#include "core/method.h"
#include "mb/registry.h"
#include "harness/json.h"
#include "harness/row.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_last_msg[1024];   /* for rows that name why a step failed */

void mb_die_msg(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_last_msg, sizeof g_last_msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "mnemobench: %s\n", g_last_msg);
}

const char *mb_last_msg(void) { return g_last_msg; }

void mb_last_msg_clear(void) { g_last_msg[0] = '\0'; }

mb_backend *mb_open_or_explain(const char *name, int device)
{
  char why[512];
  mb_backend *be = mb_backend_open(name, device, why, sizeof why);
  if (!be) mb_die_msg("backend %s unavailable: %s", name, why);
  return be;
}

int mb_load_data(const char *dir, int force_synthetic, uint64_t seed, mb_dataset *train,
                 mb_dataset *test)
{
  char err[512];
  if (!force_synthetic) {
    const char *d = dir ? dir : mb_data_default_dir();
    if (d) {
      if (mb_data_load_dir(d, train, test, err, sizeof err) != 0) {
        mb_die_msg("%s", err);
        return -1;
      }
      return 0;
    }
  }
  mb_data_synthetic(seed, 12000, 2000, train, test);
  fprintf(stderr, "mnemobench: %s; using the built-in SYNTHETIC data set "
          "(12000 train / 2000 test, 28x28, 10 classes)\n",
          force_synthetic == MB_SYNTHETIC_MODEL ? "the model was trained on the synthetic set"
          : force_synthetic ? "--synthetic given"
                            : "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)");
  return 0;
}

int mb_parse_classes(const char *s, int n_classes, int *out, int max, int *n)
{
  *n = 0;
  const char *p = s;
  while (p && *p) {
    char *end;
    errno = 0;
    long c = strtol(p, &end, 10);
    if (end == p || (*end && *end != ',')) {
      mb_die_msg("bad class list '%s' (expected e.g. 0 or 0,3)", s);
      return -1;
    }
    if (errno == ERANGE || c < 0 || c >= n_classes) {
      mb_die_msg("class %.*s out of range: the model has classes 0..%d", (int)(end - p), p,
                 n_classes - 1);
      return -1;
    }
    for (int i = 0; i < *n; i++)
      if (out[i] == c) { mb_die_msg("class %ld listed twice", c); return -1; }
    if (*n >= max || *n >= n_classes - 1) {
      mb_die_msg("too many forget classes (at most %d)", n_classes - 1);
      return -1;
    }
    out[(*n)++] = (int)c;
    p = *end ? end + 1 : end;
  }
  if (*n == 0) { mb_die_msg("no forget class given"); return -1; }
  return 0;
}

void mb_result_init(mb_result *r)
{
  memset(r, 0, sizeof *r);
  r->status = "ok";
  r->reason = "";
  r->note = "";
  r->A_R_before = r->E_F_before = r->A_R = r->E_F = NAN;
  r->forget_s = r->forget_device_ms = r->train_s = r->test_acc = NAN;
  r->t_mix = NAN;
  r->lr = r->weight_decay = NAN;
}

double mb_float_decimal(float f)
{
  char b[32];
  for (int digits = 1; digits < 9; digits++) {
    snprintf(b, sizeof b, "%.*g", digits, (double)f);
    if ((float)strtod(b, NULL) == f) return strtod(b, NULL);
  }
  return (double)f;
}

/* As the cpu backend counts them (backends/cpu/cpu_backend.c): MB_THREADS, else the cores
 * this process may run on (its affinity, as omp_get_num_procs counts), not all online. */
int mb_threads_in_use(void)
{
  const char *t = getenv("MB_THREADS");
  if (t && atoi(t) > 0) return atoi(t);
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

/* The recipe a checkpoint's header records, prefixed ckpt_ so that it is never read
 * as the settings of the command that loaded it. */
static void write_checkpoint_recipe(mb_json *j, const mb_checkpoint *c)
{
  mb_json_int(j, "ckpt_epochs", c->epochs);
  mb_json_int(j, "ckpt_batch", c->batch);
  mb_json_num(j, "ckpt_lr", mb_float_decimal(c->lr));
  mb_json_num(j, "ckpt_t_mix", mb_float_decimal(c->t_mix));
  mb_json_int(j, "ckpt_seed", (long long)c->seed);
  mb_json_str(j, "ckpt_codes", c->codes ? mb_code_dist_name(c->code_dist) : "");
  mb_json_int(j, "ckpt_finetune_steps", c->finetune_steps);
  if (c->finetune_steps <= 0) return;
  mb_json_int(j, "ckpt_finetune_batch", c->finetune_batch);
  mb_json_num(j, "ckpt_finetune_lr", mb_float_decimal(c->finetune_lr));
  mb_json_num(j, "ckpt_finetune_weight_decay", mb_float_decimal(c->finetune_weight_decay));
  mb_json_num(j, "ckpt_finetune_t_mix", mb_float_decimal(c->finetune_t_mix));
  mb_json_int(j, "ckpt_finetune_seed", (long long)c->finetune_seed);
}

void mb_result_write_json(FILE *f, const mb_result *r)
{
  mb_json j;
  char classes[256] = "[";
  size_t o = 1;
  for (int i = 0; i < r->n_forget && o < sizeof classes - 8; i++)
    o += (size_t)snprintf(classes + o, sizeof classes - o, i ? ",%d" : "%d", r->forget[i]);
  snprintf(classes + o, sizeof classes - o, "]");
  mb_row_prov p = {
    .command = r->command ? r->command : r->me ? "forget" : "eval", .kind = "main", .status = r->status, .reason = r->reason,
    .backend = r->backend, .be = r->be, .dataset = r->dataset, .dataset_checksum = r->dataset_checksum,
    .model = r->model, .seed = r->seed,
  };
  mb_row_begin(&j, &p);
  if (r->me) {
    mb_row_method(&j, r->me, r->method_values);
    mb_row_lambda_source(&j, r->lambda_source);
  } else mb_json_str(&j, "method", r->method ? r->method : "");
  mb_json_raw(&j, "forget_classes", classes);
  mb_json_num(&j, "t_mix", r->t_mix);
  mb_json_int(&j, "epochs", r->epochs);
  mb_json_int(&j, "finetune_steps", r->finetune_steps);
  if (r->batch > 0) {   /* the command trained or fine-tuned */
    mb_json_int(&j, "batch", r->batch);
    mb_json_num(&j, "lr", r->lr);
  }
  if (isfinite(r->weight_decay)) mb_json_num(&j, "weight_decay", r->weight_decay);
  if (r->codes) mb_json_str(&j, "codes", r->codes);
  mb_json_int(&j, "train_per_class", r->train_per_class);
  mb_json_int(&j, "test_per_class", r->test_per_class);
  if (r->width > 0) mb_json_int(&j, "width", r->width);
  if (r->ckpt) write_checkpoint_recipe(&j, r->ckpt);
  mb_json_num(&j, "test_acc", r->test_acc);
  mb_json_num(&j, "A_R_before", r->A_R_before);
  mb_json_num(&j, "E_F_before", r->E_F_before);
  mb_json_num(&j, "A_R", r->A_R);
  mb_json_num(&j, "E_F", r->E_F);
  mb_json_int(&j, "sign", r->sign);
  /* the runs as measured; a row of one run has no spread (mb_row_stats) */
  double dev1 = isfinite(r->forget_device_ms) ? r->forget_device_ms : -1;
  int n = r->n_runs > 0 ? r->n_runs : 1;
  const double *hs = r->n_runs > 0 ? r->run_s : &r->forget_s;
  const double *ds = r->n_runs > 0 ? r->run_device_ms : &dev1;
  mb_stats st = mb_stats_of(hs, n);
  mb_row_stats(&j, "forget_s", &st, r->me ? hs : NULL, n);
  mb_json_int(&j, "warmups", r->warmups);
  mb_json_int(&j, "repeats", r->me ? n : 0);
  if (r->me) mb_row_device_timing(&j, r->be, hs, ds, n);
  else mb_json_num(&j, "forget_device_ms", NAN);
  mb_json_num(&j, "train_s", r->train_s);
  mb_json_int(&j, "n_forward", r->n_forward);
  mb_json_int(&j, "n_backward", r->n_backward);
  mb_json_str(&j, "note", r->note ? r->note : "");
  if (r->metrics && r->quality) mb_row_quality(&j, r->metrics, r->quality);
  fprintf(f, "%s\n", mb_json_end(&j));
  fflush(f);
  mb_json_free(&j);
}

void mb_progress_bar(void *ctx, int epoch, int epochs, int step, int steps, double loss)
{
  (void)ctx;
  if (!isatty(2)) return;
  int width = 30, filled = steps ? step * width / steps : width;
  fprintf(stderr, "\r  epoch %d/%d [", epoch + 1, epochs);
  for (int i = 0; i < width; i++) fputc(i < filled ? '#' : '.', stderr);
  fprintf(stderr, "] %d/%d", step, steps);
  if (loss >= 0) fprintf(stderr, "  loss %.4f\n", loss);
  fflush(stderr);
}
