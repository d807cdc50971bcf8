// Packing: copies a block of A or B into the order the microkernel reads, converting the
// element type (float16/bfloat16 storage to float32) and padding partial panels with zeros so
// the microkernel always runs a full tile. Per-capability code, anonymous namespace.
//
// A block (mc x kc) -> ceil(mc / MR) panels, each kc steps of MR values (k-major).
// B block (kc x nc) -> ceil(nc / NR) panels, each kc steps of NR values.
// A source whose elements are contiguous along the panel's short side (A column-major, B
// row-major) is a straight copy per step; the other orientation is a transposition, done in
// MR/NR-wide strips so each source row is read sequentially.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "cpu/loops.h"

namespace ember::cpu {
namespace {

template <class T, class S>
inline T to_compute(S v) {
  if constexpr (std::is_same_v<T, S>) {
    return v;
  } else {
    return convert<T>(v);
  }
}

// Packs `rows` x kc of a matrix with strides (rs along the panel's short side, cs along k)
// into panels of W: the shared routine behind both pack_a (short side = rows of A) and pack_b
// (short side = columns of B).
template <int W, class T, class S>
void pack_panels(const S* src, int64_t rs, int64_t ks, int64_t rows, int64_t kc, T* dst) {
  for (int64_t r0 = 0; r0 < rows; r0 += W) {
    const int w = static_cast<int>(std::min<int64_t>(W, rows - r0));
    const S* s = src + r0 * rs;
    if (rs == 1) {
      for (int64_t p = 0; p < kc; ++p) {
        const S* sp = s + p * ks;
        T* d = dst + p * W;
        if constexpr (std::is_same_v<T, S>) {
          if (w == W) {
            std::memcpy(d, sp, sizeof(T) * W);
            continue;
          }
        }
        for (int i = 0; i < w; ++i) d[i] = to_compute<T>(sp[i]);
        for (int i = w; i < W; ++i) d[i] = T(0);
      }
    } else {
      if (w < W) std::memset(static_cast<void*>(dst), 0, sizeof(T) * W * kc);
      for (int i = 0; i < w; ++i) {
        const S* sr = s + i * rs;
        T* d = dst + i;
        if (ks == 1) {
          for (int64_t p = 0; p < kc; ++p) d[p * W] = to_compute<T>(sr[p]);
        } else {
          for (int64_t p = 0; p < kc; ++p) d[p * W] = to_compute<T>(sr[p * ks]);
        }
      }
    }
    dst += W * kc;
  }
}

}  // namespace
}  // namespace ember::cpu
