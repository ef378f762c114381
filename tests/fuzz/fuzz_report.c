/* The `report` input path (harness/report*.c): result rows as `mnemobench
 * report A B --out DIR` reads them, every table and figure built and written
 * (Markdown, LaTeX, CSV, SVG, HTML), the Markdown as without --out, and
 * `report --compare A B`.  Input: results file A, then (after the first NUL
 * byte, which no JSON line holds) file B; without a NUL, B is A. */
#include "fuzz_common.h"
#include "harness/report.h"

#include <string.h>

static void read_rows(const char *path, int index, mb_rowset *rs)
{
  if (mb_rows_read(path, index, rs, fz_null()) != 0) fz_fail("a written file could not be read");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char a[600], b[600], out[600];
  if (!a[0]) {
    fz_path(a, sizeof a, "old.jsonl");
    fz_path(b, sizeof b, "new.jsonl");
    fz_path(out, sizeof out, "report");
  }
  const uint8_t *nul = memchr(data, 0, size);
  size_t na = nul ? (size_t)(nul - data) : size;
  fz_write(a, data, na);
  if (nul) fz_write(b, nul + 1, size - na - 1);
  else fz_write(b, data, size);

  mb_rowset all, ra, rb;
  memset(&all, 0, sizeof all);
  memset(&ra, 0, sizeof ra);
  memset(&rb, 0, sizeof rb);
  read_rows(a, 0, &all);
  read_rows(b, 1, &all);
  mb_report r;
  if (mb_report_build(&all, NULL, &r) != 0) fz_fail("report: out of memory");
  if (mb_report_write(&r, out) != 0) fz_fail("report: cannot write %s", out);
  mb_report_markdown(&r, fz_null());
  mb_report_free(&r);
  mb_rows_free(&all);

  read_rows(a, 0, &ra);
  read_rows(b, 1, &rb);
  mb_compare_opts co = {0.10, 1.0, 1.0};
  mb_report_compare(&ra, &rb, &co, fz_null());
  mb_rows_free(&ra);
  mb_rows_free(&rb);
  return 0;
}
