/* Reductions and segment ops: scratch for partials and the device segment tables. */
#include "cuda_internal.h"

#include <stdlib.h>
#include <string.h>

void *cu_scratch(mb_backend *be, const char *op, size_t bytes)
{
  cu_backend *cb = cu_of(be);
  if (bytes <= cb->scratch_bytes) return cb->scratch;
  /* Queued kernels may still use the old block. */
  if (!cu_check(be, op, "cudaStreamSynchronize", cudaStreamSynchronize(cb->stream))) return NULL;
  if (cb->scratch) (void)cudaFree(cb->scratch);
  cb->scratch = NULL;
  cb->scratch_bytes = 0;
  size_t want = bytes < ((size_t)1 << 16) ? ((size_t)1 << 16) : bytes;
  if (!cu_check(be, op, "cudaMalloc (scratch)", cudaMalloc(&cb->scratch, want))) return NULL;
  cb->scratch_bytes = want;
  return cb->scratch;
}

static void slot_clear(cu_segtab_slot *s)
{
  if (s->dev) (void)cudaFree(s->dev);
  free(s->offs);
  memset(s, 0, sizeof *s);
}

void cu_segtab_release(cu_backend *cb)
{
  for (int i = 0; i < CU_SEG_CACHE; i++) slot_clear(&cb->seg[i]);
}

/* Cuts every segment into chunks of at most MB_CU_SEG_CHUNK elements. */
static size_t count_chunks(const size_t *offs, int nseg)
{
  size_t n = 0;
  for (int s = 0; s < nseg; s++) n += (offs[s + 1] - offs[s] + MB_CU_SEG_CHUNK - 1) / MB_CU_SEG_CHUNK;
  return n;
}

const mb_cu_segtab *cu_segtab(mb_backend *be, const char *op, const size_t *offs, int nseg)
{
  cu_backend *cb = cu_of(be);
  size_t key = ((size_t)nseg + 1) * sizeof *offs;
  cu_segtab_slot *victim = &cb->seg[0];
  for (int i = 0; i < CU_SEG_CACHE; i++) {
    cu_segtab_slot *s = &cb->seg[i];
    if (s->offs && s->nseg == nseg && memcmp(s->offs, offs, key) == 0) {
      s->used = ++cb->seg_clock;
      return &s->tab;
    }
    if (!s->offs || (victim->offs && s->used < victim->used)) victim = s;
  }

  /* Miss: build the table on the host and replace the least recently used slot. */
  size_t nch = count_chunks(offs, nseg);
  size_t bytes = nch * sizeof(mb_cu_chunk) + ((size_t)nseg + 1) * sizeof(int);
  char *host = malloc(bytes);
  size_t *key_copy = malloc(key);
  if (!host || !key_copy) {
    free(host);
    free(key_copy);
    cu_fail(be, MB_OOM, op, "out of host memory for a segment table (%d segments)", nseg);
    return NULL;
  }
  memcpy(key_copy, offs, key);
  mb_cu_chunk *ch = (mb_cu_chunk *)host;
  int *first = (int *)(host + nch * sizeof(mb_cu_chunk));
  size_t c = 0;
  for (int s = 0; s < nseg; s++) {
    first[s] = (int)c;
    for (size_t b = offs[s]; b < offs[s + 1]; b += MB_CU_SEG_CHUNK, c++) {
      ch[c].begin = b;
      ch[c].end = offs[s + 1] - b < MB_CU_SEG_CHUNK ? offs[s + 1] : b + MB_CU_SEG_CHUNK;
      ch[c].seg = s;
      ch[c].pad_ = 0;
    }
  }
  first[nseg] = (int)c;

  /* The victim's table may still be read by queued kernels: wait before freeing it.
   * Misses are rare (one table per model), so the stall does not matter. */
  void *dev = NULL;
  int ok = cu_check(be, op, "cudaStreamSynchronize", cudaStreamSynchronize(cb->stream));
  if (ok) slot_clear(victim);
  ok = ok && cu_check(be, op, "cudaMalloc (segment table)", cudaMalloc(&dev, bytes));
  ok = ok && cu_check(be, op, "cudaMemcpyAsync (segment table)",
                      cudaMemcpyAsync(dev, host, bytes, cudaMemcpyHostToDevice, cb->stream));
  ok = ok && cu_check(be, op, "cudaStreamSynchronize", cudaStreamSynchronize(cb->stream));
  free(host);
  if (!ok) {
    if (dev) (void)cudaFree(dev);
    free(key_copy);
    return NULL;
  }
  victim->offs = key_copy;
  victim->nseg = nseg;
  victim->dev = dev;
  victim->tab.chunks = (const mb_cu_chunk *)dev;
  victim->tab.first = (const int *)((const char *)dev + nch * sizeof(mb_cu_chunk));
  victim->tab.nchunks = nch;
  victim->tab.nseg = nseg;
  victim->used = ++cb->seg_clock;
  return &victim->tab;
}

void cu_reduce(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y, size_t outer, size_t mid,
               size_t inner)
{
  if (!outer || !mid || !inner || !cu_begin(be, "reduce")) return;
  if ((unsigned)op >= MB_RED__COUNT) { cu_fail(be, MB_BAD_ARG, "reduce", "unknown op %d", (int)op); return; }
  size_t need = mb_cu_reduce_scratch(outer, mid, inner);
  void *scratch = need ? cu_scratch(be, "reduce", need) : NULL;
  if (need && !scratch) return;
  mb_cu_reduce(cu_of(be)->stream, op, cu_ptr(x), cu_ptr(y), outer, mid, inner, scratch);
  cu_launched(be, "reduce");
}

void cu_seg_reduce(mb_backend *be, mb_reduce_op op, mb_view x, mb_view y, const size_t *offs,
                   int nseg)
{
  if (nseg < 1 || !cu_begin(be, "seg_reduce")) return;
  if (op == MB_RED_ARGMAX || (unsigned)op >= MB_RED__COUNT) {
    cu_fail(be, MB_BAD_ARG, "seg_reduce", "op %d is not a segmented reduction", (int)op);
    return;
  }
  const mb_cu_segtab *t = cu_segtab(be, "seg_reduce", offs, nseg);
  if (!t) return;
  void *scratch = cu_scratch(be, "seg_reduce", mb_cu_seg_reduce_scratch(t));
  if (!scratch) return;
  mb_cu_seg_reduce(cu_of(be)->stream, op, cu_ptr(x), cu_ptr(y), t, scratch);
  cu_launched(be, "seg_reduce");
}

void cu_seg_bcast(mb_backend *be, mb_segbcast_op op, mb_view x, mb_view v, mb_view y,
                  const size_t *offs, int nseg)
{
  if (nseg < 1 || !cu_begin(be, "seg_bcast")) return;
  if ((unsigned)op >= MB_SEGBC__COUNT) { cu_fail(be, MB_BAD_ARG, "seg_bcast", "unknown op %d", (int)op); return; }
  const mb_cu_segtab *t = cu_segtab(be, "seg_bcast", offs, nseg);
  if (!t) return;
  mb_cu_seg_bcast(cu_of(be)->stream, op, cu_ptr(x), cu_ptr(v), cu_ptr(y), t);
  cu_launched(be, "seg_bcast");
}
