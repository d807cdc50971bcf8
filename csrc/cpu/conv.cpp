// im2col / col2im for conv2d as a GEMM, direct depthwise kernels and the bias gradient.
//
// Stride-1 im2col and col2im walk the output row by row and, for each kernel tap, compute once
// the range of output columns whose input column lands inside the image, so the inner loops
// carry no bounds test and are contiguous copies or adds the compiler vectorises.
#include <algorithm>
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

// The depthwise kernels and the strided im2col work on a zero-padded copy of one plane in a
// per-thread buffer. Depthwise: every output row is a branch-free run of 64-byte vectors (16
// floats: one AVX-512 register; GCC splits the type into two or four on the other builds).
// Padded row r, column c sits at r * rstride + (c % s) * wph + c / s: a stride-s convolution
// reads each of the s column phases contiguously, so one stride-1 vector loop serves every
// stride. Rows are at least round_up(ow, lanes) + taps' reach wide, so vectors past the last
// output column stay inside the buffer (their results are dropped).
template <class T>
struct VecOf;
template <>
struct VecOf<float> {
  typedef float type __attribute__((vector_size(64)));
};
template <>
struct VecOf<double> {
  typedef double type __attribute__((vector_size(64)));
};
template <class T>
using Vec = typename VecOf<T>::type;
template <class T>
constexpr int64_t kLanes = 64 / sizeof(T);

// The vector type only crosses these inline helpers (internal linkage), so the ABI note GCC
// gives for 64-byte vectors on the non-AVX-512 builds does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
template <class T>
inline Vec<T> loadu(const T* p) {
  Vec<T> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class T>
inline void storeu(T* p, Vec<T> v) {
  std::memcpy(p, &v, sizeof v);
}

// All lanes x. x - 0 is exactly x (-0 included), so this folds to one broadcast; 0 + x does
// not (it turns -0 into +0), and costs an add and a register shuffle per call.
template <class T>
inline Vec<T> bcast(T x) {
  return x - Vec<T>{};
}

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// A (kh, kw) stencil producing an (oh, ow) plane from a padded buffer: off[t] is tap t's offset
// from output (oy, ox)'s base oy * sh * rstride + ox.
struct Stencil {
  int64_t oh, ow, sh, s, wph, rows, rstride, taps;
  std::vector<int64_t> off;
  // align_rows: every row and phase starts on a vector boundary (wph a multiple of lanes).
  Stencil(int64_t kh, int64_t kw, int64_t dh, int64_t dw, int64_t oh_, int64_t ow_,
          int64_t sh_, int64_t sw, int64_t lanes, bool align_rows = false)
      : oh(oh_), ow(ow_), sh(sh_), s(sw), taps(kh * kw), off(kh * kw) {
    wph = round_up(ow, lanes) + (kw - 1) * dw / sw;
    if (align_rows) wph = round_up(wph, lanes);
    rows = (oh - 1) * sh + (kh - 1) * dh + 1;
    rstride = sw * wph;
    for (int64_t ki = 0; ki < kh; ++ki)
      for (int64_t kj = 0; kj < kw; ++kj)
        off[ki * kw + kj] = ki * dh * rstride + (kj * dw) % sw * wph + kj * dw / sw;
  }
  int64_t size() const { return rows * rstride; }
};

// buf(r, c) = src[(r - top) / uh, (c - left) / uw] where both divide exactly and land inside
// the (h, w) plane, else 0. uh, uw > 1 insert zeros (the input gradient of a strided conv).
template <class T>
void fill_padded(T* buf, const Stencil& st, const T* src, int64_t h, int64_t w, int64_t top,
                 int64_t left, int64_t uh, int64_t uw) {
  for (int64_t r = 0; r < st.rows; ++r) {
    T* dst = buf + r * st.rstride;
    const int64_t sr = r - top;
    if (sr < 0 || sr % uh != 0 || sr / uh >= h) {
      std::memset(dst, 0, sizeof(T) * st.rstride);
      continue;
    }
    const T* srow = src + sr / uh * w;
    if (st.s > 1 && uw == 1) {
      for (int64_t ph = 0; ph < st.s; ++ph) {
        T* d = dst + ph * st.wph;
        int64_t lo, hi;  // phase columns j whose source column j * s + ph - left is inside
        valid_cols(ph - left, st.s, w, st.wph, lo, hi);
        const T* sp = srow + ph - left;
        std::fill(d, d + lo, T(0));
        for (int64_t j = lo; j < hi; ++j) d[j] = sp[j * st.s];
        std::fill(d + hi, d + st.wph, T(0));
      }
      continue;
    }
    if (st.s == 1 && uw == 1) {
      const int64_t lo = std::min(std::max<int64_t>(left, 0), st.wph);
      const int64_t hi = std::max(lo, std::min(left + w, st.wph));
      std::memset(dst, 0, sizeof(T) * lo);
      std::memcpy(dst + lo, srow + (lo - left), sizeof(T) * (hi - lo));
      std::memset(dst + hi, 0, sizeof(T) * (st.wph - hi));
      continue;
    }
    for (int64_t c = 0; c < st.rstride; ++c) {
      const int64_t sc = c - left;
      const bool in = sc >= 0 && sc % uw == 0 && sc / uw < w;
      dst[c % st.s * st.wph + c / st.s] = in ? srow[sc / uw] : T(0);
    }
  }
}

template <class T>
inline void add_row(T* __restrict dst, const T* __restrict src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

// Strided columns: each channel is first split into its column phases (zero-padded), so that
// every (tap, output row) of col is one contiguous copy instead of a gather with bounds tests.
template <class T>
void im2col_strided(const ColArgs& a) {
  const ConvGeom& g = a.g;
  const Stencil st(g.kh, g.kw, g.dh, g.dw, g.oh, g.ow, g.sh, g.sw, 1);
  thread_local std::vector<T> buf;
  if (static_cast<int64_t>(buf.size()) < st.size()) buf.resize(st.size());
  T* row = static_cast<T*>(a.col);
  for (int64_t c = 0; c < g.c; ++c) {
    fill_padded(buf.data(), st, static_cast<const T*>(a.img) + c * g.h * g.w, g.h, g.w, g.pt,
                g.pl, 1, 1);
    for (int64_t t = 0; t < st.taps; ++t, row += a.ld) {
      for (int64_t oy = 0; oy < g.oh; ++oy)
        std::memcpy(row + oy * g.ow, buf.data() + oy * g.sh * st.rstride + st.off[t],
                    sizeof(T) * g.ow);
    }
  }
}

template <class T>
void im2col_t(const ColArgs& a) {
  const ConvGeom& g = a.g;
  if (g.sw > 1) return im2col_strided<T>(a);
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
          std::memcpy(col + lo, src + lo, sizeof(T) * (hi - lo));
          for (int64_t ox = hi; ox < g.ow; ++ox) col[ox] = T(0);
        }
      }
    }
  }
}

