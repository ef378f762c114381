/* The report tests' common tail: write a built report into dir, free it and its
 * rows, and return one of its files as text (asserted to exist; caller frees). */
#ifndef MB_TEST_REPORT_FILE_H
#define MB_TEST_REPORT_FILE_H

#include "harness/report.h"
#include "harness/results.h"
#include "slurp.h"

#include <criterion/criterion.h>
#include <stdio.h>

static inline char *report_file(mb_report *r, mb_rowset *rs, const char *dir, const char *file)
{
  cr_assert_eq(mb_report_write(r, dir), 0);
  mb_report_free(r);
  mb_rows_free(rs);
  char p[256];
  snprintf(p, sizeof p, "%s/%s", dir, file);
  char *t = slurp(p);
  cr_assert(t, "no %s", p);
  return t;
}

#endif
