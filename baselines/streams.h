/* RNG stream ids of the baselines: MB_STREAM_METHOD plus a per-method offset,
 * so each method's randomness is (seed, stream, index) and identical on every
 * backend.  Ranges are 2^12 wide; methods add an epoch, class or iteration. */
#ifndef BL_STREAMS_H
#define BL_STREAMS_H

#include "core/streams.h"

enum {
  BL_STREAM_SFDN_NOISE = MB_STREAM_METHOD + (1u << 12),     /* ε over the flat parameters */
  BL_STREAM_UNSIR_NOISE = MB_STREAM_METHOD + (2u << 12),    /* + forget-class position: N(0,1) init */
  BL_STREAM_UNSIR_SHUFFLE = MB_STREAM_METHOD + (3u << 12),  /* + phase (0 impair, 1 repair) */
  BL_STREAM_MUMIS_CLASS = MB_STREAM_METHOD + (4u << 12),    /* + iteration: irrelevant class c′ per sample */
  BL_STREAM_OWD_SAMPLE = MB_STREAM_METHOD + (5u << 12),     /* + class: the n samples per class */
};

#endif
