/* The measurements of one bench cell: forgetting (timed as
 * docs/specification.md §7.2, transfers apart), the FIM comparison, and the
 * performance kinds (bench-scale's and bench-train's rows). */
#include "core/clock.h"
#include "core/forget_mnemonic.h"
#include "harness/bench_internal.h"
#include "harness/bench_scale.h"
#include "harness/common.h"
#include "harness/fim.h"
#include "harness/quality_run.h"
#include "harness/row.h"
#include "harness/throughput.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_forget(const char *list, int n_classes, int *forget, int *nf)
{
  return mb_parse_classes(list, n_classes, forget, MB_MAX_FORGET, nf);
}

/* The quality metrics of the forgotten model in the session (specification §7.7),
 * against the experiment's cached retrained model; relearning changes the weights,
 * which the next cell restores from r->ck. */
static int cell_quality(bench *b, runner *r, const cell *c, const int *forget, int nf, mb_quality *q,
                        char ref_key[17], char *why, size_t len)
{
  const mb_spec_exp *e = &b->spec.exp[c->exp];
  mb_checkpoint ref;
  memset(&ref, 0, sizeof ref);
  if ((e->quality & MB_METRIC_DISTANCE) && bp_retrained(b, c, &ref, ref_key, why, len) != 0) return -1;
  int rc = mb_session_quality(&r->s, e->quality, (e->quality & MB_METRIC_DISTANCE) ? &ref : NULL, forget,
                              nf, r->before.E_F, q, why, len);
  mb_checkpoint_free(&ref);
  return rc;
}

