#version 450
/* Row gather, one invocation per destination element: dst row r = src row idx[r],
 * zeros for an index outside [0, n_src).  4-byte rows move as raw bits; with U8
 * the source holds bytes (row r at byte 4·src_off + idx[r]·row_len, little-endian
 * within each word) that are widened and scaled. */
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool U8 = false;

layout(std430, binding = 0) readonly buffer Sb { uint src[]; };
layout(std430, binding = 1) readonly buffer Ib { int idx[]; };
layout(std430, binding = 2) writeonly buffer Db { uint dst[]; };
layout(push_constant) uniform P { uint n, row_len, n_src, src_off, idx_off, dst_off; float scale; } p;

void main()
{
  uint i = gl_GlobalInvocationID.x;
  if (i >= p.n) return;
  uint r = i / p.row_len, c = i % p.row_len;
  int s = idx[p.idx_off + r];
  uint v = 0u;   /* +0.0f and integer 0 alike */
  if (s >= 0 && uint(s) < p.n_src) {
    if (U8) {
      uint byte_at = 4u * p.src_off + uint(s) * p.row_len + c;
      uint b = (src[byte_at >> 2] >> (8u * (byte_at & 3u))) & 0xffu;
      precise float f = float(b) * p.scale;
      v = floatBitsToUint(f);
    } else {
      v = src[p.src_off + uint(s) * p.row_len + c];
    }
  }
  dst[p.dst_off + i] = v;
}