// The adjoint of im2col_strided: the taps accumulate into a zeroed phase buffer with
// contiguous adds, and the buffer is added into the channel's plane once.
template <class T>
void col2im_strided(const ColArgs& a) {
  const ConvGeom& g = a.g;
  const Stencil st(g.kh, g.kw, g.dh, g.dw, g.oh, g.ow, g.sh, g.sw, 1);
  thread_local std::vector<T> buf;
  if (static_cast<int64_t>(buf.size()) < st.size()) buf.resize(st.size());
  const T* row = static_cast<const T*>(a.col);
  for (int64_t c = 0; c < g.c; ++c) {
    std::fill(buf.begin(), buf.begin() + st.size(), T(0));
    for (int64_t t = 0; t < st.taps; ++t, row += a.ld) {
      for (int64_t oy = 0; oy < g.oh; ++oy)
        add_row(buf.data() + oy * g.sh * st.rstride + st.off[t], row + oy * g.ow, g.ow);
    }
    T* plane = static_cast<T*>(a.img) + c * g.h * g.w;
    for (int64_t r = 0; r < st.rows; ++r) {
      const int64_t iy = r - g.pt;  // padded row r is image row iy
      if (iy < 0 || iy >= g.h) continue;
      for (int64_t ph = 0; ph < st.s; ++ph) {
        int64_t lo, hi;  // phase column j is image column j * s + ph - pl
        valid_cols(ph - g.pl, st.s, g.w, st.wph, lo, hi);
        T* dst = plane + iy * g.w + ph - g.pl;
        const T* src = buf.data() + r * st.rstride + ph * st.wph;
        for (int64_t j = lo; j < hi; ++j) dst[j * st.s] += src[j];
      }
    }
  }
}