int bp_run_forget_cell(bench *b, runner *r, const cell *c, char *why, size_t len)
{
  const mb_spec_exp *e = &b->spec.exp[c->exp];
  mb_session *s = &r->s;
  mb_backend *be = s->be;
  if (bp_runner_load(b, r, c->model[0], why, len) != 0) return -1;
  s->seed = c->seed;
  int forget[MB_MAX_FORGET], nf;
  if (parse_forget(e->forget, s->n_classes, forget, &nf) != 0) {
    snprintf(why, len, "bad forget classes '%s' for %d classes", e->forget, s->n_classes);
    return -1;
  }
  size_t P = s->md.total;
  float *back = malloc(P * sizeof *back);
  if (!back) { snprintf(why, len, "out of memory"); return -1; }
  mb_session_restore_weights(s, &r->ck);
  if (!r->have_before) {
    if (mb_session_eval(s, forget, nf, &r->before) != 0) {
      snprintf(why, len, "evaluation failed: %s", mb_error(be));
      free(back);
      return -1;
    }
    r->have_before = 1;
  }
  int slot = bp_method_slot(c), word = slot / 16;
  unsigned bit = 1u << (slot % 16);
  int warm = e->warmup;
  if (r->warmed[word] & bit) warm = r->last_median[slot] < 1.0 && e->warmup ? 1 : 0;
  int cap = e->repeats;
  double *host = calloc((size_t)cap, sizeof *host), *dev = calloc((size_t)cap, sizeof *dev),
         *up = calloc((size_t)cap, sizeof *up), *down = calloc((size_t)cap, sizeof *down),
         *e2e = calloc((size_t)cap, sizeof *e2e);
  int n = 0;
  mb_forget_timing ft;
  memset(&ft, 0, sizeof ft);
  double spent = 0;
  for (int run = 0; run < warm + cap && host && dev && up && down && e2e; run++) {
    /* transfers: the weights to the device before, the result back after,
     * each its own synchronised region, never inside the forgetting time */
    mb_sync(be);
    double t0 = mb_now();
    mb_session_restore_weights(s, &r->ck);
    mb_sync(be);
    double t_up = mb_now() - t0;
    if (mb_session_forget(s, c->me, c->params, forget, nf, &ft) != 0) break;
    t0 = mb_now();
    mb_download(be, back, s->md.w, P);
    mb_sync(be);
    double t_down = mb_now() - t0;
    if (!mb_ok(be)) break;
    if (run < warm) continue;
    host[n] = ft.seconds;
    dev[n] = ft.device_ms;
    up[n] = t_up;
    down[n] = t_down;
    e2e[n] = t_up + ft.seconds + t_down;
    spent += ft.seconds;
    n++;
    if (e->time_budget > 0 && spent >= e->time_budget) break;
  }
  int rc = -1;
  mb_eval_result after;
  mb_quality q;
  char ref_key[17] = "";
  if (!host || !dev || !up || !down || !e2e) snprintf(why, len, "out of memory");
  else if (!mb_ok(be) || n == 0) snprintf(why, len, "%s failed: %s", c->me->name, mb_ok(be) ? "no run finished" : mb_error(be));
  else if (mb_session_eval(s, forget, nf, &after) != 0) snprintf(why, len, "evaluation failed: %s", mb_error(be));
  else if (e->quality && cell_quality(b, r, c, forget, nf, &q, ref_key, why, len) != 0) {}
  else {
    mb_stats h = mb_stats_of(host, n), u = mb_stats_of(up, n), d = mb_stats_of(down, n), x = mb_stats_of(e2e, n);
    r->warmed[word] |= bit;
    r->last_median[slot] = h.med;
    mb_json j;
    bp_row_begin(b, &j, c, s, "ok", "");
    mb_json_num(&j, "test_acc", r->before.acc);
    mb_json_num(&j, "model_train_s", r->model_train_s);
    mb_json_num(&j, "A_R_before", r->before.A_R);
    mb_json_num(&j, "E_F_before", r->before.E_F);
    mb_json_num(&j, "A_R", after.A_R);
    mb_json_num(&j, "E_F", after.E_F);
    mb_json_num(&j, "acc_after", after.acc);
    mb_json_int(&j, "sign", ft.outcome.sign);
    mb_json_str(&j, "note", ft.outcome.note);
    mb_json_int(&j, "warmups", warm);
    mb_json_int(&j, "repeats", n);
    mb_row_stats(&j, "forget_s", &h, host, n);
    mb_row_device_timing(&j, be, host, dev, n);
    mb_json_num(&j, "upload_s", u.med);
    mb_json_num(&j, "download_s", d.med);
    mb_json_num(&j, "end_to_end_s", x.med);
    mb_json_num(&j, "end_to_end_s_min", x.min);
    mb_json_num(&j, "end_to_end_s_max", x.max);
    mb_json_int(&j, "n_forward", ft.n_forward);
    mb_json_int(&j, "n_backward", ft.n_backward);
    mb_json_int(&j, "n_params", (long long)P);
    if (e->quality) {
      mb_row_quality(&j, e->quality, &q);
      mb_json_str(&j, "retrained_model", ref_key);
    }
    rc = bp_row_end(b, &j) == 0 ? 0 : -2;
  }
  free(host); free(dev); free(up); free(down); free(e2e); free(back);
  return rc;
}

