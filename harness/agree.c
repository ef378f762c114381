/* The agreement engine: inputs, canaried buffers, oracle and target runs, checks. */
#include "harness/agree.h"
#include "harness/agree_tolerances.h"

#include "core/ops.h"
#include "mb/registry.h"
#include "philox.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- seeds */

const char *agree_status_name(agree_status s)
{
  return s == AGREE_PASS ? "pass" : s == AGREE_FAIL ? "fail" : "skip";
}

uint64_t agree_base_seed(void)
{
  const char *s = getenv("MB_SEED");
  if (s && *s) {
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (end != s && !*end) return v;
  }
  const char *fuzz = getenv("MB_FUZZ");
  if (fuzz && *fuzz && strcmp(fuzz, "0") != 0) {
    /* Fresh inputs for nightly/local fuzzing; the seed is printed with failures. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 40);
  }
  return AGREE_DEFAULT_SEED;
}

/* FNV-1a: stable across platforms, so a case id always names the same inputs. */
uint64_t agree_case_seed(const agree_case *c, uint64_t base)
{
  uint64_t h = 0xcbf29ce484222325u;
  for (const unsigned char *p = (const unsigned char *)c->id; *p; p++) {
    h ^= *p;
    h *= 0x100000001b3u;
  }
  return h ^ base;
}

/* ---------------------------------------------------------------- inputs */

static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static double unit01(uint32_t w) { return (double)(w >> 8) * (1.0 / 16777216.0); }

static double gauss(uint32_t w0, uint32_t w1)
{
  double u1 = ((double)(w0 >> 8) + 1.0) * (1.0 / 16777216.0);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * unit01(w1));
}

static uint32_t gen_mixed(agree_gen g, const uint32_t *w)
{
  unsigned k = w[2] % 100;
  if (k < 5) return (w[3] & 1) ? f2u(-0.0f) : 0u;
  if (k < 10) {
    double mag = pow(10.0, 3.0 + 2.0 * unit01(w[0]));
    return f2u((float)((w[3] & 1) ? -mag : mag));
  }
  return f2u((float)(g.a + g.b * gauss(w[0], w[1])));
}

static uint32_t gen_one(agree_gen g, const uint32_t *w)
{
  static const float k_cond[4] = {1.0f, -2.5f, 0.5f, 7.0f};
  switch (g.kind) {
  case AGREE_GEN_NONE: return AGREE_UNWRITTEN;
  case AGREE_GEN_NORMAL: return f2u((float)(g.a + g.b * gauss(w[0], w[1])));
  case AGREE_GEN_UNIFORM: return f2u((float)(g.a + (g.b - g.a) * unit01(w[0])));
  case AGREE_GEN_MIXED: return gen_mixed(g, w);
  case AGREE_GEN_SPECIAL:
  case AGREE_GEN_INF: {
    unsigned k = w[3] % 100;
    if (k < 4 && g.kind == AGREE_GEN_SPECIAL) return f2u(NAN);
    if (k < 8) return f2u(INFINITY);
    if (k < 12) return f2u(-INFINITY);
    return gen_mixed(g, w);
  }
  case AGREE_GEN_NONFINITE: {
    static const float k_nonfinite[3] = {NAN, INFINITY, -INFINITY};
    unsigned k = w[3] % 10;
    return k < 9 ? f2u(k_nonfinite[k % 3]) : f2u((float)(g.b * gauss(w[0], w[1])));
  }
  case AGREE_GEN_TIES: {
    long span = (long)g.b - (long)g.a + 1;
    return f2u((float)((long)g.a + (long)(w[0] % (uint32_t)span)));
  }
  case AGREE_GEN_AWAY: {
    double m = g.a + (g.b - g.a) * unit01(w[0]);
    return f2u((float)((w[1] & 1) ? -m : m));
  }
  case AGREE_GEN_COND: return (w[1] & 1) ? 0u : f2u(k_cond[w[0] & 3]);
  case AGREE_GEN_INDEX: {
    int32_t i = (int32_t)((double)g.a + floor(((double)g.b - g.a) * unit01(w[0])));
    return (uint32_t)i;
  }
  case AGREE_GEN_BITS: return w[0];
  }
  return 0;
}

/* Argument i draws from Philox stream i + 1, one block per element. */
static void generate(uint32_t *dst, size_t n, agree_gen g, uint64_t seed, int i)
{
  uint32_t w[4];
  for (size_t j = 0; j < n; j++) {
    if (g.kind != AGREE_GEN_NONE) mb_philox_block(seed, (uint64_t)i + 1, j, w);
    dst[j] = gen_one(g, w);
  }
}

/* ---------------------------------------------------------------- checks */

agree_tol agree_tolerance(agree_tol_class cls, const char *backend)
{
  size_t n = sizeof k_agree_tol_overrides / sizeof k_agree_tol_overrides[0];
  for (size_t i = 0; i < n && backend; i++) {
    const agree_tol_override *o = &k_agree_tol_overrides[i];
    if (o->backend && o->cls == cls && strcmp(o->backend, backend) == 0) return o->tol;
  }
  return k_agree_tol[cls];
}

int agree_check_guards(const uint32_t *img, size_t pre, size_t n, size_t post, const char *name,
                       char *why, size_t len)
{
  for (size_t i = 0; i < pre; i++)
    if (img[i] != AGREE_CANARY) {
      snprintf(why, len, "%s: canary %zu element(s) before the view overwritten (0x%08x)", name,
               pre - i, img[i]);
      return 1;
    }
  const uint32_t *tail = img + pre + n;
  for (size_t i = post; i-- > 0;)
    if (tail[i] != AGREE_CANARY) {
      snprintf(why, len, "%s: canary %zu element(s) past the end overwritten (0x%08x)", name,
               i + 1, tail[i]);
      return 1;
    }
  return 0;
}

static double ratio(double num, double den)
{
  return den > 0 ? num / den : (num > 0 ? INFINITY : 0.0);
}

static int compare_bits(const char *name, const uint32_t *ref, const uint32_t *got, size_t n,
                        char *why, size_t len)
{
  for (size_t i = 0; i < n; i++)
    if (ref[i] != got[i]) {
      snprintf(why, len, "%s[%zu] = 0x%08x (%d), want 0x%08x (%d)", name, i, got[i],
               (int32_t)got[i], ref[i], (int32_t)ref[i]);
      return 1;
    }
  return 0;
}

int agree_compare(const char *name, const uint32_t *ref, const uint32_t *got, size_t n, int bits,
                  agree_tol tol, double *nmse, double *max_rel, char *why, size_t len)
{
  *nmse = *max_rel = 0.0;
  if (bits) return compare_bits(name, ref, got, n, why, len);
  double sd2 = 0, sr2 = 0, maxd = 0, maxr = 0;
  size_t worst = 0;
  for (size_t i = 0; i < n; i++) {
    float a = u2f(got[i]), r = u2f(ref[i]);
    if (!isnan(a) != !isnan(r) || ((isinf(a) || isinf(r)) && a != r)) {
      snprintf(why, len, "%s[%zu] = %.9g, want %.9g (NaN/inf positions differ)", name, i, a, r);
      return 1;
    }
    if (!isfinite(r)) continue;
    double d = fabs((double)a - (double)r);
    sd2 += d * d;
    sr2 += (double)r * r;
    if (d > maxd) { maxd = d; worst = i; }
    if (fabs(r) > maxr) maxr = fabs(r);
  }
  *nmse = ratio(sd2, sr2);
  *max_rel = ratio(maxd, maxr);
  char worst_at[128];
  snprintf(worst_at, sizeof worst_at, "worst %s[%zu] = %.9g, want %.9g", name, worst,
           u2f(got[worst]), u2f(ref[worst]));
  if (*nmse > tol.nmse)
    snprintf(why, len, "%s: NMSE %.3g > %.3g (max error %.3g of max|ref|; %s)", name, *nmse,
             tol.nmse, *max_rel, worst_at);
  else if (*max_rel > tol.max_rel)
    snprintf(why, len, "%s: max error %.3g of max|ref| > %.3g (NMSE %.3g; %s)", name, *max_rel,
             tol.max_rel, *nmse, worst_at);
  else
    return 0;
  return 1;
}

/* ---------------------------------------------------------------- sessions */

struct agree_session {
  const mb_backend_ops *ref_ops, *ops;
  const char *name;   /* registry name, or NULL when opened from an op table */
  int device;
  mb_backend *ref, *be;
  char reopen_err[256];
};

static mb_backend *open_ops(const mb_backend_ops *ops, int device, char *why, size_t len)
{
  if (ops->abi != MB_ABI_VERSION) {
    snprintf(why, len, "%s: backend ABI %d, core expects %d", ops->name, ops->abi, MB_ABI_VERSION);
    return NULL;
  }
  why[0] = 0;
  int n = ops->device_count(why, len);
  if (n <= device) {
    if (n > 0) snprintf(why, len, "%s: no device %d (it has %d)", ops->name, device, n);
    else if (!why[0]) snprintf(why, len, "%s: no device", ops->name);
    return NULL;
  }
  mb_backend *be = NULL;
  if (ops->open(device, &be, why, len) != MB_OK || !be) {
    if (!why[0]) snprintf(why, len, "%s: cannot open device %d", ops->name, device);
    return NULL;
  }
  be->device_index = device;
  be->ops = ops;   /* calls go through the table it was opened with, wrappers included */
  return be;
}

static mb_backend *open_target(agree_session *s, char *why, size_t len)
{
  mb_backend *be = s->name ? mb_backend_open(s->name, s->device, why, len)
                           : open_ops(s->ops, s->device, why, len);
  /* a target runs its own optional ops (ref composes them by default); MB_ENGINE /
   * --engine generic still force the composition */
  if (be) be->engine_generic = 0;
  return be;
}

/* The oracle runs the generic composition of every optional op (im2col + GEMM, the op
 * chain), so a target's optional ops (ref's own included) are checked against it. */
static mb_backend *open_oracle(agree_session *s, char *why, size_t len)
{
  mb_backend *be = open_ops(s->ref_ops, 0, why, len);
  if (be) be->engine_generic = 1;
  return be;
}

/* The oracle is opened from its op table: MB_BACKENDS filters targets, not ref. */
static agree_session *open_session(const mb_backend_ops *ops, const char *name, int device,
                                   char *why, size_t len)
{
  const mb_backend_entry *ref = mb_backend_lookup("ref");
  if (!ref || !ref->ops) {
    snprintf(why, len, "the ref oracle is not built");
    return NULL;
  }
  agree_session *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(why, len, "out of host memory");
    return NULL;
  }
  s->ref_ops = ref->ops;
  s->ops = ops;
  s->name = name;
  s->device = device;
  s->be = open_target(s, why, len);
  if (s->be) {
    char rwhy[256];
    s->ref = open_oracle(s, rwhy, sizeof rwhy);
    if (!s->ref) snprintf(why, len, "cannot open the ref oracle: %s", rwhy);
  }
  if (!s->be || !s->ref) {
    agree_close(s);
    return NULL;
  }
  return s;
}

