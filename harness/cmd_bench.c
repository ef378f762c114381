/* mnemobench bench-train: training throughput of the paper's MLP at batch 128
 * (or of the ResNet-18 at batch 32), forgetting latency and GEMM rate, per
 * backend (harness/throughput.c). */
#include "mb/registry.h"
#include "harness/commands.h"
#include "harness/common.h"
#include "harness/throughput.h"

#include <stdio.h>

static const char k_usage[] =
  "usage: mnemobench bench-train [--model mlp|resnet18] [--width N] [--backend NAME]... [--repeats N]\n"
  "         [--steps N] [--data DIR | --synthetic] [--train-limit N] [--json]\n"
  "For each backend (default: every available one): training throughput of the paper's MLP\n"
  "(784-1000-10 sigmoid, batch 128, t_mix 0.1; samples/s over 50 steps), forgetting latency\n"
  "of class 0 with mnemonic codes, and SGEMM GFLOP/s at the MLP's shapes.  Each figure is\n"
  "the median of N repeats (default 5) after 2 warm-ups, with min and max; every timed\n"
  "region ends with a device sync.  Training rates use the host clock; the GEMM and forgetting\n"
  "figures also give a device timer (CUDA events, OpenCL profiling, Vulkan timestamps) where\n"
  "the backend has one.\n"
  "--model resnet18: the ResNet-18 for the data (1x28x28 Fashion-MNIST: the CIFAR stem, width\n"
  "--width N, default 64) at batch 32 (the README's quickstart), samples/s over --steps N steps\n"
  "(default 8: about a minute per backend on 2 CPU cores), and forgetting class 0 of 10 with\n"
  "mnemonic codes (the data set's lambda1/lambda2); no GEMM rows.  --steps N also sets the MLP's\n"
  "step count.\n";

int mb_cmd_bench_train(int argc, char **argv)
{
  mb_opts o;
  int done;
  mb_opts_defaults(&o);
  if (mb_parse_opts(argc, argv, k_usage, &o, &done) != 0) return 2;
  if (done) return 0;
  if (o.model_kind != MB_MODEL_MLP && o.model_kind != MB_MODEL_RESNET18) {
    mb_die_msg("bench-train does not support %s yet", mb_model_kind_name(o.model_kind));
    return 2;
  }
  for (int i = 0; i < o.n_backends; i++)
    if (mb_backend_index(o.backends[i]) < 0) {
      mb_die_msg("bench-train: --backend '%s': unknown backend (known: %s)", o.backends[i],
                 mb_backend_names());
      return 2;
    }
  if (!o.json) printf("mnemobench bench-train: median of %d repeats after 2 warm-ups\n", o.repeats);
  int failed = 0;   /* an unavailable backend is skipped, not failed */
  if (o.n_backends) {
    for (int i = 0; i < o.n_backends; i++) failed |= mb_throughput_backend(&o, o.backends[i], NULL) != 0;
  } else {
    const mb_backend_entry *e;
    int n = mb_backend_entries(&e);
    for (int i = 0; i < n; i++) failed |= mb_throughput_backend(&o, e[i].name, NULL) != 0;
  }
  return failed ? 1 : 0;
}
