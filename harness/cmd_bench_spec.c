/* mnemobench bench SPEC: runs the cells of a run specification and appends
 * one JSON row per cell to a results file (harness/results.h): resumable,
 * with a checkpoint cache keyed by the training settings, and timing per
 * docs/specification.md §7.2.  The plan, models, rows, cells and progress are
 * the bench_*.c files (bench_internal.h). */
#define _GNU_SOURCE
#include "core/clock.h"
#include "harness/bench_internal.h"
#include "mb/registry.h"
#include "harness/commands.h"
#include "harness/common.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char k_usage[] =
  "usage: mnemobench bench SPEC [--results FILE] [--cache DIR] [--data DIR] [--retry] [--list]\n"
  "                       [--shard I/N] [--stage train|all] [--backend NAME]... [--experiment NAME]...\n"
  "Runs every cell of the run specification SPEC (see reports/specs/*.spec) and appends one\n"
  "JSON row per cell to the results file (default: the spec's `results`, else\n"
  "results/NAME.jsonl).  A rerun skips cells that already have a row, so an interrupted run\n"
  "continues where it stopped; failed cells run again, skipped ones (backend unavailable)\n"
  "only with --retry; a cell's id holds every setting its numbers depend on, so a changed\n"
  "setting runs it again, and a results file holding rows of another version of the spec\n"
  "whose cells changed is refused (give another --results).  Models are trained once and\n"
  "cached under the cache directory, keyed by a hash of their training settings.  Several\n"
  "bench processes may share one results file and one cache (also on NFS): each cell runs\n"
  "once, each model is trained once (the others wait for it), fcntl locks in FILE.lock and\n"
  "the cache's *.lock files.\n"
  "  --results FILE   results file (append-only, one row per line, fsync per row)\n"
  "  --cache DIR      checkpoint cache (default: the spec's `cache`, else mnemobench-cache)\n"
  "  --data DIR       the data of every experiment (default | synthetic | a folder): e.g. the\n"
  "                   CIFAR-10 folder of reports/specs/resnet-cifar10.spec\n"
  "  --retry          run skipped cells again too\n"
  "  --list           print the cells and whether each is done, run nothing\n"
  "  --shard I/N      only the cells whose place in the plan is I mod N (0 <= I < N): N\n"
  "                   shards split the plan, the same way on every run\n"
  "  --stage train    train and cache the models the cells need, run no cell\n"
  "  --backend NAME   only the cells on this backend (repeatable; before --shard)\n"
  "  --experiment NAME  only the cells of this [experiment NAME] (repeatable; before --shard);\n"
  "                   their ids are the whole spec's, so the rows count for a later full run\n"
  "Then: mnemobench report FILE... --out DIR   (`mnemobench slurm` runs the shards on a cluster)\n";

/* The models the cells to run need (not those of cells on an unavailable
 * backend: they get a skipped row), trained once into the (shared) cache:
 * those no other process is training first, then the others, waiting. */
static int train_models(bench *b)
{
  for (int i = 0; i < b->n_cells; i++) {
    const cell *c = &b->cells[i];
    const char *why;
    if (!c->done && bp_backend_devices(b, c->backend, &why) > c->device)
      for (int k = 0; k < c->n_models; k++) b->models[c->model[k]].needed = 1;
  }
  int n_train = 0, k_train = 0, failed = 0;
  for (int m = 0; m < b->n_models; m++) n_train += b->models[m].needed && access(b->models[m].path, R_OK) != 0;
  if (!n_train) return 0;
  int *later = calloc((size_t)b->n_models, sizeof *later);
  if (!later) { mb_die_msg("out of memory"); return -1; }
  for (int pass = 0; pass < 2; pass++)
    for (int m = 0; m < b->n_models; m++) {
      if (!b->models[m].needed || (pass == 1 && !later[m])) continue;
      char why[600];
      int rc = bp_ensure_model(b, m, k_train + 1, n_train, pass == 1, why, sizeof why);
      if (rc == 2) { later[m] = 1; continue; }
      k_train += rc == 1;
      if (rc < 0) {
        failed++;
        bp_progress_end(b);
        mb_die_msg("model %s: %s", b->models[m].key, why);
        /* its cells fail below with the reason of the missing checkpoint */
      }
    }
  free(later);
  bp_progress_end(b);
  return failed;
}

/* One cell, taken by this process: its row (ok, skipped, failed).  0, 1 a
 * failure recorded in a row, -1 the results file cannot be written. */
