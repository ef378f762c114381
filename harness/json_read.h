/* A minimal JSON reader for result rows: one value per call, parsed into a
 * small tree.  Strict RFC 8259 syntax (no comments, no trailing commas); a
 * syntax error gives the byte column and what was expected. */
#ifndef MB_JSON_READ_H
#define MB_JSON_READ_H

#include <stddef.h>

typedef enum { MB_JV_NULL, MB_JV_BOOL, MB_JV_NUM, MB_JV_STR, MB_JV_ARR, MB_JV_OBJ } mb_jv_type;

typedef struct mb_jv {
  mb_jv_type t;
  double num;             /* NUM; BOOL: 0 or 1 */
  char *str;              /* STR (UTF-8, unescaped) */
  int n;                  /* ARR / OBJ: number of items */
  char **keys;            /* OBJ: n keys */
  struct mb_jv *items;    /* ARR / OBJ: n values */
} mb_jv;

/* Parses exactly one JSON value (surrounding white space allowed).  0, or -1
 * with "column N: ..." in err (and *out zeroed). */
int mb_jv_parse(const char *text, mb_jv *out, char *err, size_t len);
void mb_jv_free(mb_jv *v);

/* Object member (NULL if v is not an object or has no such key). */
const mb_jv *mb_jv_get(const mb_jv *v, const char *key);
/* Number member, or NaN when missing, null or not a number. */
double mb_jv_num(const mb_jv *v, const char *key);
/* String member, or dflt. */
const char *mb_jv_str(const mb_jv *v, const char *key, const char *dflt);

#endif