agree_session *agree_open(const char *backend, int device, char *why, size_t len)
{
  const mb_backend_entry *e = mb_backend_lookup(backend);
  if (!e) {
    snprintf(why, len, "unknown backend '%s' (known: %s)", backend, mb_backend_names());
    return NULL;
  }
  return open_session(e->ops, e->name, device, why, len);
}

agree_session *agree_open_ops(const mb_backend_ops *ops, int device, char *why, size_t len)
{
  return open_session(ops, NULL, device, why, len);
}

void agree_close(agree_session *s)
{
  if (!s) return;
  if (s->be) s->be->ops->close(s->be);
  if (s->ref) s->ref->ops->close(s->ref);
  free(s);
}

const mb_backend *agree_target(const agree_session *s) { return s->be; }

/* A sticky error ends a backend instance; later cases get a fresh one. */
static void reopen(agree_session *s, int oracle)
{
  mb_backend **slot = oracle ? &s->ref : &s->be;
  if (*slot) (*slot)->ops->close(*slot);
  *slot = oracle ? open_oracle(s, s->reopen_err, sizeof s->reopen_err)
                 : open_target(s, s->reopen_err, sizeof s->reopen_err);
}

/* ---------------------------------------------------------------- one run */

static int owns(const agree_arg *a) { return a->alias_of < 0 && !a->none; }
static size_t lead_of(const agree_case *c) { return AGREE_GUARD + (size_t)c->shift; }
static size_t image_len(const agree_case *c, const agree_arg *a)
{
  return lead_of(c) + a->n + AGREE_GUARD;
}

