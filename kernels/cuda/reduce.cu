/* Reductions: reduce (outer, mid, inner), seg_reduce, seg_bcast.
 *
 * Deterministic by construction: every output is combined in a fixed order that
 * depends only on the shape (thread-strided accumulation, then a shared-memory tree;
 * long rows and segments go through per-chunk partials and a second pass), never
 * through atomics.  SUM and SUMSQ accumulate in f64, like the oracle.
 * MAX propagates NaN; MAX_FINITE skips NaN and ±inf (-inf if nothing is finite);
 * ARGMAX gives the first index of the largest non-NaN value (-inf counts; 0 if all
 * are NaN), which is what the oracle's sequential scan gives. */
#include "launch.h"
#include "block.cuh"

#include <limits.h>

/* Elements per block in the first pass over long rows and segments. */
#define RED_CHUNK 8192u

struct RSum {
  typedef double acc;
  typedef float out;
  __device__ static acc init() { return 0.0; }
  __device__ static acc load(float v, size_t) { return (double)v; }
  __device__ static acc comb(acc a, acc b) { return a + b; }
  __device__ static out fin(acc a) { return (float)a; }
};

struct RSumSq {
  typedef double acc;
  typedef float out;
  __device__ static acc init() { return 0.0; }
  __device__ static acc load(float v, size_t) { return (double)v * (double)v; }
  __device__ static acc comb(acc a, acc b) { return a + b; }
  __device__ static out fin(acc a) { return (float)a; }
};

struct RMax {
  typedef float acc;
  typedef float out;
  __device__ static acc init() { return mb_cu_ninf(); }
  __device__ static acc load(float v, size_t) { return v; }
  __device__ static acc comb(acc a, acc b)
  {
    if (mb_cu_isnan(a)) return a;
    if (mb_cu_isnan(b)) return b;
    return b > a ? b : a;
  }
  __device__ static out fin(acc a) { return a; }
};

struct RMaxFinite {
  typedef float acc;
  typedef float out;
  __device__ static acc init() { return mb_cu_ninf(); }
  __device__ static acc load(float v, size_t) { return mb_cu_isfinite(v) ? v : mb_cu_ninf(); }
  __device__ static acc comb(acc a, acc b) { return b > a ? b : a; }
  __device__ static out fin(acc a) { return a; }
};

struct ArgAcc {
  float v;
  int i;   /* INT_MAX: only NaN seen (the value is then -inf) */
};

struct RArgmax {
  typedef ArgAcc acc;
  typedef int out;
  __device__ static acc init() { acc a = {mb_cu_ninf(), INT_MAX}; return a; }
  __device__ static acc load(float v, size_t j)
  {
    if (mb_cu_isnan(v)) return init();   /* NaN never wins */
    acc a = {v, (int)j};
    return a;
  }
  /* Larger value wins; on equal values the lower index does (first maximum).  The
   * NaN-only state {-inf, INT_MAX} loses every tie, so a real -inf beats it. */
  __device__ static acc comb(acc a, acc b) { return (b.v > a.v || (b.v == a.v && b.i < a.i)) ? b : a; }
  __device__ static out fin(acc a) { return a.i == INT_MAX ? 0 : a.i; }
};

/* Chunk c of the rows of a (outer, mid, 1) reduction: row c / cpr, part c % cpr. */
struct RowChunks {
  size_t mid, cpr;
  __device__ void range(size_t c, size_t *base, size_t *b, size_t *e) const
  {
    size_t r = c / cpr, k = c - r * cpr;
    *base = r * mid;
    *b = k * RED_CHUNK;
    *e = mid - *b < RED_CHUNK ? mid : *b + RED_CHUNK;
  }
};

/* Chunk c of a segment table. */
struct SegChunks {
  const mb_cu_chunk *ch;
  __device__ void range(size_t c, size_t *base, size_t *b, size_t *e) const
  {
    *base = 0;
    *b = (size_t)ch[c].begin;
    *e = (size_t)ch[c].end;
  }
};

/* Partials of output s in the second pass. */
struct RowParts {
  size_t cpr;
  __device__ void range(size_t s, size_t *b, size_t *e) const { *b = s * cpr; *e = *b + cpr; }
};

struct SegParts {
  const int *first;
  __device__ void range(size_t s, size_t *b, size_t *e) const
  {
    *b = (size_t)first[s];
    *e = (size_t)first[s + 1];
  }
};

/* One block per chunk; writes the chunk's partial, or the output when FINAL
 * (each row is a single chunk). */