template <class T>
void col2im_t(const ColArgs& a) {
  const ConvGeom& g = a.g;
  if (g.sw > 1) return col2im_strided<T>(a);
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
          add_row(plane + iy * g.w + off + lo, col + lo, hi - lo);
        }
      }
    }
  }
}

// dst[0, n) = (add ? dst : bias) + sum_t w[t] * base[off[t] + lane], NV vectors in registers.
template <class T, int NV>
inline void stencil_block(const T* base, const Stencil& st, const T* w, T bias, bool add,
                          T* dst, int64_t n) {
  constexpr int64_t L = kLanes<T>;
  Vec<T> acc[NV];
  for (int v = 0; v < NV; ++v) acc[v] = bcast(bias);
  if (add) {
    T tmp[NV * L] = {};
    std::memcpy(tmp, dst, sizeof(T) * n);
    for (int v = 0; v < NV; ++v) acc[v] = loadu(tmp + v * L);
  }
  for (int64_t t = 0; t < st.taps; ++t) {
    const Vec<T> wv = bcast(w[t]);
    const T* p = base + st.off[t];
    for (int v = 0; v < NV; ++v) acc[v] += wv * loadu(p + v * L);
  }
  const int full = static_cast<int>(n / L);
  for (int v = 0; v < full; ++v) storeu(dst + v * L, acc[v]);
  if (n > full * L) {
    T tmp[NV * L];
    for (int v = full; v < NV; ++v) storeu(tmp + v * L, acc[v]);
    std::memcpy(dst + full * L, tmp + full * L, sizeof(T) * (n - full * L));
  }
}

// out (oh, ow) = bias + stencil(buf, w), or += when `add`.
template <class T>
void stencil_plane(const T* buf, const Stencil& st, const T* w, T bias, bool add, T* out) {
  constexpr int64_t L = kLanes<T>, kBlock = 4 * L;
  for (int64_t oy = 0; oy < st.oh; ++oy) {
    const T* base = buf + oy * st.sh * st.rstride;
    T* dst = out + oy * st.ow;
    int64_t ox = 0;
    for (; ox + kBlock <= st.ow; ox += kBlock)
      stencil_block<T, 4>(base + ox, st, w, bias, add, dst + ox, kBlock);
    const int64_t n = st.ow - ox;
    if (n > 3 * L) stencil_block<T, 4>(base + ox, st, w, bias, add, dst + ox, n);
    else if (n > 2 * L) stencil_block<T, 3>(base + ox, st, w, bias, add, dst + ox, n);
    else if (n > L) stencil_block<T, 2>(base + ox, st, w, bias, add, dst + ox, n);
    else if (n > 0) stencil_block<T, 1>(base + ox, st, w, bias, add, dst + ox, n);
  }
}

// Forward, parallel over (n, c) input planes: each is padded once for its mult outputs.
template <class T>
void depthwise_t(const DepthwiseArgs& a) {
  const ConvGeom& g = a.g;
  const Stencil st(g.kh, g.kw, g.dh, g.dw, g.oh, g.ow, g.sh, g.sw, kLanes<T>);
  const int64_t work = a.mult * g.oh * g.ow * st.taps + g.h * g.w;
  const int64_t grain = work >= 32768 ? 1 : 32768 / (work + 1) + 1;
  parallel_for(0, a.n * g.c, grain, [&](int64_t b, int64_t e) {
    std::vector<T> buf(st.size());
    for (int64_t i = b; i < e; ++i) {
      fill_padded(buf.data(), st, static_cast<const T*>(a.x) + i * g.h * g.w, g.h, g.w, g.pt,
                  g.pl, 1, 1);
      for (int64_t j = 0; j < a.mult; ++j) {
        const int64_t o = i % g.c * a.mult + j;  // i / c * c * mult + o = plane of y
        const T bias = a.bias ? static_cast<const T*>(a.bias)[o] : T(0);
        stencil_plane(buf.data(), st, static_cast<const T*>(a.w) + o * st.taps, bias, false,
                      static_cast<T*>(a.y) + (i / g.c * g.c * a.mult + o) * g.oh * g.ow);
      }
    }
  });
}

