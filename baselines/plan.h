/* A sample plan on the device: for n rows, which training sample (or -1),
 * which extra input row (or -1: e.g. UNSIR's noise) and which label, uploaded
 * once; a batch is then a gather from an offset into it (no host work per step). */
#ifndef BL_PLAN_H
#define BL_PLAN_H

#include "core/devdata.h"
#include "core/mlp.h"
#include "core/model.h"

typedef struct {
  int n;
  mb_view d;   /* i32: data index [n] | extra index [n] | label [n] */
} bl_plan;

/* extra_idx may be NULL (no extra rows); labels may be NULL (the samples' own
 * labels; every row must then be a data row).  0, or -1 with a sticky error. */
int bl_plan_upload(mb_backend *be, const mb_devdata *dd, const int32_t *data_idx,
                   const int32_t *extra_idx, const int32_t *labels, int n, bl_plan *p);
void bl_plan_free(mb_backend *be, bl_plan *p);

/* Rows [r0, r0+rows) of the plan into m->act[0] (pixels / 255, or the extra
 * row); extra is none when the plan has no extra rows.  Uses m->sq_a as scratch. */
void bl_plan_gather(mb_mlp *m, const mb_devdata *dd, const bl_plan *p, mb_view extra,
                    int n_extra, int r0, int rows);

/* The i32 labels of rows [r0, ...) (a view into the plan). */
static inline mb_view bl_plan_labels(const bl_plan *p, int r0)
{
  return mb_at(p->d, 2 * (size_t)p->n + (size_t)r0);
}

/* Fails with MB_BAD_ARG (naming the method) when the model's batch workspace
 * holds fewer than `rows` rows; returns 0 when it fits. */
int bl_need_rows(mb_mlp *m, int rows, const char *method);

/* The same two for any model (data rows only, into md->in). */
void bl_plan_gather_md(mb_model *md, const mb_devdata *dd, const bl_plan *p, int r0, int rows);
int bl_need_rows_md(mb_model *md, int rows, const char *method);
/* bl_plan_gather for any model: data rows and extra rows (extra none: data rows
 * only) into md->in; tmp [rows × in_dim] is scratch when extra is given. */
void bl_plan_gather_extra_md(mb_model *md, const mb_devdata *dd, const bl_plan *p, mb_view extra,
                             int n_extra, mb_view tmp, int r0, int rows);

#endif
