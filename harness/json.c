/* JSON object writer with proper string escaping. */
#include "harness/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void add(mb_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(mb_json *j, const char *fmt, ...)
{
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    size_t room = j->cap - j->len;
    int n = vsnprintf(j->buf ? j->buf + j->len : NULL, j->buf ? room : 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (j->buf && (size_t)n < room) { j->len += (size_t)n; return; }
    size_t cap = (j->cap + (size_t)n + 64) * 2;
    char *b = realloc(j->buf, cap);
    if (!b) return;
    j->buf = b;
    j->cap = cap;
  }
}

static void add_escaped(mb_json *j, const char *s)
{
  add(j, "\"");
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    if (*p == '"' || *p == '\\') add(j, "\\%c", *p);
    else if (*p == '\n') add(j, "\\n");
    else if (*p == '\t') add(j, "\\t");
    else if (*p < 0x20) add(j, "\\u%04x", *p);
    else add(j, "%c", *p);
  }
  add(j, "\"");
}

static void key(mb_json *j, const char *k)
{
  add(j, j->n_fields++ ? ", " : "");
  add_escaped(j, k);
  add(j, ": ");
}

void mb_json_begin(mb_json *j)
{
  memset(j, 0, sizeof *j);
  add(j, "{");
}

void mb_json_str(mb_json *j, const char *k, const char *v)
{
  key(j, k);
  add_escaped(j, v);
}

void mb_json_num(mb_json *j, const char *k, double v)
{
  key(j, k);
  if (isfinite(v)) add(j, "%.10g", v);
  else add(j, "null");
}

void mb_json_int(mb_json *j, const char *k, long long v)
{
  key(j, k);
  add(j, "%lld", v);
}

void mb_json_raw(mb_json *j, const char *k, const char *json)
{
  key(j, k);
  add(j, "%s", json);
}

void mb_json_nums(mb_json *j, const char *k, const double *v, int n)
{
  key(j, k);
  add(j, "[");
  for (int i = 0; i < n; i++) {
    if (isfinite(v[i])) add(j, "%s%.10g", i ? "," : "", v[i]);
    else add(j, "%snull", i ? "," : "");
  }
  add(j, "]");
}

const char *mb_json_end(mb_json *j)
{
  add(j, "}");
  return j->buf ? j->buf : "{}";
}

void mb_json_free(mb_json *j)
{
  free(j->buf);
  memset(j, 0, sizeof *j);
}
