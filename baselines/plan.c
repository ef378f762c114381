/* Sample plans resident on the device. */
#include "baselines/plan.h"

#include <stdlib.h>
#include <string.h>

int bl_plan_upload(mb_backend *be, const mb_devdata *dd, const int32_t *data_idx,
                   const int32_t *extra_idx, const int32_t *labels, int n, bl_plan *p)
{
  memset(p, 0, sizeof *p);
  p->n = n;
  int32_t *host = malloc(sizeof(int32_t) * 3 * (size_t)(n ? n : 1));
  if (!host) { mb_fail(be, MB_OOM, "out of memory for a plan of %d samples", n); return -1; }
  for (int i = 0; i < n; i++) {
    if (!labels && (data_idx[i] < 0 || data_idx[i] >= dd->n)) {
      mb_fail(be, MB_BAD_ARG, "plan: row %d has no training sample and no label", i);
      free(host);
      return -1;
    }
    host[i] = data_idx[i];
    host[n + i] = extra_idx ? extra_idx[i] : -1;
    host[2 * n + i] = labels ? labels[i] : dd->host->y[data_idx[i]];
  }
  p->d = mb_new(be, 3 * (size_t)(n ? n : 1));
  mb_upload(be, p->d, host, 3 * (size_t)n);
  free(host);
  return mb_ok(be) ? 0 : -1;
}

void bl_plan_free(mb_backend *be, bl_plan *p)
{
  mb_release(be, p->d);
  memset(p, 0, sizeof *p);
}

void bl_plan_gather(mb_mlp *m, const mb_devdata *dd, const bl_plan *p, mb_view extra,
                    int n_extra, int r0, int rows)
{
  mb_devdata_gather(m->be, dd, extra, n_extra, mb_at(p->d, (size_t)r0),
                    mb_at(p->d, (size_t)p->n + (size_t)r0), mb_none(), rows, m->act[0], mb_none(),
                    mb_is_none(extra) ? mb_none() : m->sq_a);
}

int bl_need_rows(mb_mlp *m, int rows, const char *method)
{
  if (rows <= m->max_batch) return 0;
  mb_fail(m->be, MB_BAD_ARG, "%s: needs batches of %d rows, the model workspace holds %d", method,
          rows, m->max_batch);
  return -1;
}

void bl_plan_gather_md(mb_model *md, const mb_devdata *dd, const bl_plan *p, int r0, int rows)
{
  mb_devdata_gather(md->be, dd, mb_none(), 0, mb_at(p->d, (size_t)r0),
                    mb_at(p->d, (size_t)p->n + (size_t)r0), mb_none(), rows, md->in, mb_none(),
                    mb_none());
}

int bl_need_rows_md(mb_model *md, int rows, const char *method)
{
  if (rows <= md->max_batch) return 0;
  mb_fail(md->be, MB_BAD_ARG, "%s: needs batches of %d rows, the model workspace holds %d", method,
          rows, md->max_batch);
  return -1;
}

void bl_plan_gather_extra_md(mb_model *md, const mb_devdata *dd, const bl_plan *p, mb_view extra,
                             int n_extra, mb_view tmp, int r0, int rows)
{
  mb_devdata_gather(md->be, dd, extra, n_extra, mb_at(p->d, (size_t)r0),
                    mb_at(p->d, (size_t)p->n + (size_t)r0), mb_none(), rows, md->in, mb_none(),
                    mb_is_none(extra) ? mb_none() : tmp);
}
