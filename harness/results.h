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

/* Writers cooperate: several bench processes (or N shards on a shared file
 * system) may append to one results file at once.  They coordinate through
 * POSIX record locks (fcntl, which NFS supports through its lock manager, and
 * which the kernel drops when a process dies) on PATH.lock next to the file:
 * byte 0 is the file's mutex (held while a row is appended or the done cells
 * are re-read), and each cell being run holds one byte at an offset hashed
 * from its id (its claim).  So a cell is taken only under the mutex, after the
 * rows appended so far are read, and only if no live process holds its claim;
 * a killed writer's claims are free at once.  Never open PATH.lock elsewhere:
 * closing any descriptor of it would drop this process's locks. */
typedef struct {
  int fd;           /* the results file, O_APPEND */
  int lock_fd;      /* PATH.lock */
  int locked;       /* this process holds the mutex */
  long long rows_written;
} mb_results;

/* Opens (creating) path for appending, and its lock file.  A torn last line
 * from an interrupted run is closed with a newline (under the mutex) so the
 * next row starts cleanly. */
int mb_results_open(mb_results *r, const char *path, char *err, size_t len);
/* The mutex: blocks until this process holds it.  0, or -1 (err set). */
int mb_results_lock(mb_results *r, char *err, size_t len);
void mb_results_unlock(mb_results *r);
/* Claims the cell `id` (call under the mutex, after re-reading the rows):
 * 1 claimed, 0 another live process holds it, -1 error (err set).  With wait,
 * blocks until the holder lets go (call it without the mutex, then take the
 * mutex and re-read the rows before running the cell). */
int mb_results_claim(mb_results *r, const char *id, int wait, char *err, size_t len);
void mb_results_release(mb_results *r, const char *id);
/* Appends one row (a JSON object text without newline) under the mutex:
 * one write of the whole line, then fsync. */
int mb_results_append(mb_results *r, const char *json, char *err, size_t len);
void mb_results_close(mb_results *r);

/* An exclusive fcntl lock on a whole file (created if missing), e.g. a cache
 * entry's PATH.lock while it is trained.  Returns the descriptor (close it to
 * let go), -2 if busy and !wait, -1 on error (err set). */
int mb_file_lock(const char *path, int wait, char *err, size_t len);

#endif
