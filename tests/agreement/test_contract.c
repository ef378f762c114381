/* The op contract's edge points on every backend (include/mb/backend.h, the op
 * table's comment; docs/architecture.md §3.8), called through the op table
 * directly, as no checked wrapper would let them through:
 *  - an op code outside its family is a sticky MB_BAD_ARG, never an undefined
 *    kernel;
 *  - copy() of overlapping ranges of one buffer behaves as memmove.
 * One parameterised case per registered backend; one without a device skips
 * with its reason.  Backends are opened inside the tests (Criterion forks). */
#include "core/ops.h"
#include "mb/registry.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 64

static mb_backend *open_or_skip(const char *name)
{
  char why[320];
  if (mb_backend_devices(name, why, sizeof why) == 0) cr_skip_test("%s: %s", name, why);
  mb_backend *be = mb_backend_open(name, 0, why, sizeof why);
  if (!be) cr_skip_test("%s: %s", name, why);
  return be;
}

static const mb_backend_entry *entry_of(int i)
{
  const mb_backend_entry *e;
  mb_backend_entries(&e);
  return &e[i];
}

static int g_idx[16];

static int all_backends(void)
{
  const mb_backend_entry *e;
  int n = mb_backend_entries(&e);
  for (int i = 0; i < n && i < 16; i++) g_idx[i] = i;
  return n < 16 ? n : 16;
}

/* One call with a bad code on a fresh instance: MB_BAD_ARG, naming the op. */
typedef void (*bad_call)(mb_backend *be, mb_view x, mb_view v, mb_view y, const size_t *offs);

static void un(mb_backend *be, mb_view x, mb_view v, mb_view y, const size_t *offs)
{
  (void)v; (void)offs;
  be->ops->unary(be, (mb_unary_op)MB_UN__COUNT, x, y, N, 1, 0);
}
static void bin(mb_backend *be, mb_view x, mb_view v, mb_view y, const size_t *offs)
{
  (void)offs;
  be->ops->binary(be, (mb_binary_op)MB_BIN__COUNT, x, v, y, N, 1, 0);
}
static void bc(mb_backend *be, mb_view x, mb_view v, mb_view y, const size_t *offs)
{
  (void)offs;
  be->ops->bcast(be, (mb_bcast_op)MB_BC__COUNT, x, v, y, 4, 4, 4);
}
static void bc_neg(mb_backend *be, mb_view x, mb_view v, mb_view y, const size_t *offs)
{
  (void)offs;
  be->ops->bcast(be, (mb_bcast_op)-1, x, v, y, 4, 4, 4);
}
static void red(mb_backend *be, mb_view x, mb_view v, mb_view y, const size_t *offs)
{
  (void)v; (void)offs;
  be->ops->reduce(be, (mb_reduce_op)MB_RED__COUNT, x, y, 4, 4, 4);
}
static void red_long(mb_backend *be, mb_view x, mb_view v, mb_view y, const size_t *offs)
{
  (void)v; (void)offs;   /* a shape some backends run as segments */
  be->ops->reduce(be, (mb_reduce_op)(MB_RED__COUNT + 3), x, y, 1, N, 1);
}
static void segred(mb_backend *be, mb_view x, mb_view v, mb_view y, const size_t *offs)
{
  (void)v;
  be->ops->seg_reduce(be, (mb_reduce_op)MB_RED__COUNT, x, y, offs, 2);
}
static void segred_argmax(mb_backend *be, mb_view x, mb_view v, mb_view y, const size_t *offs)
{
  (void)v;
  be->ops->seg_reduce(be, MB_RED_ARGMAX, x, y, offs, 2);
}
static void segbc(mb_backend *be, mb_view x, mb_view v, mb_view y, const size_t *offs)
{
  be->ops->seg_bcast(be, (mb_segbcast_op)MB_SEGBC__COUNT, x, v, y, offs, 2);
}

