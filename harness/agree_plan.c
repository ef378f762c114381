/* The plan helpers every agreement family uses to declare its arguments. */
#include "harness/agree_families.h"

const agree_gen agree_gen_none = {AGREE_GEN_NONE, 0, 0};

int agree_add_arg(agree_plan *p, const char *name, size_t n, agree_gen gen, int out, int bits)
{
  agree_arg a = {name, n, gen, out, bits, -1, 0};
  p->arg[p->nargs] = a;
  return p->nargs++;
}

int agree_add_in(agree_plan *p, const char *name, size_t n, agree_gen gen)
{
  return agree_add_arg(p, name, n, gen, 0, 0);
}

int agree_add_out(agree_plan *p, const char *name, size_t n, int bits)
{
  return agree_add_arg(p, name, n, agree_gen_none, 1, bits);
}

/* The output y: its own buffer, or (AGREE_ALIAS) the view of input x. */
int agree_add_result(agree_plan *p, const agree_case *c, const char *name, size_t n, int bits,
                      int x)
{
  int y = agree_add_out(p, name, n, bits);
  if (c->flags & AGREE_ALIAS) p->arg[y].alias_of = x;
  return y;
}

agree_gen agree_gen_or(agree_gen g, agree_gen fallback)
{
  return g.kind == AGREE_GEN_NONE ? fallback : g;
}

