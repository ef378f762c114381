/* The results file: JSON rows, one per line, appended and made durable one
 * row at a time (one write(2) per row, then fsync), so a run killed at any
 * point leaves every finished row intact and at most one torn last line, which
 * readers report and skip.  Readers never stop at a corrupt line. */
#ifndef MB_RESULTS_H
#define MB_RESULTS_H

#include "harness/json_read.h"

#include <stdio.h>

typedef struct {
  mb_jv v;          /* the row (an object) */
  int line;         /* 1-based line in its file */
  int file;         /* index of its file in the read order */
} mb_row;

typedef struct {
  mb_row *rows;
  int n, cap;
  int n_corrupt;    /* lines that were not a JSON object */
} mb_rowset;

/* Appends the rows of `path` to rs.  A line that is not a JSON object is
 * reported on `warn` (if not NULL) as "PATH:LINE: ..." and skipped; blank
 * lines are ignored.  Returns -1 (message on warn) only if the file cannot be
 * read. */
int mb_rows_read(const char *path, int file_index, mb_rowset *rs, FILE *warn);
void mb_rows_free(mb_rowset *rs);

typedef struct {
  int fd;
  long long rows_written;
} mb_results;

/* Opens (creating) path for appending and takes an exclusive lock on it (a
 * second bench on the same file fails at once).  A torn last line from an
 * interrupted run is closed with a newline so the next row starts cleanly. */
int mb_results_open(mb_results *r, const char *path, char *err, size_t len);
/* Appends one row (a JSON object text without newline): write + fsync. */
int mb_results_append(mb_results *r, const char *json, char *err, size_t len);
void mb_results_close(mb_results *r);

#endif
