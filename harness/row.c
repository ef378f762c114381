/* The one result-row builder (see row.h). */
#define _GNU_SOURCE
#include "harness/row.h"
#include "methods/methods.h"
#include "harness/common.h"
#include "mb_commit.h"
#include "mb_config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void mb_row_begin(mb_json *j, const mb_row_prov *p)
{
  const mb_backend *be = p->be;
  char ts[32], sum[32] = "";
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (p->dataset_checksum) snprintf(sum, sizeof sum, "%016" PRIx64, p->dataset_checksum);
  mb_json_begin(j);
  mb_json_str(j, "schema", MB_ROW_SCHEMA);
  mb_json_str(j, "command", p->command ? p->command : "");
  mb_json_str(j, "kind", p->kind ? p->kind : "main");
  mb_json_str(j, "status", p->status ? p->status : "ok");
  mb_json_str(j, "reason", p->reason ? p->reason : "");
  mb_json_str(j, "backend", p->backend ? p->backend : "");
  mb_json_int(j, "device_index", p->device_index);
  mb_json_str(j, "device", be ? be->info.name : "");
  mb_json_str(j, "device_type", be ? be->info.type : "");
  mb_json_str(j, "driver", be ? be->info.driver : "");
  mb_json_str(j, "api", be ? be->info.api : "");
  mb_json_str(j, "engine", be ? mb_engine_name(be) : "");   /* generic, or the optional ops' library */
  mb_json_str(j, "tuning", be ? be->info.tuning : "");      /* e.g. CLBlast's parameters */
  mb_json_str(j, "dataset", p->dataset ? p->dataset : "");
  mb_json_str(j, "dataset_checksum", sum);
  mb_json_str(j, "model", p->model ? p->model : "");
  mb_json_int(j, "seed", (long long)p->seed);
  mb_json_str(j, "commit", MB_COMMIT);
  mb_json_str(j, "version", MB_VERSION);
  mb_json_str(j, "build", MB_BUILD_FLAGS);
  mb_json_int(j, "threads", mb_threads_in_use());
  mb_json_str(j, "time", ts);
  if (p->sink && p->sink->extra) p->sink->extra(p->sink->ctx, j);
}

int mb_row_put(const mb_row_sink *sink, mb_json *j)
{
  const char *text = mb_json_end(j);
  int rc = 0;
  if (sink && sink->put) rc = sink->put(sink->ctx, text);
  else {
    printf("%s\n", text);
    fflush(stdout);
  }
  mb_json_free(j);
  return rc;
}

const char *mb_row_needs_text(const mb_method *me)
{
  if (!me) return "";
  switch (me->needs & (MB_NEEDS_FORGET | MB_NEEDS_RETAIN)) {
  case MB_NEEDS_FORGET: return "D_f";
  case MB_NEEDS_RETAIN: return "D_r";
  case MB_NEEDS_FORGET | MB_NEEDS_RETAIN: return "D_f + D_r";
  default: return "none (codes)";
  }
}

void mb_row_method(mb_json *j, const mb_method *me, const double *values)
{
  const mb_method *const *all;
  int n = mb_method_list(&all), order = n;
  for (int i = 0; i < n; i++)
    if (all[i] == me) order = i;
  mb_json_str(j, "method", me->name);
  mb_json_str(j, "method_needs", mb_row_needs_text(me));
  mb_json_str(j, "method_target", me->target ? me->target : "");
  mb_json_int(j, "method_order", order);
  mb_json_raw(j, "method_uses_codes_model", me->uses_codes_model ? "true" : "false");
  if (values && me->n_params) {
    mb_json p;
    mb_json_begin(&p);
    for (int i = 0; i < me->n_params; i++) mb_json_num(&p, me->params[i].name, values[i]);
    mb_json_raw(j, "params", mb_json_end(&p));
    mb_json_free(&p);
  }
}

void mb_row_lambda_source(mb_json *j, const char *source)
{
  mb_json_str(j, "lambda_source", source ? source : "");
}

void mb_row_stats(mb_json *j, const char *key, const mb_stats *s, const double *samples, int n)
{
  char k[96];
  mb_json_num(j, key, s->med);
  snprintf(k, sizeof k, "%s_min", key);
  mb_json_num(j, k, s->min);
  snprintf(k, sizeof k, "%s_max", key);
  mb_json_num(j, k, s->max);
  snprintf(k, sizeof k, "%s_mean", key);
  mb_json_num(j, k, s->mean);
  snprintf(k, sizeof k, "%s_std", key);
  mb_json_num(j, k, n >= 2 ? s->std : NAN);   /* one run has no spread to report */
  if (samples) {
    snprintf(k, sizeof k, "%s_samples", key);
    mb_json_nums(j, k, samples, n);
  }
}

void mb_model_name_mlp(const char *dims, const char *act, char *out, size_t len)
{
  snprintf(out, len, "%s %s", dims, act && *act ? act : "sigmoid");
}


const char *mb_row_timer_kind(const mb_backend *be, int have_dev, int zero_dev)
{
  if (!be || !be->info.has_device_timer) return "host-only";
  if (zero_dev || !have_dev) return "host-fallback";
  return "device";
}

void mb_row_device_timing(mb_json *j, const mb_backend *be, const double *host_s, const double *dev_ms,
                          int n)
{
  int have_dev = n > 0, zero_dev = 0;
  for (int i = 0; i < n; i++) {
    have_dev &= dev_ms[i] >= 0;
    zero_dev |= dev_ms[i] == 0;
  }
  int dev_ok = have_dev && !zero_dev && be && be->info.has_device_timer;
  mb_stats dv = dev_ok ? mb_stats_of(dev_ms, n) : (mb_stats){NAN, NAN, NAN, NAN, NAN, 0};
  double ratio = dev_ok ? dv.med / (1e3 * mb_stats_of(host_s, n).med) : NAN;
  mb_json_str(j, "timer", mb_row_timer_kind(be, have_dev, zero_dev));
  mb_json_num(j, "forget_device_ms", dv.med);
  mb_json_num(j, "forget_device_ms_min", dv.min);
  mb_json_num(j, "forget_device_ms_max", dv.max);
  if (dev_ok) mb_json_nums(j, "forget_device_ms_samples", dev_ms, n);
  mb_json_num(j, "device_host_ratio", ratio);
  mb_json_raw(j, "timer_disagree", dev_ok && fabs(ratio - 1.0) > 0.2 ? "true" : "false");
}
