/* FastMU = UNSIR (Tarun et al., TNNLS 2023), docs/specification.md §4.
 *
 * Per forget class: learn error-maximising noise (Adam on the input, the model
 * fixed), then impair (one Adam epoch on copies of the noise labelled with the
 * forget class, mixed with a few retain samples per class) and repair (one
 * Adam epoch on those retain samples).  Preset 0 is the authors' notebook
 * (§4.1), preset 1 the SSD repository's re-implementation (§4.2).
 * Any model of the model interface (MLP, ResNet-18).  BN mode per phase: the
 * notebook never calls .eval(), so the noise search runs in train mode (batch
 * statistics, and the noise forwards move the running statistics before the
 * impair step); noise_bn=1 runs it in eval mode instead (§4.1 [INFER]).
 * Impair and repair are in train mode.  The MLP has no BN, so none of this
 * changes it.  The noise is labelled with the class being forgotten (notebook
 * issue #2). */
#include "baselines/fastmu.h"
#include "baselines/finetune.h"
#include "baselines/streams.h"
#include "baselines/subsets.h"
#include "core/method.h"
#include "core/model.h"

#include <stdio.h>
#include <stdlib.h>

enum { P_PRESET, P_NOISE_BATCH, P_NOISE_STEPS, P_NOISE_LR, P_NOISE_REG, P_COPIES, P_RETAIN,
       P_IMPAIR_LR, P_IMPAIR_BATCH, P_REPAIR_LR, P_REPAIR_BATCH, P_NOISE_BN, P__COUNT };

static const mb_method_param k_fastmu_params[] = {
  {"preset", 0, "0: the authors' notebook (default), 1: the SSD repository's constants"},
  {"noise_batch", -1, "noise images per forget class (-1: preset, 256 / 32)"},
  {"noise_steps", -1, "Adam steps on the noise (-1: preset, 40 / 25)"},
  {"noise_lr", -1, "Adam lr on the noise (-1: preset, 0.1)"},
  {"noise_reg", -1, "weight of mean_b Σ N² in the noise loss (-1: preset, 0.1)"},
  {"copies", -1, "copies of the noise in the impair set (-1: preset, 20 / 80)"},
  {"retain_per_class", -1, "first samples of each retain class used (-1: preset, 1000 / 500)"},
  {"impair_lr", -1, "Adam lr of the impair epoch (-1: preset, 0.02 / 1e-4)"},
  {"impair_batch", -1, "impair batch (-1: preset, 256 / 32)"},
  {"repair_lr", -1, "Adam lr of the repair epoch (-1: preset, 0.01 / 1e-4)"},
  {"repair_batch", -1, "repair batch (-1: preset, 256 / 128)"},
  {"noise_bn", 0, "BN during the noise search: 0 train mode (both presets; running stats move), 1 eval"},
};

/* The two presets, in parameter order (preset slot unused). */
static const double k_presets[2][P__COUNT] = {
  {0, 256, 40, 0.1, 0.1, 20, 1000, 0.02, 256, 0.01, 256, 0},
  {1, 32, 25, 0.1, 0.1, 80, 500, 1e-4, 32, 1e-4, 128, 0},
};

void bl_unsir_noise_step_md(mb_model *md, mb_view noise, mb_view labels, int B, float reg,
                            float lr, mb_view mom, mb_view var, mb_view grad, int t, mb_view loss,
                            int train)
{
  mb_backend *be = md->be;
  size_t n = (size_t)B * md->in_dim;
  /* model gradients are never applied here: deltas and the input gradient only */
  mb_bwd_opts o = {.want_grads = 0, .dx = grad};
  mb_model_forward(md, mb_none(), noise, B, train);
  mb_model_xent(md, labels, B, 1.0f / (float)B, loss);
  mb_model_backward(md, B, &o);
  mb_binary(be, MB_BIN_AXPBY, grad, noise, grad, n, -1.0f, 2.0f * reg / (float)B);
  mb_optim_args a = {
    .kind = MB_OPT_ADAM, .w = noise, .g = grad, .m = mom, .v = var, .n = n, .lr = lr,
    .weight_decay = 0.0f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .t = t,
  };
  mb_optim(be, &a);
}

void bl_unsir_noise_step(mb_mlp *m, mb_view noise, mb_view labels, int B, float reg, float lr,
                         mb_view mom, mb_view var, mb_view grad, int t, mb_view loss)
{
  mb_model md;
  mb_model_from_mlp(m, &md);
  bl_unsir_noise_step_md(&md, noise, labels, B, reg, lr, mom, var, grad, t, loss, 1);
}

/* Learns the noise of every forget class into noise [nf × B × D]; returns the
 * mean CE of the last step over the classes (host), for the note. */
static double learn_noise(const mb_forget_request *rq, mb_model *md, const double *p, mb_view noise)
{
  mb_backend *be = md->be;
  int B = (int)p[P_NOISE_BATCH], steps = (int)p[P_NOISE_STEPS], train = p[P_NOISE_BN] == 0;
  size_t n = (size_t)B * md->in_dim;
  mb_view mom = mb_new(be, n), var = mb_new(be, n), grad = mb_new(be, n);
  mb_view labels = mb_new(be, (size_t)B), loss = mb_new(be, (size_t)B), sum = mb_new(be, 1);
  double ce = 0;
  for (int j = 0; j < rq->n_forget && mb_ok(be); j++) {
    mb_view nj = mb_at(noise, (size_t)j * n);
    mb_rng(be, MB_RNG_NORMAL, rq->seed, BL_STREAM_UNSIR_NOISE + (uint64_t)j, nj, n, 0.0f, 1.0f);
    mb_fill_u32(be, labels, (size_t)B, (uint32_t)rq->forget[j]);
    mb_fill(be, mom, n, 0.0f);
    mb_fill(be, var, n, 0.0f);
    for (int t = 1; t <= steps && mb_ok(be); t++)
      bl_unsir_noise_step_md(md, nj, labels, B, (float)p[P_NOISE_REG], (float)p[P_NOISE_LR], mom,
                             var, grad, t, t == steps ? loss : mb_none(), train);
    if (steps > 0) {
      float s = 0;
      mb_reduce(be, MB_RED_SUM, loss, sum, 1, (size_t)B, 1);
      mb_download(be, &s, sum, 1);
      ce += s / B / rq->n_forget;
    }
  }
  mb_release(be, mom); mb_release(be, var); mb_release(be, grad);
  mb_release(be, labels); mb_release(be, loss); mb_release(be, sum);
  return ce;
}

