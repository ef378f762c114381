/* Recursive-descent JSON reader (see json_read.h). */
#include "harness/json_read.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *s, *p;
  char *err;
  size_t len;
  int failed, depth;
} rd;

static int fail(rd *r, const char *what)
{
  if (!r->failed) snprintf(r->err, r->len, "column %d: %s", (int)(r->p - r->s) + 1, what);
  r->failed = 1;
  return -1;
}

static void ws(rd *r)
{
  while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r') r->p++;
}

static int value(rd *r, mb_jv *v);

static void put_utf8(char *o, size_t *k, unsigned cp)
{
  if (cp < 0x80) o[(*k)++] = (char)cp;
  else if (cp < 0x800) { o[(*k)++] = (char)(0xC0 | cp >> 6); o[(*k)++] = (char)(0x80 | (cp & 63)); }
  else if (cp < 0x10000) {
    o[(*k)++] = (char)(0xE0 | cp >> 12); o[(*k)++] = (char)(0x80 | ((cp >> 6) & 63));
    o[(*k)++] = (char)(0x80 | (cp & 63));
  } else {
    o[(*k)++] = (char)(0xF0 | cp >> 18); o[(*k)++] = (char)(0x80 | ((cp >> 12) & 63));
    o[(*k)++] = (char)(0x80 | ((cp >> 6) & 63)); o[(*k)++] = (char)(0x80 | (cp & 63));
  }
}

static int hex4(rd *r, unsigned *cp)
{
  *cp = 0;
  for (int i = 0; i < 4; i++) {
    char c = *r->p++;
    unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
               : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 99u;
    if (d == 99u) { r->p--; return fail(r, "bad \\u escape"); }
    *cp = *cp * 16 + d;
  }
  return 0;
}

static int string(rd *r, char **out)
{
  if (*r->p != '"') return fail(r, "expected a string");
  const char *q = ++r->p;
  size_t n = 0;
  while (*q && *q != '"') { if (*q == '\\' && q[1]) q++; q++; n++; }
  if (!*q) return fail(r, "unterminated string");
  char *o = malloc(n * 4 + 1);   /* a \u escape may become 4 bytes */
  if (!o) return fail(r, "out of memory");
  size_t k = 0;
  while (*r->p != '"') {
    unsigned char c = (unsigned char)*r->p;
    if (c < 0x20) { free(o); return fail(r, "control character in a string"); }
    r->p++;
    if (c != '\\') { o[k++] = (char)c; continue; }
    char e = *r->p++;
    switch (e) {
    case '"': o[k++] = '"'; break;
    case '\\': o[k++] = '\\'; break;
    case '/': o[k++] = '/'; break;
    case 'b': o[k++] = '\b'; break;
    case 'f': o[k++] = '\f'; break;
    case 'n': o[k++] = '\n'; break;
    case 'r': o[k++] = '\r'; break;
    case 't': o[k++] = '\t'; break;
    case 'u': {
      unsigned cp, lo;
      if (hex4(r, &cp)) { free(o); return -1; }
      if (cp >= 0xD800 && cp < 0xDC00 && r->p[0] == '\\' && r->p[1] == 'u') {
        r->p += 2;
        if (hex4(r, &lo)) { free(o); return -1; }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      }
      put_utf8(o, &k, cp);
      break;
    }
    default: r->p--; free(o); return fail(r, "bad escape in a string");
    }
  }
  r->p++;
  o[k] = 0;
  *out = o;
  return 0;
}

static int number(rd *r, mb_jv *v)
{
  const char *q = r->p;
  if (*q == '-') q++;
  if (!(*q >= '0' && *q <= '9')) return fail(r, "expected a value");
  char *end;
  v->t = MB_JV_NUM;
  v->num = strtod(r->p, &end);
  r->p = end;
  return 0;
}

static int grow(rd *r, mb_jv *v, int *cap, int with_keys)
{
  if (v->n < *cap) return 0;
  int nc = *cap ? *cap * 2 : 8;
  mb_jv *it = realloc(v->items, sizeof *it * (size_t)nc);
  if (!it) return fail(r, "out of memory");
  v->items = it;
  if (with_keys) {
    char **k = realloc(v->keys, sizeof *k * (size_t)nc);
    if (!k) return fail(r, "out of memory");
    v->keys = k;
  }
  *cap = nc;
  return 0;
}

static int container(rd *r, mb_jv *v, int obj)
{
  char close = obj ? '}' : ']';
  int cap = 0;
  v->t = obj ? MB_JV_OBJ : MB_JV_ARR;
  if (++r->depth > 64) return fail(r, "nested too deeply");
  r->p++;
  ws(r);
  if (*r->p == close) { r->p++; r->depth--; return 0; }
  for (;;) {
    if (grow(r, v, &cap, obj)) return -1;
    mb_jv *it = &v->items[v->n];
    memset(it, 0, sizeof *it);
    if (obj) {
      ws(r);
      if (string(r, &v->keys[v->n])) return -1;
      ws(r);
      if (*r->p != ':') { free(v->keys[v->n]); return fail(r, "expected ':'"); }
      r->p++;
    }
    v->n++;
    if (value(r, it)) return -1;
    ws(r);
    if (*r->p == ',') { r->p++; continue; }
    if (*r->p == close) { r->p++; r->depth--; return 0; }
    return fail(r, obj ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

static int value(rd *r, mb_jv *v)
{
  ws(r);
  switch (*r->p) {
  case '{': return container(r, v, 1);
  case '[': return container(r, v, 0);
  case '"': v->t = MB_JV_STR; return string(r, &v->str);
  case 't': if (strncmp(r->p, "true", 4) == 0) { r->p += 4; v->t = MB_JV_BOOL; v->num = 1; return 0; } break;
  case 'f': if (strncmp(r->p, "false", 5) == 0) { r->p += 5; v->t = MB_JV_BOOL; v->num = 0; return 0; } break;
  case 'n': if (strncmp(r->p, "null", 4) == 0) { r->p += 4; v->t = MB_JV_NULL; return 0; } break;
  case 0: return fail(r, "unexpected end of input");
  default: return number(r, v);
  }
  return fail(r, "expected a value");
}

int mb_jv_parse(const char *text, mb_jv *out, char *err, size_t len)
{
  rd r = {text, text, err, len, 0, 0};
  memset(out, 0, sizeof *out);
  if (value(&r, out) == 0) {
    ws(&r);
    if (*r.p) fail(&r, "text after the value");
  }
  if (r.failed) { mb_jv_free(out); return -1; }
  return 0;
}

void mb_jv_free(mb_jv *v)
{
  if (!v) return;
  for (int i = 0; i < v->n; i++) {
    mb_jv_free(&v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->str);
  memset(v, 0, sizeof *v);
}

const mb_jv *mb_jv_get(const mb_jv *v, const char *key)
{
  if (!v || v->t != MB_JV_OBJ) return NULL;
  for (int i = 0; i < v->n; i++)
    if (strcmp(v->keys[i], key) == 0) return &v->items[i];
  return NULL;
}

double mb_jv_num(const mb_jv *v, const char *key)
{
  const mb_jv *x = mb_jv_get(v, key);
  return x && x->t == MB_JV_NUM ? x->num : NAN;
}

const char *mb_jv_str(const mb_jv *v, const char *key, const char *dflt)
{
  const mb_jv *x = mb_jv_get(v, key);
  return x && x->t == MB_JV_STR ? x->str : dflt;
}
