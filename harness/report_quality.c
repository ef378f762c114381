/* The quality table (beside Tables 2 and 3): MIA, distance to the retrained
 * model and relearn time per method (docs/specification.md §7.7), from the rows'
 * fields alone.  Only when some main row carries them (`metrics`). */
#include "harness/report_internal.h"

#include <stdint.h>
#include <stdlib.h>

void rp_quality_table(mb_report *rep, const sel *s, const char *be)
{
  int any = 0;
  for (int i = 0; i < s->n && !any; i++)
    any = !strcmp(rp_kind_of(s->v[i]), "main") && is_ok(s->v[i]) && *S(s->v[i], "metrics");
  if (!any) return;
  static const char *const head[] = {"Method", "Model", "MIA (%)", "Act. dist. D_f", "Act. dist. D_r",
                                     "JS D_f", "JS D_r", "Relearn steps", "Seeds"};
  static const char *const keys[] = {"mia", "act_dist_forget", "act_dist_retain", "js_forget", "js_retain",
                                     "relearn_steps"};
  enum { NK = 6 };
  mname ms[32];
  int nm = rp_methods_of(s, "main", ms, 32), net = rp_several_networks(ms, nm);
  mb_rtable *t = rp_rt_new_net("quality",
                               "Quality of forgetting: membership inference, distance to the retrained model, relearn time",
                               9, head, net);
  for (int m = 0; m < nm; m++) {
    vec v[NK];
    for (int k = 0; k < NK; k++) v[k].n = 0;
    const char *model = "";
    uint64_t seeds[64];
    int ns = 0, capped = 0, have = 0;
    for (int i = 0; i < s->n; i++) {
      row *r = s->v[i];
      if (!rp_is_entry(r, "main", &ms[m]) || !is_ok(r) || strcmp(S(r, "backend"), be) || !*S(r, "metrics"))
        continue;
      uint64_t sd = (uint64_t)N(r, "seed");
      int dup = 0;
      for (int k = 0; k < ns; k++) dup |= seeds[k] == sd;
      if (dup) continue;   /* one value per seed */
      if (ns < 64) seeds[ns++] = sd;
      for (int k = 0; k < NK; k++) push(&v[k], N(r, keys[k]));
      const mb_jv *reached = mb_jv_get(r, "relearn_reached");
      capped |= reached && reached->t == MB_JV_BOOL && reached->num == 0;
      model = *S(r, "model_kind") ? S(r, "model_kind") : "";
      have++;
    }
    int k = mb_rt_add_row(t);
    mb_rt_set(t, k, 0, "%s", ms[m].label);
    if (net) mb_rt_set(t, k, 1, "%s", ms[m].net);
    if (!have) {
      char buf[800];
      const char *why = rp_why_missing(s, "main", &ms[m], be);
      if (why) snprintf(buf, sizeof buf, "%s", why);
      else snprintf(buf, sizeof buf, "%.31s has no row with quality metrics on %.31s", ms[m].name, be);
      missing_cells(t, k, 1 + net, 9 + net, buf);
      continue;
    }
    mb_rt_set(t, k, 1 + net, "%s", model);
    for (int c = 0; c < NK; c++) {
      if (!v[c].n) { mb_rt_missing(t, k, 2 + net + c, "not computed in these rows (--metrics)"); continue; }
      const char *fmt = c == 0 ? "%.1f" : c == NK - 1 ? "%.0f" : "%.4f";
      char a[32], b[32];
      snprintf(a, sizeof a, fmt, mean(&v[c]));
      snprintf(b, sizeof b, fmt, stdev(&v[c]));
      if (v[c].n > 1) mb_rt_set(t, k, 2 + net + c, "%s%s ± %s", c == NK - 1 && capped ? "≥ " : "", a, b);
      else mb_rt_set(t, k, 2 + net + c, "%s%s", c == NK - 1 && capped ? "≥ " : "", a);
    }
    mb_rt_set(t, k, 8 + net, "%d", have);
  }
  snprintf(t->caption, sizeof t->caption,
           "Backend %s; mean (± population std over seeds when several). MIA: %% of the forget class's training "
           "samples a confidence-based attack calls members (lower forgets more; the retrained model is the baseline). "
           "Activation distance (mean L2) and Jensen–Shannon divergence (nats) between the softmax outputs and the "
           "retrained model's, on the forget-class (D_f) and retain-class (D_r) test samples: 0 for retrain itself. "
           "Relearn steps: SGD steps on the forget class until its accuracy is back at the original model's "
           "(≥: the 500-step cap). Definitions: docs/specification.md §7.7.%s",
           be, rp_notes(ms, nm, net));
  rp_add_table(rep, t);
}
