/* mnemobench slurm SPEC: the batch scripts that run a spec on a Slurm
 * cluster (and, with --submit, their submission): a training job that fills
 * the model cache, a job array over N shards of the cells that depends on it,
 * and a report job that depends on the array.  Each shard appends to its own
 * results file, so a requeued or resubmitted task resumes its own cells only;
 * the cache is shared under its locks (bench: --stage train, --shard I/N). */
#define _GNU_SOURCE
#include "harness/bench_internal.h"
#include "harness/commands.h"
#include "harness/common.h"
#include "harness/spec.h"
#include "mb/registry.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char k_usage[] =
  "usage: mnemobench slurm SPEC [--partition P] [--gres G] [--array N] [--backend NAME]...\n"
  "                       [--dir DIR] [--cache DIR] [--data DIR] [--cpus-per-task N]\n"
  "                       [--time T] [--exclusive] [--submit]\n"
  "Writes the Slurm batch scripts that run the spec on a cluster into DIR (default\n"
  "slurm/NAME, plus -PARTITION and -BACKEND when given):\n"
  "  train.sbatch   bench SPEC --stage train: every model the cells need, into the cache\n"
  "  shards.sbatch  a job array of N tasks (--array, default 4), task I running\n"
  "                 bench SPEC --shard I/N into DIR/results/shard-I-of-N.jsonl (requeueable;\n"
  "                 a resubmitted task resumes its own cells)\n"
  "  report.sbatch  mnemobench report DIR/results/shard-*-of-N.jsonl --out DIR/report\n"
  "  submit.sh      sbatch of the three: the array after the training job (afterok), the\n"
  "                 report after the array (afterok; cancelled if that can no longer be)\n"
  "--submit runs submit.sh (sbatch on PATH; SLURM_CONF as usual) and prints the job ids.\n"
  "The cache (default: the spec's, made absolute) and DIR must be on a file system every\n"
  "node sees; the locks are fcntl locks, which NFS supports.  A cross-vendor study is one\n"
  "submission per partition (e.g. --partition a100 --backend cuda, --partition mi250\n"
  "--backend opencl), and one `mnemobench report` over all their results files.\n"
  "  --partition P      #SBATCH --partition for every job\n"
  "  --gres G           #SBATCH --gres for the training and shard jobs (e.g. gpu:1)\n"
  "  --backend NAME     only the spec's cells on this backend (repeatable)\n"
  "  --cpus-per-task N  #SBATCH --cpus-per-task (default 1), also the backends' MB_THREADS\n"
  "  --time T           #SBATCH --time for the training and shard jobs\n"
  "  --exclusive        #SBATCH --exclusive for them: no other job shares their nodes, as\n"
  "                     the timings need when nodes are shared\n";

/* Slurm option values go into #SBATCH lines: a plain set of characters. */
static int plain(const char *s)
{
  if (!*s) return 0;
  for (; *s; s++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:,=+-/[]", *s)) return 0;
  return 1;
}

/* A path in single quotes for sh; none has a quote or a newline (checked). */
static int quotable(const char *s) { return !strchr(s, '\'') && !strchr(s, '\n'); }

static int abs_path(const char *p, char *out, size_t len)
{
  if (p[0] == '/') return snprintf(out, len, "%s", p) >= (int)len ? -1 : 0;
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) return -1;
  return snprintf(out, len, "%s/%s", cwd, p) >= (int)len ? -1 : 0;
}

static int mkdirs(const char *dir)
{
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
      *p = '/';
    }
  return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Writes text to dir/name whole (temp file + rename). */
static int write_script(const char *dir, const char *name, const char *text, int exec)
{
  char path[PATH_MAX + 64], tmp[PATH_MAX + 96];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) { mb_die_msg("slurm: cannot write %s: %s", tmp, strerror(errno)); return -1; }
  fputs(text, f);
  if (fclose(f) != 0 || chmod(tmp, exec ? 0755 : 0644) != 0 || rename(tmp, path) != 0) {
    mb_die_msg("slurm: cannot write %s: %s", path, strerror(errno));
    remove(tmp);
    return -1;
  }
  return 0;
}

typedef struct {
  char *p;
  size_t n, cap;
} sbuf;