/* Uploads every owned image, runs the family, downloads the images back. */
static mb_status run_once(mb_backend *be, const agree_case *c, const agree_plan *p,
                          uint32_t *const *init, uint32_t *const *img, uint64_t seed)
{
  mb_view buf[AGREE_MAX_ARGS], v[AGREE_MAX_ARGS];
  for (int i = 0; i < p->nargs; i++) {
    const agree_arg *a = &p->arg[i];
    buf[i] = mb_none();
    if (a->none) v[i] = mb_none();
    else if (a->alias_of >= 0) v[i] = v[a->alias_of];
    else {
      buf[i] = mb_new(be, image_len(c, a));
      mb_upload(be, buf[i], init[i], image_len(c, a));
      v[i] = mb_at(buf[i], lead_of(c));
    }
  }
  if (mb_ok(be)) c->fam->run(be, c, v, seed);
  for (int i = 0; i < p->nargs; i++)
    if (owns(&p->arg[i])) mb_download(be, img[i], buf[i], image_len(c, &p->arg[i]));
  for (int i = 0; i < p->nargs; i++) mb_release(be, buf[i]);
  return be->status;
}

/* The images of one case: initial content, oracle, target, target again. */
typedef struct {
  agree_plan plan;
  uint32_t *init[AGREE_MAX_ARGS], *ref[AGREE_MAX_ARGS], *got[AGREE_MAX_ARGS],
           *again[AGREE_MAX_ARGS];
} agree_images;

