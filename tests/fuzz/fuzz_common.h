/* What the fuzz targets share.  Each target writes its input to real files in
 * a private scratch folder and calls the reader production calls on them, so
 * the fuzzed path is the path `mnemobench` takes (fopen, gzopen, stat, ...).
 * A broken promise of the reader (a multi-line or empty error, output left
 * behind on failure, a value outside its documented range) aborts with a
 * message: libFuzzer records it as a finding like any crash. */
#ifndef MB_FUZZ_COMMON_H
#define MB_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The scratch folder ($TMPDIR or /tmp, made once, removed at exit). */
const char *fz_dir(void);
/* fz_dir()/name into out (aborts if it does not fit). */
void fz_path(char *out, size_t len, const char *name);
/* Replaces path by exactly these bytes (aborts on a write error: that is the
 * harness failing, not the reader). */
void fz_write(const char *path, const void *data, size_t n);
/* Removes a file or an empty folder if there is one. */
void fz_remove(const char *path);
/* /dev/null for the readers' warnings. */
FILE *fz_null(void);
uint32_t fz_le32(const uint8_t *p);

/* Aborts with "fuzz: what: ..." on stderr. */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* The readers' error contract: a non-empty single line that contains `names`
 * (the file or folder it is about; NULL: any).  MB_FUZZ_VERBOSE=1 prints it. */
void fz_check_error(const char *err, const char *names);

#endif