// Dense convolution with few input channels (the 3-channel stem): an implicit GEMM straight
// from the padded input. Each block keeps MB output channels x NV vectors of output columns
// in registers; per (channel, tap) step it loads NV input vectors (contiguous thanks to the
// column phases) and broadcasts MB weights from wt, laid out (c, tap, m) per block of MB output
// channels (one contiguous run per block, `o` apart from tap to tap). Output rows are
// contiguous NCHW, so results are stored as they are, with no col matrix and no packing.
// MB x NV accumulators fill most of the 32 AVX-512 registers; the 64-byte vector is two
// registers of the 16 on AVX2 and four on SSE, hence the smaller block there.
#ifdef __AVX512F__
constexpr int kDirectMB = 8, kDirectNV = 3;
#else
constexpr int kDirectMB = 4, kDirectNV = 1;
#endif

template <class T, int MB, int NV>
inline void direct_block(const T* xb, int64_t cstride, int64_t c, const Stencil& st,
                         const T* wt, int64_t o, const T* bias, T* y, int64_t plane,
                         int64_t n) {
  constexpr int64_t L = kLanes<T>;
  Vec<T> acc[MB][NV];
  for (int m = 0; m < MB; ++m)
    for (int v = 0; v < NV; ++v) acc[m][v] = bcast(bias ? bias[m] : T(0));
  for (int64_t ci = 0; ci < c; ++ci) {
    for (int64_t t = 0; t < st.taps; ++t) {
      const T* p = xb + ci * cstride + st.off[t];
      const T* wk = wt + (ci * st.taps + t) * o;
      Vec<T> xv[NV];
      for (int v = 0; v < NV; ++v) xv[v] = loadu(p + v * L);
      for (int m = 0; m < MB; ++m) {
        const Vec<T> wv = bcast(wk[m]);
        for (int v = 0; v < NV; ++v) acc[m][v] += wv * xv[v];
      }
    }
  }
  for (int m = 0; m < MB; ++m) {
    T* dst = y + m * plane;
    if (n == NV * L) {
      for (int v = 0; v < NV; ++v) storeu(dst + v * L, acc[m][v]);
      continue;
    }
    T tmp[NV * L];
    for (int v = 0; v < NV; ++v) storeu(tmp + v * L, acc[m][v]);
    std::memcpy(dst, tmp, sizeof(T) * n);
  }
}

// MB output channels of one output row, in blocks of kDirectNV vectors; a remainder of one
// vector is avoided where possible (its loads do not amortise the MB broadcasts) by ending
// with one or two blocks of 2 (for kDirectNV = 3). The last vector may be partial.
template <class T, int MB>
void direct_row(const T* xb, int64_t cstride, int64_t c, const Stencil& st, const T* wt,
                int64_t o, const T* bias, T* y, int64_t plane) {
  constexpr int64_t L = kLanes<T>, NV = kDirectNV;
  const int64_t nvec = (st.ow + L - 1) / L;
  const int64_t small = NV != 3 ? 0 : nvec % 3 == 2 ? 1 : nvec % 3 == 1 && nvec > 3 ? 2 : 0;
  const int64_t big = (nvec - small * (NV - 1)) / NV;
  int64_t ox = 0;
  for (int64_t i = 0; i < big; ++i, ox += NV * L)
    direct_block<T, MB, NV>(xb + ox, cstride, c, st, wt, o, bias, y + ox, plane,
                            std::min(NV * L, st.ow - ox));
  for (int64_t i = 0; i < small; ++i, ox += (NV - 1) * L)
    direct_block<T, MB, (NV > 1 ? NV - 1 : 1)>(xb + ox, cstride, c, st, wt, o, bias, y + ox,
                                               plane, std::min((NV - 1) * L, st.ow - ox));
  for (; ox < st.ow; ox += L)
    direct_block<T, MB, 1>(xb + ox, cstride, c, st, wt, o, bias, y + ox, plane,
                           std::min(L, st.ow - ox));
}

