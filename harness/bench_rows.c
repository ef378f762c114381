/* The rows of a bench run: the common fields (harness/row.h), the cell's
 * identity, settings and method. */
#include "harness/bench_internal.h"
#include "harness/bench_scale.h"
#include "harness/common.h"
#include "harness/row.h"

#include <stdio.h>
#include <string.h>

/* ----------------------------------------------------------------- output */

/* The cell's identity in its rows. */
void bp_cell_fields(const bench *b, mb_json *j, const cell *c)
{
  mb_json_str(j, "spec", b->spec.name);
  mb_json_str(j, "spec_hash", b->spec.hash);
  mb_json_str(j, "experiment", b->spec.exp[c->exp].name);
  mb_json_str(j, "cell", c->id);
  mb_json_str(j, "cell_group", c->group);
}

/* The fields every row has: the common ones (harness/row.h), then the cell's
 * identity, settings and method. */
void bp_row_begin(bench *b, mb_json *j, const cell *c, const mb_session *s, const char *status,
                  const char *reason)
{
  const mb_spec_exp *e = &b->spec.exp[c->exp];
  char classes[96], model[80];
  snprintf(classes, sizeof classes, "[%s]", e->forget);
  if (s && s->kind != MB_MODEL_MLP) mb_session_model_name(s, model, sizeof model);
  else if (bp_is_resnet(e)) {
    int known = !strcmp(e->data, "default") || !strcmp(e->data, "synthetic");   /* 28x28 grey */
    mb_model_name_resnet(0, known ? 1 : 0, known ? 28 : 0, e->width, model, sizeof model);
  } else {
    mb_model_name_mlp(e->model, e->act, model, sizeof model);
  }
  mb_row_prov p = {
    .command = "bench", .kind = e->kind, .status = status, .reason = reason, .backend = c->backend,
    .device_index = c->device, .be = s ? s->be : NULL,
    .dataset = s && s->have_train ? s->train.name : e->data,
    .dataset_checksum = s && s->have_train ? s->train.checksum : 0, .model = model, .seed = c->seed,
  };
  if (bp_is_perf(e)) {
    if (!strcmp(e->kind, "scale")) {
      const mb_scale_model *t;
      int n = mb_scale_models(&t), m = mb_scale_model_find(e->scale_model, NULL, 0);
      mb_scale_cfg sc;
      mb_scale_defaults(&sc);
      sc.model = m;
      sc.classes = e->classes;
      sc.size = e->size;
      sc.width = e->width;
      if (m >= 0 && m < n) t[m].row_name(&sc, model, sizeof model);
      else snprintf(model, sizeof model, "%s", e->scale_model);
    }
    p.command = !strcmp(e->kind, "scale") ? "bench-scale" : "bench-train";
    p.dataset = !strcmp(e->kind, "scale") ? "synthetic (seeded codes and images)" : e->data;
  }
  mb_row_begin(j, &p);
  bp_cell_fields(b, j, c);
  if (bp_is_perf(e)) return;
  if (c->me) mb_row_method(j, c->me, c->params);
  else {
    mb_json_str(j, "method", "fim");
    mb_json_str(j, "method_needs", "");
    mb_json_str(j, "method_target", "FIM approximation error");
  }
  mb_json_str(j, "act", bp_is_resnet(e) ? "relu" : e->act);
  mb_json_str(j, "model_kind", c->me ? (c->model_t_mix > 0 ? "mnemonic" : "plain") : "both");
  mb_json_str(j, "model_key", b->models[c->model[0]].key);
  mb_json_str(j, "train_backend", b->models[c->model[0]].train_backend);
  mb_json_raw(j, "forget_classes", classes);
  mb_json_num(j, "t_mix", c->t_mix);
  mb_json_num(j, "model_t_mix", c->model_t_mix);
  mb_json_int(j, "epochs", e->epochs);
  mb_json_int(j, "batch", e->batch);
  mb_json_num(j, "lr", e->lr);
  mb_json_int(j, "train_per_class", e->train_per_class);
  mb_json_int(j, "test_per_class", e->test_per_class);
  mb_json_str(j, "codes", e->codes);
}

int bp_row_end(bench *b, mb_json *j)
{
  char err[256];
  int rc = mb_results_append(&b->out, mb_json_end(j), err, sizeof err);
  mb_json_free(j);
  if (rc) mb_die_msg("%s", err);
  return rc;
}

int bp_write_status_row(bench *b, const cell *c, const mb_session *s, const char *status,
                        const char *reason)
{
  mb_json j;
  bp_row_begin(b, &j, c, s, status, reason);
  return bp_row_end(b, &j);
}