static int run_cell(bench *b, runner *r, cell *c, int i)
{
  const mb_spec_exp *e = &b->spec.exp[c->exp];
  const char *bwhy;
  int nd = bp_backend_devices(b, c->backend, &bwhy);
  if (nd <= c->device) {   /* unavailable: a skipped row with the reason */
    char reason[600];
    if (nd > 0) snprintf(reason, sizeof reason, "%s has %d device(s); device %d does not exist", c->backend, nd, c->device);
    else snprintf(reason, sizeof reason, "%s", bwhy[0] ? bwhy : "backend unavailable");
    if (bp_write_status_row(b, c, NULL, "skipped", reason) != 0) return -1;
    c->done = 1;
    return 0;
  }
  char label[700], why[1024] = "";
  bp_cell_label(b, c, label, sizeof label);
  bp_progress(b, i, label);
  double t0 = mb_now();
  int rc, failed = 0;
  if (bp_is_perf(e)) {
    bp_runner_close(r);   /* the measurement opens the backend itself */
    rc = bp_run_perf_cell(b, c, why, sizeof why);
  } else {
    if (!r->open || strcmp(r->backend, c->backend) != 0 || r->device != c->device || strcmp(r->data, e->data) != 0 ||
        r->per_class != e->train_per_class || r->test_per_class != e->test_per_class)
      rc = bp_runner_open(r, c, e, why, sizeof why);
    else
      rc = 0;
    if (rc == 0) rc = c->me ? bp_run_forget_cell(b, r, c, why, sizeof why) : bp_run_fim_cell(b, r, c, why, sizeof why);
  }
  if (rc == -2) { bp_runner_close(r); return -1; }   /* the results file cannot be written */
  if (rc == -3) {   /* a performance cell that wrote its own failed rows */
    failed = 1;
    bp_progress_end(b);
    mb_die_msg("cell %s failed: %s", c->id, why);
  } else if (rc != 0) {
    failed = 1;
    bp_progress_end(b);
    mb_die_msg("cell %s failed: %s", c->id, why);
    if (bp_write_status_row(b, c, r->open ? &r->s : NULL, "failed", why) != 0) { bp_runner_close(r); return -1; }
    bp_runner_close(r);   /* a backend error is sticky: start afresh */
  }
  c->done = 1;
  double dt = mb_now() - t0;
  int slot = bp_method_slot(c);
  b->spent_by_method[slot] += dt;
  b->count_by_method[slot]++;
  b->spent_all += dt;
  b->count_all++;
  b->n_done++;
  const char *pause = getenv("MB_BENCH_PAUSE_MS");   /* test hook: widen the window for a kill */
  if (pause && atoi(pause) > 0) usleep((useconds_t)atoi(pause) * 1000u);
  return failed;
}

static int run_all(bench *b)
{
  mb_session_quiet(1);   /* a failed cell or model is said once, by its line below */
  for (int i = 0; i < b->n_cells; i++) b->n_todo += !b->cells[i].done;
  if (!b->n_todo) {
    fprintf(stderr, "mnemobench bench: every cell of %s is done (%d cells) in %s\n", b->spec.path,
            b->n_cells, b->results_path);
    return 0;
  }
  /* models that failed to train are said by their own line; their cells fail
   * below (each counted once, as a cell) */
  int model_failures = train_models(b), failures = 0;
  runner r;
  memset(&r, 0, sizeof r);
  r.model = -1;
  /* each cell taken under the results file's lock (bp_take_cell); cells
   * another writer holds come last, waiting for it: if it dies, they run here */
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < b->n_cells; i++) {
      cell *c = &b->cells[i];
      if (c->done || (pass == 1 && !c->busy)) continue;
      int took = bp_take_cell(b, c, pass == 1);
      if (took < 0) { bp_runner_close(&r); return -1; }
      if (took != 1) continue;
      int rc = run_cell(b, &r, c, i);
      mb_results_release(&b->out, c->id);
      if (rc < 0) { bp_runner_close(&r); return -1; }
      failures += rc;
    }
  bp_runner_close(&r);
  bp_progress_end(b);
  char el[32];
  bp_fmt_dur(mb_now() - b->t_start, el, sizeof el);
  char models[64] = "";
  if (model_failures) snprintf(models, sizeof models, ", %d model(s) failed to train", model_failures);
  fprintf(stderr, "mnemobench bench: %d cell(s) run in %s (%d failed%s); %d by another writer; rows in %s\n",
          b->n_done, el, failures, models, b->n_elsewhere, b->results_path);
  return failures || model_failures ? 1 : 0;
}

static int parse_shard(const char *s, bench *b)
{
  char *end;
  long i = strtol(s, &end, 10);
  if (end == s || *end != '/') return -1;
  const char *q = end + 1;
  long n = strtol(q, &end, 10);
  if (end == q || *end || n < 1 || n > 100000 || i < 0 || i >= n) return -1;
  b->shard_i = (int)i;
  b->shard_n = (int)n;
  return 0;
}

