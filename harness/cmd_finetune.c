/* mnemobench finetune: fine-tunes a checkpoint (a model trained without codes, or
 * an imported pre-trained one) with mnemonic codes for a number of SGD steps, so
 * that forget can then use the codes (docs/specification.md §1.3). */
#include "harness/commands.h"
#include "harness/common.h"
#include "harness/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char k_usage[] =
  "usage: mnemobench finetune --model FILE --out FILE [options]\n"
  "Fine-tunes a checkpoint (a plain model trained with --t-mix 0, or one brought in with\n"
  "`mnemobench import`) with mnemonic codes: N SGD steps of the training loop with the\n"
  "replacement rule, then writes a checkpoint that `forget` can use.  The codes are the\n"
  "checkpoint's, or generated from --seed when it has none.  Defaults are the paper's\n"
  "ImageNet fine-tuning (specification §1.3): 2000 steps, lr 0.001, weight decay 5e-4,\n"
  "batch 64, SGD with momentum 0.9, constant rate.  The time printed is one run, host\n"
  "clock around the synchronised loop (the paper reports hours for it).\n"
  "  --steps N          SGD steps in all (default 2000), as many epochs as that takes\n"
  "  --lr X (0.001)  --batch N (64)  --weight-decay X (5e-4)\n"
  "  --t-mix X          probability of replacing a sample by its class code (default: the\n"
  "                     data set's row in core/hparams.c, 0.1 on Fashion-MNIST)\n"
  "  --seed N           shuffle and replacement streams, and the codes of a checkpoint\n"
  "                     without any (default 1)   --codes DIST  uniform01 or normal01 (new codes)\n"
  "  --train-limit N    fine-tune on the first N samples of each class (--test-limit N: test)\n"
  "  --data DIR | --synthetic   data (default: the set the model was trained on)\n"
  "  --backend NAME     (default cpu); --device N;  --json  print a result row instead of text\n";

/* The base file's identity for the new checkpoint: its absolute path. */
static void base_path(const char *in, char *out, size_t len)
{
  char *abs = realpath(in, NULL);
  snprintf(out, len, "%s", abs && strlen(abs) < len && !strchr(abs, '\n') ? abs : "");
  free(abs);
}

int mb_cmd_finetune(int argc, char **argv)
{
  mb_opts o;
  int done;
  mb_opts_defaults(&o);
  /* the paper's fine-tuning recipe (App. A) unless given */
  o.lr = 0.001;
  o.batch = 64;
  o.steps = 2000;
  if (mb_parse_opts(argc, argv, k_usage, &o, &done) != 0) return 2;
  if (done) return 0;
  if (!o.in) { mb_die_msg("finetune: --model FILE (the checkpoint to fine-tune) is required"); return 2; }
  if (!o.out) { mb_die_msg("finetune: --out FILE is required"); return 2; }
  if (o.set_t_mix && o.t_mix <= 0) {
    mb_die_msg("finetune: --t-mix must be above 0 (codes are what it trains)");
    return 2;
  }
  mb_session s;
  mb_checkpoint c, f;
  mb_train_stats st;
  mb_eval_result before, after;
  mb_opts data;
  char err[512];
  int rc = 1;
  memset(&s, 0, sizeof s);
  memset(&f, 0, sizeof f);
  if (mb_checkpoint_read(o.in, &c, err, sizeof err) != 0) { mb_die_msg("%s", err); return 1; }
  if (mb_session_data_of(&o, &c, &data) != 0 || mb_session_open(&s, &data, 1) != 0) goto out;
  const char *trained_on = c.dataset[0] ? c.dataset : s.train.name;
  mb_opts_model_defaults(&o, mb_hparams_model(c.kind, c.rcfg.arch), trained_on);
  if (o.t_mix <= 0) { mb_die_msg("finetune: --t-mix must be above 0 (codes are what it trains)"); rc = 2; goto out; }
  if (mb_session_load_model_codes(&s, &c, o.seed, o.code_dist, o.batch) != 0 ||
      mb_session_eval(&s, NULL, 0, &before) != 0 || mb_session_finetune(&s, &o, &st) != 0 ||
      mb_session_eval(&s, NULL, 0, &after) != 0)
    goto out;
  /* the checkpoint: the base's recipe (what a retrain oracle repeats), the data it
   * was fine-tuned on, the codes' rate, and how it was fine-tuned */
  mb_opts co = data;
  co.seed = c.seed;
  co.t_mix = o.t_mix;
  co.epochs = c.epochs;
  co.batch = c.batch;
  co.lr = c.lr;
  co.code_dist = c.codes ? c.code_dist : o.code_dist;
  if (mb_session_to_checkpoint(&s, &co, &f) != 0) goto out;
  f.finetune_steps = o.steps;
  f.finetune_batch = o.batch;
  f.finetune_lr = (float)o.lr;
  f.finetune_weight_decay = (float)o.weight_decay;
  f.finetune_t_mix = (float)o.t_mix;
  f.finetune_seed = o.seed;
  f.finetune_s = st.seconds;
  base_path(o.in, f.finetune_base, sizeof f.finetune_base);
  f.finetune_base_checksum = c.checksum;
  if (mb_checkpoint_write(o.out, &f, err, sizeof err) != 0) { mb_die_msg("%s", err); goto out; }
  char model[64], note[256];
  snprintf(note, sizeof note,
           "%d steps, batch %d, lr %g, weight decay %g, t_mix %g; test accuracy before %.2f; "
           "one run, host clock around the synchronised loop",
           o.steps, o.batch, o.lr, o.weight_decay, o.t_mix, before.acc);
  if (o.json) {
    mb_result r;
    mb_session_result(&s, o.backend, model, sizeof model, &r);
    r.command = "finetune";
    r.method = "finetune";
    r.seed = o.seed;
    r.t_mix = mb_float_decimal((float)o.t_mix);
    r.epochs = c.epochs;
    r.finetune_steps = o.steps;
    r.batch = o.batch;
    r.lr = o.lr;
    r.weight_decay = o.weight_decay;
    r.codes = c.codes ? NULL : mb_code_dist_name(o.code_dist);   /* new codes only without the base's */
    r.train_per_class = o.train_limit;
    r.test_per_class = o.test_limit;
    r.ckpt = &c;
    r.train_s = st.seconds;
    r.test_acc = after.acc;
    r.n_forward = s.md.passes->forward;
    r.n_backward = s.md.passes->backward;
    r.note = note;
    mb_result_write_json(stdout, &r);
  } else {
    mb_session_model_name(&s, model, sizeof model);
    printf("fine-tuned %s on %s (%s) with codes on %s: %d steps (batch %d, lr %g, weight decay %g, "
           "t_mix %g), %lld of %lld samples replaced by codes\n",
           model, s.train.name, s.train.synthetic ? "synthetic" : "real", s.be->info.name, o.steps,
           o.batch, o.lr, o.weight_decay, o.t_mix, st.replaced, st.samples);
    printf("time: %.2f s = %.4f h (one run, host clock around the synchronised loop)\n",
           st.seconds, st.seconds / 3600.0);
    printf("test accuracy %.2f%% -> %.2f%%\ncheckpoint written to %s\n", before.acc, after.acc, o.out);
  }
  rc = 0;
out:
  mb_checkpoint_free(&f);
  mb_checkpoint_free(&c);
  mb_session_close(&s);
  return rc;
}
