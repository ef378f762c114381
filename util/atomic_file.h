/* Output files that appear whole or not at all: written to PATH.tmp.PID,
 * flushed and fsync()ed, then renamed over PATH.  A failure leaves PATH as it
 * was and removes the temporary file; a kill leaves it behind, under a name no
 * reader opens, and the next writer of PATH removes it once its process is
 * gone.  Writes and fsyncs go through the fault injector (util/fault.h). */
#ifndef MB_ATOMIC_FILE_H
#define MB_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
  FILE *f;
  int bad;              /* a write failed: errno of the first failure in err_no */
  int err_no;
  char path[2048];
  char tmp[2100];
} mb_afile;

/* Whether path can be written (before long work that ends in writing it): not a folder,
 * in a folder that exists and may be written; -1 with a one-line reason. */
int mb_afile_check(const char *path, char *err, size_t len);
/* Creates the temporary file (after mb_afile_check); -1 with a one-line reason. */
int mb_afile_open(mb_afile *a, const char *path, char *err, size_t len);
/* Appends n bytes (failures are remembered and reported by finish). */
void mb_afile_write(mb_afile *a, const void *p, size_t n);
/* Flushes, fsyncs and closes the temporary file; -1 with a reason (the
 * temporary file is then removed). */
int mb_afile_finish(mb_afile *a, char *err, size_t len);
/* Renames the finished temporary file over the path; -1 with a reason. */
int mb_afile_publish(mb_afile *a, char *err, size_t len);
/* finish + publish. */
int mb_afile_commit(mb_afile *a, char *err, size_t len);
/* Closes and removes the temporary file (after a failure elsewhere). */
void mb_afile_discard(mb_afile *a);

#endif
