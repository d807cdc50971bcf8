// Max / average / adaptive pooling and nearest / bilinear upsampling over NCHW planes, forward
// and backward, with PyTorch's window and source-index formulas (ATen's Pool.h, UpSample.h).
//
// Work is split across threads by plane (N * C). Forward windows are computed once per call
// (column windows) or per output row, so the inner loops are plain loads and compares. Backward
// kernels own whole input planes: each zeroes its plane, then scatters (max, nearest) or spreads
// (avg, bilinear) the output gradient into it, so no two threads write one element.
#include <cmath>
#include <limits>
#include <vector>

#include "core/iter.h"
#include "core/parallel.h"
#include "cpu/pool.h"

namespace ember::cpu {
namespace {

// One output window along an axis: input positions [b, e) step `step`.
struct Win {
  int64_t b, e;
};

// Max / Avg windows: [o * s - p, ... + (k - 1) * d + 1) clipped to [0, in); the start is moved
// to the first in-range tap (a multiple of the dilation away from the unclipped start).
std::vector<Win> conv_windows(int64_t out, int64_t in, int64_t k, int64_t s, int64_t p,
                              int64_t d) {
  std::vector<Win> w(out);
  for (int64_t o = 0; o < out; ++o) {
    int64_t b = o * s - p;
    const int64_t e = std::min(b + (k - 1) * d + 1, in);
    while (b < 0) b += d;
    w[o] = {b, e};
  }
  return w;
}

// Adaptive windows: [floor(o * in / out), ceil((o + 1) * in / out)).
std::vector<Win> adaptive_windows(int64_t out, int64_t in) {
  std::vector<Win> w(out);
  for (int64_t o = 0; o < out; ++o) w[o] = {o * in / out, ((o + 1) * in + out - 1) / out};
  return w;
}

int64_t plane_grain(const PoolArgs& a) {
  return std::max<int64_t>(1, 32768 / (a.ih * a.iw + a.oh * a.ow + 1));
}

template <class F>
void for_planes(const PoolArgs& a, const F& f) {
  parallel_for(0, a.planes, plane_grain(a), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) f(p);
  });
}

// ---- max (windowed or adaptive) ----------------------------------------------------------

// NaN wins and propagates, as in PyTorch: a later NaN takes the index over an earlier one.
template <class A>
void max_plane(const A* x, A* y, int64_t* ind, const std::vector<Win>& rows,
               const std::vector<Win>& cols, int64_t dh, int64_t dw, int64_t iw) {
  const int64_t oh = rows.size(), ow = cols.size();
  for (int64_t i = 0; i < oh; ++i) {
    for (int64_t j = 0; j < ow; ++j) {
      A m = -std::numeric_limits<A>::infinity();
      int64_t mi = rows[i].b * iw + cols[j].b;
      for (int64_t r = rows[i].b; r < rows[i].e; r += dh) {
        const A* xr = x + r * iw;
        for (int64_t c = cols[j].b; c < cols[j].e; c += dw) {
          const A v = xr[c];
          if (v > m || std::isnan(v)) {
            m = v;
            mi = r * iw + c;
          }
        }
      }
      y[i * ow + j] = m;
      ind[i * ow + j] = mi;
    }
  }
}

// The 2x2 stride-2 unpadded case (most CNNs): two input rows per output row, no window tables.
template <class A>
void max_plane_2x2(const A* x, A* y, int64_t* ind, int64_t oh, int64_t ow, int64_t iw) {
  for (int64_t i = 0; i < oh; ++i) {
    const A* x0 = x + 2 * i * iw;
    const A* x1 = x0 + iw;
    for (int64_t j = 0; j < ow; ++j) {
      const int64_t c = 2 * j;
      A m = x0[c];
      int64_t mi = 2 * i * iw + c;
      const A v[3] = {x0[c + 1], x1[c], x1[c + 1]};
      const int64_t at[3] = {mi + 1, mi + iw, mi + iw + 1};
      for (int t = 0; t < 3; ++t) {
        if (v[t] > m || std::isnan(v[t])) {
          m = v[t];
          mi = at[t];
        }
      }
      y[i * ow + j] = m;
      ind[i * ow + j] = mi;
    }
  }
}