template <class T>
void direct_t(const DirectArgs& a) {
  const ConvGeom& g = a.g;
  constexpr int64_t kMB = kDirectMB;
  // Bands of about 512 outputs: enough work per task, a padded input band that stays in L1/L2.
  const int64_t rows = std::min(g.oh, std::max<int64_t>(1, 512 / g.ow));
  const int64_t bands = (g.oh + rows - 1) / rows, plane = g.oh * g.ow;
  const Stencil st(g.kh, g.kw, g.dh, g.dw, rows, g.ow, g.sh, g.sw, kLanes<T>, true);
  const T* w = static_cast<const T*>(a.w);
  const T* bias = static_cast<const T*>(a.bias);
  const int64_t depth = g.c * st.taps, full = a.o / kMB * kMB;
  std::vector<T> wt(a.o * depth);  // per block of kMB output channels (then of 1): (k, m)
  for (int64_t oc = 0; oc < a.o; ++oc) {
    const int64_t o0 = oc < full ? oc / kMB * kMB : oc, mb = oc < full ? kMB : 1;
    for (int64_t k = 0; k < depth; ++k) wt[o0 * depth + k * mb + oc - o0] = w[oc * depth + k];
  }
  parallel_for(0, a.n * bands, 1, [&](int64_t b, int64_t e) {
    // 64-byte aligned, so that with aligned rows the tap at column offset 0 loads whole
    // cache lines and the process's heap layout does not change which loads split.
    constexpr int64_t kAlignT = 64 / sizeof(T);
    std::vector<T> store(g.c * st.size() + kAlignT);
    T* const base = store.data() + (kAlignT - reinterpret_cast<uintptr_t>(store.data()) % 64 /
                                                  sizeof(T)) % kAlignT;
    for (int64_t i = b; i < e; ++i) {
      const int64_t n = i / bands, oy0 = i % bands * rows;
      for (int64_t ci = 0; ci < g.c; ++ci)  // rows past the image's last are zeros
        fill_padded(base + ci * st.size(), st,
                    static_cast<const T*>(a.x) + (n * g.c + ci) * g.h * g.w, g.h, g.w,
                    g.pt - oy0 * g.sh, g.pl, 1, 1);
      for (int64_t oy = 0; oy < std::min(rows, g.oh - oy0); ++oy) {
        const T* xb = base + oy * g.sh * st.rstride;
        T* y = static_cast<T*>(a.y) + n * a.o * plane + (oy0 + oy) * g.ow;
        int64_t oc = 0;
        for (; oc + kMB <= a.o; oc += kMB)
          direct_row<T, kMB>(xb, st.size(), g.c, st, wt.data() + oc * depth, kMB,
                             bias ? bias + oc : nullptr, y + oc * plane, plane);
        for (; oc < a.o; ++oc)
          direct_row<T, 1>(xb, st.size(), g.c, st, wt.data() + oc * depth, 1,
                           bias ? bias + oc : nullptr, y + oc * plane, plane);
      }
    }
  });
}

// gw[t] += sum over the plane of gy * x shifted by tap t: the padded x and a zero-tailed copy
// of each gy row, one vector accumulator per tap (acc holds taps * lanes).
template <class T>
void weight_grad_plane(const T* xbuf, const Stencil& st, const T* gy, T* grow, T* acc) {
  constexpr int64_t L = kLanes<T>;
  const int64_t nv = round_up(st.ow, L) / L;
  for (int64_t oy = 0; oy < st.oh; ++oy) {
    std::memcpy(grow, gy + oy * st.ow, sizeof(T) * st.ow);
    const T* base = xbuf + oy * st.sh * st.rstride;
    for (int64_t t = 0; t < st.taps; ++t) {
      const T* p = base + st.off[t];
      Vec<T> s = loadu(acc + t * L);
      for (int64_t v = 0; v < nv; ++v) s += loadu(grow + v * L) * loadu(p + v * L);
      storeu(acc + t * L, s);
    }
  }
}

