/* Philox4x32-10, bit-identical to kernels/common/philox.h (umulExtended gives the
 * 32x32->64 product as hi/lo words).  Stream mapping: see philox.h. */
#ifndef MB_PHILOX_GLSL
#define MB_PHILOX_GLSL

const uint MB_PHILOX_M0 = 0xD2511F53u;
const uint MB_PHILOX_M1 = 0xCD9E8D57u;
const uint MB_PHILOX_W0 = 0x9E3779B9u;
const uint MB_PHILOX_W1 = 0xBB67AE85u;

/* counter c = {block lo, block hi, stream lo, stream hi}, key k = {seed lo, seed hi} */
uvec4 mb_philox4x32(uvec4 c, uvec2 k)
{
  for (int r = 0; r < 10; r++) {
    uint hi0, lo0, hi1, lo1;
    umulExtended(MB_PHILOX_M0, c.x, hi0, lo0);
    umulExtended(MB_PHILOX_M1, c.z, hi1, lo1);
    c = uvec4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k += uvec2(MB_PHILOX_W0, MB_PHILOX_W1);
  }
  return c;
}

/* u = (w >> 8) * 2^-24 in [0,1): exact in f32 */
float mb_u32_to_unit(uint w) { return float(w >> 8) * (1.0 / 16777216.0); }

#endif
