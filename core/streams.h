/* RNG stream ids of the counter-based generator (kernels/common/philox.h).
 * Every random quantity of a run is (seed, stream, index), so it is the same
 * on every backend and independent of the order things are computed in. */
#ifndef MB_STREAMS_H
#define MB_STREAMS_H

enum {
  MB_STREAM_CODES = 1,           /* mnemonic codes: element c·D + j */
  MB_STREAM_SHUFFLE = 1u << 20,  /* + epoch: training order */
  MB_STREAM_REPLACE = 2u << 20,  /* + epoch: code replacement draw per sample */
  MB_STREAM_METHOD = 3u << 20,   /* + method-specific offsets (baselines' noise) */
  MB_STREAM_AUGMENT = 4u << 20,  /* + epoch: crop offsets and flip, block = sample (core/augment.h) */
  MB_STREAM_QUALITY = 5u << 20,  /* + 0, 1: MIA members, non-members; + 2: relearn order (core/quality.h) */
};

#endif
