/* Mnemonic codes: one random input per class (docs/specification.md §1.1). */
#ifndef MB_CODES_H
#define MB_CODES_H

#include <stdint.h>

typedef enum { MB_CODES_UNIFORM01, MB_CODES_NORMAL01 } mb_code_dist;

/* Fills out[K·D] on the host: code c element j is element c·D + j of stream
 * MB_STREAM_CODES under `seed`, U[0,1) (the authors' code) or N(0,1) (the paper's text). */
void mb_codes_generate(uint64_t seed, int n_classes, int dim, mb_code_dist dist, float *out);
const char *mb_code_dist_name(mb_code_dist d);
int mb_code_dist_parse(const char *s, mb_code_dist *d);

#endif
