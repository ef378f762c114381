/* Results file: append-only JSON rows (see results.h). */
#define _GNU_SOURCE
#include "harness/results.h"
#include "util/fault.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mb_rows_read(const char *path, int file_index, mb_rowset *rs, FILE *warn)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (warn) fprintf(warn, "mnemobench: cannot read %s: %s\n", path, strerror(errno));
    return -1;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t got;
  int ln = 0;
  while ((got = getline(&line, &cap, f)) >= 0) {
    ln++;
    int torn = got > 0 && line[got - 1] != '\n';
    while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = 0;
    const char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) continue;
    if ((size_t)got != strlen(line)) {
      if (warn) fprintf(warn, "%s:%d: corrupt row (NUL byte in the line), skipped\n", path, ln);
      rs->n_corrupt++;
      continue;
    }
    mb_jv v;
    char err[160] = "";
    if (mb_jv_parse(line, &v, err, sizeof err) != 0 || v.t != MB_JV_OBJ) {
      if (v.t != MB_JV_OBJ && err[0] == 0) snprintf(err, sizeof err, "not a JSON object");
      if (warn)
        fprintf(warn, "%s:%d: corrupt row (%s%s), skipped\n", path, ln, err,
                torn ? "; the line is unterminated: an interrupted run?" : "");
      mb_jv_free(&v);
      rs->n_corrupt++;
      continue;
    }
    if (rs->n == rs->cap) {
      int nc = rs->cap ? rs->cap * 2 : 64;
      mb_row *nr = realloc(rs->rows, sizeof *nr * (size_t)nc);
      if (!nr) { mb_jv_free(&v); break; }
      rs->rows = nr;
      rs->cap = nc;
    }
    rs->rows[rs->n].v = v;
    rs->rows[rs->n].line = ln;
    rs->rows[rs->n].file = file_index;
    rs->n++;
  }
  free(line);
  fclose(f);
  return 0;
}

void mb_rows_free(mb_rowset *rs)
{
  for (int i = 0; i < rs->n; i++) mb_jv_free(&rs->rows[i].v);
  free(rs->rows);
  memset(rs, 0, sizeof *rs);
}

static int sync_fd(int fd);

static int write_all(int fd, const char *p, size_t n)
{
  if (mb_fault_hit(MB_FAULT_WRITE)) {   /* as a full disk: a torn row, then the error */
    if (n / 2 && write(fd, p, n / 2) < 0) return -1;
    mb_fault_torn();
    errno = EIO;
    return -1;
  }
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* ------------------------------------------------------------ the locks */

static int setlk(int fd, short type, off_t start, off_t len, int wait)
{
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = len;
  for (;;) {
    if (fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl) == 0) return 0;
    if (errno == EINTR) continue;
    return errno == EACCES || errno == EAGAIN ? 1 : -1;
  }
}

/* A cell's claim byte: 1 + 40 bits of the id's FNV-1a hash (byte 0 is the mutex). */
static off_t claim_offset(const char *id)
{
  uint64_t h = 1469598103934665603ull;
  for (const unsigned char *p = (const unsigned char *)id; *p; p++) h = (h ^ *p) * 1099511628211ull;
  return (off_t)(1 + (h & ((1ull << 40) - 1)));
}

int mb_results_lock(mb_results *r, char *err, size_t len)
{
  if (r->locked) return 0;
  if (setlk(r->lock_fd, F_WRLCK, 0, 1, 1) != 0) {
    snprintf(err, len, "cannot lock the results file: %s", strerror(errno));
    return -1;
  }
  r->locked = 1;
  return 0;
}

void mb_results_unlock(mb_results *r)
{
  if (!r->locked) return;
  setlk(r->lock_fd, F_UNLCK, 0, 1, 0);
  r->locked = 0;
}

