/* What the report sources share (not part of the report's interface): row
 * access, the selected rows, statistics over vectors, orderings.  The report
 * reads rows only: no core header here or in any report source. */
#ifndef MB_REPORT_INTERNAL_H
#define MB_REPORT_INTERNAL_H

#include "harness/report.h"
#include "harness/stats.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef const mb_jv row;

static inline const char *S(row *r, const char *k) { return mb_jv_str(r, k, ""); }
static inline double N(row *r, const char *k) { return mb_jv_num(r, k); }
static inline int is_ok(row *r) { return strcmp(S(r, "status"), "ok") == 0; }
/* A row's number as an int in [lo, hi], else dflt: missing, NaN and out-of-range
 * values (converting those to an integer type is undefined behaviour). */
static inline int rp_int(double d, int lo, int hi, int dflt) { return d >= lo && d <= hi ? (int)d : dflt; }
static inline double param(row *r, const char *k) { return mb_jv_num(mb_jv_get(r, "params"), k); }

/* The experiment kind of a row: its "kind", else from an older schema
 * (mnemobench.scale/1: scale, mnemobench.bench/1: throughput), else main. */
const char *rp_kind_of(row *r);

/* Marks cells [from, to) of row k as missing, with the reason for the footnote. */
static inline void missing_cells(mb_rtable *t, int k, int from, int to, const char *why)
{
  for (int c = from; c < to; c++) mb_rt_missing(t, k, c, why);
}

/* The rows that count: per cell id the last ok row, else the last row. */
typedef struct {
  row **v;
  int n;
  int n_dropped;        /* objects that are no result row (no method, not scale/throughput) */
  int n_replaced;       /* cells whose row was replaced by a later one of another commit/build/threads */
  char replaced_eg[200];/* the first such cell: "CELL (A → B)" */
} sel;
sel rp_select_rows(const mb_rowset *rs);
/* A row's provenance: "COMMIT (BUILD), N threads". */
void rp_provenance(row *r, char *out, size_t len);

/* A vector of finite values and its statistics (harness/stats.h). */
typedef struct {
  double v[512];
  int n;
} vec;

static inline void push(vec *a, double x)
{
  if (isfinite(x) && a->n < 512) a->v[a->n++] = x;
}
static inline double mean(const vec *a) { return mb_stats_of(a->v, a->n).mean; }
static inline double stdev(const vec *a) { return mb_stats_of(a->v, a->n).std; }   /* population, ddof = 0 */
static inline double median(const vec *a) { return mb_stats_of(a->v, a->n).med; }
static inline double vmin(const vec *a) { return mb_stats_of(a->v, a->n).min; }
static inline double vmax(const vec *a) { return mb_stats_of(a->v, a->n).max; }

int rp_cmp_dbl(const void *x, const void *y);
/* "12.3" style milliseconds with enough digits for times spanning decades */
void rp_fmt_ms(double s, char *out, size_t len);

/* The network a row's method ran on: its `model` ("784-1000-10 relu",
 * "resnet18-fmnist-w16"); a mnemobench.result/1 MLP row named the layers only
 * and its activation in `act`, which is added. */
void rp_network_of(row *r, char *out, size_t len);

/* Distinct (method, network) pairs among rows of a kind: a spec may run one
 * method on two networks (the sigmoid and the ReLU MLP), and their rows are
 * two entries, never averaged together.  In the method list's order (the rows'
 * method_order; rows without it: in order of appearance, after), then the
 * network most methods ran on first (ties: in order of first appearance). */
typedef struct {
  char name[32];
  int rank;
  char net[96];
  int net_rank;
  char sig[640];    /* the row settings that key the entry (rp_settings_of) */
  char label[200];  /* name, with " [k=v, ...]" when another entry of this method and network
                       differs in settings */
  int seq;          /* order of first appearance */
} mname;
/* The settings of a row that make two rows of one method and network different
 * computations (spec hash, experiment, the method's parameters, epochs, t_mix,
 * batch, lr, codes, train/test per class, forget classes): "key=value" items
 * separated by '\x1f'.  Rows whose settings differ are never averaged into one
 * cell: they are separate entries, named by the settings that differ. */
void rp_settings_of(row *r, char *out, size_t len);
/* 1 when an entry of ms[0..n) carries a settings label (the captions' note). */
int rp_several_settings(const mname *ms, int n);
extern const char *const k_set_note;
/* The captions' notes for entries ms[0..n): k_net_note when net, k_set_note when
 * entries are split by settings (a static buffer: use it before the next call). */
const char *rp_notes(const mname *ms, int n, int net);
int rp_methods_of(const sel *s, const char *kind, mname *out, int max);
/* Row r is of this kind, method and network. */
int rp_is_entry(row *r, const char *kind, const mname *m);
/* 1 when the entries hold more than one network: the tables then add a
 * "Network" column after their first (a single network keeps the paper layout). */
int rp_several_networks(const mname *ms, int n);
/* mb_rt_new with "Network" inserted after column 0 when net (ncols: without it). */
mb_rtable *rp_rt_new_net(const char *id, const char *title, int ncols, const char *const *head, int net);
/* The captions' sentence on the Network column (report_tables.c). */
extern const char *const k_net_note;
/* A figure's category for entry i of ms[0..n): the method, with its network in
 * parentheses when net (less the words all the networks share). */
void rp_entry_label(const mname *ms, int n, int i, int net, char *out, size_t len);

/* The backend of the paper tables: want, else the first of cuda, cpu,
 * vulkan, opencl, ref with main rows, else any. */
const char *rp_choose_backend(const sel *s, const char *want);
/* Place of a backend in tables: ref, cpu, opencl, vulkan, cuda, then the
 * others (larger ranks), in order of appearance. */
int rp_backend_rank(const char *backend);

/* The reason to show when an entry (method, network) has no ok row on a backend (NULL: any backend). */
const char *rp_why_missing(const sel *s, const char *kind, const mname *m, const char *backend);
void rp_short_device(const char *d, char *out, size_t len);

void rp_add_table(mb_report *r, mb_rtable *t);
void rp_add_fig(mb_report *r, mb_rfigure *g);

/* Tables (report_tables.c, report_scale.c). */
void rp_table1(mb_report *rep, const sel *s, const char *be);
void rp_table_metric(mb_report *rep, const sel *s, const char *be, const char *id, const char *title,
                     const char *key, const char *key_before);
/* The quality table (report_quality.c): only when main rows carry the metrics. */
void rp_quality_table(mb_report *rep, const sel *s, const char *be);
/* The cross-vendor section and the merge table (report_xvendor.c). */
void rp_crossvendor(mb_report *rep, const sel *s, int nfiles, const char *const *names);
void rp_merge_table(mb_report *rep, const mb_rowset *rs, int nfiles, const char *const *names);
void rp_figure3(mb_report *rep, const sel *s, const char *be);
void rp_backend_table(mb_report *rep, const sel *s);
void rp_table4(mb_report *rep, const sel *s);
void rp_throughput_table(mb_report *rep, const sel *s);
void rp_table5(mb_report *rep, const sel *s);
void rp_lambda_sweep(mb_report *rep, const sel *s, const char *be);
void rp_fim_table(mb_report *rep, const sel *s);

#endif
