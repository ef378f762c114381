/* mnemobench quickstart (also a bare `mnemobench`): the paper's MLP experiment
 * end to end — train with codes, forget class 0, print a paper-style table. */
#include "harness/commands.h"
#include "methods/methods.h"
#include "harness/common.h"
#include "harness/lambda_choice.h"
#include "harness/session.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char k_usage[] =
  "usage: mnemobench quickstart [--backend NAME] [--epochs N] [--data DIR | --synthetic]\n"
  "                             [--classes LIST] [--seed N] [--t-mix X] [--lambda1 X] [--lambda2 X] [--json]\n"
  "                             [--model mlp|resnet18] [--width N] [--train-limit N] [--test-limit N]\n"
  "Trains the paper's MNIST MLP (784-1000-10, sigmoid) with mnemonic codes on Fashion-MNIST\n"
  "(or the synthetic set when it is not installed), forgets class 0 and prints A_R and E_F\n"
  "before and after, the forgetting time, backend and device.  Default backend: cpu.\n"
  "--model resnet18: the CIFAR ResNet-18 of docs/specification.md §0.2 (1×28×28 variant on Fashion-MNIST;\n"
  "on a CIFAR-10 folder with §0.1 crop+flip and cosine lr); unless given, λ1 1e-5 and λ2 1e4\n"
  "on CIFAR-10 (with t_mix 0.3), λ1 1e-4 and λ2 1e5 on Fashion-MNIST at width 64, else from\n"
  "the codes (forget --help).  --width N narrows it (64 = the real model); --train-limit N and\n"
  "--test-limit N keep the first N samples of each class (a ResNet is slow on a CPU).\n"
  "--warmups N untimed forgetting runs first (default 0), --repeats N timed ones (default 1;\n"
  "the time printed is their median).  Also as for train: --batch N, --lr X, --device N,\n"
  "--engine generic|auto (generic: the optional accelerated ops composed from the required ones).\n";

int mb_cmd_quickstart(int argc, char **argv)
{
  mb_opts o;
  int done, rc = 1;
  mb_opts_defaults(&o);
  if (mb_parse_opts(argc, argv, k_usage, &o, &done) != 0) return 2;
  if (done) return 0;
  const mb_method *me = mb_method_find("mnemonic");
  double params[MB_METHOD_MAX_PARAMS];
  mb_session s;
  mb_train_stats st;
  mb_eval_result before, after;
  mb_forget_timing t;
  mb_checkpoint ck;   /* the trained weights, put back between runs */
  int have_ck = 0;
  int forget[MB_MAX_FORGET] = {0}, nf = 1;
  if (mb_session_open(&s, &o, 1)) goto out;
  const char *hp_model = mb_hparams_model(o.model_kind, MB_RN_RESNET18);
  mb_opts_model_defaults(&o, hp_model, s.train.name);
  const char *lambda_source = mb_lambda_source(&o, me, s.train.name, hp_model, o.width);
  if (!lambda_source) { rc = 2; goto out; }
  int from_codes = strcmp(lambda_source, "codes") == 0;
  mb_lambda_choice lc = {0};
  if (mb_opts_method_params(&o, me, params) != 0) { rc = 2; goto out; }
  if (mb_session_new_model(&s, &o)) goto out;
  if (o.classes && mb_parse_classes(o.classes, s.n_classes, forget, MB_MAX_FORGET, &nf) != 0) {
    rc = 2;
    goto out;
  }
  if (!o.json)
  {
    char name[64];
    mb_session_model_name(&s, name, sizeof name);
    char lambda[64];
    if (from_codes) snprintf(lambda, sizeof lambda, "from the codes");
    else snprintf(lambda, sizeof lambda, "%g/%g", params[0], params[1]);
    printf("mnemobench quickstart: %s on %s (%d train, %d test), %d epochs, t_mix %.2f, "
           "lambda %s, seed %llu, backend %s (%s)\n", name,
           s.train.synthetic ? "SYNTHETIC data" : s.train.name, s.train.n, s.test.n, o.epochs,
           o.t_mix, lambda, (unsigned long long)o.seed, o.backend, s.be->info.name);
  }
  /* --warmups N untimed runs, --repeats N timed ones (default 1), the trained weights put
   * back before each; the last run's model is evaluated */
  int reps = o.repeats_given ? o.repeats : 1;
  double run_s[1000], run_dev[1000];
  if (mb_session_train(&s, &o, &st) ||
      (from_codes && mb_lambda_choose(&s, me, forget, nf, params, &lc)) ||
      mb_session_eval(&s, forget, nf, &before) ||
      (o.warmups + reps > 1 && mb_session_to_checkpoint(&s, &o, &ck) != 0))
    goto out;
  have_ck = o.warmups + reps > 1;
  if (mb_session_forget_runs(&s, &ck, me, params, forget, nf, o.warmups, reps, &t, run_s, run_dev) ||
      mb_session_eval(&s, forget, nf, &after))
    goto out;
  mb_result r;
  char model[64];
  mb_session_result(&s, o.backend, model, sizeof model, &r);
  mb_result_set_forgetting(&r, me, params, &before, &after, &t);
  mb_result_set_runs(&r, run_s, run_dev, reps);
  r.warmups = o.warmups;
  r.command = "quickstart";
  r.forget = forget;
  r.n_forget = nf;
  r.seed = o.seed;
  r.t_mix = o.t_mix;
  r.epochs = o.epochs;
  r.batch = o.batch;
  r.lr = o.lr;
  r.codes = mb_code_dist_name(o.code_dist);
  r.train_per_class = o.train_limit;
  r.test_per_class = o.test_limit;
  r.train_s = st.seconds;
  r.lambda_source = lambda_source;
  if (o.json) {
    mb_result_write_json(stdout, &r);
  } else {
    printf("\ntrained in %.1f s (%.0f samples/s; one run); test accuracy %.2f%%\n\n", st.seconds,
           (double)st.samples / st.seconds, before.acc);
    printf("| %-22s | %8s | %8s | %12s | %-8s |\n", "model", "A_R", "E_F", "forget time", "sign");
    printf("|------------------------|----------|----------|--------------|----------|\n");
    printf("| %-22s | %8.2f | %8.2f | %12s | %-8s |\n", "trained (before)", before.A_R, before.E_F, "-", "-");
    char ms[32], runs[160];
    snprintf(ms, sizeof ms, "%.3f ms", 1e3 * r.forget_s);
    mb_result_runs_text(&r, runs, sizeof runs);
    printf("| %-22s | %8.2f | %8.2f | %12s | %-8s |\n", "forgotten (mnemonic)", after.A_R, after.E_F,
           ms, t.outcome.sign > 0 ? "plus" : "minus");
    printf("\nforget class(es) %s; backend %s, device %s; forgetting used %lld forward and %lld "
           "backward sample passes; forget time: host clock, %s%s\n", o.classes ? o.classes : "0",
           o.backend, s.be->info.name, t.n_forward, t.n_backward, runs,
           t.device_ms >= 0 ? "" : " (no device timer)");
    if (from_codes) mb_lambda_print(&lc);
  }
  rc = 0;
out:
  if (have_ck) mb_checkpoint_free(&ck);
  mb_session_close(&s);
  return rc;
}