static void add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(sbuf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (k < 0) return;
  if (b->n + (size_t)k + 1 > b->cap) {
    size_t nc = (b->cap + (size_t)k + 1) * 2;
    char *np = realloc(b->p, nc);
    if (!np) return;
    b->p = np;
    b->cap = nc;
  }
  va_start(ap, fmt);
  vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
  va_end(ap);
  b->n += (size_t)k;
}

typedef struct {
  const char *partition, *gres, *time, *data;
  const char *backends[16];
  int n_backends, shards, cpus, exclusive;
  char bin[PATH_MAX], spec[PATH_MAX], dir[PATH_MAX], cache[PATH_MAX], cwd[PATH_MAX];
  const char *name;
} plan;

/* The #SBATCH lines (Slurm reads them up to the first command), then the
 * environment: MB_THREADS from the job's CPUs unless set. */
static void header(sbuf *b, const plan *p, const char *job, int gpu, const char *extra)
{
  add(b, "#!/bin/sh\n# generated by mnemobench slurm %s (mnemobench slurm --help)\n", p->spec);
  add(b, "#SBATCH --job-name=mb-%s-%s\n", p->name, job);
  if (p->partition) add(b, "#SBATCH --partition=%s\n", p->partition);
  if (gpu && p->gres) add(b, "#SBATCH --gres=%s\n", p->gres);
  if (gpu && p->time) add(b, "#SBATCH --time=%s\n", p->time);
  if (gpu && p->exclusive) add(b, "#SBATCH --exclusive\n");
  add(b, "#SBATCH --cpus-per-task=%d\n", gpu ? p->cpus : 1);
  add(b, "#SBATCH --chdir=%s\n", p->cwd);
  add(b, "#SBATCH --output=%s/logs/%s\n", p->dir, *extra ? "%x-%A_%a.out" : "%x-%j.out");
  add(b, "#SBATCH --kill-on-invalid-dep=yes\n%s", extra);
  add(b, "set -e\n[ -n \"${MB_THREADS:-}\" ] || export MB_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"\n");
}

/* The options that choose the cells, the same in the training and shard jobs. */
static void cell_options(sbuf *b, const plan *p)
{
  add(b, " --cache '%s'", p->cache);
  for (int i = 0; i < p->n_backends; i++) add(b, " --backend %s", p->backends[i]);
  if (p->data) add(b, " --data '%s'", p->data);
}

int mb_cmd_slurm(int argc, char **argv)
{
  static const struct option lo[] = {
    {"partition", required_argument, 0, 'p'}, {"gres", required_argument, 0, 'g'},
    {"array", required_argument, 0, 'a'},     {"backend", required_argument, 0, 'b'},
    {"dir", required_argument, 0, 'D'},       {"cache", required_argument, 0, 'c'},
    {"data", required_argument, 0, 'd'},      {"cpus-per-task", required_argument, 0, 'C'},
    {"time", required_argument, 0, 't'},      {"submit", no_argument, 0, 's'},
    {"exclusive", no_argument, 0, 'x'},       {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
  };
  static plan p;
  memset(&p, 0, sizeof p);
  p.shards = 4;
  p.cpus = 1;
  const char *dir = NULL, *cache = NULL;
  int submit = 0, ch;
  char *end;
  optind = 1;
  opterr = 0;
  while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch (ch) {
    case 'p': p.partition = optarg; break;
    case 'g': p.gres = optarg; break;
    case 't': p.time = optarg; break;
    case 'D': dir = optarg; break;
    case 'c': cache = optarg; break;
    case 'd': p.data = optarg; break;
    case 's': submit = 1; break;
    case 'x': p.exclusive = 1; break;
    case 'a':
      p.shards = (int)strtol(optarg, &end, 10);
      if (*end || end == optarg || p.shards < 1 || p.shards > 10000) {
        mb_die_msg("slurm: --array '%s': expected a number of shards from 1 to 10000", optarg);
        return 2;
      }
      break;
    case 'C':
      p.cpus = (int)strtol(optarg, &end, 10);
      if (*end || end == optarg || p.cpus < 1 || p.cpus > 4096) {
        mb_die_msg("slurm: --cpus-per-task '%s': expected a number from 1 to 4096", optarg);
        return 2;
      }
      break;
    case 'b':
      if (mb_backend_index(optarg) < 0) { mb_die_msg("slurm: --backend '%s': unknown backend", optarg); return 2; }
      if (p.n_backends == 16) { mb_die_msg("slurm: more than 16 --backend options"); return 2; }
      p.backends[p.n_backends++] = optarg;
      break;
    case 'h': fputs(k_usage, stdout); return 0;
    default:
      mb_die_msg("slurm: unknown or incomplete option '%s'\n%s", argv[optind - 1], k_usage);
      return 2;
    }
  }
  if (optind != argc - 1) {
    mb_die_msg("slurm: expected one SPEC file\n%s", k_usage);
    return 2;
  }
  const char *bad = p.partition && !plain(p.partition) ? "--partition" : p.gres && !plain(p.gres) ? "--gres"
                  : p.time && !plain(p.time) ? "--time" : NULL;
  if (bad) { mb_die_msg("slurm: %s: only letters, digits and _.:,=+-/[] are allowed", bad); return 2; }
  static mb_spec spec;
  char err[1024];
  if (mb_spec_parse_file(argv[optind], &spec, err, sizeof err) != 0) {
    mb_die_msg("%s", err);
    return 2;
  }
  p.name = spec.name;
  /* the data: a folder the jobs can read (they run in this directory), checked
   * here rather than in every job */
  for (int i = -1; i < spec.n_exp; i++) {
    const char *d = i < 0 ? p.data : spec.exp[i].data;
    struct stat st;
    if (!d || !strcmp(d, "default") || !strcmp(d, "synthetic")) continue;
    if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) {
      if (i < 0) mb_die_msg("slurm: --data '%s': no such folder (default | synthetic | a data folder every node sees)", d);
      else mb_die_msg("slurm: %s: experiment %s: data '%s' is no folder here (give --data DIR)", argv[optind], spec.exp[i].name, d);
      return 2;
    }
    if (i < 0) break;   /* --data replaces every experiment's */
  }
  /* the cells, as bench plans them: a backend without cells would give empty
   * shards, and more shards than cells empty ones */
  int n_cells = bp_count_cells(&spec, p.backends, p.n_backends);
  if (n_cells < 0) return 2;
  if (n_cells == 0) {
    char names[256] = "", has[512] = "";
    for (int i = 0; i < p.n_backends; i++)
      snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", p.backends[i]);
    for (int i = 0; i < spec.n_exp; i++)
      for (int k = 0; k < spec.exp[i].n_backends; k++) {
        const char *bn = spec.exp[i].backends[k];
        char pat[40];
        snprintf(pat, sizeof pat, "%s, ", bn);
        char list[520];
        snprintf(list, sizeof list, "%s, ", has);
        if (!strstr(list, pat)) snprintf(has + strlen(has), sizeof has - strlen(has), "%s%s", *has ? ", " : "", bn);
      }
    if (p.n_backends)
      mb_die_msg("slurm: %s has no cells on backend %s (its experiments run on: %s)", argv[optind], names, has);
    else
      mb_die_msg("slurm: %s has no cells", argv[optind]);
    return 2;
  }
  if (p.shards > n_cells) {
    fprintf(stderr, "mnemobench slurm: --array %d: %d cell(s) to run, so %d shard(s) (one cell each)\n", p.shards,
            n_cells, n_cells);
    p.shards = n_cells;
  }
  if (!plain(p.name)) { mb_die_msg("slurm: the spec's name '%s' is not a plain word", p.name); return 2; }
  if (!realpath(argv[optind], p.spec)) { mb_die_msg("slurm: %s: %s", argv[optind], strerror(errno)); return 2; }
  ssize_t n = readlink("/proc/self/exe", p.bin, sizeof p.bin - 1);
  if (n <= 0) { mb_die_msg("slurm: cannot find the mnemobench binary (/proc/self/exe)"); return 1; }
  p.bin[n] = 0;
  if (!getcwd(p.cwd, sizeof p.cwd)) { mb_die_msg("slurm: cannot read the working directory"); return 1; }
  char defdir[PATH_MAX];
  int o = snprintf(defdir, sizeof defdir, "slurm/%s", p.name);
  if (p.partition && o < (int)sizeof defdir) o += snprintf(defdir + o, sizeof defdir - (size_t)o, "-%s", p.partition);
  for (int i = 0; i < p.n_backends && o < (int)sizeof defdir; i++)
    o += snprintf(defdir + o, sizeof defdir - (size_t)o, "-%s", p.backends[i]);
  if (abs_path(dir ? dir : defdir, p.dir, sizeof p.dir) != 0 ||
      abs_path(cache ? cache : spec.cache, p.cache, sizeof p.cache) != 0) {
    mb_die_msg("slurm: a path is too long");
    return 2;
  }
  const char *paths[] = {p.bin, p.spec, p.dir, p.cache, p.cwd, p.data ? p.data : ""};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
    if (!quotable(paths[i])) { mb_die_msg("slurm: path %s has a quote or newline", paths[i]); return 2; }
  char sub[PATH_MAX + 16];
  snprintf(sub, sizeof sub, "%s/logs", p.dir);
  if (mkdirs(sub) != 0) { mb_die_msg("slurm: cannot create %s: %s", sub, strerror(errno)); return 1; }
  snprintf(sub, sizeof sub, "%s/results", p.dir);
  if (mkdirs(sub) != 0) { mb_die_msg("slurm: cannot create %s: %s", sub, strerror(errno)); return 1; }

  sbuf train = {0}, shards = {0}, report = {0}, sh = {0};
  header(&train, &p, "train", 1, "");
  add(&train, "exec '%s' bench '%s' --stage train --results /dev/null", p.bin, p.spec);
  cell_options(&train, &p);
  add(&train, "\n");

  char arr[64];
  snprintf(arr, sizeof arr, "#SBATCH --array=0-%d\n#SBATCH --requeue\n", p.shards - 1);
  header(&shards, &p, "shards", 1, arr);
  add(&shards, "i=\"$SLURM_ARRAY_TASK_ID\"\n");
  add(&shards, "exec '%s' bench '%s' --shard \"$i/%d\" --results '%s/results/shard-'\"$i\"'-of-%d.jsonl'", p.bin,
      p.spec, p.shards, p.dir, p.shards);
  cell_options(&shards, &p);
  add(&shards, "\n");

  header(&report, &p, "report", 0, "");
  add(&report, "exec '%s' report '%s/results/'shard-*-of-%d.jsonl --out '%s/report'\n", p.bin, p.dir, p.shards,
      p.dir);

  add(&sh, "#!/bin/sh\n# generated by mnemobench slurm: the training job, the shards after it, the report last\n");
  add(&sh, "set -e\ncd '%s'\n", p.dir);
  add(&sh, "t=$(sbatch --parsable train.sbatch); t=${t%%%%;*}\n");
  add(&sh, "a=$(sbatch --parsable --dependency=afterok:$t shards.sbatch); a=${a%%%%;*}\n");
  add(&sh, "r=$(sbatch --parsable --dependency=afterok:$a report.sbatch); r=${r%%%%;*}\n");
  add(&sh, "echo \"submitted: training job $t, shards $a (array 0-%d), report $r\"\n", p.shards - 1);
  add(&sh, "echo \"results: %s/results/shard-*-of-%d.jsonl  report: %s/report\"\n", p.dir, p.shards, p.dir);

  int rc = 0;
  if (!train.p || !shards.p || !report.p || !sh.p) { mb_die_msg("slurm: out of memory"); rc = 1; }
  else if (write_script(p.dir, "train.sbatch", train.p, 0) || write_script(p.dir, "shards.sbatch", shards.p, 0) ||
           write_script(p.dir, "report.sbatch", report.p, 0) || write_script(p.dir, "submit.sh", sh.p, 1))
    rc = 1;
  free(train.p); free(shards.p); free(report.p); free(sh.p);
  if (rc) return rc;
  printf("mnemobench slurm: %s: %d cell(s) in %d shard(s); scripts in %s (submit.sh submits them)\n", p.spec, n_cells,
         p.shards, p.dir);
  fflush(stdout);
  if (!submit) return 0;
  pid_t pid = fork();
  if (pid < 0) { mb_die_msg("slurm: fork: %s", strerror(errno)); return 1; }
  if (pid == 0) {
    char script[PATH_MAX + 16];
    snprintf(script, sizeof script, "%s/submit.sh", p.dir);
    execl("/bin/sh", "sh", script, (char *)NULL);
    _exit(127);
  }
  int st;
  if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    mb_die_msg("slurm: submission failed (sbatch on PATH? SLURM_CONF?); the scripts are in %s", p.dir);
    return 1;
  }
  return 0;
}
