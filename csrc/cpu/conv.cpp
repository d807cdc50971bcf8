// im2col / col2im for conv2d as a GEMM, a direct depthwise kernel and the bias gradient.
//
// Every kernel walks the output row by row and, for each kernel tap, computes once the range
// of output columns whose input column lands inside the image, so the inner loops carry no
// bounds test and (stride 1) are contiguous copies or axpys the compiler vectorises.
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "cpu/conv.h"

namespace ember::cpu {
namespace {

// Output columns [lo, hi) whose input column ox * sw + off lies in [0, w).
inline void valid_cols(int64_t off, int64_t sw, int64_t w, int64_t ow, int64_t& lo,
                       int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
  hi = w - off <= 0 ? 0 : (w - off + sw - 1) / sw;
  if (hi > ow) hi = ow;
  if (lo > hi) lo = hi;
}

template <class T>
void im2col_t(const ColArgs& a) {
  const ConvGeom& g = a.g;
  const T* img = static_cast<const T*>(a.img);
  T* row = static_cast<T*>(a.col);
  for (int64_t c = 0; c < g.c; ++c) {
    const T* plane = img + c * g.h * g.w;
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      for (int64_t kj = 0; kj < g.kw; ++kj, row += a.ld) {
        const int64_t off = kj * g.dw - g.pl;
        int64_t lo, hi;
        valid_cols(off, g.sw, g.w, g.ow, lo, hi);
        T* col = row;
        for (int64_t oy = 0; oy < g.oh; ++oy, col += g.ow) {
          const int64_t iy = oy * g.sh - g.pt + ki * g.dh;
          if (iy < 0 || iy >= g.h) {
            std::memset(col, 0, sizeof(T) * g.ow);
            continue;
          }
          const T* src = plane + iy * g.w + off;
          for (int64_t ox = 0; ox < lo; ++ox) col[ox] = T(0);
          if (g.sw == 1) {
            std::memcpy(col + lo, src + lo, sizeof(T) * (hi - lo));
          } else {
            for (int64_t ox = lo; ox < hi; ++ox) col[ox] = src[ox * g.sw];
          }
          for (int64_t ox = hi; ox < g.ow; ++ox) col[ox] = T(0);
        }
      }
    }
  }
}

template <class T>
void col2im_t(const ColArgs& a) {
  const ConvGeom& g = a.g;
  T* img = static_cast<T*>(a.img);
  const T* row = static_cast<const T*>(a.col);
  for (int64_t c = 0; c < g.c; ++c) {
    T* plane = img + c * g.h * g.w;
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      for (int64_t kj = 0; kj < g.kw; ++kj, row += a.ld) {
        const int64_t off = kj * g.dw - g.pl;
        int64_t lo, hi;
        valid_cols(off, g.sw, g.w, g.ow, lo, hi);
        const T* col = row;
        for (int64_t oy = 0; oy < g.oh; ++oy, col += g.ow) {
          const int64_t iy = oy * g.sh - g.pt + ki * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          T* dst = plane + iy * g.w + off;
          if (g.sw == 1) {
            for (int64_t ox = lo; ox < hi; ++ox) dst[ox] += col[ox];
          } else {
            for (int64_t ox = lo; ox < hi; ++ox) dst[ox * g.sw] += col[ox];
          }
        }
      }
    }
  }
}

// axpy over one output row; restrict lets the compiler vectorise without overlap checks.
template <class T>
inline void row_axpy(T* __restrict dst, const T* __restrict src, T wv, int64_t lo, int64_t hi,
                     int64_t sw) {
  if (sw == 1) {
    for (int64_t ox = lo; ox < hi; ++ox) dst[ox] += wv * src[ox];
  } else {
    for (int64_t ox = lo; ox < hi; ++ox) dst[ox] += wv * src[ox * sw];
  }
}

// One output row at a time, every tap accumulated into it while it sits in L1.
template <class T>
void depthwise_plane(const DepthwiseArgs& a, int64_t n, int64_t o) {
  const ConvGeom& g = a.g;
  const int64_t oc = g.c * a.mult, c = o / a.mult;
  const T* x = static_cast<const T*>(a.x) + (n * g.c + c) * g.h * g.w;
  const T* w = static_cast<const T*>(a.w) + o * g.kh * g.kw;
  T* y = static_cast<T*>(a.y) + (n * oc + o) * g.oh * g.ow;
  const T b = a.bias ? static_cast<const T*>(a.bias)[o] : T(0);
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    T* dst = y + oy * g.ow;
    for (int64_t ox = 0; ox < g.ow; ++ox) dst[ox] = b;
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      const int64_t iy = oy * g.sh - g.pt + ki * g.dh;
      if (iy < 0 || iy >= g.h) continue;
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        const int64_t off = kj * g.dw - g.pl;
        int64_t lo, hi;
        valid_cols(off, g.sw, g.w, g.ow, lo, hi);
        row_axpy(dst, x + iy * g.w + off, w[ki * g.kw + kj], lo, hi, g.sw);
      }
    }
  }
}

template <class T>
void depthwise_t(const DepthwiseArgs& a) {
  const int64_t oc = a.g.c * a.mult;
  const int64_t work = a.g.oh * a.g.ow * a.g.kh * a.g.kw;
  const int64_t grain = work >= 32768 ? 1 : 32768 / (work + 1) + 1;
  parallel_for(0, a.n * oc, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) depthwise_plane<T>(a, i / oc, i % oc);
  });
}