int bp_run_fim_cell(bench *b, runner *r, const cell *c, char *why, size_t len)
{
  const mb_spec_exp *e = &b->spec.exp[c->exp];
  mb_session *s = &r->s;
  mb_backend *be = s->be;
  int forget[MB_MAX_FORGET], nf;
  if (bp_runner_load(b, r, c->model[0], why, len) != 0) return -1;
  if (parse_forget(e->forget, s->n_classes, forget, &nf) != 0) {
    snprintf(why, len, "bad forget classes '%s'", e->forget);
    return -1;
  }
  size_t P = s->m.pt.total;
  mb_view aF = mb_new(be, P), aR = mb_new(be, P), oF = mb_new(be, P), oR = mb_new(be, P);
  mb_fim_error codes = {NAN, NAN, NAN, NAN};
  mb_fim_error *data = calloc((size_t)e->n_samples, sizeof *data);
  double t_codes = NAN, t_oracle_mn = NAN, t_oracle_plain = NAN;
  double *t_data = calloc((size_t)e->n_samples, sizeof *t_data);
  int rc = -1;
  if (!data || !t_data) { snprintf(why, len, "out of memory"); goto out; }
  /* the mnemonic model: codes against its full-data FIM */
  mb_upload(be, s->m.w, r->ck.params, P);
  /* one untimed run of each estimator first (its smallest data size), so that first-use
   * kernel compilation stays out of the times: each time is then one warm run */
  mb_fisher_from_codes(&s->m, s->codes, s->n_classes, forget, nf, aF, aR);
  mb_fim_from_data(&s->m, &s->dtrain, s->n_classes, forget, nf, e->n_samples ? e->samples[0] : 1, c->seed,
                   aF, aR);
  mb_sync(be);
  double t0 = mb_now();
  mb_fisher_from_codes(&s->m, s->codes, s->n_classes, forget, nf, aF, aR);
  mb_sync(be);
  t_codes = mb_now() - t0;
  t0 = mb_now();
  mb_fim_from_data(&s->m, &s->dtrain, s->n_classes, forget, nf, 0, c->seed, oF, oR);
  mb_sync(be);
  t_oracle_mn = mb_now() - t0;
  if (mb_fim_compare(be, P, aF, aR, oF, oR, &codes) != 0) goto fail;
  /* the plain model: n samples per class against its full-data FIM */
  if (bp_runner_load(b, r, c->model[1], why, len) != 0) goto out;
  mb_upload(be, s->m.w, r->ck.params, P);
  mb_sync(be);
  t0 = mb_now();
  mb_fim_from_data(&s->m, &s->dtrain, s->n_classes, forget, nf, 0, c->seed, oF, oR);
  mb_sync(be);
  t_oracle_plain = mb_now() - t0;
  for (int i = 0; i < e->n_samples && mb_ok(be); i++) {
    t0 = mb_now();
    mb_fim_from_data(&s->m, &s->dtrain, s->n_classes, forget, nf, e->samples[i], c->seed, aF, aR);
    mb_sync(be);
    t_data[i] = mb_now() - t0;
    if (mb_fim_compare(be, P, aF, aR, oF, oR, &data[i]) != 0) break;
  }
  if (!mb_ok(be)) goto fail;
  {
    double ns[MB_SPEC_LIST], eF[MB_SPEC_LIST], eR[MB_SPEC_LIST], rF[MB_SPEC_LIST], rR[MB_SPEC_LIST];
    for (int i = 0; i < e->n_samples; i++) {
      ns[i] = e->samples[i];
      eF[i] = data[i].err_F; eR[i] = data[i].err_R; rF[i] = data[i].rel_F; rR[i] = data[i].rel_R;
    }
    mb_json j;
    bp_row_begin(b, &j, c, s, "ok", "");
    mb_json_int(&j, "n_params", (long long)P);
    mb_json_str(&j, "fim_norm", "L2/P");
    mb_json_num(&j, "fim_codes_err_F", codes.err_F);
    mb_json_num(&j, "fim_codes_err_R", codes.err_R);
    mb_json_num(&j, "fim_codes_rel_F", codes.rel_F);
    mb_json_num(&j, "fim_codes_rel_R", codes.rel_R);
    mb_json_num(&j, "fim_codes_s", t_codes);
    mb_json_nums(&j, "fim_samples", ns, e->n_samples);
    mb_json_nums(&j, "fim_data_err_F", eF, e->n_samples);
    mb_json_nums(&j, "fim_data_err_R", eR, e->n_samples);
    mb_json_nums(&j, "fim_data_rel_F", rF, e->n_samples);
    mb_json_nums(&j, "fim_data_rel_R", rR, e->n_samples);
    mb_json_nums(&j, "fim_data_s", t_data, e->n_samples);
    mb_json_num(&j, "fim_oracle_mnemonic_s", t_oracle_mn);
    mb_json_num(&j, "fim_oracle_plain_s", t_oracle_plain);
    mb_json_str(&j, "fim_timing", "one run each after one warm-up, host clock around a synchronised region");
    rc = bp_row_end(b, &j) == 0 ? 0 : -2;
  }
  goto out;
fail:
  snprintf(why, len, "FIM measurement failed: %s", mb_error(be));
out:
  mb_release(be, aF); mb_release(be, aR); mb_release(be, oF); mb_release(be, oR);
  free(data);
  free(t_data);
  return rc;
}