template <class A>
void max_forward(const PoolArgs& a) {
  const bool adaptive = a.mode == PoolMode::AdaptiveMax;
  const A* x = static_cast<const A*>(a.x);
  A* y = static_cast<A*>(a.y);
  const int64_t in = a.ih * a.iw, out = a.oh * a.ow;
  const bool fast = !adaptive && a.kh == 2 && a.kw == 2 && a.sh == 2 && a.sw == 2 &&
                    a.ph == 0 && a.pw == 0 && a.dh == 1 && a.dw == 1 && 2 * a.oh <= a.ih &&
                    2 * a.ow <= a.iw;
  const auto rows = adaptive ? adaptive_windows(a.oh, a.ih)
                             : conv_windows(a.oh, a.ih, a.kh, a.sh, a.ph, a.dh);
  const auto cols = adaptive ? adaptive_windows(a.ow, a.iw)
                             : conv_windows(a.ow, a.iw, a.kw, a.sw, a.pw, a.dw);
  const int64_t dh = adaptive ? 1 : a.dh, dw = adaptive ? 1 : a.dw;
  for_planes(a, [&](int64_t p) {
    if (fast) return max_plane_2x2(x + p * in, y + p * out, a.ind + p * out, a.oh, a.ow, a.iw);
    max_plane(x + p * in, y + p * out, a.ind + p * out, rows, cols, dh, dw, a.iw);
  });
}

template <class A>
void max_backward(const PoolArgs& a) {
  const A* gy = static_cast<const A*>(a.gy);
  A* gx = static_cast<A*>(a.gx);
  const int64_t in = a.ih * a.iw, out = a.oh * a.ow;
  for_planes(a, [&](int64_t p) {
    A* g = gx + p * in;
    const A* go = gy + p * out;
    const int64_t* id = a.ind_in + p * out;
    for (int64_t i = 0; i < in; ++i) g[i] = A(0);
    for (int64_t o = 0; o < out; ++o) g[id[o]] += go[o];
  });
}

// ---- average (windowed or adaptive) --------------------------------------------------------

// One averaging window: rows [r0, r1) x cols [c0, c1) of the input, and 1 / its divisor.
struct AvgWin {
  int64_t r0, r1, c0, c1;
  double inv;
};

// PyTorch's avg_pool2d: the divisor counts padding taps inside [-p, in + p) when
// count_include_pad; a window entirely in the padding averages to 0.
AvgWin avg_window(const PoolArgs& a, int64_t i, int64_t j) {
  if (a.mode == PoolMode::AdaptiveAvg) {
    const int64_t r0 = i * a.ih / a.oh, r1 = ((i + 1) * a.ih + a.oh - 1) / a.oh;
    const int64_t c0 = j * a.iw / a.ow, c1 = ((j + 1) * a.iw + a.ow - 1) / a.ow;
    return {r0, r1, c0, c1, 1.0 / double((r1 - r0) * (c1 - c0))};
  }
  int64_t r0 = i * a.sh - a.ph, c0 = j * a.sw - a.pw;
  int64_t r1 = std::min(r0 + a.kh, a.ih + a.ph), c1 = std::min(c0 + a.kw, a.iw + a.pw);
  const int64_t padded = (r1 - r0) * (c1 - c0);
  r0 = std::max<int64_t>(r0, 0);
  c0 = std::max<int64_t>(c0, 0);
  r1 = std::min(r1, a.ih);
  c1 = std::min(c1, a.iw);
  if (r0 >= r1 || c0 >= c1) return {0, 0, 0, 0, 0.0};
  const int64_t div = a.divisor      ? a.divisor
                      : a.count_include_pad ? padded
                                            : (r1 - r0) * (c1 - c0);
  return {r0, r1, c0, c1, 1.0 / double(div)};
}

std::vector<AvgWin> avg_windows(const PoolArgs& a) {
  std::vector<AvgWin> w(a.oh * a.ow);
  for (int64_t i = 0; i < a.oh; ++i)
    for (int64_t j = 0; j < a.ow; ++j) w[i * a.ow + j] = avg_window(a, i, j);
  return w;
}

template <class A>
void avg_forward(const PoolArgs& a) {
  const A* x = static_cast<const A*>(a.x);
  A* y = static_cast<A*>(a.y);
  const int64_t in = a.ih * a.iw, out = a.oh * a.ow;
  const auto wins = avg_windows(a);
  for_planes(a, [&](int64_t p) {
    const A* xp = x + p * in;
    for (int64_t o = 0; o < out; ++o) {
      const AvgWin& w = wins[o];
      A s = A(0);
      for (int64_t r = w.r0; r < w.r1; ++r)
        for (int64_t c = w.c0; c < w.c1; ++c) s += xp[r * a.iw + c];
      y[p * out + o] = s * A(w.inv);
    }
  });
}

