/* mnemobench agree: every op case on every available backend against the ref
 * oracle, printed as an op × backend matrix or as JSON lines. */
#include "harness/agree.h"
#include "harness/commands.h"
#include "harness/json.h"

#include "mb/registry.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BACKENDS 8

static const char k_usage[] =
  "usage: mnemobench agree [--backend B]... [--device N] [--json] [--filter SUBSTR] [--seed N]\n"
  "Runs every op case on each backend and on the ref oracle and compares the results\n"
  "(canaries, NaN/inf positions, NMSE, max error, exact integers, repeatability).\n"
  "  --backend B     target backend (repeatable; default: every one except ref)\n"
  "  --device N      device index of each backend (default 0)\n"
  "  --json          one JSON object per case and backend instead of the matrix\n"
  "  --filter SUBSTR only cases whose id contains SUBSTR (e.g. gemm/, softmax)\n"
  "  --seed N        input seed (default: MB_SEED, else 20231)\n"
  "Exit status: 0 all run cases pass, 1 a case failed, 2 usage error.\n";

typedef struct {
  const char *backends[MAX_BACKENDS];
  int n_backends;
  int device, json, have_seed;
  const char *filter;
  uint64_t seed;
} agree_opts;

/* One backend: its results for the selected cases, or why it did not run. */
typedef struct {
  const char *name;
  char device[128];
  char skipped[256];
  agree_result *res;
  int pass, fail, skip;
} column;

/* 0: run; 1: --help; -1: usage error (already reported). */
static int parse(int argc, char **argv, agree_opts *o)
{
  static const struct option k_long[] = {
    {"backend", required_argument, 0, 'b'}, {"device", required_argument, 0, 'd'},
    {"json", no_argument, 0, 'j'},          {"filter", required_argument, 0, 'f'},
    {"seed", required_argument, 0, 's'},    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
  };
  memset(o, 0, sizeof *o);
  optind = 1;
  opterr = 0;
  int c;
  char *end;
  while ((c = getopt_long(argc, argv, "", k_long, NULL)) != -1) {
    switch (c) {
    case 'b':
      if (!mb_backend_lookup(optarg)) {
        fprintf(stderr, "mnemobench agree: unknown backend '%s' (known: %s)\n", optarg,
                mb_backend_names());
        return -1;
      }
      if (o->n_backends == MAX_BACKENDS) {
        fprintf(stderr, "mnemobench agree: at most %d --backend options\n", MAX_BACKENDS);
        return -1;
      }
      o->backends[o->n_backends++] = optarg;
      break;
    case 'd': {
      long v = strtol(optarg, &end, 10);
      if (end == optarg || *end || v < 0 || v > 64) {
        fprintf(stderr, "mnemobench agree: --device: '%s' is not an index in [0, 64]\n", optarg);
        return -1;
      }
      o->device = (int)v;
      break;
    }
    case 'j': o->json = 1; break;
    case 'f': o->filter = optarg; break;
    case 's':
      o->seed = strtoull(optarg, &end, 0);
      if (end == optarg || *end || optarg[0] == '-') {
        fprintf(stderr, "mnemobench agree: --seed: '%s' is not a non-negative integer\n", optarg);
        return -1;
      }
      o->have_seed = 1;
      break;
    case 'h': fputs(k_usage, stdout); return 1;
    default:
      fprintf(stderr, "mnemobench agree: bad option '%s'\n%s", argv[optind - 1], k_usage);
      return -1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "mnemobench agree: unexpected argument '%s'\n%s", argv[optind], k_usage);
    return -1;
  }
  return 0;
}

static void default_backends(agree_opts *o)
{
  const mb_backend_entry *e;
  int n = mb_backend_entries(&e);
  for (int i = 0; i < n && o->n_backends < MAX_BACKENDS; i++)
    if (strcmp(e[i].name, "ref") != 0) o->backends[o->n_backends++] = e[i].name;
}