// Calls f(oy, iy, lo, hi, off) for every output row of tap (ki, kj) whose input row is inside.
template <class F>
inline void tap_rows(const ConvGeom& g, int64_t ki, int64_t kj, const F& f) {
  const int64_t off = kj * g.dw - g.pl;
  int64_t lo, hi;
  valid_cols(off, g.sw, g.w, g.ow, lo, hi);
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    const int64_t iy = oy * g.sh - g.pt + ki * g.dh;
    if (iy >= 0 && iy < g.h) f(oy, iy, lo, hi, off);
  }
}

// gw sums products along whole rows: they go into one accumulator row per tap (ow lanes the
// compiler vectorises) and are reduced once at the end, not through a serial scalar sum.
template <class T>
void depthwise_backward_channel(const DepthwiseBackwardArgs& a, int64_t c) {
  const ConvGeom& g = a.g;
  const int64_t oc = g.c * a.mult, in_plane = g.h * g.w, plane = g.oh * g.ow, taps = g.kh * g.kw;
  const T* gy = static_cast<const T*>(a.gy);
  const T* x = static_cast<const T*>(a.x);
  const T* w = static_cast<const T*>(a.w);
  T* gx = static_cast<T*>(a.gx);
  T* gw = static_cast<T*>(a.gw);
  std::vector<T> rows(a.gw ? a.mult * taps * g.ow : 0, T(0));
  for (int64_t n = 0; n < a.n; ++n) {
    const T* xi = x + (n * g.c + c) * in_plane;
    T* gxi = gx ? gx + (n * g.c + c) * in_plane : nullptr;
    if (gxi)
      for (int64_t i = 0; i < in_plane; ++i) gxi[i] = T(0);
    for (int64_t j = 0; j < a.mult; ++j) {
      const int64_t o = c * a.mult + j;
      const T* gyo = gy + (n * oc + o) * plane;
      for (int64_t ki = 0; ki < g.kh; ++ki) {
        for (int64_t kj = 0; kj < g.kw; ++kj) {
          const T wv = w[o * taps + ki * g.kw + kj];
          T* acc = gw ? rows.data() + (j * taps + ki * g.kw + kj) * g.ow : nullptr;
          tap_rows(g, ki, kj, [&](int64_t oy, int64_t iy, int64_t lo, int64_t hi, int64_t off) {
            const T* gr = gyo + oy * g.ow;
            const T* xr = xi + iy * g.w + off;
            if (gxi) {
              T* gxr = gxi + iy * g.w + off;
              if (g.sw == 1) {
                for (int64_t ox = lo; ox < hi; ++ox) gxr[ox] += wv * gr[ox];
              } else {
                for (int64_t ox = lo; ox < hi; ++ox) gxr[ox * g.sw] += wv * gr[ox];
              }
            }
            if (!acc) return;
            if (g.sw == 1) {
              for (int64_t ox = lo; ox < hi; ++ox) acc[ox] += gr[ox] * xr[ox];
            } else {
              for (int64_t ox = lo; ox < hi; ++ox) acc[ox] += gr[ox] * xr[ox * g.sw];
            }
          });
        }
      }
    }
  }
  for (int64_t t = 0; gw && t < a.mult * taps; ++t) {
    T s = T(0);
    for (int64_t ox = 0; ox < g.ow; ++ox) s += rows[t * g.ow + ox];
    gw[c * a.mult * taps + t] = s;
  }
}

template <class T>
void depthwise_backward_t(const DepthwiseBackwardArgs& a) {
  parallel_for(0, a.g.c, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) depthwise_backward_channel<T>(a, c);
  });
}

template <class T>
void channel_sum_t(const ChannelSumArgs& a) {
  const T* g = static_cast<const T*>(a.g);
  T* out = static_cast<T*>(a.out);
  const int64_t grain = a.n * a.plane >= 32768 ? 1 : 32768 / (a.n * a.plane + 1) + 1;
  parallel_for(0, a.o, grain, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      T s = T(0);
      for (int64_t n = 0; n < a.n; ++n) {
        const T* p = g + (n * a.o + o) * a.plane;
        T part = T(0);
        for (int64_t i = 0; i < a.plane; ++i) part += p[i];
        s += part;
      }
      out[o] = s;
    }
  });
}

void im2col(const ColArgs& a) {
  a.dtype == DType::Float64 ? im2col_t<double>(a) : im2col_t<float>(a);
}
void col2im(const ColArgs& a) {
  a.dtype == DType::Float64 ? col2im_t<double>(a) : col2im_t<float>(a);
}
void depthwise(const DepthwiseArgs& a) {
  a.dtype == DType::Float64 ? depthwise_t<double>(a) : depthwise_t<float>(a);
}
void depthwise_backward(const DepthwiseBackwardArgs& a) {
  a.dtype == DType::Float64 ? depthwise_backward_t<double>(a) : depthwise_backward_t<float>(a);
}
void channel_sum(const ChannelSumArgs& a) {
  a.dtype == DType::Float64 ? channel_sum_t<double>(a) : channel_sum_t<float>(a);
}

}  // namespace

EMBER_REGISTER_CPU(im2col_kernel, im2col);
EMBER_REGISTER_CPU(col2im_kernel, col2im);
EMBER_REGISTER_CPU(conv_depthwise_kernel, depthwise);
EMBER_REGISTER_CPU(conv_depthwise_backward_kernel, depthwise_backward);
EMBER_REGISTER_CPU(channel_sum_kernel, channel_sum);

}  // namespace ember::cpu
