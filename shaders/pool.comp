#version 450
/* 2-D max / average pooling over NCHW planes.  Variants (-D):
 *   POOL_FWD  one invocation per output; MAX takes the first NaN of the window, else
 *             its first maximum (strict >), and records iy·w + ix
 *   POOL_BWD  one invocation per input element, gathering the windows that take it
 *             in (oy, ox) order: no atomics, the same bits on every run */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;

layout(push_constant) uniform P {
  uint a_off, b_off, idx_off;   /* FWD: x, y, idx.  BWD: dy, dx, idx */
  uint total;                   /* outputs (FWD) or input elements (BWD) */
  uint kind;                    /* 0 MAX, 1 AVG */
  uint flags;                   /* 1: idx is present (FWD), 2: count_pad */
  int n, c, h, w, kh, kw, stride, pad, oh, ow;
} p;

int avg_div(int y0, int x0)
{
  if ((p.flags & 2u) != 0) return p.kh * p.kw;
  int y1 = min(y0 + p.kh, p.h), x1 = min(x0 + p.kw, p.w);
  return (y1 - max(y0, 0)) * (x1 - max(x0, 0));
}

#if defined(POOL_FWD)
layout(std430, binding = 0) readonly buffer Xb { float x[]; };
layout(std430, binding = 1) writeonly buffer Yb { float y[]; };
layout(std430, binding = 2) writeonly buffer Ib { int idx[]; };

void main()
{
  uint o = gl_GlobalInvocationID.x;
  if (o >= p.total) return;
  int ox = int(o % uint(p.ow)), oy = int((o / uint(p.ow)) % uint(p.oh));
  uint base = p.a_off + (o / uint(p.ow * p.oh)) * uint(p.h * p.w);
  int y0 = oy * p.stride - p.pad, x0 = ox * p.stride - p.pad;
  int ya = max(y0, 0), yb = min(y0 + p.kh, p.h), xa = max(x0, 0), xb = min(x0 + p.kw, p.w);
  if (p.kind == 0u) {
    float best = x[base + uint(ya * p.w + xa)];
    int pick = ya * p.w + xa;
    for (int iy = ya; iy < yb && !isnan(best); iy++)
      for (int ix = xa; ix < xb; ix++) {
        float v = x[base + uint(iy * p.w + ix)];
        if (isnan(v) || v > best) {
          best = v;
          pick = iy * p.w + ix;
          if (isnan(v)) break;
        }
      }
    y[p.b_off + o] = best;
    if ((p.flags & 1u) != 0) idx[p.idx_off + o] = pick;
  } else {
    precise float s = 0.0;
    for (int iy = ya; iy < yb; iy++)
      for (int ix = xa; ix < xb; ix++) s += x[base + uint(iy * p.w + ix)];
    precise float r = s / float(avg_div(y0, x0));
    y[p.b_off + o] = r;
  }
}

#elif defined(POOL_BWD)
layout(std430, binding = 0) readonly buffer DYb { float dy[]; };
layout(std430, binding = 1) writeonly buffer DXb { float dx[]; };
layout(std430, binding = 2) readonly buffer Ib { int idx[]; };

void main()
{
  uint e = gl_GlobalInvocationID.x;
  if (e >= p.total) return;
  int ix = int(e % uint(p.w)), iy = int((e / uint(p.w)) % uint(p.h));
  uint opl = uint(p.oh * p.ow), pc = e / uint(p.w * p.h);
  int ty = iy + p.pad, tx = ix + p.pad, self = iy * p.w + ix;
  int oy0 = ty - p.kh + 1 > 0 ? (ty - p.kh + p.stride) / p.stride : 0;
  int ox0 = tx - p.kw + 1 > 0 ? (tx - p.kw + p.stride) / p.stride : 0;
  int oy1 = min(ty / p.stride, p.oh - 1), ox1 = min(tx / p.stride, p.ow - 1);
  precise float acc = 0.0;
  for (int oy = oy0; oy <= oy1; oy++)
    for (int ox = ox0; ox <= ox1; ox++) {
      uint o = pc * opl + uint(oy * p.ow + ox);
      if (p.kind == 0u) {
        if (idx[p.idx_off + o] == self) acc += dy[p.a_off + o];
      } else {
        precise float q = dy[p.a_off + o] / float(avg_div(oy * p.stride - p.pad, ox * p.stride - p.pad));
        acc += q;
      }
    }
  dx[p.b_off + e] = acc;
}
#else
#error "pool.comp: define POOL_FWD or POOL_BWD"
#endif
