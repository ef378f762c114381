/* Whole-or-nothing output files (see atomic_file.h). */
#include "util/atomic_file.h"
#include "util/fault.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Removes PATH.tmp.PID files left by killed writers (their process is gone). */
static void remove_stale(const char *path)
{
  char dir[2048];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  const char *base = slash ? slash + 1 : path;
  if (slash) *slash = 0; else snprintf(dir, sizeof dir, ".");
  if (slash == dir) snprintf(dir, sizeof dir, "/");
  size_t bl = strlen(base);
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    const char *n = e->d_name;
    if (strncmp(n, base, bl) != 0 || strncmp(n + bl, ".tmp.", 5) != 0) continue;
    char *end;
    long pid = strtol(n + bl + 5, &end, 10);
    if (*end || pid <= 0 || pid == (long)getpid()) continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;   /* alive, or not ours to judge */
    char full[4200];
    snprintf(full, sizeof full, "%s/%s", dir, n);
    remove(full);
  }
  closedir(d);
}

int mb_afile_check(const char *path, char *err, size_t len)
{
  struct stat st;
  size_t n = strlen(path);
  if (n == 0) { snprintf(err, len, "empty output path"); return -1; }
  if (path[n - 1] == '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
    snprintf(err, len, "%s: is a folder, not a file name", path);
    return -1;
  }
  char dir[2048];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash) snprintf(dir, sizeof dir, ".");
  else if (slash == dir) dir[1] = 0;
  else *slash = 0;
  if (stat(dir, &st) != 0) {
    snprintf(err, len, "%s: folder %s: %s", path, dir, strerror(errno));
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(err, len, "%s: %s is not a folder", path, dir);
    return -1;
  }
  if (access(dir, W_OK | X_OK) != 0) {
    snprintf(err, len, "%s: cannot write in folder %s: %s", path, dir, strerror(errno));
    return -1;
  }
  return 0;
}

int mb_afile_open(mb_afile *a, const char *path, char *err, size_t len)
{
  memset(a, 0, sizeof *a);
  if (mb_afile_check(path, err, len) != 0) return -1;
  remove_stale(path);
  snprintf(a->path, sizeof a->path, "%s", path);
  snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", path, (long)getpid());
  a->f = fopen(a->tmp, "wb");
  if (!a->f) {
    snprintf(err, len, "%s: cannot create: %s", a->tmp, strerror(errno));
    return -1;
  }
  return 0;
}

static void failed(mb_afile *a, int e)
{
  if (!a->bad) { a->bad = 1; a->err_no = e ? e : EIO; }
}

void mb_afile_write(mb_afile *a, const void *p, size_t n)
{
  if (a->bad || !a->f || n == 0) return;
  if (mb_fault_hit(MB_FAULT_WRITE)) {      /* as a full disk: part of it, then EIO */
    fwrite(p, 1, n / 2, a->f);
    fflush(a->f);
    mb_fault_torn();
    failed(a, EIO);
    return;
  }
  if (fwrite(p, 1, n, a->f) != n) failed(a, errno);
}

void mb_afile_discard(mb_afile *a)
{
  if (a->f) fclose(a->f);
  a->f = NULL;
  if (a->tmp[0]) remove(a->tmp);
  a->tmp[0] = 0;
}

int mb_afile_finish(mb_afile *a, char *err, size_t len)
{
  if (!a->f) { snprintf(err, len, "%s: not open", a->path); return -1; }
  if (!a->bad && fflush(a->f) != 0) failed(a, errno);
  if (!a->bad) {
    /* the data is on disk before the name points at it: a crash never leaves a
     * renamed but empty or torn file */
    if (mb_fault_hit(MB_FAULT_FSYNC)) failed(a, EIO);
    else if (fsync(fileno(a->f)) != 0) failed(a, errno);
  }
  if (fclose(a->f) != 0) failed(a, errno);
  a->f = NULL;
  if (a->bad) {
    snprintf(err, len, "%s: write failed: %s", a->path, strerror(a->err_no));
    mb_afile_discard(a);
    return -1;
  }
  return 0;
}

int mb_afile_publish(mb_afile *a, char *err, size_t len)
{
  if (rename(a->tmp, a->path) != 0) {
    snprintf(err, len, "%s: cannot replace it: %s", a->path, strerror(errno));
    mb_afile_discard(a);
    return -1;
  }
  a->tmp[0] = 0;
  return 0;
}

int mb_afile_commit(mb_afile *a, char *err, size_t len)
{
  if (mb_afile_finish(a, err, len) != 0) return -1;
  return mb_afile_publish(a, err, len);
}