static void free_images(agree_images *m)
{
  for (int i = 0; i < AGREE_MAX_ARGS; i++) {
    free(m->init[i]); free(m->ref[i]); free(m->got[i]); free(m->again[i]);
  }
}

static int alloc_images(agree_images *m, const agree_case *c, uint64_t seed)
{
  size_t lead = lead_of(c);
  for (int i = 0; i < m->plan.nargs; i++) {
    const agree_arg *a = &m->plan.arg[i];
    if (!owns(a)) continue;
    size_t len = image_len(c, a);
    m->init[i] = malloc(len * 4);
    m->ref[i] = malloc(len * 4);
    m->got[i] = malloc(len * 4);
    m->again[i] = malloc(len * 4);
    if (!m->init[i] || !m->ref[i] || !m->got[i] || !m->again[i]) return -1;
    for (size_t j = 0; j < lead; j++) m->init[i][j] = AGREE_CANARY;
    generate(m->init[i] + lead, a->n, a->gen, seed, i);
    for (size_t j = 0; j < AGREE_GUARD; j++) m->init[i][lead + a->n + j] = AGREE_CANARY;
  }
  return 0;
}

/* The argument whose comparison rules apply to owned buffer i: itself if it is
 * an output, else an output aliasing it; NULL for a pure input. */
static const agree_arg *written_as(const agree_plan *p, int i)
{
  if (p->arg[i].out) return &p->arg[i];
  for (int j = 0; j < p->nargs; j++)
    if (p->arg[j].alias_of == i && p->arg[j].out) return &p->arg[j];
  return NULL;
}