int mb_results_claim(mb_results *r, const char *id, int wait, char *err, size_t len)
{
  int rc = setlk(r->lock_fd, F_WRLCK, claim_offset(id), 1, wait);
  if (rc < 0) {
    snprintf(err, len, "cannot lock cell %s in the results file's lock file: %s", id, strerror(errno));
    return -1;
  }
  return rc == 0;
}

void mb_results_release(mb_results *r, const char *id) { setlk(r->lock_fd, F_UNLCK, claim_offset(id), 1, 0); }

int mb_file_lock(const char *path, int wait, char *err, size_t len)
{
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    snprintf(err, len, "cannot open the lock file %s: %s", path, strerror(errno));
    return -1;
  }
  int rc = setlk(fd, F_WRLCK, 0, 0, wait);
  if (rc != 0) {
    if (rc < 0) snprintf(err, len, "cannot lock %s: %s", path, strerror(errno));
    close(fd);
    return rc < 0 ? -1 : -2;
  }
  return fd;
}

/* ------------------------------------------------------- the results file */

int mb_results_open(mb_results *r, const char *path, char *err, size_t len)
{
  memset(r, 0, sizeof *r);
  r->lock_fd = -1;
  r->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (r->fd < 0) {
    snprintf(err, len, "cannot open the results file %s: %s", path, strerror(errno));
    return -1;
  }
  char lp[4200];
  snprintf(lp, sizeof lp, "%s.lock", path);
  r->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (r->lock_fd < 0) {
    snprintf(err, len, "cannot open the lock file %s: %s", lp, strerror(errno));
    mb_results_close(r);
    return -1;
  }
  if (mb_results_lock(r, err, len) != 0) {
    mb_results_close(r);
    return -1;
  }
  struct stat st;
  if (fstat(r->fd, &st) == 0 && st.st_size > 0) {
    char last = '\n';
    if (pread(r->fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
      /* an interrupted write (writers append whole lines under the mutex):
       * end the torn line so it stays one (skipped) line */
      if (write_all(r->fd, "\n", 1) != 0 || sync_fd(r->fd) != 0) {
        snprintf(err, len, "cannot write to %s: %s", path, strerror(errno));
        mb_results_close(r);
        return -1;
      }
      fprintf(stderr, "mnemobench: %s ended in a torn row (interrupted run); it is kept as a "
              "corrupt line and its cell runs again\n", path);
    }
  }
  mb_results_unlock(r);
  return 0;
}

int mb_results_append(mb_results *r, const char *json, char *err, size_t len)
{
  size_t n = strlen(json);
  char *buf = malloc(n + 2);
  if (!buf) { snprintf(err, len, "out of memory"); return -1; }
  memcpy(buf, json, n);
  buf[n] = '\n';
  int held = r->locked;
  if (!held && mb_results_lock(r, err, len) != 0) { free(buf); return -1; }
  struct stat st;
  off_t before = fstat(r->fd, &st) == 0 ? st.st_size : -1;
  int rc = write_all(r->fd, buf, n + 1);   /* one write of the whole line, under the mutex */
  int saved = errno;
  if (rc == 0 && sync_fd(r->fd) != 0) { rc = -1; saved = errno; }
  /* a failed write (a full disk) may have left part of the row: cut it off, so the
   * file holds whole rows only (under the mutex nobody else appends) */
  if (rc != 0 && before >= 0 && ftruncate(r->fd, before) == 0) fsync(r->fd);
  if (!held) mb_results_unlock(r);
  free(buf);
  if (rc != 0) {
    snprintf(err, len, "cannot write a row to the results file: %s", strerror(saved));
    return -1;
  }
  r->rows_written++;
  return 0;
}

static int sync_fd(int fd)
{
  if (mb_fault_hit(MB_FAULT_FSYNC)) { errno = EIO; return -1; }
  return fsync(fd);
}

void mb_results_close(mb_results *r)
{
  if (r->fd >= 0) close(r->fd);
  if (r->lock_fd >= 0) close(r->lock_fd);   /* drops every lock of this process on it */
  r->fd = r->lock_fd = -1;
  r->locked = 0;
}
