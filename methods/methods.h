/* The methods layer: every forgetting method this program has (the mnemonic
 * method and the baselines), each defined by its own descriptor
 * (methods/mnemonic.c, baselines/NAME.c) and listed once in methods/method_list.c. */
#ifndef MB_METHODS_H
#define MB_METHODS_H

#include "core/method.h"

/* All methods, in the order the tables list them. */
int mb_method_list(const mb_method *const **out);
/* By name or alias, or NULL. */
const mb_method *mb_method_find(const char *name);

#endif
