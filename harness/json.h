/* A small JSON object writer for result rows (one object per line). */
#ifndef MB_JSON_H
#define MB_JSON_H

#include <stdint.h>
#include <stdio.h>

typedef struct {
  char *buf;
  size_t len, cap;
  int n_fields;
} mb_json;

void mb_json_begin(mb_json *j);
void mb_json_str(mb_json *j, const char *key, const char *val);
void mb_json_num(mb_json *j, const char *key, double val);   /* NaN/inf → null */
void mb_json_int(mb_json *j, const char *key, long long val);
void mb_json_raw(mb_json *j, const char *key, const char *json);
/* An array of numbers (NaN/inf → null). */
void mb_json_nums(mb_json *j, const char *key, const double *v, int n);
const char *mb_json_end(mb_json *j);   /* the finished object text */
void mb_json_free(mb_json *j);

#endif