template <class A>
void avg_backward(const PoolArgs& a) {
  const A* gy = static_cast<const A*>(a.gy);
  A* gx = static_cast<A*>(a.gx);
  const int64_t in = a.ih * a.iw, out = a.oh * a.ow;
  const auto wins = avg_windows(a);
  for_planes(a, [&](int64_t p) {
    A* g = gx + p * in;
    for (int64_t i = 0; i < in; ++i) g[i] = A(0);
    for (int64_t o = 0; o < out; ++o) {
      const AvgWin& w = wins[o];
      const A v = gy[p * out + o] * A(w.inv);
      for (int64_t r = w.r0; r < w.r1; ++r)
        for (int64_t c = w.c0; c < w.c1; ++c) g[r * a.iw + c] += v;
    }
  });
}

// ---- nearest ------------------------------------------------------------------------------

// ATen's nearest_idx: floor(o * scale) in float, scale = 1 / scale_factor or in / out.
// A source position; a type of this file's own, so that std::vector's code for it is local to
// this per-capability object (std::vector<int64_t> would be shared with baseline callers).
struct Src {
  int64_t i;
  operator int64_t() const { return i; }
};

std::vector<Src> nearest_index(int64_t out, int64_t in, double scale) {
  std::vector<Src> s(out);
  const float f = scale > 0 ? float(1.0 / scale) : float(in) / float(out);
  for (int64_t o = 0; o < out; ++o) {
    s[o].i = out == in ? o
             : out == 2 * in ? o >> 1
                             : std::min(static_cast<int64_t>(std::floor(o * f)), in - 1);
  }
  return s;
}

template <class A>
void nearest_forward(const PoolArgs& a) {
  const A* x = static_cast<const A*>(a.x);
  A* y = static_cast<A*>(a.y);
  const auto rs = nearest_index(a.oh, a.ih, a.scale_h), cs = nearest_index(a.ow, a.iw, a.scale_w);
  const int64_t in = a.ih * a.iw, out = a.oh * a.ow;
  for_planes(a, [&](int64_t p) {
    for (int64_t i = 0; i < a.oh; ++i) {
      const A* xr = x + p * in + rs[i] * a.iw;
      A* yr = y + p * out + i * a.ow;
      for (int64_t j = 0; j < a.ow; ++j) yr[j] = xr[cs[j]];
    }
  });
}

template <class A>
void nearest_backward(const PoolArgs& a) {
  const A* gy = static_cast<const A*>(a.gy);
  A* gx = static_cast<A*>(a.gx);
  const auto rs = nearest_index(a.oh, a.ih, a.scale_h), cs = nearest_index(a.ow, a.iw, a.scale_w);
  const int64_t in = a.ih * a.iw, out = a.oh * a.ow;
  for_planes(a, [&](int64_t p) {
    A* g = gx + p * in;
    for (int64_t i = 0; i < in; ++i) g[i] = A(0);
    for (int64_t i = 0; i < a.oh; ++i) {
      A* gr = g + rs[i] * a.iw;
      const A* go = gy + p * out + i * a.ow;
      for (int64_t j = 0; j < a.ow; ++j) gr[cs[j]] += go[j];
    }
  });
}

// ---- bilinear -----------------------------------------------------------------------------

template <class A>
struct Lerp {
  int64_t i0, i1;
  A w0, w1;
};

// ATen's area_pixel_compute_scale / _source_index in the compute type; the right neighbour
// is clamped to the last input position.
template <class A>
std::vector<Lerp<A>> lerp_table(int64_t out, int64_t in, bool align, double scale) {
  const A s = align ? (out > 1 ? A(in - 1) / A(out - 1) : A(0))
                    : (scale > 0 ? A(1.0 / scale) : A(in) / A(out));
  std::vector<Lerp<A>> t(out);
  for (int64_t o = 0; o < out; ++o) {
    A src = align ? s * A(o) : s * (A(o) + A(0.5)) - A(0.5);
    if (src < A(0)) src = A(0);
    const int64_t i0 = std::min(static_cast<int64_t>(src), in - 1);
    const A l1 = std::min(std::max(src - A(i0), A(0)), A(1));
    t[o] = {i0, i0 + (i0 < in - 1 ? 1 : 0), A(1) - l1, l1};
  }
  return t;
}

