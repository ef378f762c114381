/* Mini-batch SGD with code replacement. */
#include "core/train.h"
#include "core/augment.h"
#include "core/clock.h"
#include "core/streams.h"
#include "philox.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mb_train_defaults(mb_train_opts *o)
{
  memset(o, 0, sizeof *o);
  o->epochs = 3;
  o->batch = 128;
  o->lr = 0.01f;
  o->momentum = 0.9f;
  o->weight_decay = 5e-4f;
  o->t_mix = 0.1f;
  o->seed = 1;
}

static int excluded(const mb_train_opts *o, int label)
{
  for (int i = 0; i < o->n_exclude; i++)
    if (o->exclude[i] == label) return 1;
  return 0;
}

/* This epoch's order and replacement decisions as three i32 index arrays of n
 * entries each (data row or -1, code row or -1, label row); returns the count. */
static int plan_epoch(const mb_devdata *dd, const mb_train_opts *o, int epoch, int32_t *plan)
{
  int n = 0;
  int32_t *order = plan;
  for (int i = 0; i < dd->n; i++)
    if (!excluded(o, dd->host->y[i])) order[n++] = i;
  /* Fisher–Yates from the shuffle stream. */
  for (int i = n - 1; i > 0; i--) {
    uint32_t r = mb_philox_u32(o->seed, MB_STREAM_SHUFFLE + (uint64_t)epoch, (uint64_t)i);
    int j = (int)((uint64_t)r * (uint64_t)(i + 1) >> 32);
    int32_t t = order[i]; order[i] = order[j]; order[j] = t;
  }
  int32_t *code = plan + n, *label = plan + 2 * n;
  for (int i = 0; i < n; i++) {
    int s = order[i];
    label[i] = s;
    float t = mb_u32_to_unit(mb_philox_u32(o->seed, MB_STREAM_REPLACE + (uint64_t)epoch, (uint64_t)i));
    if (t < o->t_mix) {
      code[i] = dd->host->y[s];
      order[i] = -1;
    } else {
      code[i] = -1;
    }
  }
  return n;
}

float mb_train_lr_at(const mb_train_opts *o, int epoch)
{
  if (o->cosine_tmax <= 0) return o->lr;
  /* PyTorch's CosineAnnealingLR (eta_min 0), stepped once per epoch */
  return (float)(0.5 * (double)o->lr * (1.0 + cos(M_PI * (double)epoch / (double)o->cosine_tmax)));
}

int mb_train(mb_mlp *m, const mb_devdata *train, mb_view codes, const mb_train_opts *o,
             mb_train_stats *st)
{
  mb_model md;
  mb_model_from_mlp(m, &md);
  return mb_model_train(&md, train, codes, o, st);
}