// Backward, parallel over input channels (each owns its gx planes and the gw rows of its mult
// outputs). gx is the stride-1 correlation of gy, zero-inserted for a strided conv and padded
// by the kernel's reach minus the forward padding, with the flipped kernel.
template <class T>
void depthwise_backward_t(const DepthwiseBackwardArgs& a) {
  const ConvGeom& g = a.g;
  constexpr int64_t L = kLanes<T>;
  const Stencil sx(g.kh, g.kw, g.dh, g.dw, g.oh, g.ow, g.sh, g.sw, L);
  const Stencil sg(g.kh, g.kw, g.dh, g.dw, g.h, g.w, 1, 1, L);
  const int64_t taps = sx.taps, oc = g.c * a.mult, plane = g.oh * g.ow, in_plane = g.h * g.w;
  const T* gy = static_cast<const T*>(a.gy);
  const T* w = static_cast<const T*>(a.w);
  parallel_for(0, g.c, 1, [&](int64_t b, int64_t e) {
    // x and gy padded side by side: one image's planes are used for gw and then for gx while
    // gy's planes are still in cache.
    std::vector<T> xbuf(a.gw ? sx.size() : 0), gbuf(a.gx ? sg.size() : 0);
    std::vector<T> grow(round_up(g.ow, L), T(0)), acc(a.mult * taps * L), wf(a.mult * taps);
    for (int64_t c = b; c < e; ++c) {
      std::fill(acc.begin(), acc.end(), T(0));
      for (int64_t t = 0; t < a.mult * taps; ++t)  // the flipped kernels, for gx
        wf[t] = w[c * a.mult * taps + t / taps * taps + taps - 1 - t % taps];
      for (int64_t n = 0; n < a.n; ++n) {
        if (a.gw)
          fill_padded(xbuf.data(), sx, static_cast<const T*>(a.x) + (n * g.c + c) * in_plane,
                      g.h, g.w, g.pt, g.pl, 1, 1);
        for (int64_t j = 0; j < a.mult; ++j) {
          const T* gyo = gy + (n * oc + c * a.mult + j) * plane;
          if (a.gw) weight_grad_plane(xbuf.data(), sx, gyo, grow.data(), acc.data() + j * taps * L);
          if (!a.gx) continue;
          fill_padded(gbuf.data(), sg, gyo, g.oh, g.ow, (g.kh - 1) * g.dh - g.pt,
                      (g.kw - 1) * g.dw - g.pl, g.sh, g.sw);
          stencil_plane(gbuf.data(), sg, wf.data() + j * taps, T(0), j > 0,
                        static_cast<T*>(a.gx) + (n * g.c + c) * in_plane);
        }
      }
      for (int64_t t = 0; a.gw && t < a.mult * taps; ++t) {
        T s = T(0);
        for (int64_t l = 0; l < L; ++l) s += acc[t * L + l];
        static_cast<T*>(a.gw)[c * a.mult * taps + t] = s;
      }
    }
  });
}

template <class T>
void channel_sum_t(const ChannelSumArgs& a) {
  constexpr int64_t L = kLanes<T>;
  const T* g = static_cast<const T*>(a.g);
  T* out = static_cast<T*>(a.out);
  const int64_t grain = a.n * a.plane >= 32768 ? 1 : 32768 / (a.n * a.plane + 1) + 1;
  parallel_for(0, a.o, grain, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      Vec<T> acc = Vec<T>{};  // lane-wise partial sums: a serial scalar sum does not vectorise
      T s = T(0);
      for (int64_t n = 0; n < a.n; ++n) {
        const T* p = g + (n * a.o + o) * a.plane;
        int64_t i = 0;
        for (; i + L <= a.plane; i += L) acc += loadu(p + i);
        for (; i < a.plane; ++i) s += p[i];
      }
      for (int64_t l = 0; l < L; ++l) s += acc[l];
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
void direct(const DirectArgs& a) {
  a.dtype == DType::Float64 ? direct_t<double>(a) : direct_t<float>(a);
}
void channel_sum(const ChannelSumArgs& a) {
  a.dtype == DType::Float64 ? channel_sum_t<double>(a) : channel_sum_t<float>(a);
}

}  // namespace

EMBER_REGISTER_CPU(im2col_kernel, im2col);
EMBER_REGISTER_CPU(col2im_kernel, col2im);
EMBER_REGISTER_CPU(conv_depthwise_kernel, depthwise);
EMBER_REGISTER_CPU(conv_depthwise_backward_kernel, depthwise_backward);
EMBER_REGISTER_CPU(conv_direct_kernel, direct);
EMBER_REGISTER_CPU(channel_sum_kernel, channel_sum);

}  // namespace ember::cpu
