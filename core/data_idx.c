/* IDX reader (MNIST layout): big-endian header, u8 payload, raw or gzip.
 * Every size is validated against the limits in dataset.h before anything is
 * allocated, and buffers only grow as bytes actually arrive, so no input can
 * make the reader allocate more than the file really holds. */
#include "core/dataset.h"
#include "mb_config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if MB_HAVE_ZLIB
#include <zlib.h>
#endif

#define IDX_TYPE_U8 0x08
#define FIRST_CHUNK ((size_t)1 << 20)
#define TRAILING_SCAN ((size_t)1 << 20)   /* trailing bytes counted before giving up */

typedef struct {
  const char *path;
  FILE *f;
#if MB_HAVE_ZLIB
  gzFile gz;
#endif
  char *err;
  size_t errlen;
} idx_src;

typedef struct {
  unsigned char head[16];
  size_t head_len;
  uint32_t dims[3];
  int ndims;
  unsigned char *data;
  size_t data_len;
} idx_part;

/* Formats "msg" into err as one line (a path with a newline must not split it). */
static int verr(char *err, size_t errlen, const char *fmt, va_list ap)
{
  if (!err || errlen == 0) return -1;
  vsnprintf(err, errlen, fmt, ap);
  for (char *p = err; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  return -1;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  verr(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

/* "path: msg" for an error in one file. */
static int src_fail(idx_src *s, const char *fmt, ...)
{
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return fail(s->err, s->errlen, "%s: %s", s->path, msg);
}

static int src_open(idx_src *s, const char *path, char *err, size_t errlen)
{
  memset(s, 0, sizeof *s);
  s->path = path;
  s->err = err;
  s->errlen = errlen;
  s->f = fopen(path, "rb");
  if (!s->f) return src_fail(s, "cannot open: %s", strerror(errno));
  unsigned char m[2] = {0, 0};
  size_t got = fread(m, 1, 2, s->f);
  if (got == 2 && m[0] == 0x1f && m[1] == 0x8b) {
#if MB_HAVE_ZLIB
    fclose(s->f);
    s->f = NULL;
    s->gz = gzopen(path, "rb");
    if (!s->gz) return src_fail(s, "cannot open as gzip: %s", errno ? strerror(errno) : "out of memory");
    gzbuffer(s->gz, 1u << 17);
    return 0;
#else
    return src_fail(s, "gzip file but built without zlib (decompress it first)");
#endif
  }
  rewind(s->f);
  return 0;
}

static void src_close(idx_src *s)
{
  if (s->f) fclose(s->f);
#if MB_HAVE_ZLIB
  if (s->gz) gzclose(s->gz);
  s->gz = NULL;
#endif
  s->f = NULL;
}

#if MB_HAVE_ZLIB
/* gzread takes an unsigned count; a short read is either the end of the
 * stream or an error that gzerror reports (a cut-off stream is Z_BUF_ERROR). */
static int gz_read(idx_src *s, unsigned char *buf, size_t n, size_t *got)
{
  *got = 0;
  while (*got < n) {
    size_t want = n - *got;
    unsigned step = want > (size_t)INT_MAX ? (unsigned)INT_MAX : (unsigned)want;
    int r = gzread(s->gz, buf + *got, step);
    if (r > 0) *got += (size_t)r;
    if (r < 0 || (unsigned)r < step) {
      int zerr = Z_OK;
      const char *msg = gzerror(s->gz, &zerr);
      if (zerr == Z_OK || zerr == Z_STREAM_END) return 0;
      if (zerr == Z_BUF_ERROR) return src_fail(s, "corrupt gzip: compressed stream ends early");
      if (zerr == Z_ERRNO) return src_fail(s, "read error: %s", strerror(errno));
      size_t plen = strlen(s->path);   /* gzerror prefixes the path; we add it ourselves */
      if (msg && strncmp(msg, s->path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0) msg += plen + 2;
      return src_fail(s, "corrupt gzip: %s", msg && *msg ? msg : "read error");
    }
  }
  return 0;
}
#endif

/* Reads up to n bytes; *got < n only at the end of the data. */
static int src_read(idx_src *s, unsigned char *buf, size_t n, size_t *got)
{
#if MB_HAVE_ZLIB
  if (s->gz) return gz_read(s, buf, n, got);
#endif
  *got = fread(buf, 1, n, s->f);
  if (*got < n && ferror(s->f)) return src_fail(s, "read error: %s", strerror(errno));
  return 0;
}

static int check_magic(idx_src *s, uint32_t magic, int ndims)
{
  uint32_t want = 0x800u | (uint32_t)ndims;
  if ((magic >> 16) != 0 || ((magic >> 8) & 0xff) < 0x08 || ((magic >> 8) & 0xff) > 0x0e)
    return src_fail(s, "not an IDX file: bad magic 0x%08x (expected 0x%08x)", magic, want);
  if (((magic >> 8) & 0xff) != IDX_TYPE_U8)
    return src_fail(s, "unsupported IDX data type 0x%02x in magic 0x%08x (only unsigned byte, 0x08)",
                    (magic >> 8) & 0xff, magic);
  if ((int)(magic & 0xff) != ndims)
    return src_fail(s, "wrong IDX rank: magic 0x%08x has %u dimensions, expected %d (magic 0x%08x)",
                    magic, magic & 0xff, ndims, want);
  return 0;
}

static uint32_t be32(const unsigned char *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int check_dims(idx_src *s, const idx_part *p)
{
  for (int i = 0; i < p->ndims; i++)
    if (p->dims[i] == 0) return src_fail(s, "dimension %d is 0", i);
  if (p->dims[0] > MB_IDX_MAX_COUNT)
    return src_fail(s, "sample count %u exceeds the limit of %d", p->dims[0], MB_IDX_MAX_COUNT);
  for (int i = 1; i < p->ndims; i++)
    if (p->dims[i] > MB_IDX_MAX_DIM)
      return src_fail(s, "image dimension %d is %u, above the limit of %d", i, p->dims[i], MB_IDX_MAX_DIM);
  return 0;
}

static int read_header(idx_src *s, int ndims, idx_part *p)
{
  memset(p, 0, sizeof *p);
  size_t want = 4 + 4 * (size_t)ndims, got = 0;
  if (src_read(s, p->head, 4, &got)) return -1;
  if (got < 4) return src_fail(s, "truncated header: expected %zu bytes, found %zu", want, got);
  if (check_magic(s, be32(p->head), ndims)) return -1;
  size_t more = 0;
  if (src_read(s, p->head + 4, want - 4, &more)) return -1;
  if (more < want - 4) return src_fail(s, "truncated header: expected %zu bytes, found %zu", want, 4 + more);
  p->head_len = want;
  p->ndims = ndims;
  for (int i = 0; i < ndims; i++) p->dims[i] = be32(p->head + 4 + 4 * i);
  return check_dims(s, p);
}

/* Product of the dimensions; the limits make overflow impossible on 64-bit
 * size_t, but the check keeps 32-bit hosts safe too. */
static int payload_bytes(idx_src *s, const idx_part *p, size_t *bytes)
{
  size_t n = 1;
  for (int i = 0; i < p->ndims; i++) {
    if (n > SIZE_MAX / sizeof(float) / p->dims[i]) return src_fail(s, "data size overflows memory");
    n *= p->dims[i];
  }
  *bytes = n;
  return 0;
}

/* Counts what follows the payload; any byte there is an error. */
static int check_trailing(idx_src *s, const idx_part *p)
{
  unsigned char buf[8192];
  size_t extra = 0, got = 0;
  do {
    if (src_read(s, buf, sizeof buf, &got)) return -1;
    extra += got;
  } while (got == sizeof buf && extra < TRAILING_SCAN);
  if (extra == 0) return 0;
  return src_fail(s, "trailing data: %s%zu extra bytes after the expected %zu (%zu header + %zu data)",
                  got == sizeof buf ? "at least " : "", extra, p->head_len + p->data_len,
                  p->head_len, p->data_len);
}

static int read_payload(idx_src *s, idx_part *p, const char *what)
{
  size_t expected = 0, got = 0;
  if (payload_bytes(s, p, &expected)) return -1;
  size_t cap = expected < FIRST_CHUNK ? expected : FIRST_CHUNK;
  p->data = malloc(cap);
  if (!p->data) return src_fail(s, "out of memory (%zu bytes)", cap);
  for (;;) {
    size_t n = 0;
    if (src_read(s, p->data + got, cap - got, &n)) return -1;
    got += n;
    if (got < cap || cap == expected) break;
    size_t grow = cap > expected / 2 ? expected : 2 * cap;
    unsigned char *bigger = realloc(p->data, grow);
    if (!bigger) return src_fail(s, "out of memory (%zu bytes)", grow);
    p->data = bigger;
    cap = grow;
  }
  p->data_len = got;
  if (got < expected)
    return src_fail(s, "truncated: expected %zu bytes of %s data, found %zu", expected, what, got);
  return check_trailing(s, p);
}

/* n_classes = max label + 1, bounded by the caller's limit. */
static int check_labels(idx_src *s, const idx_part *p, int max_classes, int *n_classes)
{
  int top = 0;
  for (size_t i = 0; i < p->data_len; i++) {
    if (p->data[i] >= max_classes)
      return src_fail(s, "label %d at index %zu is out of range (limit %d classes)", p->data[i], i,
                      max_classes);
    if (p->data[i] > top) top = p->data[i];
  }
  *n_classes = top + 1;
  return 0;
}

static const char *base_name(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static int build(const idx_part *pi, const idx_part *pl, int n_classes, const char *images,
                 mb_dataset *out, char *err, size_t errlen)
{
  size_t n = pi->dims[0], total = pi->data_len;
  out->x = malloc(total * sizeof *out->x);
  out->y = malloc(n * sizeof *out->y);
  if (!out->x || !out->y)
    return fail(err, errlen, "%s: out of memory (%zu bytes for the data set)", images,
                total * sizeof *out->x + n * sizeof *out->y);
  /* pixel/255 as torchvision's ToTensor computes it. */
  for (size_t i = 0; i < total; i++) out->x[i] = (float)pi->data[i] / 255.0f;
  for (size_t i = 0; i < n; i++) out->y[i] = pl->data[i];
  out->n = (int)n;
  out->c = 1;
  out->h = (int)pi->dims[1];
  out->w = (int)pi->dims[2];
  out->n_classes = n_classes;
  snprintf(out->name, sizeof out->name, "%s", base_name(images));
  snprintf(out->source, sizeof out->source, "%s", images);
  uint64_t h = mb_fnv1a64(MB_FNV1A64_INIT, pi->head, pi->head_len);
  h = mb_fnv1a64(h, pi->data, pi->data_len);
  h = mb_fnv1a64(h, pl->head, pl->head_len);
  out->checksum = mb_fnv1a64(h, pl->data, pl->data_len);
  return 0;
}

/* Headers of both files first, so a mismatch costs no payload read. */
static int load_parts(idx_src *si, idx_src *sl, idx_part *pi, idx_part *pl, int max_classes,
                      int *n_classes, char *err, size_t errlen)
{
  if (read_header(si, 3, pi) || read_header(sl, 1, pl)) return -1;
  if (pi->dims[0] != pl->dims[0])
    return fail(err, errlen, "count mismatch: %s has %u images but %s has %u labels", si->path,
                pi->dims[0], sl->path, pl->dims[0]);
  if (read_payload(si, pi, "pixel") || read_payload(sl, pl, "label")) return -1;
  return check_labels(sl, pl, max_classes, n_classes);
}

int mb_idx_load_limit(const char *images, const char *labels, int max_classes, mb_dataset *out,
                      char *err, size_t errlen)
{
  memset(out, 0, sizeof *out);
  if (err && errlen) err[0] = '\0';
  if (!images || !labels) return fail(err, errlen, "idx: no file name given");
  if (max_classes < 1 || max_classes > MB_IDX_MAX_CLASSES)
    return fail(err, errlen, "idx: class limit %d outside 1..%d", max_classes, MB_IDX_MAX_CLASSES);
  idx_src si, sl;
  idx_part pi, pl;
  memset(&si, 0, sizeof si);
  memset(&sl, 0, sizeof sl);
  memset(&pi, 0, sizeof pi);
  memset(&pl, 0, sizeof pl);
  int n_classes = 0, rc = -1;
  if (src_open(&si, images, err, errlen) == 0 && src_open(&sl, labels, err, errlen) == 0 &&
      load_parts(&si, &sl, &pi, &pl, max_classes, &n_classes, err, errlen) == 0)
    rc = build(&pi, &pl, n_classes, images, out, err, errlen);
  src_close(&si);
  src_close(&sl);
  free(pi.data);
  free(pl.data);
  if (rc) mb_dataset_free(out);
  return rc;
}

int mb_idx_load(const char *images, const char *labels, mb_dataset *out, char *err, size_t errlen)
{
  return mb_idx_load_limit(images, labels, MB_IDX_MAX_CLASSES, out, err, errlen);
}