int mb_model_train(mb_model *md, const mb_devdata *train, mb_view codes, const mb_train_opts *o,
                   mb_train_stats *st)
{
  mb_backend *be = md->be;
  memset(st, 0, sizeof *st);
  int n_all = train->n;
  int32_t *plan = malloc(sizeof(int32_t) * 3 * (size_t)n_all);
  if (!plan) { mb_fail(be, MB_OOM, "out of memory for the epoch plan"); return -1; }
  mb_view dplan = mb_new(be, 3 * (size_t)n_all);
  mb_view labels = mb_new(be, (size_t)o->batch);
  mb_view mom = mb_new(be, md->total);
  /* gather scratch: code rows of a normalised set are zeroed through it */
  mb_view tmp = mb_new(be, (size_t)o->batch * (size_t)md->in_dim);
  mb_augment aug;
  memset(&aug, 0, sizeof aug);
  int augment = o->augment && train->host->norm;
  if (augment) mb_augment_init(be, &aug, train, o->batch);
  mb_view loss = mb_new(be, (size_t)o->batch);
  mb_view loss_sum = mb_new(be, 1);
  mb_view loss_acc = mb_new(be, 1);
  int use_codes = o->t_mix > 0 && !mb_is_none(codes);
  /* the momentum buffer's pages are touched before the clock: setting it up is not a
   * training step (the first step overwrites it) */
  mb_fill(be, mom, md->total, 0.0f);
  mb_sync(be);
  double t0 = mb_now();
  int step_total = 0;
  int epochs = o->epochs;
  if (o->steps > 0) {
    /* a step budget: as many epochs as it takes, the last one cut short (this count,
     * from the whole set, is only what the progress line shows) */
    int per = (n_all + o->batch - 1) / o->batch;
    epochs = per > 0 ? (o->steps + per - 1) / per : 1;
  }
  for (int e = 0; (o->steps > 0 ? step_total < o->steps : e < epochs) && mb_ok(be); e++) {
    int n = plan_epoch(train, o, e, plan);
    if (n == 0) { mb_fail(be, MB_BAD_ARG, "training set is empty"); break; }
    /* order, code and label arrays are packed back to back for n samples */
    mb_upload(be, dplan, plan, 3 * (size_t)n);
    mb_fill(be, loss_acc, 1, 0.0f);
    int steps = (n + o->batch - 1) / o->batch;
    if (o->max_steps > 0 && steps > o->max_steps) steps = o->max_steps;
    if (o->steps > 0 && steps > o->steps - step_total) steps = o->steps - step_total;
    for (int s = 0; s < steps && mb_ok(be); s++) {
      int r0 = s * o->batch;
      int rows = n - r0 < o->batch ? n - r0 : o->batch;
      mb_view v_data = mb_at(dplan, (size_t)r0), v_code = mb_at(dplan, (size_t)n + r0),
              v_label = mb_at(dplan, 2 * (size_t)n + r0);
      mb_view cv = use_codes ? codes : mb_none();
      if (augment)
        mb_augment_gather(be, &aug, train, o->seed, e, plan + r0, cv, train->n_classes, v_data,
                          v_code, v_label, rows, md->in, labels, tmp);
      else
        mb_devdata_gather(be, train, cv, train->n_classes, v_data, v_code, v_label, rows, md->in,
                          labels, tmp);
      mb_model_forward(md, mb_none(), mb_none(), rows, 1);
      mb_model_xent(md, labels, rows, 1.0f / (float)rows, loss);
      mb_reduce(be, MB_RED_SUM, loss, loss_sum, 1, (size_t)rows, 1);
      mb_binary(be, MB_BIN_AXPBY, loss_acc, loss_sum, loss_acc, 1, 1.0f, 1.0f);
      mb_model_backward(md, rows, NULL);
      mb_optim_args opt = {
        .kind = MB_OPT_SGD, .w = md->w, .g = md->g, .m = mom, .n = md->total,
        .lr = mb_train_lr_at(o, e), .weight_decay = o->weight_decay, .momentum = o->momentum,
        .dampening = 0.0f, .first_step = step_total == 0,
      };
      mb_optim(be, &opt);
      step_total++;
      st->samples += rows;
      /* replacements of the rows that ran (a step budget can cut an epoch short) */
      for (int i = 0; i < rows; i++) st->replaced += plan[n + r0 + i] >= 0;
      if (o->progress && (s % 20 == 0 || s == steps - 1)) {
        o->progress(o->progress_ctx, e, epochs, s + 1, steps, -1.0);
      }
    }
    float acc = 0;
    mb_download(be, &acc, loss_acc, 1);   /* one read per epoch, not per step */
    st->last_epoch_loss = acc / (double)(steps * o->batch < n ? steps * o->batch : n);
    if (o->progress) o->progress(o->progress_ctx, e, epochs, steps, steps, st->last_epoch_loss);
  }
  mb_sync(be);
  st->seconds = mb_now() - t0;
  free(plan);
  mb_release(be, dplan);
  mb_release(be, labels);
  mb_release(be, mom);
  mb_release(be, tmp);
  if (augment) mb_augment_free(be, &aug);
  mb_release(be, loss);
  mb_release(be, loss_sum);
  mb_release(be, loss_acc);
  return mb_ok(be) ? 0 : -1;
}