static int fail(agree_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(agree_result *r, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  r->status = AGREE_FAIL;
  vsnprintf(r->reason, sizeof r->reason, fmt, ap);
  va_end(ap);
  return 1;
}

/* Canaries and untouched inputs of one backend's images. */
static int check_buffers(const agree_case *c, const agree_images *m, uint32_t *const *img,
                         const char *who, agree_result *r)
{
  char why[256];
  size_t lead = lead_of(c);
  for (int i = 0; i < m->plan.nargs; i++) {
    const agree_arg *a = &m->plan.arg[i];
    if (!owns(a)) continue;
    if (agree_check_guards(img[i], lead, a->n, AGREE_GUARD, a->name, why, sizeof why))
      return fail(r, "%s%s", who, why);
    if (!written_as(&m->plan, i) &&
        compare_bits(a->name, m->init[i] + lead, img[i] + lead, a->n, why, sizeof why))
      return fail(r, "%sinput modified: %s", who, why);
  }
  return 0;
}

static int check_outputs(const agree_case *c, const agree_images *m, agree_tol tol,
                         agree_result *r)
{
  char why[256];
  size_t lead = lead_of(c);
  r->nmse = r->max_rel = 0.0;
  for (int i = 0; i < m->plan.nargs; i++) {
    const agree_arg *a = owns(&m->plan.arg[i]) ? written_as(&m->plan, i) : NULL;
    if (!a) continue;
    double nmse, max_rel;
    int bad = agree_compare(a->name, m->ref[i] + lead, m->got[i] + lead, m->plan.arg[i].n,
                            a->bits, tol, &nmse, &max_rel, why, sizeof why);
    r->nmse = fmax(r->nmse, nmse);
    r->max_rel = fmax(r->max_rel, max_rel);
    if (bad) return fail(r, "%s", why);
  }
  return 0;
}

static int check_repeat(const agree_case *c, const agree_images *m, agree_result *r)
{
  char why[256];
  size_t lead = lead_of(c);
  r->deterministic = 1;
  for (int i = 0; i < m->plan.nargs; i++) {
    const agree_arg *a = owns(&m->plan.arg[i]) ? written_as(&m->plan, i) : NULL;
    if (a && compare_bits(a->name, m->got[i] + lead, m->again[i] + lead, m->plan.arg[i].n, why,
                          sizeof why)) {
      r->deterministic = 0;
      return fail(r, "not deterministic: second run %s (want = first run)", why);
    }
  }
  return 0;
}

/* The oracle's run and its own sanity checks; 1 when the case cannot go on. */
static int run_oracle(agree_session *s, const agree_case *c, agree_images *m, uint64_t seed,
                      agree_result *r)
{
  mb_status st = run_once(s->ref, c, &m->plan, m->init, m->ref, seed);
  if (st != MB_OK) {
    r->status = st == MB_UNSUPPORTED ? AGREE_SKIP : AGREE_FAIL;
    snprintf(r->reason, sizeof r->reason, "oracle: %s", s->ref->err);
    reopen(s, 1);
    return 1;
  }
  if (check_buffers(c, m, m->ref, "oracle: ", r)) return 1;
  if (!c->fam->oracle_check) return 0;
  uint32_t *in[AGREE_MAX_ARGS], *out[AGREE_MAX_ARGS];
  size_t lead = lead_of(c);
  for (int i = 0; i < m->plan.nargs; i++) {
    int o = m->plan.arg[i].alias_of >= 0 ? m->plan.arg[i].alias_of : i;
    in[i] = m->init[o] ? m->init[o] + lead : NULL;
    out[i] = m->ref[o] ? m->ref[o] + lead : NULL;
  }
  char why[256];
  if (c->fam->oracle_check(c, seed, &m->plan, in, out, why, sizeof why))
    return fail(r, "oracle disagrees with the host: %s", why);
  return 0;
}

static int run_target(agree_session *s, const agree_case *c, agree_images *m, uint64_t seed,
                      uint32_t *const *img, agree_result *r)
{
  mb_status st = run_once(s->be, c, &m->plan, m->init, img, seed);
  if (st == MB_OK) return 0;
  r->status = st == MB_UNSUPPORTED ? AGREE_SKIP : AGREE_FAIL;
  snprintf(r->reason, sizeof r->reason, "%s%s", st == MB_UNSUPPORTED ? "unsupported: " : "",
           s->be->err);
  reopen(s, 0);
  return 1;
}

static void run_checked(agree_session *s, const agree_case *c, agree_images *m, uint64_t seed,
                        agree_result *r)
{
  if (run_oracle(s, c, m, seed, r)) return;
  if (run_target(s, c, m, seed, m->got, r)) return;
  if (check_buffers(c, m, m->got, "", r)) return;
  if (check_outputs(c, m, agree_tolerance(c->tol, s->be->ops->name), r)) return;
  if (c->flags & AGREE_NONDET) return;
  if (run_target(s, c, m, seed, m->again, r)) return;
  if (check_buffers(c, m, m->again, "second run: ", r)) return;
  check_repeat(c, m, r);
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void run_case(agree_session *s, const agree_case *c, uint64_t base_seed, agree_result *r)
{
  const char *miss;
  if (!s->be || !s->ref) {
    fail(r, "cannot reopen after an earlier error: %s", s->reopen_err);
    return;
  }
  if (c->fam->missing && (miss = c->fam->missing(s->ref->ops, c))) {
    r->status = AGREE_SKIP;
    snprintf(r->reason, sizeof r->reason, "oracle lacks %s", miss);
    return;
  }
  if (c->fam->missing && (miss = c->fam->missing(s->be->ops, c))) {
    r->status = AGREE_SKIP;
    snprintf(r->reason, sizeof r->reason, "unsupported: %s is not implemented", miss);
    return;
  }
  uint64_t seed = agree_case_seed(c, base_seed);
  agree_images m;
  memset(&m, 0, sizeof m);
  c->fam->plan(c, &m.plan);
  if (alloc_images(&m, c, seed) != 0) fail(r, "out of host memory");
  else run_checked(s, c, &m, seed, r);
  free_images(&m);
}

void agree_run(agree_session *s, const agree_case *c, uint64_t base_seed, agree_result *r)
{
  memset(r, 0, sizeof *r);
  r->c = c;
  r->status = AGREE_PASS;
  r->nmse = r->max_rel = NAN;
  r->deterministic = -1;
  r->seed = base_seed;
  double t0 = now_s();
  run_case(s, c, base_seed, r);
  r->seconds = now_s() - t0;
}