static int fastmu_forget(const mb_forget_request *rq, mb_forget_outcome *out)
{
  mb_model wrapped, *md = mb_method_model(rq, &wrapped);
  mb_backend *be = md->be;
  const mb_devdata *dd = rq->train;
  double p[P__COUNT];
  int preset = (int)rq->params[P_PRESET];
  if (preset != 0 && preset != 1) {
    mb_fail(be, MB_BAD_ARG, "fastmu: preset must be 0 (notebook) or 1 (SSD repository), got %d", preset);
    return -1;
  }
  for (int i = 0; i < P__COUNT; i++) p[i] = rq->params[i] < 0 ? k_presets[preset][i] : rq->params[i];
  int B = (int)p[P_NOISE_BATCH], copies = (int)p[P_COPIES];
  int ib = (int)p[P_IMPAIR_BATCH], rb = (int)p[P_REPAIR_BATCH], nf = rq->n_forget;
  if (B < 1 || ib < 1 || rb < 1 || copies < 0) {
    mb_fail(be, MB_BAD_ARG, "fastmu: batches must be >= 1 and copies >= 0");
    return -1;
  }
  if (p[P_NOISE_BN] != 0 && p[P_NOISE_BN] != 1) {
    mb_fail(be, MB_BAD_ARG, "fastmu: noise_bn must be 0 (train mode) or 1 (eval mode)");
    return -1;
  }
  if (dd->d != md->in_dim) {
    mb_fail(be, MB_BAD_ARG, "fastmu: data rows of %d values, the model takes %d", dd->d, md->in_dim);
    return -1;
  }
  if (bl_need_rows_md(md, B, "fastmu") || bl_need_rows_md(md, ib, "fastmu") ||
      bl_need_rows_md(md, rb, "fastmu"))
    return -1;
  size_t D = (size_t)md->in_dim;
  mb_view noise = mb_new(be, (size_t)nf * B * D);
  double ce = learn_noise(rq, md, p, noise);

  /* impair set: copies of every class's noise + the first samples of each retain class */
  int32_t *ret = NULL;
  int nr = bl_first_per_class(be, dd, rq->forget, nf, (int)p[P_RETAIN], &ret);
  int n_noise = nf * copies * B, n = n_noise + (nr > 0 ? nr : 0);
  int32_t *perm = malloc(sizeof(int32_t) * (size_t)(n ? n : 1) * 4);
  bl_plan impair = {0}, repair = {0};
  mb_view tmp = mb_new(be, (size_t)ib * D);   /* gather scratch for the noise rows */
  if (nr < 0 || !perm) {
    mb_fail(be, MB_OOM, "fastmu: out of memory for the impair set");
  } else {
    int32_t *data = perm + n, *extra = perm + 2 * (size_t)n, *label = perm + 3 * (size_t)n;
    for (int i = 0; i < n; i++) perm[i] = i;
    bl_shuffle(perm, n, rq->seed, BL_STREAM_UNSIR_SHUFFLE + 0);
    for (int i = 0; i < n; i++) {
      int s = perm[i];
      if (s < n_noise) {
        int j = s / (copies * B), row = s % B;
        data[i] = -1; extra[i] = j * B + row; label[i] = rq->forget[j];
      } else {
        data[i] = ret[s - n_noise]; extra[i] = -1; label[i] = dd->host->y[data[i]];
      }
    }
    bl_plan_upload(be, dd, data, extra, label, n, &impair);
    bl_adam_epoch_md(md, dd, &impair, noise, nf * B, tmp, ib, (float)p[P_IMPAIR_LR]);
    /* repair: the same retain samples alone, in a fresh order */
    bl_shuffle(ret, nr, rq->seed, BL_STREAM_UNSIR_SHUFFLE + 1);
    bl_plan_upload(be, dd, ret, NULL, NULL, nr, &repair);
    bl_adam_epoch_md(md, dd, &repair, mb_none(), 0, mb_none(), rb, (float)p[P_REPAIR_LR]);
  }
  out->sign = 0;
  snprintf(out->note, sizeof out->note, "%s preset: noise %d rows × %d steps (final CE %.2f, BN %s), impair %d rows, repair %d rows",
           preset ? "ssd-repo" : "notebook", B, (int)p[P_NOISE_STEPS], ce,
           p[P_NOISE_BN] == 0 ? "train" : "eval", n, nr);
  bl_plan_free(be, &impair);
  bl_plan_free(be, &repair);
  mb_release(be, tmp);
  mb_release(be, noise);
  free(ret);
  free(perm);
  return mb_ok(be) ? 0 : -1;
}

const mb_method mb_method_fastmu = {
  .name = "fastmu", .alias = "unsir",
  .target = "error-maximising noise + retain subset (impair, repair)",
  .needs = MB_NEEDS_RETAIN, .params = k_fastmu_params, .n_params = P__COUNT,
  .forget = fastmu_forget,
};
