/* A ResNet's weights and BN running statistics copied to the host and back, so
 * that several runs can start from the same trained state (ResNet test suites). */
#ifndef MB_TEST_RESNET_STATE_H
#define MB_TEST_RESNET_STATE_H

#include "core/ops.h"
#include "core/resnet.h"

#include <criterion/criterion.h>
#include <stdlib.h>

typedef struct {
  float *w, *mean, *var;
} state;

static inline void state_save(mb_backend *be, const mb_resnet *r, state *s)
{
  s->w = malloc(r->pt.total * sizeof(float));
  s->mean = malloc(r->n_stats * sizeof(float));
  s->var = malloc(r->n_stats * sizeof(float));
  cr_assert(s->w && s->mean && s->var);
  mb_download(be, s->w, r->w, r->pt.total);
  mb_download(be, s->mean, r->run_mean, r->n_stats);
  mb_download(be, s->var, r->run_var, r->n_stats);
}

static inline void state_load(mb_backend *be, const mb_resnet *r, const state *s)
{
  mb_upload(be, r->w, s->w, r->pt.total);
  mb_upload(be, r->run_mean, s->mean, r->n_stats);
  mb_upload(be, r->run_var, s->var, r->n_stats);
}

static inline void state_free(state *s)
{
  free(s->w);
  free(s->mean);
  free(s->var);
}

#endif