template <class A>
void bilinear_forward(const PoolArgs& a) {
  const A* x = static_cast<const A*>(a.x);
  A* y = static_cast<A*>(a.y);
  const auto rt = lerp_table<A>(a.oh, a.ih, a.align_corners, a.scale_h);
  const auto ct = lerp_table<A>(a.ow, a.iw, a.align_corners, a.scale_w);
  const int64_t in = a.ih * a.iw, out = a.oh * a.ow;
  for_planes(a, [&](int64_t p) {
    for (int64_t i = 0; i < a.oh; ++i) {
      const Lerp<A>& r = rt[i];
      const A* x0 = x + p * in + r.i0 * a.iw;
      const A* x1 = x + p * in + r.i1 * a.iw;
      A* yr = y + p * out + i * a.ow;
      for (int64_t j = 0; j < a.ow; ++j) {
        const Lerp<A>& c = ct[j];
        yr[j] = r.w0 * (c.w0 * x0[c.i0] + c.w1 * x0[c.i1]) +
                r.w1 * (c.w0 * x1[c.i0] + c.w1 * x1[c.i1]);
      }
    }
  });
}

template <class A>
void bilinear_backward(const PoolArgs& a) {
  const A* gy = static_cast<const A*>(a.gy);
  A* gx = static_cast<A*>(a.gx);
  const auto rt = lerp_table<A>(a.oh, a.ih, a.align_corners, a.scale_h);
  const auto ct = lerp_table<A>(a.ow, a.iw, a.align_corners, a.scale_w);
  const int64_t in = a.ih * a.iw, out = a.oh * a.ow;
  for_planes(a, [&](int64_t p) {
    A* g = gx + p * in;
    for (int64_t i = 0; i < in; ++i) g[i] = A(0);
    for (int64_t i = 0; i < a.oh; ++i) {
      const Lerp<A>& r = rt[i];
      A* g0 = g + r.i0 * a.iw;
      A* g1 = g + r.i1 * a.iw;
      const A* go = gy + p * out + i * a.ow;
      for (int64_t j = 0; j < a.ow; ++j) {
        const Lerp<A>& c = ct[j];
        const A v0 = r.w0 * go[j], v1 = r.w1 * go[j];
        g0[c.i0] += c.w0 * v0;
        g0[c.i1] += c.w1 * v0;
        g1[c.i0] += c.w0 * v1;
        g1[c.i1] += c.w1 * v1;
      }
    }
  });
}

// ---- dispatch -----------------------------------------------------------------------------

template <class A>
void forward_typed(const PoolArgs& a) {
  switch (a.mode) {
    case PoolMode::Max:
    case PoolMode::AdaptiveMax: return max_forward<A>(a);
    case PoolMode::Avg:
    case PoolMode::AdaptiveAvg: return avg_forward<A>(a);
    case PoolMode::Nearest: return nearest_forward<A>(a);
    case PoolMode::Bilinear: return bilinear_forward<A>(a);
  }
}

template <class A>
void backward_typed(const PoolArgs& a) {
  switch (a.mode) {
    case PoolMode::Max:
    case PoolMode::AdaptiveMax: return max_backward<A>(a);
    case PoolMode::Avg:
    case PoolMode::AdaptiveAvg: return avg_backward<A>(a);
    case PoolMode::Nearest: return nearest_backward<A>(a);
    case PoolMode::Bilinear: return bilinear_backward<A>(a);
  }
}

void pool_forward(const PoolArgs& a) {
  if (a.dtype == DType::Float32) return forward_typed<float>(a);
  if (a.dtype == DType::Float64) return forward_typed<double>(a);
  kernel_dtype_error("pool2d", a.dtype);
}

void pool_backward(const PoolArgs& a) {
  if (a.dtype == DType::Float32) return backward_typed<float>(a);
  if (a.dtype == DType::Float64) return backward_typed<double>(a);
  kernel_dtype_error("pool2d_backward", a.dtype);
}

}  // namespace

EMBER_REGISTER_CPU(pool2d_kernel, pool_forward);
EMBER_REGISTER_CPU(pool2d_backward_kernel, pool_backward);

}  // namespace ember::cpu