template <class Op, class Map, bool FINAL>
__global__ void red_chunks_k(const float *x, void *dst, Map map, size_t nchunks)
{
  typedef typename Op::acc acc;
  for (size_t c = blockIdx.x; c < nchunks; c += gridDim.x) {
    size_t base, b, e;
    map.range(c, &base, &b, &e);
    acc a = Op::init();
    for (size_t j = b + threadIdx.x; j < e; j += blockDim.x) a = Op::comb(a, Op::load(x[base + j], j));
    a = mb_cu_block_reduce<Op>(a);
    if (threadIdx.x == 0) {
      if (FINAL)
        static_cast<typename Op::out *>(dst)[c] = Op::fin(a);
      else
        static_cast<acc *>(dst)[c] = a;
    }
  }
}

/* One block per output: combines that output's partials in chunk order. */
template <class Op, class Parts>
__global__ void red_parts_k(const typename Op::acc *part, typename Op::out *y, Parts parts,
                            size_t nout)
{
  typedef typename Op::acc acc;
  for (size_t s = blockIdx.x; s < nout; s += gridDim.x) {
    size_t b, e;
    parts.range(s, &b, &e);
    acc a = Op::init();
    for (size_t j = b + threadIdx.x; j < e; j += blockDim.x) a = Op::comb(a, part[j]);
    a = mb_cu_block_reduce<Op>(a);
    if (threadIdx.x == 0) y[s] = Op::fin(a);
  }
}

/* inner > 1: a block is a tile of blockDim.x consecutive i of one o; its blockDim.y
 * rows of threads take m = ty, ty + blockDim.y, ... and are then combined as a tree. */
template <class Op>
__global__ void red_cols_k(const float *x, typename Op::out *y, size_t outer, size_t mid,
                           size_t inner, size_t tiles)
{
  typedef typename Op::acc acc;
  acc *sh = reinterpret_cast<acc *>(mb_cu_smem);
  unsigned tx = threadIdx.x, ty = threadIdx.y, tw = blockDim.x;
  for (size_t t = blockIdx.x; t < outer * tiles; t += gridDim.x) {
    size_t o = t / tiles;
    size_t i = (t - o * tiles) * tw + tx;
    acc a = Op::init();
    if (i < inner) {
      const float *col = x + o * mid * inner + i;
      for (size_t m = ty; m < mid; m += blockDim.y) a = Op::comb(a, Op::load(col[m * inner], m));
    }
    sh[ty * tw + tx] = a;
    __syncthreads();
    for (unsigned s = blockDim.y >> 1; s > 0; s >>= 1) {
      if (ty < s) sh[ty * tw + tx] = Op::comb(sh[ty * tw + tx], sh[(ty + s) * tw + tx]);
      __syncthreads();
    }
    if (ty == 0 && i < inner) y[o * inner + i] = Op::fin(sh[tx]);
    __syncthreads();
  }
}

template <class Op>
static void reduce_as(cudaStream_t s, const float *x, void *y, size_t outer, size_t mid,
                      size_t inner, void *scratch)
{
  typedef typename Op::acc acc;
  typedef typename Op::out out;
  if (inner > 1) {
    unsigned tw = 1;
    while (tw < 32 && tw < inner) tw <<= 1;
    dim3 block(tw, MB_CU_THREADS / tw);
    size_t tiles = (inner + tw - 1) / tw;
    unsigned g = mb_cu_blocks(outer * tiles, 1);
    red_cols_k<Op><<<g, block, MB_CU_THREADS * sizeof(acc), s>>>(x, (out *)y, outer, mid, inner,
                                                                  tiles);
    return;
  }
  size_t cpr = (mid + RED_CHUNK - 1) / RED_CHUNK;
  RowChunks map = {mid, cpr};
  if (cpr == 1) {
    unsigned t = mb_cu_row_threads(mid);
    red_chunks_k<Op, RowChunks, true><<<mb_cu_blocks(outer, 1), t, t * sizeof(acc), s>>>(
        x, y, map, outer);
    return;
  }
  size_t nchunks = outer * cpr;
  red_chunks_k<Op, RowChunks, false>
      <<<mb_cu_blocks(nchunks, 1), MB_CU_THREADS, MB_CU_THREADS * sizeof(acc), s>>>(x, scratch, map,
                                                                                   nchunks);
  RowParts parts = {cpr};
  unsigned t = mb_cu_row_threads(cpr);
  red_parts_k<Op, RowParts><<<mb_cu_blocks(outer, 1), t, t * sizeof(acc), s>>>(
      (const acc *)scratch, (out *)y, parts, outer);
}