/* The selected cases (pointers into the table); returns their count. */
static int select_cases(const char *filter, const agree_case ***out)
{
  const agree_case *all;
  int n = agree_cases(&all), k = 0;
  *out = malloc((size_t)n * sizeof **out);
  if (!*out) return 0;
  for (int i = 0; i < n; i++)
    if (!filter || strstr(all[i].id, filter)) (*out)[k++] = &all[i];
  return k;
}

/* ---------------------------------------------------------------- output */

static void print_json(const column *col, const agree_result *r, const agree_case *c,
                       uint64_t seed)
{
  char num[32];
  mb_json j;
  mb_json_begin(&j);
  mb_json_str(&j, "op", c->fam->name);
  mb_json_str(&j, "case", c->id);
  mb_json_str(&j, "backend", col->name);
  mb_json_str(&j, "device", col->device);
  mb_json_str(&j, "status", r ? agree_status_name(r->status) : "skip");
  mb_json_num(&j, "nmse", r ? r->nmse : NAN);
  mb_json_num(&j, "max_rel", r ? r->max_rel : NAN);
  mb_json_raw(&j, "deterministic",
              !r || r->deterministic < 0 ? "null" : r->deterministic ? "true" : "false");
  snprintf(num, sizeof num, "%" PRIu64, seed);
  mb_json_raw(&j, "seed", num);
  mb_json_num(&j, "seconds", r ? r->seconds : NAN);
  mb_json_str(&j, "reason", r ? r->reason : col->skipped);
  puts(mb_json_end(&j));
  mb_json_free(&j);
}

static void cell(char *buf, size_t len, const agree_result *r)
{
  if (r->status == AGREE_SKIP) snprintf(buf, len, "skip");
  else if (isnan(r->nmse)) snprintf(buf, len, "%s", r->status == AGREE_PASS ? "PASS" : "FAIL");
  else if (r->nmse == 0.0) snprintf(buf, len, "%s 0", r->status == AGREE_PASS ? "PASS" : "FAIL");
  else snprintf(buf, len, "%s %.1e", r->status == AGREE_PASS ? "PASS" : "FAIL", r->nmse);
}

static void print_matrix(const column *cols, int ncol, const agree_case **cases, int ncase,
                         uint64_t seed)
{
  int w = 10;
  for (int i = 0; i < ncase; i++)
    if ((int)strlen(cases[i]->id) > w) w = (int)strlen(cases[i]->id);
  printf("op agreement against the ref oracle (seed %" PRIu64 "); cell: status, NMSE\n", seed);
  printf("%-*s", w + 2, "case");
  for (int b = 0; b < ncol; b++)
    if (!cols[b].skipped[0]) printf("  %-14s", cols[b].name);
  printf("\n");
  const agree_family *fam = NULL;
  for (int i = 0; i < ncase; i++) {
    if (cases[i]->fam != fam) {
      fam = cases[i]->fam;
      printf("[%s]\n", fam->name);
    }
    printf("  %-*s", w, cases[i]->id);
    for (int b = 0; b < ncol; b++) {
      if (cols[b].skipped[0]) continue;
      char c[32];
      cell(c, sizeof c, &cols[b].res[i]);
      printf("  %-14s", c);
    }
    printf("\n");
  }
}

/* Failures in full; skip reasons once per backend with their count. */
static void print_details(const column *cols, int ncol, int ncase, uint64_t seed)
{
  for (int b = 0; b < ncol; b++) {
    const column *col = &cols[b];
    if (col->skipped[0]) continue;
    for (int i = 0; i < ncase; i++) {
      const agree_result *r = &col->res[i];
      if (r->status != AGREE_FAIL) continue;
      printf("FAIL %s %s: %s\n     seed %" PRIu64 "; rerun: mnemobench agree --backend %s "
             "--filter %s --seed %" PRIu64 "\n", col->name, r->c->id, r->reason, seed, col->name,
             r->c->id, seed);
    }
    for (int i = 0; i < ncase; i++) {
      const agree_result *r = &col->res[i];
      int first = 1, count = 0;
      if (r->status != AGREE_SKIP) continue;
      for (int j = 0; j < ncase; j++)
        if (col->res[j].status == AGREE_SKIP && strcmp(col->res[j].reason, r->reason) == 0) {
          if (j < i) first = 0;
          count++;
        }
      if (first) printf("skip %s (%d case%s): %s\n", col->name, count, count == 1 ? "" : "s",
                        r->reason);
    }
  }
}

