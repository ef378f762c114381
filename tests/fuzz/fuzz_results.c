/* Results reader (harness/results.c, harness/json_read.c) through
 * mb_rows_read, as `report` and a resumed `bench` read a results file, then
 * the accessors the report uses on every row; then what a resumed `bench`
 * does next (harness/cmd_bench_spec.c): mb_results_open, whose torn-last-line
 * check ends an unterminated last line, and mb_results_append of one row,
 * which must read back as a row of its own after the rows read before.
 * Input: the JSONL file. */
#include "fuzz_common.h"
#include "harness/results.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char k_row[] = "{\"kind\": \"fuzz_appended\", \"n\": 1}";

/* The file must be the input, plus "\n" if it ended in a torn line, plus the row. */
static void resume(const char *path, const uint8_t *data, size_t size, const mb_rowset *before)
{
  mb_results r;
  char err[512];
  fflush(stderr);
  int saved = dup(2), null = open("/dev/null", O_WRONLY);   /* the torn-row notice, once per input */
  if (saved < 0 || null < 0 || dup2(null, 2) < 0) fz_fail("cannot silence stderr");
  close(null);
  int rc = mb_results_open(&r, path, err, sizeof err);
  if (rc == 0) rc = mb_results_append(&r, k_row, err, sizeof err);
  mb_results_close(&r);
  dup2(saved, 2);
  close(saved);
  if (rc != 0) fz_fail("resuming a written file failed: %s", err);
  int torn = size > 0 && data[size - 1] != '\n';
  size_t want = size + (size_t)torn + strlen(k_row) + 1;
  FILE *f = fopen(path, "rb");
  if (!f) fz_fail("cannot reopen %s", path);
  uint8_t *got = malloc(want + 1);
  size_t n = got ? fread(got, 1, want + 1, f) : 0;
  fclose(f);
  if (!got || n != want || memcmp(got, data, size) || (torn && got[size] != '\n') ||
      memcmp(got + size + torn, k_row, strlen(k_row)) || got[want - 1] != '\n')
    fz_fail("after open and append the file is not the input%s and the row (%zu bytes, %zu expected)",
            torn ? ", a newline" : "", n, want);
  free(got);
  mb_rowset rs;
  memset(&rs, 0, sizeof rs);
  if (mb_rows_read(path, 3, &rs, fz_null()) != 0) fz_fail("the resumed file could not be read");
  if (rs.n != before->n + 1 || rs.n_corrupt != before->n_corrupt)
    fz_fail("resumed: %d rows, %d corrupt; before %d rows, %d corrupt and one row appended", rs.n,
            rs.n_corrupt, before->n, before->n_corrupt);
  if (strcmp(mb_jv_str(&rs.rows[rs.n - 1].v, "kind", ""), "fuzz_appended"))
    fz_fail("the appended row is not the last row read");
  mb_rows_free(&rs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char path[600];
  if (!path[0]) fz_path(path, sizeof path, "results.jsonl");
  fz_write(path, data, size);
  mb_rowset rs;
  memset(&rs, 0, sizeof rs);
  if (mb_rows_read(path, 3, &rs, fz_null()) != 0) fz_fail("a written file could not be read");
  int last = 0;
  size_t lines = 1;
  for (size_t i = 0; i < size; i++) lines += data[i] == '\n';
  if ((size_t)rs.n + (size_t)rs.n_corrupt > lines) fz_fail("%d rows + %d corrupt > %zu lines", rs.n, rs.n_corrupt, lines);
  for (int i = 0; i < rs.n; i++) {
    const mb_row *r = &rs.rows[i];
    if (r->v.t != MB_JV_OBJ || r->file != 3 || r->line <= last) fz_fail("row %d: bad type, file or line", i);
    last = r->line;
    for (int k = 0; k < r->v.n; k++) {
      if (!r->v.keys[k]) fz_fail("row %d: NULL key", i);
      /* what the report does with each member */
      (void)mb_jv_num(&r->v, r->v.keys[k]);
      (void)mb_jv_str(&r->v, r->v.keys[k], "");
      const mb_jv *m = mb_jv_get(&r->v, r->v.keys[k]);
      if (!m) fz_fail("row %d: member '%s' not found", i, r->v.keys[k]);
      if (m->t == MB_JV_STR && !m->str) fz_fail("row %d: string without text", i);
    }
  }
  resume(path, data, size, &rs);
  mb_rows_free(&rs);
  return 0;
}
