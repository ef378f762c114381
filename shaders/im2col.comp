#version 450
/* NCHW im2col / col2im, and the permute that regroups columns.  cols is
 * [n][c·kh·kw][oh·ow]: row (ci·kh + ki)·kw + kj, column oy·ow + ox holds
 * x[b][ci][oy·s − pad + ki][ox·s − pad + kj] (0 outside).
 * IM2COL: one invocation per cols element.  COL2IM: one invocation per dx element,
 * gathering its window positions in (ki, kj) order and adding them to dx: no atomics,
 * the same order on every run. */
layout(local_size_x_id = 0) in;

#if defined(IM2COL) || defined(COL2IM)
layout(push_constant) uniform P {
  uint total;                 /* elements of cols (IM2COL) or of x (COL2IM) */
  int n, c, h, w, kh, kw, stride, pad, oh, ow;
  uint x_off, cols_off;
} p;
#endif

#if defined(IM2COL)
layout(std430, binding = 0) readonly buffer Xb { float x[]; };
layout(std430, binding = 1) writeonly buffer Cb { float cols[]; };

void main()
{
  uint i = gl_GlobalInvocationID.x;
  if (i >= p.total) return;
  uint opl = uint(p.oh * p.ow), kk = uint(p.kh * p.kw);
  uint col = i % opl, row = (i / opl) % (uint(p.c) * kk), b = i / (opl * uint(p.c) * kk);
  int ci = int(row / kk), ki = int(row % kk) / p.kw, kj = int(row % kk) % p.kw;
  int oy = int(col) / p.ow, ox = int(col) % p.ow;
  int iy = oy * p.stride - p.pad + ki, ix = ox * p.stride - p.pad + kj;
  float v = 0.0;
  if (iy >= 0 && iy < p.h && ix >= 0 && ix < p.w)
    v = x[p.x_off + ((b * uint(p.c) + uint(ci)) * uint(p.h) + uint(iy)) * uint(p.w) + uint(ix)];
  cols[p.cols_off + i] = v;
}

#elif defined(COL2IM)
layout(std430, binding = 0) readonly buffer Cb { float cols[]; };
layout(std430, binding = 1) buffer Xb { float dx[]; };

void main()
{
  uint i = gl_GlobalInvocationID.x;
  if (i >= p.total) return;
  uint plane = uint(p.h * p.w), opl = uint(p.oh * p.ow);
  int ix = int(i % uint(p.w)), iy = int((i / uint(p.w)) % uint(p.h));
  uint bc = i / plane;   /* b·c + ci */
  uint base = p.cols_off + bc * uint(p.kh * p.kw) * opl;
  precise float acc = dx[p.x_off + i];
  for (int ki = 0; ki < p.kh; ki++) {
    int ty = iy + p.pad - ki;
    if (ty < 0 || ty % p.stride != 0 || ty / p.stride >= p.oh) continue;
    int oy = ty / p.stride;
    for (int kj = 0; kj < p.kw; kj++) {
      int tx = ix + p.pad - kj;
      if (tx < 0 || tx % p.stride != 0 || tx / p.stride >= p.ow) continue;
      int ox = tx / p.stride;
      acc += cols[base + uint(ki * p.kw + kj) * opl + uint(oy * p.ow + ox)];
    }
  }
  dx[p.x_off + i] = acc;
}
#elif defined(PERMUTE)
/* y[m][o][i] = x[o][m][i] over (outer, mid, inner), one invocation per y element
 * (consecutive invocations write consecutive elements); raw bits, any payload survives. */
layout(std430, binding = 0) readonly buffer Xb { uint x[]; };
layout(std430, binding = 1) writeonly buffer Yb { uint y[]; };
layout(push_constant) uniform P { uint total, outer, mid, inner, x_off, y_off; } p;

void main()
{
  uint e = gl_GlobalInvocationID.x;
  if (e >= p.total) return;
  uint r = e / p.inner, i = e - r * p.inner;   /* r = m·outer + o */
  uint m = r / p.outer, o = r - m * p.outer;
  y[p.y_off + e] = x[p.x_off + (o * p.mid + m) * p.inner + i];
}

#else
#error "im2col.comp: define IM2COL, COL2IM or PERMUTE"
#endif