static const struct {
  const char *what, *op;
  bad_call call;
} k_bad[] = {
  {"unary code MB_UN__COUNT", "unary", un},
  {"binary code MB_BIN__COUNT", "binary", bin},
  {"bcast code MB_BC__COUNT", "bcast", bc},
  {"bcast code -1", "bcast", bc_neg},
  {"reduce code MB_RED__COUNT", "reduce", red},
  {"reduce code MB_RED__COUNT + 3 over one long row", "reduce", red_long},
  {"seg_reduce code MB_RED__COUNT", "seg_reduce", segred},
  {"seg_reduce ARGMAX (not segmented)", "seg_reduce", segred_argmax},
  {"seg_bcast code MB_SEGBC__COUNT", "seg_bcast", segbc},
};

ParameterizedTestParameters(contract, unknown_op_code_is_bad_arg)
{
  return cr_make_param_array(int, g_idx, (size_t)all_backends());
}

ParameterizedTest(int *entry, contract, unknown_op_code_is_bad_arg, .timeout = 300)
{
  const char *name = entry_of(*entry)->name;
  int bad = 0;
  for (size_t c = 0; c < sizeof k_bad / sizeof k_bad[0]; c++) {
    mb_backend *be = open_or_skip(name);   /* fresh: the error is sticky */
    mb_view x = mb_new(be, N), v = mb_new(be, N), y = mb_new(be, N);
    mb_fill(be, x, N, 1.0f);
    mb_fill(be, v, N, 2.0f);
    mb_fill(be, y, N, 0.0f);
    mb_sync(be);
    cr_assert(mb_ok(be), "%s: setup: %s", name, mb_error(be));
    size_t offs[3] = {0, N / 2, N};
    k_bad[c].call(be, x, v, y, offs);
    mb_sync(be);
    if (be->status != MB_BAD_ARG || !strstr(be->err, k_bad[c].op)) {
      fprintf(stderr, "%s: %s: status %d, error '%s' (want MB_BAD_ARG naming %s)\n", name,
              k_bad[c].what, (int)be->status, be->err, k_bad[c].op);
      bad++;
    }
    mb_release(be, x);
    mb_release(be, v);
    mb_release(be, y);
    mb_backend_close(be);
  }
  cr_assert_eq(bad, 0, "%s: %d bad op codes not refused with MB_BAD_ARG", name, bad);
}

ParameterizedTestParameters(contract, overlapping_copy_is_memmove)
{
  return cr_make_param_array(int, g_idx, (size_t)all_backends());
}

/* dst after src and before it, by less than n (overlap) and by 0 (exact alias),
 * short and long runs: each against memmove on the host. */
ParameterizedTest(int *entry, contract, overlapping_copy_is_memmove, .timeout = 300)
{
  const char *name = entry_of(*entry)->name;
  mb_backend *be = open_or_skip(name);
  enum { LEN = 1 << 16 };
  static float host[LEN], want[LEN], got[LEN];
  for (int i = 0; i < LEN; i++) host[i] = (float)i;
  mb_view buf = mb_new(be, LEN);
  static const struct { size_t src, dst, n; } k[] = {
    {0, 1, 100}, {1, 0, 100}, {0, 7, 4096}, {7, 0, 4096}, {100, 100, 50},
    {0, 1000, 60000}, {1000, 0, 60000}, {5, 3, 2}, {3, 5, 2},
  };
  int bad = 0;
  for (size_t c = 0; c < sizeof k / sizeof k[0]; c++) {
    mb_upload(be, buf, host, LEN);
    be->ops->copy(be, mb_at(buf, k[c].dst), mb_at(buf, k[c].src), k[c].n);
    mb_download(be, got, buf, LEN);
    cr_assert(mb_ok(be), "%s: copy %zu -> %zu (%zu): %s", name, k[c].src, k[c].dst, k[c].n, mb_error(be));
    memcpy(want, host, sizeof want);
    memmove(want + k[c].dst, want + k[c].src, k[c].n * sizeof(float));
    if (memcmp(want, got, sizeof want) != 0) {
      int at = 0;
      while (want[at] == got[at]) at++;
      fprintf(stderr, "%s: copy %zu -> %zu of %zu: element %d is %g, memmove gives %g\n", name,
              k[c].src, k[c].dst, k[c].n, at, (double)got[at], (double)want[at]);
      bad++;
    }
  }
  mb_release(be, buf);
  mb_backend_close(be);
  cr_assert_eq(bad, 0, "%s: %d overlapping copies differ from memmove", name, bad);
}
