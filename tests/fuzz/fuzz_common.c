/* Scratch files and checks shared by the fuzz targets (fuzz_common.h). */
#include "fuzz_common.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[512];

static void cleanup(void)
{
  DIR *d = opendir(g_dir);
  if (!d) return;
  struct dirent *e;
  char p[1024];
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
    if (remove(p) != 0) {   /* a folder the cifar target left: one level deep at most */
      DIR *s = opendir(p);
      struct dirent *f;
      char q[1536];
      while (s && (f = readdir(s)) != NULL)
        if (strcmp(f->d_name, ".") && strcmp(f->d_name, "..")) {
          snprintf(q, sizeof q, "%s/%s", p, f->d_name);
          remove(q);
        }
      if (s) closedir(s);
      remove(p);
    }
  }
  closedir(d);
  rmdir(g_dir);
}

const char *fz_dir(void)
{
  if (!g_dir[0]) {
    const char *t = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/mb-fuzz-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(g_dir)) fz_fail("cannot make a scratch folder %s: %s", g_dir, strerror(errno));
    atexit(cleanup);
  }
  return g_dir;
}

void fz_path(char *out, size_t len, const char *name)
{
  int w = snprintf(out, len, "%s/%s", fz_dir(), name);
  if (w < 0 || (size_t)w >= len) fz_fail("path too long: %s/%s", fz_dir(), name);
}

void fz_write(const char *path, const void *data, size_t n)
{
  FILE *f = fopen(path, "wb");
  if (!f) fz_fail("cannot create %s: %s", path, strerror(errno));
  int bad = n && fwrite(data, 1, n, f) != n;
  if (fclose(f) != 0 || bad) fz_fail("cannot write %s", path);
}

void fz_remove(const char *path)
{
  if (remove(path) != 0 && errno != ENOENT) fz_fail("cannot remove %s: %s", path, strerror(errno));
}

FILE *fz_null(void)
{
  static FILE *f;
  if (!f && !(f = fopen("/dev/null", "w"))) fz_fail("cannot open /dev/null");
  return f;
}

uint32_t fz_le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void fz_fail(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fputs("fuzz: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

void fz_check_error(const char *err, const char *names)
{
  const char *v = getenv("MB_FUZZ_VERBOSE");   /* a flag: unset, "" and "0" are off */
  if (v && v[0] && strcmp(v, "0") != 0) fprintf(stderr, "fuzz: refused: %s\n", err);
  if (!err[0]) fz_fail("the reader failed without an error message");
  if (strchr(err, '\n') || strchr(err, '\r')) fz_fail("error message of more than one line: \"%s\"", err);
  if (names && !strstr(err, names)) fz_fail("error message does not name %s: \"%s\"", names, err);
}
