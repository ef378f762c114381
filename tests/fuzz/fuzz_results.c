/* Results reader (harness/results.c, harness/json_read.c) through
 * mb_rows_read, as `report` and a resumed `bench` read a results file, then
 * the accessors the report uses on every row.  Input: the JSONL file. */
#include "fuzz_common.h"
#include "harness/results.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char path[600];
  if (!path[0]) fz_path(path, sizeof path, "results.jsonl");
  fz_write(path, data, size);
  mb_rowset rs;
  memset(&rs, 0, sizeof rs);
  if (mb_rows_read(path, 3, &rs, fz_null()) != 0) fz_fail("a written file could not be read");
  int last = 0;
  size_t lines = 1;
  for (size_t i = 0; i < size; i++) lines += data[i] == '\n';
  if ((size_t)rs.n + (size_t)rs.n_corrupt > lines) fz_fail("%d rows + %d corrupt > %zu lines", rs.n, rs.n_corrupt, lines);
  for (int i = 0; i < rs.n; i++) {
    const mb_row *r = &rs.rows[i];
    if (r->v.t != MB_JV_OBJ || r->file != 3 || r->line <= last) fz_fail("row %d: bad type, file or line", i);
    last = r->line;
    for (int k = 0; k < r->v.n; k++) {
      if (!r->v.keys[k]) fz_fail("row %d: NULL key", i);
      /* what the report does with each member */
      (void)mb_jv_num(&r->v, r->v.keys[k]);
      (void)mb_jv_str(&r->v, r->v.keys[k], "");
      const mb_jv *m = mb_jv_get(&r->v, r->v.keys[k]);
      if (!m) fz_fail("row %d: member '%s' not found", i, r->v.keys[k]);
      if (m->t == MB_JV_STR && !m->str) fz_fail("row %d: string without text", i);
    }
  }
  mb_rows_free(&rs);
  return 0;
}
