/* The whole of a file as a NUL-terminated string (malloc'd), or NULL: what the
 * report tests compare outputs with. */
#ifndef MB_TEST_SLURP_H
#define MB_TEST_SLURP_H

#include <stdio.h>
#include <stdlib.h>

static inline char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
  if (b) b[n] = 0;
  fclose(f);
  return b;
}

#endif
