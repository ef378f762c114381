/* Test-only fault injection (see fault.h). */
#include "util/fault.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const k_names[MB_FAULT__COUNT] = {"alloc", "op", "write", "fsync"};

static atomic_int g_state;                        /* 0 unparsed, 1 off, 2 on */
static long long g_at[MB_FAULT__COUNT];           /* the event to fail (1-based), 0: none */
static int g_kill[MB_FAULT__COUNT];               /* ...by SIGKILL instead */
static atomic_int g_kill_pending;
static atomic_llong g_seen[MB_FAULT__COUNT];
static int g_count;                               /* MB_FAULT=count */
static char g_spec[128];

const char *mb_fault_name(mb_fault_kind k) { return (unsigned)k < MB_FAULT__COUNT ? k_names[k] : "?"; }

static void print_counts(void)
{
  fprintf(stderr, "mnemobench: MB_FAULT events:");
  for (int k = 0; k < MB_FAULT__COUNT; k++)
    fprintf(stderr, " %s=%lld", k_names[k], (long long)atomic_load(&g_seen[k]));
  fputc('\n', stderr);
}

/* A bad value is a mistake in a test: it must not run unfaulted and pass. */
static void bad_spec(const char *v)
{
  fprintf(stderr, "mnemobench: bad MB_FAULT '%s' (expected count or KIND:N[:kill][,...], KIND alloc, op, "
          "write or fsync, N >= 1)\n", v);
  exit(2);
}

static void parse(void)
{
  const char *v = getenv("MB_FAULT");
  if (!v || !*v) { atomic_store(&g_state, 1); return; }
  snprintf(g_spec, sizeof g_spec, "%s", v);
  if (strcmp(v, "count") == 0) {
    g_count = 1;
    atexit(print_counts);
  } else {
    const char *p = v;
    while (*p) {
      int k = 0;
      while (k < MB_FAULT__COUNT && !(strncmp(p, k_names[k], strlen(k_names[k])) == 0 &&
                                       p[strlen(k_names[k])] == ':'))
        k++;
      if (k == MB_FAULT__COUNT) bad_spec(v);
      p += strlen(k_names[k]) + 1;
      char *end;
      long long n = strtoll(p, &end, 10);
      if (end == p || n < 1) bad_spec(v);
      if (strncmp(end, ":kill", 5) == 0) { g_kill[k] = 1; end += 5; }
      if (*end && *end != ',') bad_spec(v);
      g_at[k] = n;
      p = *end ? end + 1 : end;
    }
  }
  atomic_store(&g_state, 2);
}

const char *mb_fault_spec(void)
{
  if (atomic_load(&g_state) == 0) parse();
  return g_spec;
}

int mb_fault_hit(mb_fault_kind k)
{
  int s = atomic_load(&g_state);
  if (s == 0) { parse(); s = atomic_load(&g_state); }
  if (s != 2 || (unsigned)k >= MB_FAULT__COUNT) return 0;
  long long n = atomic_fetch_add(&g_seen[k], 1) + 1;
  if (g_count || n != g_at[k]) return 0;
  if (g_kill[k]) {
    if (k != MB_FAULT_WRITE) raise(SIGKILL);   /* no clean-up, as kill -9 from outside */
    atomic_store(&g_kill_pending, 1);          /* after the torn half: mb_fault_torn() */
  }
  return 1;
}

void mb_fault_torn(void)
{
  if (atomic_load(&g_kill_pending)) raise(SIGKILL);
}