typedef struct {
  bench *b;
  const cell *c;
  int ok, failed_write;
} perf_sink;

static void perf_extra(void *ctx, mb_json *j)
{
  perf_sink *p = ctx;
  bp_cell_fields(p->b, j, p->c);
}

static int perf_put(void *ctx, const char *text)
{
  perf_sink *p = ctx;
  mb_jv v;
  char err[256];
  /* a cell is ok when one of its rows is */
  if (mb_jv_parse(text, &v, err, sizeof err) == 0) {
    p->ok |= !strcmp(mb_jv_str(&v, "status", ""), "ok");
    mb_jv_free(&v);
  }
  if (mb_results_append(&p->b->out, text, err, sizeof err) != 0) {
    mb_die_msg("%s", err);
    p->failed_write = 1;
    return -1;
  }
  return 0;
}

/* A scale or throughput cell: bench-scale's or bench-train's measurements on
 * the cell's backend, their rows into the results file with the cell's fields. */
int bp_run_perf_cell(bench *b, const cell *c, char *why, size_t len)
{
  const mb_spec_exp *e = &b->spec.exp[c->exp];
  perf_sink ps = {b, c, 0, 0};
  mb_row_sink sink = {perf_extra, perf_put, &ps};
  if (!strcmp(e->kind, "scale")) {
    mb_scale_opts o;
    mb_scale_opts_defaults(&o);
    o.device = c->device;
    o.repeats = e->repeats;
    o.warmups = e->warmup;
    o.cfg.classes = e->classes;
    o.cfg.size = e->size;
    o.cfg.width = e->width;
    o.cfg.batch = e->code_batch;
    o.cfg.seed = c->seed;
    char mwhy[200];
    o.cfg.model = mb_scale_model_find(e->scale_model, mwhy, sizeof mwhy);
    if (o.cfg.model < 0) { snprintf(why, len, "%s", mwhy); return -3; }
    o.no_ssd = e->ssd_images == 0;
    o.ssd_n = e->ssd_images;
    o.ssd_f = e->ssd_forget;
    mb_scale_backend(&o, c->backend, &sink);
  } else {
    mb_opts o;
    mb_opts_defaults(&o);
    o.device = c->device;
    o.repeats = e->repeats;
    o.seed = c->seed;
    o.data = strcmp(e->data, "default") == 0 || strcmp(e->data, "synthetic") == 0 ? NULL : e->data;
    o.synthetic = strcmp(e->data, "synthetic") == 0;
    if (strcmp(e->model, "resnet18") == 0) {   /* bench-train --model resnet18 --width N */
      o.model_kind = MB_MODEL_RESNET18;
      o.width = e->width;
    } else {
      o.model_spec = e->model;
      o.act = e->act;
    }
    o.json = 1;
    mb_throughput_backend(&o, c->backend, &sink);
  }
  if (ps.failed_write) return -2;
  if (!ps.ok) { snprintf(why, len, "no measurement finished (see its rows)"); return -3; }
  return 0;
}

void bp_cell_label(const bench *b, const cell *c, char *out, size_t len)
{
  const mb_spec_exp *e = &b->spec.exp[c->exp];
  snprintf(out, len, "%s %s on %s:%d seed %" PRIu64 "%s%s", e->name, c->me ? c->me->name : bp_is_perf(e) ? e->kind : "fim", c->backend,
           c->device, c->seed, c->sweep_desc[0] ? " " : "", c->sweep_desc);
}