static void print_summary(const column *cols, int ncol, uint64_t seed)
{
  printf("\nsummary (seed %" PRIu64 ")\n", seed);
  for (int b = 0; b < ncol; b++) {
    const column *c = &cols[b];
    if (c->skipped[0]) printf("  %-8s skipped: %s\n", c->name, c->skipped);
    else printf("  %-8s %d pass, %d fail, %d skip  (%s)\n", c->name, c->pass, c->fail, c->skip,
                c->device);
  }
}

/* ---------------------------------------------------------------- running */

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void run_column(column *col, const agree_opts *o, const agree_case **cases, int ncase)
{
  agree_session *s = agree_open(col->name, o->device, col->skipped, sizeof col->skipped);
  if (!s) {
    if (!col->skipped[0]) snprintf(col->skipped, sizeof col->skipped, "unavailable");
    fprintf(stderr, "agree: %s: skipped: %s\n", col->name, col->skipped);
    if (o->json)
      for (int i = 0; i < ncase; i++) print_json(col, NULL, cases[i], o->seed);
    return;
  }
  col->skipped[0] = 0;
  snprintf(col->device, sizeof col->device, "%s", agree_target(s)->info.name);
  fprintf(stderr, "agree: %s (%s): %d cases...\n", col->name, col->device, ncase);
  double t0 = now_s();
  for (int i = 0; i < ncase; i++) {
    agree_result *r = &col->res[i];
    agree_run(s, cases[i], o->seed, r);
    if (r->status == AGREE_PASS) col->pass++;
    else if (r->status == AGREE_FAIL) col->fail++;
    else col->skip++;
    if (r->status == AGREE_FAIL)
      fprintf(stderr, "agree: FAIL %s %s: %s (seed %" PRIu64 ")\n", col->name, cases[i]->id,
              r->reason, o->seed);
    if (o->json) print_json(col, r, cases[i], o->seed);
  }
  fprintf(stderr, "agree: %s: %d pass, %d fail, %d skip in %.1f s\n", col->name, col->pass,
          col->fail, col->skip, now_s() - t0);
  agree_close(s);
}

int mb_cmd_agree(int argc, char **argv)
{
  agree_opts o;
  int st = parse(argc, argv, &o);
  if (st != 0) return st > 0 ? 0 : 2;
  if (!o.have_seed) o.seed = agree_base_seed();
  if (o.n_backends == 0) default_backends(&o);
  const agree_case **cases;
  int ncase = select_cases(o.filter, &cases);
  if (ncase == 0) {
    fprintf(stderr, "mnemobench agree: no case id contains '%s'\n", o.filter ? o.filter : "");
    free(cases);
    return 2;
  }
  column cols[MAX_BACKENDS];
  memset(cols, 0, sizeof cols);
  int any_fail = 0;
  for (int b = 0; b < o.n_backends; b++) {
    cols[b].name = o.backends[b];
    cols[b].res = calloc((size_t)ncase, sizeof *cols[b].res);
    if (!cols[b].res) {
      snprintf(cols[b].skipped, sizeof cols[b].skipped, "out of host memory");
      continue;
    }
    run_column(&cols[b], &o, cases, ncase);
    any_fail |= cols[b].fail > 0;
  }
  int any_ran = 0;
  for (int b = 0; b < o.n_backends; b++) any_ran |= !cols[b].skipped[0];
  if (!o.json) {
    /* a matrix with no backend column says nothing: print only why each was skipped */
    if (any_ran) print_matrix(cols, o.n_backends, cases, ncase, o.seed);
    print_summary(cols, o.n_backends, o.seed);
    print_details(cols, o.n_backends, ncase, o.seed);
  }
  for (int b = 0; b < o.n_backends; b++) free(cols[b].res);
  free(cases);
  return any_fail ? 1 : 0;
}