extern "C" size_t mb_cu_reduce_scratch(size_t outer, size_t mid, size_t inner)
{
  if (inner > 1 || mid <= RED_CHUNK) return 0;
  return outer * ((mid + RED_CHUNK - 1) / RED_CHUNK) * 8;   /* 8 >= sizeof any accumulator */
}

extern "C" void mb_cu_reduce(cudaStream_t s, mb_reduce_op op, const float *x, float *y,
                             size_t outer, size_t mid, size_t inner, void *scratch)
{
  switch (op) {
  case MB_RED_SUM: reduce_as<RSum>(s, x, y, outer, mid, inner, scratch); break;
  case MB_RED_SUMSQ: reduce_as<RSumSq>(s, x, y, outer, mid, inner, scratch); break;
  case MB_RED_MAX: reduce_as<RMax>(s, x, y, outer, mid, inner, scratch); break;
  case MB_RED_MAX_FINITE: reduce_as<RMaxFinite>(s, x, y, outer, mid, inner, scratch); break;
  case MB_RED_ARGMAX: reduce_as<RArgmax>(s, x, y, outer, mid, inner, scratch); break;
  }
}

template <class Op>
static void seg_reduce_as(cudaStream_t s, const float *x, float *y, const mb_cu_segtab *t,
                          void *scratch)
{
  typedef typename Op::acc acc;
  SegChunks map = {t->chunks};
  red_chunks_k<Op, SegChunks, false>
      <<<mb_cu_blocks(t->nchunks, 1), MB_CU_THREADS, MB_CU_THREADS * sizeof(acc), s>>>(
          x, scratch, map, t->nchunks);
  SegParts parts = {t->first};
  /* Segments have about nchunks / nseg partials each; a few warps cover them. */
  unsigned th = mb_cu_row_threads((t->nchunks + (size_t)t->nseg - 1) / (size_t)t->nseg);
  red_parts_k<Op, SegParts><<<mb_cu_blocks((size_t)t->nseg, 1), th, th * sizeof(acc), s>>>(
      (const acc *)scratch, y, parts, (size_t)t->nseg);
}

extern "C" size_t mb_cu_seg_reduce_scratch(const mb_cu_segtab *t)
{
  return t->nchunks * 8;
}

extern "C" void mb_cu_seg_reduce(cudaStream_t s, mb_reduce_op op, const float *x, float *y,
                                 const mb_cu_segtab *t, void *scratch)
{
  switch (op) {
  case MB_RED_SUM: seg_reduce_as<RSum>(s, x, y, t, scratch); break;
  case MB_RED_SUMSQ: seg_reduce_as<RSumSq>(s, x, y, t, scratch); break;
  case MB_RED_MAX: seg_reduce_as<RMax>(s, x, y, t, scratch); break;
  case MB_RED_MAX_FINITE: seg_reduce_as<RMaxFinite>(s, x, y, t, scratch); break;
  case MB_RED_ARGMAX: break;   /* rejected by the core (not segmented) */
  }
}

/* One block per chunk; every element of a chunk belongs to the chunk's segment. */
template <int OP>
__global__ void seg_bcast_k(const float *x, const float *v, float *y, const mb_cu_chunk *ch,
                            size_t nchunks)
{
  for (size_t c = blockIdx.x; c < nchunks; c += gridDim.x) {
    size_t b = (size_t)ch[c].begin, e = (size_t)ch[c].end;
    float sv = v[ch[c].seg];
    for (size_t j = b + threadIdx.x; j < e; j += blockDim.x) {
      float a = x[j];
      float r;
      switch (OP) {
      case MB_SEGBC_MUL: r = a * sv; break;
      case MB_SEGBC_ADD: r = a + sv; break;
      default: r = mb_cu_isinf(a) ? sv : a; break;
      }
      y[j] = r;
    }
  }
}

extern "C" void mb_cu_seg_bcast(cudaStream_t s, mb_segbcast_op op, const float *x, const float *v,
                                float *y, const mb_cu_segtab *t)
{
  unsigned g = mb_cu_blocks(t->nchunks, 1);
  switch (op) {
  case MB_SEGBC_MUL: seg_bcast_k<MB_SEGBC_MUL><<<g, MB_CU_THREADS, 0, s>>>(x, v, y, t->chunks, t->nchunks); break;
  case MB_SEGBC_ADD: seg_bcast_k<MB_SEGBC_ADD><<<g, MB_CU_THREADS, 0, s>>>(x, v, y, t->chunks, t->nchunks); break;
  case MB_SEGBC_INF_TO: seg_bcast_k<MB_SEGBC_INF_TO><<<g, MB_CU_THREADS, 0, s>>>(x, v, y, t->chunks, t->nchunks); break;
  }
}
