/* Command-line options shared by the mnemobench commands (getopt_long). */
#ifndef MB_OPTIONS_H
#define MB_OPTIONS_H

#include "core/codes.h"
#include "core/method.h"

#include <stdint.h>

typedef struct {
  const char *backend;
  int device;
  const char *data;
  int synthetic;
  uint64_t seed;
  int epochs, batch;
  double lr, t_mix, lambda1, lambda2;
  const char *model_spec, *act;
  mb_code_dist code_dist;
  const char *in, *out;          /* --model FILE (input checkpoint), --out FILE */
  const char *classes;
  const char *method;
  int json;
  int repeats;
  const char *backends[8]; int n_backends;   /* repeated --backend for bench */
  int set_epochs, set_t_mix;
  const char *params[16]; int n_params;     /* --param k=v */
} mb_opts;

/* Parses argv (argv[0] = command name).  `usage` is printed for --help (exit
 * code 0 via *done = 1) or after a bad option (returns -1). */
/* Default parameters of a method, then --lambda1/--lambda2 (mnemonic) and --param k=v. */
int mb_opts_method_params(const mb_opts *o, const mb_method *me, double *values);
int mb_parse_opts(int argc, char **argv, const char *usage, mb_opts *o, int *done);
void mb_opts_defaults(mb_opts *o);

#endif
