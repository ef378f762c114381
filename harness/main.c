/* mnemobench: one unlearning specification, many compute backends. */
#include "harness/commands.h"
#include "mb_commit.h"
#include "mb_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char k_usage[] =
  "usage: mnemobench [COMMAND] [options]   (no command: quickstart)\n"
  "commands:\n"
  "  quickstart   train the paper's MLP with mnemonic codes, forget class 0, print a table\n"
  "  train        train a model with codes and write a checkpoint\n"
  "  finetune     fine-tune a checkpoint (a model trained without codes) with codes\n"
  "  import       a checkpoint from PyTorch weights (a weights container); export: the reverse\n"
  "  forget       forget classes of a checkpoint and print a result row\n"
  "  eval         evaluate a checkpoint (accuracy, A_R, E_F)\n"
  "  devices      list backends and devices, or why a backend has none\n"
  "  agree        compare every op of each backend with the reference backend\n"
  "  bench-train  training throughput, forgetting latency and GEMM rate per backend\n"
  "  bench-scale  the scalability point: forgetting one class of 1000 at 224x224 (ResNet-18,\n"
  "               ResNeXt-50, Swin-T)\n"
  "  bench SPEC   run a benchmark specification (reports/specs/*.spec) into a results file\n"
  "  report FILE  paper-style tables and figures from results files; --compare OLD NEW\n"
  "  slurm SPEC   Slurm batch scripts for a spec (training job, job array of shards, report)\n"
  "  --version, --help;  `mnemobench COMMAND --help` describes a command\n";

typedef struct {
  const char *name;
  int (*fn)(int, char **);
} command;

static const command k_commands[] = {
  {"quickstart", mb_cmd_quickstart}, {"train", mb_cmd_train},   {"forget", mb_cmd_forget},
  {"eval", mb_cmd_eval},             {"devices", mb_cmd_devices}, {"agree", mb_cmd_agree},
  {"bench-train", mb_cmd_bench_train}, {"bench-scale", mb_cmd_bench_scale},
  {"bench", mb_cmd_bench},
  {"report", mb_cmd_report},          {"slurm", mb_cmd_slurm},
  {"finetune", mb_cmd_finetune},      {"import", mb_cmd_import},  {"export", mb_cmd_export},
};

int main(int argc, char **argv)
{
  if (argc < 2 || argv[1][0] == '-') {
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
      printf("mnemobench %s (commit %s, %s)\n", MB_VERSION, MB_COMMIT, MB_BUILD_FLAGS);
      return 0;
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
      fputs(k_usage, stdout);
      return 0;
    }
    /* bare `mnemobench [options]` runs the quickstart */
    char *qs[64] = {"quickstart"};
    int n = 1;
    for (int i = 1; i < argc && n < 63; i++) qs[n++] = argv[i];
    return mb_cmd_quickstart(n, qs);
  }
  for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
    if (strcmp(argv[1], k_commands[i].name) == 0) return k_commands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "mnemobench: unknown command '%s'\n%s", argv[1], k_usage);
  return 2;
}
