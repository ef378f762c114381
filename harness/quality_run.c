/* The quality metrics of a forgetting run, for forget --json and the bench rows. */
#include "harness/quality_run.h"
#include "core/clock.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int mb_metrics_parse(const char *list, unsigned *mask, char *err, size_t len)
{
  *mask = 0;
  if (strcmp(list, "all") == 0) { *mask = MB_METRIC_ALL; return 0; }
  if (strcmp(list, "none") == 0 || !*list) return 0;
  const char *p = list;
  while (*p) {
    while (*p == ' ') p++;
    size_t n = strcspn(p, ", ");
    if (n == 3 && !strncmp(p, "mia", 3)) *mask |= MB_METRIC_MIA;
    else if (n == 8 && !strncmp(p, "distance", 8)) *mask |= MB_METRIC_DISTANCE;
    else if (n == 7 && !strncmp(p, "relearn", 7)) *mask |= MB_METRIC_RELEARN;
    else {
      snprintf(err, len, "--metrics: '%.*s' is not all, none, mia, distance or relearn", (int)(n > 40 ? 40 : n), p);
      return -1;
    }
    p += n;
    while (*p == ' ') p++;
    if (*p == ',') p++;
  }
  return 0;
}

/* The retrained checkpoint as a second model on the session's backend. */
static int load_reference(mb_session *s, const mb_checkpoint *c, mb_mlp *mlp, mb_resnet *rn,
                          mb_model *ref, char *why, size_t len)
{
  mb_model_config cfg;
  mb_model_config_of(c, &cfg);
  if (mb_model_config_in_dim(&cfg) != s->md.in_dim || mb_model_config_classes(&cfg) != s->md.classes ||
      cfg.kind != s->md.kind) {
    snprintf(why, len, "the retrained model (%s, %d inputs, %d classes) is not the forgotten model's architecture (%d inputs, %d classes)",
             mb_model_kind_name(cfg.kind), mb_model_config_in_dim(&cfg), mb_model_config_classes(&cfg),
             s->md.in_dim, s->md.classes);
    return -1;
  }
  char err[256];
  if (mb_model_create(s->be, &cfg, s->md.max_batch, mlp, rn, ref) != 0) {
    snprintf(why, len, "allocating the retrained model: %s", mb_error(s->be));
    return -1;
  }
  if (mb_model_load(ref, c, err, sizeof err) != 0) {
    snprintf(why, len, "loading the retrained model: %s", err);
    mb_model_destroy(ref);
    return -1;
  }
  char a[64], b[64];
  mb_model_describe(ref, a, sizeof a);
  mb_model_describe(&s->md, b, sizeof b);
  if (strcmp(a, b) != 0) {
    snprintf(why, len, "the retrained model is a %s, the forgotten one a %s", a, b);
    mb_model_destroy(ref);
    return -1;
  }
  return 0;
}

int mb_session_quality(mb_session *s, unsigned mask, const mb_checkpoint *retrained,
                       const int *forget, int n_forget, double e_f_before, mb_quality *q,
                       char *why, size_t len)
{
  mb_quality_init(q);
  double t0 = mb_now();
  if ((mask & (MB_METRIC_MIA | MB_METRIC_RELEARN)) && !s->dtrain.n) {
    snprintf(why, len, "the MIA and relearn metrics need the training data, which is not loaded");
    return -1;
  }
  if (mask & MB_METRIC_DISTANCE) {
    if (!retrained) { snprintf(why, len, "the distance metrics need the retrained model (--retrained CKPT)"); return -1; }
    mb_mlp mlp;
    mb_resnet rn;
    mb_model ref;
    if (load_reference(s, retrained, &mlp, &rn, &ref, why, len) != 0) return -1;
    int rc = mb_quality_distance(&s->md, &ref, &s->dtest, forget, n_forget, q);
    mb_model_destroy(&ref);
    if (rc != 0) { snprintf(why, len, "distance to the retrained model: %s", mb_error(s->be)); return -1; }
  }
  if ((mask & MB_METRIC_MIA) &&
      mb_quality_mia(&s->md, &s->dtrain, &s->dtest, forget, n_forget, s->seed, q) != 0) {
    snprintf(why, len, "MIA: %s", mb_error(s->be));
    return -1;
  }
  if ((mask & MB_METRIC_RELEARN) &&
      mb_quality_relearn(&s->md, &s->dtrain, &s->dtest, forget, n_forget, 100.0 - e_f_before,
                         s->seed, q) != 0) {
    snprintf(why, len, "relearn: %s", mb_error(s->be));
    return -1;
  }
  mb_sync(s->be);
  q->seconds = mb_now() - t0;
  return 0;
}

void mb_row_quality(mb_json *j, unsigned mask, const mb_quality *q)
{
  if (!mask) return;
  static const char *const names[] = {"mia", "distance", "relearn"};
  char m[64] = "";
  for (int i = 0; i < 3; i++)
    if (mask & (1u << i)) snprintf(m + strlen(m), sizeof m - strlen(m), "%s%s", *m ? "," : "", names[i]);
  mb_json_str(j, "metrics", m);
  if (mask & MB_METRIC_MIA) {
    mb_json_num(j, "mia", q->mia);
    mb_json_int(j, "mia_n_shadow", q->mia_n_shadow);
    mb_json_int(j, "mia_n_target", q->mia_n_target);
  }
  if (mask & MB_METRIC_DISTANCE) {
    mb_json_num(j, "act_dist_forget", q->act_forget);
    mb_json_num(j, "act_dist_retain", q->act_retain);
    mb_json_num(j, "js_forget", q->js_forget);
    mb_json_num(j, "js_retain", q->js_retain);
  }
  if (mask & MB_METRIC_RELEARN) {
    mb_json_int(j, "relearn_steps", q->relearn_steps);
    mb_json_raw(j, "relearn_reached", q->relearn_reached ? "true" : "false");
    mb_json_num(j, "relearn_target", q->relearn_target);
  }
  mb_json_num(j, "quality_s", q->seconds);
}
