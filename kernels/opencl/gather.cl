/* gather_rows: dst row r = src row idx[r]; an index outside [0, n_src) gives a
 * zero row.  The 4-byte variant moves raw bits (f32 or i32 alike); the u8
 * variant widens dataset bytes to float and scales them. */

#pragma OPENCL FP_CONTRACT OFF

#define GRID_LOOP(i, n) for (ulong i = get_global_id(0); i < (n); i += get_global_size(0))

__kernel void gather_rows(__global const uint *src, ulong so, __global const int *idx, ulong io,
                          __global uint *dst, ulong dso, ulong nrows, ulong row_len, long nsrc)
{
  src += so; idx += io; dst += dso;
  GRID_LOOP(e, nrows * row_len) {
    long s = idx[e / row_len];
    dst[e] = s >= 0 && s < nsrc ? src[(ulong)s * row_len + e % row_len] : 0u;
  }
}

/* src_byte = 4 * src.off: the rows start at that byte. */
__kernel void gather_rows_u8(__global const uchar *src, ulong src_byte, __global const int *idx,
                             ulong io, __global float *dst, ulong dso, ulong nrows, ulong row_len,
                             long nsrc, float scale)
{
  src += src_byte; idx += io; dst += dso;
  GRID_LOOP(e, nrows * row_len) {
    long s = idx[e / row_len];
    dst[e] = s >= 0 && s < nsrc ? (float)src[(ulong)s * row_len + e % row_len] * scale : 0.0f;
  }
}
