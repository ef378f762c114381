/* What the report tests share besides slurp.h: a scratch folder, writing a file,
 * and this folder (MB_REPORT_DIR) for fixtures and golden files. */
#ifndef MB_TEST_SCRATCH_H
#define MB_TEST_SCRATCH_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "wb");
  cr_assert(f, "cannot write %s", path);
  fputs(text, f);
  fclose(f);
}

/* A new folder /tmp/PREFIX-XXXXXX (malloc'd name). */
static inline char *scratch_dir(const char *prefix)
{
  char *d = malloc(strlen(prefix) + 16);
  cr_assert(d);
  sprintf(d, "/tmp/%s-XXXXXX", prefix);
  cr_assert(mkdtemp(d), "mkdtemp: %s", strerror(errno));
  return d;
}

static inline const char *src_dir(void)
{
  const char *d = getenv("MB_REPORT_DIR");
  return d ? d : "tests/report";
}

#endif
