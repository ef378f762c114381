/* mnemobench devices: every backend compiled in, its devices, or why it has none. */
#include "mb/registry.h"
#include "harness/commands.h"
#include "harness/common.h"
#include "harness/json.h"
#include "harness/options.h"

#include <inttypes.h>
#include <stdio.h>

static const char k_usage[] =
  "usage: mnemobench devices [--json]\n"
  "Lists every backend (ref, cpu, opencl, vulkan, cuda) with its devices, or the\n"
  "reason it has none (not built, its module or a runtime library it needs does not load,\n"
  "no driver, no device, disabled by MB_BACKENDS).\n";

static void print_device(const char *name, int i, const mb_backend *be, int json)
{
  if (json) {
    mb_json j;
    mb_json_begin(&j);
    mb_json_str(&j, "backend", name);
    mb_json_int(&j, "device", i);
    mb_json_str(&j, "status", "available");
    mb_json_str(&j, "name", be->info.name);
    mb_json_str(&j, "vendor", be->info.vendor);
    mb_json_str(&j, "type", be->info.type);
    mb_json_str(&j, "driver", be->info.driver);
    mb_json_str(&j, "api", be->info.api);
    mb_json_int(&j, "mem_bytes", (long long)be->info.mem_bytes);
    mb_json_int(&j, "device_timer", be->info.has_device_timer);
    mb_json_str(&j, "tuning", be->info.tuning);
    printf("%s\n", mb_json_end(&j));
    mb_json_free(&j);
  } else {
    printf("  %-7s %d  %s [%s] — %s; driver %s; %.1f GiB%s%s%s\n", name, i, be->info.name,
           be->info.type, be->info.api, be->info.driver, (double)be->info.mem_bytes / 1073741824.0,
           be->info.has_device_timer ? "; device timer" : "", be->info.tuning[0] ? "; " : "",
           be->info.tuning);
  }
}

static void print_missing(const char *name, const char *why, int json)
{
  if (json) {
    mb_json j;
    mb_json_begin(&j);
    mb_json_str(&j, "backend", name);
    mb_json_str(&j, "status", "unavailable");
    mb_json_str(&j, "reason", why);
    printf("%s\n", mb_json_end(&j));
    mb_json_free(&j);
  } else {
    printf("  %-7s -  unavailable: %s\n", name, why);
  }
}

int mb_cmd_devices(int argc, char **argv)
{
  mb_opts o;
  int done;
  mb_opts_defaults(&o);
  if (mb_parse_opts(argc, argv, k_usage, &o, &done) != 0) return 2;
  if (done) return 0;
  const mb_backend_entry *e;
  int n = mb_backend_entries(&e);
  if (!o.json) printf("backends and devices:\n");
  for (int b = 0; b < n; b++) {
    char why[512];
    int nd = mb_backend_devices(e[b].name, why, sizeof why);
    if (nd == 0) { print_missing(e[b].name, why, o.json); continue; }
    for (int d = 0; d < nd; d++) {
      mb_backend *be = mb_backend_open(e[b].name, d, why, sizeof why);
      if (!be) { print_missing(e[b].name, why, o.json); continue; }
      print_device(e[b].name, d, be, o.json);
      mb_backend_close(be);
    }
  }
  return 0;
}