int mb_cmd_bench(int argc, char **argv)
{
  static const struct option lo[] = {
    {"results", required_argument, 0, 'r'}, {"cache", required_argument, 0, 'c'},
    {"retry", no_argument, 0, 'R'},         {"list", no_argument, 0, 'l'},
    {"data", required_argument, 0, 'd'},    {"help", no_argument, 0, 'h'},
    {"shard", required_argument, 0, 's'},   {"stage", required_argument, 0, 'S'},
    {"backend", required_argument, 0, 'b'}, {"experiment", required_argument, 0, 'e'},
    {0, 0, 0, 0},
  };
  static bench b;
  memset(&b, 0, sizeof b);
  const char *results = NULL, *cache = NULL, *data = NULL;
  optind = 1;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch (ch) {
    case 'r': results = optarg; break;
    case 'c': cache = optarg; break;
    case 'R': b.retry = 1; break;
    case 'l': b.list = 1; break;
    case 'd': data = optarg; break;
    case 'h': fputs(k_usage, stdout); return 0;
    case 's':
      if (parse_shard(optarg, &b) != 0) {
        mb_die_msg("bench: --shard '%s': expected I/N with 0 <= I < N (e.g. 0/4)", optarg);
        return 2;
      }
      break;
    case 'S':
      if (strcmp(optarg, "train") && strcmp(optarg, "all")) {
        mb_die_msg("bench: --stage '%s': expected train or all", optarg);
        return 2;
      }
      b.stage_train = strcmp(optarg, "train") == 0;
      break;
    case 'b':
      if (mb_backend_index(optarg) < 0) {
        mb_die_msg("bench: --backend '%s': unknown backend", optarg);
        return 2;
      }
      if (b.n_only_backends == 16) { mb_die_msg("bench: more than 16 --backend options"); return 2; }
      b.only_backends[b.n_only_backends++] = optarg;
      break;
    case 'e':
      if (b.n_only_exps == 16) { mb_die_msg("bench: more than 16 --experiment options"); return 2; }
      b.only_exps[b.n_only_exps++] = optarg;
      break;
    default:
      mb_die_msg("bench: unknown or incomplete option '%s'\n%s", argv[optind - 1], k_usage);
      return 2;
    }
  }
  if (optind != argc - 1) {
    mb_die_msg("bench: expected one SPEC file\n%s", k_usage);
    return 2;
  }
  char err[1024];
  if (mb_spec_parse_file(argv[optind], &b.spec, err, sizeof err) != 0) {
    mb_die_msg("%s", err);
    return 2;
  }
  for (int j = 0; j < b.n_only_exps; j++) {
    int found = 0;
    char known[512] = "";
    for (int i = 0; i < b.spec.n_exp; i++) {
      found |= strcmp(b.spec.exp[i].name, b.only_exps[j]) == 0;
      snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", b.spec.exp[i].name);
    }
    if (!found) {
      mb_die_msg("bench: --experiment '%s': %s has no such experiment (it has: %s)", b.only_exps[j], b.spec.path, known);
      return 2;
    }
  }
  if (data) {
    if (strlen(data) >= sizeof b.spec.exp[0].data) {
      mb_die_msg("bench: --data path longer than %zu characters", sizeof b.spec.exp[0].data - 1);
      return 2;
    }
    for (int i = 0; i < b.spec.n_exp; i++) snprintf(b.spec.exp[i].data, sizeof b.spec.exp[i].data, "%s", data);
  }
  b.results_path = results ? results : b.spec.results;
  b.cache = cache ? cache : b.spec.cache;
  b.t_start = mb_now();
  if (bp_enumerate(&b) != 0) return 2;
  /* a results file one version of a spec wrote is the rows of one computation:
   * stale rows of changed settings beside new ones would mix two (the full plan:
   * before --backend, --experiment and --shard) */
  if (!b.list && !b.stage_train) {
    int v = bp_check_versions(&b, err, sizeof err);
    if (v < 0) {
      mb_die_msg("%s", err);
      free(b.cells);
      free(b.models);
      return 2;
    }
    if (v > 0) fprintf(stderr, "%s\n", err);
  }
  bp_select(&b);
  bp_mark_done(&b);
  int rc = 0;
  if (b.list) {
    int nd = 0;
    for (int i = 0; i < b.n_cells; i++) {
      printf("%-5s %s\n", b.cells[i].done ? "done" : "todo", b.cells[i].id);
      nd += b.cells[i].done;
    }
    printf("%d cells, %d done, %d to run; %d models (cache %s)\n", b.n_cells, nd, b.n_cells - nd, b.n_models,
           b.cache);
  } else if (b.stage_train) {
    int nd = 0;
    for (int i = 0; i < b.n_cells; i++) nd += b.cells[i].done;
    fprintf(stderr, "mnemobench bench: %s --stage train: the models of %d cell(s) to run, cache %s\n", b.spec.path,
            b.n_cells - nd, b.cache);
    rc = train_models(&b) != 0;
  } else {
    /* the directory of the results file */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", b.results_path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) { *slash = 0; bp_mkdir_p(dir); }
    if (mb_results_open(&b.out, b.results_path, err, sizeof err) != 0) {
      mb_die_msg("%s", err);
      rc = 1;
    } else {
      int before = 0;
      for (int i = 0; i < b.n_cells; i++) before += b.cells[i].done;
      char shard[48] = "";
      if (b.shard_n) snprintf(shard, sizeof shard, " (shard %d/%d)", b.shard_i, b.shard_n);
      fprintf(stderr, "mnemobench bench: %s: %d cells%s (%d done before), results in %s\n", b.spec.path,
              b.n_cells, shard, before, b.results_path);
      rc = run_all(&b) != 0;
      mb_results_close(&b.out);
    }
  }
  free(b.cells);
  free(b.models);
  return rc;
}

