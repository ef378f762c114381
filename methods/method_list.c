/* The one list of methods: add a method by defining its descriptor in its own
 * file and naming it here (see docs/architecture.md). */
#include "methods/methods.h"

#include <string.h>

extern const mb_method mb_method_mnemonic, mb_method_ours_w_data, mb_method_ssd,
  mb_method_fastmu, mb_method_sfdn, mb_method_mumis, mb_method_retrain;

static const mb_method *const k_methods[] = {
  &mb_method_mnemonic,
  &mb_method_ours_w_data,
  &mb_method_ssd,
  &mb_method_fastmu,
  &mb_method_sfdn,
  &mb_method_mumis,
  &mb_method_retrain,
};

int mb_method_list(const mb_method *const **out)
{
  *out = k_methods;
  return (int)(sizeof k_methods / sizeof k_methods[0]);
}

const mb_method *mb_method_find(const char *name)
{
  const mb_method *const *all;
  int n = mb_method_list(&all);
  for (int i = 0; i < n; i++)
    if (strcmp(all[i]->name, name) == 0 || (all[i]->alias && strcmp(all[i]->alias, name) == 0))
      return all[i];
  return NULL;
}
