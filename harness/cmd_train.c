/* mnemobench train: trains the MLP with mnemonic codes and writes a checkpoint. */
#include "harness/commands.h"
#include "harness/common.h"
#include "harness/session.h"

#include <stdio.h>

static const char k_usage[] =
  "usage: mnemobench train --out FILE [options]\n"
  "Trains an MLP (default: the paper's sigmoid model, 784-1000-10 on Fashion-MNIST) or ResNet-18\n"
  "with mnemonic codes and writes a checkpoint (weights, codes, BN statistics, settings, checksum,\n"
  "and where the data came from: forget and eval use that data unless --data says otherwise).\n"
  "  --model mlp|resnet18   architecture (default mlp); --width N ResNet width (64)\n"
  "  --train-limit N    train on the first N samples of each class (--test-limit N: test)\n"
  "  --data DIR         IDX (MNIST format) or CIFAR-10 binary folder (default: Debian's\n"
  "                     Fashion-MNIST, else the built-in synthetic set)\n"
  "  --synthetic        use the built-in synthetic data set\n"
  "  --backend NAME     ref, cpu, opencl, vulkan, cuda (default cpu); --device N\n"
  "  --epochs N         (default 60)   --batch N (128)   --lr X (0.01)\n"
  "  --t-mix X          probability of replacing a sample by its class code (0.1; 0 = plain model,\n"
  "                     which `mnemobench finetune` can fine-tune with codes later)\n"
  "  --codes DIST       uniform01 (default, as the authors' code) or normal01 (as the paper)\n"
  "  --arch SIZES       e.g. 784-1000-10; default: the data's input size, the paper's hidden\n"
  "                     layer of 1000, the data's class count   --act sigmoid|relu\n"
  "  --seed N           (default 1)   --json  print a result row instead of text\n";

int mb_cmd_train(int argc, char **argv)
{
  mb_opts o;
  int done;
  mb_opts_defaults(&o);
  if (mb_parse_opts(argc, argv, k_usage, &o, &done) != 0) return 2;
  if (done) return 0;
  if (!o.out) { mb_die_msg("train: --out FILE is required"); return 2; }
  mb_session s;
  mb_train_stats st;
  mb_eval_result ev;
  mb_checkpoint c;
  int rc = 1;
  if (mb_session_open(&s, &o, 1)) goto out;
  mb_opts_model_defaults(&o, mb_hparams_model(o.model_kind, MB_RN_RESNET18), s.train.name);
  if (mb_session_new_model(&s, &o) || mb_session_train(&s, &o, &st) ||
      mb_session_eval(&s, NULL, 0, &ev) || mb_session_to_checkpoint(&s, &o, &c))
    goto out;
  char err[512];
  if (mb_checkpoint_write(o.out, &c, err, sizeof err) != 0) {
    mb_die_msg("%s", err);
    mb_checkpoint_free(&c);
    goto out;
  }
  mb_checkpoint_free(&c);
  if (o.json) {
    mb_result r;
    char model[64];
    mb_session_result(&s, o.backend, model, sizeof model, &r);
    r.command = "train";
    r.method = "train";
    r.seed = o.seed;
    r.t_mix = o.t_mix;
    r.epochs = o.epochs;
    r.batch = o.batch;
    r.lr = o.lr;
    r.codes = mb_code_dist_name(o.code_dist);
    r.train_per_class = o.train_limit;
    r.test_per_class = o.test_limit;
    r.train_s = st.seconds;
    r.test_acc = ev.acc;
    r.n_forward = s.md.passes->forward;
    r.n_backward = s.md.passes->backward;
    mb_result_write_json(stdout, &r);
  } else {
    char name[64];
    mb_session_model_name(&s, name, sizeof name);
    printf("trained %s on %s (%s) with %s: %d epochs in %.1f s (%.0f samples/s; one run, host clock), "
           "test accuracy %.2f%%\n",
           name, s.train.name, s.train.synthetic ? "synthetic" : "real", s.be->info.name, o.epochs,
           st.seconds, (double)st.samples / st.seconds, ev.acc);
    printf("checkpoint written to %s\n", o.out);
  }
  rc = 0;
out:
  mb_session_close(&s);
  return rc;
}
